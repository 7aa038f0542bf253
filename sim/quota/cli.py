"""`sim quota`: its argparse definition (add_parser) and main."""
from __future__ import annotations

import sys
from pathlib import Path

from ..slo import SloError, parse_slo
from .files import write_quota
from .solver import QuotaError, Solver

DESCRIPTION = "Quota solver: the smallest Cloud KMS quota that meets service-level objectives with stated confidence."


def _positive_int(text: str) -> int:
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("quota", help="find the smallest KMS quota that meets service-level objectives",
                              description=DESCRIPTION)
    p.add_argument("file", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--slo", action="append", required=True, metavar="EXPR",
                   help="e.g. 'cold_starts.latency_s.p99<=20' (a path into a service's run summary, <=, <, >= "
                        "or >, a number); repeat for several; each must hold for every service")
    p.add_argument("--confidence", type=float, default=0.95, metavar="C", help="one-sided confidence (0.95)")
    p.add_argument("--replications", type=_positive_int, default=5, metavar="N", help="paired replications per level (5)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/<scenario name>-quota)")
    p.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="parallel worker processes (1)")
    p.add_argument("--protection", choices=("hsm", "external"),
                   help="which quota to solve for when the services use both HSM and external keys")
    p.set_defaults(handler=main)


def main(args) -> int:
    from ..results import OutputFolderError, check_output_folder
    from ..scenario import ScenarioError, load_scenario
    try:
        slos = [parse_slo(text, known=True) for text in args.slo]
        scenario = load_scenario(args.file)
        solver = Solver(scenario, slos, confidence=args.confidence, replications=args.replications,
                        workers=max(1, args.workers or 1), protection=args.protection,
                        progress=lambda text: print(text, file=sys.stderr, flush=True))
        out = check_output_folder(args.out or Path("results") / f"{scenario.name}-quota")
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except (SloError, QuotaError, OutputFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"solving the {solver.level} quota of {scenario.name} ({solver.replications} replications per level, "
          f"confidence {solver.confidence:g})", file=sys.stderr)
    try:
        result = solver.solve()
    except QuotaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_quota(result, out)
    at_80 = result.at_80_percent
    check = "" if at_80 is None else \
        f"; at 80% = {at_80:,}/min: {'meets' if result.levels[at_80].met else 'fails'} the SLOs"
    print(f"recommended {result.protection} quota: {result.recommended:,} requests per minute "
          f"(current {result.current:,.0f}; closed-form peak demand {result.lower_bound:,}{check})")
    print(f"results: {out}")
    return 0
