"""timeline.png: per service, instances desired/starting/ready (and CPU-saturated), pending requests,
429/504 per bin."""
from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .folder import Folder, fault_windows
from .layout import TimeAxis, figure, finish_axes, say_if_all_zero, shade_faults, steps

def timeline_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows, series = TimeAxis(d.duration), fault_windows(d), d.series()
    fig, axes = figure(len(series), 3, 3.4, f"Timeline — {d.name}",
                       f"replication 0, {d.interval:g} s bins" + ("; shaded: fault windows" if windows else ""),
                       windows, tx, (0, 1, 2))
    for row, (name, c) in enumerate(series.items()):
        t = tx(c["t"])
        a_inst, a_pend, a_fail = axes[row]
        steps(a_inst, t, c["instances_desired"], color="black", ls="--", lw=1.2, label="desired")
        steps(a_inst, t, c["instances_starting"], color="tab:orange", lw=1.2, label="starting")
        steps(a_inst, t, c["instances_ready"], color="tab:blue", lw=1.8, label="ready")
        if "instances_parked" in c and c["instances_parked"].any():
            steps(a_inst, t, c["instances_ready"] - c["instances_parked"], color="tab:cyan", lw=1.0,
                  label="ready and serving (rest: idle, kept warm)")
        if "instances_cpu_saturated" in c and c["instances_cpu_saturated"].any():
            steps(a_inst, t, c["instances_cpu_saturated"], color="tab:red", ls=":", lw=2.2, zorder=5,
                  label="CPU-saturated (demand over vCPUs)")
        steps(a_pend, t, c["pending"], color="tab:purple", lw=1.4, label="pending requests")
        steps(a_fail, t, c["failed_429"], color="tab:red", lw=1.4, label="429 (pending timeout)")
        steps(a_fail, t, c["failed_504"], color="tab:brown", lw=1.4, label="504 (request timeout)")
        if "failed_shutdown" in c and c["failed_shutdown"].any():
            steps(a_fail, t, c["failed_shutdown"], color="black", lw=1.0, label="failed at shutdown")
        for ax, ylabel, title in ((a_inst, "instances", "instances"),
                                  (a_pend, "requests (at bin end)", "pending requests"),
                                  (a_fail, f"requests per {d.interval:g} s bin", "failed requests")):
            shade_faults(ax, windows, tx)
            n_labels = len(ax.get_legend_handles_labels()[1])
            # Room above the data for the legend: four lines of it would cover the top of the data.
            finish_axes(ax, tx, ylabel, f"{name}: {title}", headroom=1.3 + 0.1 * max(0, n_labels - 1))
            ax.legend(loc="best", fontsize=8)
            say_if_all_zero(ax, f"no {title} in this run")
        a_inst.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig
