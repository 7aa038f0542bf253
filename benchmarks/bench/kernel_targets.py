"""The kernel group's PASS / FAIL lines (issue 21): compiled against python, measured in the same run.

A compiled case that did not run (the kernel does not load on this tree) makes its target "not measured"
(a SKIP line with why), never a failure of the harness.
"""
from __future__ import annotations

from .cases import Case
from .figures import best_cost, fmt_time, kernel_pairs, speedup
from .workloads import PLANNER_REPLICATIONS

REQUEST_PATH_MIN_SPEEDUP = 15.0          # in-process cases, all at >= 1,000 req/s
END_TO_END_MIN_SPEEDUP = 10.0            # `sim run` at 10,000 req/s for 5 minutes
END_TO_END_HORIZON = 300.0
PLANNER_MAX_CPU_MIN = 5.0                # the planner's solve ...
PLANNER_HORIZON = 2700.0                 # ... at 45 minutes and PLANNER_REPLICATIONS
COMPILED_MEMORY_LIMIT_MB = 150.0


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _why(*cases: Case) -> str:
    """Why these cases have no figure: each reason once, after the cases it stopped."""
    by_reason: dict[str, list[str]] = {}
    for c in cases:
        if c.skip or c.error:
            by_reason.setdefault(c.skip or c.error, []).append(c.name)
    return "; ".join(f"{', '.join(names)}: {why}" for why, names in by_reason.items()) or "case not run"


def _rounds(rounds: list[float]) -> str:
    return "" if len(rounds) < 2 else "; round by round " + ", ".join(f"{x:.1f}x" for x in rounds)


def _speed_line(py: Case, co: Case) -> str:
    end_to_end = py.spec["kind"] == "cli-run"
    need = END_TO_END_MIN_SPEEDUP if end_to_end else REQUEST_PATH_MIN_SPEEDUP
    what = "end to end" if end_to_end else "request path"
    ratio, rounds = speedup(py, co)
    if ratio is None:
        return f"SKIP  kernel, {what}, {py.pair} ({py.label}): compiled vs python not measured ({_why(py, co)})"
    horizon = co.best["horizon"]
    tag = _verdict(ratio >= need)
    if end_to_end and horizon != END_TO_END_HORIZON:          # --quick: not the target's size
        tag = "INFO"
    return (f"{tag}  kernel, {what}, {py.pair} ({py.label}, {fmt_time(horizon)}): compiled {best_cost(co):.3g} "
            f"vs python {best_cost(py):.3g} µs/request: {ratio:.1f}x (target >= {need:g}x){_rounds(rounds)}")


def _solve_run(c: Case) -> str:
    b = c.best
    return (f"{c.kernel} {best_cost(c):.1f} CPU-min (answer {b['answer']:g} after {b['levels']} levels, "
            f"{fmt_time(b['horizon'])}, {b['replications']} replications)")


def _solve_line(py: Case, co: Case) -> str:
    python = "" if py.best is None else f"; {_solve_run(py)}"
    if co.best is None:
        return f"SKIP  kernel, planner solve: compiled not measured ({_why(py, co)}){python}"
    b = co.best
    full = b["horizon"] == PLANNER_HORIZON and b["replications"] == PLANNER_REPLICATIONS
    ratio, _ = speedup(py, co)
    tag = _verdict(best_cost(co) <= PLANNER_MAX_CPU_MIN) if full else "INFO"
    return (f"{tag}  kernel, planner solve: {_solve_run(co)} (target <= {PLANNER_MAX_CPU_MIN:g} CPU-min at "
            f"{fmt_time(PLANNER_HORIZON)} and {PLANNER_REPLICATIONS} replications){python}"
            f"{'' if ratio is None else f'; {ratio:.1f}x'}")


def _memory_lines(pairs: list[tuple[Case, Case]]) -> list[str]:
    """The target is on the in-process cases (VmHWM of the child, as for the other cases); the commands'
    peaks (the largest process of `sim run` or `sim solve`, results writing included) are shown beside it."""
    in_process = [(py, co) for py, co in pairs if py.spec["kind"] == "ours"]
    commands = [c for py, co in pairs if py.spec["kind"] != "ours" for c in (py, co) if c.peak_mb is not None]
    lines = []
    if in_process:
        compiled = [co for _py, co in in_process if co.peak_mb is not None]
        python = [py.peak_mb for py, _co in in_process if py.peak_mb is not None]
        also = f"; python {min(python):.0f}-{max(python):.0f} MB" if python else ""
        if not compiled:
            lines.append("SKIP  kernel, peak memory of the compiled request path: not measured "
                         f"({_why(*[co for _py, co in in_process])}){also}")
        else:
            peaks = [co.peak_mb for co in compiled]
            lines.append(f"{_verdict(max(peaks) < COMPILED_MEMORY_LIMIT_MB)}  kernel, peak memory of the compiled "
                         f"request path: {min(peaks):.0f}-{max(peaks):.0f} MB over {len(peaks)} cases, whole "
                         f"process (target < {COMPILED_MEMORY_LIMIT_MB:.0f} MB in each){also}")
    if commands:
        lines.append("INFO  kernel, peak memory of the commands (largest process): "
                     + ", ".join(f"{c.name} {c.peak_mb:.0f} MB" for c in commands))
    return lines


def kernel_targets(cases: list[Case]) -> list[str]:
    pairs = kernel_pairs(cases)
    if not pairs:
        return []
    lines = [_solve_line(py, co) if py.spec["kind"] == "cli-solve" else _speed_line(py, co) for py, co in pairs]
    return lines + _memory_lines(pairs)
