"""The Cloud KMS part of the scenario models (kms: and keys:): quotas and their enforcement, the external key
manager, the platform's retry of retryable key errors, and the keys themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, model_validator

from sim.dists import LogNormal
from sim.scenario.constants import EXTERNAL_PROTECTIONS, KEY_NAME_RE
from sim.scenario.types import DistType, Number, Seconds, StrictModel, Text, rps_check
from sim.units import InputError, format_duration, show_value


class BackgroundRps(StrictModel):
    """Other consumers (Cloud SQL, Cloud Storage CMEK...) of each protection pool of every key project,
    requests per second (Poisson); each pool gets only its own."""

    hsm: Number(ge=0) = Field(0.0, description="requests per second on the HSM pool")
    external: Number(ge=0) = Field(0.0, description="requests per second on the external (EKM) pool")

    def for_pool(self, level: str) -> float:
        """The rate of one pool level ("hsm" or "external")."""
        return self.hsm if level == "hsm" else self.external


def _background_rps(value):
    """A plain number means the HSM pool (the external pool then gets 0); else {hsm: N, external: M}."""
    if isinstance(value, Mapping) or isinstance(value, BackgroundRps):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError("must be requests per second (the HSM pool) or {hsm: N, external: M}, "
                         f"got {show_value(value)}")
    return {"hsm": rps_check(value), "external": 0.0}


class Quota(StrictModel):
    """Cloud KMS quota of the project that holds the key, per protection level."""

    hsm_requests_per_minute: Number(gt=0) = 30000.0
    external_requests_per_minute: Number(gt=0) = 6000.0
    enforcement: Literal["per-second", "per-minute"] = "per-second"
    hsm_enforcement: Literal["soft", "hard"] = Field("soft", description=(
        "soft: since 2026-02-16 Cloud KMS serves HSM requests over the quota while the region has spare "
        "capacity (up to soft_headroom times the quota); hard: refuse everything over the quota (the rule "
        "before 2026-02-16). External (EKM) keys are always hard-enforced"))
    soft_headroom: Number(ge=1) = Field(1.5, description=(
        "soft enforcement: the region serves requests up to this multiple of the HSM quota in each window "
        "(an assumption, plausible 1 to 3; 1 behaves as hard). A kms-region-busy fault lowers it for a while"))
    background_rps: Annotated[BackgroundRps, BeforeValidator(_background_rps), WithJsonSchema({"anyOf": [
        {"type": "number", "minimum": 0, "description": "requests per second on the HSM pool"},
        {"type": "object", "additionalProperties": False,
         "properties": {"hsm": {"type": "number", "minimum": 0}, "external": {"type": "number", "minimum": 0}}}]},
    )] = BackgroundRps()


class Ekm(StrictModel):
    """Cloud EKM: round trip to the external key manager, cut off at `timeout` (retryable TIMEOUT)."""

    latency: DistType = LogNormal.from_median_p99(0.035, 0.120)
    timeout: Seconds(gt=0) = 0.150


def check_max_not_below_initial(model, initial: str, maximum: str):
    """A back-off's cap must not be below its first delay (one line, at the cap's key)."""
    low, high = getattr(model, initial), getattr(model, maximum)
    if high < low:
        raise InputError(f"must be at least {initial} ({format_duration(low)}), got {format_duration(high)}", maximum)
    return model


class Retry(StrictModel):
    """How the platform retries a retryable key error during an instance start (exponential backoff)."""

    initial_backoff: Seconds(gt=0) = Field(1.0, description="wait before the first retry")
    multiplier: Number(ge=1) = Field(2.0, description="each wait is the previous one times this")
    max_backoff: Seconds(gt=0) = Field(32.0, description="the longest wait between two retries")
    jitter: Number(ge=0, lt=1) = 0.2

    @model_validator(mode="after")
    def _max_not_below_initial(self):
        return check_max_not_below_initial(self, "initial_backoff", "max_backoff")


class Kms(StrictModel):
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


class Key(StrictModel):
    """A Cloud KMS key (its primary version is what the simulator tracks)."""

    id: Text
    name: Annotated[str, AfterValidator(_key_name)] = Field(
        description="resource name projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY")
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
