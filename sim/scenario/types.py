"""The scenario's field types: each parses and range-checks a value and gives its JSON Schema.

Numbers, whole numbers, durations, memory sizes, distributions, non-empty text, a traffic rate (a number or
[time, rps] points) and a trace file (`TraceType`; sim.scenario.traces reads its formats); and
`StrictModel`, the strict, frozen base of every model.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Union

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationInfo, WithJsonSchema,
)

from sim.dists import DIST_NAMES, Dist, parse_dist
from sim.scenario.azure_trace import azure_replay
from sim.scenario.traces import FORMATS, check_options, read_trace
from sim.units import InputError, format_duration, format_number, parse_duration, parse_memory, show_value


# ---------------------------------------------------------------------------------------------------------
# Value types: each parses and range-checks in one place, so every message reads the same way.

def _base_dir(info: ValidationInfo) -> Path:
    return Path((info.context or {}).get("base_dir") or ".")


def _bounds_text(gt, ge, lt, le, show) -> str:
    if ge is not None and le is not None:
        return f"between {show(ge)} and {show(le)}"
    parts = []
    if gt is not None:
        parts.append(f"greater than {show(gt)}")
    if ge is not None:
        parts.append(f"at least {show(ge)}")
    if lt is not None:
        parts.append(f"less than {show(lt)}")
    if le is not None:
        parts.append(f"at most {show(le)}")
    return " and ".join(parts)


def _in_bounds(x, gt, ge, lt, le) -> bool:
    return ((gt is None or x > gt) and (ge is None or x >= ge)
            and (lt is None or x < lt) and (le is None or x <= le))


def _schema_bounds(gt, ge, lt, le) -> dict:
    names = {"exclusiveMinimum": gt, "minimum": ge, "exclusiveMaximum": lt, "maximum": le}
    return {k: v for k, v in names.items() if v is not None}


def _number_check(gt=None, ge=None, lt=None, le=None, integer=False, show=format_number):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InputError(f"must be {'a whole number' if integer else 'a number'}, got {show_value(value)}")
        if not math.isfinite(value) or abs(value) > 1e300:
            raise InputError(f"must be a finite number, got {show_value(value)}")
        if integer and isinstance(value, float):
            if not value.is_integer():
                raise InputError(f"must be a whole number, got {show_value(value)}")
            value = int(value)
        if not _in_bounds(value, gt, ge, lt, le):
            raise InputError(f"must be {_bounds_text(gt, ge, lt, le, show)}, got {show(value)}")
        return value if integer else float(value)
    return check


def Number(*, gt=None, ge=None, lt=None, le=None, integer: bool = False):
    """A number (or whole number) within bounds; refuses booleans and strings."""
    schema = {"type": "integer" if integer else "number", **_schema_bounds(gt, ge, lt, le)}
    return Annotated[int if integer else float, BeforeValidator(_number_check(gt, ge, lt, le, integer)),
                     WithJsonSchema(schema)]


def Integer(*, gt=None, ge=None, lt=None, le=None):
    return Number(gt=gt, ge=ge, lt=lt, le=le, integer=True)


DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "description": "seconds"},
        {"type": "string", "pattern": r"^\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*(us|µs|ms|s|m|min|h|d)?\s*$"
                                      r"|^\s*((\d+(\.\d*)?|\.\d+)\s*(us|µs|ms|min|s|m|h|d)\s*){2,}$",
         "description": "a duration such as 150ms, 30s, 15m, 2h, 1d, or a compound such as 1h30m"},
    ]
}


def seconds_check(gt, ge, lt, le):
    def check(value):
        seconds = parse_duration(value)
        if not _in_bounds(seconds, gt, ge, lt, le):
            raise InputError(f"must be {_bounds_text(gt, ge, lt, le, format_duration)}, "
                             f"got {format_duration(seconds)}")
        return seconds
    return check


def Seconds(*, gt=None, ge=None, lt=None, le=None):
    """A duration (number of seconds or a string with a unit) within bounds, stored as float seconds."""
    return Annotated[float, BeforeValidator(seconds_check(gt, ge, lt, le)), WithJsonSchema(DURATION_SCHEMA)]


def _memory_check(value):
    mib = parse_memory(value)
    if not 0 < mib <= 32768:  # Cloud Run's largest instance has 32 GiB
        raise InputError(f"must be greater than 0 and at most 32Gi, got {format_number(mib)}Mi")
    return mib


Memory = Annotated[float, BeforeValidator(_memory_check), WithJsonSchema(
    {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "description": "MiB"},
               {"type": "string", "description": "a size such as 512Mi, 1Gi, 2G"}]})]


def _dist_check(value, info: ValidationInfo):
    return parse_dist(value, _base_dir(info))


_DIST_SCHEMA = {
    "anyOf": [DURATION_SCHEMA] + [
        {"type": "object", "additionalProperties": False, "required": ["dist", *params],
         "properties": {"dist": {"const": name}, **{p: props[p] for p in params}}}
        for name, params, props in [
            ("constant", ["value"], {"value": DURATION_SCHEMA}),
            ("exponential", ["mean"], {"mean": DURATION_SCHEMA}),
            ("uniform", ["low", "high"], {"low": DURATION_SCHEMA, "high": DURATION_SCHEMA}),
            ("lognormal", ["median", "p99"], {"median": DURATION_SCHEMA, "p99": DURATION_SCHEMA}),
            ("lognormal", ["mean", "cv"], {"mean": DURATION_SCHEMA, "cv": {"type": "number", "exclusiveMinimum": 0}}),
            ("lognormal", ["mu", "sigma"], {"mu": {"type": "number"}, "sigma": {"type": "number", "minimum": 0}}),
            ("gamma", ["mean", "cv"], {"mean": DURATION_SCHEMA, "cv": {"type": "number", "exclusiveMinimum": 0}}),
            ("empirical", ["values"], {"values": {"type": "array", "minItems": 1, "items": DURATION_SCHEMA}}),
            ("empirical", ["file"], {"file": {"type": "string"}}),
        ]
    ],
    "description": "a duration (constant) or {dist: " + " | ".join(DIST_NAMES) + ", ...}",
}
DistType = Annotated[
    Dist, BeforeValidator(_dist_check), PlainSerializer(lambda d: d.to_spec(), return_type=dict),
    WithJsonSchema(_DIST_SCHEMA)]


def _non_empty(value: str) -> str:
    if not value.strip():
        raise InputError("must not be empty")
    return value


Text = Annotated[str, AfterValidator(_non_empty)]


# ---------------------------------------------------------------------------------------------------------
# Traffic values: a rate (constant or [time, rps] points) or the path of a trace file (CSV).

rps_check = _number_check(ge=0)     # requests per second (also kms.quota.background_rps)


def rate_check(value):
    """A rate in requests per second, or [time, rps] points joined by straight lines."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return rps_check(value)
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError(f"must be requests per second or a list of [time, rps] points, got {show_value(value)}")
    points, previous = [], None
    for i, point in enumerate(value):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise InputError(f"must be a [time, rps] pair, got {show_value(point)}", f"[{i}]")
        try:
            t = parse_duration(point[0])
            rps = rps_check(point[1])
        except InputError as exc:
            raise InputError(str(exc), f"[{i}]") from None
        if i == 0 and t != 0:
            raise InputError(f"the first point must be at time 0, got {format_duration(t)}", "[0]")
        if previous is not None and t <= previous:
            raise InputError(f"times must increase, got {format_duration(t)} after {format_duration(previous)}",
                             f"[{i}]")
        points.append((t, rps))
        previous = t
    return tuple(points)


