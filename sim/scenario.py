"""The scenario: everything a run needs, read from a YAML file and checked before anything runs.

The schema follows `scenario-reference.yaml` key for key (attribute names are the YAML keys). Every value
is resolved once: durations become float seconds, memory float MiB, distributions `Dist` objects, a trace
file its (time, rps) points. The result is frozen; sweeps derive variants with `with_updates`.

A bad file never produces a traceback: `ScenarioError.problems` holds one line per problem, all at once,
each as `FILE: key.path[i].key: reason`.
"""

from __future__ import annotations

import copy
import csv
import difflib
import math
import re
import typing
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, PrivateAttr,
    ValidationError, ValidationInfo, WithJsonSchema, field_validator, model_validator,
)
from pydantic.json_schema import GenerateJsonSchema

from sim.dists import DIST_NAMES, Constant, Dist, LogNormal, parse_dist
from sim.units import InputError, format_duration, format_number, parse_duration, parse_memory, show_value

__all__ = [
    "Scenario", "Project", "Kms", "Quota", "Ekm", "Retry", "Key", "Service", "Startup", "KeyOperations",
    "Autoscaling", "Traffic", "DailyPattern", "Fault", "KeyFault", "EkmOutage", "EkmLatency", "KmsOutage",
    "QuotaChange", "KmsBackgroundLoad", "IamFault", "DeployFault", "FAULT_KINDS",
    "RETRYABLE_EKM_DOMAINS", "NON_RETRYABLE_EKM_DOMAINS", "ScenarioError",
    "load_scenario", "scenario_from_dict", "with_updates", "scenario_json_schema", "load_trace",
]

RETRYABLE_EKM_DOMAINS = frozenset(
    {"TIMEOUT", "UNREACHABLE_NETWORK", "OVERLOADED_EKM", "EXTERNAL_RESOURCE_EXHAUSTED", "REQUEST_CANCELLED"})
NON_RETRYABLE_EKM_DOMAINS = frozenset(
    {"EXTERNAL_PERMISSION_DENIED", "EXTERNAL_NOT_FOUND", "EXTERNAL_KEY_URI_INVALID", "TLS_CERT",
     "EXTERNAL_SERVER_ERROR", "DECRYPTION_FAILED"})
EkmDomain = Literal[
    "TIMEOUT", "UNREACHABLE_NETWORK", "OVERLOADED_EKM", "EXTERNAL_RESOURCE_EXHAUSTED", "REQUEST_CANCELLED",
    "EXTERNAL_PERMISSION_DENIED", "EXTERNAL_NOT_FOUND", "EXTERNAL_KEY_URI_INVALID", "TLS_CERT",
    "EXTERNAL_SERVER_ERROR", "DECRYPTION_FAILED",
]
EXTERNAL_PROTECTIONS = frozenset({"external", "external-vpc"})
KEY_NAME_RE = re.compile(
    r"projects/(?P<project>[^/\s]+)/locations/(?P<location>[^/\s]+)"
    r"/keyRings/(?P<key_ring>[^/\s]+)/cryptoKeys/(?P<crypto_key>[^/\s]+)")
SERVICE_NAME_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
SCENARIO_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")


