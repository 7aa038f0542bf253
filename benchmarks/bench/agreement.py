"""Case (b) against SimFaaS, statistically: batch means of one run on each side and a Welch check of the
difference (cold-start probability, time-average instance count)."""
from __future__ import annotations

import math

MAX_BATCHES = 20                        # batch means for the (b) agreement check


def batch_edges(duration: float, interval: float) -> tuple[list[float], int]:
    """Batch boundaries on time-series bin edges: the most batches (<= MAX_BATCHES) that split the bins evenly."""
    n_bins = math.ceil(duration / interval - 1e-9)
    n = max([b for b in range(1, MAX_BATCHES + 1) if n_bins % b == 0])
    per = n_bins // n
    edges = [min(duration, k * per * interval) for k in range(n + 1)]
    return edges, per


def ours_batches(result, sc, service: str) -> dict:
    """Per-batch cold-start probability and time-average instance count (starting + ready) of one run."""
    T, interval = sc.duration, sc.timeseries_interval
    edges, per = batch_edges(T, interval)
    out = result.outputs[0]
    arrivals_by_bin = out.timeseries[service]["arrivals"]
    rows = [r for r in out.instances if r["service"] == service]
    arrivals, colds, inst = [], [], []
    for k in range(len(edges) - 1):
        a, b = edges[k], edges[k + 1]
        arrivals.append(sum(arrivals_by_bin[k * per:(k + 1) * per]))
        colds.append(sum(1 for r in rows if a <= r["requested_at"] < b))
        area = 0.0
        for r in rows:
            s = r["requested_at"]
            e = r["stopped_at"] if r["stopped_at"] is not None else T
            area += max(0.0, min(e, b) - max(s, a))
        inst.append(area / (b - a))
    return {"edges": edges, "arrivals": arrivals, "colds": colds, "instances": inst}


def t_ci(values: list[float]) -> tuple[float, float, int]:
    """(mean, standard error, degrees of freedom) of batch values."""
    import numpy as np
    xs = np.asarray(values, dtype=float)
    n = xs.size
    se = float(xs.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return float(xs.mean()), se, n - 1


def half_width(se: float, df: float) -> float:
    from scipy import stats
    return float(stats.t.ppf(0.975, df)) * se if df > 0 else 0.0


def agreement(ours: dict, theirs: dict) -> list[dict]:
    """Two-sample comparison of batch means (Welch): agree when the difference's 95% interval holds 0."""
    rows = []
    for metric, f in (("cold-start probability", lambda b: [c / a if a else 0.0 for c, a in
                                                            zip(b["colds"], b["arrivals"])]),
                      ("mean instances (starting + ready)", lambda b: b["instances"])):
        m1, se1, df1 = t_ci(f(ours))
        m2, se2, df2 = t_ci(f(theirs))
        se = math.sqrt(se1 ** 2 + se2 ** 2)
        if se1 > 0 or se2 > 0:
            df = se ** 4 / ((se1 ** 4 / df1 if df1 else 0) + (se2 ** 4 / df2 if df2 else 0))
        else:
            df = max(df1 + df2, 1)
        hw = half_width(se, df)
        rows.append({"metric": metric, "ours": (m1, half_width(se1, df1)), "theirs": (m2, half_width(se2, df2)),
                     "diff": m1 - m2, "diff_hw": hw, "ok": abs(m1 - m2) <= hw, "batches": (df1 + 1, df2 + 1)})
    return rows
