"""Command line: `python -m sim validate|schema|run|quota|sweep|compare|report|import-service ...` (argument
parsing only; the work is elsewhere).

`validate`, `schema` and `import-service` need only the scenario format: the runner and the quota solver (SimPy, SciPy,
matplotlib) are imported inside the branches that use them (tests/test_light_commands.py checks this).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from sim import estimate, kernel
from sim.model.kernel_choice import KernelUnavailable
from sim.scenario import ScenarioError, load_with_warnings, scenario_json_schema, scenario_markdown
from sim.study.cluster import add_scheduler_argument
from sim.output_folder import OutputFolderError
from sim.study.errors import StudyError


DURATION_HELP = ("simulated time, e.g. 10m or 1h30m (overrides the file's duration; the file's warmup and fault "
                 "times must still fall within it)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cmek-sim",
        description="Discrete-event simulator of Cloud Run services whose images use a CMEK key (Cloud KMS / EKM).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check scenario files without running them")
    validate.add_argument("files", nargs="+", metavar="FILE", help="scenario YAML files")

    schema = commands.add_parser("schema", help="print the JSON Schema of scenario files (for editors), with each "
                                                "key's description and default")
    schema.add_argument("--markdown", action="store_true",
                        help="print the format reference as markdown instead (docs/scenario-format.md)")

    run = commands.add_parser("run", help="run a scenario and write its results folder")
    run.add_argument("file", metavar="FILE", help="scenario YAML file")
    run.add_argument("--out", metavar="DIR", help="results folder (default: results/<scenario name>)")
    run.add_argument("--seed", type=_non_negative_int, metavar="N", help="root seed (overrides the file)")
    run.add_argument("--replications", type=_positive_int, metavar="N", help="number of replications")
    run.add_argument("--duration", metavar="D", help=DURATION_HELP)
    run.add_argument("--workers", type=_positive_int, metavar="N", help="parallel worker processes")
    run.add_argument("--no-baseline", action="store_true", help="skip the run without faults")
    run.add_argument("--no-plots", action="store_true", help="do not draw charts")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors (no warnings either)")
    add_scheduler_argument(run)
    kernel.add_argument(run)
    estimate.add_arguments(run)

    quota = commands.add_parser("quota", help="find the smallest KMS quota that meets service-level objectives",
                                description="Quota solver: the smallest Cloud KMS quota that meets service-level "
                                            "objectives with stated confidence.")
    quota.add_argument("file", metavar="SCENARIO", help="scenario YAML file")
    quota.add_argument("--slo", action="append", required=True, metavar="EXPR",
                       help="e.g. 'cold_starts.latency_s.p99<=20' (a path into a service's run summary, optionally "
                            "@WINDOW: fault[0], fault[0]+10m, 30m..60m, peak-hour; <=, <, >= or >, a number); repeat "
                            "for several; each must hold for every service")
    quota.add_argument("--confidence", type=float, default=0.95, metavar="C", help="one-sided confidence (0.95)")
    quota.add_argument("--replications", type=_positive_int, default=5, metavar="N",
                       help="paired replications per level (5)")
    quota.add_argument("--protection", choices=("hsm", "external"),
                       help="which quota to solve for when the services use both HSM and external keys")
    _study_options(quota, "quota", quiet=False)

    sens = commands.add_parser("sensitivity", help="how much a metric rests on each of the model's assumptions "
                                                   "(low and high values, paired runs, a tornado chart)")
    sens.add_argument("file", metavar="FILE", help="scenario YAML file")
    sens.add_argument("--metric", default="capacity.shortfall_fraction", metavar="M",
                      help="a path into a service's run summary, optionally over a window "
                           "(capacity.shortfall_fraction; e.g. requests.failed_fraction@fault[0])")
    sens.add_argument("--replications", type=_positive_int, metavar="N",
                      help="paired replications per arm (default: the scenario's, at least 2)")
    sens.add_argument("--relative", action="append", metavar="SHARE|NAME=SHARE",
                      help="vary the inputs the scenario states by this share around their own value (e.g. 20%%), "
                           "or one assumption (NAME=30%%), instead of the assumption's plausible range; repeatable")
    sens.add_argument("--only", action="append", metavar="NAMES",
                      help="only these assumptions (comma-separated; a name or a part of one, e.g. service_time)")
    sens.add_argument("--exclude", action="append", metavar="NAMES", help="leave these assumptions out")
    sens.add_argument("--solve", metavar="PATH", help="also solve this setting (as sim solve) on every arm: how the "
                                                     "answer moves with each assumption (needs --slo)")
    sens.add_argument("--slo", action="append", metavar="EXPR", help="an objective of --solve; repeatable")
    _study_options(sens, "sensitivity")

    sweep = commands.add_parser("sweep", help="run a scenario over a grid of settings (paired cells)",
                                description="Sweep: every combination of the --set values, each cell with its "
                                            "replications on the same random streams.")
    sweep.add_argument("file", metavar="FILE", help="scenario YAML file")
    sweep.add_argument("--set", action="append", required=True, metavar="PATH=V1,V2,...",
                       help="a setting and its values, e.g. services[checkout].min_instances=1,2,4 or "
                            "faults[0].duration=10m,30m; repeat for a grid (the first varies slowest)")
    sweep.add_argument("--replications", type=_positive_int, metavar="N", help="replications per cell (the file's)")
    sweep.add_argument("--metric", metavar="M", help="the charted figure of each service, a summary path, "
                                                     "optionally @WINDOW (capacity.shortfall_fraction; e.g. "
                                                     "requests.failed@fault[0]+10m)")
    sweep.add_argument("--seed", type=_non_negative_int, metavar="N", help="root seed (overrides the file)")
    _study_options(sweep, "sweep")

    _solve_parser(commands)
    _folder_parsers(commands)

    from sim import notebook  # light: papermill and nbconvert are imported when the command runs
    notebook.add_arguments(commands.add_parser(
        "notebook", help="run a notebook headless on a scenario: the executed notebook and an HTML copy",
        description="Runs notebooks/NAME.ipynb on your scenario (papermill) and writes NAME.ipynb, NAME.html "
                    f"(self-contained) and manifest.json into --out. Notebooks: {', '.join(notebook.available())}."))

    imp = commands.add_parser("import-service", help="write a scenario from a Cloud Run service YAML "
                                                     "(gcloud run services describe --format export)")
    imp.add_argument("file", metavar="FILE", help="service YAML: Knative v1 export or Cloud Run v2 form; "
                                                  "several documents give several services")
    imp.add_argument("--key-protection", choices=("software", "hsm", "external", "external-vpc"),
                     help="protection level of the key (not in the export; default software)")
    imp.add_argument("--traffic", metavar="TRACE", help="CSV trace (time,rps) for the services' traffic")
    imp.add_argument("-o", "--output", metavar="FILE", help="scenario file to write (default or -: stdout)")
    imp.add_argument("--force", action="store_true", help="overwrite an existing output file")
    return parser


def _solve_parser(commands) -> None:
    """`sim solve` (sim/study/solve_cli.py): the smallest value of any setting meeting the SLOs."""
    solve = commands.add_parser("solve", help="find the smallest value of a setting that meets service-level "
                                              "objectives (e.g. min_instances)")
    solve.add_argument("file", metavar="FILE", help="scenario YAML file")
    solve.add_argument("--param", required=True, metavar="PATH",
                       help="the setting, e.g. services.0.min_instances or services[checkout].max_instances")
    solve.add_argument("--slo", action="append", required=True, metavar="EXPR",
                       help="e.g. 'requests.failed_fraction<=0.01', or over a window "
                            "'requests.failed_fraction@fault[0]<=0.01' (fault[0]+10m, 30m..60m, peak-hour); repeat "
                            "for several; each must hold for every service (or --service)")
    solve.add_argument("--service", metavar="NAME", help="check the SLOs on this service only")
    solve.add_argument("--low", metavar="L", help="smallest value to consider (default: 0, or the smallest valid)")
    solve.add_argument("--high", metavar="H", help="largest value to consider (default: doubling from the current)")
    solve.add_argument("--replications", type=_positive_int, default=5, metavar="N",
                       help="paired replications per level (5)")
    solve.add_argument("--confidence", type=float, default=0.95, metavar="C", help="one-sided confidence (0.95)")
    _study_options(solve, "solve")


def _folder_parsers(commands) -> None:
    """`sim compare` (sim/compare.py) and `sim report` (sim/report_page.py): they read results folders only."""
    cmp = commands.add_parser("compare", help="results side by side: figures with differences and intervals, "
                                              "timelines overlaid (compare.md, compare.html, compare.png)",
                              description="Compares runs' results folders (or cells of a sweep: SWEEP_FOLDER#N), "
                                          "each against the first; paired intervals where they share seeds.")
    cmp.add_argument("sources", nargs="+", metavar="FOLDER", help="a run's results folder, or SWEEP_FOLDER#N for "
                                                                   "cell N of a sweep; two or more")
    cmp.add_argument("--out", metavar="DIR", help="output folder (default: results/compare-<names>)")
    report = commands.add_parser("report", help="a self-contained HTML page of a run, sweep, solve or quota folder",
                                 description="Writes FOLDER/report.html (or --out FILE): the table, every chart "
                                             "embedded, the scenario in brief, warnings, assumptions, the cost.")
    report.add_argument("folder", metavar="FOLDER", help="a results folder (run, sweep, solve, quota)")
    report.add_argument("--out", metavar="FILE", help="the page to write (default: FOLDER/report.html)")


def _study_options(parser, suffix: str, quiet: bool = True) -> None:
    """What every study command takes: where it runs, where it writes, the duration, the work estimate."""
    parser.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="parallel worker processes (1)")
    add_scheduler_argument(parser)
    parser.add_argument("--out", metavar="DIR", help=f"output folder (default: results/<scenario name>-{suffix})")
    parser.add_argument("--duration", metavar="D", help=DURATION_HELP)
    parser.add_argument("--resume", action="store_true",
                        help=f"continue an interrupted {suffix} from its saved units (<out>.partial)")
    if quiet:
        parser.add_argument("--quiet", action="store_true", help="no progress, estimate or table; errors only")
    kernel.add_argument(parser)
    estimate.add_arguments(parser)


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
            load_with_warnings(file)                # warnings on stderr; they leave the status alone
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
        scenario = load_with_warnings(args.file, overrides, quiet=args.quiet)
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    refusal = estimate.check_work([scenario], scenario.replications, args, workers=args.workers or 1,
                                  baseline=not args.no_baseline, quiet=args.quiet, keeps_runs=True)
    if refusal:                  # before anything runs: a study of years is refused in one line
        print(refusal, file=sys.stderr)
        return 2
    if not args.quiet:           # which Azure function(s) a `top:` replay picked (also in manifest.json)
        print(kernel.request_path_line(args.kernel, scenario))
        for svc in scenario.services:
            line = svc.traffic.trace.picked_line() if svc.traffic.trace is not None else None
            if line:
                print(f"{svc.name}: trace {line}")
    from sim.runner import run_cli  # imported here: the model (SimPy, SciPy, matplotlib) only for `run`

    return run_cli(scenario, args)


def _check_scheduler(args: argparse.Namespace) -> None:
    """A command given a Dask scheduler asks it first: one line within seconds if it is not one (and the
    estimate counts its worker threads), before the model is even imported."""
    if not hasattr(args, "scheduler"):
        return
    from sim.study.cluster import check_scheduler, scheduler_address

    address = scheduler_address(args)
    if address:
        args.dask_threads = check_scheduler(address)


def main(argv: list[str] | None = None) -> int:
    status = _main(argv)
    if status == 0:
        estimate.learn()         # the wall time of a completed command teaches this machine's speed
    return status


def _main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _check_scheduler(args)
        if args.command == "validate":
            return _validate(args.files)
        if args.command == "quota":
            from sim import quota  # imported here, as the runner is in _run

            return quota.main(args)
        if args.command == "sweep":
            from sim.study.sweep import main as sweep_main  # imported here: a sweep runs the model

            return sweep_main(args)
        if args.command == "sensitivity":
            from sim.study import sensitivity  # imported here: the runner, SciPy and matplotlib

            return sensitivity.main(args)
        if args.command == "solve":
            from sim.study import solve_cli  # imported here, as the runner is in _run

            return solve_cli.main(args)
        if args.command == "compare":
            from sim import compare  # imported here: matplotlib and SciPy

            return compare.main(args)
        if args.command == "report":
            from sim import report_page  # imported here: matplotlib for the assumptions' values

            return report_page.main(args)
        if args.command == "notebook":
            from sim import notebook

            return notebook.main(args)
        if args.command == "import-service":
            from sim import importer  # imported here: only this command reads service exports

            return importer.main(args)
        if args.command == "schema":
            if args.markdown:
                sys.stdout.write(scenario_markdown())
            else:
                print(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))
            return 0
        return _run(args)
    except KernelUnavailable as exc:   # --kernel compiled where it cannot run (estimate.check_work says it first)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StudyError as exc:  # a Dask scheduler not reached, Dask not installed: one line
        print(exc, file=sys.stderr)
        return 2
    except OutputFolderError as exc:   # a results folder that could not be written (after the work): one line
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        # A study interrupted between its units (between two solver levels, while writing) has its finished
        # units saved all the same; inside the engine, the engine has said where.
        resumable = getattr(args, "command", None) in ("sweep", "solve", "quota", "sensitivity")
        print("interrupted" + ("; the finished units are saved: the same command with --resume runs only the "
                               "rest" if resumable and not getattr(exc, "resume_said", False) else ""),
              file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:     # a write refused by the system (full disk, file size limit): one line, no traceback
        print(f"error: {exc.filename or 'output'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
