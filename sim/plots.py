"""Charts of a results folder: pure functions from the result files to matplotlib figures.

This module reads only the files of a results folder (never the model), so it works on any folder a run
wrote, now or later. Each chart has a function returning a `Figure` (for notebooks); `write_charts(folder)`
saves all four PNGs into the folder:

- `timeline.png`       per service: instances desired/starting/ready, pending requests, 429/504 per bin
- `cold_start.png`     per service: cold-start percentiles over time and their split into start phases
- `kms.png`            per quota pool: key operations per second and per minute by reason, against quota
- `capacity_loss.png`  per service: ready instances against the fault-free twin, extra failed requests

Figures are built with `matplotlib.figure.Figure` (Agg canvas), not pyplot, so no global state is touched.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator, StrMethodFormatter

CHARTS = ("timeline", "cold_start", "kms", "capacity_loss")
WIDTH_IN, DPI = 16.0, 100                      # 1600 px wide
PHASES = (("schedule_s", "schedule"), ("image_fetch_s", "image fetch"),
          ("key_operations_s", "key operations (incl. retries)"), ("container_start_s", "container start"),
          ("app_init_s", "app init"))
REASONS = (("starts", "instance starts", "tab:blue"), ("validation", "validation checks", "tab:green"),
           ("deploy", "deploys", "tab:purple"), ("background", "background load (admitted)", "tab:gray"))
FAULT_COLOURS = {"key-disable": "tab:red", "key-schedule-destroy": "darkred", "key-destroy": "black",
                 "key-restore": "tab:pink",
                 "ekm-outage": "tab:orange", "ekm-latency": "gold", "kms-outage": "tab:purple",
                 "quota-change": "tab:blue", "kms-background-load": "tab:cyan", "iam-revoke": "tab:brown",
                 "deploy": "tab:green"}
# A fault that makes a key unusable lasts until the fault that undoes it (same target), or the end of the run
# (key-restore only brings a scheduled key back to DISABLED: it stays unusable until key-enable).
UNDONE_BY = {"key-disable": ("key-enable",), "key-schedule-destroy": ("key-enable",), "iam-revoke": ("iam-grant",)}


# -- reading the folder -------------------------------------------------------------------------------------
def _number(v: str):
    if v == "":
        return None
    try:
        return float(v)
    except ValueError:
        return v


def read_rows(path: Path) -> list[dict]:
    """CSV rows as dicts with numbers as floats and empty cells as None ([] when the file is missing)."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{k: _number(v) for k, v in row.items()} for row in csv.DictReader(f)]


@dataclass
class Folder:
    """What the charts need from a results folder."""
    path: Path
    name: str
    duration: float
    interval: float
    scenario: dict
    summary: dict
    baseline: bool

    @classmethod
    def read(cls, folder) -> "Folder":
        path = Path(folder)
        scenario = yaml.safe_load((path / "scenario.resolved.yaml").read_text())
        summary = json.loads((path / "summary.json").read_text())
        manifest_file = path / "manifest.json"
        manifest = json.loads(manifest_file.read_text()) if manifest_file.exists() else {}
        baseline = (path / "baseline_timeseries.csv").exists() and manifest.get("baseline", True)
        return cls(path, scenario["name"], float(scenario["duration"]), float(scenario["timeseries_interval"]),
                   scenario, summary, bool(baseline))

    def series(self, file: str = "timeseries.csv") -> dict[str, dict[str, np.ndarray]]:
        """service -> column -> values per bin (plus "t", the bin start), in the scenario's service order."""
        out: dict[str, dict[str, list]] = {s["name"]: {} for s in self.scenario["services"]}
        for row in read_rows(self.path / file):
            cols = out.setdefault(row["service"], {})
            for k, v in row.items():
                if k != "service":
                    cols.setdefault(k, []).append(0.0 if v is None else v)
        return {name: {("t" if k == "time_s" else k): np.asarray(v, float) for k, v in cols.items()}
                for name, cols in out.items() if cols}


