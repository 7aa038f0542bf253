"""`sim sensitivity --solve PATH --slo EXPR`: how the solved answer moves with each assumption.

Each arm of the study (the centre, and each assumption at its low and high value, or its relative range) is
solved as `sim solve` would (sim/study/solve.py: the smallest value of PATH meeting the SLOs, on paired
replications); the rows say the answer at low and at high beside the centre's, largest move first. An arm
whose SLOs are not met within the solver's bounds has no answer (null, "not met")."""
from __future__ import annotations


def check_solve(scenario, param: str, slos: list, replications: int):
    """A Solver of the centre: refuses a bad path or SLO before anything runs (SolveError, SloError)."""
    from .solve import Solver
    return Solver(scenario, param, slos, replications=max(2, replications))


def solve_arms(arms, param: str, slos: list, replications: int, *, workers: int = 1, scheduler=None,
               kernel: str = "auto") -> dict:
    """sensitivity.json's `solve` section: the answer of every arm, per assumption at low and at high."""
    from .solve import Solver, Unmet
    answers: dict[int, float | None] = {}
    for cell, scenario in enumerate(arms.cells):
        try:
            answers[cell] = Solver(scenario, param, slos, replications=max(2, replications), workers=workers,
                                   scheduler=scheduler, kernel=kernel).solve().recommended
        except Unmet:
            answers[cell] = None
    rows = [{"assumption": p, "answer_low": answers[lo], "answer_centre": answers[0], "answer_high": answers[hi]}
            for p, (lo, hi) in arms.pairs.items()]

    def move(row):
        values = [v for v in (row["answer_low"], row["answer_centre"], row["answer_high"]) if v is not None]
        return -(max(values) - min(values)) if len(values) > 1 else 0.0
    rows.sort(key=move)
    return {"param": param, "slo": [s.text for s in slos], "answer": answers[0], "rows": rows}


def solve_table(section: dict) -> str:
    def shown(v):
        return "not met" if v is None else f"{v:g}"
    width = max([len("assumption")] + [len(r["assumption"]) for r in section["rows"]])
    lines = [f"answer of {section['param']} ({', '.join(section['slo'])}): {shown(section['answer'])} as is",
             f"  {'assumption':<{width}}  {'at low':>9}  {'as is':>9}  {'at high':>9}"]
    lines += [f"  {r['assumption']:<{width}}  {shown(r['answer_low']):>9}  {shown(r['answer_centre']):>9}  "
              f"{shown(r['answer_high']):>9}" for r in section["rows"]]
    return "\n".join(lines)
