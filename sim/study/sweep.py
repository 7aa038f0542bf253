"""`sim sweep`: a scenario over a grid of settings, every cell on the same random streams (paired cells).

    python -m sim sweep FILE --set PATH=V1,V2,... [--set ...] [--replications N] [--workers N] [--out DIR]
                             [--metric M] [--resume] [--quiet] [--scheduler ADDR] [--seed N] [--duration D]

Every cell is checked before anything runs. The units (one per cell and replication) run on the study
engine; each finished one is saved in `<out>.partial/units/`, so an interrupted sweep continues with
`--resume`. The files are written to a temporary folder and moved into place at the end (sweep_files).
Its arguments are defined in sim/cli.py.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..kernel import kernel_of
from ..scenario import ScenarioError, load_with_warnings
from ..windows import WindowError, with_windows
from .partial import PARTIAL_SUFFIX, PartialFolderError, discard, open_partial
from .sweep_files import (
    DEFAULT_METRIC, cells_digest, check_metric, figure_specs, study_json, unit_figures, write_sweep,
)
from .sweep_grid import build_grid, parse_settings


def _error(lines) -> int:
    print("\n".join([lines] if isinstance(lines, str) else lines), file=sys.stderr)
    return 2


def main(args) -> int:
    from .. import estimate
    from ..results import OutputFolderError, check_output_folder
    overrides = {k: v for k, v in (("seed", args.seed), ("duration", args.duration)) if v is not None}
    try:
        metric = check_metric(args.metric or DEFAULT_METRIC)
        scenario = load_with_warnings(args.file, overrides, quiet=args.quiet)
        if "@" in metric:                        # every cell records the metric's window
            scenario = with_windows(scenario, [metric.partition("@")[2]])
        settings = parse_settings(args.set, scenario)
        cells = build_grid(scenario, settings)
    except ScenarioError as exc:
        return _error(exc.problems)
    except WindowError as exc:
        return _error(f"--metric {metric}: {exc}")
    replications = args.replications or scenario.replications
    out = Path(args.out) if args.out else Path("results") / f"{scenario.name}-sweep"
    try:
        check_output_folder(out, suffixes=(PARTIAL_SUFFIX,))   # before the work: a refusal costs no waiting
    except OutputFolderError as exc:
        return _error(str(exc))
    scenarios = [c.scenario for c in cells]
    workers = max(1, args.workers or 1)
    try:
        partial, resumed = open_partial(out, cells_digest(cells, True), args.resume)
    except PartialFolderError as exc:
        return _error(str(exc))
    refusal = estimate.check_work(scenarios, replications, args, workers=workers, quiet=args.quiet,
                                  learn_speed=not resumed)
    if refusal:
        if not resumed:              # nothing was saved in it yet
            discard(partial)
        return _error(refusal)
    faults = any(s.faults for s in scenarios)
    specs = figure_specs([s.name for s in scenario.services], faults, metric)
    study = study_json(args, scenario, settings, cells, replications, metric, [c for c, _, _ in specs])
    total = len(cells) * replications
    if not args.quiet:
        print(f"sweep of {scenario.name}: {len(cells)} cells x {replications} replications = {total} units"
              + (f" (resuming {partial})" if resumed else ""), file=sys.stderr)
    started = time.perf_counter()
    figures: dict = {}
    try:
        _run(cells, replications, specs, workers, args, partial, figures)
    except KeyboardInterrupt:
        print(f"sweep interrupted ({len(figures)} of {total} units came back): the same command with --resume "
              f"continues it from {partial}", file=sys.stderr)
        return 130
    try:
        _write(out, study, cells, settings, figures, [c for c, _, _ in specs])
    except OutputFolderError as exc:
        return _error(f"{exc}; the finished units stay in {partial}: the same command with --resume writes them")
    discard(partial)
    if not args.quiet:
        print(_table(study, cells, settings, out))
        print(f"results: {out}  ({time.perf_counter() - started:.1f} s)")
    return 0


def _run(cells, replications: int, specs, workers: int, args, partial: Path, figures: dict) -> None:
    """Every unit's figures into `figures` by (cell, replication), in whatever order the engine finishes them."""
    from . import engine
    from .cluster import scheduler_address
    from .units import units_for
    units = [u for c in cells
             for u in units_for(c.scenario, c.index, replications, baseline=True, kernel=kernel_of(args))]
    scheduler = scheduler_address(args.scheduler)
    for unit, summary in engine.run_units(units, workers=workers, scheduler=scheduler, store=partial / "units",
                                          progress=not args.quiet):
        figures[unit.cell, unit.replication] = unit_figures(summary, specs)


def _write(out: Path, study: dict, cells, settings, figures: dict, columns: list[str]) -> None:
    from ..plots.sweep_curve import write_sweep_chart
    from ..results import atomic_folder
    with atomic_folder(out) as tmp:
        write_sweep(tmp, study, cells, settings, figures, columns)
        write_sweep_chart(tmp)


def _table(study: dict, cells, settings, out: Path) -> str:
    """Per cell: the metric's mean and 95% interval for each service."""
    from ..plots.folder import read_rows
    metric = study["metric"]
    rows = {r["cell"]: r for r in read_rows(out / "sweep_summary.csv")}
    columns = [metric] if metric.startswith("kms.") else [f"{s}.{metric}" for s in study["services"]]
    head = ["cell", *(s.path for s in settings), *(f"{c} (95% interval)" for c in columns),
            "cost per month (vs previous cell)"]
    table = [head]
    previous = None
    for cell in cells:
        row = rows[cell.index]
        cost = _cost(row, study["services"])
        table.append([str(cell.index), *cell.texts,
                      *(_interval(row[f"{c}.mean"], row[f"{c}.low"], row[f"{c}.high"]) for c in columns),
                      _usd(cost) + ("" if previous is None or cost is None else f" ({_usd(cost - previous, True)})")])
        previous = cost
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in table)


def _cost(row: dict, services: list[str]):
    """A cell's cost per month at the scenario's traffic: the services' mean cost.usd_per_month, summed."""
    means = [row.get(f"{s}.cost.usd_per_month.mean") for s in services]
    return None if any(m is None for m in means) else sum(means)


def _usd(x, signed: bool = False) -> str:
    if x is None:
        return "-"
    sign = ("+" if x >= 0 else "-") if signed else ("-" if x < 0 else "")
    return f"{sign}${abs(x):,.2f}"


def _interval(mean, low, high) -> str:
    """The mean and its interval; one replication has a mean but no interval (its bounds are empty)."""
    if mean is None:
        return "-"
    if low is None or high is None:
        return f"{mean:.4g} [no interval: 1 replication]"
    return f"{mean:.4g} [{low:.4g}, {high:.4g}]"
