"""Warnings: scenarios that validate but cannot mean what they say.

A warning never stops anything (the exit status is unchanged): it is one line on stderr,
`warning: FILE: key.path: what is odd, and what was probably meant`, printed by `sim validate` and at the
start of `sim run` (and by any command that loads its scenario through `load_with_warnings`).

Each check is a small function registered in `CHECKS` (name -> function of a `Context`, yielding
(key path, message) pairs); adding one is writing one function with the `@check` decorator. A check that
needs the file as written (before durations become seconds) reads `context.raw`, which is None for a
scenario built in code. Like the rest of the package this module needs neither SimPy, SciPy nor matplotlib.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sim.model.autoscaler import steady_instances
from sim.scenario.constants import path_text
from sim.scenario.faults import (
    DeployFault, EkmLatency, EkmOutage, FaultBase, IamFault, KeyFault, KmsBackgroundLoad, QuotaChange,
)
from sim.scenario.io import read_scenario_data, scenario_from_dict
from sim.scenario.models import Scenario, Traffic
from sim.units import InputError, format_duration, format_number, parse_duration

Finding = tuple[tuple, str]  # (key path, message)

# A service time or start phase of this many seconds or more, written as a bare number, is more often
# milliseconds meant than seconds (a request of 80 s, an image fetch of 200 s are rare).
BARE_SECONDS_SUSPECT = 30.0
# min_instances above this many times the instances the peak rate needs is flagged (a heuristic: the
# planner may keep instances warm on purpose, but 3x the need at the busiest moment is mostly idle).
MIN_INSTANCES_MARGIN = 3.0
# A run that starts empty at a rate needing more than this many instances over min_instances opens with a burst of
# cold starts (and their key operations) that a service already serving that rate would not have (a heuristic).
COLD_BURST_INSTANCES = 10


@dataclass(frozen=True)
class Context:
    """What a check reads: the scenario, the file's mapping as written (None when built in code), and the
    ids of the keys some service or deploy uses."""

    scenario: Scenario
    raw: Mapping | None
    used_keys: frozenset[str]

    def faults(self) -> list[tuple[int, FaultBase]]:
        """(index in the file, fault): a Scenario holds its faults in time order, the file in its own."""
        faults = self.scenario.faults
        written = self.raw.get("faults") if isinstance(self.raw, Mapping) else None
        if not isinstance(written, list) or len(written) != len(faults):
            return list(enumerate(faults))
        try:
            at = [parse_duration(f["at"]) for f in written]
        except (InputError, KeyError, TypeError):
            return list(enumerate(faults))
        order = sorted(range(len(written)), key=lambda i: at[i])   # stable, like the Scenario's sort
        return [(order[k], fault) for k, fault in enumerate(faults)]

    def used_levels(self, project: str | None = None) -> set[str]:
        """Quota pool levels ("hsm", "external") of the used keys, in `project` (None: any project)."""
        levels = set()
        for key_id in self.used_keys:
            key = self.scenario.key(key_id)
            if project in (None, key.project) and key.protection != "software":
                levels.add("external" if key.is_external else "hsm")
        return levels


CHECKS: dict[str, Callable[[Context], Iterable[Finding]]] = {}


def check(name: str):
    """Registers a check under `name` (the order of registration is the order of the lines)."""
    def register(function):
        CHECKS[name] = function
        return function
    return register


# ---------------------------------------------------------------------------------------------------------
# Traffic as the checks need it: its points, its peak and when it ends for good.

def _rate_points(traffic: Traffic) -> list[tuple[float, float]]:
    if traffic.trace_points is not None:
        return list(traffic.trace_points)
    if isinstance(traffic.rate, (int, float)):
        return [(0.0, float(traffic.rate))]
    return [(float(t), float(r)) for t, r in traffic.rate]


def peak_rate(traffic: Traffic) -> float:
    """The highest rate the traffic reaches, requests per second (the daily pattern at its crest)."""
    peak = max((r for _, r in _rate_points(traffic)), default=0.0)
    return peak * (1.0 + traffic.daily_pattern.amplitude) if traffic.daily_pattern else peak


def traffic_end(traffic: Traffic) -> float | None:
    """When the rate becomes 0 for good (the rate holds its last value after the last point); None if never."""
    points = _rate_points(traffic)
    end = None
    for t, rate in reversed(points):
        if rate > 0:
            break
        end = t
    return end


def _used_keys(scenario: Scenario) -> frozenset[str]:
    used = {s.encryption_key for s in scenario.services if s.encryption_key is not None}
    used |= {f.encryption_key for f in scenario.faults
             if isinstance(f, DeployFault) and not f.keep_current_key and f.encryption_key is not None}
    return frozenset(used)


# ---------------------------------------------------------------------------------------------------------
# The checks.

@check("fault-cannot-act")
def faults_that_cannot_act(ctx: Context) -> Iterable[Finding]:
    """A fault on a key nobody uses, an EKM fault without an external key in use, a fault after all traffic."""
    sc = ctx.scenario
    external_used = any(sc.key(k).is_external for k in ctx.used_keys)
    ends = [traffic_end(s.traffic) for s in sc.services]
    all_ended = max(ends) if all(e is not None for e in ends) else None
    for i, fault in ctx.faults():
        key = getattr(fault, "key", None)
        if isinstance(fault, (EkmOutage, EkmLatency)) and key is None and not external_used:
            yield ("faults", i, "kind"), (f"{fault.kind} acts on external keys, and no service or deploy uses "
                                          "one: it cannot act")
        elif (isinstance(fault, (EkmOutage, EkmLatency, KeyFault, IamFault)) and key is not None
              and key not in ctx.used_keys):
            yield ("faults", i, "key"), (f"no service or deploy uses key {key!r}: this {fault.kind} "
                                         "cannot act")
        if fault.kind == "kms-region-busy" and not ("hsm" in ctx.used_levels()
                                                    and sc.kms.quota.hsm_enforcement == "soft"):
            why = ("kms.quota.hsm_enforcement is hard" if "hsm" in ctx.used_levels()
                   else "no service or deploy uses an HSM key")
            yield ("faults", i, "kind"), (f"kms-region-busy takes away the headroom of soft-enforced HSM quotas "
                                          f"(EKM is always hard), and {why}: it cannot act")
        if all_ended is not None and fault.at >= all_ended:
            yield ("faults", i, "at"), (f"at {format_duration(fault.at)}, after every service's traffic has "
                                        f"ended ({format_duration(all_ended)}): no request will meet it")


# The EKM error domain on which the external key manager also disables the key version (Cloud EKM error
# reference, cloud.google.com/kms/docs/reference/ekm_errors); it stays disabled until someone enables it.
EKM_DISABLES_KEY = "EXTERNAL_PERMISSION_DENIED"


@check("key-left-disabled")
def key_left_disabled(ctx: Context) -> Iterable[Finding]:
    """An EKM outage with EXTERNAL_PERMISSION_DENIED and no later key-enable: the key stays disabled to the end."""
    sc = ctx.scenario
    for i, fault in ctx.faults():
        if not isinstance(fault, EkmOutage) or fault.error != EKM_DISABLES_KEY:
            continue
        keys = ([fault.key] if fault.key is not None else
                sorted(k for k in ctx.used_keys if sc.key(k).is_external))
        for key in keys:
            if key not in ctx.used_keys:
                continue
            enabled = any(isinstance(f, KeyFault) and f.kind == "key-enable" and f.key == key and f.at >= fault.at
                          for f in sc.faults)
            if not enabled:
                yield ("faults", i, "error"), (
                    f"{EKM_DISABLES_KEY} makes the external key manager disable key {key!r} at the first call in "
                    f"the outage; it stays disabled after the outage ends ({format_duration(fault.at + fault.duration)})"
                    f" until a key-enable, and this scenario has none after {format_duration(fault.at)}: no instance "
                    "starts to the end of the run (add {at: ..., kind: key-enable, key: " + key + "} if it is "
                    "re-enabled)")


@check("fault-past-end")
def faults_past_the_end(ctx: Context) -> Iterable[Finding]:
    """A fault whose duration runs past the end of the run: what happens after is not simulated."""
    end = ctx.scenario.duration
    for i, fault in ctx.faults():
        duration = getattr(fault, "duration", None)
        if duration is not None and fault.at + duration > end + 1e-9:
            yield ("faults", i, "duration"), (
                f"ends at {format_duration(fault.at + duration)}, after the end of the run "
                f"({format_duration(end)}): the run stops while it lasts, so neither its end nor the recovery "
                "after it is simulated")


@check("cpu-oversubscribed")
def requests_that_slow_each_other(ctx: Context) -> Iterable[Finding]:
    """cpu_per_request x concurrency above cpu where the autoscaler lets an instance fill up.

    The cloud-run policy also scales on CPU (target_cpu_utilization): it adds instances before theirs stay
    saturated, so for it only a request that alone needs more than the instance is flagged; knative and
    per-request scale on concurrency only, and fill each instance up to it."""
    for i, s in enumerate(ctx.scenario.services):
        if s.cpu_model != "shared" or s.cpu_per_request <= 0:
            continue
        demand = s.cpu_per_request * s.concurrency
        at_once = s.cpu / s.cpu_per_request
        if s.cpu_per_request > s.cpu:
            yield ("services", i, "cpu_per_request"), (
                f"{format_number(s.cpu_per_request)} vCPU per request is more than the instance's cpu "
                f"({format_number(s.cpu)}): with cpu_model shared even a request alone runs slower than its "
                "service_time")
        elif demand > s.cpu and s.autoscaling.policy != "cloud-run":
            yield ("services", i, "cpu_per_request"), (
                f"{format_number(s.cpu_per_request)} vCPU x concurrency {s.concurrency} = "
                f"{format_number(round(demand, 6))} vCPU at full concurrency, above cpu {format_number(s.cpu)}: "
                f"with cpu_model shared, more than {format_number(round(at_once, 3))} requests at once on an "
                f"instance slow each other down ({s.autoscaling.policy} scales on concurrency only)")


@check("background-load")
def background_load(ctx: Context) -> Iterable[Finding]:
    """Background load on a pool no service uses, or at or above its pool's quota."""
    sc = ctx.scenario
    quota = sc.kms.quota
    base_quota = {"hsm": quota.hsm_requests_per_minute, "external": quota.external_requests_per_minute}
    kms = ctx.raw.get("kms") if isinstance(ctx.raw, Mapping) else None
    written = kms.get("quota") if isinstance(kms, Mapping) else None
    plain = isinstance(written, Mapping) and not isinstance(written.get("background_rps"), (Mapping, type(None)))
    for level in ("hsm", "external"):
        rps = quota.background_rps.for_pool(level)
        if rps <= 0:
            continue
        loc = ("kms", "quota", "background_rps") + (() if plain else (level,))
        if level not in ctx.used_levels():
            yield loc, _unused_pool_text(level, None)
        elif rps * 60 >= base_quota[level]:
            yield loc, _above_quota_text(rps, level, base_quota[level])
    loads = [f for f in sc.faults if isinstance(f, KmsBackgroundLoad)]
    for i, fault in ctx.faults():
        if not isinstance(fault, KmsBackgroundLoad):
            continue
        if fault.pool not in ctx.used_levels(fault.project):
            yield ("faults", i, "pool"), _unused_pool_text(fault.pool, fault.project)
            continue
        total = quota.background_rps.for_pool(fault.pool) + sum(
            g.rps for g in loads if g.pool == fault.pool and g.at <= fault.at < g.at + g.duration
            and (g.project is None or fault.project is None or g.project == fault.project))
        limit = _quota_at(sc, fault.pool, fault.at, base_quota[fault.pool])
        if total * 60 >= limit:
            yield ("faults", i, "rps"), _above_quota_text(total, fault.pool, limit, during=True)


