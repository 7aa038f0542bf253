"""quota_report.md: the text and table an analyst pastes into a quota-increase request (from quota.json)."""
from __future__ import annotations

from ..slo import evidence_line

LEVEL_NAMES = {"hsm": "HSM", "external": "external (Cloud EKM)"}


def fmt_number(x, digits: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.{digits}g}" if abs(x) < 1000 else f"{x:,.0f}"
    return f"{x:,.0f}"


def _rate(rpm: float, enforcement: str) -> str:
    if enforcement == "per-second":
        return f"{rpm:,.0f}/min ({rpm / 60:,.0f}/s)"
    return f"{rpm:,.0f}/min"


def _level(q: dict, rpm: float) -> dict | None:
    return next((lv for lv in q["levels"] if lv["requests_per_minute"] == rpm), None)


def _demand_section(q: dict) -> list[str]:
    d, enforcement = q["peak_demand"], q["enforcement"]
    dec = d["decrypts_per_start"]
    per_start = f"{dec[0]} decrypts per start" if len(dec) == 1 else "decrypts per start " + "/".join(map(str, dec))
    lines = ["## Peak demand (unconstrained, simulated)", "",
             f"With no quota limit, the services and the other consumers of the same quota request at peak "
             f"**{fmt_number(d['peak_per_second_mean'])} operations per second** (mean over replications; largest "
             f"{fmt_number(d['peak_per_second_max'])}) and **{fmt_number(d['peak_per_minute_mean'])} per minute** (largest "
             f"{fmt_number(d['peak_per_minute_max'])}). Quota is enforced {enforcement}, so the peak demand in requests "
             f"per minute is **{q['unconstrained_peak_requests_per_minute']:,}/min**"
             + (" (peak per second × 60)." if enforcement == "per-second" else " (peak per minute)."), "",
             f"Where the peak comes from (replication 0; {per_start}):", "",
             "| window | instance-start decrypts | ≈ instance starts | validation checks | deploys | "
             "background | total |", "|---|---:|---:|---:|---:|---:|---:|"]
    for name, p in (("peak second", d["peak_second_replication0"]), ("peak minute", d["peak_minute_replication0"])):
        starts = fmt_number(p["starts"] / dec[0]) if len(dec) == 1 and dec[0] else "–"
        at = "" if p.get("at_s") is None else f" (t = {p['at_s']:,.0f} s)"
        lines.append(f"| {name}{at} | {p['starts']:,} | {starts} | {p['validation']:,} | {p['deploy']:,} | "
                     f"{p['background']:,} | {p['total']:,} |")
    lines += ["", "Peak = instance starts × decrypts per start + validation checks (one encrypt and one decrypt "
              "per service per interval) + deploys + background consumers of the same quota.", ""]
    return lines


def _soft_section(q: dict) -> list[str]:
    """Soft enforcement (HSM since 2026-02-16): what the quota guarantees, and what the headroom may add."""
    if q.get("quota_enforcement") != "soft":
        return []
    cur, lv = q["current_requests_per_minute"], q["current_with_headroom"]
    h, enforcement = q["soft_headroom"], q["enforcement"]
    return ["## Soft enforcement: what is guaranteed is the quota", "",
            "Since 2026-02-16 Cloud KMS soft-enforces HSM quotas: a request over the quota is served \"if the "
            "system can serve the request\" (https://cloud.google.com/kms/quotas), that is while the region has "
            "spare capacity. That service is best effort: only the quota is guaranteed. So the recommendation "
            f"above, {_rate(q['guaranteed_requests_per_minute'], enforcement)}, is the quota at which the "
            "objectives hold with nothing served over it (the pool run as hard-enforced): the figure to ask for.",
            "",
            f"- **At the current quota, {_rate(cur, enforcement)}, with the assumed headroom** (the region serves "
            f"up to {h:g}x the quota; an assumption, `kms.quota.soft_headroom`): SLOs "
            f"{'met' if lv['met'] else '**not met**'}, {fmt_number(lv['kms']['served_over_quota_mean'])} requests "
            f"served over the quota, {fmt_number(lv['kms']['resource_exhausted_mean'])} RESOURCE_EXHAUSTED and "
            f"{fmt_number(lv['kms']['starts_failed_quota_exceeded_mean'])} instance starts failed on quota per run "
            "(means). Spare capacity that is not there when the burst comes (a `kms-region-busy` fault) "
            "gives the current quota's hard-enforced figures in the table below.", ""]


