"""The short table `sim run` prints at the end.

One format per kind of figure: counts are means over the replications, printed whole when they are whole and
with one decimal when not (a mean of 0.5 cold starts is not 0); money is always dollars and cents (`money`),
"<$0.01" below a cent. Every figure of the table counts from the warm-up on; a line under it says so when the
scenario has a warm-up (the charts draw the whole run and shade the warm-up)."""
from __future__ import annotations


def _fmt(x, unit: str = "", digits: int = 2) -> str:
    if x is None:
        return "-"
    if isinstance(x, dict):
        x = x["mean"]
        if x is None:
            return "-"
    return f"{x:.{digits}f}{unit}" if isinstance(x, float) else f"{x}{unit}"


def count(x) -> str:
    """A count, or the mean of counts over replications: whole when whole, else one decimal (never rounded to
    a whole number that hides it: 0.5 prints 0.5, 0.04 prints 0.04)."""
    x = x["mean"] if isinstance(x, dict) else x
    if x is None:
        return "-"
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.1f}" if abs(x) >= 0.1 else f"{x:.2g}"


def money(v) -> str:
    """US dollars, one format for every amount: $0.82, $4.28, $1,234.50; "<$0.01" for less than a cent."""
    v = v["mean"] if isinstance(v, dict) else v
    if v is None:
        return "-"
    if 0 < v < 0.005:
        return "<$0.01"
    return f"${v:,.2f}"


def warmup_line(summary: dict) -> str | None:
    """The line saying the table leaves the warm-up out (None without a warm-up)."""
    from .units import format_duration
    warmup = summary.get("warmup_seconds") or 0
    if not warmup:
        return None
    return (f"figures from the warm-up on: the first {format_duration(warmup)} are left out (a request by its "
            "arrival, a start by its request); the charts draw the whole run with the warm-up shaded")


def summary_table(summary: dict) -> str:
    agg = summary["aggregate"]
    head = ("service", "arrived", "429", "504", "shutdown", "p50 lat", "p99 lat", "cold starts", "cold p99",
            "starts failed", "shortfall", "cost")
    rows = [head]
    for name, s in agg["services"].items():
        r = s["requests"]
        failed = sum(_num(v) for v in s["instance_starts_failed"].values())
        rows.append((name, count(r["arrived"]), count(r["failed_429"]),
                     count(r["failed_504"]), count(r["failed_shutdown"]),
                     _fmt(s["latency_s"]["p50"], "s", 3), _fmt(s["latency_s"]["p99"], "s", 3),
                     count(s["cold_starts"]["count"]), _fmt(s["cold_starts"]["latency_s"]["p99"], "s"),
                     count(failed), _fmt(_pct(s["capacity"]["shortfall_fraction"]), "%", 1),
                     money(s["cost"]["total_usd"])))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    k = agg["kms"]
    lines.append(f"KMS, the services' own calls: {count(k['operations'])} operations, peak "
                 f"{count(k['peak_per_second'])}/s and {count(k['peak_per_minute'])}/min, RESOURCE_EXHAUSTED "
                 f"{count(k['resource_exhausted'])}" + _other_failures(k))
    lines.extend(pool_line(name, p) for name, p in k["quota_pools"].items())
    if warmup_line(summary):
        lines.append(warmup_line(summary))
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
        over = (f"{count(over_services + over_bg)} served over quota ({count(over_services)} services', "
                f"{count(over_bg)} background); ")
    return (f"KMS pool {name} (quota {quota}, {p['enforcement']}, {mode}): peak "
            f"{count(p['peak_requested_per_second'])}/s, {count(p['peak_requested_per_minute'])}/min incl. "
            f"background; {over}{count(refused_services + refused_bg)} refused (RESOURCE_EXHAUSTED: "
            f"{count(refused_services)} services', {count(refused_bg)} background)")


def _other_failures(kms: dict) -> str:
    """The services' failed calls by any other gRPC code (a key disabled, an EKM unreachable...)."""
    failed = [(code, _num(n)) for code, n in kms["errors_by_code"].items() if code != "RESOURCE_EXHAUSTED"]
    failed = [(code, n) for code, n in failed if n]
    return "".join(f", {code} {count(n)}" for code, n in failed)


def _num(v) -> float:
    v = v["mean"] if isinstance(v, dict) else v
    return v or 0.0


def _pct(v):
    v = v["mean"] if isinstance(v, dict) else v
    return None if v is None else 100.0 * v
