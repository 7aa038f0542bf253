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
     "error: notebook fault_tour has no parameter replications (its parameters: scenario, duration)"),
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
