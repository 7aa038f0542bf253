"""Every scenarios/*.yaml validates as it is and runs on a short horizon, keeping the invariants.

The list is read at collection time, so scenarios added later are covered without touching this file.
The short run keeps the file's services, keys and settings; faults at or after the horizon are left out
(the loader refuses a fault at or after the end of a run) and a long warmup is dropped.
"""
import pytest

from conftest import assert_invariants, load_short, shipped_scenarios
from sim.runner import run
from sim.scenario import load_scenario

SHIPPED = shipped_scenarios()
IDS = [p.stem for p in SHIPPED]
HORIZON = 300.0


def test_the_two_core_scenarios_are_shipped():
    assert {"steady", "morning-spike"} <= set(IDS)


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_scenario_validates_as_shipped(path):
    sc = load_scenario(path)
    assert sc.description.strip(), f"{path.name}: a shipped scenario says what it shows (description)"
    assert sc.name, path


@pytest.mark.parametrize("path", SHIPPED, ids=IDS)
def test_scenario_runs_on_a_short_horizon(path):
    sc = load_short(path, horizon=HORIZON)
    assert sc.duration == min(HORIZON, load_scenario(path).duration)
    result = run(sc, replications=1)
    assert_invariants(result)
    for spec in sc.services:
        s = result.summary["runs"][0]["services"][spec.name]
        assert s["requests"]["arrived"] > 0 or not _has_traffic(spec), spec.name


def _has_traffic(spec) -> bool:
    t = spec.traffic
    if t.trace_points is not None:
        return any(rps > 0 for _, rps in t.trace_points)
    return (t.rate > 0) if isinstance(t.rate, float) else any(rps > 0 for _, rps in t.rate)


def test_steady_has_no_key_and_a_constant_rate():
    sc = load_scenario(next(p for p in SHIPPED if p.stem == "steady"))
    assert all(s.encryption_key is None for s in sc.services)
    assert all(isinstance(s.traffic.rate, float) for s in sc.services)
    assert sc.faults == ()


def test_morning_spike_ramps_twenty_fold_on_an_hsm_key():
    sc = load_scenario(next(p for p in SHIPPED if p.stem == "morning-spike"))
    keys = {k.id: k for k in sc.keys}
    for s in sc.services:
        assert keys[s.encryption_key].protection == "hsm"
        rates = [rps for _, rps in s.traffic.rate]
        assert max(rates) == 20 * min(rates)
    assert 3600 <= sc.duration <= 7200
