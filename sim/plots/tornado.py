"""sensitivity.png of a sensitivity folder (sensitivity.json written by `sim sensitivity`): a tornado chart.

One bar per assumption (and service, when there are several), largest absolute change first, at the top:
from the scenario as is (the centre, a black tick) to the metric's mean at the assumption's low value
(blue, upper half) and at its high value (orange, lower half). The whisker on the high bar is the 95%
interval of the paired change (high - low) placed from the low end: where the high end would lie at
either bound of the change.
"""
from __future__ import annotations

import json
from pathlib import Path

from matplotlib.figure import Figure

from .layout import DPI

LOW_COLOUR, HIGH_COLOUR = "tab:blue", "tab:orange"


def wrapped(text: str, width: int = 46) -> str:
    """A label on as many lines as it needs, never cut: broken at spaces, and inside long names after a
    dot or a bracket (`services[].key_operations.validation_interval`)."""
    import textwrap
    lines = []
    for line in textwrap.wrap(text.replace(".", ".\u200b").replace("]", "]\u200b"), width,
                              break_long_words=False, break_on_hyphens=False) or [""]:
        lines.append(line)
    return "\n".join(lines).replace("\u200b", "")


def label_lines(r: dict, several: bool) -> int:
    name = r["assumption"] + (f"  [{r['service']}]" if several else "")
    return len(wrapped(name).splitlines()) + len(wrapped(r["low"] + "  →  " + r["high"]).splitlines())


def tornado_figure(data) -> Figure:
    """The tornado chart of sensitivity.json's data (a dict, or a folder holding the file)."""
    if not isinstance(data, dict):
        data = json.loads((Path(data) / "sensitivity.json").read_text())
    rows = [r for r in data["rows"] if r["metric_low"] is not None and r["metric_high"] is not None]
    several = len(data["centre"]) > 1
    n = max(len(rows), 1)
    lines = max((label_lines(r, several) for r in rows), default=2)
    fig = Figure(figsize=(12.0, 1.8 + max(0.55, 0.16 * lines) * n), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    labels = []
    for i, r in enumerate(rows):
        y = n - 1 - i
        centre = r["metric_centre"] if r["metric_centre"] is not None else r["metric_low"]
        ax.barh(y + 0.17, r["metric_low"] - centre, left=centre, height=0.34, color=LOW_COLOUR,
                label="at the low value" if i == 0 else None)
        ax.barh(y - 0.17, r["metric_high"] - centre, left=centre, height=0.34, color=HIGH_COLOUR,
                label="at the high value" if i == 0 else None)
        ax.plot([centre, centre], [y - 0.4, y + 0.4], color="black", lw=1.5,
                label="as is (centre)" if i == 0 else None)
        if r["interval_low"] is not None:
            at = r["metric_low"] + r["change"]
            ax.errorbar([at], [y - 0.17], xerr=[[r["change"] - r["interval_low"]], [r["interval_high"] - r["change"]]],
                        fmt="none", ecolor="black", elinewidth=1, capsize=3,
                        label="95% interval of the change, from the low end" if i == 0 else None)
        name = r["assumption"] + (f"  [{r['service']}]" if several else "")
        labels.append(f"{wrapped(name)}\n{wrapped(r['low'] + '  →  ' + r['high'])}")
    ax.set_yticks(list(range(n - 1, n - 1 - len(rows), -1)), labels, fontsize=8)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlabel(f"{data['metric']} (mean over {data['replications']} paired replications)")
    ax.grid(axis="x", alpha=0.3)
    if rows:
        fig.legend(loc="outside lower center", ncols=4, fontsize=8)
    else:
        ax.text(0.5, 0.5, "no assumption applies to this scenario", ha="center", va="center",
                transform=ax.transAxes)
    skipped = len(data["skipped"])
    fig.suptitle(f"Sensitivity of {data['metric']} to the model's assumptions — {data['scenario']}")
    if skipped:
        ax.set_title(f"{skipped} assumptions do not apply to this scenario and were skipped (sensitivity.json)",
                     fontsize=9, color="dimgray")
    return fig
