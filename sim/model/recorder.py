"""What one service's run records, with the three recorders of recording.py.

Summary figures count what happens from `warmup` on (requests by arrival time, starts by request time);
the time series covers the whole run. Each room records the events it owns through the methods below,
or, on the request path, through the counters directly (see requests.py).
"""
from __future__ import annotations

import math

from ..metrics import TimeWeighted
from .billing import BillingClock
from .failures import StartFailure
from .recording import ArrivalCounter, Counter, Gauges, Tally, n_bins
from .windows import REQUEST_COUNTS, WindowLatency, windows_section

# The request counters also count per second of arrival (windows); summary name -> counter.
BY_ARRIVAL = dict(zip(REQUEST_COUNTS, ("arrivals", "served", "failed_429", "failed_504", "failed_shutdown")))
COUNTERS = ("arrivals", "served", "failed_429", "failed_504", "failed_shutdown", "cold_starts",
            "start_failures", "kms_operations", "kms_resource_exhausted", "kms_errors")
LEVELS = ("pending", "in_flight", "instances_starting", "instances_ready", "instances_desired", "key_usable",
          "instances_parked", "instances_cpu_saturated")


class ServiceRecorder:
    def __init__(self, name: str, duration: float, interval: float, warmup: float, billing_rounding: float = 0.1,
                 idle_billed_min: int = 0, windows: dict | None = None, peak_hour: bool = False,
                 billed_start: str = "container"):
        """windows: name -> whole-second span of the windows known before the run (sim.windows.resolved_spans);
        peak_hour: also find and record the busiest hour."""
        self.name = name
        self.warmup = warmup
        self.interval = interval
        self.n_bins = n_bins(duration, interval)
        seconds = int(math.ceil(duration)) + 2
        for c in COUNTERS:
            setattr(self, c, ArrivalCounter(self.n_bins, interval, warmup, seconds) if c in BY_ARRIVAL.values()
                    else Counter(self.n_bins, interval, warmup))
        self.window_latency = WindowLatency(windows or {}, peak_hour)
        self.capacity_steps: list[tuple[float, int, int]] = [(0.0, 0, 0)]   # (t, desired, shortfall) changes
        self.gauges = Gauges(LEVELS, self.n_bins)
        self.latency = Tally(warmup)
        self.pending_time = Tally(warmup)
        self.cold_start = Tally(warmup)
        self.kms_wait = Tally(warmup)
        self.starts_failed = {f: 0 for f in StartFailure}
        self.shut_down_by_key_revocation = 0        # ready instances stopped by the countdown
        self.starts_aborted_by_revocation = 0        # starting instances stopped by it
        self.ready = TimeWeighted(warmup)
        self.desired = TimeWeighted(warmup)
        self.shortfall = TimeWeighted(warmup)
        self.saturated = TimeWeighted(warmup)        # instances whose CPU demand exceeds their vCPUs
        self.ready_steps: list[tuple[float, int]] = [(0.0, 0)]
        # billable instance time (cost); idle_billed_min: min_instances under request-based billing, else 0
        self.billing = BillingClock(warmup, billing_rounding, idle_billed_min, billed_start)

    # -- events ------------------------------------------------------------------------------------------
    def instance_ready(self, t: float, inst) -> None:
        self.cold_starts.add(t, inst.requested_at)
        self.billing.instance_ready(inst, t)
        self.cold_start.add(inst.requested_at, inst.startup_s)
        self.kms_wait.add(inst.requested_at, inst.kms_wait_s)

    def start_failed(self, t: float, inst, failure: StartFailure) -> None:
        self.start_failures.add(t, inst.requested_at)
        if inst.requested_at >= self.warmup:
            self.starts_failed[failure] += 1

    def instance_shut_down_by_revocation(self, ready: bool) -> None:
        if ready:
            self.shut_down_by_key_revocation += 1
        else:
            self.starts_aborted_by_revocation += 1

    def kms_operation(self, t: float, code: int) -> None:
        b = int(t * self.kms_operations.inv_interval)
        self.kms_operations.bins[b] += 1
        if code == 8:
            self.kms_resource_exhausted.bins[b] += 1
        if code:
            self.kms_errors.bins[b] += 1

    def capacity(self, t: float, ready: int, desired: int) -> None:
        if ready != self.ready.level:
            self.ready_steps.append((t, ready))
        self.ready.set(t, ready)
        self.desired.set(t, desired)
        self.shortfall.set(t, max(0, desired - ready))
        step = (t, desired, max(0, desired - ready))
        if step[1:] != self.capacity_steps[-1][1:]:
            self.capacity_steps.append(step)

    def sample(self, b: int, values: dict) -> None:
        self.gauges.sample(b, values)

    # -- end of run --------------------------------------------------------------------------------------
    def timeseries(self) -> dict:
        """column -> one value per bin: the counters, then the levels."""
        n = self.n_bins
        return {**{c: getattr(self, c).bins[:n] for c in COUNTERS},
                **{c: self.gauges.columns[c][:n] for c in LEVELS}}

    def sections(self, t_end: float) -> dict:
        """What the recorder contributes to the service summary (see summary.py for the whole)."""
        span = max(t_end - self.warmup, 1e-12)
        for level in (self.ready, self.desired, self.shortfall, self.saturated):
            level.close(t_end)
        desired_s = self.desired.area
        return {
            "requests": {"arrived": self.arrivals.total, "served": self.served.total,
                         "failed_429": self.failed_429.total, "failed_504": self.failed_504.total,
                         "failed_shutdown": self.failed_shutdown.total,
                         "throughput_per_s": self.served.total / span},
            "latency_s": self.latency.summary(),
            "pending_s": self.pending_time.summary(),
            "cold_starts": {"count": self.cold_starts.total,
                            "latency_s": self.cold_start.summary(with_max=True),
                            "kms_wait_s": self.kms_wait.summary(with_max=True)},
            "instance_starts_failed": {f.value: n for f, n in self.starts_failed.items()},
            "instances": {"mean_ready": self.ready.area / span, "peak_ready": self.ready.peak,
                          "shut_down_by_key_revocation": self.shut_down_by_key_revocation,
                          "starts_aborted_by_revocation": self.starts_aborted_by_revocation},
            "capacity": {"desired_instance_s": desired_s, "ready_instance_s": self.ready.area,
                         "shortfall_instance_s": self.shortfall.area,
                         "shortfall_fraction": self.shortfall.area / desired_s if desired_s > 0 else 0.0},
            "cpu": {"saturated_instance_s": self.saturated.area},
            "windows": windows_section({k: getattr(self, c) for k, c in BY_ARRIVAL.items()}, self.window_latency,
                                       self.capacity_steps, t_end),
        }
