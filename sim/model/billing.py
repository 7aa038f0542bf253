"""Billable instance time of one service, for both Cloud Run billing settings (the `cost` section).

- instance-based billing: each instance from its start request to its stop (or the end of the run);
- request-based billing (Cloud Run's default): each instance while it starts (`pricing.billed_start`:
  from its container's start to ready by default; from the start request with `request`) and while it
  has at least one request in flight, each busy interval rounded up to 100 ms ("rounded up
  to the nearest 100 millisecond", cloud.google.com/run/pricing; our reading: per busy interval of an
  instance), the rounding never counting the same time twice nor past the instance's stop;
- request-based billing, idle minimum instances: Cloud Run bills the instances kept idle by
  `min_instances` at its idle rate (cloud.google.com/run/pricing; docs/configuring/min-instances: with
  min-instances 10 and 6 active instances, 4 are idle). At each moment the idle instances billed are
  min(ready, min_instances) - min(billed busy, min_instances): busy instances count towards the minimum
  first, idle ones fill the rest of it, and idle instances above the minimum (kept only by idle_retention,
  the platform's choice) are not billed. An instance counts as busy while a request is in flight and until
  its busy span's rounding ends, so no time is billed at both rates.

Only instances that became ready are billed (a failed start never ran its container; warm_start instances
are ready at 0), and only time from `warmup` on, like every summary figure. Shutdown grace after SIGTERM is
not modelled. The request path calls `busy_started` when an instance takes its first request (once per busy
interval); the pool calls `busy_ended` when it runs empty, `instance_ready` and `instance_stopped`.
"""
from __future__ import annotations

import math
from heapq import heappop, heappush

ROUNDING_S = 0.1


class BillingClock:
    __slots__ = ("warmup", "rounding", "min_instances", "from_container", "startup_s", "busy_s", "lifetime_s",
                 "idle_min_s", "_ready", "_busy", "_since", "_tails")

    def __init__(self, warmup: float, rounding: float = ROUNDING_S, min_instances: int = 0,
                 billed_start: str = "container"):
        self.warmup = warmup
        self.from_container = billed_start == "container"   # else from the start request
        self.rounding = rounding     # pricing.billing_rounding
        self.min_instances = min_instances   # 0: no idle minimum instance is billed, nothing to count
        self.startup_s = 0.0        # request-based: starting time of instances that became ready
        self.busy_s = 0.0           # request-based: time with >= 1 request in flight, rounded
        self.lifetime_s = 0.0       # instance-based: start request to stop
        self.idle_min_s = 0.0       # request-based: idle minimum instances, instance-seconds
        self._ready = 0             # ready instances
        self._busy = 0              # of them, billed busy now (a request in flight, or its rounding)
        self._since = 0.0           # the two counts hold since then
        self._tails: list = []      # (billed_until, id, instance): where a busy span's rounding ends

    def _clipped(self, a: float, b: float) -> float:
        return max(0.0, b - max(a, self.warmup))

    # -- idle minimum instances: the counts as a step function ------------------------------------------
    def _accrue(self, now: float) -> None:
        """Idle minimum-instance time from the last change to `now` (min() inlined: once per busy span)."""
        m, ready, busy = self.min_instances, self._ready, self._busy
        idle = (ready if ready < m else m) - (busy if busy < m else m)
        if idle:
            since = self._since if self._since > self.warmup else self.warmup
            if now > since:
                self.idle_min_s += idle * (now - since)
        self._since = now

    def _advance(self, now: float) -> None:
        """Idle minimum-instance time up to `now`, ending the busy spans whose rounding ended before."""
        tails = self._tails
        while tails and tails[0][0] <= now:
            until, _, inst = heappop(tails)
            # Stale when a later span extended the billing, or began before `until` and still runs.
            if inst.billing_busy and inst.billed_until == until and (inst.in_flight == 0 or inst.busy_since >= until):
                self._accrue(until)
                inst.billing_busy = False
                self._busy -= 1
        self._accrue(now)

    def _not_busy(self, inst) -> None:
        if inst.billing_busy:
            inst.billing_busy = False
            self._busy -= 1

    # -- events -----------------------------------------------------------------------------------------
    def instance_ready(self, inst, now: float) -> None:
        """The instance became ready (warm_start: at 0, with no start billed)."""
        if inst.requested_at is not None:
            began = inst.container_started_at if self.from_container else inst.requested_at
            self.startup_s += self._clipped(inst.requested_at if began is None else began, now)
        if self.min_instances:
            self._advance(now)
            self._ready += 1

    def busy_started(self, inst, now: float) -> None:
        """The instance took a request while it had none."""
        inst.busy_since = now
        if self.min_instances:
            self._advance(now)                      # ends the rounding spans due by now, this one's too
            if not inst.billing_busy:               # else still within its last span's rounding
                inst.billing_busy = True
                self._busy += 1

    def busy_ended(self, inst, now: float, rounded: bool = True) -> None:
        """The instance's last request left at `now` (rounded: False when it was shut down under them)."""
        begin = max(inst.busy_since, self.warmup, inst.billed_until)
        if now > begin:
            span = now - begin
            if rounded and self.rounding > 0:
                span = math.ceil(span / self.rounding - 1e-9) * self.rounding
            self.busy_s += span
            inst.billed_until = begin + span
        if self.min_instances:
            self._advance(now)
            if inst.billed_until > now:             # busy until its rounding ends
                heappush(self._tails, (inst.billed_until, inst.id, inst))
            else:
                self._not_busy(inst)

    def instance_stopped(self, inst, now: float) -> None:
        """Lifetime of an instance that became ready; rounding never bills past its stop."""
        if inst.ready_at is None:
            return
        if inst.in_flight > 0:
            self.busy_ended(inst, now, rounded=False)
        if inst.billed_until > now:
            self.busy_s -= inst.billed_until - now
            inst.billed_until = now
        if self.min_instances:
            self._advance(now)
            self._not_busy(inst)
            self._ready -= 1
        started = inst.ready_at if inst.requested_at is None else inst.requested_at    # warm_start: ready at 0
        self.lifetime_s += self._clipped(started, now)

    def close(self, t_end: float, running) -> dict:
        """Bill the instances still running at `t_end`; the billable seconds of each setting and the idle
        minimum-instance seconds (request-based billing's idle rate)."""
        for inst in running:
            self.instance_stopped(inst, t_end)
        if self.min_instances:
            self._advance(t_end)
        return {"request": self.startup_s + self.busy_s, "instance": self.lifetime_s, "idle_min": self.idle_min_s}
