"""Autoscaling policies: the Knative KPA test vectors (DOMAIN.md section 4, from knative/serving
pkg/autoscaler/scaling/autoscaler_test.go), panic mode, scale-to-zero grace, the Cloud Run drivers'
arithmetic, and end-to-end runs that settle where the arithmetic says.
"""
import math

import pytest

from conftest import make_scenario, run_once, service_summary, timeseries
from sim.model.autoscaler import CloudRunPolicy, KnativePolicy, KpaState, PerRequestPolicy, Signals, kpa_desired
from sim.scenario import scenario_from_dict

KNATIVE_DEFAULTS = dict(max_scale_up_rate=1000.0, max_scale_down_rate=2.0, panic_threshold=2.0, stable_window=60.0)
KNATIVE_TEST_SPEC = dict(max_scale_up_rate=10.0, max_scale_down_rate=10.0, panic_threshold=2.0, stable_window=60.0)


def spec(**service):
    """A validated Service spec (the policies read their parameters from it)."""
    return scenario_from_dict(make_scenario(service=service)).services[0]


def signals(stable=0.0, panic=None, cpu=0.0, instant=0, ready=1) -> Signals:
    return Signals(stable_concurrency=stable, panic_concurrency=stable if panic is None else panic, cpu=cpu,
                   instant_concurrency=instant, ready=ready)


# -- KPA: the vectors of DOMAIN.md section 4 -----------------------------------------------------------------

@pytest.mark.parametrize("target, stable, panic, ready, expected, rates", [
    (10, 50, 10, 1, 5, {}),                                   # stable mode
    (10, 100, 10, 1, 10, {}),
    (10, 1000, 1001, 1, 10, {"max_scale_up_rate": 10.0}),     # rate limit up x10
    (10, 1, 1, 100, 10, {"max_scale_down_rate": 10.0}),       # rate limit down /10
    (10, 50, 100, 1, 10, {}),                                 # panic: the panic window wins
])
def test_kpa_vectors_from_a_fresh_state(target, stable, panic, ready, expected, rates):
    params = {**KNATIVE_DEFAULTS, **rates}
    assert kpa_desired(KpaState(), 0.0, target, stable, panic, ready, **params) == expected
    # the same vectors hold with the spec Knative's own tests use (rates 10 both ways)
    assert kpa_desired(KpaState(), 0.0, target, stable, panic, ready, **KNATIVE_TEST_SPEC) == expected


@pytest.mark.parametrize("stable, panic, expected", [(50, 30, 50), (20, 30, 30)])
def test_kpa_vectors_in_panic_take_the_larger_of_stable_and_panic(stable, panic, expected):
    """In panic since 5 s ago with max panic pods 5: (1, 50, 30, 5 -> 50) and (1, 20, 30, 5 -> 30)."""
    for params in (KNATIVE_DEFAULTS, KNATIVE_TEST_SPEC):
        state = KpaState(panic_since=95.0, max_panic_pods=5)
        assert kpa_desired(state, 100.0, 1, stable, panic, 5, **params) == expected
        assert state.panic_since == 100.0 and state.max_panic_pods == expected


@pytest.mark.parametrize("ready, stable, panic, rates, expected", [
    (0, 1000, 888, {}, 10),                                   # no ready pods: rate limits use one
    (2, 3, 3.1, {"max_scale_up_rate": 1.1}, 3),               # a small up rate still grows by one pod
    (100, 1, 1, {"max_scale_down_rate": 1.1}, 90),            # a small down rate: 100 / 1.1 -> 90
])
def test_kpa_rate_limit_edge_cases(ready, stable, panic, rates, expected):
    target = 1 if stable == 3 else 10
    assert kpa_desired(KpaState(), 0.0, target, stable, panic, ready, **{**KNATIVE_TEST_SPEC, **rates}) == expected


def test_kpa_exponential_track_in_panic():
    """Knative's TestAutoscalerPanicModeExponentialTrackAndStabilize: x6 per step, capped at x10."""
    state = KpaState()
    steps = [(0.0, 6, 1, 6), (1.0, 36, 6, 36), (2.0, 216, 36, 216), (2.0, 1296, 216, 1296), (3.0, 1296, 1296, 1296)]
    for now, conc, ready, expected in steps:
        assert kpa_desired(state, now, 1, conc, conc, ready, **KNATIVE_TEST_SPEC) == expected


