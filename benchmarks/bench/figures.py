"""How figures are written, and the figures compared across cases (ratios, round by round)."""
from __future__ import annotations

from .cases import Case


def fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_time(seconds: float) -> str:
    if seconds >= 86400 * 2:
        return f"{seconds:.0e} s".replace("e+0", "e")
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:,.0f} s"


def paired(a: Case, b: Case) -> str:
    """Ratios of requests/s run by run (round by round, so each pair ran under about the same load)."""
    xs = [(ra["requests"] / ra["wall"]) / (rb["requests"] / rb["wall"]) for ra, rb in zip(a.runs, b.runs)]
    return "" if len(xs) < 2 else "; round by round " + ", ".join(f"{x:.2f}x" for x in xs)


def cost(run: dict) -> float:
    """What a kernel case costs, lower is better: CPU-minutes for the solve (its CPU time is the figure),
    µs of wall time per request for the others."""
    if run.get("requests") is None:
        return run["cpu_s"] / 60.0
    return run["wall"] / run["requests"] * 1e6


def cost_unit(case: Case) -> str:
    return "CPU-min" if case.spec["kind"] == "cli-solve" else "µs/request"


def best_cost(case: Case) -> float | None:
    costs = [cost(r) for r in case.runs]
    return min(costs) if costs else None


def speedup(python: Case, compiled: Case) -> tuple[float | None, list[float]]:
    """python cost / compiled cost, best against best, and round by round."""
    a, b = best_cost(python), best_cost(compiled)
    rounds = [cost(rp) / cost(rc) for rp, rc in zip(python.runs, compiled.runs)]
    return (a / b if a and b else None), rounds


def kernel_pairs(cases: list[Case]) -> list[tuple[Case, Case]]:
    """(python, compiled) of each kernel pair that was selected, in the table's order."""
    by_pair: dict[str, dict[str, Case]] = {}
    for c in cases:
        if c.pair:
            by_pair.setdefault(c.pair, {})[c.kernel] = c
    return [(d["python"], d["compiled"]) for d in by_pair.values() if "python" in d and "compiled" in d]