class ScenarioError(Exception):
    """A scenario that cannot be run; `problems` holds one readable line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = [re.sub(r"\s*\n\s*", " ", str(p)) for p in problems]  # one line each, always
        super().__init__("\n".join(self.problems))


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


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0, "description": "seconds"},
        {"type": "string", "pattern": r"^\s*[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*(us|µs|ms|s|m|min|h|d)?\s*$",
         "description": "a duration such as 150ms, 30s, 15m, 2h, 1d"},
    ]
}


def _seconds_check(gt, ge, lt, le):
    def check(value):
        seconds = parse_duration(value)
        if not _in_bounds(seconds, gt, ge, lt, le):
            raise InputError(f"must be {_bounds_text(gt, ge, lt, le, format_duration)}, "
                             f"got {format_duration(seconds)}")
        return seconds
    return check


def Seconds(*, gt=None, ge=None, lt=None, le=None):
    """A duration (number of seconds or a string with a unit) within bounds, stored as float seconds."""
    return Annotated[float, BeforeValidator(_seconds_check(gt, ge, lt, le)), WithJsonSchema(_DURATION_SCHEMA)]


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
    "anyOf": [_DURATION_SCHEMA] + [
        {"type": "object", "additionalProperties": False, "required": ["dist", *params],
         "properties": {"dist": {"const": name}, **{p: props[p] for p in params}}}
        for name, params, props in [
            ("constant", ["value"], {"value": _DURATION_SCHEMA}),
            ("exponential", ["mean"], {"mean": _DURATION_SCHEMA}),
            ("uniform", ["low", "high"], {"low": _DURATION_SCHEMA, "high": _DURATION_SCHEMA}),
            ("lognormal", ["median", "p99"], {"median": _DURATION_SCHEMA, "p99": _DURATION_SCHEMA}),
            ("lognormal", ["mean", "cv"], {"mean": _DURATION_SCHEMA, "cv": {"type": "number", "exclusiveMinimum": 0}}),
            ("lognormal", ["mu", "sigma"], {"mu": {"type": "number"}, "sigma": {"type": "number", "minimum": 0}}),
            ("gamma", ["mean", "cv"], {"mean": _DURATION_SCHEMA, "cv": {"type": "number", "exclusiveMinimum": 0}}),
            ("empirical", ["values"], {"values": {"type": "array", "minItems": 1, "items": _DURATION_SCHEMA}}),
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
# The models, in the order of the reference file.

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, allow_inf_nan=False)


def _digits(value):
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        value = str(value)  # YAML reads an unquoted project number as an int
    if not isinstance(value, str) or not value.isdigit() or not value.isascii():
        raise InputError(f"must be a project number (digits only), got {show_value(value)}")
    return value


def _project_id(value: str) -> str:
    if not value or "/" in value or any(c.isspace() for c in value):
        raise InputError(f"must be a project id such as acme-prod, got {show_value(value)}")
    return value


def _region(value: str) -> str:
    if not value or "/" in value or any(c.isspace() for c in value):
        raise InputError(f"must be a region such as us-central1, got {show_value(value)}")
    return value


class Project(_Model):
    """The Google Cloud project that runs the services."""

    id: Annotated[str, AfterValidator(_project_id)] = "acme-prod"
    number: Annotated[str, BeforeValidator(_digits), WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": "^[0-9]+$"}, {"type": "integer", "minimum": 0}]})] = "123456789012"
    region: Annotated[str, AfterValidator(_region)] = "us-central1"

    @property
    def service_agent(self) -> str:
        """The Cloud Run service agent, which needs cryptoKeyEncrypterDecrypter on the key."""
        return f"service-{self.number}@serverless-robot-prod.iam.gserviceaccount.com"


class Quota(_Model):
    """Cloud KMS quota of the project that holds the key, per protection level."""

    hsm_requests_per_minute: Number(gt=0) = 30000.0
    external_requests_per_minute: Number(gt=0) = 6000.0
    enforcement: Literal["per-second", "per-minute"] = "per-second"
    background_rps: Number(ge=0) = 0.0


class Ekm(_Model):
    """Cloud EKM: round trip to the external key manager, cut off at `timeout` (retryable TIMEOUT)."""

    latency: DistType = LogNormal.from_median_p99(0.035, 0.120)
    timeout: Seconds(gt=0) = 0.150


class Retry(_Model):
    """How the platform retries a retryable key error during an instance start (exponential backoff)."""

    initial_backoff: Seconds(gt=0) = 1.0
    multiplier: Number(ge=1) = 2.0
    max_backoff: Seconds(gt=0) = 32.0
    jitter: Number(ge=0, lt=1) = 0.2

    @model_validator(mode="after")
    def _max_not_below_initial(self):
        if self.max_backoff < self.initial_backoff:
            raise InputError(f"must be at least initial_backoff ({format_duration(self.initial_backoff)}), "
                             f"got {format_duration(self.max_backoff)}", "max_backoff")
        return self


class Kms(_Model):
    """Cloud KMS in the key's project and region."""

    latency: DistType = LogNormal.from_median_p99(0.008, 0.040)
    disable_propagation: Seconds(ge=0) = 0.0
    quota: Quota = Quota()
    ekm: Ekm = Ekm()
    retry: Retry = Retry()


def _key_name(value: str) -> str:
    if not KEY_NAME_RE.fullmatch(value):
        raise InputError("must be a key resource name projects/PROJECT/locations/LOCATION/keyRings/RING/"
                         f"cryptoKeys/KEY, got {show_value(value)}")
    return value


