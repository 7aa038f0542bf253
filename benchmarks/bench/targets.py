"""The PASS / FAIL lines: each target of benchmarks/README.md against the cases that ran (SKIP when a case
did not run, with why)."""
from __future__ import annotations

from .agreement import agreement
from .cases import Case
from .figures import fmt_time, paired
from .kernel_targets import kernel_targets

# Pass / fail thresholds (see README.md).
FLAT_COST_MAX_RATIO = 1.25              # slowest / fastest cost per request across the pool sizes
MEMORY_LIMIT_MB = 300.0
MEMORY_FLAT_MAX_RATIO = 1.10            # peak at the longest horizon / peak at the shortest
SIMFAAS_MIN_SPEEDUP = 2.0
SIMFAAS_MIN_SPEEDUP_100 = 5.0
SWEEP_MIN_SPEEDUP = 1.7                 # 2 local workers over 1, on a 2-core machine


def verdict(ok: bool | None) -> str:
    return "SKIP" if ok is None else ("PASS" if ok else "FAIL")


def targets(cases: dict[str, Case]) -> tuple[list[str], list[dict]]:
    lines: list[str] = []
    agree_rows: list[dict] = []

    def have(*names):
        return all(n in cases and cases[n].best is not None for n in names)

    def missing(*names):
        why = [f"{n}: {cases[n].error}" for n in names if n in cases and cases[n].error]
        return "; ".join(why) or "case not run"

    # (a) at least as fast as the floor, at the same horizon.
    if have("heavy-short", "floor"):
        r = cases["heavy-short"].rate / cases["floor"].rate
        extra = ""
        if have("heavy"):
            extra = f"; at {fmt_time(cases['heavy'].best['horizon'])}: {cases['heavy'].rate / cases['floor'].rate:.2f}x"
        lines.append(f"{verdict(r >= 1.0)}  (a) ours vs the floor (requests/s, same arrivals, "
                     f"{fmt_time(cases['floor'].best['horizon'])}): {r:.2f}x (target >= 1x)"
                     f"{paired(cases['heavy-short'], cases['floor'])}{extra}")
    else:
        lines.append(f"SKIP  (a) ours vs the floor: {missing('heavy-short', 'floor')}")
    # (b) against SimFaaS.
    for ours, theirs, need in (("per-request", "simfaas", SIMFAAS_MIN_SPEEDUP),
                               ("per-request-100", "simfaas-100", SIMFAAS_MIN_SPEEDUP_100)):
        if have(ours, theirs):
            r = cases[ours].rate / cases[theirs].rate
            lines.append(f"{verdict(r >= need)}  (b) ours vs SimFaaS, {cases[ours].label.split(', ')[-1]} "
                         f"(requests/s): {r:.2f}x (target >= {need:g}x){paired(cases[ours], cases[theirs])}")
        else:
            lines.append(f"SKIP  (b) ours vs SimFaaS ({ours}): {missing(ours, theirs)}")
    # Cost per request flat with the pool size.
    pools = [f"pool-{n}" for n in (10, 100, 1000)]
    if have(*pools):
        us = {p: 1e6 / cases[p].rate for p in pools}
        ratio = max(us.values()) / min(us.values())
        shown = ", ".join(f"{p.split('-')[1]}: {v:.1f} µs" for p, v in us.items())
        lines.append(f"{verdict(ratio <= FLAT_COST_MAX_RATIO)}  cost per request flat with 10/100/1000 instances "
                     f"busy: {shown}; slowest/fastest {ratio:.2f} (target <= {FLAT_COST_MAX_RATIO})")
    else:
        lines.append(f"SKIP  cost per request flat: {missing(*pools)}")
    # Memory of (a).
    if have("heavy"):
        m = cases["heavy"].peak_mb
        lines.append(f"{verdict(m < MEMORY_LIMIT_MB)}  (a) peak memory at {fmt_time(cases['heavy'].best['horizon'])}: "
                     f"{m:.0f} MB, whole process (target < {MEMORY_LIMIT_MB:.0f} MB)")
    else:
        lines.append(f"SKIP  (a) peak memory: {missing('heavy')}")
    sweep = [n for n in ("heavy-short", "heavy", "heavy-long") if have(n)]
    if len(sweep) >= 2:
        peaks = [cases[n].peak_mb for n in sweep]
        ratio = peaks[-1] / peaks[0]
        shown = ", ".join(f"{fmt_time(cases[n].best['horizon'])}: {cases[n].peak_mb:.0f} MB" for n in sweep)
        lines.append(f"{verdict(ratio <= MEMORY_FLAT_MAX_RATIO and max(peaks) < MEMORY_LIMIT_MB)}  (a) peak memory "
                     f"flat as the horizon grows: {shown}; longest/shortest {ratio:.2f} "
                     f"(target <= {MEMORY_FLAT_MAX_RATIO})")
    else:
        lines.append("SKIP  (a) peak memory flat: needs two of heavy-short, heavy, heavy-long")
    # The sweep through the study engine: 2 local workers over 1, and a 2-worker Dask cluster against them.
    if have("sweep-1", "sweep-2"):
        r = cases["sweep-2"].rate / cases["sweep-1"].rate
        lines.append(f"{verdict(r >= SWEEP_MIN_SPEEDUP)}  sweep ({cases['sweep-1'].best['units']} units), 2 local "
                     f"workers vs 1: {r:.2f}x (target >= {SWEEP_MIN_SPEEDUP}x)"
                     f"{paired(cases['sweep-2'], cases['sweep-1'])}")
    else:
        lines.append(f"SKIP  sweep, 2 local workers vs 1: {missing('sweep-1', 'sweep-2')}")
    if have("sweep-2", "sweep-dask-2"):
        r = cases["sweep-dask-2"].rate / cases["sweep-2"].rate
        vs1 = (f", {cases['sweep-dask-2'].rate / cases['sweep-1'].rate:.2f}x 1 local worker"
               if have("sweep-1") else "")
        lines.append(f"INFO  sweep, Dask cluster of 2 worker processes vs 2 local workers: {r:.2f}x{vs1}"
                     f"{paired(cases['sweep-dask-2'], cases['sweep-2'])}")
    else:
        lines.append(f"SKIP  sweep on Dask: {missing('sweep-2', 'sweep-dask-2')}")
    # (b) agreement with SimFaaS.
    if have("per-request", "simfaas") and "batches" in cases["simfaas"].best and (
            cases["per-request"].best["batches"]["edges"] != cases["simfaas"].best["batches"]["edges"]):
        lines.append("SKIP  (b) agreement with SimFaaS: the batch edges differ (timeseries_interval of "
                     "per-request.yaml is not PR_INTERVAL)")
    elif have("per-request", "simfaas") and "batches" in cases["simfaas"].best:
        agree_rows = agreement(cases["per-request"].best["batches"], cases["simfaas"].best["batches"])
        for row in agree_rows:
            (m1, h1), (m2, h2) = row["ours"], row["theirs"]
            lines.append(f"{verdict(row['ok'])}  (b) agrees with SimFaaS, {row['metric']}: ours {m1:.5g} ± {h1:.2g}, "
                         f"SimFaaS {m2:.5g} ± {h2:.2g}; difference {row['diff']:+.3g} ± {row['diff_hw']:.2g} "
                         f"(95%, {row['batches'][0]:.0f} + {row['batches'][1]:.0f} batch means)")
    else:
        lines.append(f"SKIP  (b) agreement with SimFaaS: {missing('per-request', 'simfaas')}")
    lines += kernel_targets(list(cases.values()))
    return lines, agree_rows