def test_kpa_panic_holds_its_maximum_then_ends_after_a_stable_window():
    """Knative's TestAutoscalerPanicThenUnPanicScaleDown, tick by tick."""
    state = KpaState()
    assert kpa_desired(state, 0.0, 10, 100, 100, 1, **KNATIVE_TEST_SPEC) == 10   # 10 / 1 ready: panics too
    # the panic window jumps: panic, x10
    assert kpa_desired(state, 10.0, 10, 100, 1000, 10, **KNATIVE_TEST_SPEC) == 100
    assert state.panic_since == 10.0 and state.max_panic_pods == 100
    # traffic drops: still in panic, the count never decreases
    for now in range(12, 71, 2):
        assert kpa_desired(state, float(now), 10, 1, 1, 10, **KNATIVE_TEST_SPEC) == 100, now
        assert state.panic_since == 10.0
    assert state.max_panic_pods == 100       # at 70 (10 + 60) still in panic: panicTime + window is not before now
    # 61 s after the last time over the threshold: panic ends and the stable count (rate-limited) applies
    assert kpa_desired(state, 71.0, 10, 1, 1, 10, **KNATIVE_TEST_SPEC) == 1
    assert state.panic_since is None and state.max_panic_pods == 0


def test_kpa_panic_is_extended_while_over_the_threshold():
    """Knative's TestAutoscalerExtendPanicWindow and TestAutoscalerUnpanicAfterSlowIncrease."""
    state = KpaState()
    assert kpa_desired(state, 0.0, 1, 11, 25, 10, **KNATIVE_TEST_SPEC) == 25
    assert state.panic_since == 0.0
    assert kpa_desired(state, 30.0, 1, 30, 80, 40, **KNATIVE_TEST_SPEC) == 80     # still over: extended
    assert state.panic_since == 30.0

    state = KpaState()
    assert kpa_desired(state, 0.0, 1, 11, 25, 10, **KNATIVE_TEST_SPEC) == 25
    assert kpa_desired(state, 30.0, 1, 30, 41, 40, **KNATIVE_TEST_SPEC) == 41     # below: not extended
    assert state.panic_since == 0.0
    assert kpa_desired(state, 62.0, 1, 50, 56, 55, **KNATIVE_TEST_SPEC) == 50     # panic over
    assert state.panic_since is None


def test_kpa_exits_panic_only_strictly_after_the_stable_window():
    state = KpaState()
    kpa_desired(state, 0.0, 1, 1, 10, 1, **KNATIVE_DEFAULTS)                      # 10 / 1 >= 2: panic
    assert state.panic_since == 0.0
    assert kpa_desired(state, 60.0, 1, 1, 1, 10, **KNATIVE_DEFAULTS) == 10         # 0 + 60 is not before 60
    assert kpa_desired(state, 62.0, 1, 1, 1, 10, **KNATIVE_DEFAULTS) == 5          # ÷2 per tick once stable
    assert state.panic_since is None


# -- Knative policy: target, scale to zero ----------------------------------------------------------------

def test_knative_policy_target_is_concurrency_times_target_utilization():
    policy = KnativePolicy(spec(concurrency=100, autoscaling={"policy": "knative"}))
    assert policy.target == pytest.approx(70.0)
    assert policy.decide(0.0, signals(stable=140.0, panic=140.0, ready=2)) == 2
    assert policy.decide(2.0, signals(stable=141.0, panic=141.0, ready=2)) == 3


def test_knative_scale_to_zero_waits_for_the_grace_period():
    policy = KnativePolicy(spec(concurrency=10, autoscaling={"policy": "knative", "scale_to_zero_grace": "30s"}))
    assert policy.decide(0.0, signals(stable=5.0, ready=1)) == 1                 # last positive decision at 0
    assert policy.decide(2.0, signals(stable=0.0, ready=1)) == 1                 # keeps one instance ...
    assert policy.decide(29.0, signals(stable=0.0, ready=1)) == 1
    assert policy.decide(30.0, signals(stable=0.0, ready=1)) == 0                # ... until 30 s have passed
    fresh = KnativePolicy(spec(concurrency=10, autoscaling={"policy": "knative", "scale_to_zero_grace": "30s"}))
    assert fresh.decide(0.0, signals(stable=5.0, ready=1)) == 1
    assert fresh.decide(2.0, signals(stable=0.0, ready=0)) == 0                  # nothing ready: nothing kept


# -- Cloud Run drivers -----------------------------------------------------------------------------------