class Key(_Model):
    """A Cloud KMS key (its primary version is what the simulator tracks)."""

    id: Text
    name: Annotated[str, AfterValidator(_key_name)]
    protection: Literal["software", "hsm", "external", "external-vpc"] = "hsm"
    destroy_scheduled_duration: Seconds(ge=86_400, le=120 * 86_400) = 30 * 86_400.0

    @property
    def project(self) -> str:
        return KEY_NAME_RE.fullmatch(self.name)["project"]

    @property
    def location(self) -> str:
        return KEY_NAME_RE.fullmatch(self.name)["location"]

    @property
    def is_external(self) -> bool:
        return self.protection in EXTERNAL_PROTECTIONS


class Startup(_Model):
    """Cold-start phases, in order; the KMS work comes between image_fetch and container_start."""

    schedule: DistType = LogNormal.from_median_p99(0.3, 1.5)
    image_fetch: DistType = LogNormal.from_median_p99(0.8, 4.0)
    container_start: DistType = Constant(0.2)
    app_init: DistType = LogNormal.from_median_p99(1.0, 5.0)

    @property
    def mean(self) -> float:
        """Mean of the four phases (no key operations, no CPU boost)."""
        return self.schedule.mean + self.image_fetch.mean + self.container_start.mean + self.app_init.mean


class KeyOperations(_Model):
    """Key operations Cloud Run performs for a CMEK service."""

    decrypts_per_start: Integer(ge=0) = 2
    validation_interval: Seconds(gt=0) = 300.0


class Autoscaling(_Model):
    """Autoscaler policy and its parameters (cloud-run and knative ones side by side)."""

    policy: Literal["cloud-run", "knative", "per-request"] = "cloud-run"
    target_concurrency_utilization: Number(gt=0, le=1) = 0.6
    target_cpu_utilization: Number(gt=0, le=1) = 0.6
    window: Seconds(gt=0) = 60.0
    interval: Seconds(gt=0) = 2.0
    on_demand: bool = True
    target_utilization: Number(gt=0, le=1) = 0.7
    panic_window_percentage: Number(gt=0, le=100) = 10.0
    panic_threshold: Number(ge=1) = 2.0
    max_scale_up_rate: Number(gt=1) = 1000.0
    max_scale_down_rate: Number(gt=1) = 2.0
    scale_to_zero_grace: Seconds(ge=0) = 30.0


class DailyPattern(_Model):
    """rate x (1 + amplitude*cos(2*pi*(t - peak_at)/24h))."""

    amplitude: Number(ge=0, le=1)
    peak_at: Seconds(ge=0, lt=86_400)


_rps_check = _number_check(ge=0)


def _rate_check(value):
    """A rate in requests per second, or [time, rps] points joined by straight lines."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _rps_check(value)
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError(f"must be requests per second or a list of [time, rps] points, got {show_value(value)}")
    points, previous = [], None
    for i, point in enumerate(value):
        if not isinstance(point, (list, tuple)) or len(point) != 2:
            raise InputError(f"must be a [time, rps] pair, got {show_value(point)}", f"[{i}]")
        try:
            t = parse_duration(point[0])
            rps = _rps_check(point[1])
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


def load_trace(path: str | Path) -> tuple[tuple[float, float], ...]:
    """(time s, rps) steps from a CSV with a header naming the columns `time` and `rps`."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise InputError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    rows = [(n, row) for n, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not rows:
        raise InputError(f"{path} is empty")
    header = [cell.strip().lower() for cell in rows[0][1]]
    if "time" not in header or "rps" not in header:
        raise InputError(f"{path} line {rows[0][0]}: the header must name the columns time and rps")
    t_col, rps_col = header.index("time"), header.index("rps")
    points: list[tuple[float, float]] = []
    for n, row in rows[1:]:
        try:
            if len(row) <= max(t_col, rps_col):
                raise InputError("missing a column")
            t = parse_duration(row[t_col].strip())
            try:
                rps = float(row[rps_col])
            except ValueError:
                raise InputError(f"rps must be a number, got {row[rps_col]!r}") from None
            if not math.isfinite(rps) or rps < 0:
                raise InputError(f"rps must not be negative, got {row[rps_col].strip()}")
            if points and t <= points[-1][0]:
                raise InputError(f"times must increase, got {format_duration(t)} after "
                                 f"{format_duration(points[-1][0])}")
        except InputError as exc:
            raise InputError(f"{path} line {n}: {exc}") from None
        points.append((t, rps))
    if not points:
        raise InputError(f"{path} has a header but no rows")
    return tuple(points)


