"""What the quota pools carried in a run: peak demand and where it comes from, and the KMS figures per level."""
from __future__ import annotations


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
    }


def demand_breakdown(result, level: str, scenario) -> dict:
    """Peak operations per second and per minute of the quota pools of `level` in an unconstrained run."""
    runs = result.summary["runs"]
    def peaks(key):
        return [max((p[key] for name, p in r["kms"].get("quota_pools", {}).items() if name.endswith("/" + level)),
                    default=0) for r in runs]
    per_s, per_m = peaks("peak_admitted_per_second"), peaks("peak_admitted_per_minute")
    rows = [r for r in result.outputs[0].kms_usage if str(r["pool"]).endswith("/" + level)]
    cats = ("starts", "validation", "deploy", "background")
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
    return {"peak_per_second_mean": sum(per_s) / len(per_s), "peak_per_second_max": max(per_s),
            "peak_per_minute_mean": sum(per_m) / len(per_m), "peak_per_minute_max": max(per_m),
            "peak_per_second_by_replication": per_s, "peak_per_minute_by_replication": per_m,
            "decrypts_per_start": decrypts,
            "peak_second_replication0": at_peak(by_second), "peak_minute_replication0": at_peak(by_minute)}
