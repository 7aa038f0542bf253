"""What the charts read from a results folder: fault_windows.csv and quota_in_force.csv, written from the
model; and a folder written before those files existed still draws (no fault shading, no quota line)."""
from __future__ import annotations

import shutil

import pytest

from sim import plots
from sim.results import FAULT_WINDOW_COLUMNS, QUOTA_IN_FORCE_COLUMNS, read_csv, write_results
from sim.runner import run
from sim.scenario import scenario_from_dict

KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"
DATA = {"name": "chart-data", "duration": "3m", "seed": 3,
        "kms": {"quota": {"hsm_requests_per_minute": 240, "enforcement": "per-second"}},
        "keys": [{"id": "k", "name": KEY, "protection": "hsm"}],
        "services": [{"name": "web", "encryption_key": "k", "concurrency": 10, "min_instances": 1,
                      "max_instances": 40, "service_time": {"dist": "lognormal", "mean": "1s", "cv": 0.5},
                      "traffic": {"rate": [[0, 5], [40, 5], [50, 60], [180, 60]]}}],
        "faults": [{"at": "30s", "kind": "key-disable", "key": "k"}, {"at": "50s", "kind": "key-enable", "key": "k"},
                   {"at": "60s", "kind": "quota-change", "hsm_requests_per_minute": 120, "duration": "30s"},
                   {"at": "100s", "kind": "quota-change", "hsm_requests_per_minute": 600},
                   {"at": "120s", "kind": "deploy", "service": "web"}]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_results(run(scenario_from_dict(DATA), replications=1), tmp_path_factory.mktemp("cd") / "r",
                         plots=False)


def test_quota_in_force_has_one_row_per_stretch_of_constant_quota(folder):
    text = (folder / "quota_in_force.csv").read_text().splitlines()
    assert text[0] == ",".join(QUOTA_IN_FORCE_COLUMNS)
    rows = [(r["start_s"], r["end_s"], r["requests_per_minute"], r["admitted_per_window"])
            for r in read_csv(folder / "quota_in_force.csv")]
    assert rows == [(0.0, 60.0, 240.0, 4), (60.0, 90.0, 120.0, 2), (90.0, 100.0, 240.0, 4), (100.0, 180.0, 600.0, 10)]
    assert {r["pool"] for r in read_csv(folder / "quota_in_force.csv")} == {"acme-sec/hsm"}


def test_fault_windows_file(folder):
    assert (folder / "fault_windows.csv").read_text().splitlines()[0] == ",".join(FAULT_WINDOW_COLUMNS)
    rows = [(r["number"], r["kind"], r["start_s"], r["end_s"]) for r in read_csv(folder / "fault_windows.csv")]
    assert rows == [(1, "key-disable", 30.0, 50.0), (2, "quota-change", 60.0, 90.0),
                    (3, "quota-change", 100.0, 180.0), (4, "deploy", 120.0, None)]


def test_the_kms_chart_draws_the_quota_in_force(folder):
    labels = [t.get_text() for ax in plots.kms_figure(folder).axes if ax.get_legend()
              for t in ax.get_legend().get_texts()]
    assert any(label.startswith("quota 2–10/s (varies)") for label in labels)


def test_a_folder_without_the_new_files_still_draws(folder, tmp_path):
    older = tmp_path / "older"
    shutil.copytree(folder, older)
    (older / "fault_windows.csv").unlink()
    (older / "quota_in_force.csv").unlink()
    assert plots.fault_windows(plots.Folder.read(older)) == []
    for chart in plots.CHARTS:
        assert plots.FIGURES[chart](older).get_suptitle()
    labels = [t.get_text() for ax in plots.kms_figure(older).axes if ax.get_legend()
              for t in ax.get_legend().get_texts()]
    assert not any(label.startswith("quota") for label in labels)