# -- time axis and fault shading ----------------------------------------------------------------------------
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


@dataclass
class FaultWindow:
    number: int
    kind: str
    start: float
    end: float | None          # None: an instant (deploy, or a fault that had no effect)
    label: str


def _target(f: dict) -> str:
    return str(f.get("key") or f.get("service") or "")


def _describe(f: dict) -> str:
    kind = f["kind"]
    if kind == "ekm-outage":
        return f"ekm-outage {f['error']}" + (f" ({f['key']})" if f.get("key") else "")
    if kind == "quota-change":
        parts = [f"{k.split('_')[0]} {f[k]:g}/min" for k in ("hsm_requests_per_minute", "external_requests_per_minute")
                 if f.get(k) is not None]
        return "quota-change " + ", ".join(parts)
    if kind == "ekm-latency":
        lat = f.get("latency") or {}
        parts = [f"{k} {float(lat[k]) * 1000:g} ms" for k in ("median", "p99", "mean", "value") if k in lat]
        return "ekm-latency" + (f" ({', '.join(parts)})" if parts else "") + (f" ({f['key']})" if f.get("key") else "")
    if kind == "kms-background-load":
        return f"kms-background-load +{f['rps']:g}/s"
    if kind == "deploy":
        key = f.get("encryption_key", "same key") or "Google-managed"
        return f"deploy {f['service']} ({key})"
    return f"{kind} {_target(f)}".strip()


def fault_windows(folder: Folder) -> list[FaultWindow]:
    """The scenario's faults as shaded windows: durations, or state changes until they are undone."""
    faults = folder.scenario.get("faults") or []
    not_applied = {(round(float(r["time_s"]), 6), r["kind"], str(r["target"]))
                   for r in read_rows(folder.path / "fault_events.csv") if r.get("applied") == 0}
    out: list[FaultWindow] = []
    for i, f in enumerate(faults):
        kind, at = f["kind"], float(f["at"])
        if kind in ("key-enable", "iam-grant"):
            continue  # drawn as the end of the window they close
        label = _describe(f)
        end: float | None = None
        if (round(at, 6), kind, _target(f)) in not_applied:
            label += " (no effect)"
        elif f.get("duration") is not None:
            end = at + float(f["duration"])
        elif kind in UNDONE_BY or kind in ("key-destroy", "quota-change"):
            end = folder.duration
            for g in faults[i + 1:]:
                if g["kind"] in UNDONE_BY.get(kind, ()) and _target(g) == _target(f) and float(g["at"]) >= at:
                    end = float(g["at"])
                    label += f" until {g['kind']}"
                    break
        out.append(FaultWindow(len(out) + 1, kind, at, None if end is None else min(end, folder.duration), label))
    return out


def shade_faults(ax, windows: list[FaultWindow], tx: TimeAxis) -> None:
    """Shade each fault window (a dashed line for an instant)."""
    for w in windows:
        colour = FAULT_COLOURS.get(w.kind, "tab:olive")
        if w.end is None or w.end <= w.start:
            ax.axvline(tx(w.start), color=colour, lw=1.5, ls="--", alpha=0.8)
        else:
            ax.axvspan(tx(w.start), tx(w.end), color=colour, alpha=0.13, lw=0)


def _lanes(windows: list[FaultWindow], tx: TimeAxis) -> list[int]:
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
    lanes = _lanes(windows, tx)
    n = max(lanes, default=0) + 1
    for w, lane in zip(windows, lanes):
        colour = FAULT_COLOURS.get(w.kind, "tab:olive")
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
        handles.append(Patch(color=FAULT_COLOURS.get(w.kind, "tab:olive"), alpha=0.45,
                             label=f"{w.number}: {w.label}, {when}"))
    return handles


