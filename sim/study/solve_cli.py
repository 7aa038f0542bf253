"""`sim solve`: what the command does (its arguments are defined in sim/cli.py), and writing its folder."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..kernel import kernel_of
from ..slo import SloError, parse_slo


def write_solve(result, out_dir) -> Path:
    """solve.json, solve_report.md and solve_curve.png, written to a temporary folder and moved into place."""
    from ..plots import save
    from ..plots.solve_curve import solve_curve_figure
    from ..results import atomic_folder
    from .solve_report import report_markdown
    with atomic_folder(out_dir) as tmp:
        (tmp / "solve.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
        (tmp / "solve_report.md").write_text(report_markdown(result.to_json()))
        save(solve_curve_figure(tmp), tmp / "solve_curve.png")
    return Path(out_dir).resolve()


def main(args) -> int:
    from ..estimate import check_work
    from .cluster import scheduler_address
    from ..results import OutputFolderError, check_output_folder
    from ..scenario import ScenarioError, load_with_warnings
    from .partial import PARTIAL_SUFFIX, PartialFolderError, discard, inputs_digest, open_partial, write_then_discard
    from .solve import SolveError, Solver, Unmet
    quiet = getattr(args, "quiet", False)
    say = (lambda text: None) if quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    try:
        slos = [parse_slo(text, known=True) for text in args.slo]
        scenario = load_with_warnings(args.file, {"duration": args.duration} if args.duration else {}, quiet=quiet)
        solver = Solver(scenario, args.param, slos, service=args.service, low=args.low, high=args.high,
                        confidence=args.confidence, replications=args.replications,
                        workers=max(1, args.workers or 1), scheduler=scheduler_address(args.scheduler), progress=say,
                        kernel=kernel_of(args))
        out = check_output_folder(args.out or Path("results") / f"{scenario.name}-solve", suffixes=(PARTIAL_SUFFIX,))
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except (SloError, SolveError, OutputFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    refusal = check_work([scenario] * solver.expected_levels(), solver.replications, args,
                         workers=solver.workers, baseline=solver.baseline, quiet=quiet)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    digest = inputs_digest("solve", scenario.to_resolved_dict(), args.param, args.slo, args.service, args.low,
                           args.high, solver.replications, solver.confidence)
    try:   # each finished unit is saved there: Ctrl-C keeps every level computed, --resume continues
        partial, resumed = open_partial(out, digest, args.resume, what="solve",
                                        other="other inputs (the scenario or an option differs)")
    except PartialFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    solver.store = partial / "units"
    say(f"solving {args.param} of {scenario.name} (current {solver.current:g}; {solver.replications} replications "
        f"per level, confidence {solver.confidence:g})" + (f"; resuming {partial}" if resumed else ""))
    try:
        result = solver.solve()
    except SolveError as exc:              # the search cannot go on as asked: other options, another study
        discard(partial)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Unmet as exc:                   # an answer, not an interruption: nothing to resume
        discard(partial)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not write_then_discard(lambda: write_solve(result, out), partial):
        return 2
    if quiet:
        return 0
    at_80 = result.at_80_percent
    check = "" if at_80 is None else \
        f"; at 80% = {at_80:g}: {'meets' if result.levels[at_80].met else 'fails'} the SLOs"
    print(f"recommended {args.param} = {result.recommended:g} (current {result.current:g}; "
          f"{len(result.levels)} levels run{check})")
    from .solve_report import cost_line
    cost = cost_line(result.to_json())
    if cost:
        print(cost.replace("`", ""))
    print(f"results: {out}")
    return 0
