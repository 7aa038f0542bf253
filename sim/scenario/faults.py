"""Scenario faults: what happens to keys, the EKM, KMS, quota, IAM and deployments at a time `at`.

One class per kind, registered in `FAULT_CLASSES` (kind -> class). Each class says
- how it parses (its fields, checked by pydantic) and how it is checked across the file (`cross_check`);
- what it does to the world (`effect`): a "state" kind changes state at `at` through `apply(world)`, which
  uses only `world.change_key_state(key, kind)`, `world.set_iam(key, granted=...)` and
  `world.deploy(service, fault)`; a "window" kind changes nothing at a time: the model looks its windows up;
- how it is described in charts and fault_events.csv (`colour`, `target`, `label()`, `undone_by`).

`Fault` is the union the `faults` list holds, told apart by `kind`; `FAULT_KINDS` names every kind.
`fault_windows(faults, duration)` gives the faults as windows (start, end, label) for charts.

Adding a kind: write its class here and add it to `Fault`; tests/test_fault_registry.py then asks for a sample.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import Field, ValidationInfo, model_validator

from sim.scenario.constants import EXTERNAL_PROTECTIONS, RETRYABLE_EKM_DOMAINS, EkmDomain
from sim.scenario.types import DistType, Number, Seconds, StrictModel, Text
from sim.units import InputError, show_value

Problems = list[tuple[tuple, str]]
DURATION = "how long it lasts"
EKM_KEY = "an external key id (null: every external key)"


# ---------------------------------------------------------------------------------------------------------
# What the checks across the file know when they come to the faults.

def known_text(ids) -> str:
    return ", ".join(sorted(ids)) if ids else "none defined"


@dataclass(frozen=True)
class CrossContext:
    """Key ids (-> protection), service names and key projects (of the key names) defined in the file;
    None when that part is malformed."""

    keys: Mapping[str, Any] | None
    services: Collection[str] | None
    projects: Collection[str] | None = None

    def key_problems(self, loc: tuple, key_id) -> Problems:
        """A reference to a key id that is not defined (nothing when the id or the keys are malformed)."""
        if isinstance(key_id, str) and self.keys is not None and key_id not in self.keys:
            return [(loc, f"unknown key id {show_value(key_id)} (keys: {known_text(self.keys)})")]
        return []

    def project_problems(self, loc: tuple, project) -> Problems:
        """A key project no key of the file lives in (nothing when the project or the keys are malformed)."""
        if isinstance(project, str) and self.projects is not None and project not in self.projects:
            return [(loc, f"unknown key project {show_value(project)} (key projects: {known_text(self.projects)})")]
        return []

    def service_problems(self, loc: tuple, name) -> Problems:
        if isinstance(name, str) and self.services is not None and name not in self.services:
            return [(loc, f"unknown service {show_value(name)} (services: {known_text(self.services)})")]
        return []


# ---------------------------------------------------------------------------------------------------------
# The base of every kind.

class FaultBase(StrictModel):
    """A fault at time `at`. Subclasses set `kind`, the ClassVars below, and `apply` when effect is "state"."""

    colour: ClassVar[str]                       # every kind names its own (charts)
    effect: ClassVar[Literal["state", "window"]] = "window"
    undone_by: ClassVar[tuple[str, ...]] = ()   # kinds that end this one's window (same target)
    until_end: ClassVar[bool] = False           # without duration or undoing fault, lasts to the end of the run

    at: Seconds(ge=0) = Field(description="when it happens, from the start of the run (before its end)")

    @classmethod
    def cross_check(cls, raw: Mapping, index: int, context: CrossContext) -> Problems:
        """Problems of this fault (the raw mapping at faults[index]) against the rest of the file."""
        return []

    @property
    def target(self) -> str:
        """The key or service the fault acts on ("" for none)."""
        return str(getattr(self, "key", None) or getattr(self, "service", None) or "")

    def label(self) -> str:
        """How charts name the fault."""
        return f"{self.kind} {self.target}".strip()

    def apply(self, world):
        """Changes the world at `at` ("state" kinds only)."""
        raise NotImplementedError(f"{self.kind} is a window fault: the model looks it up, nothing is applied")


# ---------------------------------------------------------------------------------------------------------
# Key states.

class KeyFault(FaultBase):
    """A change of the key version's state."""

    effect: ClassVar[Literal["state", "window"]] = "state"

    kind: Literal["key-disable", "key-enable", "key-schedule-destroy", "key-restore", "key-destroy"]
    key: Text = Field(description="a key id from `keys`")

    @classmethod
    def cross_check(cls, raw, index, context):
        return context.key_problems(("faults", index, "key"), raw.get("key"))

    def apply(self, world):
        return world.change_key_state(self.key, self.kind)