def _table(q: dict) -> list[str]:
    slos = list(dict.fromkeys((r["slo"], r["service"]) for r in q["levels"][0]["metrics"]))
    head = ["quota (requests/min)", "meets SLOs"] + [f"{s} ({svc}) mean [bounds]" for s, svc in slos] + [
        "RESOURCE_EXHAUSTED (mean)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    marks: dict = {}
    for rpm, mark in ((q["current_requests_per_minute"], "current"),
                      (q["recommended_requests_per_minute"], "**recommended**"),
                      ((q["at_80_percent"] or {}).get("requests_per_minute"), "80% of recommended")):
        marks.setdefault(rpm, []).append(mark)
    for lv in q["levels"]:
        rpm = lv["requests_per_minute"]
        label = _rate(rpm, q["enforcement"]) + (f" ← {', '.join(marks[rpm])}" if rpm in marks else "")
        cells = [label + (" ⤳" if lv.get("short_cut") else ""), "yes" if lv["met"] else "no"]
        for s, svc in slos:
            r = next(r for r in lv["metrics"] if r["slo"] == s and r["service"] == svc)
            low = r["low"]
            if low is not None and all(v is None or v >= 0 for v in r["values"]):
                low = max(low, 0.0)        # a count or a duration: its bound stops at zero
            cells.append(f"{fmt_number(r['mean'])} [{fmt_number(low)}, {fmt_number(r['high'])}]")
        cells.append(fmt_number(lv["kms"]["resource_exhausted_mean"]))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def user_impact(kms: dict) -> str:
    """What a user would see at a level: failed instance starts and failed requests per run (means)."""
    return (f"{fmt_number(kms['starts_failed_quota_exceeded_mean'])} instance starts fail on quota and "
            f"{_share_text(kms.get('failed_fraction_mean'))} of requests fail "
            f"({fmt_number(kms.get('requests_failed_mean'))} per run, means)")


def _share_text(x) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.2g}%" if x else "0%"


def recommendation_line(q: dict) -> str:
    """The headline, in words: a cut below the current quota says what it would cost a user."""
    level = LEVEL_NAMES.get(q["protection"], q["protection"])
    rec, cur = q["recommended_requests_per_minute"], q["current_requests_per_minute"]
    where = (f"the {level} quota of the key project (`{q['quota_field']}`, enforced {q['enforcement']}) from "
             f"{_rate(cur, q['enforcement'])} to {_rate(rec, q['enforcement'])}")
    if rec > cur:
        return f"Recommendation: raise {where}."
    if rec == cur:
        return f"Recommendation: keep {where.split(' from ')[0]} at {_rate(cur, q['enforcement'])}."
    at_rec, at_cur = _level(q, rec)["kms"], _level(q, cur)["kms"]
    worse = (at_rec["starts_failed_quota_exceeded_mean"] > at_cur["starts_failed_quota_exceeded_mean"]
             or at_rec.get("requests_failed_mean", 0) > at_cur.get("requests_failed_mean", 0))
    text = (f"The objectives would still hold if you lowered {where}, which is below the current quota: at "
            f"{_rate(rec, q['enforcement'])} {user_impact(at_rec)}, against {user_impact(at_cur)} at the current "
            "quota.")
    if worse:
        text += (" The objectives allow that; if failed starts or failed requests matter, add an objective for "
                 "them (`instance_starts_failed.quota_exceeded<=0`, `requests.failed_fraction<=...`) before "
                 "lowering anything.")
    return text


