"""Local worker processes (sim/study/local.py): they exit when the command's process is killed (issue 18.14), and
no more start than the work has units or MAX_WORKERS_PER_CORE per core, which the command says (issue 18.15)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.study import local
from sim.study.execute import backend_for

ROOT = Path(__file__).resolve().parents[1]
LONG = """name: long
duration: 2h
services:
  - name: api
    traffic: {rate: 2000}
"""          # 14 M requests a unit: a minute or more, so the workers are busy when the command is killed


def children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except OSError:
        return set()


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it has exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("command", [["sweep", "--set", "services[api].min_instances=1,2"],
                                     ["solve", "--param", "services[api].min_instances", "--slo",
                                      "requests.failed_fraction<=0.5", "--replications", "2", "--high", "4"]])
def test_workers_exit_when_the_command_is_killed(tmp_path, command):
    scenario = tmp_path / "long.yaml"
    scenario.write_text(LONG)
    proc = subprocess.Popen([sys.executable, "-m", "sim", command[0], str(scenario), *command[1:], "--workers", "2",
                             "--out", str(tmp_path / "out"), "--quiet", "--yes", "--kernel", "python"],  # slow units
                            cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        until = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < until and proc.poll() is None:
            time.sleep(0.2)
            workers = children(proc.pid)
        assert len(workers) == 2, f"the command did not start 2 workers: {workers}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        until = time.monotonic() + 10
        while any(alive(w) for w in workers) and time.monotonic() < until:
            time.sleep(0.1)
        assert not any(alive(w) for w in workers), "workers still running 10 s after their parent was killed"
    finally:
        for pid in [proc.pid, *workers]:       # only the processes this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc.wait(10)


def test_no_more_workers_than_units_or_twice_the_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert local.usable_workers(64, 2) == 2
    assert local.usable_workers(1000) == 2 * local.MAX_WORKERS_PER_CORE
    assert local.usable_workers(3, 100) == 3 and local.usable_workers(5, 0) == 1
    pool = backend_for(abs, 64, None, units=2)
    assert isinstance(pool, local.LocalPool) and pool.workers == 2
    assert isinstance(backend_for(abs, 64, None, units=1), local.InProcess)


def test_the_cap_is_said(tmp_path, capsys):
    scenario = tmp_path / "small.yaml"
    scenario.write_text("name: small\nduration: 20s\nservices:\n  - {name: api, traffic: {rate: 2}}\n")
    assert main(["sweep", str(scenario), "--set", "services[api].min_instances=1,2", "--replications", "1",
                 "--workers", "64", "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "note: --workers 64: 2 worker processes (the work has 2 units" in err
