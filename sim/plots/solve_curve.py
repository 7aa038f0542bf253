"""solve_curve.png of a solve folder (solve.json written by `sim solve`): each SLO's metric against the setting."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .layout import figure


def solve_curve_figure(folder) -> Figure:
    """Per objective: the metric's mean per level with its one-sided bounds as bars (filled: the level meets
    this SLO), the threshold, the recommendation and its 80% check. The legend sits below the axes."""
    q = json.loads((Path(folder) / "solve.json").read_text())
    levels = sorted(q["levels"], key=lambda lv: lv["value"])
    objectives = q["objectives"]
    fig, axes = figure(1, len(objectives), 4.8, f"{q['param']} against the objectives — {q['scenario']}",
                       f"{q['replications']} paired replications per level; bars: one-sided {q['confidence']:.0%} "
                       "bounds of the mean" + (f"; service {q['service']}" if q.get("service") else ""))
    x = np.array([lv["value"] for lv in levels], float)
    for ax, objective in zip(axes[0], objectives):
        slo = objective["slo"]
        services = list(dict.fromkeys(r["service"] for r in levels[0]["metrics"] if r["slo"] == slo))
        width = (x.max() - x.min()) * 0.006 * (np.arange(len(services)) - (len(services) - 1) / 2) if len(x) > 1 \
            else np.zeros(len(services))
        for k, name in enumerate(services):
            rows = [next(r for r in lv["metrics"] if r["slo"] == slo and r["service"] == name) for lv in levels]
            get = lambda key: np.array([np.nan if r[key] is None else r[key] for r in rows], float)
            mean, low, high = get("mean"), get("low"), get("high")
            if all(v is None or v >= 0 for r in rows for v in r["values"]):
                low = np.maximum(low, 0.0)       # a count, a fraction or a duration: its bound stops at zero
            xs, colour = x + width[k], f"C{k}"
            ax.plot(xs, mean, color=colour, lw=1.2, alpha=0.7)
            ax.errorbar(xs, mean, yerr=[np.maximum(mean - low, 0), np.maximum(high - mean, 0)], fmt="none",
                        ecolor=colour, capsize=3, lw=1.2)
            met = np.array([r["met"] for r in rows])
            ax.plot(xs[met], mean[met], "o", color=colour, ms=6, label=f"{name}: meets")
            ax.plot(xs[~met], mean[~met], "o", mfc="white", color=colour, ms=6, label=f"{name}: fails")
        ax.axhline(objective["threshold"], color="black", lw=1.2, ls=":", label=f"threshold ({slo})")
        ax.axvline(q["recommended"], color="tab:green", lw=2, label=f"recommended {q['recommended']:g}")
        at80 = q.get("at_80_percent")
        if at80:
            ax.axvline(at80["value"], color="tab:green", lw=1, ls="--",
                       label=f"80% of it ({at80['value']:g}): {'meets' if at80['met'] else 'fails'}")
        if len(x) > 2 and x.min() > 0 and x.max() / x.min() > 30:
            ax.set_xscale("log")
        if q.get("kind") == "integer":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(q["param"])
        ax.set_ylabel(objective["metric"])
        rule = (" — must hold in every replication" if objective["op"] in ("<", "<=") and objective["threshold"] == 0
                else f" — the one-sided {q['confidence']:.0%} bound must meet it")
        ax.set_title(slo + rule, fontsize=11)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    return fig
