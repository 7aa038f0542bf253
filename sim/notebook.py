"""`sim notebook NAME --scenario FILE --out DIR`: runs notebooks/NAME.ipynb headless on a planner's scenario and
writes the executed notebook and a self-contained HTML copy (images embedded), to attach to a quota request.

Generic: any notebook of notebooks/ whose cell tagged `parameters` (papermill's convention) defines `scenario`
can be run; `--duration` and `-p NAME=VALUE` set the other parameters it defines. The scenario is checked
first (its problems, one line each, exit 2), then the work the notebook will simulate is estimated
(sim/notebook_work.py) and refused above `--max-hours` unless `--yes`, like every command that simulates; a
notebook that declares `max_hours`, `yes` and `kernel` gets them, for the runs and commands it makes itself.
`scenario`, `duration`, `max_hours`, `yes` and `kernel` have their own options: `-p` cannot replace what was
checked. The notebook
runs in the notebooks folder (as in Jupyter) with the scenario's absolute path; the folder is written
atomically (sim.results.atomic_folder) with a manifest.json saying what ran. Needs the `notebook` extra
(papermill, nbconvert).
"""
from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def available() -> list[str]:
    """The notebooks `sim notebook` can run (by name, without .ipynb)."""
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def add_arguments(parser) -> None:
    parser.add_argument("name", metavar="NAME", help="a notebook of notebooks/ (without .ipynb), e.g. "
                                                     "quota_increase_justification")
    parser.add_argument("--scenario", required=True, metavar="FILE", help="the scenario file the notebook runs on")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: results/notebooks/NAME-SCENARIO)")
    parser.add_argument("--duration", metavar="D", help="simulated time, e.g. 10m (overrides the scenario's)")
    parser.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                        help="another parameter of the notebook (VALUE read as YAML: 3, 0.9, [a, b]); repeatable")
    from . import estimate, kernel
    kernel.add_argument(parser)
    estimate.add_arguments(parser)


OWN_OPTIONS = {"scenario": "--scenario", "duration": "--duration", "max_hours": "--max-hours", "yes": "--yes",
               "kernel": "--kernel"}


def report_html(nb, exporter_class) -> str:
    """The HTML a reviewer reads: the outputs only (no code cells, no prompts), the charts embedded, and no
    local path (the scenario's folder, the repository's, the home folder) in any text."""
    exporter = exporter_class(embed_images=True, exclude_input=True, exclude_input_prompt=True,
                              exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(nb)
    for path in sorted(_local_paths(), key=len, reverse=True):
        html = html.replace(path, "…")
    return html


def _local_paths() -> set[str]:
    """Folders of this machine that could show in an output (longest replaced first)."""
    import tempfile
    paths = {str(NOTEBOOKS.parent), str(Path.home()), tempfile.gettempdir(), str(Path.cwd())}
    return {p for p in paths if len(p) > 4}      # never "/" or a short folder that could be ordinary text


def _fail(text: str) -> int:
    print(f"error: {text}", file=sys.stderr)
    return 2


def _parameters(args, declared: dict) -> dict | str:
    """The parameters to inject, or one line saying what is wrong."""
    values = {"scenario": str(Path(args.scenario).resolve())}
    if args.duration is not None:
        values["duration"] = args.duration
    for text in args.parameter:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            return f"-p {text}: write NAME=VALUE"
        if name.strip() in OWN_OPTIONS:            # the scenario checked and estimated is the one that runs
            return f"-p {text}: {name.strip()} is set with {OWN_OPTIONS[name.strip()]}"
        try:
            values[name.strip()] = yaml.safe_load(value)
        except yaml.YAMLError:
            return f"-p {text}: the value is not valid YAML"
    unknown = sorted(set(values) - set(declared))
    if unknown:
        return (f"notebook {args.name} has no parameter {', '.join(unknown)} "
                f"(its parameters: {', '.join(declared) or 'none'})")
    if "max_hours" in declared:                      # the commands the notebook runs keep the same limit
        values["max_hours"] = args.max_hours
    if "yes" in declared:
        values["yes"] = bool(args.yes)
    if "kernel" in declared:                         # the notebook's runs on the request path asked for
        from .kernel import kernel_of
        values["kernel"] = kernel_of(args)
    return values


def _check_work(name: str, scenario, declared: dict, parameters: dict, args) -> str | None:
    """The estimate of what the notebook simulates (printed), or the one-line refusal."""
    from . import estimate
    from .notebook_work import defaults, runs
    scenarios, baseline, workers = runs(name, scenario, {**defaults(declared), **parameters})
    return estimate.check_work(scenarios, 1, args, workers=workers, baseline=baseline)


def main(args) -> int:
    from .results import OutputFolderError, atomic_folder, check_output_folder
    from .scenario import ScenarioError, load_scenario

    name = args.name.removesuffix(".ipynb")
    source = NOTEBOOKS / f"{name}.ipynb"
    if name not in available():
        return _fail(f"unknown notebook {args.name!r} (notebooks: {', '.join(available()) or 'none'})")
    try:
        scenario = load_scenario(args.scenario, {"duration": args.duration} if args.duration else None)
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    try:
        import nbformat
        import papermill
        from nbconvert import HTMLExporter
    except ImportError as exc:
        return _fail(f"sim notebook needs papermill and nbconvert ({exc.name} is missing): "
                     "pip install -e '.[notebook]'")
    declared = papermill.inspect_notebook(str(source))
    if "scenario" not in declared:
        return _fail(f"notebook {name} takes no scenario (its cell tagged parameters defines no `scenario`)")
    parameters = _parameters(args, declared)
    if isinstance(parameters, str):
        return _fail(parameters)
    refusal = _check_work(name, scenario, declared, parameters, args)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    try:
        out = check_output_folder(args.out or Path("results") / "notebooks" / f"{name}-{scenario.name}")
    except OutputFolderError as exc:
        return _fail(str(exc))
    print(f"running notebooks/{name}.ipynb on {scenario.name} ...", file=sys.stderr, flush=True)
    started, wall = datetime.now(timezone.utc), time.perf_counter()
    try:
        with atomic_folder(out) as tmp:
            executed = tmp / f"{name}.ipynb"
            papermill.execute_notebook(str(source), str(executed), parameters=parameters, cwd=str(NOTEBOOKS),
                                       kernel_name="python3", progress_bar=False, log_output=False)
            html = report_html(nbformat.read(executed, as_version=4), HTMLExporter)
            (tmp / f"{name}.html").write_text(html, encoding="utf-8")
            manifest = {"notebook": f"notebooks/{name}.ipynb", "scenario": parameters["scenario"],
                        "scenario_name": scenario.name, "parameters": parameters,
                        "started_at": started.isoformat(timespec="seconds"),
                        "wall_seconds": round(time.perf_counter() - wall, 1)}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    except papermill.PapermillExecutionError as exc:
        print(f"error: notebook {name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}", file=sys.stderr)
        return 1
    print(f"notebook: {out / f'{name}.ipynb'}\nhtml: {out / f'{name}.html'}")
    return 0
