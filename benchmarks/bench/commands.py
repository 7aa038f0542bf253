"""Our command line in a child process, measured whole: `sim run` end to end (wall time of the command)
and the planner's `sim solve` (CPU time of the command and its worker processes).

`--kernel` is passed only when the case names a kernel. A tree whose command does not take `--kernel` runs
the Python path only: the python case runs without the flag (and says so), the compiled one is a SKIP; so
is a compiled case the command refuses (exit 2 naming --kernel: numba or the kernel does not load).
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .measure import children_cpu_s, children_peak_mb
from .workloads import BENCH_DIR, PLANNER_PARAM, PLANNER_SLO, ROOT


class Skip(Exception):
    """The case cannot be measured on this tree (one line, shown as SKIP)."""


def sim_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def takes_kernel_flag(command: str) -> bool:
    proc = subprocess.run(sim_command(command, "--help"), cwd=ROOT, capture_output=True, text=True)
    return "--kernel" in proc.stdout


def kernel_args(spec: dict, command: str) -> tuple[list[str], str | None]:
    """(the flag to add, a note for the report), or Skip."""
    kernel = spec.get("kernel")
    if not kernel:
        return [], None
    if takes_kernel_flag(command):
        return ["--kernel", kernel], None
    if kernel == "python":
        return [], f"sim {command} takes no --kernel in this tree: run without it (the Python path, its only one)"
    raise Skip(f"sim {command} --kernel is not accepted by this tree")


def scenario_file(spec: dict, folder: Path) -> Path:
    """The case's file, or (with updates) a copy with them applied, written into `folder`."""
    path = BENCH_DIR / spec["file"]
    if not spec.get("updates"):
        return path
    import yaml

    from sim.scenario import load_scenario, with_updates
    sc = with_updates(load_scenario(path), spec["updates"])
    out = folder / path.name
    out.write_text(yaml.safe_dump(sc.to_resolved_dict(), sort_keys=False), encoding="utf-8")
    return out


def measured(cmd: list[str]) -> dict:
    """Run `cmd`; its wall time, its CPU time with its descendants', or Skip / RuntimeError on failure."""
    cpu0, t0 = children_cpu_s(), time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, children_cpu_s() - cpu0
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines() or ["(no output)"]
        if proc.returncode == 2 and any("--kernel" in line for line in lines):
            raise Skip(next(line for line in lines if "--kernel" in line))
        raise RuntimeError(f"exit {proc.returncode}: " + " | ".join(lines[-3:]))
    return {"wall": wall, "cpu_s": cpu}


def arrivals(summary_json: Path) -> int:
    summary = json.loads(summary_json.read_text(encoding="utf-8"))
    return sum(s["requests"]["arrived"] for s in summary["runs"][0]["services"].values())


def child_cli_run(spec: dict) -> dict:
    """`sim run FILE --no-plots` end to end: imports, loading, simulating, writing the results folder."""
    try:
        flag, note = kernel_args(spec, "run")
        with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
            scenario = scenario_file(spec, Path(tmp))
            cmd = sim_command("run", str(scenario), "--no-plots", "--quiet", "--yes", *flag)
            # Untimed, 2 simulated seconds: fills a JIT's on-disk cache, so the timed run loads it as a
            # planner's second run would (the compile itself is reported by the kernel, not here).
            measured([*cmd, "--duration", "2s", "--out", str(Path(tmp) / "warm")])
            m = measured([*cmd, "--out", str(Path(tmp) / "run")])
            requests = arrivals(Path(tmp) / "run" / "summary.json")
            horizon = json.loads((Path(tmp) / "run" / "summary.json").read_text())["simulated_seconds"]
    except Skip as exc:
        return {"skip": str(exc)}
    except RuntimeError as exc:
        return {"error": str(exc)}
    return {**m, "requests": requests, "horizon": horizon, "peak_mb": children_peak_mb(), "base_mb": None,
            "note": note}


def child_cli_solve(spec: dict) -> dict:
    """The planner's `sim solve` with local workers: CPU-minutes of the command and its workers, and the answer."""
    try:
        flag, note = kernel_args(spec, "solve")
        with tempfile.TemporaryDirectory(prefix="bench-solve-") as tmp:
            scenario = scenario_file(spec, Path(tmp))
            out = Path(tmp) / "solve"
            m = measured(sim_command("solve", str(scenario), "--param", PLANNER_PARAM, "--slo", PLANNER_SLO,
                                     "--workers", str(spec["workers"]), "--replications", str(spec["replications"]),
                                     "--out", str(out), "--quiet", "--yes",
                                     *flag))
            solved = json.loads((out / "solve.json").read_text(encoding="utf-8"))
            from sim.scenario import load_scenario
            horizon = load_scenario(scenario).duration
    except Skip as exc:
        return {"skip": str(exc)}
    except RuntimeError as exc:
        return {"error": str(exc)}
    return {**m, "requests": None, "horizon": horizon, "peak_mb": children_peak_mb(), "base_mb": None,
            "note": note, "answer": solved["recommended"], "levels": solved["levels_run"],
            "replications": solved["replications"]}
