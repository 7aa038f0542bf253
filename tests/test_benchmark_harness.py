"""The benchmark harness (benchmarks/bench/): its case table, its kernel targets, one tiny child run, and the
runner's `kernel` keyword the kernel cases measure through. Nothing here measures speed."""
from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

from bench.cases import Case, make_cases, select  # noqa: E402
from bench.children import run_child  # noqa: E402
from bench.kernel_targets import kernel_targets  # noqa: E402
from bench.ours import ours_scenario  # noqa: E402


@pytest.mark.parametrize("quick", [False, True])
def test_the_case_table_is_whole(quick):
    cases = make_cases(quick)
    names = [c.name for c in cases]
    assert len(names) == len(set(names))
    # The older cases keep their names.
    assert {"heavy-short", "floor", "heavy", "heavy-long", "per-request", "simfaas", "per-request-100",
            "simfaas-100", "pool-10", "pool-100", "pool-1000", "sweep-1", "sweep-2", "sweep-dask-2"} <= set(names)
    # Each kernel case runs with python, then compiled, right after it (same rounds, next to each other).
    kernel = [c for c in cases if c.pair]
    assert {c.pair for c in kernel} == {"plain-1k", "plain-3k", "plain-10k", "shared-cpu", "overload", "run-10k",
                                        "solve-planner"}
    for i, c in enumerate(cases):
        if c.pair and c.kernel == "python":
            assert cases[i + 1].pair == c.pair and cases[i + 1].kernel == "compiled"
    # The planner's solve runs only when named.
    assert not any(c.pair == "solve-planner" for c in select(cases, set()))
    assert {c.name for c in select(cases, {"solve-planner"})} == {"solve-planner-python", "solve-planner-compiled"}
    assert [c.name for c in select(cases, {"plain-3k", "pool-10"})] == ["pool-10", "plain-3k-python",
                                                                       "plain-3k-compiled"]


def test_every_scenario_of_a_case_loads_with_its_updates():
    for c in make_cases(quick=True) + make_cases(quick=False):
        if "file" in c.spec or "scenario" in c.spec:
            sc = ours_scenario(c.spec)
            assert sc.duration > 0, c.name


def _case(pair: str, kernel: str, kind: str = "ours", runs=(), skip=None) -> Case:
    c = Case(f"{pair}-{kernel}", "kernel", "ours", pair, {"kind": kind, "kernel": kernel}, pair=pair, skip=skip)
    c.runs = list(runs)
    return c


def _run(wall: float, requests: int = 1_000_000, peak: float = 120.0, horizon: float = 600.0) -> dict:
    return {"wall": wall, "requests": requests, "peak_mb": peak, "horizon": horizon}


def test_kernel_targets_say_not_measured_when_compiled_cannot_run():
    why = "--kernel compiled: numba does not load here (ImportError: x)"
    cases = [_case("plain-1k", "python", runs=[_run(8.0)]), _case("plain-1k", "compiled", skip=why),
             _case("run-10k", "python", "cli-run", runs=[_run(20.0)]),
             _case("run-10k", "compiled", "cli-run", skip="sim run --kernel is not accepted by this tree")]
    lines = kernel_targets(cases)
    assert lines[0].startswith("SKIP  kernel, request path, plain-1k") and "not measured" in lines[0]
    assert why in lines[0]
    assert lines[1].startswith("SKIP  kernel, end to end, run-10k") and "not accepted" in lines[1]
    assert lines[2].startswith("SKIP  kernel, peak memory of the compiled request path: not measured")
    assert not any(line.startswith(("PASS", "FAIL")) for line in lines)


def test_kernel_targets_compare_the_same_rounds():
    # python 8 µs and 9 µs per request; compiled 0.5 and 0.45: best 8 / 0.45 = 17.8x, rounds 16x and 20x.
    py = _case("plain-3k", "python", runs=[_run(8.0), _run(9.0)])
    co = _case("plain-3k", "compiled", runs=[_run(0.5, peak=140.0), _run(0.45, peak=160.0)])
    slow = _case("overload", "compiled", runs=[_run(1.0)])
    lines = kernel_targets([py, co, _case("overload", "python", runs=[_run(10.0)]), slow])
    assert lines[0].startswith("PASS  kernel, request path, plain-3k") and "17.8x" in lines[0]
    assert "round by round 16.0x, 20.0x" in lines[0]
    assert lines[1].startswith("FAIL  kernel, request path, overload") and "10.0x" in lines[1]
    assert lines[2].startswith("FAIL  kernel, peak memory") and "120-160 MB" in lines[2]   # 160 MB >= 150


def test_a_child_runs_a_kernel_case():
    spec = {"kind": "ours", "file": "scenarios/plain.yaml", "kernel": "python",
            "updates": {"duration": 1.0, "services.0.traffic.rate": 1000.0}}
    r = run_child(spec, timeout=120)
    assert "error" not in r and "skip" not in r, r
    assert 800 < r["requests"] < 1200 and r["failed_429"] == 0


def test_the_runner_hands_the_kernel_to_the_world():
    from sim.model.kernel_choice import KernelUnavailable
    from sim.runner import run
    sc = ours_scenario({"file": "scenarios/plain.yaml", "updates": {"duration": 1.0}})
    with pytest.raises(KernelUnavailable, match="--kernel must be one of"):
        run(sc, baseline=False, kernel="no-such-kernel")


def test_the_planner_solve_is_judged_at_its_full_size_only():
    def solve(kernel, cpu_s, horizon, replications=5, skip=None):
        c = _case("solve-planner", kernel, "cli-solve", skip=skip)
        if skip is None:
            c.runs = [{"wall": cpu_s / 2, "cpu_s": cpu_s, "requests": None, "peak_mb": 150.0, "horizon": horizon,
                       "answer": 58, "levels": 9, "replications": replications}]
        return c
    py = solve("python", 3900.0, 2700.0)
    [line, _memory] = kernel_targets([py, solve("compiled", 0, 0, skip="sim solve --kernel is not accepted")])
    assert line.startswith("SKIP  kernel, planner solve: compiled not measured")
    assert "python 65.0 CPU-min (answer 58 after 9 levels, 45 min, 5 replications)" in line
    [line, _memory] = kernel_targets([py, solve("compiled", 240.0, 2700.0)])
    assert line.startswith("PASS  kernel, planner solve: compiled 4.0 CPU-min") and "16.2x" in line
    [line, _memory] = kernel_targets([solve("python", 600.0, 300.0, 2), solve("compiled", 60.0, 300.0, 2)])
    assert line.startswith("INFO  kernel, planner solve")           # --quick: 5 min, 2 replications
