"""Layout shared by the charts: the time axis, fault shading, the fault strip and its key, figure and axes
helpers."""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

from sim.scenario import FAULT_CLASSES
from .folder import FaultWindow

WIDTH_IN, DPI = 16.0, 100                      # 1600 px wide


class TimeAxis:
    """Seconds inside, minutes on the axis for runs over 10 minutes."""

    def __init__(self, duration: float):
        self.minutes = duration > 600
        self.scale = 60.0 if self.minutes else 1.0
        self.label = "time (min)" if self.minutes else "time (s)"
        self.end = duration / self.scale

    def __call__(self, seconds):
        return np.asarray(seconds, float) / self.scale

    def text(self, seconds: float) -> str:
        v = seconds / self.scale
        return f"{v:g} min" if self.minutes else f"{v:g} s"


def fault_colour(kind: str) -> str:
    """The colour a fault kind names in the registry (sim/scenario/faults.py)."""
    cls = FAULT_CLASSES.get(kind)
    return cls.colour if cls is not None else "tab:olive"


def shade_faults(ax, windows: list[FaultWindow], tx: TimeAxis) -> None:
    """Shade each fault window (a dashed line for an instant)."""
    for w in windows:
        colour = fault_colour(w.kind)
        if w.end is None or w.end <= w.start:
            ax.axvline(tx(w.start), color=colour, lw=1.5, ls="--", alpha=0.8)
        else:
            ax.axvspan(tx(w.start), tx(w.end), color=colour, alpha=0.13, lw=0)


def shade_warmup(ax, warmup: float, tx: TimeAxis) -> None:
    """Grey over the warm-up: drawn, but left out of the summary's figures."""
    if warmup > 0:
        ax.axvspan(0, tx(warmup), facecolor="0.55", alpha=0.18, lw=0, zorder=0)


def fault_lanes(windows: list[FaultWindow], tx: TimeAxis) -> list[int]:
    """A lane per window so that no two windows (and their number tags) overlap in the fault strip."""
    ends: list[float] = []
    lanes = []
    for w in windows:
        x0 = tx(w.start)
        x1 = max(tx(w.end if w.end is not None else w.start), x0 + 0.04 * tx.end)
        lane = next((i for i, end in enumerate(ends) if x0 >= end), len(ends))
        if lane == len(ends):
            ends.append(0.0)
        ends[lane] = x1
        lanes.append(lane)
    return lanes


def fault_strip(ax, windows: list[FaultWindow], tx: TimeAxis) -> None:
    """A thin axes above a time column: each fault as a numbered bar (or tick, for an instant)."""
    lanes = fault_lanes(windows, tx)
    n = max(lanes, default=0) + 1
    for w, lane in zip(windows, lanes):
        colour = fault_colour(w.kind)
        y = n - 1 - lane
        if w.end is None or w.end <= w.start:
            ax.plot([tx(w.start)] * 2, [y - 0.35, y + 0.35], color=colour, lw=2)
        else:
            ax.barh(y, tx(w.end) - tx(w.start), left=tx(w.start), height=0.7, color=colour, alpha=0.45)
        ax.text(tx(w.start), y, f" {w.number}", va="center", ha="left", fontsize=8, fontweight="bold")
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(0, tx.end)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelbottom=False, length=0)
    ax.set_ylabel("faults", rotation=0, ha="right", va="center", fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def fault_legend_handles(windows: list[FaultWindow], tx: TimeAxis) -> list:
    handles = []
    for w in windows:
        when = tx.text(w.start) if w.end is None else f"{tx.text(w.start)}–{tx.text(w.end)}"
        handles.append(Patch(color=fault_colour(w.kind), alpha=0.45,
                             label=f"{w.number}: {w.label}, {when}"))
    return handles


def figure(rows: int, cols: int, row_height: float, title: str, subtitle: str = "",
           windows: list[FaultWindow] = (), tx: TimeAxis | None = None, time_cols=(), keys: dict | None = None):
    """A figure with `rows` x `cols` axes; with faults, a fault strip above each time column and their key below;
    with `keys` (key id -> key_states.KeySpan list), a strip of each key's state under the fault strip."""
    from .key_states import key_legend_handles, key_strip
    strip = bool(windows) and tx is not None
    key_rows = bool(keys) and tx is not None
    lanes = max(fault_lanes(windows, tx), default=0) + 1 if strip else 0
    strip_h = 0.25 + 0.2 * lanes
    key_h = 0.25 + 0.25 * len(keys) if key_rows else 0.0
    legend_h = 0.35 * math.ceil(len(windows) / 3) if strip else 0.0
    fig = Figure(figsize=(WIDTH_IN, 1.3 + row_height * rows + (strip_h if strip else 0) + key_h + legend_h
                          + (0.35 if key_rows else 0)),
                 dpi=DPI, layout="constrained")
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=13)
    if not strip and not key_rows:
        return fig, fig.subplots(rows, cols, squeeze=False)
    tops = ([strip_h] if strip else []) + ([key_h] if key_rows else [])
    grid = fig.add_gridspec(rows + len(tops), cols, height_ratios=tops + [row_height] * rows)
    axes = np.array([[fig.add_subplot(grid[r + len(tops), c]) for c in range(cols)] for r in range(rows)])
    for c in time_cols:
        top = fig.add_subplot(grid[0, c])
        if strip:
            fault_strip(top, windows, tx)
        if key_rows:
            ax_keys = fig.add_subplot(grid[len(tops) - 1, c], sharex=top) if strip else top
            key_strip(ax_keys, keys, tx)
        for r in range(rows):
            axes[r, c].sharex(top)
    handles = (fault_legend_handles(windows, tx) if strip else []) + (key_legend_handles(keys) if key_rows else [])
    fig.legend(handles=handles, loc="outside lower center", fontsize=9, ncols=min(3, len(handles)), frameon=False)
    return fig, axes


def note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, wrap=True,
            bbox={"boxstyle": "round", "facecolor": "lightyellow", "edgecolor": "0.6"})


def note_figure(title: str, text: str) -> Figure:
    fig, axes = figure(1, 1, 3.0, title)
    axes[0, 0].set_axis_off()
    note(axes[0, 0], text)
    return fig


def finish_axes(ax, tx: TimeAxis, ylabel: str, title: str, headroom: float = 1.3) -> None:
    """Time axis, labels, and room above the data for the legend and the fault tags."""
    ax.set_xlim(0, tx.end)
    low, high = ax.get_ylim()
    negative = ax.dataLim.y0 < 0 and np.isfinite(ax.dataLim.y0)
    ax.set_ylim(low if negative else 0.0, max(high, 1.0) * headroom)
    if high > 1000:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlabel(tx.label)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)


def say_if_all_zero(ax, text: str) -> None:
    """A panel whose lines are all at zero gets a 0..1 axis and says so, instead of fractional ticks."""
    if ax.dataLim.y1 <= 0 and ax.dataLim.y0 >= 0:
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", color="0.4")


def steps(ax, t, y, **kw):
    """A per-bin value drawn as a step over its bin (t = bin starts)."""
    if len(t):
        ax.step(np.append(t, t[-1] + (t[1] - t[0] if len(t) > 1 else 1)), np.append(y, y[-1]), where="post", **kw)
