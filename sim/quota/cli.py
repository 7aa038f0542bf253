"""`sim quota`: what the command does (its arguments are defined in sim/cli.py)."""
from __future__ import annotations

import sys
from pathlib import Path

from ..kernel import kernel_of
from ..slo import SloError, parse_slo
from .files import write_quota
from .solver import QuotaError, Solver

def main(args) -> int:
    from ..study.cluster import scheduler_address
    from ..results import OutputFolderError, check_output_folder
    from ..scenario import ScenarioError, load_with_warnings
    from ..study.partial import (
        PARTIAL_SUFFIX, PartialFolderError, discard, inputs_digest, open_partial, write_then_discard,
    )
    try:
        slos = [parse_slo(text, known=True) for text in args.slo]
        duration = getattr(args, "duration", None)  # --duration overrides the file's, as for `sim run`
        scenario = load_with_warnings(args.file, {"duration": duration} if duration is not None else None)
        solver = Solver(scenario, slos, confidence=args.confidence, replications=args.replications,
                        workers=max(1, args.workers or 1), protection=args.protection,
                        scheduler=scheduler_address(getattr(args, "scheduler", None)),
                        progress=lambda text: print(text, file=sys.stderr, flush=True),
                        kernel=kernel_of(args))
        out = check_output_folder(args.out or Path("results") / f"{scenario.name}-quota", suffixes=(PARTIAL_SUFFIX,))
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except (SloError, QuotaError, OutputFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from ..estimate import QUOTA_LEVELS, check_work
    refusal = check_work([scenario] * QUOTA_LEVELS, solver.replications, args, workers=solver.workers,
                         baseline=solver.baseline)
    if refusal:                  # about QUOTA_LEVELS levels of paired replications, refused before any runs
        print(refusal, file=sys.stderr)
        return 2
    digest = inputs_digest("quota", scenario.to_resolved_dict(), args.slo, solver.level, solver.replications,
                           solver.confidence)
    try:   # each finished unit of a level is saved there: Ctrl-C keeps them, --resume continues
        partial, resumed = open_partial(out, digest, getattr(args, "resume", False), what="quota search",
                                        other="other inputs (the scenario or an option differs)")
    except PartialFolderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    solver.store = partial / "units"
    print(f"solving the {solver.level} quota of {scenario.name} ({solver.replications} replications per level, "
          f"confidence {solver.confidence:g})" + (f"; resuming {partial}" if resumed else ""), file=sys.stderr)
    try:
        result = solver.solve()
    except QuotaError as exc:            # an answer, not an interruption: nothing to resume
        discard(partial)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not write_then_discard(lambda: write_quota(result, out), partial):
        return 2
    at_80 = result.at_80_percent
    check = "" if at_80 is None else \
        f"; at 80% = {at_80:,}/min: {'meets' if result.levels[at_80].met else 'fails'} the SLOs"
    j = result.to_json()
    print(f"recommended {result.protection} quota: {result.recommended:,} requests per minute "
          f"(current {result.current:,.0f}; unconstrained peak demand, simulated: {result.lower_bound:,}{check}; "
          f"{j['levels_run']} levels run, {j['levels_skipped']} short-cut)")
    if result.current_with_headroom is not None:      # a soft pool: the figure above is the guaranteed one
        lv = result.current_with_headroom
        print(f"soft enforcement: {result.recommended:,}/min is the quota at which no request depends on the "
              f"region's spare capacity (the figure to ask for); the current {result.current:,.0f}/min with the "
              f"assumed headroom {result.soft_headroom:g}x {'meets' if lv.met else 'fails'} the SLOs, "
              f"{lv.kms['served_over_quota_mean']:,.1f} requests per run served over quota (best effort)")
    if result.recommended < result.current:
        from .report import recommendation_line
        print(recommendation_line(j))
    print(f"results: {out}")
    return 0
