"""timeline.png: per service, two rows of two panels, read left to right, top to bottom: the offered load
(requests arriving per second, with those served and failed), the instances (desired on top of ready and
starting, so it stays visible where they are equal; CPU-saturated), the pending requests, and the failed
requests as a share of the arrivals of each bin, by cause. Above them the fault strip and, when a key's state
changed, the key strip: each used key usable, disabled, scheduled for destruction or destroyed, and why."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..summary_schema import failed_requests
from .folder import Folder, fault_windows
from .key_states import key_spans
from .layout import TimeAxis, figure, finish_axes, say_if_all_zero, shade_faults, shade_warmup, steps

# The failure causes of timeseries.csv, stacked in this order in the share panel.
FAILURES = (("failed_429", "429 (pending timeout)", "tab:red"),
            ("failed_504", "504 (request timeout)", "tab:brown"),
            ("failed_shutdown", "failed at shutdown (key revocation)", "0.25"))
ROW_HEIGHT = 3.0


def percent(value, _pos=None) -> str:
    """A tick of the failure share (the values are percentages already): 25%, 0.5%."""
    return f"{value:g}%"


def failure_shares(c: dict) -> dict[str, np.ndarray]:
    """Per cause, the requests failed in each bin as a percentage of the requests that arrived in it (NaN
    for a bin without arrivals). Failures are counted when they happen, arrivals when they arrive, so a bin
    after a burst can exceed 100%."""
    arrived = c["arrivals"]
    with np.errstate(divide="ignore", invalid="ignore"):
        return {col: np.where(arrived > 0, 100.0 * c[col] / arrived, np.nan)
                for col, _, _ in FAILURES if col in c}


def timeline_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows, series = TimeAxis(d.duration), fault_windows(d), d.series()
    keys = key_spans(d)
    fig, axes = figure(2 * len(series), 2, ROW_HEIGHT, f"Timeline — {d.name}",
                       f"replication 0, {d.interval:g} s bins" + ("; shaded: fault windows" if windows else "")
                       + (f"; grey: the warm-up ({tx.text(d.warmup)}), left out of the summary" if d.warmup else "")
                       + ("; the key strip: each key's state in Cloud KMS, and why" if keys else ""),
                       windows, tx, (0, 1), keys=keys)
    for row, (name, c) in enumerate(series.items()):
        t = tx(c["t"])
        (a_load, a_inst), (a_pend, a_share) = axes[2 * row], axes[2 * row + 1]
        _load_panel(a_load, t, c, d.interval)
        _instances_panel(a_inst, t, c)
        steps(a_pend, t, c["pending"], color="tab:purple", lw=1.4, label="pending requests")
        share_title = _share_panel(a_share, t, c)
        for ax, ylabel, title, empty in (
                (a_load, "requests/s", "offered load (requests per second)", "no requests in this run"),
                (a_inst, "instances", "instances", "no instances in this run"),
                (a_pend, "requests (at bin end)", "pending requests", "no pending requests in this run"),
                (a_share, "failed / arrived in the bin", share_title, "no failed requests in this run")):
            shade_faults(ax, windows, tx)
            shade_warmup(ax, d.warmup, tx)
            n_labels = len(ax.get_legend_handles_labels()[1])
            # Room above the data for the legend: four lines of it would cover the top of the data.
            finish_axes(ax, tx, ylabel, f"{name}: {title}", headroom=1.3 + 0.1 * max(0, n_labels - 1))
            if n_labels:
                ax.legend(loc="best", fontsize=8)
            say_if_all_zero(ax, empty)
        a_inst.yaxis.set_major_locator(MaxNLocator(integer=True))
        a_share.yaxis.set_major_formatter(percent)
    return fig


def _load_panel(ax, t, c: dict, interval: float) -> None:
    """Requests per second arriving (the offered load), served and failed, from the per-bin counts."""
    arriving = c["arrivals"] / interval
    if len(t):
        edges = np.append(t, t[-1] + (t[1] - t[0] if len(t) > 1 else 1))
        ax.fill_between(edges, np.append(arriving, arriving[-1]), step="post", color="tab:blue", alpha=0.15, lw=0)
    steps(ax, t, arriving, color="tab:blue", lw=2.4, label="arriving (offered load)")  # shows around served
    steps(ax, t, c["served"] / interval, color="tab:green", lw=1.0, label="served")
    failed = failed_requests(c) / interval
    if failed.any():
        steps(ax, t, failed, color="tab:red", lw=1.0, label="failed (429, 504, shutdown)")


def _instances_panel(ax, t, c: dict) -> None:
    """Ready and starting below, desired dashed on top (zorder) so that it shows where it equals ready."""
    steps(ax, t, c["instances_ready"], color="tab:blue", lw=2.2, label="ready", zorder=2)
    steps(ax, t, c["instances_starting"], color="tab:orange", lw=1.2, label="starting", zorder=2)
    if "instances_parked" in c and c["instances_parked"].any():
        steps(ax, t, c["instances_ready"] - c["instances_parked"], color="tab:cyan", lw=1.0, zorder=2,
              label="ready and serving (rest: idle, kept warm)")
    steps(ax, t, c["instances_desired"], color="black", ls=(0, (4, 3)), lw=1.3, zorder=4,
          label="desired (dashed, on top)")
    if "instances_cpu_saturated" in c and c["instances_cpu_saturated"].any():
        steps(ax, t, c["instances_cpu_saturated"], color="tab:red", ls=":", lw=2.2, zorder=5,
              label="CPU-saturated (demand over vCPUs)")


def _share_panel(ax, t, c: dict) -> str:
    """The failures of each bin as a percentage of its arrivals, stacked by cause; returns the panel title
    with the run's overall share."""
    shares = failure_shares(c)
    if len(t):
        edges = np.append(t, t[-1] + (t[1] - t[0] if len(t) > 1 else 1))
        bottom = np.zeros(len(t))
        for col, label, colour in FAILURES:
            if col not in shares or not c[col].any():
                continue
            top = bottom + np.nan_to_num(shares[col])
            gaps = np.isnan(shares[col])
            ax.fill_between(edges, np.append(bottom, bottom[-1]), np.append(top, top[-1]), step="post",
                            where=np.append(~gaps, ~gaps[-1]), color=colour, alpha=0.75, lw=0,
                            label=f"{label}: {c[col].sum():,.0f}")
            bottom = top
    if len(t) and np.nanmax(bottom, initial=0.0) > 100:
        ax.text(0.01, 0.97, "over 100%: requests that waited fail in a later bin than the one they arrived in",
                transform=ax.transAxes, ha="left", va="top", fontsize=8, color="0.3")
    arrived, failed = float(c["arrivals"].sum()), float(failed_requests(c).sum())
    overall = f"{100 * failed / arrived:.2g}%" if arrived and failed else "0%"
    return f"failed requests, % of arrivals ({overall} over the run)"
