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
            "starts failed", "shortfall")
    rows = [head]
    for name, s in agg["services"].items():
        r = s["requests"]
        failed = sum(_num(v) for v in s["instance_starts_failed"].values())
        rows.append((name, _fmt(r["arrived"], digits=0), _fmt(r["failed_429"], digits=0),
                     _fmt(r["failed_504"], digits=0), _fmt(r["failed_shutdown"], digits=0),
                     _fmt(s["latency_s"]["p50"], "s", 3), _fmt(s["latency_s"]["p99"], "s", 3),
                     _fmt(s["cold_starts"]["count"], digits=0), _fmt(s["cold_starts"]["latency_s"]["p99"], "s"),
                     f"{failed:.0f}", _fmt(_pct(s["capacity"]["shortfall_fraction"]), "%", 1)))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in rows]
    k = agg["kms"]
    lines.append(f"KMS: {_fmt(k['operations'], digits=0)} operations, peak {_fmt(k['peak_per_second'], digits=0)}/s "
                 f"and {_fmt(k['peak_per_minute'], digits=0)}/min, RESOURCE_EXHAUSTED "
                 f"{_fmt(k['resource_exhausted'], digits=0)}")
    if summary["replications"] > 1:
        lines.append(f"(means over {summary['replications']} replications; summary.json has 95% intervals)")
    return "\n".join(lines)


def _num(v) -> float:
    v = v["mean"] if isinstance(v, dict) else v
    return v or 0.0


def _pct(v):
    v = v["mean"] if isinstance(v, dict) else v
    return None if v is None else 100.0 * v
