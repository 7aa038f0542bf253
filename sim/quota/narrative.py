"""The sentences of the quota-justification notebook, computed from the figures (never written ahead of them).

- `request_header`: the project, the region and the quota as Google's console names it, for the request.
- `peak_split`: the busiest second split into the services' own calls and the background load.
- `impact` and `compare`: what a user would see (refused starts, 429/504/shutdown failures, the failed share,
  the capacity shortfall) at two quotas run on the same replications (paired: common random numbers), and
  plain sentences saying what changed and what did not. A figure "changes" when its paired differences
  moved the same way in every replication, or their mean lies outside its 95% Student-t interval's
  half-width, and by more than 1% of the larger mean: anything less is reported as unchanged, so an
  increase that changes nothing a user would see is said to.
"""
from __future__ import annotations

# The quota as Cloud KMS's quotas page and the console name it (hosting project, per region); the metric is
# the console's filter. Source: https://cloud.google.com/kms/quotas (HSM: "HSM symmetric cryptographic
# requests per region", 500 QPS default). The EKM quota's display name was not confirmed: its metric is.
QUOTA_NAMES = {
    "hsm": ("HSM symmetric cryptographic requests per region", "cloudkms.googleapis.com/hsm_symmetric_requests"),
    "external": ("Cloud EKM cryptographic requests (the console row of the metric below)",
                 "cloudkms.googleapis.com/external_kms_requests"),
}
RELATIVE_TOLERANCE = 0.01


def _keys(scenario, protection: str) -> list:
    used = {s.encryption_key for s in scenario.services} | {
        getattr(f, "encryption_key", None) for f in scenario.faults if f.kind == "deploy"}
    return [k for k in scenario.keys if k.id in used
            and ("external" if k.is_external else k.protection) == protection]


def request_header(scenario, protection: str, current_rpm: float, recommended_rpm: float | None = None) -> str:
    """Markdown naming what to ask for: the key project(s), the region(s), the quota and its metric."""
    name, metric = QUOTA_NAMES[protection]
    keys = _keys(scenario, protection)
    projects = sorted({k.project for k in keys}) or ["(no key of this protection level in use)"]
    regions = sorted({k.location for k in keys}) or ["-"]
    lines = [f"- **Project** (the key's hosting project, which the quota is charged to): {', '.join(projects)}",
             f"- **Region**: {', '.join(regions)}",
             f"- **Quota**: {name} (metric `{metric}`), in the console under *Cloud Key Management Service (KMS) "
             "API > Quotas & System Limits*, filtered on the region",
             f"- **Current limit**: {current_rpm:,.0f} per minute ({current_rpm / 60:,.4g} per second)"]
    if recommended_rpm is not None:
        lines.append(f"- **Requested limit**: {recommended_rpm:,.0f} per minute ({recommended_rpm / 60:,.4g} per "
                     "second)")
    return "\n".join(lines)


def peak_split(demand: dict) -> str:
    """The busiest second of the unconstrained run (replication 0), split into the services' own calls and
    the other consumers' (background) load."""
    p = demand["peak_second_replication0"]
    total = p["total"]
    own = p["starts"] + p["validation"] + p["deploy"]
    if not total:
        return "The unconstrained run made no key operation on this quota."
    at = "" if p.get("at_s") is None else f" (t = {p['at_s']:,.0f} s, replication 0)"
    parts = [f"{p['starts']:,} instance-start decrypts"]
    if p["validation"]:
        parts.append(f"{p['validation']:,} validation checks")
    if p["deploy"]:
        parts.append(f"{p['deploy']:,} deploy operations")
    return (f"The busiest second{at} asked this quota for {total:,} operations: **{own:,} from the services' own "
            f"calls** ({', '.join(parts)}) and **{p['background']:,} from background load** (other consumers of "
            f"the same quota), so the services' own calls were {own / total:.0%} of the peak.")


# figure -> (words, how to show a value, whether users see it)
FIGURES = {
    "starts_refused": ("instance starts refused on quota", "count", False),
    "failed_429": ("429 responses", "count", True),
    "failed_504": ("504 responses", "count", True),
    "failed_shutdown": ("requests failed at shutdown", "count", True),
    "failed_fraction": ("the share of failed requests", "share", True),
    "shortfall": ("the capacity shortfall", "share", True),
}


