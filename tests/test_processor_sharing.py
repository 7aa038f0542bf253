"""CPU contention: concurrent requests on one instance share its vCPUs (egalitarian processor sharing).

- exact traces with constant service times (the start path of conftest: ready 1.0 s after the request);
- M/G/1-PS theory: one instance, cpu 1, cpu_per_request 1, concurrency 1000: mean latency E[S] / (1 - rho)
  for exponential and lognormal service (insensitivity), and M/M/1-PS latency conditional on the service
  size linear in the size, E[T | S = x] = x / (1 - rho);
- overload: a fixed pool offered four times its vCPUs fails most requests instead of serving them;
- `cpu_model: unlimited` is the model without contention, and a service that cannot contend takes the
  same path whatever its cpu_model.
"""
import math

import numpy as np
import pytest

from conftest import make_scenario, nonzero_bins, run_once, service_summary, timeseries
from test_theory import NO_START, assert_inside, per_replication

EXACT = dict(abs=1e-9)


def shared_instance(rate, service_time="1s", **extra):
    """One instance (min = max = 1), cpu 1, cpu_per_request 1, room for 10 requests."""
    return make_scenario(service={"min_instances": 1, "max_instances": 1, "concurrency": 10, "cpu": 1,
                                  "cpu_per_request": 1, "service_time": service_time,
                                  "traffic": {"rate": rate}, **extra}, duration="20s")


TWO_AT_ONCE = [[0, 2], [0.75, 2], [0.76, 0]]                       # arrivals at 0 and 0.5
THIRD_MIDWAY = TWO_AT_ONCE + [[1.99, 0], [2.0, 2], [2.01, 0]]      # and one at 2.0


def test_two_requests_together_share_one_vcpu_and_both_take_two_seconds():
    """Both wait for the instance (ready at 1.0), start together and run at half speed: done at 3.0."""
    r = run_once(shared_instance(TWO_AT_ONCE))
    s = service_summary(r)
    assert s["requests"]["arrived"] == 2 and s["requests"]["served"] == 2
    assert nonzero_bins(timeseries(r)["served"]) == {3: 2}
    assert s["latency_s"]["mean"] == pytest.approx((3.0 + 2.5) / 2, **EXACT)
    assert s["pending_s"]["mean"] == pytest.approx((1.0 + 0.5) / 2, **EXACT)
    # one instance over its vCPU from 1.0 to 3.0
    assert s["cpu"]["saturated_instance_s"] == pytest.approx(2.0, **EXACT)


def test_a_third_request_midway_slows_the_other_two():
    """At 2.0 the two have done half their work (virtual time 0.5); with three sharing, each runs at 1/3:
    the two finish their remaining 0.5 s of work in 1.5 s (at 3.5), then the third, alone, does its
    remaining 0.5 s at full speed (at 4.0)."""
    r = run_once(shared_instance(THIRD_MIDWAY))
    s = service_summary(r)
    assert s["requests"]["arrived"] == 3 and s["requests"]["served"] == 3
    assert nonzero_bins(timeseries(r)["served"]) == {3: 2, 4: 1}
    assert s["latency_s"]["mean"] == pytest.approx((3.5 + 3.0 + 2.0) / 3, **EXACT)
    assert s["latency_s"]["p99"] == pytest.approx(3.5, rel=0.01)
    assert s["cpu"]["saturated_instance_s"] == pytest.approx(2.5, **EXACT)   # 1.0 to 3.5


def test_unlimited_cpu_keeps_each_request_at_its_service_time():
    r = run_once(shared_instance(THIRD_MIDWAY, cpu_model="unlimited"))
    s = service_summary(r)
    assert s["latency_s"]["mean"] == pytest.approx((2.0 + 1.5 + 1.0) / 3, **EXACT)
    assert s["cpu"]["saturated_instance_s"] == pytest.approx(1.0, **EXACT)   # demand over cpu, not served so


def test_request_timeout_under_sharing_fails_with_504_at_the_timeout():
    """The trace above with a 2.4 s request timeout: the first two (started at 1.0, due at 3.5) fail with
    504 at 3.4, and the third, alone from then, finishes its work at full speed."""
    r = run_once(shared_instance(THIRD_MIDWAY, request_timeout="2.4s"))
    s = service_summary(r)
    assert s["requests"]["failed_504"] == 2 and s["requests"]["served"] == 1
    ts = timeseries(r)
    assert nonzero_bins(ts["failed_504"]) == {3: 2}
    # the third: 1.4/3 s of its work done by 3.4 (sharing with two), the rest (1 - 1.4/3) alone
    third_end = 3.4 + (1 - 1.4 / 3)
    assert s["latency_s"]["mean"] == pytest.approx(third_end - 2.0, **EXACT)
    assert ts["in_flight"][5] == 0 and s["requests"]["in_flight_at_end"] == 0


