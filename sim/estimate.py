"""Know the cost before paying it: every command that simulates estimates its work first (issue 10, point 8;
issue 18, point 12; issue 19, point 12).

The work counts every kind of event a run simulates and every allocation that grows with the scenario
(sim/estimate_work.py: requests, autoscaler ticks and their window scans, validation checks, instances,
background KMS requests, time-series bins, runs), in simulated requests of the calibration scenario, times
replications, times cells (sweep cells, solver levels, sensitivity arms), doubled for a scenario with
faults when its fault-free twin runs too. The wall time divides it by this machine's speed and by the
workers that can run at once; the memory is the interpreter and the largest run per worker process, plus
every run `sim run` keeps until it writes its folder. Work above `--max-hours`, or memory above this
machine's, is refused in one line unless `--yes`.

The speed (simulated requests per second of one process) comes from `CMEK_SIM_SPEED` when set (one figure),
else from a cache file (`$XDG_CACHE_HOME/cmek-sim/speed.json`, default `~/.cache/...`, keyed by Python
version and machine) holding a calibration (a short run of a built-in scenario timed in CPU seconds: the
best case) and the speeds the last completed commands achieved in wall seconds (`learn`: what a busy
machine really gives). The estimate is a range: from the fastest to the slowest of these figures.

Each request path (`--kernel`: python or compiled, sim/model/kernel_choice.py) has its own speed: it is
calibrated with that kernel, cached under a key naming it (the python figures keep their old keys), learned
from commands that ran on it alone, and `CMEK_SIM_SPEED` may give one figure for every kernel or one per
kernel (`python=150000,compiled=3000000`). The estimate uses the speed of the kernel each scenario will run.

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

from .estimate_work import Work, rate_integral, scenario_work, LABELS, PROCESS_BYTES  # noqa: F401 (rate_integral)

DEFAULT_LIMIT_HOURS = 24.0
SPEED_ENV = "CMEK_SIM_SPEED"
KERNELS = ("python", "compiled")      # the request paths a --kernel choice resolves to (model/kernel_choice.py)
QUOTA_LEVELS = 10            # levels `sim quota` typically runs (bracket, bisection, the answer and 80% of it)
DAY_S = 86400.0
OBSERVED_KEPT = 10           # completed commands whose speed the range remembers
LEARN_MIN_WALL_S = 5.0       # shorter commands are dominated by imports and charts: not learned from
CALIBRATION = {              # ~30,000 requests: about 0.3 s of CPU on a 2-core machine of 2026
    "name": "calibration", "duration": 30, "seed": 1, "replications": 1,
    "keys": [{"id": "k", "name": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k", "protection": "hsm"}],
    "services": [{"name": "calibration", "encryption_key": "k", "concurrency": 80, "max_instances": 100,
                  "service_time": {"dist": "lognormal", "mean": 0.12, "cv": 1.0},
                  "traffic": {"arrivals": "poisson", "rate": 1000}}],
}


@dataclass
class Estimate:
    work: Work               # every kind of event over every scenario, replication and fault-free twin
    wall_seconds: float      # expected wall time at the fastest known speed, with the given number of workers
    workers: int = 1         # processes that run at once
    slow_wall_seconds: float | None = None    # at the slowest known speed (None: one figure, CMEK_SIM_SPEED)
    memory_bytes: float = 0.0                 # the peak over the processes that run at once
    on: str | None = None    # where they run, when not "N workers" of this machine (a Dask cluster)

    @property
    def requests(self) -> float:
        return self.work.counts["requests"]

    @property
    def longest(self) -> float:
        return max(self.wall_seconds, self.slow_wall_seconds or 0.0)

    def wall_text(self) -> str:
        low, high = format_wall(self.wall_seconds), format_wall(self.longest)
        return f"about {low}" if low == high else f"{low} to {high}"

    def line(self) -> str:
        plural = "" if self.workers == 1 else "s"
        others = self.work.main_kinds()
        extra = "".join(f", {format_count(n)} {LABELS[k]}" for k, n in others)
        return (f"estimate: {format_count(self.requests)} simulated requests{extra}, {self.wall_text()} on "
                f"{self.on or f'{self.workers} worker{plural}'}, {format_bytes(self.memory_bytes)} of memory")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--yes` and `--max-hours` on a command that simulates."""
    parser.add_argument("--yes", action="store_true",
                        help="run even when the estimate exceeds --max-hours or this machine's memory")
    parser.add_argument("--max-hours", type=_positive_float, default=DEFAULT_LIMIT_HOURS, metavar="H",
                        help=f"refuse work that may take more than H hours of wall time ({DEFAULT_LIMIT_HOURS:g})")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of hours, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of hours, got {text!r}")
    return value