def _trace_check(value, info: ValidationInfo):
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"must be the path of a CSV file, got {show_value(value)}")
    path = Path(value)
    if not path.is_absolute():
        path = _base_dir(info) / path
    try:
        path = path.resolve()
        found = path.is_file()
    except (OSError, RuntimeError):
        found = False
    if not found:
        raise InputError(f"file not found: {value}" + ("" if str(path) == value else f" (looked for {path})"))
    load_trace(path)  # refuse a malformed trace now, with its line number
    return str(path)


_RATE_SCHEMA = {"anyOf": [
    {"type": "number", "minimum": 0},
    {"type": "array", "minItems": 1, "items": {
        "type": "array", "minItems": 2, "maxItems": 2,
        "prefixItems": [_DURATION_SCHEMA, {"type": "number", "minimum": 0}]}},
    {"type": "null"}]}


class Traffic(_Model):
    """Request arrivals: a rate (constant or piecewise linear) or a replayed trace (a step function)."""

    arrivals: Literal["poisson", "deterministic"] = "poisson"
    rate: Annotated[Union[float, tuple[tuple[float, float], ...], None], BeforeValidator(_rate_check),
                    WithJsonSchema(_RATE_SCHEMA)] = 50.0
    trace: Annotated[Union[str, None], BeforeValidator(_trace_check)] = None
    daily_pattern: Union[DailyPattern, None] = None
    _trace_points: tuple[tuple[float, float], ...] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _trace_replaces_rate(cls, data):
        if isinstance(data, Mapping) and data.get("trace") is not None and "rate" not in data:
            data = {**data, "rate": None}  # rate's default only applies without a trace
        return data

    @model_validator(mode="after")
    def _rate_or_trace(self):
        if self.rate is not None and self.trace is not None:
            raise InputError("give either `rate` or `trace`, not both")
        if self.rate is None and self.trace is None:
            raise InputError("needs `rate` or `trace`")
        if self.trace is not None:
            self._trace_points = load_trace(self.trace)
        return self

    @property
    def trace_points(self) -> tuple[tuple[float, float], ...] | None:
        """The trace as (time s, rps) steps, or None without a trace."""
        return self._trace_points


def _pending_timeout_check(value):
    return "auto" if value == "auto" else _seconds_check(None, 0, None, None)(value)


def _service_name(value: str) -> str:
    if len(value) > 49 or not SERVICE_NAME_RE.fullmatch(value):
        raise InputError("must be a Cloud Run service name: lowercase letters, digits and -, starting with a "
                         f"letter, not ending with -, at most 49 characters; got {show_value(value)}")
    return value


_MIN_ABOVE_MAX = "must not exceed max_instances ({high}), got {low}"


class Service(_Model):
    """A Cloud Run service: its revision template, autoscaling and the traffic it receives."""

    name: Annotated[str, AfterValidator(_service_name)]
    encryption_key: Union[Text, None] = None
    revocation_action: Literal["prevent-new", "shut-down"] = "prevent-new"
    shutdown_after: Seconds(ge=0) = 3600.0
    concurrency: Integer(ge=1, le=1000) = 80
    cpu: Number(gt=0, le=8) = 1.0
    memory: Memory = 512.0
    min_instances: Integer(ge=0) = 0
    max_instances: Integer(ge=1) = 100
    idle_retention: Seconds(ge=0) = 900.0
    routing: Literal["least-loaded", "newest-first", "random"] = "least-loaded"
    pending_timeout: Annotated[Union[Literal["auto"], float], BeforeValidator(_pending_timeout_check),
                               WithJsonSchema({"anyOf": [{"const": "auto"}, _DURATION_SCHEMA]})] = "auto"
    request_timeout: Seconds(gt=0, le=3600) = 300.0
    service_time: DistType = LogNormal.from_mean_cv(0.120, 1.0)
    cpu_per_request: Number(ge=0) = 0.25
    startup: Startup = Startup()
    startup_cpu_boost: bool = False
    startup_cpu_boost_factor: Number(gt=0, le=1) = 0.5
    key_operations: KeyOperations = KeyOperations()
    autoscaling: Autoscaling = Autoscaling()
    traffic: Traffic = Traffic()

    @model_validator(mode="after")
    def _min_not_above_max(self):
        if self.min_instances > self.max_instances:
            raise InputError(_MIN_ABOVE_MAX.format(high=self.max_instances, low=self.min_instances),
                             "min_instances")
        return self


# ---------------------------------------------------------------------------------------------------------
# Faults: data applied at `at`; the model gives each kind a small process.

class _Fault(_Model):
    at: Seconds(ge=0)


class KeyFault(_Fault):
    """A change of the key version's state."""

    kind: Literal["key-disable", "key-enable", "key-schedule-destroy", "key-restore", "key-destroy"]
    key: Text


