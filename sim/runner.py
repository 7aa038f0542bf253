"""Replications, fault-free twins and their aggregation.

Replication r of a scenario always uses the streams of (seed, r), so results do not depend on how many
worker processes run them or in which order. A scenario with faults is also run without them on the same
streams (its twin), which makes `capacity_loss` a paired, low-variance difference.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from .kernel import kernel_of
from .metrics import aggregate_runs
from .model.summary import run_summary
from .model.world import RunOutput, World
from .scenario import Scenario, scenario_from_dict, with_updates
from .study.execute import map_on
from .summary_schema import failed_requests


@dataclass
class RunResult:
    scenario: Scenario
    outputs: list[RunOutput]           # one per replication; logs only in replication 0
    baseline0: RunOutput | None        # the fault-free twin of replication 0, for the charts
    summary: dict
    wall_seconds: float

    @property
    def kernel(self) -> str:
        """The request path the replications ran on: python or compiled (both, joined by +, only when
        workers resolved --kernel auto differently: a Dask cluster whose workers differ)."""
        return "+".join(sorted({o.kernel for o in self.outputs}))


def fault_free(scenario: Scenario) -> Scenario:
    return scenario.model_copy(update={"faults": (), "windows": ()})   # its windows would name no fault


def step_gap_area(base: list, run: list, start: float, end: float) -> float:
    """Integral over [start, end] of max(0, base(t) - run(t)) for two step functions [(t, level), ...]."""
    times = sorted({t for t, _ in base} | {t for t, _ in run} | {start, end})
    area, ib, ir, lb, lr = 0.0, 0, 0, 0, 0
    for a, b in zip(times, times[1:]):
        while ib < len(base) and base[ib][0] <= a:
            lb = base[ib][1]
            ib += 1
        while ir < len(run) and run[ir][0] <= a:
            lr = run[ir][1]
            ir += 1
        lo, hi = max(a, start), min(b, end)
        if hi > lo and lb > lr:
            area += (lb - lr) * (hi - lo)
    return area


def capacity_loss(run: RunOutput, base: RunOutput, sc: Scenario) -> dict:
    """Each service's `capacity_loss` section against its fault-free twin."""
    sections = {}
    for name, s in run.summary["services"].items():
        b = base.summary["services"][name]
        p99, p99_base = s["cold_starts"]["latency_s"]["p99"], b["cold_starts"]["latency_s"]["p99"]
        sections[name] = {
            "ready_instance_s": step_gap_area(base.ready_steps[name], run.ready_steps[name], sc.warmup,
                                              sc.duration),
            "extra_failed_requests": failed_requests(s["requests"]) - failed_requests(b["requests"]),
            "extra_cold_start_p99_s": None if p99 is None or p99_base is None else p99 - p99_base,
        }
    return sections


def run_replication(resolved: dict, source: str, base_dir, r: int, baseline: bool, keep_usage: bool = False,
                    kernel: str = "auto", progress=None):
    """One replication (and its twin); a top-level function so worker processes can run it. `keep_usage`:
    every replication keeps its kms_usage rows (replication 0 always does); `kernel`: the user's --kernel,
    resolved here, in the process that runs it."""
    scenario = scenario_from_dict(resolved, source, base_dir)
    out = World(scenario, r, keep_logs=(r == 0), keep_usage=keep_usage, kernel=kernel).run(progress)
    twin = None
    if baseline and scenario.faults:
        twin = World(fault_free(scenario), r, keep_logs=False, kernel=kernel).run()
    if twin is not None:
        out.summary = run_summary(out.service_sections, out.summary["kms"], capacity_loss(out, twin, scenario))
    return out, (twin if r == 0 else None)


def run(scenario: Scenario, *, replications: int | None = None, workers: int = 1, baseline: bool = True,
        progress=None, scheduler: str | None = None, keep_usage: bool = False, kernel: str = "auto") -> RunResult:
    """Run every replication; `progress(fraction of all replications)` is called as sequential runs advance.

    workers > 1: local worker processes; scheduler: a Dask scheduler address (the replications run there);
    kernel: --kernel (auto, python, compiled), passed to every replication as it is.
    """
    n = replications or scenario.replications
    t0 = time.perf_counter()
    args = (scenario.to_resolved_dict(), str(scenario.source_path or "<scenario>"), scenario.base_dir)
    if scheduler or (workers > 1 and n > 1):
        results = map_on(run_replication, [(*args, r, baseline, keep_usage, kernel) for r in range(n)],
                         workers=min(workers, n), scheduler=scheduler)
    else:
        results = [run_replication(*args, r, baseline, keep_usage, kernel,
                                   None if progress is None else (lambda f, r=r: progress((r + f) / n)))
                   for r in range(n)]
    outputs = [o for o, _ in results]
    runs = [o.summary for o in outputs]
    summary = {"scenario": scenario.name, "seed": scenario.seed, "replications": n,
               "simulated_seconds": scenario.duration, "warmup_seconds": scenario.warmup,
               "runs": runs, "aggregate": aggregate_runs(runs)}
    return RunResult(scenario, outputs, results[0][1], summary, time.perf_counter() - t0)


class _RunProgress:
    """`simulating NAME: 42%`, redrawn in place on stderr once a run has taken 2 s (a short run shows none)."""

    def __init__(self, name: str, stream):
        self.name, self.stream = name, stream
        self.started = time.perf_counter()
        self.drawn = False

    def __call__(self, fraction: float) -> None:
        if time.perf_counter() - self.started > 2.0:
            self.stream.write(f"\r  simulating {self.name}: {fraction:4.0%}")
            self.stream.flush()
            self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def run_progress(name: str, stream, *, enabled: bool = True):
    """The progress callback of `sim run`, or None: only on a terminal (a log file or a pipe gets no
    carriage-return redraws), and not with --quiet."""
    from .study.progress import is_terminal
    return _RunProgress(name, stream) if enabled and is_terminal(stream) else None


def run_cli(scenario: Scenario, args) -> int:
    """`sim run`: run, write the results folder, print the table."""
    import sys
    from pathlib import Path

    from .report import summary_table
    from .results import OutputFolderError, check_output_folder, write_results
    from .study.cluster import scheduler_address

    show = not getattr(args, "quiet", False)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    try:
        check_output_folder(out)                 # before the run: a refused folder costs no waiting
    except OutputFolderError as exc:
        print(exc, file=sys.stderr)
        return 2
    bar = run_progress(scenario.name, sys.stderr, enabled=show)
    result = run(scenario, replications=args.replications, workers=args.workers or 1,
                 baseline=not args.no_baseline, progress=bar, scheduler=scheduler_address(args),
                 kernel=kernel_of(args))
    if bar is not None:
        bar.close()
    if args.no_plots:                            # no charts: matplotlib is not even imported
        write_results(result, out, plots=None)
    else:
        from .plots import write_charts         # the charts read the folder: drawn into it before it moves
        write_results(result, out, plots=write_charts)
    if show:
        print(summary_table(result.summary))
        if not args.no_plots:
            from .plots import skipped_charts, skipped_line
            line = skipped_line(skipped_charts(out))
            if line:
                print(line)
        print(f"results: {out}  ({result.wall_seconds:.1f} s)")
    return 0


def sweep(scenario: Scenario, path: str, values, **run_options) -> list[RunResult]:
    """Run copies of `scenario` with the dotted `path` set to each value (same seeds: paired runs)."""
    return [run(with_updates(scenario, {path: v}), **run_options) for v in values]