# -- the work (sim/estimate_work.py) ----------------------------------------------------------------------
def scenario_requests(scenario, baseline: bool = True) -> float:
    """Simulated requests of one replication of `scenario`, its fault-free twin included when it runs."""
    return scenario_work(scenario, baseline).counts["requests"]


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


def calibrate(kernel: str = "python") -> float:
    """Simulated requests per second of one process on `kernel`, from a short run of a built-in scenario.

    Timed in CPU seconds of this process, not wall seconds: other work on a busy machine at the moment of
    the calibration would otherwise be cached as this machine's speed for good (the learned figures say
    how busy it usually is). The compiled kernel is compiled first: its compile time, paid once per
    process, is not its speed."""
    from .model.kernel_choice import warm_up
    from .model.world import World
    from .scenario import scenario_from_dict
    scenario = scenario_from_dict(CALIBRATION, "<calibration>")
    if kernel == "compiled":
        warm_up()
    started = time.process_time()
    out = World(scenario, 0, keep_logs=False, kernel=kernel).run()
    cpu = time.process_time() - started
    arrived = sum(s["requests"]["arrived"] for s in out.summary["services"].values())
    return arrived / max(cpu, 1e-6)


def _env_speed(kernel: str = "python") -> float | None:
    """CMEK_SIM_SPEED's figure for `kernel`: one number for every kernel, or KERNEL=N,... (None: not set, or
    no figure for this kernel); ValueError (one line) when it is neither."""
    text = os.environ.get(SPEED_ENV)
    if not text:
        return None
    if "=" not in text:
        return _speed_figure(text, text)
    figures = {}
    for part in text.split(","):
        name, _, figure = part.partition("=")
        if name.strip() not in KERNELS:
            raise ValueError(f"{SPEED_ENV}: {part.strip()!r}: write one number, or KERNEL=N for "
                             f"{' and '.join(KERNELS)} (e.g. python=150000,compiled=3000000)")
        figures[name.strip()] = _speed_figure(figure, text)
    return figures.get(kernel)


def _speed_figure(figure: str, text: str) -> float:
    try:
        value = float(figure)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{SPEED_ENV} must be a positive number of simulated requests per wall second, "
                         f"got {text!r}")
    return value


def _read_cache() -> dict:
    try:
        cached = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return {}
    return cached if isinstance(cached, dict) else {}


def _write_cache(cached: dict) -> None:
    path = cache_file()
    try:                                   # a cache that cannot be written only costs a calibration next time
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(cached, indent=2) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass


def speed_key(kernel: str = "python") -> str:
    """The cache key of `kernel`'s calibration on this machine (python: the key of before the kernels)."""
    return machine_key() if kernel == "python" else f"{machine_key()} | {kernel}"


def _observed_key(kernel: str = "python") -> str:
    return f"{speed_key(kernel)} | observed"


def speed(kernel: str = "python") -> float:
    """Simulated requests per second of one process with a core to itself on `kernel`: CMEK_SIM_SPEED, the
    cached calibration, or a calibration (then cached)."""
    value = _env_speed(kernel)
    if value is not None:
        return value
    cached, key = _read_cache(), speed_key(kernel)
    value = cached.get(key)
    if isinstance(value, (int, float)) and value > 0:
        return float(value)
    value = calibrate(kernel)
    cached = _read_cache()                 # re-read: another command may have written meanwhile
    cached[key] = round(value)
    _write_cache(cached)
    return value


