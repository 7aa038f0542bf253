"""Traffic trace files, read once, streaming, into (time s, rps) steps (the shared row and step readers are in
trace_rows.py, a leaf).

`traffic.trace` is a path (a `time,rps` CSV) or a mapping
`{file: PATH, format: csv | azure | monitoring | metrics-explorer, ...}`:

- `csv`: a header naming the columns `time` and `rps`; each row is a step (the last one lasts to the end).
- `azure`: the Azure Functions 2019 public trace layout, `HashOwner,HashApp,HashFunction,Trigger,1,...,1440`,
  one row per function and one invocation count per minute; `function: HASH` (a unique prefix) or `top: N`
  (the N busiest functions by total count, summed; `top: 1` without either) among those whose Trigger is
  `trigger` (default http, `any` for all), `start_minute` (0) and `minutes` (to the end) take a window; a
  count c is a step of c/60 req/s for its minute, and the rate is 0 after the window. `file` may be a list
  of consecutive day files (d01, d02, ...). The reader is sim.scenario.azure_trace (streaming, numpy).
- `monitoring`: a Cloud Monitoring export of `run.googleapis.com/request_count` as CSV, a timestamp column
  and a value column (`TIME_COLUMNS`, `VALUE_COLUMNS`); rows with one timestamp are summed (one series per
  label set); the alignment period P is the smallest gap between timestamps, a value v stamped t is a step
  of v/P req/s over [t - t0, t - t0 + P) (t0 the first timestamp; a missing interval is 0). `values: rate`
  (ALIGN_RATE) makes v itself the rate; without it an int64 column or whole numbers are counts, and DOUBLE
  values (a rate or a mean: the aligner is not in the file) are refused. A file starting with `[` or `{` is
  the JSON of projects.timeSeries.list (sim.scenario.monitoring_json: points' intervals give P; raw points
  off one alignment are refused with how to export them with ALIGN_DELTA).
- `metrics-explorer`: the console chart's Download CSV (sim.scenario.metrics_explorer): a `TimeSeries ID`
  row, label rows, rows of a JavaScript date and one value per series (a rate by default); series summed
  or picked with `labels: {name: value}`.

Every format takes `scale` (1: multiplies the rate). Every problem is an InputError naming the file and
line, or the option at fault (its `key`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sim.scenario.azure_trace import DAY_MINUTES, azure_replay
from sim.scenario.trace_rows import (
    Points, count_cell as _count, header as _header, open_trace, read_rows as _rows, steps as _steps,
    timestamp as _timestamp,
)
from sim.units import InputError, format_duration, parse_duration, show_value

FORMATS = ("csv", "azure", "monitoring", "metrics-explorer")
OPTIONS = {"csv": ("scale",), "azure": ("function", "top", "trigger", "scale", "start_minute", "minutes"),
           "monitoring": ("scale", "values"), "metrics-explorer": ("scale", "values", "labels")}
VALUES = ("rate", "count")      # what a Monitoring value is: requests per second, or requests per interval
# Header names of a Monitoring export, compared in lower case without spaces or underscores.
TIME_COLUMNS = ("timestamp", "time", "end_time", "interval_end_time", "interval.end_time",
                "points.interval.end_time")
VALUE_COLUMNS = ("value", "request_count", "run.googleapis.com/request_count", "int64_value",
                 "value.int64_value", "points.value.int64_value", "double_value", "points.value.double_value")



# ---------------------------------------------------------------------------------------------------------
# Options

def _whole(value, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise InputError(f"must be a whole number {bounds}, got {show_value(value)}", name)
    return value


def check_options(spec: Mapping) -> dict:
    """The options of a trace mapping (without `file`), checked and normalised: `format` always present."""
    fmt = spec.get("format", "csv")
    if fmt not in FORMATS:
        raise InputError(f"must be one of {', '.join(FORMATS)}, got {show_value(fmt)}", "format")
    options = {"format": fmt}
    files = spec.get("file")
    days = len(files) if isinstance(files, (list, tuple)) and files else 1   # azure: a replay of N day files
    for key, value in spec.items():
        if key in ("file", "format"):
            continue
        if key not in OPTIONS[fmt]:
            known = ", ".join(("file", "format") + OPTIONS[fmt])
            raise InputError(f"unknown option for format {fmt} (known: {known})", str(key))
        if key == "scale":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value <= 0:
                raise InputError(f"must be a number greater than 0, got {show_value(value)}", "scale")
            value = float(value)
        elif key == "function":
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"must be a HashFunction value (or a unique prefix), got {show_value(value)}",
                                 "function")
            value = value.strip()
        elif key == "top":
            value = _whole(value, "top", 1)
        elif key == "trigger":
            if not isinstance(value, str) or not value.strip():
                raise InputError(f"must be a Trigger value (http, queue, timer, event, ...) or any, "
                                 f"got {show_value(value)}", "trigger")
            value = value.strip()
        elif key == "start_minute":
            value = _whole(value, "start_minute", 0, DAY_MINUTES * days - 1)
        elif key == "minutes":
            value = _whole(value, "minutes", 1, DAY_MINUTES * days)
        elif key == "values":
            if value not in VALUES:
                raise InputError(f"must be rate (requests per second) or count (requests per interval), "
                                 f"got {show_value(value)}", "values")
        elif key == "labels":
            if not isinstance(value, Mapping) or not value or not all(
                    isinstance(k, str) and isinstance(v, (str, int)) and not isinstance(v, bool)
                    for k, v in value.items()):
                raise InputError("must be a mapping of label to value, e.g. {response_code_class: 2xx}, "
                                 f"got {show_value(value)}", "labels")
            value = {k.strip(): str(v).strip() for k, v in value.items()}
        options[key] = value
    if "function" in options and "top" in options:
        raise InputError("give either `function` or `top`, not both", "top")
    return options


def read_trace(path: Path, options: Mapping | None = None) -> Points:
    """The (time s, rps) steps of a trace file in the format the (checked) options name."""
    options = dict(options or {})
    fmt = options.pop("format", "csv")
    if fmt == "azure":
        return load_azure(path, **options)
    if fmt == "monitoring":
        return load_monitoring(path, **options)
    if fmt == "metrics-explorer":
        from sim.scenario.metrics_explorer import load_metrics_explorer
        return load_metrics_explorer(path, **options)
    return load_trace(path, **options)


# ---------------------------------------------------------------------------------------------------------
# Readers

def _seconds(cell: str) -> float:
    """A time cell: plain seconds (`12`, `1.5`) take a fast path (a long trace has millions of rows), anything
    else (`90s`, `1h30m`, and what is refused) parse_duration."""
    text = cell.strip()
    digits = text.replace(".", "", 1)
    if digits.isdigit() and digits.isascii():
        return float(text)
    return parse_duration(text)


def load_trace(path: str | Path, scale: float = 1.0) -> Points:
    """(time s, rps) steps from a CSV with a header naming the columns `time` and `rps` once each."""
    path = Path(path)
    rows = _rows(path)
    header_line, header_row = _header(rows)
    header = [cell.strip().lower() for cell in header_row]
    if "time" not in header or "rps" not in header:
        raise InputError(f"{path} line {header_line}: the header must name the columns time and rps")
    for name in ("time", "rps"):
        if header.count(name) > 1:
            raise InputError(f"{path} line {header_line}: the header names the column {name} "
                             f"{header.count(name)} times (which one is meant?)")
    t_col, rps_col = header.index("time"), header.index("rps")
    points: list[tuple[float, float]] = []
    last = -math.inf
    need = max(t_col, rps_col) + 1
    for n, row in rows:
        try:
            if len(row) < need:
                raise InputError("missing a column")
            t = _seconds(row[t_col])
            try:
                rps = float(row[rps_col])
            except ValueError:
                raise InputError(f"rps must be a number, got {show_value(row[rps_col])}") from None
            if not math.isfinite(rps) or rps < 0:
                raise InputError(f"rps must not be negative, got {show_value(row[rps_col].strip())}")
            if t <= last:
                raise InputError(f"times must increase, got {format_duration(t)} after {format_duration(last)}")
        except InputError as exc:
            raise InputError(f"{path} line {n}: {exc}") from None
        last = t
        points.append((t, rps if scale == 1.0 else rps * scale))
    if not points:
        raise InputError(f"{path} has a header but no rows")
    return tuple(points)


def load_azure(path: str | Path | list, function: str | None = None, top: int | None = None,
               trigger: str | None = None, scale: float = 1.0, start_minute: int = 0,
               minutes: int | None = None) -> Points:
    """Steps of c/60 req/s per minute from Azure Functions day file(s) (sim.scenario.azure_trace)."""
    paths = list(path) if isinstance(path, (list, tuple)) else [path]
    return azure_replay(paths, function=function, top=top, trigger=trigger, scale=scale,
                        start_minute=start_minute, minutes=minutes)[0]


def _normal(name: str) -> str:
    return name.strip().lower().replace("_", "").replace(" ", "")


def _is_whole(cell: str) -> bool:
    """An int64-typed cell: digits only (a DOUBLE value prints with a point or an exponent)."""
    text = cell.strip()
    return text.isdigit() and text.isascii()


def load_monitoring(path: str | Path, scale: float = 1.0, values: str | None = None) -> Points:
    """Steps from a Cloud Monitoring request_count export: a CSV (a timestamp and a value column) or the JSON
    of projects.timeSeries.list / `gcloud ... --format=json` (sim.scenario.monitoring_json)."""
    path = Path(path)
    if _looks_like_json(path):
        from sim.scenario.monitoring_json import read_timeseries_json
        series = read_timeseries_json(path, values)
        return _steps(path, series.totals, series.lines, series.values, scale, series.period)
    rows = _rows(path)
    header_line, header_row = _header(rows)
    header = [_normal(cell) for cell in header_row]
    t_col = next((header.index(_normal(c)) for c in TIME_COLUMNS if _normal(c) in header), None)
    v_col = next((header.index(_normal(c)) for c in VALUE_COLUMNS if _normal(c) in header), None)
    if t_col is None or v_col is None:
        raise InputError(f"{path} line {header_line}: the header must name a timestamp column "
                         f"({', '.join(TIME_COLUMNS[:3])}, ...) and a value column "
                         f"({', '.join(VALUE_COLUMNS[:2])}, ...)")
    column = header[v_col]
    totals: dict[datetime, float] = {}
    lines: dict[datetime, int] = {}
    fraction_line = None            # the first value that is not int64-typed (a rate, or a mean)
    for n, row in rows:
        try:
            if len(row) <= max(t_col, v_col):
                raise InputError("missing a column")
            stamp = _timestamp(row[t_col])
            try:
                value = _count(row[v_col])
            except InputError as exc:
                raise InputError(f"value {exc}") from None
        except InputError as exc:
            raise InputError(f"{path} line {n}: {exc}") from None
        if fraction_line is None and not _is_whole(row[v_col]):
            fraction_line = (n, row[v_col].strip())
        totals[stamp] = totals.get(stamp, 0.0) + value
        lines.setdefault(stamp, n)
    if not totals:
        raise InputError(f"{path} has a header but no rows")
    if values is None:
        values = _csv_values(path, column, header_row[v_col].strip(), fraction_line)
    return _steps(path, totals, lines, values, scale)


def _csv_values(path: Path, column: str, name: str, fraction_line: tuple[int, str] | None) -> str:
    """rate or count, told from the value column: its name says the value type (int64 = counts: ALIGN_DELTA
    keeps request_count's INT64; double = ALIGN_RATE, or a mean), else its cells do (all whole: counts)."""
    if "int64" in column:
        return "count"
    if "double" in column or fraction_line is not None:
        where = f"the column {name}" if "double" in column else f"line {fraction_line[0]}: {fraction_line[1]!r}"
        raise InputError(f"{path} {where}: DOUBLE values are a rate (ALIGN_RATE, per second) or counts "
                         "(ALIGN_MEAN, ALIGN_SUM...) and the file does not say which: give `values: rate` or "
                         "`values: count`", "values")
    return "count"


def _looks_like_json(path: Path) -> bool:
    """A JSON export starts with `[` or `{` (a CSV with a header starts with a name)."""
    with open_trace(path, binary=True) as handle:
        start = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return start[:1] in (b"[", b"{")
