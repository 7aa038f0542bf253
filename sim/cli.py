"""Command line: `python -m sim validate|schema|run ...` (argument parsing only; the work is elsewhere)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from sim import quota
from sim.scenario import ScenarioError, load_scenario, scenario_json_schema


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmek-sim",
        description="Discrete-event simulator of Cloud Run services whose images use a CMEK key (Cloud KMS / EKM).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario YAML files")

    commands.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")

    run = commands.add_parser("run", help="run a scenario and write its results folder")
    run.add_argument("file", metavar="FILE", help="scenario YAML file")
    run.add_argument("--out", metavar="DIR", help="results folder (default: results/<scenario name>)")
    run.add_argument("--seed", type=_non_negative_int, metavar="N", help="root seed (overrides the file)")
    run.add_argument("--replications", type=_positive_int, metavar="N", help="number of replications")
    run.add_argument("--duration", metavar="D", help="simulated time, e.g. 10m (overrides the file)")
    run.add_argument("--workers", type=_positive_int, metavar="N", help="parallel worker processes")
    run.add_argument("--no-baseline", action="store_true", help="skip the run without faults")
    run.add_argument("--no-plots", action="store_true", help="do not draw charts")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
    quota.add_parser(commands)
    return parser


def _int_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


_non_negative_int = _int_at_least(0)
_positive_int = _int_at_least(1)


def _validate(files: list[str]) -> int:
    status = 0
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as exc:
            print("\n".join(exc.problems), file=sys.stderr)
            status = 2
        else:
            print(f"{file}: ok")
    return status


def _run(args: argparse.Namespace) -> int:
    overrides = {key: value for key, value in
                 (("seed", args.seed), ("replications", args.replications), ("duration", args.duration))
                 if value is not None}
    try:
        scenario = load_scenario(args.file, overrides)
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    from sim.runner import run_cli  # imported here so that `validate` works without the model

    return run_cli(scenario, args)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args.files)
        if args.command == "quota":
            return quota.main(args)
        if args.command == "schema":
            print(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
            return 0
        return _run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