class EkmOutage(_Fault):
    """The external key manager answers with an error domain for `duration` (key None: every external key)."""

    kind: Literal["ekm-outage"]
    duration: Seconds(gt=0)
    error: EkmDomain
    key: Union[Text, None] = None

    @property
    def retryable(self) -> bool:
        return self.error in RETRYABLE_EKM_DOMAINS


class EkmLatency(_Fault):
    """The external key manager answers with another latency for `duration`."""

    kind: Literal["ekm-latency"]
    duration: Seconds(gt=0)
    latency: DistType
    key: Union[Text, None] = None


class KmsOutage(_Fault):
    """Cloud KMS itself answers UNAVAILABLE (retryable) for `duration`."""

    kind: Literal["kms-outage"]
    duration: Seconds(gt=0)


class QuotaChange(_Fault):
    """New quota limits, for `duration` (None: for the rest of the run)."""

    kind: Literal["quota-change"]
    hsm_requests_per_minute: Union[Number(gt=0), None] = None
    external_requests_per_minute: Union[Number(gt=0), None] = None
    duration: Union[Seconds(gt=0), None] = None

    @model_validator(mode="after")
    def _some_quota(self):
        if self.hsm_requests_per_minute is None and self.external_requests_per_minute is None:
            raise InputError("needs hsm_requests_per_minute or external_requests_per_minute (or both)")
        return self


class KmsBackgroundLoad(_Fault):
    """Extra Poisson consumers of the same KMS quota for `duration`."""

    kind: Literal["kms-background-load"]
    duration: Seconds(gt=0)
    rps: Number(ge=0)


class IamFault(_Fault):
    """The service agent loses (revoke) or regains (grant) the encrypter/decrypter role."""

    kind: Literal["iam-revoke", "iam-grant"]
    service: Text


class DeployFault(_Fault):
    """A new revision of `service`. encryption_key omitted: keep the current key; null: Google-managed."""

    kind: Literal["deploy"]
    service: Text
    encryption_key: Union[Text, None] = None

    @property
    def keep_current_key(self) -> bool:
        """True when the fault does not say which key the new revision uses."""
        return "encryption_key" not in self.model_fields_set


Fault = Annotated[
    Union[KeyFault, EkmOutage, EkmLatency, KmsOutage, QuotaChange, KmsBackgroundLoad, IamFault, DeployFault],
    Field(discriminator="kind")]
_FAULT_CLASSES = {kind: cls for cls in typing.get_args(typing.get_args(Fault)[0])
                  for kind in typing.get_args(cls.model_fields["kind"].annotation)}
FAULT_KINDS = tuple(_FAULT_CLASSES)


# ---------------------------------------------------------------------------------------------------------
# The scenario.

def _scenario_name(value: str) -> str:
    if not SCENARIO_NAME_RE.fullmatch(value) or value in {".", ".."}:
        raise InputError(f"must be usable as a folder name (letters, digits, -, _ and .), got {show_value(value)}")
    return value


def _rfc3339(value):
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp as a datetime
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date) or not isinstance(value, str):
        raise InputError(f"must be an RFC 3339 time such as 2026-01-01T00:00:00Z, got {show_value(str(value))}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value.upper():
        raise InputError(f"must be an RFC 3339 time with a zone, such as 2026-01-01T00:00:00Z, got {show_value(value)}")
    return value


class Scenario(_Model):
    """Everything one run needs. `source_path` is the file it came from; `base_dir` resolves relative files."""

    name: Annotated[str, AfterValidator(_scenario_name)]
    description: str = ""
    duration: Seconds(gt=0) = 3600.0
    warmup: Seconds(ge=0) = 0.0
    seed: Integer(ge=0) = 1
    replications: Integer(ge=1) = 1
    timeseries_interval: Seconds(gt=0) = 10.0
    start_time: Annotated[str, BeforeValidator(_rfc3339), WithJsonSchema(
        {"type": "string", "format": "date-time"})] = "2026-01-01T00:00:00Z"
    project: Project = Project()
    kms: Kms = Kms()
    keys: tuple[Key, ...] = ()
    services: Annotated[tuple[Service, ...], Field(min_length=1)]
    faults: tuple[Fault, ...] = ()
    _source_path: Path | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("faults", mode="after")
    @classmethod
    def _in_time_order(cls, faults):
        return tuple(sorted(faults, key=lambda f: f.at))  # stable: same-time faults keep file order

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo):
        if not (info.context or {}).get("cross_checked"):
            problems = _cross_problems(self.model_dump())
            if problems:
                raise InputError("; ".join(f"{_path(loc)}: {reason}" for loc, reason in problems))
        return self

    # Equality and hashing look at the fields only: where a scenario was read from is not part of it.
    def __eq__(self, other):
        return type(other) is type(self) and self.__dict__ == other.__dict__

    def __hash__(self):
        return hash(tuple(self.__dict__.values()))

    @property
    def source_path(self) -> Path | None:
        return self._source_path

    @property
    def base_dir(self) -> Path:
        return self._base_dir or Path.cwd()

    def key(self, key_id: str) -> Key:
        """The key with this id (KeyError if none)."""
        for key in self.keys:
            if key.id == key_id:
                return key
        raise KeyError(key_id)

    def service(self, name: str) -> Service:
        """The service with this name (KeyError if none)."""
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def to_resolved_dict(self) -> dict:
        """Every key with its value, durations in seconds: saved with results, and loads back equal."""
        data = self.model_dump(mode="json")
        for fault, raw in zip(self.faults, data["faults"]):
            if isinstance(fault, DeployFault) and fault.keep_current_key:
                del raw["encryption_key"]
        return data


