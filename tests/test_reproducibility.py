"""Reproducibility and common random numbers: the same seed gives the same results, however the
replications are spread over processes; a fault or another autoscaling policy sees exactly the same
arrivals, and one service's changes never shift another service's draws.
"""
import pytest

from conftest import base_service, deep_merge, make_scenario, run_once
from sim.runner import run
from sim.scenario import scenario_from_dict

RAMP = {"arrivals": "poisson", "rate": [[0, 5], [20, 40], [60, 40], [80, 5]]}
STARTUP = {"schedule": {"dist": "lognormal", "median": "0.3s", "p99": "1.5s"},
           "image_fetch": {"dist": "exponential", "mean": "0.5s"}, "container_start": "0.2s",
           "app_init": {"dist": "lognormal", "median": "1s", "p99": "5s"}}


def cmek_scenario(**top):
    service = base_service(encryption_key="k", concurrency=4, max_instances=20, idle_retention="15s",
                           pending_timeout="auto", service_time={"dist": "lognormal", "mean": "0.2s", "cv": 1.2},
                           startup=STARTUP, traffic=RAMP, key_operations={"validation_interval": "20s"})
    data = make_scenario(services=[service], duration="120s", timeseries_interval="5s",
                         kms={"latency": {"dist": "lognormal", "median": "8ms", "p99": "40ms"}})
    return deep_merge(data, top)


def test_same_seed_same_results():
    a, b = run_once(cmek_scenario()), run_once(cmek_scenario())
    assert a.summary == b.summary
    assert a.outputs[0].timeseries == b.outputs[0].timeseries
    assert a.outputs[0].instances == b.outputs[0].instances
    assert a.outputs[0].audit == b.outputs[0].audit


def test_another_seed_other_results():
    a, b = run_once(cmek_scenario()), run_once(cmek_scenario(seed=2))
    assert a.outputs[0].timeseries["svc"]["arrivals"] != b.outputs[0].timeseries["svc"]["arrivals"]


def test_parallel_equals_sequential():
    sc = scenario_from_dict(cmek_scenario(faults=[{"at": "30s", "kind": "key-disable", "key": "k"}]))
    sequential = run(sc, replications=3, workers=1)
    parallel = run(sc, replications=3, workers=2)
    assert parallel.summary == sequential.summary
    for p, s in zip(parallel.outputs, sequential.outputs):
        assert p.timeseries == s.timeseries
        assert p.instances == s.instances and p.audit == s.audit and p.run_errors == s.run_errors
    assert parallel.baseline0.timeseries == sequential.baseline0.timeseries


def test_a_replication_does_not_depend_on_how_many_run():
    sc = scenario_from_dict(cmek_scenario())
    three, five = run(sc, replications=3), run(sc, replications=5)
    assert five.summary["runs"][:3] == three.summary["runs"]
    assert five.outputs[2].timeseries == three.outputs[2].timeseries
    assert three.summary["runs"][1] != three.summary["runs"][2]       # replications differ from each other


FAULTS = {
    "key-disable": [{"at": "30s", "kind": "key-disable", "key": "k"}, {"at": "70s", "kind": "key-enable", "key": "k"}],
    "kms-outage": [{"at": "25s", "kind": "kms-outage", "duration": "30s"}],
    "iam-revoke": [{"at": "20s", "kind": "iam-revoke", "key": "k"}],
    "quota-change": [{"at": "10s", "kind": "quota-change", "hsm_requests_per_minute": 60}],
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_leaves_the_arrivals_unchanged(fault):
    base = run_once(cmek_scenario())
    faulty = run_once(cmek_scenario(faults=FAULTS[fault]))
    assert faulty.outputs[0].timeseries["svc"]["arrivals"] == base.outputs[0].timeseries["svc"]["arrivals"]
    assert faulty.summary["runs"][0]["services"]["svc"]["requests"]["arrived"] == \
        base.summary["runs"][0]["services"]["svc"]["requests"]["arrived"]
    # the fault does change the run, and the fault-free twin is the plain run on the same streams
    assert faulty.outputs[0].timeseries != base.outputs[0].timeseries
    assert faulty.baseline0.timeseries == base.outputs[0].timeseries
    assert faulty.baseline0.summary["services"]["svc"]["requests"] == base.summary["runs"][0]["services"]["svc"]["requests"]


@pytest.mark.parametrize("change", [
    {"autoscaling": {"policy": "knative"}},
    {"autoscaling": {"policy": "per-request"}},
    {"routing": "random", "concurrency": 1},
    {"max_instances": 2, "pending_timeout": "1s"},
])
def test_another_policy_sees_the_same_arrivals(change):
    base = run_once(cmek_scenario())
    other_data = cmek_scenario()
    other_data["services"][0] = deep_merge(other_data["services"][0], change)
    other = run_once(other_data)
    assert other.outputs[0].timeseries["svc"]["arrivals"] == base.outputs[0].timeseries["svc"]["arrivals"]
    assert other.outputs[0].timeseries["svc"] != base.outputs[0].timeseries["svc"]


def test_one_service_never_shifts_another_services_draws():
    """Two services without keys do not interact: changing b leaves a's whole time series identical."""
    a = base_service(name="a", concurrency=2, service_time={"dist": "exponential", "mean": "0.3s"},
                     startup=STARTUP, traffic={"arrivals": "poisson", "rate": 15})
    b = base_service(name="b", concurrency=3, startup=STARTUP, traffic={"arrivals": "poisson", "rate": 25})
    one = run_once(make_scenario(services=[a, b], duration="90s"))
    b2 = deep_merge(b, {"concurrency": 1, "traffic": {"rate": 60}, "autoscaling": {"policy": "knative"},
                        "routing": "random"})
    two = run_once(make_scenario(services=[a, b2], duration="90s"))
    assert one.outputs[0].timeseries["a"] == two.outputs[0].timeseries["a"]
    assert one.summary["runs"][0]["services"]["a"] == two.summary["runs"][0]["services"]["a"]
    assert one.outputs[0].timeseries["b"] != two.outputs[0].timeseries["b"]
