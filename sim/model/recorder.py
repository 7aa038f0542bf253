"""What one service's run records: per-bin counters, levels sampled at bin ends, and summary tallies.

Summary figures count what happens from `warmup` on (requests by arrival time, starts by request time);
the time series covers the whole run. Nothing here grows with the number of requests.
"""
from __future__ import annotations

import math

from ..metrics import QuantileSketch, TimeWeighted

COUNTERS = ("arrivals", "served", "failed_429", "failed_504", "failed_shutdown", "cold_starts",
            "start_failures", "kms_operations", "kms_resource_exhausted", "kms_errors")
LEVELS = ("pending", "in_flight", "instances_starting", "instances_ready", "instances_desired", "key_usable",
          "instances_parked")
START_FAILURES = ("key_disabled", "key_destroyed", "key_destroy_scheduled", "quota_exceeded",
                  "permission_denied", "ekm_non_retryable")


class ServiceRecorder:
    def __init__(self, name: str, duration: float, interval: float, warmup: float):
        self.name = name
        self.warmup = warmup
        self.interval = interval
        self.inv_interval = 1.0 / interval
        n = math.ceil(duration / interval - 1e-9) + 1     # one spare bin for events at exactly `duration`
        self.n_bins = n - 1
        for c in COUNTERS:
            setattr(self, c, [0] * n)
        self.levels = {c: [0] * n for c in LEVELS}
        self.totals = {"arrived": 0, "served": 0, "failed_429": 0, "failed_504": 0, "failed_shutdown": 0}
        self.latency = QuantileSketch()
        self.pending_time = QuantileSketch()
        self.cold_start = QuantileSketch()
        self.kms_wait = QuantileSketch()
        self.starts_failed = {k: 0 for k in START_FAILURES}
        self.shut_down_by_key_revocation = 0
        self.cold_starts_count = 0
        self.ready = TimeWeighted(warmup)
        self.desired = TimeWeighted(warmup)
        self.shortfall = TimeWeighted(warmup)
        self.ready_steps: list[tuple[float, int]] = [(0.0, 0)]
        self.instances: list = []

    def bin(self, t: float) -> int:
        return int(t * self.inv_interval)

    # -- events ------------------------------------------------------------------------------------------
    def failed(self, t: float, arrival: float, kind: str) -> None:
        getattr(self, kind)[int(t * self.inv_interval)] += 1
        if arrival >= self.warmup:
            self.totals[kind] += 1

    def instance_ready(self, t: float, inst) -> None:
        self.cold_starts[self.bin(t)] += 1
        if inst.requested_at >= self.warmup:
            self.cold_starts_count += 1
            self.cold_start.add(inst.startup_s)
            self.kms_wait.add(inst.kms_wait_s)

    def start_failed(self, t: float, inst, failure: str) -> None:
        self.start_failures[self.bin(t)] += 1
        if inst.requested_at >= self.warmup:
            self.starts_failed[failure] += 1

    def kms_operation(self, t: float, code: int) -> None:
        b = self.bin(t)
        self.kms_operations[b] += 1
        if code == 8:
            self.kms_resource_exhausted[b] += 1
        if code:
            self.kms_errors[b] += 1

    def capacity(self, t: float, ready: int, desired: int) -> None:
        if ready != self.ready.level:
            self.ready_steps.append((t, ready))
        self.ready.set(t, ready)
        self.desired.set(t, desired)
        self.shortfall.set(t, max(0, desired - ready))

    def sample_levels(self, b: int, values: dict) -> None:
        for k, v in values.items():
            self.levels[k][b] = v

    # -- end of run --------------------------------------------------------------------------------------
    def summary(self, t_end: float, in_flight_at_end: int) -> dict:
        span = max(t_end - self.warmup, 1e-12)
        for level in (self.ready, self.desired, self.shortfall):
            level.close(t_end)
        desired_s = self.desired.area
        served = self.totals["served"]
        return {
            "requests": {**self.totals, "in_flight_at_end": in_flight_at_end,
                         "throughput_per_s": served / span},
            "latency_s": self.latency.summary(),
            "pending_s": self.pending_time.summary(),
            "cold_starts": {"count": self.cold_starts_count,
                            "latency_s": self.cold_start.summary(with_max=True),
                            "kms_wait_s": self.kms_wait.summary(with_max=True)},
            "instance_starts_failed": dict(self.starts_failed),
            "instances": {"mean_ready": self.ready.area / span, "peak_ready": self.ready.peak,
                          "shut_down_by_key_revocation": self.shut_down_by_key_revocation},
            "capacity": {"desired_instance_s": desired_s, "ready_instance_s": self.ready.area,
                         "shortfall_instance_s": self.shortfall.area,
                         "shortfall_fraction": self.shortfall.area / desired_s if desired_s > 0 else 0.0},
        }
