"""Know the cost before paying it: every command that simulates estimates its work first (issue 10, point 8).

The work is the number of simulated requests: the integral of every service's arrival rate over the
simulated time (closed form, no SimPy: constant, piecewise-linear and trace rates, times the daily
cosine), times replications, times cells (sweep cells, solver levels, sensitivity arms), doubled for a
scenario with faults when its fault-free twin runs too. The wall time divides it by this machine's speed
(simulated requests per second of one process with a core to itself) and by the workers that can run at
once.

The speed comes from `CMEK_SIM_SPEED` when set, else from a cache file
(`$XDG_CACHE_HOME/cmek-sim/speed.json`, default `~/.cache/...`, keyed by Python version and machine),
else from a short calibration run of a built-in scenario (about 0.3 s of CPU), then cached. It is an
approximation: the cost of a request varies with the scenario (key operations, processor sharing, many
instances), so the estimate is an order of magnitude, not a promise.

A light module (standard library only): the model is imported only to calibrate.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LIMIT_HOURS = 24.0
SPEED_ENV = "CMEK_SIM_SPEED"
QUOTA_LEVELS = 10            # levels `sim quota` typically runs (bracket, bisection, the answer and 80% of it)
DAY_S = 86400.0
CALIBRATION = {              # ~30,000 requests: about 0.3 s of CPU on a 2-core machine of 2026
    "name": "calibration", "duration": 30, "seed": 1, "replications": 1,
    "keys": [{"id": "k", "name": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k", "protection": "hsm"}],
    "services": [{"name": "calibration", "encryption_key": "k", "concurrency": 80, "max_instances": 100,
                  "service_time": {"dist": "lognormal", "mean": 0.12, "cv": 1.0},
                  "traffic": {"arrivals": "poisson", "rate": 1000}}],
}


@dataclass
class Estimate:
    requests: float          # simulated requests over every scenario, replication and fault-free twin
    wall_seconds: float      # expected wall time on this machine, with the given number of workers
    workers: int = 1         # processes that run at once
    on: str | None = None    # where they run, when not "N workers" of this machine (a Dask cluster)

    def line(self) -> str:
        plural = "" if self.workers == 1 else "s"
        return (f"estimate: {format_count(self.requests)} simulated requests, about "
                f"{format_wall(self.wall_seconds)} on {self.on or f'{self.workers} worker{plural}'}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--yes` and `--max-hours` on a command that simulates."""
    parser.add_argument("--yes", action="store_true", help="run even when the estimate exceeds --max-hours")
    parser.add_argument("--max-hours", type=_positive_float, default=DEFAULT_LIMIT_HOURS, metavar="H",
                        help=f"refuse work estimated above H hours of wall time ({DEFAULT_LIMIT_HOURS:g})")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of hours, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of hours, got {text!r}")
    return value


# -- the work: rate integrals -------------------------------------------------------------------------------
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


def scenario_requests(scenario, baseline: bool = True) -> float:
    """Simulated requests of one replication of `scenario`, its fault-free twin included when it runs."""
    one = sum(rate_integral(s.traffic, scenario.duration) for s in scenario.services)
    return one * (2 if baseline and scenario.faults else 1)


# -- the speed of this machine ------------------------------------------------------------------------------
def cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "cmek-sim" / "speed.json"


def cpu_model(unknown: str = "") -> str:
    """The processor's model name (Linux: /proc/cpuinfo), else what platform knows, else `unknown`."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or unknown


def machine_key() -> str:
    """Python version and machine: a figure measured elsewhere is not reused."""
    return (f"{platform.python_implementation()} {platform.python_version()} | {platform.system()} "
            f"{platform.machine()} | {cpu_model()} x{os.cpu_count()}")


def calibrate() -> float:
    """Simulated requests per second of one process, from a short run of a built-in scenario.

    Timed in CPU seconds of this process, not wall seconds: other work on a busy machine at the moment of
    the calibration would otherwise be cached as this machine's speed for good."""
    from .model.world import World
    from .scenario import scenario_from_dict
    scenario = scenario_from_dict(CALIBRATION, "<calibration>")
    started = time.process_time()
    out = World(scenario, 0, keep_logs=False).run()
    cpu = time.process_time() - started
    arrived = sum(s["requests"]["arrived"] for s in out.summary["services"].values())
    return arrived / max(cpu, 1e-6)