@pytest.mark.parametrize("concurrency, cpu, stable, cpu_used, expected", [
    (80, 1, 0.0, 0.0, 0),
    (80, 1, 48.0, 0.0, 1),          # exactly the target: 80 x 0.6 = 48 per instance
    (80, 1, 48.01, 0.0, 2),
    (80, 1, 100.0, 0.0, 3),         # concurrency driver: ceil(100 / 48)
    (80, 1, 100.0, 2.5, 5),         # CPU driver wins: ceil(2.5 / 0.6)
    (80, 2, 100.0, 2.5, 3),         # 2 vCPU: ceil(2.5 / 1.2) = 3 = concurrency driver
    (1, 1, 7.0, 0.0, 12),           # concurrency 1: ceil(7 / 0.6)
    (10, 1, 0.6, 0.0, 1),
])
def test_cloud_run_drivers(concurrency, cpu, stable, cpu_used, expected):
    policy = CloudRunPolicy(spec(concurrency=concurrency, cpu=cpu))
    assert policy.decide(0.0, signals(stable=stable, cpu=cpu_used, instant=999)) == expected


def test_cloud_run_targets_are_configurable():
    policy = CloudRunPolicy(spec(concurrency=50, cpu=1, autoscaling={"target_concurrency_utilization": 0.8,
                                                                    "target_cpu_utilization": 0.5}))
    assert policy.decide(0.0, signals(stable=81.0)) == 3                           # 81 / 40
    assert policy.decide(0.0, signals(stable=1.0, cpu=1.6)) == 4                   # 1.6 / 0.5


def test_per_request_policy_needs_what_the_requests_present_need():
    policy = PerRequestPolicy(spec(concurrency=2, autoscaling={"policy": "per-request"}))
    assert [policy.decide(0.0, signals(stable=99.0, instant=n)) for n in (0, 1, 2, 3, 5)] == [0, 1, 1, 2, 3]


# -- end to end ---------------------------------------------------------------------------------------------

LAMBDA, MEAN_SERVICE, CONCURRENCY = 100.0, 0.2, 10


def steady(policy: str, **service):
    return make_scenario(
        service={"concurrency": CONCURRENCY, "max_instances": 100, "idle_retention": "60s", "pending_timeout": "30s",
                 "service_time": {"dist": "exponential", "mean": MEAN_SERVICE}, "cpu_per_request": 0,
                 "traffic": {"arrivals": "poisson", "rate": LAMBDA}, "autoscaling": {"policy": policy}, **service},
        duration="600s", timeseries_interval="10s")


def test_cloud_run_desired_settles_at_the_concurrency_target():
    """lambda x mean service = 20 requests in flight; 10 x 0.6 = 6 per instance -> ceil(20 / 6) = 4."""
    expected = math.ceil(LAMBDA * MEAN_SERVICE / (CONCURRENCY * 0.6))
    assert expected == 4
    r = run_once(steady("cloud-run"))
    ts = timeseries(r)
    settled = ts["instances_desired"][12:]                                     # after 2 minutes
    assert set(settled) == {expected}
    assert service_summary(r)["requests"]["failed_429"] == 0


def test_cloud_run_cpu_driver_settles_at_the_cpu_target():
    """cpu_per_request 0.25, concurrency 80: 20 in flight use ~5 vCPU (at most 1 per instance) ->
    ceil(5 / 0.6) = 9 instances; the concurrency driver alone would ask for 1."""
    r = run_once(steady("cloud-run", concurrency=80, cpu_per_request=0.25))
    settled = timeseries(r)["instances_desired"][12:]
    assert min(settled) >= 8 and max(settled) <= 10
    assert sum(settled) / len(settled) == pytest.approx(9, abs=0.5)


def test_knative_desired_settles_at_the_kpa_target():
    """Target 10 x 0.7 = 7 per instance: ceil(20 / 7) = 3. On-demand starts are off: a request finding the
    30 slots full would otherwise start an instance and record it as desired, which is not the KPA's word."""
    r = run_once(steady("knative", autoscaling={"policy": "knative", "on_demand": False}))
    assert set(timeseries(r)["instances_desired"][12:]) == {3}


@pytest.mark.parametrize("policy, target", [("cloud-run", 0.6), ("knative", 0.7)])
def test_ready_instances_settle_near_desired(policy, target):
    expected = math.ceil(LAMBDA * MEAN_SERVICE / (CONCURRENCY * target))
    r = run_once(steady(policy))
    ready = timeseries(r)["instances_ready"][-6:]                              # the last minute
    assert max(ready) <= expected + 1
