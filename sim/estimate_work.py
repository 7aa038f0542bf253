"""The work of one run of a scenario, counted in closed form (no SimPy): every kind of event and every
allocation that grows with the scenario, not only the requests (issue 18, point 12).

What a run costs, and what it holds in memory:
- requests: the integral of every service's arrival rate over the simulated time;
- autoscaler ticks: duration / interval per service; a policy that averages windows (cloud-run, knative)
  also scans the window's snapshots at every tick, window / interval of them;
- validation checks of a service with a key: duration / validation_interval;
- instances started at t = 0 (min_instances, or the warm start's count): their starts and their memory;
- background KMS requests of every quota pool (kms.quota.background_rps and kms-background-load faults);
- time-series bins: duration / timeseries_interval per service, a sampling event and ~20 lists slots each;
- the run itself: a fixed cost (building the world, the summary) that a zero-rate run still pays.

Each kind's cost is in request-equivalents: the CPU time of one event divided by the CPU time of one
simulated request of the calibration scenario, measured with benchmarks/estimate_costs.py on the 2-core
machine of benchmarks/RESULTS.md. They are approximations of the code's cost (not model parameters).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

DAY_S = 86400.0

# Cost of one event, in simulated requests (benchmarks/estimate_costs.py; 2026-12-05, 2-core EPYC).
COST = {
    "requests": 1.0,
    "ticks": 0.8,                # one autoscaler decision (per-request policy: 0.45)
    "snapshots": 0.04,           # one window snapshot scanned by a decision (cloud-run, knative)
    "checks": 1.0,               # one validation check (encrypt + decrypt)
    "instances": 10.0,           # one instance started at t = 0 (its start, timers, its row in instances.csv)
    "background": 0.1,           # one background KMS request (drawn per quota window, no SimPy event)
    "bins": 0.3,                 # one time-series bin of one service (a sampling event, the slots)
    "runs": 100.0,               # one run: world, summary, aggregation (about 1 ms)
}
# Memory, in bytes (tracemalloc over one run; the interpreter with its imports is about 110 MB, RESULTS.md).
PROCESS_BYTES = 110e6
BIN_BYTES = 300.0            # one time-series bin of one service (18 counters and gauges, the chart data)
INSTANCE_BYTES = 3.2e3       # one live instance (its object, router entry, log row)
SECOND_BYTES = 5 * 8.0       # one simulated second of one service: its 5 request counters per arrival second
                             # (recording.ArrivalCounter, for the windows), a list slot each
RUN_BYTES = 11e3             # one finished run kept by `sim run` (its summary and recorders), besides its bins
LABELS = {"requests": "requests", "ticks": "autoscaler ticks", "snapshots": "window scans", "checks":
          "validation checks", "instances": "instance starts", "background": "background KMS requests",
          "bins": "time-series bins", "runs": "runs"}


@dataclass
class Work:
    """Counts of each kind of event, summed over runs; `run_bytes`: the memory of the largest run."""
    counts: dict = field(default_factory=lambda: dict.fromkeys(COST, 0.0))
    run_bytes: float = 0.0       # the largest single run (bins and instances), the interpreter excluded
    kept_bytes: float = 0.0      # what `sim run` keeps of all its runs until the end

    @property
    def cost(self) -> float:
        """The work in simulated requests of the calibration scenario."""
        return sum(COST[k] * n for k, n in self.counts.items())

    def add(self, other: "Work", times: float = 1.0) -> None:
        for k, n in other.counts.items():
            self.counts[k] += n * times
        self.run_bytes = max(self.run_bytes, other.run_bytes)
        self.kept_bytes += other.kept_bytes * times

    def main_kinds(self, share: float = 0.25, most: int = 3) -> list[tuple[str, float]]:
        """The kinds besides requests that make at least `share` of the cost (largest first)."""
        total = self.cost or 1.0
        kinds = [(k, n) for k, n in self.counts.items() if k != "requests" and COST[k] * n >= share * total]
        return sorted(kinds, key=lambda kn: -COST[kn[0]] * kn[1])[:most]


# -- the requests: rate integrals -----------------------------------------------------------------------
def _cos_integrals(a: float, b: float, c0: float, c1: float, amplitude: float, peak_at: float) -> float:
    """Integral over [a, b] of (c0 + c1 t) (1 + amplitude cos(w (t - peak_at))), w = 2 pi / day (closed form)."""
    plain = c0 * (b - a) + c1 * (b * b - a * a) / 2
    if not amplitude:
        return plain
    w = 2 * math.pi / DAY_S

    def primitive(t: float) -> float:   # of (c0 + c1 t) cos(w (t - p)): by parts
        u = w * (t - peak_at)
        return (c0 + c1 * t) * math.sin(u) / w + c1 * math.cos(u) / (w * w)
    return plain + amplitude * (primitive(b) - primitive(a))


def rate_integral(traffic, duration: float) -> float:
    """Expected arrivals of one service's traffic over [0, duration]: the integral of its rate.

    The same profile as sim/model/traffic.RateProfile: a constant; [time, rps] points joined by straight
    lines (the last rate holds to the end); a trace as steps (0 before its first point); times the daily
    pattern 1 + amplitude cos(2 pi (t - peak_at) / 24 h).
    """
    daily = traffic.daily_pattern
    amplitude, peak_at = (0.0, 0.0) if daily is None else (float(daily.amplitude), float(daily.peak_at))
    if traffic.trace_points is not None:
        points, step = [tuple(map(float, p)) for p in traffic.trace_points], True
    elif isinstance(traffic.rate, (int, float)):
        points, step = [(0.0, float(traffic.rate))], True
    else:
        points, step = [tuple(map(float, p)) for p in traffic.rate], False
    total = 0.0
    for i, (t0, r0) in enumerate(points):
        t1, r1 = points[i + 1] if i + 1 < len(points) else (math.inf, r0)
        a, b = max(t0, 0.0), min(t1, duration)
        if b <= a:
            continue
        slope = 0.0 if step or math.isinf(t1) else (r1 - r0) / (t1 - t0)
        total += _cos_integrals(a, b, r0 - slope * t0, slope, amplitude, peak_at)
    return max(0.0, total)


def _first_rate(traffic) -> float:
    if traffic.trace_points is not None:
        return float(traffic.trace_points[0][1]) if traffic.trace_points and traffic.trace_points[0][0] <= 0 else 0.0
    return float(traffic.rate) if isinstance(traffic.rate, (int, float)) else float(traffic.rate[0][1])


# -- the other events ----------------------------------------------------------------------------------
def _instances_at_start(spec) -> float:
    """min_instances, or with a warm start about the count the initial rate needs (Little's law)."""
    if not spec.warm_start:
        return float(spec.min_instances)
    busy = _first_rate(spec.traffic) * spec.service_time.mean / (spec.concurrency * 0.6)
    return float(min(spec.max_instances, max(spec.min_instances, math.ceil(busy))))


def _background(scenario) -> float:
    """Background KMS requests over the run, on every quota pool the scenario's keys use."""
    pools = {(k.project, "hsm" if k.protection == "hsm" else "external")
             for k in scenario.keys if k.protection != "software"}
    total = 0.0
    for project, level in pools:
        total += scenario.kms.quota.background_rps.for_pool(level) * scenario.duration
        for f in scenario.faults:
            if f.kind == "kms-background-load" and f.loads(project, level):
                total += f.rps * max(0.0, min(f.at + f.duration, scenario.duration) - f.at)
    return total


def run_work(scenario) -> Work:
    """The work of one run (one world) of `scenario`."""
    work, duration = Work(), scenario.duration
    work.counts["runs"] = 1.0
    work.counts["background"] = _background(scenario)
    instances = 0.0
    for spec in scenario.services:
        a = spec.autoscaling
        ticks = duration / a.interval
        work.counts["requests"] += rate_integral(spec.traffic, duration)
        work.counts["ticks"] += ticks
        if a.policy != "per-request":        # the decision scans its window's snapshots (sim/model/scaler.py)
            work.counts["snapshots"] += ticks * min(ticks, a.window / a.interval)
        if spec.encryption_key is not None:
            work.counts["checks"] += duration / spec.key_operations.validation_interval
        instances += _instances_at_start(spec)
        work.counts["bins"] += math.ceil(duration / scenario.timeseries_interval - 1e-9)
    work.counts["instances"] = instances
    work.run_bytes = (work.counts["bins"] * BIN_BYTES + instances * INSTANCE_BYTES
                      + len(scenario.services) * math.ceil(duration) * SECOND_BYTES)
    work.kept_bytes = work.run_bytes + RUN_BYTES
    return work


def scenario_work(scenario, baseline: bool = True) -> Work:
    """The work of one replication of `scenario`, its fault-free twin included when it runs."""
    one = run_work(scenario)
    if not (baseline and scenario.faults):
        return one
    twin = Work()
    twin.add(one, 2.0)
    twin.run_bytes, twin.kept_bytes = one.run_bytes, one.kept_bytes    # `sim run` keeps only one twin
    return twin
