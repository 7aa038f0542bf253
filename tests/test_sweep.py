"""`sim sweep`: the grid, its checks, its files (identical whatever the workers, and after a resume), paired cells.

Simulations are tiny: scenarios/steady.yaml cut to 3 minutes, 2 replications, 4 cells.
"""
from __future__ import annotations

import csv
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.cli import main
from sim.scenario import load_scenario
from sim.study import engine
from sim.study.sweep_grid import build_grid, parse_settings, split_values
from tests.conftest import ROOT, SCENARIOS_DIR, deadline

# The quota cannot matter (steady has no key): its cells must equal each other, replication by replication.
GRID = ["--set", "services[api].min_instances=1,6", "--set", "kms.quota.hsm_requests_per_minute=600,6000"]
FILES = ("sweep.csv", "sweep_summary.csv", "sweep.json", "sweep.png", "cells/cell-000.yaml", "cells/cell-001.yaml",
         "cells/cell-002.yaml", "cells/cell-003.yaml")
ENGINE_IS_STUB = "STUB" in (engine.__doc__ or "")


@pytest.fixture(scope="module")
def steady(tmp_path_factory) -> Path:
    """steady.yaml on 3 minutes (warmup 30 s)."""
    data = yaml.safe_load((SCENARIOS_DIR / "steady.yaml").read_text())
    data.update(duration="3m", warmup="30s", replications=2)
    path = tmp_path_factory.mktemp("scenario") / "steady-short.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def sweep(steady: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(steady), *GRID, "--out", str(out), "--quiet", *extra])