class TraceFile(str):
    """The resolved path of a trace file (a str), carrying the (time s, rps) points read from it once and, when
    `traffic.trace` was a mapping, its checked options (`format` and the rest; empty for a plain path). A list
    of Azure day files is the first path, the resolved list in `options["file"]`; `picked` describes the
    Azure functions a replay sums (sim.scenario.azure_trace.Picked), empty for other formats."""

    points: tuple[tuple[float, float], ...] = ()
    options: dict = {}
    picked: tuple = ()

    def __new__(cls, path: str, points: tuple[tuple[float, float], ...], options: dict | None = None,
                picked: tuple = ()):
        self = super().__new__(cls, path)
        self.points = points
        self.options = dict(options or {})
        self.picked = tuple(picked)
        return self

    def __reduce__(self):
        return TraceFile, (str(self), self.points, self.options, self.picked)

    def __eq__(self, other):
        if isinstance(other, TraceFile):
            return str(self) == str(other) and self.options == other.options
        return str.__eq__(self, other)

    __hash__ = str.__hash__

    def spec(self):
        """As written in a resolved scenario: the path, or the mapping with the resolved path(s) as `file`."""
        return str(self) if not self.options else {"file": str(self), **self.options}

    def picked_line(self) -> str | None:
        """One line naming the Azure function(s) replayed, or None (not an Azure trace)."""
        if not self.picked:
            return None
        files = self.options.get("file")
        days = len(files) if isinstance(files, list) else 1
        how = (f"function {self.options['function']}" if "function" in self.options
               else f"top {self.options.get('top', 1)} of trigger {self.options.get('trigger', 'http')}")
        return f"{how}: " + "; ".join(p.describe(days) for p in self.picked)


