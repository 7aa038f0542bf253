"""Charts of a results folder: pure functions from the result files to matplotlib figures.

The package reads only the files of a results folder (never the model), so it works on any folder a run
wrote, now or later. Each chart has a function returning a `Figure` (for notebooks: they draw any folder,
with a note when there is nothing to show); `write_charts(folder)` saves the PNGs that have something to
show into the folder and returns their paths (`skipped_charts(folder)` says which it leaves out and why:
no kms.png without an HSM or external key, i.e. no quota pool; no capacity_loss.png without a fault-free
twin, i.e. no faults or --no-baseline):

- `timeline.png`       per service: offered load (requests/s arriving, served, failed), instances (desired
                       dashed on top of ready/starting), pending requests, failures as a % of arrivals by cause
- `cold_start.png`     per service: cold-start percentiles over time and their split into start phases
- `kms.png`            per quota pool: key operations against quota, per second (the busiest second of each
                       window, `peak_window_s`) and per minute (stacked by reason), failed ones by gRPC code
- `capacity_loss.png`  per service: ready instances against the fault-free twin, extra failed requests

Figures are built with `matplotlib.figure.Figure` (Agg canvas), not pyplot, so no global state is touched.
Modules: folder (reading the results folder), layout (time axis, fault shading and strip), colours, one
module per chart, and quota_curve (the chart of a `sim quota` folder).
"""
from __future__ import annotations

from pathlib import Path

import yaml
from matplotlib.figure import Figure

from .capacity import capacity_loss_figure, no_twin_reason
from .cold_start import PHASES, cold_start_figure
from .folder import FaultWindow, Folder, fault_windows, read_rows
from .kms import REASONS, kms_figure
from .layout import DPI, WIDTH_IN, TimeAxis, fault_colour, fault_legend_handles, fault_strip, shade_faults
from .quota_curve import quota_curve_figure
from .timeline import timeline_figure

CHARTS = ("timeline", "cold_start", "kms", "capacity_loss")
FIGURES = {"timeline": timeline_figure, "cold_start": cold_start_figure, "kms": kms_figure,
           "capacity_loss": capacity_loss_figure}

__all__ = ["CHARTS", "DPI", "FIGURES", "PHASES", "REASONS", "WIDTH_IN", "FaultWindow", "Folder",
           "TimeAxis", "capacity_loss_figure", "cold_start_figure", "fault_colour", "fault_legend_handles",
           "fault_strip", "fault_windows", "kms_figure", "quota_curve_figure", "read_rows", "save", "shade_faults",
           "skipped_charts", "skipped_line", "timeline_figure", "write_charts"]


def save(fig: Figure, path) -> Path:
    fig.savefig(path, dpi=DPI)
    return Path(path)


def skipped_charts(folder) -> dict[str, str]:
    """The charts with nothing to show in a results folder, each with why (chart name -> reason)."""
    d = Folder.read(folder)
    out = {}
    pools = set(d.quota_in_force()) or {r["pool"] for r in d.rows("kms_usage.csv") if r["pool"] != "software"}
    if not pools:
        scenario = yaml.safe_load((d.path / "scenario.resolved.yaml").read_text())
        uses_key = any(s.get("encryption_key") for s in scenario.get("services", []))
        out["kms"] = ("the services' keys are software keys: no KMS quota to draw against" if uses_key
                      else "no service uses a CMEK key: no KMS quota to draw against")
    why = no_twin_reason(d)
    if why is not None:
        out["capacity_loss"] = why
    return out


def skipped_line(skipped: dict[str, str]) -> str | None:
    """One line for `sim run` naming the charts not written and why (None when all were written)."""
    if not skipped:
        return None
    return "charts not written: " + "; ".join(f"{name}.png ({why})" for name, why in skipped.items())


def write_charts(folder) -> list[Path]:
    """Write into the results folder the charts that have something to show (timeline.png, cold_start.png,
    and kms.png and capacity_loss.png unless `skipped_charts` leaves them out); return their paths."""
    folder = Path(folder)
    skipped = skipped_charts(folder)
    return [save(FIGURES[name](folder), folder / f"{name}.png") for name in CHARTS if name not in skipped]
