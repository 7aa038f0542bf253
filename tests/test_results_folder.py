"""The results folder: written whole or not at all, never over a folder of the user's own files."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from conftest import make_scenario
from sim import results as results_module
from sim.runner import run
from sim.scenario import scenario_from_dict


def small_result():
    return run(scenario_from_dict(make_scenario(duration="60s")))


def test_rerun_replaces_the_files_it_writes_and_keeps_the_users(tmp_path):
    out = tmp_path / "r"
    results_module.write_results(small_result(), out, plots=False)
    (out / "NOTES.md").write_text("the user's own notes")
    (out / "summary.json").write_text("{}")                    # a result file: the rerun replaces it
    results_module.write_results(small_result(), out, plots=False)
    assert json.loads((out / "summary.json").read_text())["replications"] == 1
    assert (out / "NOTES.md").read_text() == "the user's own notes"
    assert [p.name for p in tmp_path.iterdir()] == ["r"]          # no temporary folder left behind
    assert not [p for p in out.iterdir() if p.name.startswith(".cmek-sim-tmp-")]


def test_a_failed_write_leaves_the_earlier_results_untouched(tmp_path, monkeypatch):
    out = tmp_path / "r"
    results_module.write_results(small_result(), out, plots=False)
    before = (out / "summary.json").read_text()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")
    monkeypatch.setattr(results_module, "write_csv", broken)
    with pytest.raises(RuntimeError):
        results_module.write_results(small_result(), out, plots=False)
    assert (out / "summary.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_a_folder_of_other_files_is_refused_not_replaced(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "precious.txt").write_text("keep me")
    with pytest.raises(results_module.OutputFolderError):
        results_module.write_results(small_result(), mine, plots=False)
    assert (mine / "precious.txt").read_text() == "keep me"


def test_cli_refuses_a_foreign_output_folder_with_one_line_and_exit_2(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(make_scenario(service={"encryption_key": "k"}, duration="60s")))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "precious.txt").write_text("keep me")
    for command in (["run", str(scenario), "--out", str(mine)],
                    ["quota", str(scenario), "--slo", "requests.failed_429<=0", "--out", str(mine)]):
        proc = subprocess.run([sys.executable, "-m", "sim", *command], capture_output=True, text=True)
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and "will not be replaced" in proc.stderr
        assert (mine / "precious.txt").read_text() == "keep me"
        assert sorted(p.name for p in mine.iterdir()) == ["precious.txt"]


def test_cli_run_writes_every_file_of_the_results_reference(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(make_scenario(duration="60s")))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(scenario), "--out", str(out), "--no-plots"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in ("scenario.resolved.yaml", "manifest.json", "summary.json", "timeseries.csv", "instances.csv",
                 "kms_audit.jsonl", "run_errors.jsonl"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "manifest.json").read_text())
    assert {"seed", "replications", "version", "git_commit", "python", "simpy", "numpy", "started_at",
            "wall_seconds"} <= set(manifest)