def _unused_pool_text(level: str, project: str | None) -> str:
    where = f" in project {project}" if project else ""
    return (f"background load on the {level} quota pool, but no service or deploy uses an {level} key{where}: "
            "it competes with nothing")


def _above_quota_text(rps: float, level: str, limit: float, during: bool = False) -> str:
    what = "background load during this fault" if during else "background load"
    return (f"{what} of {format_number(round(rps, 6))}/s = {format_number(round(rps * 60, 6))}/min is at or above "
            f"the {level} quota ({format_number(limit)}/min): the services' key operations will find the pool "
            "used up")


def _quota_at(sc: Scenario, level: str, t: float, base: float) -> float:
    """The quota of `level` in force at time t (the latest quota-change covering t, else the file's)."""
    limit = base
    for f in sc.faults:
        value = getattr(f, f"{level}_requests_per_minute", None) if isinstance(f, QuotaChange) else None
        if value is not None and f.at <= t and (f.duration is None or t < f.at + f.duration):
            limit = value
    return limit


_DURATION_PARAMETERS = ("value", "mean", "median", "p99", "low", "high")
_PHASES = ("schedule", "image_fetch", "container_start", "app_init")


@check("bare-duration")
def bare_durations(ctx: Context) -> Iterable[Finding]:
    """A service time or start phase of 30 s or more written as a bare number (probably milliseconds)."""
    services = ctx.raw.get("services") if isinstance(ctx.raw, Mapping) else None
    for i, service in enumerate(services if isinstance(services, list) else ()):
        if not isinstance(service, Mapping):
            continue
        startup = service.get("startup")
        fields = [(("service_time",), service.get("service_time"))]
        if isinstance(startup, Mapping):
            fields += [(("startup", phase), startup.get(phase)) for phase in _PHASES]
        for loc, value in fields:
            for sub, number in _bare_numbers(value):
                if number >= BARE_SECONDS_SUSPECT:
                    shown = format_number(number)
                    yield ("services", i, *loc, *sub), (f"bare numbers are seconds; {shown} s: did you mean "
                                                        f"{shown}ms?")


