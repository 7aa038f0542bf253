"""The study engine: the same results in this process, on 2 local processes and from the resume store;
stale store files rerun; an interrupted study keeps its finished units and a resumed one gives the same results.

Units are tiny (steady.yaml over 2 minutes, 2 cells x 2 replications); equality is exact (==, on floats too).
"""
from __future__ import annotations

import io
import json
import multiprocessing

import pytest

from sim.scenario import load_scenario, with_updates
from sim.study import engine
from sim.study.cluster import scheduler_address
from sim.study.engine import map_on, run_units
from sim.study.errors import StudyError
from sim.study.progress import Progress
from sim.study.store import Store, fingerprint
from sim.study.units import run_unit, units_for

from conftest import SCENARIOS_DIR


def tiny(rate: float = 50.0):
    sc = load_scenario(SCENARIOS_DIR / "steady.yaml", {"duration": "2m", "warmup": 0, "replications": 2})
    return with_updates(sc, {"services.0.traffic.rate": rate})


def grid(rates=(50.0, 90.0)):
    return [u for cell, rate in enumerate(rates) for u in units_for(tiny(rate), cell, 2)]


def by_key(pairs) -> dict:
    return {unit.key: summary for unit, summary in pairs}


@pytest.fixture(scope="module")
def reference():
    """Each unit run directly, in this process, with no store."""
    return {u.key: run_unit(u) for u in grid()}


@pytest.fixture
def counted(monkeypatch):
    """run_unit counted (in this process: workers=1), optionally failing at call number `fail_at`."""
    calls = {"n": 0, "fail_at": None}

    def runner(unit):
        calls["n"] += 1
        if calls["n"] == calls["fail_at"]:
            raise RuntimeError("unit runner failed")
        return run_unit(unit)

    monkeypatch.setattr(engine, "run_unit", runner)
    return calls


def test_one_worker_two_workers_and_the_store_give_identical_results(reference, tmp_path, monkeypatch):
    assert by_key(run_units(grid())) == reference
    assert by_key(run_units(iter(grid()), workers=2, store=tmp_path)) == reference
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{k}.json" for k in reference)

    def must_not_run(unit):
        raise AssertionError(f"{unit.key} is in the store: read, not run")
    monkeypatch.setattr(engine, "run_unit", must_not_run)
    from_store = by_key(run_units(grid(), store=tmp_path))
    # JSON round-trips floats exactly: the same values, bit for bit (also through their text)
    assert from_store == reference
    assert json.dumps(from_store, sort_keys=True) == json.dumps(reference, sort_keys=True)
    assert any(isinstance(v, float) and v != round(v, 6)
               for v in from_store["cell00000-rep0000"]["services"]["api"]["latency_s"].values())


def test_a_stale_or_broken_store_file_is_rerun(reference, tmp_path, counted):
    old = grid(rates=(40.0, 90.0))                    # cell 0 at another rate: same keys, other scenario
    list(run_units(old, store=tmp_path))
    (tmp_path / "cell00001-rep0001.json").write_text('{"format": 1, "fing')    # half a file
    counted["n"] = 0
    assert by_key(run_units(grid(), store=tmp_path)) == reference
    assert counted["n"] == 3                           # cell 0 (2 stale) and the broken file; cell 1 rep 0 read
    store = Store(tmp_path)
    assert all(store.load(u) == reference[u.key] for u in grid())
    assert fingerprint(grid()[0]) != fingerprint(old[0])


def test_a_store_written_by_other_code_is_rerun(reference, tmp_path, counted, monkeypatch):
    from sim.study import store as store_module
    list(run_units(grid(), store=tmp_path))
    monkeypatch.setattr(store_module, "code_version", lambda: "another version of the simulator")
    counted["n"] = 0
    assert by_key(run_units(grid(), store=tmp_path)) == reference
    assert counted["n"] == len(reference)             # nothing reused


def interrupting(units, after: int):
    """The units, then a Ctrl-C when the engine asks for unit number `after` (counting from 0)."""
    for i, unit in enumerate(units):
        if i == after:
            raise KeyboardInterrupt
        yield unit


