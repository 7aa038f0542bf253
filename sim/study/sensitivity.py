"""`sim sensitivity`: how much a metric rests on each of the model's assumptions (issue 10, point 6).

    python -m sim sensitivity FILE [--metric M] [--replications N] [--workers N] [--scheduler ADDR]
                                   [--out DIR] [--duration D] [--quiet] [--yes] [--max-hours H]

For each assumption of sim/assumptions.py that can matter to the scenario, the scenario runs at the
assumption's low and at its high value, and as it is (the centre), every arm on the same replications
(same seed, same replication indices: paired). Per assumption and service: the metric's mean at low,
centre and high, and its change (high - low) with a 95% interval of the paired differences across
replications (Student t). Writes sensitivity.csv, sensitivity.json and the tornado chart sensitivity.png,
largest absolute change first, into --out (default results/<name>-sensitivity), atomically.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from ..assumptions import BY_PARAMETER, SETTINGS
from ..kernel import kernel_of
from ..slo import SloError, metric, metric_name, parse_metric
from ..windows import WindowError, with_windows
from .cluster import scheduler_address
from .sensitivity_arms import build_arms

DEFAULT_METRIC = "capacity.shortfall_fraction"
MIN_REPLICATIONS = 2          # a paired interval needs two
CSV_COLUMNS = ("assumption", "path", "low", "high", "service", "metric_low", "metric_centre", "metric_high",
               "change", "interval_low", "interval_high")


def check_metric(text: str) -> tuple[str, ...]:
    """The metric's path in a service's run summary (`METRIC` or `METRIC@WINDOW`: use split_metric for the
    window); SloError (one line) unless sim/summary_schema.py declares it."""
    return parse_metric(text)[0]


def split_metric(text: str) -> tuple[tuple[str, ...], str | None]:
    """(path, window or None) of a checked metric text."""
    return parse_metric(text)


def describe(value) -> str:
    """An assumption's value in a CSV cell: 0.5, per-minute, initial=2 max=60, schedule=0.1/0.5 ..."""
    if isinstance(value, dict):
        return " ".join(f"{k}={describe(v)}" for k, v in value.items())
    if isinstance(value, (tuple, list)):
        return "/".join(describe(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _mean(values):
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def paired_change(low: list, high: list, confidence: float = 0.95) -> dict:
    """Mean of high - low over the replications where both have a value, and its two-sided Student-t interval."""
    diffs = [h - lo for lo, h in zip(low, high) if lo is not None and h is not None]
    n = len(diffs)
    if n == 0:
        return {"change": None, "interval_low": None, "interval_high": None, "pairs": 0}
    mean = sum(diffs) / n
    if n == 1:
        return {"change": mean, "interval_low": None, "interval_high": None, "pairs": 1}
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    from scipy import stats  # the command only
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return {"change": mean, "interval_low": mean - half, "interval_high": mean + half, "pairs": n}


def analyse(scenario, arms, runs: dict[int, list], metric_text: str, replications: int) -> dict:
    """sensitivity.json: the rows (ranked: largest absolute change first), the centre, what was skipped."""
    path, window = split_metric(metric_text)
    services = [s.name for s in scenario.services]

    def values(cell: int, service: str) -> list:
        return [metric(run["services"][service], path, window) for run in runs[cell]]

    rows = []
    for order, (parameter, (lo_cell, hi_cell)) in enumerate(arms.pairs.items()):
        s = SETTINGS[parameter]
        rel = arms.relative.get(parameter)
        low_text = rel.low_text if rel else describe(BY_PARAMETER[parameter].low)
        high_text = rel.high_text if rel else describe(BY_PARAMETER[parameter].high)
        for k, service in enumerate(services):
            low, high, centre = values(lo_cell, service), values(hi_cell, service), values(0, service)
            rows.append({"assumption": parameter, "path": ";".join(s.paths), "low": low_text, "high": high_text,
                         "range": "relative" if rel else "plausible",
                         "service": service, "metric_low": _mean(low), "metric_centre": _mean(centre),
                         "metric_high": _mean(high), **paired_change(low, high),
                         "values_low": low, "values_high": high, "_order": (order, k)})
    rows.sort(key=lambda r: (r["change"] is None, -abs(r["change"] or 0.0), r["_order"]))
    for rank, row in enumerate(rows, 1):
        del row["_order"]
        row["rank"] = rank
    return {"scenario": scenario.name, "metric": metric_text, "replications": replications,
            "seed": scenario.seed, "duration_s": scenario.duration, "confidence": 0.95,
            "centre": {name: _mean(values(0, name)) for name in services},
            "arms_run": len(arms.cells), "rows": rows, "skipped": arms.skipped,
            "settings": {p: ({"low": arms.relative[p].low, "high": arms.relative[p].high, "relative": True}
                             if p in arms.relative else {"low": SETTINGS[p].low, "high": SETTINGS[p].high})
                         for p in arms.pairs}}


def write_sensitivity(data: dict, out_dir) -> Path:
    """sensitivity.csv, sensitivity.json and sensitivity.png, written to a temporary folder and moved into place."""
    from ..plots import save
    from ..plots.tornado import tornado_figure
    from ..results import atomic_folder, write_csv
    with atomic_folder(out_dir) as tmp:
        write_csv(tmp / "sensitivity.csv", CSV_COLUMNS, data["rows"])
        (tmp / "sensitivity.json").write_text(json.dumps(data, indent=2) + "\n")
        save(tornado_figure(data), tmp / "sensitivity.png")
    return Path(out_dir).resolve()


def _num(v) -> str:
    return "-" if v is None else f"{v:.4g}"


def table(data: dict) -> str:
    """The ranked table printed by the command."""
    # columns as wide as their longest entry: no name is cut off
    width = max([len("assumption")] + [len(r["assumption"]) for r in data["rows"]])
    swidth = max([len("service")] + [len(r["service"]) for r in data["rows"]])
    lines = [f"sensitivity of {data['metric']} in {data['scenario']} ({data['replications']} paired replications "
             f"per arm, {data['arms_run']} arms run; change = at high - at low, 95% interval)",
             f"{'rank':>4}  {'assumption':<{width}} {'service':<{swidth}} {'at low':>9} {'as is':>9} {'at high':>9} "
             f"{'change':>10}  interval  range"]
    for r in data["rows"]:
        interval = "" if r["interval_low"] is None else f"[{r['interval_low']:+.4g}, {r['interval_high']:+.4g}]"
        change = "-" if r["change"] is None else f"{r['change']:+.4g}"
        what = (f"relative {r['low'].split()[0]}/{r['high'].split()[0]}" if r.get("range") == "relative"
                else "plausible")
        lines.append(f"{r['rank']:>4}  {r['assumption']:<{width}} {r['service']:<{swidth}} {_num(r['metric_low']):>9} "
                     f"{_num(r['metric_centre']):>9} {_num(r['metric_high']):>9} {change:>10}  {interval}  {what}")
    for s in data["skipped"]:
        lines.append(f"skipped: {s['assumption']}: {s['reason']}")
    return "\n".join(lines)


def _solve_request(args, scenario):
    """The SLOs of --solve PATH --slo ..., checked before anything runs (None without --solve)."""
    from ..slo import parse_slo
    param, texts = getattr(args, "solve", None), getattr(args, "slo", None) or []
    if param is None:
        if texts:
            raise SloError("--slo needs --solve PATH (the setting whose answer the study follows)")
        return None
    if not texts:
        raise SloError(f"--solve {param}: give the objectives with --slo, e.g. --slo 'requests.failed_fraction<=0.01'")
    slos = [parse_slo(text, known=True) for text in texts]
    from .sensitivity_solve import check_solve
    check_solve(scenario, param, slos, 2)
    return slos


def run_arms(arms, replications: int, *, baseline: bool, workers: int, scheduler, quiet: bool,
             store=None, kernel: str = "auto") -> dict[int, list]:
    """Every arm's replications through the study engine (each unit saved in `store`, the resume store); per
    cell, run summaries in replication order."""
    from .engine import run_cells
    runs = run_cells(arms.cells, replications, baseline=baseline, workers=workers, scheduler=scheduler,
                     progress=not quiet, store=store, kernel=kernel)
    return dict(enumerate(runs))


def main(args) -> int:
    from ..results import OutputFolderError, check_output_folder
    from ..scenario import ScenarioError, load_with_warnings
    from ..scenario.io import read_scenario_data
    from ..estimate import check_work
    from .partial import PARTIAL_SUFFIX, PartialFolderError, inputs_digest, open_partial, write_then_discard
    from .sensitivity_choice import ChoiceError, chosen, parse_relative
    from .solve import SolveError
    try:
        path, window = split_metric(args.metric)
        metric_text = metric_name(path, window)
        relative = parse_relative(getattr(args, "relative", None))
        names = chosen(getattr(args, "only", None), getattr(args, "exclude", None))
        overrides = {"duration": args.duration} if args.duration else None
        scenario = load_with_warnings(args.file, overrides, quiet=args.quiet)
        if window is not None:                   # every arm records the window (arms copy the scenario)
            scenario = with_windows(scenario, [window])
        raw = read_scenario_data(args.file) if relative else None
        out = check_output_folder(args.out or Path("results") / f"{scenario.name}-sensitivity",
                                  suffixes=(PARTIAL_SUFFIX,))
        arms = build_arms(scenario, metric_text, raw=raw, relative=relative, chosen=names)
        solve_slos = _solve_request(args, scenario)
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except WindowError as exc:
        print(f"error: --metric {args.metric}: {exc}", file=sys.stderr)
        return 2
    except (SloError, OutputFolderError, ChoiceError, SolveError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    replications = args.replications or max(MIN_REPLICATIONS, scenario.replications)
    if replications < MIN_REPLICATIONS:     # one pair has no spread: the intervals would be blank
        print(f"error: --replications {replications}: the interval of a change needs at least "
              f"{MIN_REPLICATIONS} paired replications", file=sys.stderr)
        return 2
    baseline = metric_text.startswith("capacity_loss.")     # the fault-free twins only when the metric needs them
    scheduler = scheduler_address(args.scheduler)
    workers = max(1, args.workers or 1)
    levels = 0
    if solve_slos:                       # each arm is also solved: about as many levels as `sim solve` runs
        from .sensitivity_solve import check_solve
        levels = check_solve(scenario, args.solve, solve_slos, replications).expected_levels()
    cells = arms.cells * (1 + levels)
    refusal = check_work(cells, replications, args, workers=workers, baseline=baseline, quiet=args.quiet)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    digest = inputs_digest("sensitivity", [c.to_resolved_dict() for c in arms.cells], metric_text, replications,
                           baseline)
    try:   # each finished unit is saved there: Ctrl-C keeps every arm computed, --resume continues
        partial, _ = open_partial(out, digest, args.resume, what="sensitivity study",
                                  other="other inputs (the scenario or an option differs)")
    except PartialFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kernel = kernel_of(args)
    runs = run_arms(arms, replications, baseline=baseline, workers=workers, scheduler=scheduler, quiet=args.quiet,
                    store=partial / "units", kernel=kernel)
    data = analyse(scenario, arms, runs, metric_text, replications)
    if solve_slos:
        from .sensitivity_solve import solve_arms
        data["solve"] = solve_arms(arms, args.solve, solve_slos, replications, workers=workers, scheduler=scheduler,
                                   kernel=kernel)
    if not write_then_discard(lambda: write_sensitivity(data, out), partial):
        return 2
    if not args.quiet:
        print(table(data))
        if "solve" in data:
            from .sensitivity_solve import solve_table
            print(solve_table(data["solve"]))
        print(f"results: {out}")
    return 0