class KeyDisable(KeyFault):
    """The key version becomes DISABLED (after kms.disable_propagation); undone by key-enable."""

    colour: ClassVar[str] = "tab:red"
    undone_by: ClassVar[tuple[str, ...]] = ("key-enable",)
    until_end: ClassVar[bool] = True
    kind: Literal["key-disable"]


class KeyEnable(KeyFault):
    """A DISABLED key version becomes ENABLED again."""

    colour: ClassVar[str] = "tab:olive"  # no window of its own: it ends key-disable's and key-schedule-destroy's
    kind: Literal["key-enable"]


class KeyScheduleDestroy(KeyFault):
    """The key version is scheduled for destruction (DESTROYED after destroy_scheduled_duration)."""

    colour: ClassVar[str] = "darkred"
    undone_by: ClassVar[tuple[str, ...]] = ("key-enable",)
    until_end: ClassVar[bool] = True
    kind: Literal["key-schedule-destroy"]


class KeyRestore(KeyFault):
    """A key version scheduled for destruction comes back, DISABLED."""

    # key-restore only brings a scheduled key back to DISABLED: it stays unusable until key-enable.
    colour: ClassVar[str] = "tab:pink"
    kind: Literal["key-restore"]


class KeyDestroy(KeyFault):
    """The key version is DESTROYED at once, for good."""

    colour: ClassVar[str] = "black"
    until_end: ClassVar[bool] = True
    kind: Literal["key-destroy"]


# ---------------------------------------------------------------------------------------------------------
# Windows: the EKM, KMS, quota and background load.

class _EkmFault(FaultBase):
    """An EKM fault: `key` None means every external key; a named key must be external."""

    @classmethod
    def cross_check(cls, raw, index, context):
        loc, key_id = ("faults", index, "key"), raw.get("key")
        problems = context.key_problems(loc, key_id)
        keys = context.keys
        protection = keys.get(key_id) if keys and isinstance(key_id, str) else None
        if isinstance(protection, str) and protection not in EXTERNAL_PROTECTIONS:
            problems.append((loc, f"key {show_value(key_id)} has protection {protection}; {raw.get('kind')} "
                                  "needs an external or external-vpc key"))
        return problems

    def _key_text(self) -> str:
        return f" ({self.key})" if self.key else ""


class EkmOutage(_EkmFault):
    """The external key manager answers with an error domain for `duration` (key None: every external key)."""

    colour: ClassVar[str] = "tab:orange"

    kind: Literal["ekm-outage"]
    duration: Seconds(gt=0) = Field(description=DURATION)
    error: EkmDomain = Field(description="the EKM error domain every call gets (retryable or not, as listed)")
    key: Union[Text, None] = Field(None, description=EKM_KEY)

    @property
    def retryable(self) -> bool:
        return self.error in RETRYABLE_EKM_DOMAINS

    def label(self) -> str:
        return f"ekm-outage {self.error}" + self._key_text()


class EkmLatency(_EkmFault):
    """The external key manager answers with another latency for `duration`."""

    colour: ClassVar[str] = "gold"

    kind: Literal["ekm-latency"]
    duration: Seconds(gt=0) = Field(description=DURATION)
    latency: DistType = Field(description="the EKM round trip meanwhile (instead of kms.ekm.latency)")
    key: Union[Text, None] = Field(None, description=EKM_KEY)

    def label(self) -> str:
        spec = self.latency.to_spec()
        parts = [f"{k} {float(spec[k]) * 1000:g} ms" for k in ("median", "p99", "mean", "value") if k in spec]
        return "ekm-latency" + (f" ({', '.join(parts)})" if parts else "") + self._key_text()


class KmsOutage(FaultBase):
    """Cloud KMS itself answers UNAVAILABLE (retryable) for `duration`."""

    colour: ClassVar[str] = "tab:purple"

    kind: Literal["kms-outage"]
    duration: Seconds(gt=0) = Field(description=DURATION)


