"""A real Dask cluster on loopback (a scheduler and two worker processes), started here and closed after.

Its results must equal the local ones exactly: units through the study engine, and `sim run --scheduler`'s
summary.json. A worker killed mid-unit has its unit rerun: the results are still complete and equal.
Every wait is bounded (an alarm fails the test rather than hanging the suite).
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

distributed = pytest.importorskip("distributed")

from conftest import ROOT, SCENARIOS_DIR, deadline  # noqa: E402

from sim.cli import main  # noqa: E402
from sim.scenario import load_scenario, with_updates  # noqa: E402
from sim.study import cluster as cluster_module  # noqa: E402
from sim.study.engine import run_units  # noqa: E402
from sim.study.units import run_unit, units_for  # noqa: E402

STEADY = SCENARIOS_DIR / "steady.yaml"


@pytest.fixture(scope="module")
def address():
    """A LocalCluster whose worker processes import `sim` from this tree (PYTHONPATH, restored after)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), old]))
    try:
        with deadline(120):
            cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                               dashboard_address=None, silence_logs=logging.CRITICAL)
        try:
            yield cluster.scheduler_address
        finally:
            with deadline(60):
                cluster.close()
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def grid(duration: str = "2m", kernel: str = "auto"):
    sc = load_scenario(STEADY, {"duration": duration, "warmup": 0, "replications": 2})
    return [u for cell, rate in enumerate((50.0, 90.0))
            for u in units_for(with_updates(sc, {"services.0.traffic.rate": rate}), cell, 2, kernel=kernel)]


def tiny_file(folder) -> str:
    """steady.yaml over 2 minutes without warm-up, as a file (for the command line)."""
    import yaml
    data = yaml.safe_load(STEADY.read_text(encoding="utf-8"))
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump({**data, "duration": "2m", "warmup": 0}), encoding="utf-8")
    return str(path)


def by_key(pairs) -> dict:
    return {unit.key: summary for unit, summary in pairs}


def test_units_on_the_cluster_equal_the_local_results(address, tmp_path):
    local = {u.key: run_unit(u) for u in grid()}
    with deadline(180):
        on_cluster = by_key(run_units(iter(grid()), scheduler=address, store=tmp_path))
    assert on_cluster == local
    assert len(list(tmp_path.glob("*.json"))) == len(local)


def test_sim_run_on_the_cluster_writes_the_local_summary(address, tmp_path, monkeypatch):
    common = [tiny_file(tmp_path), "--replications", "2", "--no-plots", "--quiet"]
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert main(["run", *common, "--out", str(tmp_path / "local")]) == 0
    with deadline(180):
        assert main(["run", *common, "--out", str(tmp_path / "flag"), "--scheduler", address]) == 0
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
        assert main(["run", *common, "--out", str(tmp_path / "env")]) == 0
    local = (tmp_path / "local" / "summary.json").read_bytes()
    assert (tmp_path / "flag" / "summary.json").read_bytes() == local
    assert (tmp_path / "env" / "summary.json").read_bytes() == local


def test_the_scheduler_is_asked_first_and_tells_its_worker_threads(address):
    assert cluster_module.check_scheduler(address) == 2          # two worker processes of one thread


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 2.0)
    with deadline(60):
        status = main(["run", tiny_file(tmp_path), "--replications", "1", "--no-plots", "--quiet",
                       "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert err.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 2 s") and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_a_worker_killed_mid_unit_has_its_unit_rerun(address):
    """Kill the process running a unit while it runs: the scheduler reruns it; nothing lost or counted twice."""
    units = grid("10m", kernel="python")        # units of a second or more, so that one is caught running
    local = {u.key: run_unit(u) for u in units}
    killed: list[str] = []
    stop = threading.Event()

    def killer():
        with distributed.Client(address, timeout=10, set_as_default=False) as client:
            pids = client.run(os.getpid)                        # worker address -> process id
            while not stop.is_set() and not killed:
                busy = {w: keys for w, keys in client.processing().items() if keys}
                if busy:
                    worker, keys = next(iter(busy.items()))
                    time.sleep(0.1)                             # inside a unit of a second or more
                    if client.processing().get(worker):
                        os.kill(pids[worker], signal.SIGKILL)
                        killed.append(str(keys[0]))
                time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        with deadline(300):
            results = list(run_units(units, scheduler=address))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert killed, "no worker was killed mid-unit"
    assert sorted(u.key for u, _ in results) == sorted(local)       # each unit once: none lost, none twice
    assert by_key(results) == local


def test_the_kernel_choice_reaches_the_dask_workers(address):
    """--kernel travels in the unit, not in the environment (a Dask worker is another machine): an impossible
    choice fails on the worker, where World resolves it."""
    from sim.model.kernel_choice import KernelUnavailable
    sc = load_scenario(STEADY, {"duration": "1m", "warmup": 0, "replications": 1})
    units = units_for(with_updates(sc, {"services.0.traffic.rate": 37.0}), 0, 1, kernel="bogus")
    with deadline(120), pytest.raises(KernelUnavailable, match="'bogus'"):
        list(run_units(units, scheduler=address))
