"""kms.png: per quota pool, key operations per second and per minute, against the quota in force.

Per minute (right): the stacked bars are the operations *requested* per reason (kms_usage.csv's starts,
validation, deploy, background: admitted or refused); the solid line is what the quota *admitted* in all
(requested less the *_rejected columns, less `unavailable`).

Per second (left): under background load the raw per-second series is a jagged band, so the panel draws,
for each window of `peak_window_s` seconds, its busiest second: the requested operations in all (shaded)
and the services' own (line), against the quota per second. The window is labelled on the panel.

Both panels mark the services' *failed* operations apart, one marker per gRPC code (RESOURCE_EXHAUSTED:
refused by the quota; UNAVAILABLE: a KMS outage; FAILED_PRECONDITION: key state or the external key
manager; PERMISSION_DENIED: IAM), and the refused background. A folder written before the *_rejected
columns existed has `background` = admitted background and no admitted line; one written before the
per-code columns marks only RESOURCE_EXHAUSTED.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from .folder import Folder, fault_windows
from .layout import TimeAxis, figure, finish_axes, note_figure, shade_faults

REASONS = (("starts", "instance starts (requested)", "tab:blue"),
           ("validation", "validation checks (requested)", "tab:green"),
           ("deploy", "deploys (requested)", "tab:purple"),
           ("background", "background load (requested)", "tab:gray"))
REJECTED = ("starts_rejected", "validation_rejected", "deploy_rejected", "background_rejected")
# The services' failed operations per gRPC code (kms_usage.csv column, code, what it means, marker, colour).
FAILURES = (("resource_exhausted", "RESOURCE_EXHAUSTED", "quota", "x", "red"),
            ("unavailable", "UNAVAILABLE", "KMS outage", "v", "tab:purple"),
            ("failed_precondition", "FAILED_PRECONDITION", "key state, EKM", "s", "saddlebrown"),
            ("permission_denied", "PERMISSION_DENIED", "IAM", "D", "magenta"))
SERVICES = ("starts", "validation", "deploy")
PEAK_WINDOWS = (1, 2, 5, 10, 15, 30, 60)       # seconds: the per-second panel's window, chosen from these
MAX_WINDOWS = 200                              # ... as the smallest that gives at most this many windows


def peak_window(duration: float) -> int:
    """The default window of the per-second panel: at most MAX_WINDOWS windows over the run."""
    return next((w for w in PEAK_WINDOWS if duration / w <= MAX_WINDOWS), PEAK_WINDOWS[-1])


def window_max(a: np.ndarray, window: int) -> np.ndarray:
    """The largest value of each run of `window` values (the last run may be shorter)."""
    if window <= 1:
        return a
    return np.maximum.reduceat(a, np.arange(0, len(a), window))


def window_sum(a: np.ndarray, window: int) -> np.ndarray:
    return np.add.reduceat(a, np.arange(0, len(a), window)) if window > 1 else a


def _quota_rpm(stretches: list[dict], t: np.ndarray, column: str = "requests_per_minute") -> np.ndarray | None:
    """A column of the pool's quota_in_force.csv rows in force at each time t: the requests per minute, or
    the soft headroom (None without the rows; a headroom of 1, hard, for a folder from before soft quotas)."""
    if not stretches:
        return None
    value = lambda r: float(r.get(column) or 1.0) if column == "soft_headroom" else float(r[column])  # noqa: E731
    out = np.full(len(t), value(stretches[0]))
    for r in sorted(stretches, key=lambda r: r["start_s"]):
        out[t >= float(r["start_s"])] = value(r)
    return out


def kms_figure(folder, peak_window_s: int | None = None) -> Figure:
    """`peak_window_s`: the per-second panel's window (default: `peak_window(duration)`, e.g. 10 s for a
    25-minute run; 1 draws every second)."""
    d = Folder.read(folder)
    tx, windows = TimeAxis(d.duration), fault_windows(d)
    rows = d.rows("kms_usage.csv")
    pools = list(dict.fromkeys(r["pool"] for r in rows if r["pool"] != "software"))
    title = f"KMS key operations against quota — {d.name}"
    if not pools:
        soft = sum(r["starts"] + r["validation"] + r["deploy"] for r in rows)
        what = (f"The services' keys are software keys: their {soft:.0f} key operations consume no KMS quota."
                if rows else "No service uses a CMEK key: no key operations.")
        return note_figure(title, "No quota-consuming key (HSM or external) in this scenario.\n" + what)
    window = int(peak_window_s) if peak_window_s else peak_window(d.duration)
    quotas = d.quota_in_force()
    enforcement = next((r["enforcement"] for rs in quotas.values() for r in rs), None)
    n_sec = int(math.ceil(d.duration))
    seconds = np.arange(n_sec, dtype=float)
    split = bool(rows) and "background_rejected" in rows[0]   # False: a folder from before the *_rejected columns
    fig, axes = figure(len(pools), 2, 3.8, title,
                       "replication 0" + (f", quota enforced {enforcement}" if enforcement else "")
                       + f"; per second: the busiest second of each {window} s window\nper minute: requested "
                       "operations by reason (stacked)" + (", admitted in all (line)" if split else "")
                       + "; the services' failed operations marked by gRPC code", windows, tx, (0, 1))
    columns = SERVICES + ("background",) + REJECTED + tuple(f[0] for f in FAILURES)
    for row, pool in enumerate(pools):
        per = {k: np.zeros(n_sec) for k in columns}
        for r in rows:
            if r["pool"] == pool and 0 <= int(r["second"]) < n_sec:
                for k in per:
                    per[k][int(r["second"])] += r.get(k) or 0
        rpm = _quota_rpm(quotas.get(pool, []), seconds)
        headroom = _quota_rpm(quotas.get(pool, []), seconds, "soft_headroom")
        _per_second_panel(axes[row, 0], tx, seconds, per, None if rpm is None else rpm / 60.0, window, pool,
                          headroom)
        _per_minute_panel(axes[row, 1], tx, seconds, per, rpm, split, pool)
        for ax in axes[row]:
            shade_faults(ax, windows, tx)
    return fig


def _per_second_panel(ax, tx, seconds, per, quota, window: int, pool: str, headroom=None) -> None:
    """The busiest second of each window: all requested (shaded), the services' (line), failures (markers);
    for a soft-enforced pool the ceiling it serves at best (quota x headroom, dotted)."""
    t = seconds[::window]
    x, edges = tx(t), np.append(tx(t), tx.end)
    total = sum(per[k] for k in SERVICES + ("background",))
    services = sum(per[k] for k in SERVICES)
    what = "every second" if window == 1 else f"busiest second in each {window} s"
    if per["background"].any():           # without background the services' line says it all
        shown = window_max(total, window)
        ax.fill_between(edges, np.append(shown, shown[-1]), step="post", color="tab:gray", alpha=0.45, lw=0,
                        label="requested in all (background included)")
    if services.any():
        mine = window_max(services, window)
        ax.step(edges, np.append(mine, mine[-1]), where="post", color="tab:blue", lw=1.3,
                label="requested by the services")
    peak = float(total.max()) if len(total) else 0.0
    top, title = max(peak, 1.0) * 1.6, f"{pool}: per second, {what}"
    if quota is not None:                  # None: a folder without quota_in_force.csv (no quota line)
        top, title = _quota_line(ax, tx, tx(seconds), quota, total, peak, top, title, "/s")
        if headroom is not None and headroom.max() > 1.0:
            ceiling = quota * headroom
            ax.step(np.append(tx(seconds), tx.end), np.append(ceiling, ceiling[-1]), where="post", color="black",
                    lw=1.2, ls=":", zorder=5, label=f"soft ceiling {ceiling.max():,.0f}/s: quota x "
                                                   f"{headroom.max():g} headroom, best effort")
            top = max(top, float(ceiling.max()) * 1.3)
    _failure_markers(ax, x, {k: window_max(per[k], window) for k in per}, {k: per[k].sum() for k in per})
    _finish(ax, tx, top, "/s", title)


def _per_minute_panel(ax, tx, seconds, per, quota, split: bool, pool: str) -> None:
    """Requested per reason (stacked bars), admitted in all (line), failures (markers), per minute."""
    n = int(math.ceil(len(seconds) / 60))
    t = seconds[::60][:n]
    x = tx(t)
    reasons = REASONS if split else REASONS[:3] + (("background", "background load (admitted)", "tab:gray"),)
    stack = [(window_sum(per[k], 60), label, colour) for k, label, colour in reasons if per[k].any()]
    total = sum(s for s, _, _ in stack) if stack else np.zeros(n)
    bottom = np.zeros(n)
    for s, label, colour in stack:
        ax.bar(x, s, width=tx(60) * 0.9, bottom=bottom, align="edge", color=colour, label=label, alpha=0.85)
        bottom += s
    peak = float(total.max()) if len(total) else 0.0
    top, title = max(peak, 1.0) * 1.6, f"{pool}: per minute"
    if quota is not None:
        top, title = _quota_line(ax, tx, x, quota[::60][:n], total, peak, top, title, "/min")
    folded = {k: window_sum(per[k], 60) for k in per}
    centre = x + tx(60) * 0.45                    # the middle of a bar
    refused = folded["resource_exhausted"] + folded["background_rejected"]
    if split and refused.any():
        admitted = total - refused - folded["unavailable"]
        ax.plot(centre, admitted, color="black", lw=1.2, label="admitted (all reasons)")
    _failure_markers(ax, centre, folded, {k: per[k].sum() for k in per})
    _finish(ax, tx, top, "/min", title)


def _failure_markers(ax, x, counts: dict, totals: dict) -> None:
    """One marker series per gRPC code the services' operations failed with, and the refused background;
    the legend names the code, what it means and the run's total."""
    for column, code, meaning, marker, colour in FAILURES:
        hit = counts[column] > 0
        if hit.any():
            ax.plot(x[hit], counts[column][hit], ls="none", marker=marker, ms=6, mew=2 if marker == "x" else 1,
                    color=colour, zorder=6, label=f"{code} ({meaning}): {totals[column]:,.0f} failed")
    hit = counts["background_rejected"] > 0
    if hit.any():
        ax.plot(x[hit], counts["background_rejected"][hit], ls="none", marker=".", ms=5, color="darkorange",
                zorder=6, label=f"background refused (quota): {totals['background_rejected']:,.0f}")