def _resolve_trace_path(value, info: ValidationInfo, key: str | None) -> Path:
    """A trace path resolved against the scenario's folder; refused unless it is a regular file."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"must be the path of a file, got {show_value(value)}", key or "file")
    path = Path(value)
    if not path.is_absolute():
        path = _base_dir(info) / path
    try:
        path = path.resolve()
        found = path.is_file()
    except (OSError, RuntimeError):
        found = False
    if not found:
        try:
            other = path.exists()             # a folder, a FIFO, a device: never opened (it could hang)
        except (OSError, RuntimeError):
            other = False
        what = f"{value}: is not a regular file (a folder, a device or a pipe)" if other else f"file not found: {value}"
        raise InputError(what + ("" if str(path) == value else f" (looked for {path})"), key)
    return path


def trace_check(value, info: ValidationInfo):
    """The path of a readable trace file, resolved against the scenario's folder, or a mapping
    `{file: PATH, format: csv | azure | monitoring | metrics-explorer, ...}` (sim.scenario.traces); `file` may be a
    list of Azure
    day files. Read (once) here, so that a malformed trace is refused now, with its line number."""
    if value is None:
        return None
    options = {}
    if isinstance(value, Mapping):
        if "file" not in value:
            raise InputError("missing required key", "file")
        options = check_options(value)
        value = value["file"]
        if isinstance(value, (list, tuple)):
            if not value:
                raise InputError("must be a path or a non-empty list of day files", "file")
            if options["format"] != "azure":
                raise InputError(f"a list of files is for format azure (day files), not {options['format']}",
                                 "file")
            paths = [_resolve_trace_path(v, info, f"file[{i}]") for i, v in enumerate(value)]
            options["file"] = [str(p) for p in paths]
            points, picked = azure_replay(paths, **{k: v for k, v in options.items() if k not in ("format", "file")})
            return TraceFile(str(paths[0]), points, options, picked)
    elif not isinstance(value, str) or not value.strip():
        raise InputError(f"must be the path of a CSV file or {{file: PATH, format: ...}}, got {show_value(value)}")
    path = _resolve_trace_path(value, info, "file" if options else None)
    if options.get("format") == "azure":
        points, picked = azure_replay([path], **{k: v for k, v in options.items() if k != "format"})
        return TraceFile(str(path), points, options, picked)
    return TraceFile(str(path), read_trace(path, options), options)


TRACE_SCHEMA = {"anyOf": [
    {"type": "string", "description": "a CSV file with the columns time and rps"},
    {"type": "object", "additionalProperties": False, "required": ["file"], "properties": {
        "file": {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1, "items": {"type": "string"}}],
                 "description": "the trace file, relative to the scenario's folder; azure: a list of consecutive "
                                "day files (d01, d02, ...) replays across midnight (a function missing from a "
                                "day counts 0 that day)"},
        "format": {"enum": list(FORMATS), "default": "csv", "description": (
            "csv: columns time and rps, a step each row; azure: the Azure Functions 2019 trace (one row per "
            "function, a count per minute); monitoring: a Cloud Monitoring export of "
            "run.googleapis.com/request_count (a CSV with a timestamp and a value column, or the JSON of "
            "projects.timeSeries.list); metrics-explorer: the Metrics Explorer chart's Download CSV "
            "(TimeSeries ID row, one row per label, one row per point)")},
        "values": {"enum": ["rate", "count"], "description": (
            "monitoring, metrics-explorer: what a value is, requests per second (rate: ALIGN_RATE) or "
            "requests per interval (count: ALIGN_DELTA); monitoring: told from the value type when not "
            "given (int64 or whole numbers: count; a double is refused without it); metrics-explorer: "
            "default rate (the chart's default for request_count)")},
        "labels": {"type": "object", "additionalProperties": {"type": ["string", "integer"]},
                   "description": "metrics-explorer: keep only the series whose label rows have these "
                                  "values, e.g. {response_code_class: 2xx} (default: all series, summed)"},
        "scale": {"type": "number", "exclusiveMinimum": 0, "default": 1, "description": "multiplies the rate"},
        "function": {"type": "string", "description": "azure: a HashFunction value or a unique prefix"},
        "top": {"type": "integer", "minimum": 1,
                "description": "azure: the N busiest functions, summed (top: 1 without function or top)"},
        "trigger": {"type": "string", "default": "http",
                    "description": "azure: only functions with this Trigger (http, queue, timer, event, ...; "
                                   "any for all) are candidates for top (with function: any unless given)"},
        "start_minute": {"type": "integer", "minimum": 0, "default": 0,
                         "description": "azure: the first minute of the day replayed (of the days laid end to "
                                        "end for a list of files: 1440 is the second day's 00:00)"},
        "minutes": {"type": "integer", "minimum": 1,
                    "description": "azure: how many minutes are replayed (default: to the end of the day)"}}},
    {"type": "null"}]}

# A trace file: its resolved path as a str, the points alongside (no second read); the path, or the mapping
# with the resolved path, when dumped.
TraceType = Annotated[
    Union[TraceFile, None], BeforeValidator(trace_check),
    PlainSerializer(lambda t: None if t is None else t.spec(), return_type=Union[str, dict, None]),
    WithJsonSchema(TRACE_SCHEMA)]


RATE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0},
    {"type": "array", "minItems": 1, "items": {
        "type": "array", "minItems": 2, "maxItems": 2,
        "prefixItems": [DURATION_SCHEMA, {"type": "number", "minimum": 0}]}},
    {"type": "null"}]}


# ---------------------------------------------------------------------------------------------------------
# The base of every scenario model.

class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False)
