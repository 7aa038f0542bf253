"""solve_report.md: what was asked, the answer, the evidence and every level tried (from solve.json)."""
from __future__ import annotations

from ..slo import evidence_line


def _g(x) -> str:
    if x is None:
        return "–"
    return f"{x:,.0f}" if isinstance(x, int) or float(x).is_integer() and abs(x) >= 1 else f"{x:.4g}"


def _level(q: dict, value) -> dict | None:
    return next((lv for lv in q["levels"] if lv["value"] == value), None)


def _count(x) -> str:
    """A mean count of requests: whole above 100 (15,630), else 4 digits (2.5)."""
    return "–" if x is None else f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def _usd(x) -> str:
    return "–" if x is None else f"${x:,.0f}" if abs(x) >= 100 else f"${x:,.2f}"


def _signed_usd(x) -> str:
    return ("+" if x >= 0 else "−") + _usd(abs(x))


def _failed_windows(q: dict) -> list[str]:
    """The windows of the failed-request columns: the SLOs' windows, then the whole run."""
    return [w for w in q["levels"][0].get("failed_requests", {}) if w != "run"] + ["run"]


def cost_line(q: dict) -> str | None:
    """The answer's cost beside its capacity, in one line: against the largest level tried below it."""
    rec = _level(q, q["recommended"])
    below = [lv for lv in q["levels"] if lv["value"] < q["recommended"]]
    if rec is None or not below or "cost_per_month_usd" not in rec:
        return None
    prev = below[-1]

    def fewer(window: str) -> str:
        n = prev["failed_requests"][window] - rec["failed_requests"][window]
        return f"{_count(abs(n))} {'fewer' if n >= 0 else 'more'}"

    windows = _failed_windows(q)
    failed = f"{fewer(windows[0])} failed requests per run " + (
        "over the whole run" if windows[0] == "run" else
        f"during `{windows[0]}`" + "".join(f", {fewer(w)} during `{w}`" for w in windows[1:-1])
        + f" ({fewer('run')} over the whole run)")
    return (f"`{q['param']}` = {_g(q['recommended'])} costs {_usd(rec['cost_per_month_usd'])} a month, "
            f"{_signed_usd(rec['cost_per_month_usd'] - prev['cost_per_month_usd'])} against {_g(prev['value'])}, "
            f"with {failed}; means over the replications, the cost at the scenario's traffic for 30 days (the "
            "simulated span repeated)")


def _table(q: dict) -> list[str]:
    slos = list(dict.fromkeys((r["slo"], r["service"]) for r in q["levels"][0]["metrics"]))
    costs = "cost_per_month_usd" in q["levels"][0]
    windows = _failed_windows(q) if costs else []
    head = [q["param"], "meets SLOs"] + [f"{s} ({svc}) mean [bounds]" for s, svc in slos] + (
        ["cost per month (vs previous level)"] + [f"failed requests ({w})" for w in windows] if costs else []) + \
        ["wall s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    marks: dict = {}
    for value, mark in ((q["current"], "current"), (q["recommended"], "**recommended**"),
                        ((q["at_80_percent"] or {}).get("value"), "80% of recommended")):
        marks.setdefault(value, []).append(mark)
    previous = None
    for lv in q["levels"]:
        v = lv["value"]
        cells = [_g(v) + (f" ← {', '.join(marks[v])}" if v in marks else ""), "yes" if lv["met"] else "no"]
        for s, svc in slos:
            r = next(r for r in lv["metrics"] if r["slo"] == s and r["service"] == svc)
            low = r["low"]
            if low is not None and all(x is None or x >= 0 for x in r["values"]):
                low = max(low, 0.0)
            cells.append(f"{_g(r['mean'])} [{_g(low)}, {_g(r['high'])}]")
        if costs:
            delta = "" if previous is None else \
                f" ({_signed_usd(lv['cost_per_month_usd'] - previous['cost_per_month_usd'])})"
            cells.append(_usd(lv["cost_per_month_usd"]) + delta)
            cells += [_count(lv["failed_requests"][w]) for w in windows]
            previous = lv
        cells.append(f"{lv['wall_seconds']:.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report_markdown(q: dict) -> str:
    rec, at80 = q["recommended"], q["at_80_percent"]
    who = f"service `{q['service']}`" if q.get("service") else "every service"
    bounds = f"between {_g(q['low'])} and " + (_g(q["high"]) if q["high"] is not None else "no set upper bound")
    lines = [f"# Smallest `{q['param']}` meeting the objectives — {q['scenario']}", "",
             f"**Answer: `{q['param']}` = {_g(rec)}** (currently {_g(q['current'])}).", "",
             f"Asked: the smallest {'whole number' if q['kind'] == 'integer' else 'value'} of `{q['param']}` "
             f"({bounds}) at which every objective below holds for {who} with {q['confidence']:.0%} one-sided "
             f"confidence over {q['replications']} paired replications (the same random streams at every level):",
             ""]
    lines += [f"- `{s}`" for s in q["slo"]]
    lines += ["", f"Assumed: {q['assumption']}. The search relies on it; the table below shows whether the levels "
              "tried agree.", ""]
    if at80:
        lines.append(f"**80% check**: at {_g(at80['value'])} the objectives are "
                     f"{'also met — the answer may be generous' if at80['met'] else 'not met'}.")
        lines.append("")
    cost = cost_line(q)
    if cost:
        lines += [f"**Cost beside capacity**: {cost}.", ""]
    lines += ["## Evidence", ""]
    for name, value in (("At the current value", q["current"]), ("At the answer", rec),
                        ("At 80% of the answer", (at80 or {}).get("value"))):
        lv = _level(q, value)
        if lv is not None:
            lines.append(f"- **{name} ({_g(value)})**: objectives {'met' if lv['met'] else '**not met**'}. "
                         f"{evidence_line(lv['metrics'], q['confidence'], _g)}.")
    lines += ["", f"Runs: {q['levels_run']} levels simulated, {q['levels_skipped']} short-cut. Every level tried "
              f"(bounds are one-sided {q['confidence']:.0%} bounds of the mean over replications; `<= 0` objectives "
              "must hold in every replication):", ""]
    lines += _table(q)
    lines += ["", "## Method", "",
              "From the current value (within the bounds) the solver doubles until a level meets the objectives, "
              "halves until one fails, and bisects the bracket to one step (whole numbers) or 3% of the answer; "
              "then it runs 80% of the answer as evidence. `solve_curve.png` shows each objective's metric against "
              "the setting."]
    if q.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in q["notes"]]
    return "\n".join(lines) + "\n"
