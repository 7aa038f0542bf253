"""kms.png: per quota pool, key operations per second and per minute by reason, against the quota in force.

The stacked areas/bars are the operations *requested* per reason (kms_usage.csv's starts, validation,
deploy, background: admitted or refused); the solid line is what the quota *admitted* in all (requested
less the *_rejected columns, less `unavailable`); the red crosses what it *refused* (RESOURCE_EXHAUSTED:
the services' and the background's). A folder written before the *_rejected columns existed has
`background` = admitted background and no admitted line.
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


def _quota_rpm(stretches: list[dict], t: np.ndarray) -> np.ndarray | None:
    """Requests per minute in force at each time t, from the pool's quota_in_force.csv rows (None without)."""
    if not stretches:
        return None
    out = np.full(len(t), float(stretches[0]["requests_per_minute"]))
    for r in sorted(stretches, key=lambda r: r["start_s"]):
        out[t >= float(r["start_s"])] = float(r["requests_per_minute"])
    return out


def kms_figure(folder) -> Figure:
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
    quotas = d.quota_in_force()
    enforcement = next((r["enforcement"] for rs in quotas.values() for r in rs), None)
    n_sec = int(math.ceil(d.duration))
    seconds = np.arange(n_sec, dtype=float)
    split = bool(rows) and "background_rejected" in rows[0]   # False: a folder from before the *_rejected columns
    fig, axes = figure(len(pools), 2, 3.8, title,
                       "replication 0; requested operations by reason (stacked)"
                       + ("; admitted in all (line, per minute); refused (markers)" if split else "")
                       + (f"; quota enforced {enforcement}" if enforcement else ""), windows, tx, (0, 1))
    columns = ("starts", "validation", "deploy", "background", "resource_exhausted", "unavailable") + REJECTED
    for row, pool in enumerate(pools):
        per = {k: np.zeros(n_sec) for k in columns}
        for r in rows:
            if r["pool"] == pool and 0 <= int(r["second"]) < n_sec:
                for k in per:
                    per[k][int(r["second"])] += r.get(k) or 0
        per["split"] = split
        rpm = _quota_rpm(quotas.get(pool, []), seconds)
        per_second = None if rpm is None else rpm / 60.0
        _kms_panel(axes[row, 0], tx, seconds, per, per_second, 1, f"{pool}: operations per second", "/s", windows)
        _kms_panel(axes[row, 1], tx, seconds, per, rpm, 60, f"{pool}: operations per minute", "/min", windows)
    return fig


def _kms_panel(ax, tx, seconds, per, quota, window: int, title: str, unit: str, windows) -> None:
    n = int(math.ceil(len(seconds) / window))
    def fold(a):
        return np.add.reduceat(a, np.arange(0, len(a), window)) if window > 1 else a
    t = seconds[::window][:n]
    split = per["split"]
    reasons = REASONS if split else REASONS[:3] + (("background", "background load (admitted)", "tab:gray"),)
    stack = [(fold(per[k]), label, colour) for k, label, colour in reasons if per[k].any()]
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
    peak = float(total.max()) if len(total) else 0.0
    top = max(peak, 1.0) * 1.6
    if quota is not None:                  # None: a folder without quota_in_force.csv (no quota line)
        top, title = _quota_line(ax, tx, x, quota[::window][:n], total, peak, top, title, unit)
    services_refused = fold(per["resource_exhausted"])
    background_refused = fold(per["background_rejected"])
    centre = x + (tx(window) * 0.45 if window > 1 else 0)   # the middle of a per-minute bar
    if split and window > 1 and (services_refused + background_refused).any():
        # Per second the admitted line would hide the stack it follows; per minute it shows the cut.
        admitted = total - services_refused - background_refused - fold(per["unavailable"])
        ax.plot(centre, admitted, color="black", lw=1.2, label="admitted (all reasons)")
    if services_refused.any():
        hit = services_refused > 0
        ax.plot(centre[hit], services_refused[hit], ls="none", marker="x", ms=6, mew=2, color="red",
                label=f"refused to the services (RESOURCE_EXHAUSTED): {services_refused.sum():,.0f}")
    if background_refused.any():
        hit = background_refused > 0
        ax.plot(centre[hit], background_refused[hit], ls="none", marker=".", ms=4, color="darkorange",
                label=f"background refused: {background_refused.sum():,.0f}")
    ax.set_ylim(0, top)
    shade_faults(ax, windows, tx)
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
    ax.step(np.append(x, tx.end), np.append(q, q[-1]), where="post", color="black", lw=1.5, ls="--",
            label=f"quota {quota_text}{above}")
    use = float(np.max(total / q)) if len(total) else 0.0
    share = f"{use:.0%}" if use >= 0.01 or use == 0 else "<1%"
    return top, title + f"; peak requested {peak:,.0f}{unit}, {share} of quota"
