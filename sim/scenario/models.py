"""The scenario models, in the order of the reference file (the kms: and keys: parts in kms_models.py), and the
JSON Schema they give editors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import (
    AfterValidator, BeforeValidator, Field, PrivateAttr, ValidationInfo, WithJsonSchema, field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema

from sim.dists import Constant, Dist, LogNormal
from sim.scenario.checks import cross_problems
from sim.scenario.constants import MIN_ABOVE_MAX, SCENARIO_NAME_RE, SERVICE_NAME_RE, path_text
from sim.scenario.faults import DeployFault, Fault
from sim.scenario.kms_models import (  # noqa: F401  (Quota, Ekm, Retry: part of the models' public names)
    Ekm, Key, Kms, Quota, Retry, check_max_not_below_initial,
)
from sim.scenario.pricing import Pricing
from sim.scenario.types import (
    DURATION_SCHEMA, RATE_SCHEMA, DistType, Integer, Memory, Number, Seconds, StrictModel, Text, TraceType,
    rate_check, seconds_check,
)
from sim.units import InputError, show_value


# ---------------------------------------------------------------------------------------------------------
# The models, in the order of the reference file.

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


class Project(StrictModel):
    """The Google Cloud project that runs the services."""

    id: Annotated[str, AfterValidator(_project_id)] = "acme-prod"
    number: Annotated[str, BeforeValidator(_digits), WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": "^[0-9]+$"}, {"type": "integer", "minimum": 0}]})] = "123456789012"
    region: Annotated[str, AfterValidator(_region)] = "us-central1"

    @property
    def service_agent(self) -> str:
        """The Cloud Run service agent, which needs cryptoKeyEncrypterDecrypter on the key."""
        return f"service-{self.number}@serverless-robot-prod.iam.gserviceaccount.com"


class Startup(StrictModel):
    """Cold-start phases, in order; the KMS work comes between image_fetch and container_start."""

    schedule: DistType = Field(LogNormal.from_median_p99(0.3, 1.5), description="placing the instance")
    image_fetch: DistType = Field(LogNormal.from_median_p99(0.8, 4.0), description="pulling the container image")
    container_start: DistType = Field(Constant(0.2), description="starting the container (after the decrypts)")
    app_init: DistType = Field(LogNormal.from_median_p99(1.0, 5.0),
                               description="the application's initialisation until it listens (ready)")

    @property
    def mean(self) -> float:
        """Mean of the four phases (no key operations, no CPU boost)."""
        return self.schedule.mean + self.image_fetch.mean + self.container_start.mean + self.app_init.mean


class KeyOperations(StrictModel):
    """Key operations Cloud Run performs for a CMEK service."""

    decrypts_per_start: Integer(ge=0) = 2
    validation_interval: Seconds(gt=0) = 300.0


class FailedStartBackoff(StrictModel):
    """Per missing instance (slot), as Kubernetes per pod: after its k-th failed start in a row a slot waits
    min(max, initial x 2^(k-1)) x (1 +/- jitter) (assumption: Kubernetes' back-off, 10 s doubling to 5 min);
    a successful start resets it."""

    initial: Seconds(gt=0) = Field(10.0, description="a slot waits this after its first failed start")
    max: Seconds(gt=0) = Field(300.0, description="the longest wait, however many starts failed in a row")
    jitter: Number(ge=0, lt=1) = Field(0.1, description=(
        "each wait is multiplied by a uniform factor in [1 - jitter, 1 + jitter] (assumption, range 0-0.5), "
        "so that the retries of a wave of failed starts do not land in one quota second"))

    @model_validator(mode="after")
    def _max_not_below_initial(self):
        return check_max_not_below_initial(self, "initial", "max")


class Autoscaling(StrictModel):
    """Autoscaler policy and its parameters (cloud-run and knative ones side by side)."""

    policy: Literal["cloud-run", "knative", "per-request"] = "cloud-run"
    target_concurrency_utilization: Number(gt=0, le=1) = 0.6
    target_cpu_utilization: Number(gt=0, le=1) = Field(
        0.6, description="cloud-run: target CPU use of an instance, as a fraction of its cpu")
    window: Seconds(gt=0) = 60.0
    interval: Seconds(gt=0) = 2.0
    on_demand: bool = True
    target_utilization: Number(gt=0, le=1) = Field(0.7, description="per-instance target = concurrency x this")
    panic_window_percentage: Number(gt=0, le=100) = Field(
        10.0, description="the panic window, as a percentage of `window`")
    panic_threshold: Number(ge=1) = Field(
        2.0, description="panic (scale up only) when the panic window's demand reaches this many times the ready "
                         "instances' target")
    max_scale_up_rate: Number(gt=1) = Field(1000.0, description="at most this many times the ready instances")
    max_scale_down_rate: Number(gt=1) = Field(2.0, description="at least the ready instances divided by this")
    scale_to_zero_grace: Seconds(ge=0) = Field(30.0, description="the last instance stops only after this long "
                                                                 "without demand")
    failed_start_backoff: FailedStartBackoff = FailedStartBackoff()
    max_failed_start_backoff: Seconds(ge=0) = Field(0.0, description=(
        "older key, kept: > 0 means failed_start_backoff {initial: interval, max: this} and then wins; 0: unused"))

    @property
    def start_backoff(self) -> tuple[float, float]:
        """(initial, max) of the failed-start back-off in force."""
        if self.max_failed_start_backoff > 0:
            return self.interval, self.max_failed_start_backoff
        return self.failed_start_backoff.initial, self.failed_start_backoff.max


class DailyPattern(StrictModel):
    """rate x (1 + amplitude*cos(2*pi*(t - peak_at)/24h))."""

    amplitude: Number(ge=0, le=1) = Field(description="0..1: the rate swings between (1 - amplitude) and "
                                                         "(1 + amplitude) times itself")
    peak_at: Seconds(ge=0, lt=86_400) = Field(description="time of day of the peak, from the start of the run")


class Traffic(StrictModel):
    """Request arrivals: a rate (constant or piecewise linear) or a replayed trace (a step function)."""

    arrivals: Literal["poisson", "deterministic"] = "poisson"
    rate: Annotated[Union[float, tuple[tuple[float, float], ...], None], BeforeValidator(rate_check),
                    WithJsonSchema(RATE_SCHEMA)] = 50.0
    trace: TraceType = None  # the resolved path (a str), with the points read once when it was checked
    daily_pattern: Union[DailyPattern, None] = None

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
        return self

    @property
    def trace_points(self) -> tuple[tuple[float, float], ...] | None:
        """The trace as (time s, rps) steps, or None without a trace."""
        return None if self.trace is None else self.trace.points


def _pending_timeout_check(value):
    return "auto" if value == "auto" else seconds_check(None, 0, None, None)(value)


def _service_name(value: str) -> str:
    if len(value) > 49 or not SERVICE_NAME_RE.fullmatch(value):
        raise InputError("must be a Cloud Run service name: lowercase letters, digits and -, starting with a "
                         f"letter, not ending with -, at most 49 characters; got {show_value(value)}")
    return value


class Service(StrictModel):
    """A Cloud Run service: its revision template, autoscaling and the traffic it receives."""

    name: Annotated[str, AfterValidator(_service_name)] = Field(description="the Cloud Run service name")
    encryption_key: Union[Text, None] = None
    revocation_action: Literal["prevent-new", "shut-down"] = "prevent-new"
    shutdown_after: Seconds(ge=0) = 3600.0
    concurrency: Integer(ge=1, le=1000) = 80
    cpu: Number(gt=0, le=8) = 1.0
    memory: Memory = Field(512.0, description="memory per instance (the model does not limit requests by it)")
    min_instances: Integer(ge=0) = Field(0, description="instances kept running even without traffic")
    max_instances: Integer(ge=1) = Field(100, description="at most this many instances run (starting or ready)")
    idle_retention: Seconds(ge=0) = 900.0
    routing: Literal["least-loaded", "newest-first", "random"] = "least-loaded"
    pending_timeout: Annotated[Union[Literal["auto"], float], BeforeValidator(_pending_timeout_check),
                               WithJsonSchema({"anyOf": [{"const": "auto"}, DURATION_SCHEMA]})] = "auto"
    pending_timeout_basis: Literal["observed", "analytic"] = Field("observed", description=(
        "the average startup time of pending_timeout: auto: observed (the mean of the current revision's "
        "last pending_timeout_observed_starts completed starts, the analytic mean until one completes; the "
        "platform's own rule) or analytic (the mean of the start phases plus the key operations)"))
    pending_timeout_observed_starts: Integer(ge=1) = Field(10, description=(
        "pending_timeout_basis observed: how many of the latest completed starts are averaged "
        "(assumption: the platform does not say over what it averages)"))
    request_timeout: Seconds(gt=0, le=3600) = 300.0
    service_time: DistType = LogNormal.from_mean_cv(0.120, 1.0)
    cpu_per_request: Number(ge=0) = 0.25
    cpu_model: Literal["shared", "unlimited"] = Field("shared", description=(
        "shared: the requests of an instance share its cpu (a request slows down when concurrency x "
        "cpu_per_request exceeds it); unlimited: every request runs at full speed"))
    billing: Literal["request", "instance"] = Field("request", description=(
        "Cloud Run's billing setting, for the cost section only: request (CPU billed while starting and "
        "while serving requests; the default) or instance (billed for the instance's whole life)"))
    startup: Startup = Startup()
    startup_cpu_boost: bool = False
    startup_cpu_boost_factor: Number(gt=0, le=1) = 0.5
    warm_start: bool = Field(False, description=(
        "true: the instances the autoscaler wants at the initial rate are ready at t = 0 with their idle "
        "timers running (no cold-start burst at the start of a steady run); false: only min_instances, "
        "started cold at t = 0"))
    key_operations: KeyOperations = KeyOperations()
    autoscaling: Autoscaling = Autoscaling()
    traffic: Traffic = Traffic()

    @model_validator(mode="after")
    def _min_not_above_max(self):
        if self.min_instances > self.max_instances:
            raise InputError(MIN_ABOVE_MAX.format(high=self.max_instances, low=self.min_instances),
                             "min_instances")
        return self


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


class Scenario(StrictModel):
    """Everything one run needs. `source_path` is the file it came from; `base_dir` resolves relative files."""

    name: Annotated[str, AfterValidator(_scenario_name)]
    description: str = Field("", description="free text: what the scenario shows and what to look at")
    duration: Seconds(gt=0) = 3600.0
    warmup: Seconds(ge=0) = 0.0
    seed: Integer(ge=0) = 1
    replications: Integer(ge=1) = 1
    timeseries_interval: Seconds(gt=0) = 10.0
    start_time: Annotated[str, BeforeValidator(_rfc3339), WithJsonSchema(
        {"type": "string", "format": "date-time"})] = Field("2026-01-01T00:00:00Z", description=(
            "RFC 3339 wall-clock time of t = 0, for the timestamps of the logs (kms_audit.jsonl, run_errors.jsonl)"))
    project: Project = Project()
    kms: Kms = Kms()
    keys: tuple[Key, ...] = ()
    services: Annotated[tuple[Service, ...], Field(min_length=1)]
    faults: tuple[Fault, ...] = ()
    pricing: Pricing = Pricing()
    windows: tuple[str, ...] = Field((), description=(
        "more windows for each service's summary `windows` section than every fault's: `fault[0]+10m` (with a "
        "recovery tail), `30m..60m`, `peak-hour`; commands add those their METRIC@WINDOW names"))
    _source_path: Path | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)

    @field_validator("faults", mode="after")
    @classmethod
    def _in_time_order(cls, faults):
        return tuple(sorted(faults, key=lambda f: f.at))  # stable: same-time faults keep file order

    @model_validator(mode="after")
    def _windows_exist(self):
        from sim.windows import windows_problem     # the window syntax lives there, with the commands'
        if problem := windows_problem(self):
            raise InputError(problem)
        return self

    @model_validator(mode="after")
    def _cross_references(self, info: ValidationInfo):
        if not (info.context or {}).get("cross_checked"):  # scenario_from_dict checked the raw mapping
            problems = cross_problems(self.model_dump())
            if problems:
                raise InputError("; ".join(f"{path_text(loc)}: {reason}" for loc, reason in problems))
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
# The JSON Schema, for editors.

class _SchemaGenerator(GenerateJsonSchema):
    def encode_default(self, dft):
        return dft.to_spec() if isinstance(dft, Dist) else super().encode_default(dft)


def scenario_json_schema() -> dict:
    """A JSON Schema of scenario files, for editors (durations are numbers of seconds or strings with units)."""
    schema = Scenario.model_json_schema(mode="validation", schema_generator=_SchemaGenerator)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cmek-sim scenario"
    return schema