def speed() -> float:
    """Simulated requests per wall second of one process: CMEK_SIM_SPEED, the cached figure, or a calibration."""
    text = os.environ.get(SPEED_ENV)
    if text:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{SPEED_ENV} must be a positive number of simulated requests per wall second, "
                             f"got {text!r}")
        return value
    path, key = cache_file(), machine_key()
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    if not isinstance(cached, dict):
        cached = {}
    value = cached.get(key)
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    value = calibrate()
    cached[key] = round(value)
    try:                                   # a cache that cannot be written only costs a calibration next time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(cached, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass
    return value


# -- the estimate -------------------------------------------------------------------------------------------
def estimate(scenarios, replications: int, *, workers: int = 1, baseline: bool = True,
             rate: float | None = None) -> Estimate:
    """The work of running each scenario (a list: one per cell or level) `replications` times.

    Workers that can run at once: at most one per unit (cell x replication); `rate` overrides speed()."""
    scenarios = list(scenarios) if isinstance(scenarios, (list, tuple)) else [scenarios]
    requests = replications * sum(scenario_requests(s, baseline) for s in scenarios)
    parallel = max(1, min(int(workers or 1), len(scenarios) * max(1, replications)))
    per_second = speed() if rate is None else rate
    return Estimate(requests, requests / (per_second * parallel), parallel)


def check_work(scenarios, replications: int, args, *, workers: int = 1, baseline: bool = True,
               quiet: bool = False) -> str | None:
    """Print the estimate (stderr, unless quiet); a one-line refusal when it exceeds args.max_hours and not args.yes.

    On a local machine no more workers run at once than it has cores; with a Dask scheduler (args.scheduler)
    `workers` is taken as given. On refusal nothing is printed here: the caller prints the one line."""
    on = None
    if not getattr(args, "scheduler", None) and not os.environ.get("DASK_SCHEDULER_ADDRESS"):
        workers = min(workers or 1, os.cpu_count() or 1)
    else:   # the cluster's worker threads, as its scheduler told (sim.cli asks it before any work)
        threads = getattr(args, "dask_threads", None)
        workers = threads or 1
        on = (f"the Dask cluster's {threads} worker thread{'' if threads == 1 else 's'}" if threads else
              "the Dask cluster, with one worker thread (it has none yet)")
    try:
        work = estimate(scenarios, replications, workers=workers, baseline=baseline)
    except ValueError as exc:              # a bad CMEK_SIM_SPEED
        return f"error: {exc}"
    work.on = on
    limit = getattr(args, "max_hours", DEFAULT_LIMIT_HOURS)
    limit = DEFAULT_LIMIT_HOURS if limit is None else limit
    if work.wall_seconds > limit * 3600 and not getattr(args, "yes", False):
        return (f"refused: {work.line()[len('estimate: '):]}, above --max-hours {limit:g}; "
                "shorten the scenario (--duration) or use fewer replications, or run anyway with --yes")
    if not quiet:
        print(work.line(), file=sys.stderr, flush=True)
    return None


# -- formatting ---------------------------------------------------------------------------------------------
def format_count(n: float) -> str:
    """1234 -> '1.2 k', 1.2e6 -> '1.2 M', 2.6e13 -> '26.0 T'."""
    for size, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            x = n / size
            return f"{x:,.1f} {unit}" if x < 100 else f"{x:,.0f} {unit}"
    return f"{n:,.0f}"


def format_wall(seconds: float) -> str:
    """A wall time in the unit a person reads: '40 s', '3 min', '2.5 h', '12 days', '820 years'."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds < 730 * DAY_S:
        return f"{seconds / DAY_S:,.0f} days"
    return f"{seconds / (365.25 * DAY_S):,.0f} years"
