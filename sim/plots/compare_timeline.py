"""compare.png of a compare folder: the timelines of several runs overlaid (replication 0 of each), one
panel per figure: instances ready, failed share of arrivals, cold-start p99, the services' KMS operations per
second. A colour per source, a line style per service. Sources without a time series (sweep cells) are
named in the subtitle. Reads the runs' folders through sim.results.ResultsFolder."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .layout import DPI, WIDTH_IN, TimeAxis, note_figure

STYLES = ("-", "--", ":", "-.")
PANELS = (("ready", "instances ready"), ("failed_share", "failed share of arrivals (%)"),
          ("cold_p99", "cold-start p99 (s)"), ("kms_per_s", "KMS operations per second"))
COLD_BINS = 40            # cold starts are few: binned coarser than the time series


def service_lines(folder) -> dict[str, dict[str, np.ndarray]]:
    """service -> {"t", "ready", "failed_share", "kms"} per time-series bin of replication 0."""
    out: dict[str, dict[str, list]] = {}
    for r in folder.rows("timeseries.csv"):
        cols = out.setdefault(str(r["service"]), {"t": [], "ready": [], "failed_share": [], "kms": []})
        arrivals = r.get("arrivals") or 0
        failed = sum(r.get(c) or 0 for c in ("failed_429", "failed_504", "failed_shutdown"))
        cols["t"].append(r["time_s"])
        cols["ready"].append(r.get("instances_ready") or 0)
        cols["failed_share"].append(100.0 * failed / arrivals if arrivals else np.nan)
        cols["kms"].append(r.get("kms_operations") or 0)
    return {name: {k: np.asarray(v, float) for k, v in cols.items()} for name, cols in out.items()}


def cold_p99(folder, duration: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """service -> (bin centres, p99 of start requested -> ready of the starts that became ready in the bin)."""
    width = max(duration / COLD_BINS, 1.0)
    n = max(1, math.ceil(duration / width))
    by_service: dict[str, list] = {}
    for r in folder.rows("instances.csv"):
        if r.get("requested_at") is not None and r.get("ready_at") is not None and r.get("startup_s") is not None:
            by_service.setdefault(str(r["service"]), []).append((r["ready_at"], r["startup_s"]))
    out = {}
    for name, pairs in by_service.items():
        ready, startup = np.array(pairs).T
        bins = np.minimum((ready // width).astype(int), n - 1)
        p99 = np.full(n, np.nan)
        for b in np.unique(bins):
            p99[b] = np.percentile(startup[bins == b], 99)
        out[name] = ((np.arange(n) + 0.5) * width, p99)
    return out


def compare_figure(sources: list[tuple[str, object]]) -> Figure:
    """`sources`: (label, ResultsFolder of a run, or None for a source without a time series)."""
    runs = [(label, f) for label, f in sources if f is not None and f.has("timeseries.csv")]
    without = [label for label, f in sources if f is None or not f.has("timeseries.csv")]
    title = "Timelines overlaid — " + ", ".join(label for label, _ in sources)
    if not runs:
        return note_figure(title, "No source has a time series (sweep cells keep their figures only): "
                                  "compare runs' folders to see timelines.")
    durations = []
    for _, f in runs:
        scenario = f.scenario() or {}
        durations.append(float(scenario.get("duration") or max(r["time_s"] for r in f.rows("timeseries.csv"))))
    tx = TimeAxis(max(durations))
    fig = Figure(figsize=(WIDTH_IN, 1.4 + 2.6 * len(PANELS)), dpi=DPI)
    axes = fig.subplots(len(PANELS), 1, sharex=True)
    subtitle = "replication 0 of each run; a colour per source, a line style per service"
    if without:
        subtitle += "; no time series: " + ", ".join(without)
    fig.suptitle(f"{title}\n{subtitle}", fontsize=12)
    colours = [f"C{i % 10}" for i in range(len(sources))]
    for (label, folder), duration in zip(runs, durations):
        colour = colours[[lab for lab, _ in sources].index(label)]
        lines = service_lines(folder)
        scenario = folder.scenario() or {}
        interval = float(scenario.get("timeseries_interval") or 10.0)
        for k, (name, cols) in enumerate(lines.items()):
            style = STYLES[k % len(STYLES)]
            tag = f"{label}: {name}"
            axes[0].step(tx(cols["t"]), cols["ready"], where="post", color=colour, ls=style, label=tag)
            axes[1].step(tx(cols["t"]), cols["failed_share"], where="post", color=colour, ls=style, label=tag)
        kms = sum(cols["kms"] for cols in lines.values()) / interval if lines else np.zeros(0)
        if lines:
            t = next(iter(lines.values()))["t"]
            axes[3].step(tx(t), kms, where="post", color=colour, label=f"{label} (all services)")
        for k, (name, (centres, p99)) in enumerate(cold_p99(folder, duration).items()):
            axes[2].plot(tx(centres), p99, color=colour, ls=STYLES[k % len(STYLES)], marker=".",
                         label=f"{label}: {name}")
    for ax, (_, ylabel) in zip(axes, PANELS):
        ax.set_ylabel(ylabel)
        ax.set_xlim(0, tx.end)
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize=8, ncol=2)
        else:
            ax.text(0.5, 0.5, "nothing to show", transform=ax.transAxes, ha="center", color="0.4")
    axes[-1].set_xlabel(tx.label)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
