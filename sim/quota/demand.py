"""What the quota pools carried in a run: peak demand and where it comes from, and the KMS figures per level."""
from __future__ import annotations

CATEGORIES = ("starts", "validation", "deploy", "background")


def kms_figures(summary: dict, level: str) -> dict:
    runs = summary["runs"]
    n = len(runs)
    def mean(get):
        return sum(get(r) for r in runs) / n
    pools = lambda r: [p for name, p in r["kms"].get("quota_pools", {}).items() if name.endswith("/" + level)]
    return {
        "resource_exhausted_mean": mean(lambda r: r["kms"]["resource_exhausted"]),
        "starts_failed_quota_exceeded_mean": mean(
            lambda r: sum(s["instance_starts_failed"]["quota_exceeded"] for s in r["services"].values())),
        "peak_admitted_per_second_mean": mean(lambda r: max((p["peak_admitted_per_second"] for p in pools(r)),
                                                            default=0)),
        "peak_admitted_per_minute_mean": mean(lambda r: max((p["peak_admitted_per_minute"] for p in pools(r)),
                                                            default=0)),
        # soft enforcement: served over the quota on the region's spare capacity (0 for a hard pool)
        "served_over_quota_mean": mean(lambda r: sum(p.get("served_over_quota_services", 0)
                                                     + p.get("served_over_quota_background", 0) for p in pools(r))),
        # what a user would see: the requests that failed (429, 504, at shutdown), all services together
        "requests_failed_mean": mean(lambda r: sum(_failed(s["requests"]) for s in r["services"].values())),
        "failed_fraction_mean": mean(lambda r: _share(sum(_failed(s["requests"]) for s in r["services"].values()),
                                                      sum(s["requests"]["arrived"] for s in r["services"].values()))),
        "shortfall_fraction_mean": mean(lambda r: max((s["capacity"]["shortfall_fraction"] or 0.0
                                                       for s in r["services"].values()), default=0.0)),
    }


def _failed(requests: dict) -> int:
    from ..summary_schema import failed_requests
    return failed_requests(requests)


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def peaks_from(rows: list[dict], level: str, start_s: float) -> tuple[int, int]:
    """(peak per second, peak per minute) of the operations requested of the `level` pools from `start_s` on,
    from kms_usage rows; minutes are the run's minutes (0-59 s, 60-119 s...), counting their seconds from
    `start_s` on."""
    per_second: dict = {}
    per_minute: dict = {}
    for r in rows:
        if not str(r["pool"]).endswith("/" + level) or r["second"] < start_s:
            continue
        n = sum(r[c] or 0 for c in CATEGORIES)
        per_second[(r["pool"], r["second"])] = per_second.get((r["pool"], r["second"]), 0) + n
        key = (r["pool"], r["second"] // 60)
        per_minute[key] = per_minute.get(key, 0) + n
    return max(per_second.values(), default=0), max(per_minute.values(), default=0)


def demand_breakdown(result, level: str, scenario) -> dict:
    """Peak operations per second and per minute of the quota pools of `level` in an unconstrained run."""
    runs = result.summary["runs"]
    def peaks(key):
        return [max((p[key] for name, p in r["kms"].get("quota_pools", {}).items() if name.endswith("/" + level)),
                    default=0) for r in runs]
    per_s, per_m = peaks("peak_admitted_per_second"), peaks("peak_admitted_per_minute")
    rows = [r for r in result.outputs[0].kms_usage if str(r["pool"]).endswith("/" + level)]
    cats = CATEGORIES
    def at_peak(groups: dict) -> dict:
        if not groups:
            return {c: 0 for c in cats} | {"total": 0, "at_s": None}
        at, counts = max(groups.items(), key=lambda kv: (sum(kv[1][c] for c in cats), -kv[0][1]))
        return {c: counts[c] for c in cats} | {"total": sum(counts[c] for c in cats), "at_s": at[1], "pool": at[0]}
    by_second, by_minute = {}, {}
    for r in rows:
        for groups, key in ((by_second, (r["pool"], r["second"])), (by_minute, (r["pool"], r["second"] // 60 * 60))):
            g = groups.setdefault(key, {c: 0 for c in cats})
            for c in cats:
                g[c] += r[c] or 0
    decrypts = sorted({s.key_operations.decrypts_per_start for s in scenario.services if s.encryption_key})
    # the anchor of the search: from the warm-up on when the scenario has one, so the start-up burst of a run
    # that starts empty does not set it (the exact short-cut keeps the whole run's peaks)
    warmup = float(scenario.warmup)
    after = [peaks_from(o.kms_usage, level, warmup) for o in result.outputs] if warmup > 0 else None
    anchor = {"anchor_excludes_warmup": warmup > 0, "warmup_s": warmup}
    if after is not None:
        anchor |= {"anchor_peak_per_second_mean": sum(a[0] for a in after) / len(after),
                   "anchor_peak_per_minute_mean": sum(a[1] for a in after) / len(after)}
    else:
        anchor |= {"anchor_peak_per_second_mean": sum(per_s) / len(per_s),
                   "anchor_peak_per_minute_mean": sum(per_m) / len(per_m)}
    return anchor | {"peak_per_second_mean": sum(per_s) / len(per_s), "peak_per_second_max": max(per_s),
            "peak_per_minute_mean": sum(per_m) / len(per_m), "peak_per_minute_max": max(per_m),
            "peak_per_second_by_replication": per_s, "peak_per_minute_by_replication": per_m,
            "decrypts_per_start": decrypts,
            "peak_second_replication0": at_peak(by_second), "peak_minute_replication0": at_peak(by_minute)}
