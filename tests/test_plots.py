"""Charts: every chart function draws a wide enough PNG from a small results folder, whatever the run had
(faults or none, HSM, software or no keys, with or without the fault-free twin)."""
from __future__ import annotations

import shutil
import struct
import subprocess
import sys

import pytest
import yaml

from sim import plots
from sim.results import write_results
from sim.runner import run
from sim.scenario import scenario_from_dict

KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"


def _scenario(name: str, protection: str | None, faults: list, **kms) -> dict:
    service = {"name": "web", "concurrency": 10, "min_instances": 1, "max_instances": 60,
               "service_time": {"dist": "lognormal", "mean": "1s", "cv": 0.5},
               "traffic": {"rate": [[0, 5], [40, 5], [50, 80], [240, 80]]}}
    data = {"name": name, "duration": "4m", "seed": 3, "services": [service], "faults": faults,
            "kms": {"quota": {"hsm_requests_per_minute": 240, **kms}}}
    if protection:
        data["keys"] = [{"id": "k", "name": KEY, "protection": protection}]
        service["encryption_key"] = "k"
    return data


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("plots")
    cases = {
        "faults": (_scenario("faults", "hsm", [{"at": "60s", "kind": "key-disable", "key": "k"},
                                               {"at": "90s", "kind": "key-enable", "key": "k"},
                                               {"at": "100s", "kind": "kms-outage", "duration": "20s"},
                                               {"at": "150s", "kind": "deploy", "service": "web"}],
                             background_rps=1), True),
        "plain": (_scenario("plain", None, []), True),
        "software": (_scenario("software", "software", [{"at": "60s", "kind": "key-disable", "key": "k"}]), False),
    }
    out = {}
    for name, (data, baseline) in cases.items():
        result = run(scenario_from_dict(data), baseline=baseline)
        out[name] = write_results(result, base / name, plots=False)
    return out


def test_write_results_draws_all_four_charts(folders, tmp_path):
    result = run(scenario_from_dict(_scenario("drawn", "hsm", [{"at": "60s", "kind": "kms-outage",
                                                                  "duration": "30s"}])))
    folder = write_results(result, tmp_path / "drawn", plots=plots.write_charts)   # drawn before the move
    for name in plots.CHARTS:
        width, height = _png_size(folder / f"{name}.png")
        assert width >= 1000 and height >= 300, (name, width, height)


@pytest.mark.parametrize("case", ["faults", "plain", "software"])
@pytest.mark.parametrize("chart", plots.CHARTS)
def test_each_chart_function_returns_a_wide_figure(folders, case, chart, tmp_path):
    fig = plots.FIGURES[chart](folders[case])
    assert fig.get_suptitle()
    path = plots.save(fig, tmp_path / f"{chart}.png")
    width, _ = _png_size(path)
    assert width >= 1000


def test_notes_when_there_is_nothing_to_compare_or_no_quota(folders):
    texts = lambda fig: " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + fig.get_suptitle()
    assert "No quota-consuming key" in texts(plots.kms_figure(folders["plain"]))
    assert "software keys" in texts(plots.kms_figure(folders["software"]))
    assert "no faults: no fault-free twin" in texts(plots.capacity_loss_figure(folders["plain"]))
    assert "--no-baseline" in texts(plots.capacity_loss_figure(folders["software"]))


@pytest.mark.parametrize("case, skipped", [
    ("faults", {}),
    ("plain", {"kms": "no service uses a CMEK key", "capacity_loss": "no faults"}),
    ("software", {"kms": "software keys", "capacity_loss": "--no-baseline"})])
def test_charts_with_nothing_to_show_are_not_written(folders, case, skipped, tmp_path):
    folder = tmp_path / case
    shutil.copytree(folders[case], folder)
    why = plots.skipped_charts(folder)
    assert set(why) == set(skipped)
    assert all(words in why[name] for name, words in skipped.items())
    written = plots.write_charts(folder)
    assert [p.name for p in written] == [f"{n}.png" for n in plots.CHARTS if n not in skipped]
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(p.name for p in written)
    line = plots.skipped_line(why)
    assert (line is None) == (not skipped)
    # The figure functions still draw such a folder (notebooks call them): with a note.
    for name in skipped:
        assert plots.FIGURES[name](folder).get_suptitle()


def test_sim_run_prints_one_line_naming_the_skipped_charts(tmp_path):
    scenario = tmp_path / "plain.yaml"
    scenario.write_text(yaml.safe_dump(_scenario("plain", None, [])))
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(scenario), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "not written" in line]
    assert lines == ["charts not written: kms.png (no service uses a CMEK key: no KMS quota to draw against); "
                     "capacity_loss.png (no faults: no fault-free twin to compare with)"]
    assert sorted(p.name for p in (tmp_path / "out").glob("*.png")) == ["cold_start.png", "timeline.png"]


def test_fault_windows_pair_state_changes_and_keep_durations(folders):
    windows = plots.fault_windows(plots.Folder.read(folders["faults"]))
    kinds = [(w.kind, w.start, w.end) for w in windows]
    assert ("key-disable", 60.0, 90.0) in kinds            # closed by the key-enable
    assert ("kms-outage", 100.0, 120.0) in kinds           # its duration
    assert ("deploy", 150.0, None) in kinds                # an instant
    assert all(w.kind != "key-enable" for w in windows)


def test_kms_chart_marks_quota_and_resource_exhausted(folders):
    fig = plots.kms_figure(folders["faults"])
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("quota 4/s") for label in labels)
    assert any(label.startswith("quota 240/min") for label in labels)
    assert any("instance starts" in label for label in labels)


def test_kms_chart_labels_say_requested_admitted_and_refused(tmp_path):
    data = _scenario("tight", "hsm", [{"at": "100s", "kind": "kms-outage", "duration": "20s"}], background_rps=1)
    data["kms"]["quota"]["hsm_requests_per_minute"] = 60          # 1/s: services and background refused
    folder = write_results(run(scenario_from_dict(data), baseline=False), tmp_path / "tight", plots=False)
    fig = plots.kms_figure(folder)
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert "instance starts (requested)" in labels and "background load (requested)" in labels
    assert "admitted (all reasons)" in labels                        # the per-minute panel
    assert any(label.startswith("RESOURCE_EXHAUSTED (quota): ") for label in labels)
    assert any(label.startswith("background refused (quota): ") for label in labels)
    assert not any("(admitted)" in label for label in labels)        # background is requested now
    assert "requested operations by reason" in fig.get_suptitle() or any(
        "requested operations by reason" in t.get_text() for t in fig.texts)


def test_time_axis_in_minutes_only_for_long_runs():
    assert plots.TimeAxis(600).label == "time (s)"
    assert plots.TimeAxis(601).label == "time (min)"
