"""Charts of a results folder: pure functions from the result files to matplotlib figures.

The package reads only the files of a results folder (never the model), so it works on any folder a run
wrote, now or later. Each chart has a function returning a `Figure` (for notebooks); `write_charts(folder)`
saves all four PNGs into the folder:

- `timeline.png`       per service: instances desired/starting/ready, pending requests, 429/504 per bin
- `cold_start.png`     per service: cold-start percentiles over time and their split into start phases
- `kms.png`            per quota pool: key operations per second and per minute by reason, against quota
- `capacity_loss.png`  per service: ready instances against the fault-free twin, extra failed requests

Figures are built with `matplotlib.figure.Figure` (Agg canvas), not pyplot, so no global state is touched.
Modules: folder (reading the results folder), layout (time axis, fault shading and strip), colours, one
module per chart, and quota_curve (the chart of a `sim quota` folder).
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from .capacity import capacity_loss_figure
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
           "timeline_figure", "write_charts"]


def save(fig: Figure, path) -> Path:
    fig.savefig(path, dpi=DPI)
    return Path(path)


def write_charts(folder) -> list[Path]:
    """Write timeline.png, cold_start.png, kms.png and capacity_loss.png into the results folder."""
    folder = Path(folder)
    return [save(FIGURES[name](folder), folder / f"{name}.png") for name in CHARTS]
