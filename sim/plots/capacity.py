"""capacity_loss.png: per service, ready instances against the fault-free twin, extra failed requests.

Without a twin (no faults, or --no-baseline) there is nothing to compare: `write_charts` does not write
the chart (`no_twin_reason` says why) and `capacity_loss_figure` draws only a note saying so.
"""
from __future__ import annotations

import json

import numpy as np
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..summary_schema import failed_requests
from .folder import Folder, fault_windows
from .layout import TimeAxis, figure, finish_axes, note_figure, say_if_all_zero, shade_faults, steps


def no_twin_reason(d: Folder) -> str | None:
    """Why a results folder has no fault-free twin to compare with (None when it has one)."""
    if d.baseline:
        return None
    scenario = yaml.safe_load((d.path / "scenario.resolved.yaml").read_text())
    manifest = d.path / "manifest.json"
    asked = json.loads(manifest.read_text()).get("baseline") if manifest.exists() else None
    if not scenario.get("faults"):
        return "no faults: no fault-free twin to compare with"
    if asked is False:
        return "run with --no-baseline: no fault-free twin to compare with"
    return "no fault-free twin in this folder"


def capacity_loss_figure(folder) -> Figure:
    d = Folder.read(folder)
    title = f"Capacity loss against the fault-free twin — {d.name}"
    why = no_twin_reason(d)
    if why is not None:
        return note_figure(title, f"No capacity-loss chart ({why}).\nCapacity loss is measured against the "
                                  "same run without its faults; the timeline shows this run alone.")
    tx, windows, run = TimeAxis(d.duration), fault_windows(d), d.series()
    subtitle = "replication 0 and the same run with no faults (same random streams)"
    twin = d.series("baseline_timeseries.csv")
    losses = {n: s.get("capacity_loss") or {} for n, s in d.summary["runs"][0]["services"].items()}
    fig, axes = figure(len(run), 2, 3.6, title, subtitle, windows, tx, (0, 1))
    for row, (name, c) in enumerate(run.items()):
        a_ready, a_fail = axes[row]
        t = tx(c["t"])
        steps(a_ready, t, c["instances_ready"], color="tab:blue", lw=1.6, label="ready (run)")
        b = twin.get(name)
        if b is not None:
            steps(a_ready, t, b["instances_ready"], color="black", ls="--", lw=1.2, label="ready (fault-free twin)")
            tt = np.append(t, t[-1] + (t[1] - t[0] if len(t) > 1 else 1))
            ready, base = np.append(c["instances_ready"], c["instances_ready"][-1]), \
                np.append(b["instances_ready"], b["instances_ready"][-1])
            a_ready.fill_between(tt, ready, np.maximum(base, ready), step="post", color="tab:red", alpha=0.3,
                                 lw=0, label="capacity lost")   # zero height wherever the run is not below
            extra = np.cumsum(failed_requests(c)) - np.cumsum(failed_requests(b))
            a_fail.plot(t + tx(d.interval), extra, color="tab:red", lw=1.6, label="extra failed requests (run − twin)")
            a_fail.axhline(0, color="0.5", lw=0.8)
            loss = losses.get(name, {})
            lost_s = loss.get("ready_instance_s")
            lost = f" (lost {lost_s:,.0f} instance·s)" if lost_s is not None else ""
            extra_total = loss.get("extra_failed_requests")
            fail_title = f"{name}: cumulative extra failed requests" + (
                f" (total {extra_total:,.0f})" if extra_total is not None else "")
        else:
            a_fail.plot(t + tx(d.interval), np.cumsum(failed_requests(c)), color="tab:red", lw=1.6,
                        label="failed requests (run)")
            lost, fail_title = " (no twin to compare)", f"{name}: cumulative failed requests (no twin)"
        for ax in (a_ready, a_fail):
            shade_faults(ax, windows, tx)
        finish_axes(a_ready, tx, "ready instances", f"{name}: ready instances{lost}")
        finish_axes(a_fail, tx, "requests (cumulative)", fail_title)
        a_ready.yaxis.set_major_locator(MaxNLocator(integer=True))
        a_ready.legend(loc="best", fontsize=8)
        a_fail.legend(loc="best", fontsize=8)
        say_if_all_zero(a_fail, "no extra failed requests" if b is not None else "no failed requests")
    return fig
