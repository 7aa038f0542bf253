"""Nothing lost (issue 18): a rerun never deletes a file the program did not write, an interrupted study keeps
its work (solve, quota and sensitivity resume as a sweep does), a resume store is checked unit by unit, the
output location is checked before any work, a failed write is one line and leaves nothing behind, and modes
follow the umask. Real subprocesses on real files where the issue saw the failure.
"""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_scenario
from sim import results as results_module
from sim.cli import main
from sim.runner import run
from sim.scenario import scenario_from_dict
from sim.study import engine
from sim.study.store import Store
from sim.study.units import run_unit, units_for

TMP_PREFIX = ".cmek-sim-tmp-"        # sim/output_folder.py (imported inside the tests that need more of it)
SCENARIO = make_scenario(service={"encryption_key": "k"}, duration="60s")
SOLVE = ["--param", "services[svc].min_instances", "--slo", "cold_starts.count<=10", "--high", "10",
         "--replications", "2", "--duration", "3m", "--quiet"]          # 8 levels of 2 units: 0, 1, 2, 4, 8, 10, 9, 7
SWEEP = ["--set", "services[svc].min_instances=0,1", "--replications", "2", "--quiet"]


def scenario_file(folder: Path, **top) -> Path:
    path = folder / "s.yaml"
    path.write_text(yaml.safe_dump({**SCENARIO, **top}))
    return path


def sim(*args, cwd: Path, file_limit: int | None = None, umask: int | None = None) -> subprocess.CompletedProcess:
    """`python -m sim ARGS` in a real process, optionally with a file size limit (bytes) or a umask."""
    def limits():
        if umask is not None:
            os.umask(umask)
        if file_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_limit, file_limit))
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=limits)


def one_line(proc: subprocess.CompletedProcess, status: int = 2) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == status and "Traceback" not in proc.stderr, proc.stderr
    assert len([line for line in lines if not line.startswith("estimate:")]) == 1, proc.stderr
    return lines[-1]


def leftovers(folder: Path) -> list[str]:
    return [str(p) for p in folder.rglob("*") if p.name.startswith(TMP_PREFIX) or p.name.endswith(".tmp")
            or ".tmp-" in p.name]


# -- 1. a rerun replaces only what a run writes ---------------------------------------------------------------
def test_a_rerun_with_out_dot_keeps_the_users_notes_and_scenario(tmp_path):
    r = tmp_path / "r"
    results_module.write_results(run(scenario_from_dict(SCENARIO)), r, plots=False)
    (r / "NOTES.md").write_text("my notes")
    shutil.copy(scenario_file(tmp_path), r / "my-scenario.yaml")
    before = (r / "summary.json").stat().st_mtime_ns
    proc = sim("run", "my-scenario.yaml", "--out", ".", "--no-plots", "--quiet", "--seed", "7", cwd=r)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (r / "NOTES.md").read_text() == "my notes" and (r / "my-scenario.yaml").exists()
    assert (r / "summary.json").stat().st_mtime_ns != before
    assert json.loads((r / "summary.json").read_text())["seed"] == 7
    assert not leftovers(tmp_path)


def test_only_files_the_program_listed_as_written_are_removed(tmp_path):
    from sim.output_folder import FILE_LIST, OutputFolderError, atomic_folder
    out = tmp_path / "out"
    with atomic_folder(out) as tmp:
        for name in ("a.txt", "b.txt", "cells/c.txt"):
            (tmp / name).parent.mkdir(exist_ok=True)
            (tmp / name).write_text("first")
    assert json.loads((out / FILE_LIST).read_text())["files"] == ["a.txt", "b.txt", "cells/c.txt"]
    (out / "mine.txt").write_text("the user's")
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == [FILE_LIST, "a.txt", "mine.txt"]   # b, cells/c: ours, stale
    assert (out / "a.txt").read_text() == "second"
    legacy = tmp_path / "legacy"                          # written before the list existed: nothing is known ours
    legacy.mkdir()
    (legacy / "summary.json").write_text("{}")
    (legacy / "old.csv").write_text("kept")
    with atomic_folder(legacy) as tmp:
        (tmp / "summary.json").write_text('{"new": 1}')
    assert (legacy / "old.csv").read_text() == "kept" and (legacy / "summary.json").read_text() == '{"new": 1}'
    (legacy / "sub").mkdir()                              # a folder where a result file goes: refused, nothing moved
    with pytest.raises(OutputFolderError, match="in the way"):
        with atomic_folder(legacy) as tmp:
            (tmp / "sub").write_text("x")
            (tmp / "summary.json").write_text('{"newer": 1}')
    assert (legacy / "summary.json").read_text() == '{"new": 1}' and not leftovers(tmp_path)