# -- figure helpers -----------------------------------------------------------------------------------------
def _figure(rows: int, cols: int, row_height: float, title: str, subtitle: str = "",
            windows: list[FaultWindow] = (), tx: TimeAxis | None = None, time_cols=()):
    """A figure with `rows` x `cols` axes; with faults, a fault strip above each time column and their key below."""
    strip = bool(windows) and tx is not None
    lanes = max(_lanes(windows, tx), default=0) + 1 if strip else 0
    strip_h = 0.25 + 0.2 * lanes
    fig = Figure(figsize=(WIDTH_IN, 1.3 + row_height * rows + (strip_h + 0.35 * math.ceil(len(windows) / 3)
                                                                   if strip else 0)),
                 dpi=DPI, layout="constrained")
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""), fontsize=13)
    if not strip:
        return fig, fig.subplots(rows, cols, squeeze=False)
    grid = fig.add_gridspec(rows + 1, cols, height_ratios=[strip_h] + [row_height] * rows)
    axes = np.array([[fig.add_subplot(grid[r + 1, c]) for c in range(cols)] for r in range(rows)])
    for c in time_cols:
        top = fig.add_subplot(grid[0, c])
        fault_strip(top, windows, tx)
        for r in range(rows):
            axes[r, c].sharex(top)
    fig.legend(handles=fault_legend_handles(windows, tx), loc="outside lower center", fontsize=9,
               ncols=min(3, len(windows)), frameon=False)
    return fig, axes


def _note(ax, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=11, wrap=True,
            bbox={"boxstyle": "round", "facecolor": "lightyellow", "edgecolor": "0.6"})


def _note_figure(title: str, text: str) -> Figure:
    fig, axes = _figure(1, 1, 3.0, title)
    axes[0, 0].set_axis_off()
    _note(axes[0, 0], text)
    return fig


def _finish_axes(ax, tx: TimeAxis, ylabel: str, title: str, headroom: float = 1.3) -> None:
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


def _say_if_all_zero(ax, text: str) -> None:
    """A panel whose lines are all at zero gets a 0..1 axis and says so, instead of fractional ticks."""
    if ax.dataLim.y1 <= 0 and ax.dataLim.y0 >= 0:
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", color="0.4")


def _steps(ax, t, y, **kw):
    """A per-bin value drawn as a step over its bin (t = bin starts)."""
    if len(t):
        ax.step(np.append(t, t[-1] + (t[1] - t[0] if len(t) > 1 else 1)), np.append(y, y[-1]), where="post", **kw)


# -- timeline -----------------------------------------------------------------------------------------------
def timeline_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows, series = TimeAxis(d.duration), fault_windows(d), d.series()
    fig, axes = _figure(len(series), 3, 3.4, f"Timeline — {d.name}",
                        f"replication 0, {d.interval:g} s bins" + ("; shaded: fault windows" if windows else ""),
                        windows, tx, (0, 1, 2))
    for row, (name, c) in enumerate(series.items()):
        t = tx(c["t"])
        a_inst, a_pend, a_fail = axes[row]
        _steps(a_inst, t, c["instances_desired"], color="black", ls="--", lw=1.2, label="desired")
        _steps(a_inst, t, c["instances_starting"], color="tab:orange", lw=1.2, label="starting")
        _steps(a_inst, t, c["instances_ready"], color="tab:blue", lw=1.8, label="ready")
        if "instances_parked" in c and c["instances_parked"].any():
            _steps(a_inst, t, c["instances_ready"] - c["instances_parked"], color="tab:cyan", lw=1.0,
                   label="ready and serving (rest: idle, kept warm)")
        _steps(a_pend, t, c["pending"], color="tab:purple", lw=1.4, label="pending requests")
        _steps(a_fail, t, c["failed_429"], color="tab:red", lw=1.4, label="429 (pending timeout)")
        _steps(a_fail, t, c["failed_504"], color="tab:brown", lw=1.4, label="504 (request timeout)")
        if "failed_shutdown" in c and c["failed_shutdown"].any():
            _steps(a_fail, t, c["failed_shutdown"], color="black", lw=1.0, label="failed at shutdown")
        for ax, ylabel, title in ((a_inst, "instances", "instances"),
                                  (a_pend, "requests (at bin end)", "pending requests"),
                                  (a_fail, f"requests per {d.interval:g} s bin", "failed requests")):
            shade_faults(ax, windows, tx)
            _finish_axes(ax, tx, ylabel, f"{name}: {title}")
            ax.legend(loc="best", fontsize=8)
            _say_if_all_zero(ax, f"no {title} in this run")
        a_inst.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