def impact(summary: dict) -> dict:
    """figure -> its value in each replication, all services together (shortfall: the worst service's)."""
    runs = summary["runs"]
    services = list(runs[0]["services"]) if runs else []

    def per_run(get):
        return [get(r["services"]) for r in runs]

    values = {
        "starts_refused": per_run(lambda s: sum(x["instance_starts_failed"]["quota_exceeded"] for x in s.values())),
        "failed_429": per_run(lambda s: sum(x["requests"]["failed_429"] for x in s.values())),
        "failed_504": per_run(lambda s: sum(x["requests"]["failed_504"] for x in s.values())),
        "failed_shutdown": per_run(lambda s: sum(x["requests"]["failed_shutdown"] for x in s.values())),
        "failed_fraction": per_run(lambda s: _share(sum(x["requests"]["failed_429"] + x["requests"]["failed_504"]
                                                        + x["requests"]["failed_shutdown"] for x in s.values()),
                                                    sum(x["requests"]["arrived"] for x in s.values()))),
        "shortfall": per_run(lambda s: max((s[n]["capacity"]["shortfall_fraction"] or 0.0 for n in services),
                                           default=0.0)),
    }
    return values


def _share(part, whole) -> float:
    return part / whole if whole else 0.0


def _mean_half(xs: list) -> tuple[float, float]:
    import math
    n = len(xs)
    mean = sum(xs) / n if n else 0.0
    if n < 2:
        return mean, 0.0
    from scipy import stats
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    return mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)


def _shown(value: float, kind: str) -> str:
    if kind == "share":
        return f"{100 * value:.2g}%" if value else "0%"
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def _mean(xs: list) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def changed(a: list, b: list) -> bool:
    """Whether a figure moved from `a` to `b` (its values in the same replications) beyond their spread."""
    diffs = [y - x for x, y in zip(a, b)]
    mean, half = _mean_half(diffs)
    if abs(mean) <= RELATIVE_TOLERANCE * max(abs(_mean(a)), abs(_mean(b))) or mean == 0:
        return False
    same_way = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
    return same_way or abs(mean) > half


def compare(before: dict, after: dict, before_label: str, after_label: str) -> list[str]:
    """Sentences on what goes from `before` to `after` (two `impact` results on the same replications)."""
    out = []
    before = {k: (v, _mean(v)) for k, v in before.items()}
    after = {k: (v, _mean(v)) for k, v in after.items()}
    starts_b, starts_a = before["starts_refused"], after["starts_refused"]
    if changed(starts_b[0], starts_a[0]):
        out.append(f"From {before_label} to {after_label}, instance starts refused on quota go from "
                   f"{_shown(starts_b[1], 'count')} to {_shown(starts_a[1], 'count')} per run (means).")
    else:
        out.append(f"From {before_label} to {after_label}, instance starts refused on quota stay at about "
                   f"{_shown(starts_b[1], 'count')} per run (within the replications' spread).")
    visible = [k for k, (_, _, seen) in FIGURES.items() if seen]
    moved = [k for k in visible if changed(before[k][0], after[k][0])]
    same = [k for k in visible if k not in moved and (before[k][1] or after[k][1])]
    if moved:
        out.append("What users see changes: " + "; ".join(
            f"{FIGURES[k][0]} go{'es' if FIGURES[k][1] == 'share' else ''} from {_shown(before[k][1], FIGURES[k][1])} "
            f"to {_shown(after[k][1], FIGURES[k][1])}" for k in moved) + " per run (means).")
        if same:
            out.append("Unchanged within the replications' spread: " + ", ".join(
                f"{FIGURES[k][0]} ({_shown(before[k][1], FIGURES[k][1])})" for k in same) + ".")
    else:
        shown = ", ".join(f"{FIGURES[k][0]} ({_shown(before[k][1], FIGURES[k][1])} and "
                          f"{_shown(after[k][1], FIGURES[k][1])})" for k in same)
        out.append("**Nothing a user would see changes**: "
                   + (f"{shown}: the same within the replications' spread." if same
                      else "no request fails and there is no capacity shortfall at either quota."))
    return out