# ---------------------------------------------------------------------------------------------------------
# Checks across parts of the file. They read the raw mapping, so that they still report what they can
# when other parts are malformed (every problem in one pass), and they never assume a type.

def _try_seconds(value):
    try:
        return parse_duration(value)
    except InputError:
        return None


def _items(raw: Mapping, key: str):
    value = raw.get(key, ())
    return list(enumerate(value)) if isinstance(value, (list, tuple)) else None


def _known(ids) -> str:
    return ", ".join(sorted(ids)) if ids else "none defined"


def _cross_problems(raw: Mapping) -> list[tuple[tuple, str]]:
    problems: list[tuple[tuple, str]] = []
    duration = _try_seconds(raw.get("duration", 3600.0))
    warmup = _try_seconds(raw.get("warmup", 0.0))
    if duration and warmup is not None and warmup >= duration:
        problems.append((("warmup",), f"must be less than duration ({format_duration(duration)}), "
                                      f"got {format_duration(warmup)}"))
    project = raw.get("project", {})
    region = project.get("region", "us-central1") if isinstance(project, Mapping) else None

    keys = _items(raw, "keys")
    protections: dict[str, Any] | None = None if keys is None else {}
    for i, key in keys or ():
        if not isinstance(key, Mapping):
            continue
        key_id, name = key.get("id"), key.get("name")
        if isinstance(key_id, str):
            if key_id in protections:
                problems.append((("keys", i, "id"), f"duplicate key id {key_id!r}"))
            else:
                protections[key_id] = key.get("protection", "hsm")
        match = KEY_NAME_RE.fullmatch(name) if isinstance(name, str) else None
        if match and isinstance(region, str) and match["location"] != region:
            problems.append((("keys", i, "name"), f"location {match['location']!r} must equal the services' "
                                                  f"region (project.region {region!r})"))

    def check_key(loc, key_id):
        if isinstance(key_id, str) and protections is not None and key_id not in protections:
            problems.append((loc, f"unknown key id {key_id!r} (keys: {_known(protections)})"))

    services = _items(raw, "services")
    names: set[str] | None = None if services is None else set()
    for i, service in services or ():
        if not isinstance(service, Mapping):
            continue
        name = service.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append((("services", i, "name"), f"duplicate service name {name!r}"))
            names.add(name)
        check_key(("services", i, "encryption_key"), service.get("encryption_key"))
        low, high = service.get("min_instances", 0), service.get("max_instances", 100)
        if all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high)) and low > high >= 1:
            problems.append((("services", i, "min_instances"), _MIN_ABOVE_MAX.format(high=high, low=low)))

    for i, fault in _items(raw, "faults") or ():
        if not isinstance(fault, Mapping):
            continue
        at, kind = _try_seconds(fault.get("at")), fault.get("kind")
        kind = kind if isinstance(kind, str) else None
        if at is not None and duration and at >= duration:
            problems.append((("faults", i, "at"), f"fault at or after the end of the run "
                                                  f"(at {format_duration(at)}, duration {format_duration(duration)})"))
        if kind in _FAULT_CLASSES and "key" in _FAULT_CLASSES[kind].model_fields:
            key_id = fault.get("key")
            check_key(("faults", i, "key"), key_id)
            protection = protections.get(key_id) if protections and isinstance(key_id, str) else None
            if kind in {"ekm-outage", "ekm-latency"} and isinstance(protection, str) \
                    and protection not in EXTERNAL_PROTECTIONS:
                problems.append((("faults", i, "key"), f"key {key_id!r} has protection {protection}; {kind} "
                                                       "needs an external or external-vpc key"))
        if kind == "deploy":
            check_key(("faults", i, "encryption_key"), fault.get("encryption_key"))
        service = fault.get("service")
        if kind in {"iam-revoke", "iam-grant", "deploy"} and isinstance(service, str) \
                and names is not None and service not in names:
            problems.append((("faults", i, "service"), f"unknown service {service!r} (services: {_known(names)})"))
    return problems


