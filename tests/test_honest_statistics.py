"""Intervals say what the replications can say: none from one replication, and bounds stored as computed
(a non-negative figure's lower bound can be below zero in summary.json; displays clip it)."""
from __future__ import annotations

from sim.metrics import aggregate_runs
from sim.runner import run
from sim.scenario import scenario_from_dict

SMALL = {"name": "honest", "duration": "2m", "seed": 5,
         "services": [{"name": "web", "traffic": {"rate": 3}}]}


def test_one_replication_has_null_bounds():
    agg = run(scenario_from_dict(SMALL), replications=1, baseline=False).summary["aggregate"]
    served = agg["services"]["web"]["requests"]["served"]
    assert served["mean"] > 0 and served["low"] is None and served["high"] is None
    assert agg["services"]["web"]["cost"]["total_usd"]["low"] is None
    assert agg["kms"]["quota_pools"] == {} or all(
        v["low"] is None for p in agg["kms"]["quota_pools"].values() for v in p.values() if isinstance(v, dict))


def test_two_replications_have_bounds_around_the_mean():
    agg = run(scenario_from_dict(SMALL), replications=2, baseline=False).summary["aggregate"]
    served = agg["services"]["web"]["requests"]["served"]
    assert served["low"] < served["mean"] < served["high"]


def test_a_bound_below_zero_of_a_count_is_stored_as_computed():
    agg = aggregate_runs([{"failed": 0}, {"failed": 0}, {"failed": 9}])
    assert agg["failed"]["mean"] == 3.0 and agg["failed"]["low"] < 0     # t interval: 3 -/+ 12.9