class QuotaChange(FaultBase):
    """New quota limits, for `duration` (None: for the rest of the run)."""

    colour: ClassVar[str] = "tab:blue"
    until_end: ClassVar[bool] = True

    kind: Literal["quota-change"]
    hsm_requests_per_minute: Union[Number(gt=0), None] = Field(None, description="the new HSM quota (null: unchanged)")
    external_requests_per_minute: Union[Number(gt=0), None] = Field(
        None, description="the new external quota (null: unchanged)")
    duration: Union[Seconds(gt=0), None] = Field(None, description="how long (null: to the end of the run)")

    @model_validator(mode="after")
    def _some_quota(self):
        if self.hsm_requests_per_minute is None and self.external_requests_per_minute is None:
            raise InputError("needs hsm_requests_per_minute or external_requests_per_minute (or both)")
        return self

    def label(self) -> str:
        parts = [f"{name.split('_')[0]} {value:g}/min" for name, value in
                 (("hsm_requests_per_minute", self.hsm_requests_per_minute),
                  ("external_requests_per_minute", self.external_requests_per_minute)) if value is not None]
        return "quota-change " + ", ".join(parts)


class KmsBackgroundLoad(FaultBase):
    """Extra Poisson consumers of one protection pool (`pool`: hsm, the default, or external) for
    `duration`, in the key project `project` (None: every key project of the scenario)."""

    colour: ClassVar[str] = "tab:cyan"

    kind: Literal["kms-background-load"]
    duration: Seconds(gt=0) = Field(description=DURATION)
    rps: Number(ge=0) = Field(description="extra requests per second (Poisson), on top of background_rps")
    pool: Literal["hsm", "external"] = Field("hsm", description="the protection pool it loads")
    project: Union[Text, None] = Field(None, description="the key project whose pool it loads (null: every one)")

    @classmethod
    def cross_check(cls, raw, index, context):
        return context.project_problems(("faults", index, "project"), raw.get("project"))

    def loads(self, project: str, level: str) -> bool:
        """Does this load fall on the pool (key project, protection level)?"""
        return self.pool == level and self.project in (None, project)

    def label(self) -> str:
        where = f"{self.project}/{self.pool}" if self.project else self.pool
        return f"kms-background-load +{self.rps:g}/s ({where})"


class KmsRegionBusy(FaultBase):
    """The region has no spare capacity for `duration`: soft-enforced HSM pools serve over their quota only
    up to `headroom` times it (1, the default: nothing over the quota, as hard enforcement) instead of
    kms.quota.soft_headroom. Hard-enforced pools (EKM always, HSM with hsm_enforcement: hard) are unchanged."""

    colour: ClassVar[str] = "darkkhaki"

    kind: Literal["kms-region-busy"]
    duration: Seconds(gt=0) = Field(description=DURATION)
    headroom: Number(ge=1) = Field(1.0, description="the soft headroom meanwhile (1: none, requests over the "
                                                    "quota are refused)")

    def label(self) -> str:
        return "kms-region-busy" + (f" (headroom {self.headroom:g}x)" if self.headroom != 1 else "")


# ---------------------------------------------------------------------------------------------------------
# IAM and deployments.

IAM_SERVICE_FORM = ("{kind} takes key: (the service agent's role is granted on a key, for every service of "
                    "the project); write key: {key}")


class IamFault(FaultBase):
    """The project's service agent loses (revoke) or regains (grant) the encrypter/decrypter role on `key`:
    every service of the project using that key is affected (DOMAIN.md section 9)."""

    effect: ClassVar[Literal["state", "window"]] = "state"

    kind: Literal["iam-revoke", "iam-grant"]
    key: Text = Field(description="the key id whose IAM binding changes (every service of the project using it)")

    @model_validator(mode="before")
    @classmethod
    def _old_service_form(cls, data, info: ValidationInfo):
        """The old form named a service: one line saying what to write instead (its key id when known)."""
        if isinstance(data, Mapping) and "service" in data:
            service_keys = (info.context or {}).get("service_keys") or {}
            service = data["service"]
            key = service_keys.get(service) if isinstance(service, str) else None
            hint = key if isinstance(key, str) else "<the service's key id>"
            if isinstance(service, str) and service in service_keys and key is None:
                hint += f" (service {show_value(service)} uses Google-managed encryption: no key, no IAM binding)"
            raise InputError(IAM_SERVICE_FORM.format(kind=data.get("kind", "iam-revoke"), key=hint), "service")
        return data

    @classmethod
    def cross_check(cls, raw, index, context):
        return context.key_problems(("faults", index, "key"), raw.get("key"))

    def apply(self, world):
        return world.set_iam(self.key, granted=self.kind == "iam-grant")


