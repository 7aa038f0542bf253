"""cold_start.png: per service, cold-start percentiles over time and their split into start phases.

The chart draws every start of the run; its title counts them as the summary and the printed table do, from
the warm-up on (a start by its request time), and says how many there were in all. The warm-up is shaded."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .folder import Folder, fault_windows
from .layout import TimeAxis, figure, finish_axes, note, note_figure, shade_faults, shade_warmup

PHASES = (("schedule_s", "schedule"), ("image_fetch_s", "image fetch"),
          ("key_operations_s", "key operations (incl. retries)"), ("container_start_s", "container start"),
          ("app_init_s", "app init"))
NICE_BINS = (10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 14400, 21600, 43200, 86400)


def _bin_width(duration: float, interval: float, target_bins: int = 40) -> float:
    return float(next((b for b in NICE_BINS if b >= max(duration / target_bins, interval)), NICE_BINS[-1]))


def cold_start_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows = TimeAxis(d.duration), fault_windows(d)
    rows = [r for r in d.rows("instances.csv") if r.get("requested_at") is not None]  # warm ones never started
    names = d.services
    title = f"Cold starts — {d.name}"
    if not any(r.get("ready_at") is not None for r in rows):
        return note_figure(title, "No instance became ready in this run: no cold starts to show.")
    width = _bin_width(d.duration, d.interval)
    n_bins = int(math.ceil(d.duration / width))
    warm = (f"; grey: the warm-up ({tx.text(d.warmup)}), drawn but not counted in the summary"
            if d.warmup > 0 else "")
    fig, axes = figure(len(names), 3, 3.6, title,
                       f"replication 0; cold start = start requested → ready, binned by ready time "
                       f"({tx.text(width)} bins){warm}", windows, tx, (0, 1))
    for row, name in enumerate(names):
        mine = [r for r in rows if r["service"] == name and r.get("ready_at") is not None]
        failed = [r["start_error"] for r in rows if r["service"] == name and r.get("start_error")]
        a_pct, a_time, a_band = axes[row]
        if not mine:
            for ax in axes[row]:
                ax.set_axis_off()
            note(a_time, f"{name}: no instance became ready ({len(failed):,} failed starts)")
            continue
        ready = np.array([r["ready_at"] for r in mine])
        startup = np.array([r["startup_s"] for r in mine])
        phases = np.array([[r.get(col) or 0.0 for col, _ in PHASES] for r in mine])
        bins = np.minimum((ready // width).astype(int), n_bins - 1)
        centres = tx((np.arange(n_bins) + 0.5) * width)
        counts = np.bincount(bins, minlength=n_bins)
        pct = np.full((n_bins, 3), np.nan)          # empty bins stay gaps in the lines
        means = np.zeros((n_bins, len(PHASES)))
        for b in np.flatnonzero(counts):
            pct[b] = np.percentile(startup[bins == b], [50, 95, 99])
            means[b] = phases[bins == b].mean(axis=0)

        a_cnt = a_pct.twinx()
        a_cnt.bar(centres, counts, width=tx(width) * 0.9, color="0.85", label="cold starts per bin")
        a_cnt.set_ylabel("cold starts per bin", color="0.4")
        a_cnt.set_ylim(0, max(counts.max(), 1) * 2.2)  # bars in the lower half, under the lines
        a_pct.set_zorder(a_cnt.get_zorder() + 1)
        a_pct.patch.set_visible(False)
        for k, (q, colour) in enumerate(((50, "tab:green"), (95, "tab:orange"), (99, "tab:red"))):
            a_pct.plot(centres, pct[:, k], marker="o", ms=3, color=colour, label=f"p{q}")
        shade_faults(a_pct, windows, tx)
        why = ", ".join(f"{n:,} {k}" for k, n in sorted(_count(failed).items()))
        shade_warmup(a_pct, d.warmup, tx)
        finish_axes(a_pct, tx, "cold-start latency (s)", f"{name}: {_count_text(mine, d.warmup, tx)}"
                    + (f"; failed starts: {why}" if failed else ""))
        h1, l1 = a_pct.get_legend_handles_labels()
        h2, l2 = a_cnt.get_legend_handles_labels()
        a_pct.legend(h1 + h2, l1 + l2, loc="best", fontsize=8)

        _stacked_bars(a_time, centres, means, tx(width) * 0.9)
        shade_faults(a_time, windows, tx)
        shade_warmup(a_time, d.warmup, tx)
        finish_axes(a_time, tx, "mean seconds per start", f"{name}: mean start phases per bin (key on the right)")
        _phase_bands(a_band, startup, phases, name)
    return fig


def _count_text(started: list[dict], warmup: float, tx: TimeAxis) -> str:
    """The cold starts as the summary counts them (requested from the warm-up on), and all of them."""
    if warmup <= 0:
        return f"{len(started):,} cold starts"
    counted = sum(1 for r in started if r["requested_at"] >= warmup)
    return f"{counted:,} cold starts after the warm-up (summary), {len(started):,} in all"


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def _stacked_bars(ax, x, values, width, horizontal=False) -> None:
    bottom = np.zeros(len(x))
    colours = ("tab:gray", "tab:cyan", "tab:red", "tab:olive", "tab:blue")
    for k, (_, label) in enumerate(PHASES):
        if horizontal:
            ax.barh(x, values[:, k], height=width, left=bottom, color=colours[k], label=label)
        else:
            ax.bar(x, values[:, k], width=width, bottom=bottom, color=colours[k], label=label)
        bottom = bottom + values[:, k]


def _phase_bands(ax, startup, phases, name) -> None:
    """Mean phase times of the starts in each latency band: what the slow starts spend their time on."""
    cuts = np.percentile(startup, [50, 95, 99])
    bands = [("all starts", np.ones_like(startup, bool)), ("fastest 50%", startup <= cuts[0]),
             ("p50–p95", (startup > cuts[0]) & (startup <= cuts[1])),
             ("p95–p99", (startup > cuts[1]) & (startup <= cuts[2])), ("slowest 1%", startup > cuts[2])]
    bands = [(label, m) for label, m in bands if m.any()]
    means = np.array([phases[m].mean(axis=0) for _, m in bands])
    y = np.arange(len(bands))[::-1]
    _stacked_bars(ax, y, means, 0.6, horizontal=True)
    ax.set_yticks(y, [f"{label}\n(n={m.sum()})" for label, m in bands], fontsize=8)
    ax.set_xlim(0, means.sum(axis=1).max() * 1.7)   # room on the right for the key
    ax.set_xlabel("mean seconds per start")
    ax.set_title(f"{name}: start phases by cold-start latency band", fontsize=11)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(loc="center right", fontsize=8, title="start phase", title_fontsize=8)