def observed_speeds(kernel: str = "python") -> list[float]:
    """The speeds the last completed commands on `kernel` achieved on this machine (per worker, wall seconds)."""
    values = _read_cache().get(_observed_key(kernel))
    return [float(v) for v in values if isinstance(v, (int, float)) and v > 0] if isinstance(values, list) else []


def speed_range(kernel: str = "python") -> tuple[float, float]:
    """(fastest, slowest) known speed of `kernel`: CMEK_SIM_SPEED alone when set; else the calibration and the
    learned."""
    fixed = _env_speed(kernel)
    if fixed is not None:
        return fixed, fixed
    speeds = [speed(kernel), *observed_speeds(kernel)]
    return max(speeds), min(speeds)


# -- learning from completed commands -----------------------------------------------------------------------
_checked: dict = {}                        # the last check_work of this process: its cost, workers, start time


def learn(now: float | None = None) -> float | None:
    """After a command completed: remember the speed it achieved (its estimated cost per wall second and
    worker). Not with CMEK_SIM_SPEED, not after a command shorter than LEARN_MIN_WALL_S. Returns the speed."""
    if not _checked or os.environ.get(SPEED_ENV) or _checked.get("kernel") is None:
        return None                        # a fixed figure, or work on both kernels: nothing to attribute
    checked = _checked.copy()
    _checked.clear()
    wall = (time.monotonic() if now is None else now) - checked["started"]
    if wall < LEARN_MIN_WALL_S or checked["cost"] <= 0:
        return None
    value = checked["cost"] / (wall * checked["workers"])
    cached, key = _read_cache(), _observed_key(checked["kernel"])
    kept = [v for v in cached.get(key) or [] if isinstance(v, (int, float))]
    cached[key] = (kept + [round(value)])[-OBSERVED_KEPT:]
    _write_cache(cached)
    return value