def anchor_line(q: dict) -> str:
    """Whether the search's anchor (the unconstrained peak) left the start-up transient out."""
    a = q.get("anchor")
    if not a:
        return ""
    if a["excludes_warmup"]:
        return (f"The anchor of the search is the unconstrained peak from the warm-up on (the first "
                f"{a['warmup_s']:g} s left out, with any start-up burst in them).")
    return ("The anchor of the search is the unconstrained peak over the whole run, the start-up included (the "
            "scenario has no warmup): a run that starts empty at a high rate puts a cold-start burst at t = 0 "
            "into it; `warm_start: true` on the service, or a `warmup`, leaves it out.")


def report_markdown(q: dict) -> str:
    rec, cur = q["recommended_requests_per_minute"], q["current_requests_per_minute"]
    at80 = q["at_80_percent"]
    lines = [f"# Cloud KMS quota recommendation — {q['scenario']}", "",
             f"**{recommendation_line(q)}**", "",
             f"It is the smallest tidy quota at which every objective below holds for every service with "
             f"{q['confidence']:.0%} one-sided confidence over {q['replications']} paired replications "
             "(the same random streams at every quota level):", ""]
    lines += [f"- `{s}`" for s in q["slo"]]
    if any(o["op"] in ("<", "<=") and o["threshold"] == 0 for o in q.get("objectives", [])):
        lines += ["", f"A `<= 0` objective must hold in every one of the {q['replications']} replications, so the "
                      "recommendation covers the worst of them; more replications can only raise it."]
    peak = q["unconstrained_peak_requests_per_minute"]
    lines += ["", f"The unconstrained peak demand (simulated, no quota limit) is {_rate(peak, q['enforcement'])}; "
              f"the recommendation is {rec / peak:.0%} of it. {anchor_line(q)}".rstrip(), ""]
    lines += _soft_section(q)
    lines += _demand_section(q)
    lines += ["## Evidence", ""]
    hard = " (run hard: no spare capacity)" if q.get("quota_enforcement") == "soft" else ""
    for name, rpm in (("At the current quota" + hard, cur), ("At the recommendation", rec),
                      ("At 80% of the recommendation", (at80 or {}).get("requests_per_minute"))):
        lv = _level(q, rpm)
        if lv is not None:
            lines.append(f"- **{name} ({_rate(rpm, q['enforcement'])})**: SLOs "
                         f"{'met' if lv['met'] else '**not met**'}, {fmt_number(lv['kms']['resource_exhausted_mean'])} "
                         f"RESOURCE_EXHAUSTED and {fmt_number(lv['kms']['starts_failed_quota_exceeded_mean'])} instance "
                         f"starts failed on quota per run (means)"
                         + (f"; {_share_text(lv['kms']['failed_fraction_mean'])} of requests failed"
                            if "failed_fraction_mean" in lv["kms"] else "") + ". "
                         f"{evidence_line(lv['metrics'], q['confidence'], fmt_number)}.")
    if "levels_run" in q:
        lines += ["", f"Runs: {q['levels_run']} levels simulated (the unlimited run included), {q['levels_skipped']} "
                  "short-cut: a quota at or above the largest peak demand per enforcement window of any replication "
                  "refuses nothing, so under common random numbers its runs are the unlimited ones, bit for bit, "
                  "and are reused rather than run (marked ⤳ in the table)."]
    lines += ["", "Every quota level the solver tried (bounds are one-sided "
              f"{q['confidence']:.0%} bounds of the mean over replications; `<= 0` objectives must hold in "
              "every replication):", ""]
    lines += _table(q)
    lines += ["", "## Method", "",
              "Discrete-event simulation of the Cloud Run services, their instance starts and the key operations "
              "each start makes against Cloud KMS, with the quota enforced hard (requests over the limit get "
              "RESOURCE_EXHAUSTED and fail the instance start; a soft-enforced HSM pool is run hard here, "
              "its headroom only at the current quota). The solver starts from the current "
              "quota and the peak demand, doubles or halves until one level meets the objectives and one does "
              "not, bisects to about 3%, and rounds up to a tidy number that it runs again. "
              "`quota_curve.png` shows the objectives' metrics against the quota."]
    if q.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in q["notes"]]
    return "\n".join(lines) + "\n"
