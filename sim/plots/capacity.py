"""capacity_loss.png: per service, ready instances against the fault-free twin, extra failed requests."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..summary_schema import failed_requests
from .folder import Folder, fault_windows
from .layout import TimeAxis, figure, finish_axes, say_if_all_zero, shade_faults, steps

def capacity_loss_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows, run = TimeAxis(d.duration), fault_windows(d), d.series()
    title = f"Capacity loss against the fault-free twin — {d.name}"
    subtitle = "replication 0 and the same run with no faults (same random streams)"
    if not d.baseline:
        why = ("this scenario has no faults, so there is nothing to compare" if d.has("fault_windows.csv")
               and not windows else "the run was made without it (--no-baseline)" if windows
               else "this folder has none")
        subtitle = f"No fault-free twin: {why}. Showing the run alone."
    twin = d.series("baseline_timeseries.csv") if d.baseline else {}
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
