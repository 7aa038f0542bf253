"""`sim notebook NAME --scenario FILE --out DIR`: the executed notebook and a self-contained HTML copy, run on the
planner's scenario (papermill parameters); bad input is one line and exit status 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from sim.cli import main
from sim.notebook import NOTEBOOKS, available

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "tests" / "data" / "notebook-burst.yaml"


def test_a_notebook_runs_on_the_planners_scenario(tmp_path):
    source = NOTEBOOKS / "quota_increase_justification.ipynb"
    before = source.read_bytes()
    out = tmp_path / "attach"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "notebook", "quota_increase_justification", "--scenario", str(SCENARIO),
         "--out", str(out), "-p", "replications=2", "-p", "workers=1"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "estimate: " in done.stderr and " on 1 worker" in done.stderr      # -p workers=1: the estimate says so
    assert source.read_bytes() == before                              # the source is not overwritten
    assert sorted(p.name for p in out.iterdir()) == [            # with the list of the files it wrote
        ".cmek-sim-files.json", "manifest.json", "quota_increase_justification.html",
        "quota_increase_justification.ipynb"]
    html = (out / "quota_increase_justification.html").read_text()
    assert html.count("data:image/png;base64,") >= 4                 # the charts are in the file itself
    nb = nbformat.read(out / "quota_increase_justification.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "notebook-burst: A three-minute burst" in printed         # it ran the planner's scenario
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "replications = 2" in injected[0].source
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario_name"] == "notebook-burst" and manifest["parameters"]["replications"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".attach")]   # no temporary folder left
    # issue 19 point 5: the HTML shows no code and no local path; the sentences are computed from the figures
    import re
    code_cells = re.findall(r'class="jp-Cell jp-CodeCell[^"]*"', html)
    assert code_cells and all("jp-mod-noInput" in c for c in code_cells), code_cells
    assert "def row(" not in html and "import sys" not in html and "In&nbsp;[" not in html
    for local in (str(ROOT), str(tmp_path), str(Path.home())):
        assert local not in html, local
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for c in nb.cells if c.cell_type == "code"
                       for o in c.outputs)
    assert "HSM symmetric cryptographic requests per region" in markdown and "**Region**" in markdown
    assert "from the services' own calls" in markdown and "from background load" in markdown
    assert "instance starts refused on quota" in markdown


def test_every_notebook_takes_a_scenario():
    import papermill
    assert set(available()) >= {"fault_tour", "quota_increase_justification"}
    for name in available():
        declared = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
        assert {"scenario", "duration"} <= set(declared), name


@pytest.mark.parametrize("args, expected", [
    (["nope", "--scenario", str(SCENARIO)],
     "error: unknown notebook 'nope' (notebooks: {notebooks})"),
    (["fault_tour", "--scenario", "missing.yaml"], "missing.yaml: file not found"),
    (["fault_tour", "--scenario", str(SCENARIO), "--duration", "30m1h"],
     f"{SCENARIO}: duration: must be a duration such as 30s, 150ms, 15m or 1h30m (largest unit first, each unit "
     "once), got '30m1h'"),
    (["fault_tour", "--scenario", str(SCENARIO), "-p", "replications=3"],
     "error: notebook fault_tour has no parameter replications (its parameters: scenario, duration, kernel)"),
    (["fault_tour", "--scenario", str(SCENARIO), "-p", "duration"], "error: -p duration: write NAME=VALUE"),
])
def test_bad_input_is_one_line(args, expected, capsys):
    assert main(["notebook", *args]) == 2
    assert capsys.readouterr().err.splitlines() == [expected.format(notebooks=", ".join(available()))]


def test_a_folder_of_other_files_is_not_replaced(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["notebook", "fault_tour", "--scenario", str(SCENARIO), "--out", str(tmp_path)]) == 2
    assert "does not hold earlier results" in capsys.readouterr().err
    assert (tmp_path / "mine.txt").read_text() == "keep me"


# -- the estimate, --yes and --max-hours (issue 18.13, 19.12) -------------------------------------------------
def test_work_above_max_hours_is_refused_before_the_kernel_starts(tmp_path, capsys, monkeypatch):
    import papermill
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("the notebook ran"))
    out = tmp_path / "out"
    assert main(["notebook", "quota_increase_justification", "--scenario", str(SCENARIO), "--out", str(out),
                 "--max-hours", "0.000001"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("refused:") and "--yes" in err[0], err
    assert not out.exists()


def test_the_estimate_counts_the_notebooks_runs():
    import papermill
    from sim.notebook_work import defaults, runs
    from sim.scenario import load_scenario
    sc = load_scenario(SCENARIO)
    declared = papermill.inspect_notebook(str(NOTEBOOKS / "quota_increase_justification.ipynb"))
    scenarios, baseline, workers = runs("quota_increase_justification", sc, {**defaults(declared), "replications": 3})
    assert len(scenarios) == 3 * 12 and baseline is False and workers == 2     # 10 levels, current and raised
    declared = papermill.inspect_notebook(str(NOTEBOOKS / "outage_study.ipynb"))
    values = {**defaults(declared), "outage_lengths": "10m,20m", "min_instances": "1,2,3"}
    scenarios, baseline, _ = runs("outage_study", sc, values)
    assert len(scenarios) > 2 * (6 + 8) and baseline is True                   # the sweep, the solve and the arms


@pytest.mark.parametrize("name", ["scenario", "duration", "max_hours", "yes", "kernel"])
def test_p_cannot_replace_what_was_checked(name, capsys):
    option = {"scenario": "--scenario", "duration": "--duration", "max_hours": "--max-hours", "yes": "--yes",
              "kernel": "--kernel"}[name]
    assert main(["notebook", "outage_study", "--scenario", str(SCENARIO), "-p", f"{name}=other.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: -p {name}=other.yaml: {name} is set with {option}"]


def test_outage_study_takes_the_limit_from_the_command():
    """It no longer passes --yes to its studies itself: `sim notebook` hands it --max-hours and --yes."""
    import argparse
    import papermill
    from sim.notebook import _parameters
    declared = papermill.inspect_notebook(str(NOTEBOOKS / "outage_study.ipynb"))
    args = argparse.Namespace(name="outage_study", scenario=str(SCENARIO), duration=None, parameter=[],
                              max_hours=3.0, yes=False)
    assert _parameters(args, declared) == {"scenario": str(SCENARIO.resolve()), "max_hours": 3.0, "yes": False,
                                           "kernel": "auto"}
    source = "".join(c.source for c in nbformat.read(NOTEBOOKS / "outage_study.ipynb", as_version=4).cells)
    assert '"--max-hours", str(max_hours)' in source and '*(["--yes"] if yes else [])' in source