def _bare_numbers(value) -> Iterable[tuple[tuple, float]]:
    """(sub-path, number) of each duration written without a unit in a duration or distribution value."""
    def is_number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if is_number(value):
        yield (), float(value)
    elif isinstance(value, Mapping):
        for name in _DURATION_PARAMETERS:
            if is_number(value.get(name)):
                yield (name,), float(value[name])
        values = value.get("values")
        if isinstance(values, list):
            for k, v in enumerate(values):
                if is_number(v):
                    yield ("values", k), float(v)


@check("min-instances-idle")
def min_instances_above_need(ctx: Context) -> Iterable[Finding]:
    """min_instances more than MIN_INSTANCES_MARGIN x what the autoscaler wants at the peak rate (a heuristic).

    The need is the autoscaler's own steady answer (`steady_instances`, CPU included), the formula of the warm
    start: a warning that counted concurrency only would contradict `sim solve` on a CPU-bound service."""
    for i, s in enumerate(ctx.scenario.services):
        peak = peak_rate(s.traffic)
        needed = steady_instances(s, peak)
        if s.min_instances > MIN_INSTANCES_MARGIN * max(needed, 1):
            yield ("services", i, "min_instances"), (
                f"{s.min_instances} is more than {format_number(MIN_INSTANCES_MARGIN)}x the {needed} instance(s) "
                f"the {s.autoscaling.policy} autoscaler wants at the peak rate ({_need_text(s, peak)}; a "
                "heuristic): most will idle")


