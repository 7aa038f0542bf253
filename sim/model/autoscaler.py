"""Autoscaling policies behind one small interface: `decide(now, signals) -> desired instance count`.

- cloud-run: the documented Cloud Run drivers, the maximum of
  ceil(average concurrency / (concurrency x target_concurrency_utilization)) and
  ceil(average CPU in use / (cpu x target_cpu_utilization)), both averaged over `window`.
- knative: the Knative Pod Autoscaler (knative/serving pkg/autoscaler/scaling/autoscaler.go): stable and
  panic windows, panic mode that never scales down, rate limits per decision, scale to zero after a grace.
- per-request: no metric-driven scaling; the desired count is what the requests present now need.

Concurrency here means requests in flight plus requests pending for a slot: the demand the service sees.
`steady_desired(concurrency, cpu)` is what `decide` settles on when the demand has held those averages for a
whole window (the warm start's instance count); it changes no state.
Besides `decide`, a policy says how its platform behaves around it (class attributes, read by the scaler,
the pool and the request path, so nothing else branches on a policy's name):
- `reads_windows`: the scaler keeps averaging windows for it (per-request reads only the present demand);
- `parks_surplus`: surplus instances are parked at a decision (per-request never scales in that way);
- `keeps_idle_instances`: a drained instance stays warm until idle_retention ends (knative: it stops);
- `always_on_demand`: a request that finds no slot starts an instance, whatever `on_demand` says.
Scale-in itself (which instance stops, and when) is the pool's job; see pool.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

EPS = 1e-9


def _ceil(x: float) -> int:
    return max(0, math.ceil(x - EPS))


@dataclass
class Signals:
    """What the autoscaler sees at a decision."""
    stable_concurrency: float   # average over the (stable) window
    panic_concurrency: float    # average over the knative panic window
    cpu: float                  # average vCPUs in use over the window
    instant_concurrency: int    # in flight + pending right now
    ready: int                  # ready instances


class Policy:
    """The interface, with the defaults of Cloud Run's behaviour."""
    reads_windows = True
    parks_surplus = True
    keeps_idle_instances = True
    always_on_demand = False

    def decide(self, now: float, s: Signals) -> int:
        raise NotImplementedError

    def steady_desired(self, concurrency: float, cpu: float) -> int:
        raise NotImplementedError


class CloudRunPolicy(Policy):
    def __init__(self, svc):
        a = svc.autoscaling
        self.per_instance = svc.concurrency * a.target_concurrency_utilization
        self.cpu_per_instance = svc.cpu * a.target_cpu_utilization

    def decide(self, now: float, s: Signals) -> int:
        return self.steady_desired(s.stable_concurrency, s.cpu)

    def steady_desired(self, concurrency: float, cpu: float) -> int:
        by_concurrency = _ceil(concurrency / self.per_instance)
        by_cpu = _ceil(cpu / self.cpu_per_instance) if self.cpu_per_instance > 0 else 0
        return max(by_concurrency, by_cpu)


class PerRequestPolicy(Policy):
    reads_windows = False
    parks_surplus = False
    always_on_demand = True

    def __init__(self, svc):
        self.concurrency = svc.concurrency

    def decide(self, now: float, s: Signals) -> int:
        return self.steady_desired(s.instant_concurrency, s.cpu)

    def steady_desired(self, concurrency: float, cpu: float) -> int:
        return _ceil(concurrency / self.concurrency)


@dataclass
class KpaState:
    panic_since: float | None = None
    max_panic_pods: int = 0
    last_positive: float = -math.inf


def kpa_desired(state: KpaState, now: float, target: float, stable: float, panic: float, ready: int, *,
                max_scale_up_rate: float, max_scale_down_rate: float, panic_threshold: float,
                stable_window: float) -> int:
    """One KPA decision, as in Knative's autoscaler.go (before scale-to-zero handling)."""
    ready_pods = max(1, ready)
    dspc = math.ceil(stable / target - EPS)
    dppc = math.ceil(panic / target - EPS)
    max_up = math.ceil(max_scale_up_rate * ready_pods)
    max_down = math.floor(ready_pods / max_scale_down_rate)
    desired_stable = min(max(dspc, max_down), max_up)
    desired_panic = min(max(dppc, max_down), max_up)
    over = dppc / ready_pods >= panic_threshold
    if over:
        state.panic_since = now                   # enter panic, or extend it
    elif state.panic_since is not None and state.panic_since + stable_window < now:
        state.panic_since = None                  # more than a stable window without the threshold ends
        state.max_panic_pods = 0                  # panic (Knative: panicTime.Add(StableWindow).Before(now))
    desired = desired_stable
    if state.panic_since is not None:
        desired = max(desired_panic, desired_stable)
        if desired > state.max_panic_pods:
            state.max_panic_pods = desired
        else:
            desired = state.max_panic_pods        # in panic, never scale down
    return desired


class KnativePolicy(Policy):
    keeps_idle_instances = False

    def __init__(self, svc):
        a = svc.autoscaling
        self.a = a
        self.target = svc.concurrency * a.target_utilization
        self.state = KpaState()

    def decide(self, now: float, s: Signals) -> int:
        a = self.a
        desired = kpa_desired(self.state, now, self.target, s.stable_concurrency, s.panic_concurrency, s.ready,
                              max_scale_up_rate=a.max_scale_up_rate, max_scale_down_rate=a.max_scale_down_rate,
                              panic_threshold=a.panic_threshold, stable_window=a.window)
        if desired > 0:
            self.state.last_positive = now
        elif now - self.state.last_positive < a.scale_to_zero_grace and s.ready > 0:
            desired = 1                               # keep one instance until the grace period ends
        return desired

    def steady_desired(self, concurrency: float, cpu: float) -> int:
        return _ceil(concurrency / self.target)       # stable = panic = the demand: no panic, no rate limit


POLICIES = {"cloud-run": CloudRunPolicy, "knative": KnativePolicy, "per-request": PerRequestPolicy}


def make_policy(svc):
    return POLICIES[svc.autoscaling.policy](svc)


def steady_demand(svc, rate: float) -> tuple[float, float]:
    """(requests in flight, vCPUs in use) of a steady `rate` (requests per second): Little's law on the mean
    service time, and that x cpu_per_request."""
    concurrency = rate * svc.service_time.mean
    return concurrency, concurrency * svc.cpu_per_request


def steady_instances(svc, rate: float) -> int:
    """The instances the service's autoscaler settles on at a steady `rate`, not clamped to min/max: the one
    capacity formula for the warm start and for every warning about capacity."""
    return make_policy(svc).steady_desired(*steady_demand(svc, rate))