def _finish(ax, tx, top: float, unit: str, title: str) -> None:
    ax.set_ylim(0, top)
    finish_axes(ax, tx, f"key operations{unit}", title, headroom=1.0)
    ax.legend(loc="best", fontsize=8, ncols=2 if len(ax.get_legend_handles_labels()[1]) > 3 else 1)


def _quota_line(ax, tx, x, q, total, peak: float, top: float, title: str, unit: str) -> tuple[float, str]:
    """The quota in force as a dashed step line; the axis top and the panel title with the peak use."""
    qmin, qmax = float(q.min()), float(q.max())
    shown = qmax <= 4 * max(peak, 1.0)
    if shown:
        top = max(top, qmax * 1.6)
    quota_text = f"{qmax:,.0f}{unit}" if qmin == qmax else f"{qmin:,.0f}–{qmax:,.0f}{unit} (varies)"
    above = "" if shown else " — above this axis" if qmin > top else " — partly above this axis"
    ax.step(np.append(x, tx.end), np.append(q, q[-1]), where="post", color="black", lw=1.5, ls="--", zorder=5,
            label=f"quota {quota_text}{above}")
    use = float(np.max(total / q)) if len(total) else 0.0
    share = f"{use:.0%}" if use >= 0.01 or use == 0 else "<1%"
    return top, title + f"; peak {peak:,.0f}{unit} requested, {share} of quota"