def _need_text(s, peak: float) -> str:
    """How the need was computed, in the words of the policy's formula."""
    in_flight = peak * s.service_time.mean
    text = (f"{format_number(round(peak, 6))}/s x {format_duration(s.service_time.mean)} mean service time = "
            f"{format_number(round(in_flight, 3))} in flight")
    a = s.autoscaling
    if a.policy == "cloud-run":
        text += f" / (concurrency {s.concurrency} x {format_number(a.target_concurrency_utilization)})"
        if s.cpu_per_request > 0:
            text += (f", or x {format_number(s.cpu_per_request)} vCPU per request / (cpu {format_number(s.cpu)} x "
                     f"{format_number(a.target_cpu_utilization)}), the larger")
    elif a.policy == "knative":
        text += f" / (concurrency {s.concurrency} x {format_number(a.target_utilization)})"
    else:
        text += f" / concurrency {s.concurrency}"
    return text + ", rounded up"


@check("cold-start-burst")
def cold_start_burst(ctx: Context) -> Iterable[Finding]:
    """A service that starts empty (no warm_start, no warmup) at a rate that needs many instances at once."""
    sc = ctx.scenario
    if sc.warmup > 0:
        return
    for i, s in enumerate(sc.services):
        if s.warm_start:
            continue
        points = _rate_points(s.traffic)
        initial = points[0][1] if points and points[0][0] <= 0 else 0.0
        needed = min(s.max_instances, steady_instances(s, initial))
        if needed - s.min_instances > COLD_BURST_INSTANCES:
            yield ("services", i, "warm_start"), (
                f"the run starts empty at {format_number(round(initial, 6))}/s, which needs {needed} instances "
                f"({s.min_instances} minimum): it opens with a burst of about {needed - s.min_instances} cold "
                "starts and their key operations that a service already serving this rate would not have (it can "
                "set a quota recommendation); set warm_start: true, or a warmup to leave it out of the figures")