# -- cold starts --------------------------------------------------------------------------------------------
NICE_BINS = (10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 14400, 21600, 43200, 86400)


def _bin_width(duration: float, interval: float, target_bins: int = 40) -> float:
    return float(next((b for b in NICE_BINS if b >= max(duration / target_bins, interval)), NICE_BINS[-1]))


def cold_start_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows = TimeAxis(d.duration), fault_windows(d)
    rows = read_rows(d.path / "instances.csv")
    names = [s["name"] for s in d.scenario["services"]]
    title = f"Cold starts — {d.name}"
    if not any(r.get("ready_at") is not None for r in rows):
        return _note_figure(title, "No instance became ready in this run: no cold starts to show.")
    width = _bin_width(d.duration, d.interval)
    n_bins = int(math.ceil(d.duration / width))
    fig, axes = _figure(len(names), 3, 3.6, title,
                        f"replication 0; cold start = start requested → ready, binned by ready time "
                        f"({tx.text(width)} bins)", windows, tx, (0, 1))
    for row, name in enumerate(names):
        mine = [r for r in rows if r["service"] == name and r.get("ready_at") is not None]
        failed = [r["start_error"] for r in rows if r["service"] == name and r.get("start_error")]
        a_pct, a_time, a_band = axes[row]
        if not mine:
            for ax in axes[row]:
                ax.set_axis_off()
            _note(a_time, f"{name}: no instance became ready ({len(failed):,} failed starts)")
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
        _finish_axes(a_pct, tx, "cold-start latency (s)",
                     f"{name}: {len(mine):,} cold starts" + (f"; failed starts: {why}" if failed else ""))
        h1, l1 = a_pct.get_legend_handles_labels()
        h2, l2 = a_cnt.get_legend_handles_labels()
        a_pct.legend(h1 + h2, l1 + l2, loc="best", fontsize=8)

        _stacked_bars(a_time, centres, means, tx(width) * 0.9)
        shade_faults(a_time, windows, tx)
        _finish_axes(a_time, tx, "mean seconds per start", f"{name}: mean start phases per bin (key on the right)")
        _phase_bands(a_band, startup, phases, name)
    return fig


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


# -- KMS usage ----------------------------------------------------------------------------------------------
def _quota_rpm(d: Folder, level: str, t: np.ndarray) -> np.ndarray:
    """Requests per minute of the pool's protection level over time: the base and `quota-change` faults."""
    field = f"{level}_requests_per_minute"
    out = np.full(len(t), float(d.scenario["kms"]["quota"][field]))
    for f in d.scenario.get("faults") or []:
        if f["kind"] == "quota-change" and f.get(field) is not None:
            start = float(f["at"])
            end = math.inf if f.get("duration") is None else start + float(f["duration"])
            out[(t >= start) & (t < end)] = float(f[field])
    return out


