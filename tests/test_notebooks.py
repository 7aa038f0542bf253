"""The notebooks run top to bottom in a fresh kernel (with the notebook folder as working directory), and
are stored without outputs."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


CHARTS = {"fault_tour.ipynb": 4, "quota_increase_justification.ipynb": 4,
          "outage_study.ipynb": 3}     # heat map, solve curve, tornado


def test_every_notebook_is_tested():
    assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} == set(CHARTS)


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_notebook_runs_top_to_bottom(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), "commit without outputs"
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= CHARTS[name]   # the charts were drawn and shown


def test_the_outage_study_answers_with_a_failing_level_below():
    """The outage study's solve: its answer meets the objective and the level below it does not."""
    import json
    import tempfile

    from sim.cli import main
    with tempfile.TemporaryDirectory() as tmp:
        assert main(["solve", str(NOTEBOOKS.parent / "scenarios/ekm-outage-min-instances.yaml"),
                     "--param", "services[orders].min_instances", "--slo", "requests.failed_fraction<=0.01",
                     "--replications", "2", "--quiet", "--out", f"{tmp}/solve"]) == 0
        answer = json.loads(open(f"{tmp}/solve/solve.json").read())
    met = {level["value"]: level["met"] for level in answer["levels"]}
    assert met[answer["recommended"]] and not met[answer["recommended"] - 1]