class IamRevoke(IamFault):
    """The service agent loses the encrypter/decrypter role; undone by iam-grant."""

    colour: ClassVar[str] = "tab:brown"
    undone_by: ClassVar[tuple[str, ...]] = ("iam-grant",)
    until_end: ClassVar[bool] = True
    kind: Literal["iam-revoke"]


class IamGrant(IamFault):
    """The service agent regains the encrypter/decrypter role."""

    colour: ClassVar[str] = "tab:gray"  # no window of its own: it ends iam-revoke's
    kind: Literal["iam-grant"]


class DeployFault(FaultBase):
    """A new revision of `service`. encryption_key omitted: keep the current key; null: Google-managed."""

    colour: ClassVar[str] = "tab:green"
    effect: ClassVar[Literal["state", "window"]] = "state"

    kind: Literal["deploy"]
    service: Text = Field(description="the service that gets a new revision")
    encryption_key: Union[Text, None] = Field(None, description=(
        "the new revision's key id; null: Google-managed encryption; left out: the current key"))

    @property
    def keep_current_key(self) -> bool:
        """True when the fault does not say which key the new revision uses."""
        return "encryption_key" not in self.model_fields_set

    @classmethod
    def cross_check(cls, raw, index, context):
        return (context.key_problems(("faults", index, "encryption_key"), raw.get("encryption_key"))
                + context.service_problems(("faults", index, "service"), raw.get("service")))

    def label(self) -> str:
        key = "same key" if self.keep_current_key else (self.encryption_key or "Google-managed")
        return f"deploy {self.service} ({key})"

    def apply(self, world):
        return world.deploy(self.service, self)


# ---------------------------------------------------------------------------------------------------------
# The registry.

Fault = Annotated[
    Union[KeyDisable, KeyEnable, KeyScheduleDestroy, KeyRestore, KeyDestroy, EkmOutage, EkmLatency, KmsOutage,
          QuotaChange, KmsBackgroundLoad, KmsRegionBusy, IamRevoke, IamGrant, DeployFault],
    Field(discriminator="kind")]
FAULT_CLASSES: dict[str, type[FaultBase]] = {
    kind: cls for cls in typing.get_args(typing.get_args(Fault)[0])
    for kind in typing.get_args(cls.model_fields["kind"].annotation)}
FAULT_KINDS = tuple(FAULT_CLASSES)


# ---------------------------------------------------------------------------------------------------------
# Faults as windows, for charts.

@dataclass(frozen=True)
class FaultWindow:
    number: int
    kind: str
    target: str
    start: float
    end: float | None          # None: an instant (deploy, or a fault that had no effect)
    label: str
    colour: str


def fault_windows(faults: Sequence[FaultBase], duration: float,
                  not_applied: Collection[tuple[float, str, str]] = ()) -> list[FaultWindow]:
    """The faults (in time order, as a Scenario holds them) as windows: durations, or state changes until
    the fault that undoes them (same target) or the end of the run. Undoing kinds are no window of their
    own. `not_applied` holds (time s, kind, target) of the faults that had no effect (fault_events.csv)."""
    closing = {kind for cls in FAULT_CLASSES.values() for kind in cls.undone_by}
    skipped = {(round(float(t), 6), str(kind), str(target)) for t, kind, target in not_applied}
    out: list[FaultWindow] = []
    for i, f in enumerate(faults):
        if f.kind in closing:
            continue  # drawn as the end of the window it closes
        label, end = f.label(), None
        if (round(f.at, 6), f.kind, f.target) in skipped:
            label += " (no effect)"
        elif getattr(f, "duration", None) is not None:
            end = f.at + f.duration
        elif f.until_end:
            end = duration
            for g in faults[i + 1:]:
                if g.kind in f.undone_by and g.target == f.target and g.at >= f.at:
                    end = g.at
                    label += f" until {g.kind}"
                    break
        out.append(FaultWindow(len(out) + 1, f.kind, f.target, f.at, None if end is None else min(end, duration),
                               label, f.colour))
    return out
