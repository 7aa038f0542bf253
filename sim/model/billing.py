"""Billable instance time of one service, for both Cloud Run billing settings (the `cost` section).

- instance-based billing: each instance from its start request to its stop (or the end of the run);
- request-based billing (Cloud Run's default): each instance while it starts (start request to ready)
  and while it has at least one request in flight, each busy interval rounded up to 100 ms ("rounded up
  to the nearest 100 millisecond", cloud.google.com/run/pricing; our reading: per busy interval of an
  instance), the rounding never counting the same time twice nor past the instance's stop.

Only instances that became ready are billed (a failed start never ran its container), and only time
from `warmup` on, like every summary figure. Shutdown grace after SIGTERM is not modelled. The request
path marks `inst.busy_since` when an instance takes its first request (one comparison on the hot path);
everything else happens here, once per busy interval.
"""
from __future__ import annotations

import math

ROUNDING_S = 0.1


class BillingClock:
    __slots__ = ("warmup", "rounding", "startup_s", "busy_s", "lifetime_s")

    def __init__(self, warmup: float, rounding: float = ROUNDING_S):
        self.warmup = warmup
        self.rounding = rounding     # pricing.billing_rounding
        self.startup_s = 0.0        # request-based: starting time of instances that became ready
        self.busy_s = 0.0           # request-based: time with >= 1 request in flight, rounded
        self.lifetime_s = 0.0       # instance-based: start request to stop

    def _clipped(self, a: float, b: float) -> float:
        return max(0.0, b - max(a, self.warmup))

    def instance_ready(self, inst, now: float) -> None:
        self.startup_s += self._clipped(inst.requested_at, now)

    def busy_ended(self, inst, now: float, rounded: bool = True) -> None:
        """The instance's last request left at `now` (rounded: False when it was shut down under them)."""
        begin = max(inst.busy_since, self.warmup, inst.billed_until)
        if now <= begin:
            return
        span = now - begin
        if rounded and self.rounding > 0:
            span = math.ceil(span / self.rounding - 1e-9) * self.rounding
        self.busy_s += span
        inst.billed_until = begin + span

    def instance_stopped(self, inst, now: float) -> None:
        """Lifetime of an instance that became ready; rounding never bills past its stop."""
        if inst.ready_at is None:
            return
        if inst.in_flight > 0:
            self.busy_ended(inst, now, rounded=False)
        if inst.billed_until > now:
            self.busy_s -= inst.billed_until - now
            inst.billed_until = now
        started = inst.ready_at if inst.requested_at is None else inst.requested_at    # warm_start: ready at 0
        self.lifetime_s += self._clipped(started, now)

    def close(self, t_end: float, running) -> dict:
        """Bill the instances still running at `t_end`; the billable seconds of each setting."""
        for inst in running:
            self.instance_stopped(inst, t_end)
        return {"request": self.startup_s + self.busy_s, "instance": self.lifetime_s}