@pytest.fixture(scope="module")
def reference(steady, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sweeps") / "one-worker"
    assert sweep(steady, out, "--workers", "1") == 0
    return out


def read(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def same_files(a: Path, b: Path) -> None:
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    assert names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    assert set(FILES) <= set(names)
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# -- the grid ---------------------------------------------------------------------------------------------
def test_grid_order_first_setting_slowest():
    scenario = load_scenario(SCENARIOS_DIR / "steady.yaml")
    settings = parse_settings(["services[0].min_instances=1,2,3", "services[api].concurrency=10,20"], scenario)
    cells = build_grid(scenario, settings)
    assert [c.texts for c in cells] == [("1", "10"), ("1", "20"), ("2", "10"), ("2", "20"), ("3", "10"), ("3", "20")]
    assert [(c.scenario.services[0].min_instances, c.scenario.services[0].concurrency) for c in cells] == \
        [(1, 10), (1, 20), (2, 10), (2, 20), (3, 10), (3, 20)]
    assert [c.index for c in cells] == list(range(6))


def test_durations_are_converted_per_cell_and_resolved_for_the_chart():
    scenario = load_scenario(SCENARIOS_DIR / "ekm-outage-retryable.yaml")
    settings = parse_settings(["faults[0].duration=5m,1200", "services[orders].min_instances=2"], scenario)
    cells = build_grid(scenario, settings)
    assert [c.scenario.faults[0].duration for c in cells] == [300.0, 1200.0]
    assert [c.resolved_values(settings) for c in cells] == [
        {"faults[0].duration": 300.0, "services[orders].min_instances": 2},
        {"faults[0].duration": 1200.0, "services[orders].min_instances": 2}]
    assert scenario.faults[0].duration == 600.0                        # the scenario itself is unchanged


def test_values_split_outside_brackets():
    assert split_values("10m, 30m,1h") == ["10m", "30m", "1h"]
    assert split_values("[[0, 5], [1h, 9]],20") == ["[[0, 5], [1h, 9]]", "20"]
    assert split_values("'a,b',c") == ["'a,b'", "c"]


# -- checks before anything runs ----------------------------------------------------------------------------
def test_a_bad_path_is_one_line_and_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["sweep", str(SCENARIOS_DIR / "steady.yaml"), "--set", "services[apj].min_instances=1,2",
                   "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("--set services[apj].min_instances=1,2: ") and "did you mean 'api'" in err[0]
    assert not out.exists() and not Path(f"{out}.partial").exists()


def test_a_bad_value_names_its_cell_and_exit_2(tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["sweep", str(SCENARIOS_DIR / "steady.yaml"), "--set", "services[api].concurrency=10,20",
                   "--set", "services[api].min_instances=1,-1", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1
    assert err[0].startswith("cell 1 (services[api].concurrency=10, services[api].min_instances=-1): "
                             "services[0].min_instances: must be at least 0")
    assert err[0].endswith("(and 1 other cell)")                   # cell 3 has the same problem
    assert not out.exists() and not Path(f"{out}.partial").exists()


@pytest.mark.parametrize("args, expected", [
    (["--set", "services[0].min_instances=1", "--metric", "capacity.shortfall"], "did you mean"),
    (["--set", "services[0].min_instances=1,,2"], "an empty value"),
    (["--set", "services[0].min_instances=1", "--set", "services[api].min_instances=2"], "the same setting"),
    (["--set", "services[0]"], "expected PATH=V1,V2"),
    (["--set", "services[0].name=api,web"], "cell 1 (services[0].name=web): a sweep cannot rename services"),
])
def test_other_bad_arguments_exit_2(tmp_path, capsys, args, expected):
    status = main(["sweep", str(SCENARIOS_DIR / "steady.yaml"), *args, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and expected in err[0]


def test_the_command_line_exits_2_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "sweep", "scenarios/steady.yaml", "--set",
                           "faults[0].duration=1m", "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "--set faults[0].duration=1m: faults[0].duration: faults is empty, so it has no item 0"


# -- the files ----------------------------------------------------------------------------------------------
def test_files_rows_in_order_and_resolved_cells(reference):
    rows = read(reference / "sweep.csv")
    assert [(r["cell"], r["replication"]) for r in rows] == [(str(c), str(r)) for c in range(4) for r in range(2)]
    assert [r["services[api].min_instances"] for r in rows] == ["1"] * 4 + ["6"] * 4
    assert [r["kms.quota.hsm_requests_per_minute"] for r in rows] == ["600", "600", "6000", "6000"] * 2
    assert {"api.requests.arrived", "api.requests.failed_fraction", "api.cold_starts.latency_s.p99",
            "api.capacity.shortfall_fraction", "kms.operations"} <= set(rows[0])
    summary = read(reference / "sweep_summary.csv")
    assert [r["cell"] for r in summary] == ["0", "1", "2", "3"]
    for r in summary:
        assert float(r["api.instances.mean_ready.low"]) <= float(r["api.instances.mean_ready.mean"]) \
            <= float(r["api.instances.mean_ready.high"])
    study = json.loads((reference / "sweep.json").read_text())
    assert study["sets"] == [{"path": "services[api].min_instances", "values": ["1", "6"]},
                             {"path": "kms.quota.hsm_requests_per_minute", "values": ["600", "6000"]}]
    assert study["replications"] == 2 and study["metric"] == "capacity.shortfall_fraction"
    assert study["cells"][3]["values"] == {"services[api].min_instances": "6", "kms.quota.hsm_requests_per_minute": "6000"}
    cell3 = yaml.safe_load((reference / "cells/cell-003.yaml").read_text())
    assert cell3["services"][0]["min_instances"] == 6 and cell3["kms"]["quota"]["hsm_requests_per_minute"] == 6000


def test_cells_are_paired_and_the_setting_matters(reference):
    """Same streams in every cell: a setting that changes nothing gives identical rows; one that matters not."""
    rows = read(reference / "sweep.csv")
    columns = json.loads((reference / "sweep.json").read_text())["figures"]
    figures = [[r[c] for c in columns] for r in rows]
    assert figures[0:2] == figures[2:4] and figures[4:6] == figures[6:8]     # the quota changes nothing
    assert [r["api.requests.arrived"] for r in rows[0:2]] == [r["api.requests.arrived"] for r in rows[4:6]]
    assert [r["api.instances.mean_ready"] for r in rows[0:2]] != [r["api.instances.mean_ready"] for r in rows[4:6]]


def test_the_chart_band_of_a_share_stays_between_0_and_1(reference, tmp_path):
    """Bands are drawn within what the figure can be (the CSV keeps the computed interval)."""
    import shutil

    from sim.plots.sweep_curve import sweep_figure
    folder = tmp_path / "copy"
    shutil.copytree(reference, folder)
    study = json.loads((folder / "sweep.json").read_text())
    assert study["metric"].endswith("fraction")
    rows = read(folder / "sweep_summary.csv")
    for row in rows:
        for column in row:
            if column.endswith(f"{study['metric']}.low"):
                row[column] = "-0.5"
            elif column.endswith(f"{study['metric']}.high"):
                row[column] = "1.5"
    with open(folder / "sweep_summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    bands = [c for ax in sweep_figure(folder).axes for c in ax.collections if c.get_paths()]
    ys = np.concatenate([p.vertices[:, 1] for band in bands for p in band.get_paths()])
    assert bands and ys.min() >= 0.0 and ys.max() <= 1.0


def test_the_chart_exists(reference):
    assert (reference / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_files_identical_with_two_workers(steady, reference, tmp_path):
    out = tmp_path / "two-workers"
    assert sweep(steady, out, "--workers", "2") == 0
    same_files(reference, out)


def test_files_identical_on_a_dask_cluster(steady, reference, tmp_path, monkeypatch):
    """A scheduler and two worker processes on loopback, started and stopped here (workers import this tree)."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with deadline(120):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                           dashboard_address=None, silence_logs=logging.CRITICAL)
    try:
        out = tmp_path / "dask"
        with deadline(300):
            assert sweep(steady, out, "--scheduler", cluster.scheduler_address) == 0
    finally:
        with deadline(60):
            cluster.close()
    same_files(reference, out)


def test_a_finished_sweep_is_replaced_and_the_table_printed(steady, tmp_path, capsys):
    out = tmp_path / "again"
    assert sweep(steady, out) == 0
    assert main(["sweep", str(steady), *GRID, "--out", str(out)]) == 0   # an earlier sweep folder may be replaced
    printed = capsys.readouterr().out
    assert "api.capacity.shortfall_fraction (95% interval)" in printed and f"results: {out}" in printed
    assert len([line for line in printed.splitlines() if line[:1].isdigit()]) == 4


# -- interruption and --resume --------------------------------------------------------------------------------
def interrupt_after(monkeypatch, k: int) -> None:
    """The engine, stopped by Ctrl-C once k units have come back."""
    real = engine.run_units

    def interrupted(units, **options):
        for n, item in enumerate(real(units, **options)):
            if n == k:
                raise KeyboardInterrupt
            yield item
    monkeypatch.setattr(engine, "run_units", interrupted)


def test_resume_after_an_interruption_gives_identical_files(steady, reference, tmp_path, monkeypatch, capsys):
    out = tmp_path / "resumed"
    partial = Path(f"{out}.partial")
    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        assert sweep(steady, out) == 130
    assert not out.exists() and (partial / "study.json").exists()
    assert "--resume" in capsys.readouterr().err
    assert sweep(steady, out) == 2                                     # not without --resume
    assert "--resume" in capsys.readouterr().err
    assert sweep(steady, out, "--resume") == 0
    assert not partial.exists()
    same_files(reference, out)


@pytest.mark.skipif(ENGINE_IS_STUB, reason="the stub engine on this branch keeps no store; the engine helper's does")
def test_an_interrupted_sweep_keeps_its_finished_units(steady, tmp_path, monkeypatch):
    out = tmp_path / "kept"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 3)
        assert sweep(steady, out) == 130
    assert any(p.is_file() for p in Path(f"{out}.partial/units").rglob("*"))


def test_resume_refuses_the_partial_folder_of_another_grid(steady, tmp_path, monkeypatch, capsys):
    out = tmp_path / "other"
    with monkeypatch.context() as patch:
        interrupt_after(patch, 1)
        assert sweep(steady, out) == 130
    capsys.readouterr()
    status = main(["sweep", str(steady), "--set", "services[api].min_instances=1,2", "--out", str(out), "--resume"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "other cells" in err[0]


def test_one_replication_prints_its_table(steady, tmp_path, capsys):
    """Issue 18.4: one replication per cell has a mean but no interval; the table says so, not a crash."""
    out = tmp_path / "one"
    assert main(["sweep", str(steady), "--set", "services[api].min_instances=1,2", "--replications", "1",
                 "--duration", "1m", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("[no interval: 1 replication]") == 2 and "results:" in printed
    assert (out / "sweep_summary.csv").exists()