def test_a_file_list_naming_files_outside_the_folder_deletes_nothing_there(tmp_path):
    from sim.output_folder import FILE_LIST, atomic_folder
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    victim.write_text("not the program's")
    out.mkdir()
    (out / FILE_LIST).write_text(json.dumps({"files": ["../victim.txt", str(victim), "a/../../victim.txt", 3]}))
    with atomic_folder(out) as tmp:
        (tmp / "a.txt").write_text("x")
    assert victim.read_text() == "not the program's"
    assert json.loads((out / FILE_LIST).read_text())["files"] == ["a.txt"]


# -- 2. solve, quota and sensitivity keep their units and resume ----------------------------------------------
def test_ctrl_c_on_solve_keeps_its_units_and_resume_runs_only_the_rest(tmp_path, monkeypatch):
    path, out = scenario_file(tmp_path), tmp_path / "sv"
    units = Path(f"{out}.partial/units")
    proc = subprocess.Popen([sys.executable, "-m", "sim", "solve", str(path), *SOLVE, "--out", str(out),
                             "--kernel", "python"], cwd=tmp_path,             # the slower path: caught mid-solve
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    while proc.poll() is None and not len(list(units.glob("*.json"))) >= 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130 and "Traceback" not in err and "--resume" in err, err
    saved = {p.stem for p in units.glob("*.json")}
    assert saved and not out.exists()
    ran = []
    monkeypatch.setattr(engine, "run_unit", lambda unit: ran.append(unit.key) or run_unit(unit))
    assert main(["solve", str(path), *SOLVE, "--out", str(out), "--resume"]) == 0
    assert ran and not saved & set(ran)                        # the saved units are read, not run again
    assert not units.parent.exists()
    resumed = json.loads((out / "solve.json").read_text())
    ran.clear()
    assert main(["solve", str(path), *SOLVE, "--out", str(out)]) == 0   # a second identical solve: not refused
    again = json.loads((out / "solve.json").read_text())
    assert len(ran) == 16 and again["recommended"] == resumed["recommended"] == 9
    assert [lv["met"] for lv in again["levels"]] == [lv["met"] for lv in resumed["levels"]]


@pytest.mark.parametrize("command", ["solve", "quota"])
def test_ctrl_c_between_levels_still_says_how_to_resume(tmp_path, monkeypatch, capsys, command):
    # A Ctrl-C outside the engine (between two levels, while writing) has the units saved all the same: the
    # command says so (the engine says it itself for a Ctrl-C inside it, and only once).
    import sim.quota.solver
    import sim.study.solve

    def interrupted(self):
        raise KeyboardInterrupt
    monkeypatch.setattr(sim.study.solve.Solver, "solve", interrupted)
    monkeypatch.setattr(sim.quota.solver.Solver, "solve", interrupted)
    path = scenario_file(tmp_path)
    args = {"solve": SOLVE, "quota": ["--slo", "requests.failed_fraction<=0.5", "--replications", "2"]}[command]
    assert main([command, str(path), *args, "--out", str(tmp_path / "o")]) == 130
    err = capsys.readouterr().err
    assert err.count("--resume") == 1 and "interrupted" in err


def test_an_interrupted_quota_search_resumes_from_its_saved_units(tmp_path, monkeypatch):
    path, out = scenario_file(tmp_path), tmp_path / "q"
    args = ["quota", str(path), "--slo", "requests.failed_fraction<=0.5", "--replications", "2", "--out", str(out)]
    calls = []

    def interrupted(unit):
        calls.append(unit.key)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return run_unit(unit)
    monkeypatch.setattr(engine, "run_unit", interrupted)
    assert main(args) == 130
    assert [p.stem for p in Path(f"{out}.partial/units").glob("*.json")] == calls[:1]
    assert main(args) == 2                                     # its work is not thrown away without --resume
    calls.clear()
    monkeypatch.setattr(engine, "run_unit", lambda unit: calls.append(unit.key) or run_unit(unit))
    assert main([*args, "--resume"]) == 0 and (out / "quota.json").exists()
    assert calls and "cell00001-rep0000" not in calls and not Path(f"{out}.partial").exists()


# -- 3 and 11. a resume store is checked -------------------------------------------------------------------------
def test_damaged_units_and_study_json_are_rerun_and_said(tmp_path, monkeypatch):
    path = scenario_file(tmp_path)
    reference, out = tmp_path / "reference", tmp_path / "resumed"
    assert main(["sweep", str(path), *SWEEP, "--out", str(reference)]) == 0
    real = engine.run_units

    def stopped(units, **options):
        for n, item in enumerate(real(units, **options)):
            if n == 3:
                raise KeyboardInterrupt
            yield item
    with monkeypatch.context() as patch:
        patch.setattr(engine, "run_units", stopped)
        assert main(["sweep", str(path), *SWEEP, "--out", str(out)]) == 130
    partial = Path(f"{out}.partial")
    first, second = sorted((partial / "units").glob("*.json"))[:2]
    data = json.loads(first.read_text())
    first.write_text(json.dumps({**data, "summary": {}}))               # emptied: a KeyError before
    data = json.loads(second.read_text())
    data["summary"]["services"]["svc"]["requests"]["arrived"] += 1000    # parseable but altered: a wrong CSV before
    second.write_text(json.dumps(data))
    (partial / "study.json").write_text('{"cells_di')                    # truncated: a JSONDecodeError before
    proc = sim("sweep", path, *SWEEP, "--out", out, "--resume", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "2 saved unit(s)" in proc.stderr and "failed their check" in proc.stderr
    assert "study.json: damaged" in proc.stderr
    assert (out / "sweep.csv").read_text() == (reference / "sweep.csv").read_text()


def test_a_study_json_of_the_wrong_shape_is_rewritten_on_resume_only(tmp_path):
    from sim.study.partial import PartialFolderError, open_partial
    out = tmp_path / "s"
    open_partial(out, "digest-1", resume=False)
    stamp = Path(f"{out}.partial/study.json")
    stamp.write_text("[1, 2]")
    with pytest.raises(PartialFolderError, match="--resume"):
        open_partial(out, "digest-1", resume=False)
    assert open_partial(out, "digest-1", resume=True) == (Path(f"{out}.partial"), True)
    assert json.loads(stamp.read_text()) == {"cells_digest": "digest-1"}
    with pytest.raises(PartialFolderError, match="other"):
        open_partial(out, "digest-2", resume=True)


def test_a_store_file_is_checked_against_its_digest(tmp_path):
    unit, other = units_for(scenario_from_dict(SCENARIO), 0, 2)
    store = Store(tmp_path)
    summary = run_unit(unit)
    store.save(unit, summary)
    shutil.copy(store.path(unit), store.path(other))             # another unit's result under this key...
    assert store.load(unit) == summary and store.rejected == []
    assert store.load(other) is None and store.rejected == []    # ...is for other inputs (rerun), not damaged
    text = store.path(unit).read_text()
    store.path(unit).write_text(text.replace('"arrived":', '"arrived":1', 1))
    assert store.load(unit) is None and store.rejected == [unit.key]


def test_a_store_write_that_fails_leaves_no_tmp_file(tmp_path, monkeypatch):
    from sim.study import store as store_module
    unit = units_for(scenario_from_dict(SCENARIO), 0, 1)[0]

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(store_module.json, "dump", full)
    with pytest.raises(OSError):
        Store(tmp_path).save(unit, {"services": {}, "kms": {}})
    assert list(tmp_path.iterdir()) == []


# -- 5. a long scenario name -----------------------------------------------------------------------------------
def test_a_250_character_name_runs_or_is_refused_before_the_work(tmp_path):
    path = scenario_file(tmp_path, name="n" * 250)
    proc = sim("run", path, "--no-plots", "--quiet", cwd=tmp_path)       # results/<250 characters>: fits
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert (tmp_path / "results" / ("n" * 250) / "summary.json").exists() and not leftovers(tmp_path)
    proc = sim("solve", path, *SOLVE, cwd=tmp_path)                        # results/<250>-solve: 256 bytes
    assert "longer than the file system allows" in one_line(proc)
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["n" * 250]


# -- 6. an output location that cannot be written ---------------------------------------------------------------
def test_an_unwritable_output_location_is_refused_before_simulating(tmp_path):
    path = scenario_file(tmp_path)
    assert "cannot write there" in one_line(sim("run", path, "--no-plots", "--out", "/proc/self/x", cwd=tmp_path))
    proc = sim("quota", path, "--slo", "requests.failed_fraction<=0.5", "--out", tmp_path / "q", cwd=tmp_path,
               file_limit=0)
    assert "File too large" in one_line(proc) and "solving" not in proc.stderr      # before the search started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_write_that_fails_after_the_run_is_one_line_and_leaves_nothing(tmp_path):
    path, out = scenario_file(tmp_path, duration="30m"), tmp_path / "r"
    proc = sim("run", path, "--no-plots", "--quiet", "--out", out, cwd=tmp_path, file_limit=40_000)
    assert "cannot write the results: File too large" in one_line(proc)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]     # no folder, no hidden temporary one


# -- 16. modes follow the umask ------------------------------------------------------------------------------------
def test_results_and_imported_scenarios_follow_the_umask(tmp_path):
    path, out = scenario_file(tmp_path), tmp_path / "r"
    assert sim("run", path, "--no-plots", "--quiet", "--out", out, cwd=tmp_path, umask=0o027).returncode == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o750 and stat.S_IMODE((out / "summary.json").stat().st_mode) == 0o640
    service = ROOT / "examples" / "gcloud" / "checkout-service.yaml"
    proc = sim("import-service", service, "-o", tmp_path / "imported.yaml", cwd=tmp_path, umask=0o022)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE((tmp_path / "imported.yaml").stat().st_mode) == 0o644