# ---------------------------------------------------------------------------------------------------------
# Turning pydantic's errors into one line each.

def _path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("["):
            out += part
        else:
            out += ("." if out else "") + str(part)
    return out


def _clean_loc(loc: tuple) -> tuple:
    """Drops the tag pydantic inserts after a fault's index (faults.0.key-disable.key -> faults[0].key)."""
    out = []
    for i, part in enumerate(loc):
        if (i >= 2 and part in _FAULT_CLASSES and isinstance(loc[i - 1], int) and loc[i - 2] == "faults"):
            continue
        out.append(part)
    return tuple(out)


def _model_at(loc: tuple):
    """The model class whose keys live at `loc` (for "did you mean"), or None."""
    model = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(part, str) and part in _FAULT_CLASSES:
            model = _FAULT_CLASSES[part]
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        model = next((t for t in _types_in(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)),
                     None)
        if model is None:
            return None
    return model


def _types_in(annotation):
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types_in(arg)


def _reason(error: dict) -> tuple[tuple, str]:
    """(extra key path, reason) for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    got = f", got {show_value(value)}"
    if kind == "missing":
        return (), "missing required key"
    if kind == "extra_forbidden":
        loc = error["loc"]
        model = _model_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1) if model else []
        return (), "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in {"value_error", "assertion_error"}:
        exc = ctx.get("error")
        key = getattr(exc, "key", None)
        message = str(exc) if exc is not None else error["msg"].removeprefix("Value error, ")
        return ((key,) if key else ()), message
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return (), "must be a mapping (key: value)" + got
    if kind in {"tuple_type", "list_type", "iterable_type"}:
        return (), "must be a list" + got
    if kind in {"string_type", "string_unicode"}:
        return (), "must be a string" + got
    if kind in {"bool_type", "bool_parsing"}:
        return (), "must be true or false" + got
    if kind in {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}:
        return (), "must be a whole number" + got
    if kind in {"float_type", "float_parsing", "finite_number"}:
        return (), "must be a finite number" + got
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", ctx.get("expected", "")) or [ctx.get("expected", "")]
        return (), f"must be one of {', '.join(expected)}" + got
    if kind == "union_tag_invalid":
        return ("kind",), f"unknown fault kind {show_value(ctx.get('tag'))}; valid: {', '.join(FAULT_KINDS)}"
    if kind == "union_tag_not_found":
        return ("kind",), f"missing required key (one of {', '.join(FAULT_KINDS)})"
    if kind == "too_short":
        return (), f"must have at least {ctx.get('min_length')} item" + ("" if ctx.get("min_length") == 1 else "s")
    if kind == "recursion_loop":
        return (), "refers to itself (YAML alias loop)"
    message = error["msg"]
    return (), message[:1].lower() + message[1:] + got


def _problem_lines(source: str, errors, cross) -> list[str]:
    lines = []
    errors = list(errors)
    for error in errors:
        if error["type"] == "too_short" and any(  # pydantic also counts the items it refused
                tuple(other["loc"][:len(error["loc"])]) == tuple(error["loc"]) and other is not error
                for other in errors):
            continue
        loc = _clean_loc(tuple(error["loc"]))
        extra, reason = _reason(error)
        lines.append(_line(source, loc + extra, reason))
    lines += [_line(source, loc, reason) for loc, reason in cross]
    return list(dict.fromkeys(lines))  # one line per problem, in order


def _line(source: str, loc: tuple, reason: str) -> str:
    path = _path(loc)
    return f"{source}: {path}: {reason}" if path else f"{source}: {reason}"


# ---------------------------------------------------------------------------------------------------------
# Loading.

class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key written twice in one mapping (YAML would silently keep the last)."""


