"""quota_curve.png of a quota folder (quota.json written by `sim quota`): each SLO's metric against the quota."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .layout import figure

def quota_curve_figure(folder) -> Figure:
    """Each SLO's metric against the quota: mean and one-sided bounds per service, threshold, current quota
    and recommendation (from quota.json in a folder written by `sim quota`)."""
    q = json.loads((Path(folder) / "quota.json").read_text())
    levels = sorted(q["levels"], key=lambda lv: lv["requests_per_minute"])
    objectives = q["objectives"]
    fig, axes = figure(1, len(objectives), 5.4, f"KMS quota against the objectives — {q['scenario']}",
                       f"{q['protection']} quota, enforced {q['enforcement']}; {q['replications']} paired "
                       f"replications per level; band: one-sided {q['confidence']:.0%} bounds of the mean")
    x = np.array([lv["requests_per_minute"] for lv in levels], float)
    for ax, objective in zip(axes[0], objectives):
        slo = objective["slo"]
        services = list(dict.fromkeys(r["service"] for r in levels[0]["metrics"] if r["slo"] == slo))
        for k, name in enumerate(services):
            rows = [next(r for r in lv["metrics"] if r["slo"] == slo and r["service"] == name) for lv in levels]
            get = lambda key: np.array([np.nan if r[key] is None else r[key] for r in rows], float)
            colour = f"C{k}"
            low = get("low")
            if all(v is None or v >= 0 for r in rows for v in r["values"]):
                low = np.maximum(low, 0.0)  # a count or a duration: the band stops at zero
            ax.fill_between(x, low, get("high"), color=colour, alpha=0.2)
            ax.plot(x, get("mean"), color=colour, lw=1.5, label=f"{name}: mean")
            met = np.array([r["met"] for r in rows])
            ax.plot(x[met], get("mean")[met], "o", color=colour, ms=6)
            ax.plot(x[~met], get("mean")[~met], "o", mfc="white", color=colour, ms=6)
        # One key for the markers of every service: filled meets, hollow fails.
        ax.plot([], [], "o", color="0.3", ms=6, label="meets this SLO (filled)")
        ax.plot([], [], "o", mfc="white", color="0.3", ms=6, label="fails this SLO (hollow)")
        ax.axhline(objective["threshold"], color="black", lw=1.2, ls=":", label=f"threshold ({slo})")
        ax.axvline(q["current_requests_per_minute"], color="tab:gray", lw=1.5, ls="--",
                   label=f"current quota {q['current_requests_per_minute']:,.0f}/min")
        ax.axvline(q["recommended_requests_per_minute"], color="tab:green", lw=2,
                   label=f"recommended {q['recommended_requests_per_minute']:,.0f}/min")
        at80 = q["at_80_percent"]
        if at80:
            ax.axvline(at80["requests_per_minute"], color="tab:green", lw=1, ls=":",
                       label=f"80% of it ({at80['requests_per_minute']:,.0f}/min): "
                             f"{'meets' if at80['met'] else 'fails'}")
        if x.max() / max(x.min(), 1) > 20:
            ax.set_xscale("log")
        means = [r["mean"] for lv in levels for r in lv["metrics"] if r["slo"] == slo and r["mean"] is not None]
        positive = [m for m in means if m > 0]
        if positive and min(means) >= 0 and max(positive) > 50 * min(positive):
            ax.set_yscale("symlog", linthresh=1.0)    # small counts near the answer stay visible
            ax.set_ylim(bottom=0)
        ax.set_xlabel("quota (requests per minute)")
        ax.set_ylabel(objective["metric"])
        rule = (" — must hold in every replication" if objective["op"] in ("<", "<=") and objective["threshold"] == 0
                else f" — the one-sided {q['confidence']:.0%} bound must meet it")
        ax.set_title(slo + rule, fontsize=11)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        # Below the axes, never over the data: with many levels no corner inside is free.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, ncols=max(2, 4 // len(objectives)),
                  frameon=False)
    return fig