# -- the estimate -------------------------------------------------------------------------------------------
def physical_memory() -> float | None:
    """This machine's memory in bytes (None where the system does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def estimate(scenarios, replications: int, *, workers: int = 1, baseline: bool = True,
             rate: float | None = None, keeps_runs: bool = False, kernels=None) -> Estimate:
    """The work of running each scenario (a list: one per cell or level) `replications` times.

    Workers that can run at once: at most one per unit (cell x replication); `rate` overrides the speeds;
    keeps_runs: the command keeps every run until the end (`sim run`); kernels: the request path each
    scenario runs on (python or compiled; default python), whose speed counts for its work."""
    scenarios = list(scenarios) if isinstance(scenarios, (list, tuple)) else [scenarios]
    kernels = ["python"] * len(scenarios) if kernels is None else list(kernels)
    work, by_kernel = Work(), {}
    for scenario, kernel in zip(scenarios, kernels):
        one = scenario_work(scenario, baseline)
        work.add(one, replications)
        by_kernel.setdefault(kernel, Work()).add(one, replications)
    parallel = max(1, min(int(workers or 1), len(scenarios) * max(1, replications)))
    memory = parallel * (PROCESS_BYTES + work.run_bytes) + (work.kept_bytes if keeps_runs else 0.0)
    fast_s = slow_s = 0.0
    for kernel, part in by_kernel.items():
        fast, slow = (rate, rate) if rate is not None else speed_range(kernel)
        fast_s += part.cost / (fast * parallel)
        slow_s += part.cost / (slow * parallel)
    return Estimate(work, fast_s, parallel, None if slow_s == fast_s else slow_s, memory)


def check_work(scenarios, replications: int, args, *, workers: int = 1, baseline: bool = True,
               quiet: bool = False, keeps_runs: bool = False, learn_speed: bool = True) -> str | None:
    """Print the estimate (stderr, unless quiet); a one-line refusal when it may exceed args.max_hours, or
    needs more memory than this machine has, and not args.yes.

    On a local machine no more workers run at once than it has cores; with a Dask scheduler (args.scheduler)
    `workers` is taken as given. On refusal nothing is printed here: the caller prints the one line.
    learn_speed: the command runs the whole work (not a resumed part), so its wall time teaches the speed.

    args.kernel (--kernel) is checked here first, before any work: `compiled` where it cannot run is refused
    in one line; where the compiled kernel runs it is compiled now, once (`compiled kernel ready in ...`),
    and the estimate uses the speed of the kernel each scenario runs on."""
    from .kernel import kernel_of, ready_line, resolve_all
    from .model.kernel_choice import KernelUnavailable
    listed = scenarios if isinstance(scenarios, (list, tuple)) else [scenarios]
    try:
        kernels = resolve_all(kernel_of(args), listed)
    except KernelUnavailable as exc:
        return f"error: {exc}"
    note, on = None, None
    if not getattr(args, "scheduler", None) and not os.environ.get("DASK_SCHEDULER_ADDRESS"):
        from .study.local import MAX_WORKERS_PER_CORE, usable_workers
        units = len(scenarios) * max(1, replications) if isinstance(scenarios, (list, tuple)) else replications
        asked, usable = workers or 1, usable_workers(workers or 1, units)
        if usable < asked:                 # said, so that nobody waits for 64 processes that do not start
            note = (f"note: --workers {asked}: {usable} worker processes (the work has {units} units; at most "
                    f"{MAX_WORKERS_PER_CORE} per core, {os.cpu_count() or 1} cores here)")
        workers = min(usable, os.cpu_count() or 1)
    else:   # the cluster's worker threads, as its scheduler told (sim.cli asks it before any work)
        threads = getattr(args, "dask_threads", None)
        workers = threads or 1
        on = (f"the Dask cluster's {threads} worker thread{'' if threads == 1 else 's'}" if threads else
              "the Dask cluster, with one worker thread (it has none yet)")
    try:
        work = estimate(listed, replications, workers=workers, baseline=baseline, keeps_runs=keeps_runs,
                        kernels=kernels)
    except ValueError as exc:              # a bad CMEK_SIM_SPEED
        return f"error: {exc}"
    work.on = on
    limit = getattr(args, "max_hours", DEFAULT_LIMIT_HOURS)
    limit = DEFAULT_LIMIT_HOURS if limit is None else limit
    memory = physical_memory()
    if not getattr(args, "yes", False):
        said = work.line()[len("estimate: "):]
        if work.longest > limit * 3600:
            return (f"refused: {said}; may take more than --max-hours {limit:g}; shorten the scenario (--duration) "
                    "or use fewer replications, or run anyway with --yes")
        if memory is not None and work.memory_bytes > memory:
            return (f"refused: {said}; more than this machine's {format_bytes(memory)} of memory; raise "
                    "timeseries_interval, shorten the scenario, use fewer instances or workers, or run anyway "
                    "with --yes")
    ready = ready_line() if "compiled" in kernels else None     # compiled once, before the work (not refused)
    if not quiet:
        lines = [line for line in (ready, note, work.line()) if line]
        print("\n".join(lines), file=sys.stderr, flush=True)
    _checked.clear()
    if learn_speed:           # kernel None: work on both kernels teaches neither speed
        _checked.update(cost=work.work.cost, workers=work.workers, started=time.monotonic(),
                        kernel=kernels[0] if len(set(kernels)) == 1 else None)
    return None


# -- formatting ---------------------------------------------------------------------------------------------
def format_count(n: float) -> str:
    """1234 -> '1.2 k', 1.2e6 -> '1.2 M', 2.6e13 -> '26.0 T'; beyond 1000 T in powers of ten."""
    if n >= 1e15:
        return f"{n:.1e}"
    for size, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            x = n / size
            return f"{x:,.1f} {unit}" if x < 100 else f"{x:,.0f} {unit}"
    return f"{n:,.0f}"


def format_bytes(n: float) -> str:
    """Bytes as a person reads them: '110 MB', '2.3 GB', '1.1 TB'."""
    for size, unit in ((1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if n >= size:
            x = n / size
            return f"{x:,.1f} {unit}" if x < 100 else f"{x:,.0f} {unit}"
    return f"{n:,.0f} B"


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