@check("shutdown-not-whole-hours")
def shutdown_after_outside_whole_hours(ctx: Context) -> Iterable[Finding]:
    """shutdown_after of a shut-down service that the platform would not accept: Cloud Run's
    encryptionKeyShutdownDuration is whole hours, at least 1 h (a what-if stays possible)."""
    for i, s in enumerate(ctx.scenario.services):
        hours = s.shutdown_after / 3600.0
        if s.revocation_action == "shut-down" and (hours < 1 or abs(hours - round(hours)) > 1e-9):
            yield ("services", i, "shutdown_after"), (
                f"{format_duration(s.shutdown_after)}: Cloud Run accepts only whole hours from 1h "
                "(encryptionKeyShutdownDuration, --encryption-key-shutdown-hours); simulated as written, as a "
                "what-if")


@check("concurrency-below-1-vcpu")
def concurrency_below_one_vcpu(ctx: Context) -> Iterable[Finding]:
    """Cloud Run needs concurrency 1 (and request-based billing) when an instance has less than 1 vCPU
    (cloud.google.com/run/docs/configuring/services/cpu); a scenario may still simulate it, as a what-if."""
    for i, s in enumerate(ctx.scenario.services):
        if s.cpu < 1 and s.concurrency > 1:
            yield ("services", i, "concurrency"), (
                f"{s.concurrency} with cpu {format_number(s.cpu)}: Cloud Run needs concurrency 1 below 1 vCPU per "
                "instance; simulated as written, as a what-if")
        if s.cpu < 1 and s.billing == "instance":
            yield ("services", i, "billing"), (
                f"instance with cpu {format_number(s.cpu)}: Cloud Run's instance-based billing needs 1 vCPU or more "
                "per instance; simulated as written, as a what-if")


# ---------------------------------------------------------------------------------------------------------
# The entry points.

def scenario_warnings(scenario: Scenario, raw: Mapping | None = None, source: str | None = None) -> list[str]:
    """Every warning line of `scenario` (`raw`: the file's mapping as written, for the checks that need it)."""
    if source is None:
        source = str(scenario.source_path) if scenario.source_path else "<scenario>"
    context = Context(scenario, raw, _used_keys(scenario))
    return [f"warning: {source}: {path_text(loc)}: {message}"
            for function in CHECKS.values() for loc, message in function(context)]


def load_with_warnings(path: str | Path, overrides: Mapping | None = None, *, quiet: bool = False) -> Scenario:
    """`load_scenario`, then its warnings printed on stderr (unless `quiet`). Raises ScenarioError."""
    data = read_scenario_data(path, overrides)
    resolved = Path(path).resolve()
    scenario = scenario_from_dict(data, str(path), base_dir=resolved.parent, source_path=resolved)
    if not quiet:
        for line in scenario_warnings(scenario, data, str(path)):
            print(line, file=sys.stderr)
    return scenario
