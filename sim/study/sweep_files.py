"""What a sweep writes: its figures per (cell, replication), the files of its folder, and what the folder of
an interrupted sweep (`<out>.partial`, sim/study/partial.py) depends on.

Every file depends only on the study (scenario, settings, replications, seed), never on the number of
workers, the engine or an interruption: rows in (cell, replication) order, floats written with repr, no
times or dates (the command prints its wall time instead).
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import json
from pathlib import Path

import yaml

from ..scenario import ScenarioError
from ..slo import SloError, metric, metric_name, parse_metric
from ..summary_schema import KMS_METRICS, SERVICE_METRICS, failed_requests

DEFAULT_METRIC = "capacity.shortfall_fraction"
# Each service's main figures (paths of its run summary; requests.failed and failed_fraction are derived
# when the summary does not hold them; cost.usd_per_month puts each cell's cost beside its capacity), then
# the fault figure when a cell has faults, then the KMS figures. A `--metric PATH@WINDOW` adds its column
# `<service>.PATH@WINDOW`.
SERVICE_FIGURES = ("requests.arrived", "requests.failed", "requests.failed_fraction", "latency_s.p99",
                   "cold_starts.count", "cold_starts.latency_s.p50", "cold_starts.latency_s.p99",
                   "instances.mean_ready", "capacity.shortfall_fraction", "cost.usd_per_month")
FAULT_FIGURES = ("capacity_loss.ready_instance_s",)
KMS_FIGURES = ("operations", "resource_exhausted")
DERIVED = ("requests.failed",)          # figures the sweep derives: not in a run summary


# -- the figures ------------------------------------------------------------------------------------------
def check_metric(metric: str) -> str:
    """The metric, if it is a service figure of the summary schema (or a derived one), one over a window
    (`METRIC@WINDOW`, sim.slo.parse_metric: its canonical text), or `kms.<figure>`; ScenarioError (one line)
    otherwise."""
    known = list(SERVICE_METRICS) + list(DERIVED)
    if metric in known or metric.removeprefix("kms.") in KMS_METRICS and metric.startswith("kms."):
        return metric
    if "@" in metric:
        try:
            return metric_name(*parse_metric(metric))
        except SloError as exc:
            raise ScenarioError([str(exc)]) from None
    choices = known + [f"kms.{k}" for k in KMS_METRICS]
    close = difflib.get_close_matches(metric, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ScenarioError([f"--metric {metric}: not a figure of a run summary{hint} (a service's figure such as "
                         f"{DEFAULT_METRIC} or requests.failed_fraction, or kms.operations; "
                         "sim/summary_schema.py lists them)"])


def figure_specs(services: list[str], faults: bool, metric: str) -> list[tuple[str, str | None, str]]:
    """The figure columns of sweep.csv as (column, service or None for KMS, path): `<service>.<path>` for
    each service, then `kms.<figure>`."""
    paths = list(SERVICE_FIGURES) + (list(FAULT_FIGURES) if faults else [])
    if not metric.startswith("kms.") and metric not in paths:
        paths.append(metric)
    return [(f"{s}.{p}", s, p) for s in services for p in paths] + [(f"kms.{k}", None, k) for k in KMS_FIGURES]


def service_figure(service: dict, path: str):
    """A figure of a service's run summary: a path, `requests.failed` (derived), or `PATH@WINDOW`."""
    if path == "requests.failed":
        return failed_requests(service["requests"])
    path, _, window = path.partition("@")
    return metric(service, tuple(path.split(".")), window or None)


def unit_figures(summary: dict, specs) -> dict:
    """The figures of one run summary (a unit's result), by column."""
    return {column: summary["kms"][path] if service is None else service_figure(summary["services"][service], path)
            for column, service, path in specs}


# -- the files --------------------------------------------------------------------------------------------
def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_table(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(header)
        for row in rows:
            out.writerow([_text(v) for v in row])


def write_sweep(folder: Path, study: dict, cells, settings, figures: dict, columns: list[str]) -> None:
    """sweep.json, sweep.csv, sweep_summary.csv and cells/cell-NNN.yaml (the chart is drawn from them)."""
    from ..metrics import t_interval
    (folder / "sweep.json").write_text(json.dumps(study, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths = [s.path for s in settings]
    reps = study["replications"]
    write_table(folder / "sweep.csv", ["cell", *paths, "replication", *columns],
                ([cell.index, *cell.texts, r, *(figures[cell.index, r][c] for c in columns)]
                 for cell in cells for r in range(reps)))
    stats = ("mean", "low", "high")
    rows = []
    for cell in cells:
        row = [cell.index, *cell.texts, reps]
        for c in columns:
            interval = t_interval([figures[cell.index, r][c] for r in range(reps)])
            row += [interval[k] for k in stats]
        rows.append(row)
    write_table(folder / "sweep_summary.csv", ["cell", *paths, "replications",
                                               *(f"{c}.{k}" for c in columns for k in stats)], rows)
    (folder / "cells").mkdir()
    for cell in cells:
        with open(folder / cell_file(cell.index, len(cells)), "w", encoding="utf-8") as f:
            yaml.safe_dump(cell.scenario.to_resolved_dict(), f, sort_keys=False, allow_unicode=True)


def cell_file(index: int, count: int) -> str:
    return f"cells/cell-{index:0{max(3, len(str(count - 1)))}d}.yaml"


def study_json(args, scenario, settings, cells, replications: int, metric: str, columns: list[str]) -> dict:
    """The study's parameters (sweep.json): what was swept, and per cell its values."""
    return {
        "scenario": scenario.name, "file": str(args.file), "seed": scenario.seed, "duration_s": scenario.duration,
        "replications": replications, "metric": metric,
        "sets": [{"path": s.path, "values": list(s.texts)} for s in settings],
        "services": [s.name for s in scenario.services], "figures": columns,
        "cells": [{"cell": c.index, "values": dict(zip((s.path for s in settings), c.texts)),
                   "resolved": c.resolved_values(settings), "scenario": cell_file(c.index, len(cells))}
                  for c in cells],
    }


# -- what an interrupted sweep's saved units depend on -------------------------------------------------
def cells_digest(cells, baseline: bool) -> str:
    """What the saved units depend on: every cell's resolved scenario (so never mixed with another grid)."""
    text = json.dumps([[c.index, c.scenario.to_resolved_dict()] for c in cells] + [baseline], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