def ps_scenario(lam, service_time, reps=10, duration=1000, cpu_model="shared"):
    return make_scenario(
        service={"min_instances": 1, "max_instances": 1, "concurrency": 1000, "pending_timeout": "1h",
                 "cpu": 1, "cpu_per_request": 1, "cpu_model": cpu_model, "service_time": service_time,
                 "startup": NO_START, "request_timeout": "1h",
                 "traffic": {"arrivals": "poisson", "rate": lam}},
        duration=duration, warmup=50, timeseries_interval="1s", replications=reps, seed=11)


@pytest.mark.parametrize("service_time", [{"dist": "exponential", "mean": 0.1},
                                          {"dist": "lognormal", "mean": 0.1, "cv": 1.5}],
                         ids=["exponential", "lognormal"])
def test_one_instance_is_m_g_1_processor_sharing(service_time):
    lam, es = 7.0, 0.1
    rho = lam * es
    r = run_once(ps_scenario(lam, service_time, reps=12, duration=2000))
    assert sum(per_replication(r, ["requests", "failed_429"])) == 0
    assert sum(per_replication(r, ["requests", "failed_504"])) == 0
    assert_inside(es / (1 - rho), per_replication(r, ["latency_s", "mean"]),
                  f"M/G/1-PS mean latency ({service_time['dist']})")


def test_m_m_1_ps_latency_given_size_is_linear_in_size():
    """E[T | S = x] = x / (1 - rho): run the model by hand to see each request's size and latency."""
    from sim.model.world import World
    from sim.scenario import scenario_from_dict
    from sim.model import requests as rq

    lam, es = 6.0, 0.1
    rho = lam * es
    sc = scenario_from_dict(ps_scenario(lam, {"dist": "exponential", "mean": es}, reps=1, duration=4000))
    seen = []
    leave, complete = rq.RequestPath._leave, rq.RequestPath._complete

    def spy_leave(self, req, inst, now):              # a request leaving a shared instance
        if req.arrival >= 50:
            seen.append((req.service_time, now - req.start))
        leave(self, req, inst, now)

    def spy_complete(self, event):                    # a request ending on the plain path (rate 1)
        req = event.value
        inst = req.instance
        if req.arrival >= 50 and req in inst.requests and not inst.ps_on:
            seen.append((req.service_time, self.env.now - req.start))
        complete(self, event)

    rq.RequestPath._leave, rq.RequestPath._complete = spy_leave, spy_complete
    try:
        World(sc, 0).run()
    finally:
        rq.RequestPath._leave, rq.RequestPath._complete = leave, complete
    sizes, lat = np.array(seen).T
    edges = [0, 0.05, 0.1, 0.2, 0.4]
    for lo, hi in zip(edges, edges[1:]):
        m = (sizes >= lo) & (sizes < hi)
        ratio = lat[m] / sizes[m]
        mean = ratio.mean()
        # the ratio T / S per bucket is 1 / (1 - rho) = 2.5 in expectation whatever the size
        print(f"size [{lo}, {hi}): n={m.sum()}, mean T/S {mean:.3f} (theory {1 / (1 - rho):.3f})")
        assert mean == pytest.approx(1 / (1 - rho), rel=0.12), (lo, hi, mean)


def test_overload_fails_most_requests_instead_of_serving_them():
    """Two instances of 1 vCPU offered 8 vCPU of work (80 req/s of 100 ms at 1 vCPU each)."""
    data = make_scenario(service={"min_instances": 2, "max_instances": 2, "concurrency": 80, "cpu": 1,
                                  "cpu_per_request": 1, "service_time": "100ms", "pending_timeout": "10s",
                                  "request_timeout": "10s", "startup": NO_START,
                                  "traffic": {"arrivals": "poisson", "rate": 80}},
                         duration="300s", warmup="30s")
    s = service_summary(run_once(data))
    req = s["requests"]
    failed = req["failed_429"] + req["failed_504"]
    assert failed > 0.5 * req["arrived"], req
    assert req["served"] / 270 <= 2 / 0.1 * 1.05        # no more than the vCPUs can serve
    unlimited = service_summary(run_once(make_scenario(**{**data, "services": [
        {**data["services"][0], "cpu_model": "unlimited"}]})))
    assert unlimited["requests"]["failed_429"] + unlimited["requests"]["failed_504"] == 0
    assert unlimited["latency_s"]["p99"] < 0.2


def test_a_service_that_cannot_contend_is_unchanged_by_cpu_model():
    """concurrency x cpu_per_request <= cpu: shared and unlimited give the same summary, bit for bit."""
    base = {"concurrency": 4, "cpu": 1, "cpu_per_request": 0.25, "service_time": {"dist": "exponential",
                                                                                   "mean": 0.2},
            "traffic": {"arrivals": "poisson", "rate": 30}}
    a = run_once(make_scenario(service={**base, "cpu_model": "shared"}, duration="120s")).summary["runs"]
    b = run_once(make_scenario(service={**base, "cpu_model": "unlimited"}, duration="120s")).summary["runs"]
    assert a == b
