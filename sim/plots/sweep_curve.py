"""sweep.png of a sweep folder (sweep.json and sweep_summary.csv written by `sim sweep`): the metric against
the first swept setting, one line per combination of the other settings' values, with 95% interval bands;
one panel per service (one panel for a `kms.` metric)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ..summary_schema import KMS_METRICS, SERVICE_METRICS
from .folder import read_rows
from .layout import DPI, figure


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def sweep_figure(folder) -> Figure:
    folder = Path(folder)
    study = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
    rows = {r["cell"]: r for r in read_rows(folder / "sweep_summary.csv")}
    metric, sets, cells = study["metric"], study["sets"], study["cells"]
    first, others = sets[0]["path"], [s["path"] for s in sets[1:]]
    panels = [(metric, "KMS")] if metric.startswith("kms.") else [(f"{s}.{metric}", s) for s in study["services"]]
    cols = min(len(panels), 3)
    fig, axes = figure(math.ceil(len(panels) / cols), cols, 4.6, f"{metric} against {first} — {study['scenario']}",
                       f"{study['replications']} paired replications per cell (same random streams); "
                       "band: 95% interval of the mean")
    resolved = [c["resolved"][first] for c in cells]
    numeric = all(_number(v) for v in resolved)
    order = sets[0]["values"]

    def x_of(cell) -> float:
        return float(cell["resolved"][first]) if numeric else float(order.index(cell["values"][first]))

    lines: dict[tuple, list] = {}
    for cell in cells:
        lines.setdefault(tuple(cell["values"][p] for p in others), []).append(cell)
    unit = (KMS_METRICS.get(metric.removeprefix("kms.")) if metric.startswith("kms.")
            else SERVICE_METRICS.get(metric, ("fraction" if metric.endswith("fraction") else "", "")))[0]
    for ax, (column, name) in zip(axes.flat, panels):  # bands stop at 0 but for differences (capacity_loss.extra_*)
        for k, (key, members) in enumerate(lines.items()):
            members = sorted(members, key=x_of)
            x = np.array([x_of(c) for c in members])
            get = lambda stat: np.array([np.nan if rows[c["cell"]][f"{column}.{stat}"] is None
                                         else rows[c["cell"]][f"{column}.{stat}"] for c in members], float)
            label = ", ".join(f"{p}={v}" for p, v in zip(others, key)) or "mean"
            low = get("low") if metric.startswith("capacity_loss.extra") else np.maximum(get("low"), 0.0)
            mean, high, colour = get("mean"), get("high"), f"C{k % 10}"
            if unit == "fraction":          # a share cannot pass 1 either (the CSVs keep the computed bound)
                high = np.minimum(high, 1.0)
            if len(x) > 1:
                ax.fill_between(x, low, high, color=colour, alpha=0.18, lw=0)
            else:                       # one value of the first setting: a band would not show
                ax.errorbar(x, mean, yerr=[mean - low, high - mean], color=colour, capsize=4, lw=1)
            ax.plot(x, mean, "o-", color=colour, lw=1.5, ms=5, label=label)
        ticks = sorted({x_of(c): c["values"][first] for c in cells}.items())
        ax.set_xticks([t for t, _ in ticks], [text for _, text in ticks])
        ax.set_xlabel(first)
        ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
        ax.set_title(name, fontsize=11)
        ax.grid(alpha=0.3)
        if others:
            ax.legend(loc="best", fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    return fig


def write_sweep_chart(folder) -> Path:
    """sweep.png in the folder, byte for byte the same for the same files (no software or date stamp)."""
    path = Path(folder) / "sweep.png"
    sweep_figure(folder).savefig(path, dpi=DPI, metadata={"Software": None})
    return path