def kms_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows = TimeAxis(d.duration), fault_windows(d)
    rows = read_rows(d.path / "kms_usage.csv")
    pools = list(dict.fromkeys(r["pool"] for r in rows if r["pool"] != "software"))
    title = f"KMS key operations against quota — {d.name}"
    if not pools:
        soft = sum(r["starts"] + r["validation"] + r["deploy"] for r in rows)
        what = (f"The services' keys are software keys: their {soft:.0f} key operations consume no KMS quota."
                if rows else "No service uses a CMEK key: no key operations.")
        return _note_figure(title, "No quota-consuming key (HSM or external) in this scenario.\n" + what)
    enforcement = d.scenario["kms"]["quota"]["enforcement"]
    n_sec = int(math.ceil(d.duration))
    seconds = np.arange(n_sec, dtype=float)
    fig, axes = _figure(len(pools), 2, 3.8, title,
                        f"replication 0; requested operations by reason (stacked); quota enforced {enforcement}",
                        windows, tx, (0, 1))
    for row, pool in enumerate(pools):
        level = pool.rsplit("/", 1)[-1]
        per = {k: np.zeros(n_sec) for k in ("starts", "validation", "deploy", "background", "resource_exhausted")}
        for r in rows:
            if r["pool"] == pool and 0 <= int(r["second"]) < n_sec:
                for k in per:
                    per[k][int(r["second"])] += r[k] or 0
        rpm = _quota_rpm(d, level, seconds)
        _kms_panel(axes[row, 0], tx, seconds, per, rpm / 60.0, 1, f"{pool}: operations per second", "/s",
                   windows)
        _kms_panel(axes[row, 1], tx, seconds, per, rpm, 60, f"{pool}: operations per minute", "/min", windows)
    return fig


def _kms_panel(ax, tx, seconds, per, quota, window: int, title: str, unit: str, windows) -> None:
    n = int(math.ceil(len(seconds) / window))
    def fold(a):
        return np.add.reduceat(a, np.arange(0, len(a), window)) if window > 1 else a
    t = seconds[::window][:n]
    stack = [(fold(per[k]), label, colour) for k, label, colour in REASONS if per[k].any()]
    total = sum(s for s, _, _ in stack) if stack else np.zeros(n)
    x = tx(t)
    if window == 1:
        ax.stackplot(x, [s for s, _, _ in stack], labels=[lab for _, lab, _ in stack],
                     colors=[c for _, _, c in stack], step="post", alpha=0.85)
    else:
        bottom = np.zeros(n)
        for s, label, colour in stack:
            ax.bar(x, s, width=tx(window) * 0.9, bottom=bottom, align="edge", color=colour, label=label, alpha=0.85)
            bottom += s
    q = quota[::window][:n]
    peak = float(total.max()) if len(total) else 0.0
    qmin, qmax = float(q.min()), float(q.max())
    top = max(peak, 1.0) * 1.6
    shown = qmax <= 4 * max(peak, 1.0)
    if shown:
        top = max(top, qmax * 1.6)
    quota_text = f"{qmax:,.0f}{unit}" if qmin == qmax else f"{qmin:,.0f}–{qmax:,.0f}{unit} (varies)"
    above = "" if shown else " — above this axis" if qmin > top else " — partly above this axis"
    ax.step(np.append(x, tx.end), np.append(q, q[-1]), where="post", color="black", lw=1.5, ls="--",
            label=f"quota {quota_text}{above}")
    use = float(np.max(total / q)) if len(total) else 0.0
    title += f"; peak {peak:,.0f}{unit} = {use:.0%} of the quota in force"
    rejected = fold(per["resource_exhausted"])
    if rejected.any():
        hit = rejected > 0
        centre = x + (tx(window) * 0.45 if window > 1 else 0)   # the middle of a per-minute bar
        ax.plot(centre[hit], rejected[hit], ls="none", marker="x", ms=6, mew=2, color="red",
                label=f"RESOURCE_EXHAUSTED ({rejected.sum():,.0f} rejected)")
    ax.set_ylim(0, top)
    shade_faults(ax, windows, tx)
    _finish_axes(ax, tx, f"key operations{unit}", title, headroom=1.0)
    ax.legend(loc="best", fontsize=8, ncols=2 if len(ax.get_legend_handles_labels()[1]) > 3 else 1)