def _construct_mapping(loader: _Loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, source: str):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"{source}: file not found"]) from None
    except IsADirectoryError:
        raise ScenarioError([f"{source}: is a folder, not a scenario file"]) from None
    except UnicodeDecodeError:
        raise ScenarioError([f"{source}: is not UTF-8 text"]) from None
    except OSError as exc:
        raise ScenarioError([f"{source}: cannot read the file ({exc.strerror or exc})"]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        prefix = "" if "duplicate key" in what else "invalid YAML: "
        raise ScenarioError([f"{source}: {where}{prefix}{what}"]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise ScenarioError([f"{source}: invalid YAML: {exc}"]) from None


def _apply_updates(data: dict, updates: Mapping, source: str) -> dict:
    """A copy of `data` with each dotted path (`services.0.max_instances`) set to its value."""
    data = copy.deepcopy(data)
    problems = []
    for dotted, value in updates.items():
        parts = str(dotted).split(".")
        shown = tuple(int(p) if p.isdigit() else p for p in parts)
        node = data
        try:
            for depth, part in enumerate(parts):
                last = depth == len(parts) - 1
                if isinstance(node, list):
                    if not part.isdigit() or int(part) >= len(node):
                        raise InputError(f"{_path(shown[:depth])} has no item {part}")
                    part = int(part)
                elif not isinstance(node, dict):
                    raise InputError(f"{_path(shown[:depth])} is not a mapping")
                elif not last and node.get(part) is None:
                    node[part] = {}  # e.g. daily_pattern: null gets its first key
                if last:
                    node[part] = copy.deepcopy(value)
                else:
                    node = node[part]
        except InputError as exc:
            problems.append(f"{source}: override {dotted}: {exc}")
    if problems:
        raise ScenarioError(problems)
    return data


def scenario_from_dict(data, source: str = "<dict>", base_dir: str | Path | None = None,
                       *, source_path: str | Path | None = None) -> Scenario:
    """A checked Scenario from a mapping; relative files (traces, samples) are found in `base_dir`."""
    if not isinstance(data, Mapping):
        names = {str: "a single text", list: "a list", int: "a number", float: "a number", bool: "true/false"}
        what = "empty" if data is None else names.get(type(data), f"a {type(data).__name__}")
        raise ScenarioError([f"{source}: a scenario must be a mapping (key: value) with at least `name` and "
                             f"`services`; this one is {what}"])
    base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    cross = _cross_problems(data)
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base, "cross_checked": True})
    except ValidationError as exc:
        raise ScenarioError(_problem_lines(source, exc.errors(), cross)) from None
    if cross:
        raise ScenarioError(_problem_lines(source, [], cross))
    scenario._base_dir = base
    scenario._source_path = Path(source_path).resolve() if source_path is not None else None
    return scenario


def load_scenario(path: str | Path, overrides: Mapping | None = None) -> Scenario:
    """Reads, overrides (dotted paths, before validation) and checks a scenario file."""
    source = str(path)
    data = _read_yaml(Path(path), source)
    if overrides:
        if not isinstance(data, dict):
            scenario_from_dict(data, source)  # raises the "not a mapping" problem
        data = _apply_updates(data, overrides, source)
    path = Path(path).resolve()
    return scenario_from_dict(data, source, base_dir=path.parent, source_path=path)


def with_updates(scenario: Scenario, updates: Mapping) -> Scenario:
    """A new, re-checked Scenario with dotted-path updates applied (for sweeps); `scenario` is unchanged.

    Setting a service's `traffic.rate` drops its `traffic.trace` and the other way round, unless both are given.
    """
    data = scenario.to_resolved_dict()
    updates = dict(updates)
    for dotted in list(updates):
        for mine, other in (("traffic.rate", "traffic.trace"), ("traffic.trace", "traffic.rate")):
            if str(dotted).endswith(mine) and updates[dotted] is not None:
                sibling = str(dotted)[: -len(mine)] + other
                updates.setdefault(sibling, None)
    source = str(scenario.source_path) if scenario.source_path else "<scenario>"
    data = _apply_updates(data, updates, source)
    return scenario_from_dict(data, source, base_dir=scenario.base_dir, source_path=scenario.source_path)


class _SchemaGenerator(GenerateJsonSchema):
    def encode_default(self, dft):
        return dft.to_spec() if isinstance(dft, Dist) else super().encode_default(dft)


def scenario_json_schema() -> dict:
    """A JSON Schema of scenario files, for editors (durations are numbers of seconds or strings with units)."""
    schema = Scenario.model_json_schema(mode="validation", schema_generator=_SchemaGenerator)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cmek-sim scenario"
    return schema