def test_an_interrupted_run_keeps_k_units_and_resumes_identically(reference, tmp_path, counted, capsys):
    units = grid()
    with pytest.raises(KeyboardInterrupt):
        list(run_units(interrupting(units, 2), store=tmp_path))
    assert len(list(tmp_path.glob("*.json"))) == 2
    assert "--resume" in capsys.readouterr().err
    counted["n"] = 0
    assert by_key(run_units(units, store=tmp_path)) == reference
    assert counted["n"] == len(units) - 2


def test_a_failing_unit_keeps_the_finished_ones(reference, tmp_path, counted):
    counted["fail_at"] = 3
    with pytest.raises(RuntimeError, match="unit runner failed"):
        list(run_units(grid(), store=tmp_path))
    assert len(list(tmp_path.glob("*.json"))) == 2
    counted["n"], counted["fail_at"] = 0, None
    assert by_key(run_units(grid(), store=tmp_path)) == reference
    assert counted["n"] == 2


def test_an_interrupt_stops_the_worker_processes_and_the_rest_resumes(reference, tmp_path):
    units = grid() + grid(rates=(70.0, 110.0))[:2]          # 6 units: more than the window of 4
    yielded = []
    with pytest.raises(KeyboardInterrupt):
        for unit, _summary in run_units(interrupting(units, 5), workers=2, store=tmp_path):
            yielded.append(unit.key)
    assert not multiprocessing.active_children(), "the pool's processes are stopped"
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == sorted(yielded)
    assert 1 <= len(yielded) < 5
    resumed = by_key(run_units(units[:4], workers=2, store=tmp_path))
    assert resumed == reference


def test_a_generator_of_units_is_read_only_as_far_as_the_window(reference):
    pulled = {"n": 0}

    def units():
        for unit in grid() + grid():
            pulled["n"] += 1
            yield unit

    seen = 0
    for _unit, _summary in run_units(units(), workers=2):
        seen += 1
        assert pulled["n"] - seen <= 2 * 2           # at most `window` units in flight, never the whole list
    assert seen == 8


def test_map_on_keeps_the_order():
    args = [(3, i) for i in range(9)]
    assert map_on(pow, args, workers=2) == [3 ** i for i in range(9)]
    assert map_on(pow, args) == [3 ** i for i in range(9)]
    assert map_on(pow, []) == []


def test_the_progress_bar_draws_on_a_terminal_only():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = Progress(3, stream=stream)
        for ran in (False, True, True):
            bar.advance(ran)
        bar.close()
        bar.close()
    assert pipe.getvalue() == ""
    text = tty.getvalue()
    assert text.startswith("\r") and text.endswith("\n") and text.count("\n") == 1
    assert "3/3 units" in text and "/min" in text
    quiet = Tty()
    bar = Progress(3, stream=quiet, enabled=False)
    bar.advance()
    bar.close()
    assert quiet.getvalue() == ""


def test_the_progress_line_gives_rate_and_time_left():
    bar = Progress(10, stream=io.StringIO())
    bar.done, bar.ran = 4, 2                            # 2 read from the store, 2 run in 60 s
    line = bar.line(60.0)
    assert "4/10 units" in line and "2/min" in line and "3:00 left" in line


def test_the_scheduler_address_comes_from_the_flag_or_the_environment(monkeypatch):
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert scheduler_address(None) is None
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    assert scheduler_address(None) == "tcp://10.0.0.5:8786"
    assert scheduler_address("tcp://127.0.0.1:9999") == "tcp://127.0.0.1:9999"

    class Args:
        scheduler = None
    assert scheduler_address(Args()) == "tcp://10.0.0.5:8786"


def test_a_missing_dask_is_one_line(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "distributed", None)     # `import distributed` raises ImportError
    with pytest.raises(StudyError, match=r"pip install -e '\.\[dask\]'"):
        list(run_units(grid()[:1], scheduler="tcp://127.0.0.1:1"))