# -- capacity loss ------------------------------------------------------------------------------------------
def _failed(c: dict) -> np.ndarray:
    return c["failed_429"] + c["failed_504"] + c.get("failed_shutdown", 0 * c["failed_429"])


def capacity_loss_figure(folder) -> Figure:
    d = Folder.read(folder)
    tx, windows, run = TimeAxis(d.duration), fault_windows(d), d.series()
    title = f"Capacity loss against the fault-free twin — {d.name}"
    subtitle = "replication 0 and the same run with no faults (same random streams)"
    if not d.baseline:
        why = ("this scenario has no faults, so there is nothing to compare"
               if not d.scenario.get("faults") else "the run was made without it (--no-baseline)")
        subtitle = f"No fault-free twin: {why}. Showing the run alone."
    twin = d.series("baseline_timeseries.csv") if d.baseline else {}
    losses = {n: s.get("capacity_loss") or {} for n, s in d.summary["runs"][0]["services"].items()}
    fig, axes = _figure(len(run), 2, 3.6, title, subtitle, windows, tx, (0, 1))
    for row, (name, c) in enumerate(run.items()):
        a_ready, a_fail = axes[row]
        t = tx(c["t"])
        _steps(a_ready, t, c["instances_ready"], color="tab:blue", lw=1.6, label="ready (run)")
        b = twin.get(name)
        if b is not None:
            _steps(a_ready, t, b["instances_ready"], color="black", ls="--", lw=1.2, label="ready (fault-free twin)")
            tt = np.append(t, t[-1] + (t[1] - t[0] if len(t) > 1 else 1))
            ready, base = np.append(c["instances_ready"], c["instances_ready"][-1]), \
                np.append(b["instances_ready"], b["instances_ready"][-1])
            a_ready.fill_between(tt, ready, np.maximum(base, ready), step="post", color="tab:red", alpha=0.3,
                                 lw=0, label="capacity lost")   # zero height wherever the run is not below
            extra = np.cumsum(_failed(c)) - np.cumsum(_failed(b))
            a_fail.plot(t + tx(d.interval), extra, color="tab:red", lw=1.6, label="extra failed requests (run − twin)")
            a_fail.axhline(0, color="0.5", lw=0.8)
            loss = losses.get(name, {})
            lost_s = loss.get("ready_instance_s")
            lost = f" (lost {lost_s:,.0f} instance·s)" if lost_s is not None else ""
            extra_total = loss.get("extra_failed_requests")
            fail_title = f"{name}: cumulative extra failed requests" + (
                f" (total {extra_total:,.0f})" if extra_total is not None else "")
        else:
            a_fail.plot(t + tx(d.interval), np.cumsum(_failed(c)), color="tab:red", lw=1.6,
                        label="failed requests (run)")
            lost, fail_title = " (no twin to compare)", f"{name}: cumulative failed requests (no twin)"
        for ax in (a_ready, a_fail):
            shade_faults(ax, windows, tx)
        _finish_axes(a_ready, tx, "ready instances", f"{name}: ready instances{lost}")
        _finish_axes(a_fail, tx, "requests (cumulative)", fail_title)
        a_ready.yaxis.set_major_locator(MaxNLocator(integer=True))
        a_ready.legend(loc="best", fontsize=8)
        a_fail.legend(loc="best", fontsize=8)
        _say_if_all_zero(a_fail, "no extra failed requests" if b is not None else "no failed requests")
    return fig


