"""The short table `sim run` prints at the end."""
from __future__ import annotations


def _fmt(x, unit: str = "", digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, dict):
        x = x["mean"]
        if x is None:
            return "-"
    return f"{x:.{digits}f}{unit}" if isinstance(x, float) else f"{x}{unit}"


def summary_table(summary: dict) -> str:
    agg = summary["aggregate"]
    head = ("service", "arrived", "429", "504", "shutdown", "p50 lat", "p99 lat", "cold starts", "cold p99",
            "starts failed", "shortfall", "cost")
    rows = [head]
    for name, s in agg["services"].items():
        r = s["requests"]
        failed = sum(_num(v) for v in s["instance_starts_failed"].values())
        rows.append((name, _fmt(r["arrived"], digits=0), _fmt(r["failed_429"], digits=0),
                     _fmt(r["failed_504"], digits=0), _fmt(r["failed_shutdown"], digits=0),
                     _fmt(s["latency_s"]["p50"], "s", 3), _fmt(s["latency_s"]["p99"], "s", 3),
                     _fmt(s["cold_starts"]["count"], digits=0), _fmt(s["cold_starts"]["latency_s"]["p99"], "s"),
                     f"{failed:.0f}", _fmt(_pct(s["capacity"]["shortfall_fraction"]), "%", 1),
                     _usd(s["cost"]["total_usd"])))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    k = agg["kms"]
    lines.append(f"KMS, the services' own calls: {_count(k['operations'])} operations, peak "
                 f"{_count(k['peak_per_second'])}/s and {_count(k['peak_per_minute'])}/min, RESOURCE_EXHAUSTED "
                 f"{_count(k['resource_exhausted'])}" + _other_failures(k))
    lines.extend(pool_line(name, p) for name, p in k["quota_pools"].items())
    lines.append("cost: USD for the simulated time at the scenario's prices (by default list prices; free tiers "
                 "ignored)")
    if summary["replications"] > 1:
        lines.append(f"(means over {summary['replications']} replications; summary.json has 95% intervals)")
    return "\n".join(lines)


def pool_line(name: str, p: dict) -> str:
    """One quota pool: its peak load including other consumers' (background) requests, against its quota,
    and what it refused."""
    rpm = _num(p["requests_per_minute"])
    quota = f"{rpm:,.0f}/min" + (f" = {rpm / 60:,.4g}/s" if p["enforcement"] == "per-second" else "")
    refused_services, refused_bg = _num(p["rejected_services"]), _num(p["rejected_background"])
    soft = p.get("quota_enforcement") == "soft"         # older summaries lack it: hard
    mode = f"soft, served up to {_num(p['soft_headroom']):g}x" if soft else "hard"
    over = ""
    if soft:    # served over the quota: best effort, only while the region has spare capacity
        over_services, over_bg = _num(p["served_over_quota_services"]), _num(p["served_over_quota_background"])
        over = (f"{over_services + over_bg:,.0f} served over quota ({over_services:,.0f} services', "
                f"{over_bg:,.0f} background); ")
    return (f"KMS pool {name} (quota {quota}, {p['enforcement']}, {mode}): peak "
            f"{_count(p['peak_requested_per_second'])}/s, {_count(p['peak_requested_per_minute'])}/min incl. "
            f"background; {over}{refused_services + refused_bg:,.0f} refused (RESOURCE_EXHAUSTED: "
            f"{refused_services:,.0f} services', {refused_bg:,.0f} background)")


def _other_failures(kms: dict) -> str:
    """The services' failed calls by any other gRPC code (a key disabled, an EKM unreachable...)."""
    failed = [(code, _num(n)) for code, n in kms["errors_by_code"].items() if code != "RESOURCE_EXHAUSTED"]
    failed = [(code, n) for code, n in failed if n]
    return "".join(f", {code} {n:,.0f}" for code, n in failed)


def _count(v) -> str:
    v = v["mean"] if isinstance(v, dict) else v
    return "-" if v is None else f"{v:,.0f}"


def _usd(v) -> str:
    v = v["mean"] if isinstance(v, dict) else v
    if v is None:
        return "-"
    return f"${v:,.2f}" if v >= 1 else f"${v:.4f}"


def _num(v) -> float:
    v = v["mean"] if isinstance(v, dict) else v
    return v or 0.0


def _pct(v):
    v = v["mean"] if isinstance(v, dict) else v
    return None if v is None else 100.0 * v
