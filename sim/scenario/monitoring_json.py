"""Cloud Monitoring time series as JSON (projects.timeSeries.list), read into per-end-time totals for
sim.scenario.traces; a leaf beside it.

The file is the API's ListTimeSeriesResponse (`{"timeSeries": [...]}`), a list of TimeSeries (what a client
prints with --format=json) or one TimeSeries. Each point has `interval.{startTime, endTime}` and a
`value.int64Value` (a count: request_count is an INT64 DELTA metric and ALIGN_DELTA keeps the type; proto3
JSON writes an int64 as a string) or a `value.doubleValue` (ALIGN_RATE's per-second rate, or another
aligner's double: `values:` says which). Points of several series are summed per end time. They must be on
one alignment: one interval length (or none: start = end) and end times on its grid; raw points
(ALIGN_NONE) of several revisions are not, and are refused with how to export them aligned.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sim.scenario.trace_rows import ALIGN_HINT, timestamp
from sim.units import InputError, format_duration, show_value
from sim.userfile import MiB, UserFileError, read_user_text

# Read whole (json has no streaming reader in the standard library): far above a day of 60 s points of a few
# hundred series, far below what would exhaust a laptop.
JSON_LIMIT = 256 * MiB


@dataclass
class Series:
    totals: dict[datetime, float] = field(default_factory=dict)    # the sum over series at each end time
    lines: dict[datetime, int] = field(default_factory=dict)        # (no line numbers in JSON: empty)
    values: str = "count"                                           # rate or count
    period: float | None = None                                     # the intervals' length, if they have one


def _series_list(path: Path, data) -> list:
    if isinstance(data, dict):
        if "timeSeries" in data:
            data = data["timeSeries"]
        elif "points" in data:
            data = [data]
        else:
            raise InputError(f"{path}: a JSON export must be a list of TimeSeries or {{\"timeSeries\": [...]}} "
                             "(projects.timeSeries.list)")
    if not isinstance(data, list) or not data or not all(isinstance(s, dict) for s in data):
        raise InputError(f"{path}: has no time series (a list of TimeSeries objects, each with points)")
    return data


def _value(path: Path, where: str, value) -> tuple[str, float]:
    """('int64' | 'double', the value) of a point's `value`."""
    if not isinstance(value, dict):
        raise InputError(f"{path} {where}: the point has no value")
    if "int64Value" in value:
        raw, kind = value["int64Value"], "int64"
        number = int(raw) if isinstance(raw, (int, str)) and str(raw).strip().lstrip("-").isdigit() else math.nan
    elif "doubleValue" in value:
        raw, kind = value["doubleValue"], "double"
        try:
            number = float(raw) if not isinstance(raw, bool) else math.nan
        except (TypeError, ValueError):
            number = math.nan
    else:
        keys = ", ".join(value) or "nothing"
        raise InputError(f"{path} {where}: the value has {keys}; request_count points have int64Value "
                         "(ALIGN_DELTA) or doubleValue (ALIGN_RATE)")
    if not math.isfinite(number) or number < 0:
        raise InputError(f"{path} {where}: {kind}Value must be a number at least 0, got {show_value(raw)}")
    return kind, float(number)


def read_timeseries_json(path: Path, values: str | None) -> Series:
    """The per-end-time totals of every series in a timeSeries.list JSON file, checked to be on one alignment."""
    try:
        text = read_user_text(path, JSON_LIMIT)
    except UserFileError as exc:
        raise InputError(f"{path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} line {exc.lineno}: not JSON ({exc.msg})") from None
    except RecursionError:          # thousands of nested brackets: no export is like that
        raise InputError(f"{path}: nested too deeply to be a timeSeries.list export") from None
    result = Series()
    kinds: set[str] = set()
    lengths: set[float] = set()
    series = _series_list(path, data)
    for i, ts in enumerate(series):
        points = ts.get("points")
        if not isinstance(points, list):
            raise InputError(f"{path} timeSeries[{i}]: has no list of points")
        for j, point in enumerate(points):
            where = f"timeSeries[{i}].points[{j}]"
            interval = point.get("interval") if isinstance(point, dict) else None
            if not isinstance(interval, dict) or not isinstance(interval.get("endTime"), str):
                raise InputError(f"{path} {where}: needs interval.endTime")
            try:
                end = timestamp(interval["endTime"])
                start = timestamp(interval["startTime"]) if isinstance(interval.get("startTime"), str) else end
            except InputError as exc:
                raise InputError(f"{path} {where}: {exc}") from None
            if start > end:
                raise InputError(f"{path} {where}: startTime is after endTime")
            kind, number = _value(path, where, point.get("value"))
            kinds.add(kind)
            if start < end:
                lengths.add(round((end - start).total_seconds(), 6))
            result.totals[end] = result.totals.get(end, 0.0) + number
    if not result.totals:
        raise InputError(f"{path}: the time series have no points")
    if len(kinds) > 1:
        raise InputError(f"{path}: mixes int64Value and doubleValue points (counts and rates?): export one "
                         "aligner")
    result.values = values or _values_of(path, kinds.pop())
    if len(lengths) > 1:
        shown = ", ".join(format_duration(x) for x in sorted(lengths)[:4])
        raise InputError(f"{path}: the points' intervals differ ({shown}{', ...' if len(lengths) > 4 else ''}) "
                         f"in {len(series)} series: raw points, not on one alignment; {ALIGN_HINT}")
    if lengths:
        result.period = lengths.pop()
    elif len(result.totals) < 2:
        raise InputError(f"{path}: needs at least two end times (the interval comes from consecutive ones)")
    return result


def _values_of(path: Path, kind: str) -> str:
    if kind == "int64":
        return "count"           # a rate is never INT64; ALIGN_DELTA / ALIGN_SUM of request_count are
    raise InputError(f"{path}: doubleValue points are a rate (ALIGN_RATE, per second) or counts (ALIGN_MEAN, "
                     "ALIGN_SUM of a double...) and the file does not say which (the aligner was in the "
                     "request): give `values: rate` or `values: count`", "values")