# -- quota curve (a quota folder: quota.json) ---------------------------------------------------------------
def quota_curve_figure(folder) -> Figure:
    """Each SLO's metric against the quota: mean and one-sided bounds per service, threshold, current quota
    and recommendation (from quota.json in a folder written by `sim quota`)."""
    q = json.loads((Path(folder) / "quota.json").read_text())
    levels = sorted(q["levels"], key=lambda lv: lv["requests_per_minute"])
    objectives = q["objectives"]
    fig, axes = _figure(1, len(objectives), 4.6, f"KMS quota against the objectives — {q['scenario']}",
                        f"{q['protection']} quota, enforced {q['enforcement']}; {q['replications']} paired "
                        f"replications per level; band: one-sided {q['confidence']:.0%} bounds of the mean")
    x = np.array([lv["requests_per_minute"] for lv in levels], float)
    for ax, objective in zip(axes[0], objectives):
        slo = objective["slo"]
        services = list(dict.fromkeys(r["service"] for r in levels[0]["metrics"] if r["slo"] == slo))
        for k, name in enumerate(services):
            rows = [next(r for r in lv["metrics"] if r["slo"] == slo and r["service"] == name) for lv in levels]
            get = lambda key: np.array([np.nan if r[key] is None else r[key] for r in rows], float)
            colour = f"C{k}"
            low = get("low")
            if all(v is None or v >= 0 for r in rows for v in r["values"]):
                low = np.maximum(low, 0.0)  # a count or a duration: the band stops at zero
            ax.fill_between(x, low, get("high"), color=colour, alpha=0.2)
            ax.plot(x, get("mean"), color=colour, lw=1.5, label=f"{name}: mean")
            met = np.array([r["met"] for r in rows])
            ax.plot(x[met], get("mean")[met], "o", color=colour, ms=6, label=f"{name}: meets this SLO")
            ax.plot(x[~met], get("mean")[~met], "o", mfc="white", color=colour, ms=6,
                    label=f"{name}: fails this SLO")
        ax.axhline(objective["threshold"], color="black", lw=1.2, ls=":", label=f"threshold ({slo})")
        ax.axvline(q["current_requests_per_minute"], color="tab:gray", lw=1.5, ls="--",
                   label=f"current quota {q['current_requests_per_minute']:,.0f}/min")
        ax.axvline(q["recommended_requests_per_minute"], color="tab:green", lw=2,
                   label=f"recommended {q['recommended_requests_per_minute']:,.0f}/min")
        at80 = q["at_80_percent"]
        if at80:
            ax.axvline(at80["requests_per_minute"], color="tab:green", lw=1, ls=":",
                       label=f"80% of it ({at80['requests_per_minute']:,.0f}/min): "
                             f"{'meets' if at80['met'] else 'fails'}")
        if x.max() / max(x.min(), 1) > 20:
            ax.set_xscale("log")
        means = [r["mean"] for lv in levels for r in lv["metrics"] if r["slo"] == slo and r["mean"] is not None]
        positive = [m for m in means if m > 0]
        if positive and min(means) >= 0 and max(positive) > 50 * min(positive):
            ax.set_yscale("symlog", linthresh=1.0)    # small counts near the answer stay visible
            ax.set_ylim(bottom=0)
        ax.set_xlabel("quota (requests per minute)")
        ax.set_ylabel(objective["metric"])
        rule = (" — must hold in every replication" if objective["op"] in ("<", "<=") and objective["threshold"] == 0
                else f" — the one-sided {q['confidence']:.0%} bound must meet it")
        ax.set_title(slo + rule, fontsize=11)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.legend(loc="best", fontsize=8)
    return fig


# -- writing ------------------------------------------------------------------------------------------------
FIGURES = {"timeline": timeline_figure, "cold_start": cold_start_figure, "kms": kms_figure,
           "capacity_loss": capacity_loss_figure}


def save(fig: Figure, path) -> Path:
    fig.savefig(path, dpi=DPI)
    return Path(path)


def write_charts(folder) -> list[Path]:
    """Write timeline.png, cold_start.png, kms.png and capacity_loss.png into the results folder."""
    folder = Path(folder)
    return [save(FIGURES[name](folder), folder / f"{name}.png") for name in CHARTS]
