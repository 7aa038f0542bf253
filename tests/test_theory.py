"""Theory tests: the simulator against queueing results, asserted against confidence intervals.

- fixed pool (min = max = c, concurrency 1, no key): M/M/c. Mean pending time against Erlang C, mean busy
  instances against lambda / mu, mean number in system against L = lambda Wq + lambda / mu.
- the same pool with pending_timeout 0: Erlang B blocking (for exponential and lognormal service times:
  Erlang B is insensitive to the service distribution).
- per-request instances without a cap and a 4 ms start: M/M/inf, mean busy instances = lambda / mu.
- Little's law on every shipped scenario, on a short horizon.

Each replication is one independent sample (streams of (seed, r)); the intervals are Student-t over the
replications. Theory must lie inside the simulated 99% interval (plus, where stated, a bound on a known
bias), so a fixed seed never sits at the edge by chance.
"""
import math

import numpy as np
import pytest
from scipy import stats

from conftest import load_short, make_scenario, run_once, shipped_scenarios

NO_START = {"schedule": "0s", "image_fetch": "0s", "container_start": "0s", "app_init": "0s"}


def erlang_b(c: int, a: float) -> float:
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    b = erlang_b(c, a)
    return c * b / (c - a * (1 - b))


def ci(values, confidence=0.99):
    xs = np.asarray(values, dtype=float)
    mean = xs.mean()
    half = stats.t.ppf(0.5 + confidence / 2, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size)
    return mean, mean - half, mean + half


def assert_inside(theory, values, label, slack_low=0.0, slack_high=0.0, confidence=0.99):
    mean, low, high = ci(values, confidence)
    print(f"{label}: theory {theory:.6g}, simulated {mean:.6g} [{low:.6g}, {high:.6g}] ({confidence:.0%} CI, "
          f"n={len(values)})")
    assert low - slack_low <= theory <= high + slack_high, (label, theory, mean, low, high)
    return mean, low, high


def pool(c, lam, mean_service, pending_timeout, service_time=None, reps=10, duration=1000):
    return make_scenario(
        service={"min_instances": c, "max_instances": c, "concurrency": 1, "pending_timeout": pending_timeout,
                 "service_time": service_time or {"dist": "exponential", "mean": mean_service},
                 "startup": NO_START, "cpu_per_request": 0,
                 "traffic": {"arrivals": "poisson", "rate": lam}},
        duration=duration, warmup=20, timeseries_interval="1s", replications=reps, seed=11)


def per_replication(result, path):
    out = []
    for run in result.summary["runs"]:
        node = run["services"]["svc"]
        for key in path:
            node = node[key]
        out.append(node)
    return out


def test_fixed_pool_is_m_m_c():
    c, lam, mu = 4, 30.0, 10.0
    a = lam / mu
    wq = erlang_c(c, a) / (c * mu - lam)
    r = run_once(pool(c, lam, 1 / mu, "1h"))
    assert sum(per_replication(r, ["requests", "failed_429"])) == 0
    assert_inside(wq, per_replication(r, ["pending_s", "mean"]), "M/M/4 mean wait (Erlang C)")
    # utilisation: busy instances sampled at every bin end after the warmup, vs lambda / mu
    busy = [np.mean(out.timeseries["svc"]["in_flight"][20:]) for out in r.outputs]
    assert_inside(a, busy, "M/M/4 mean busy instances (lambda/mu)")
    assert_inside(a / c, [b / c for b in busy], "M/M/4 utilisation lambda/(c mu)")
    assert_inside(lam * wq + a, per_replication(r, ["requests", "mean_in_system"]), "M/M/4 L = lambda Wq + a")
    assert all(m == pytest.approx(c) for m in per_replication(r, ["instances", "mean_ready"]))


@pytest.mark.parametrize("service_time", [
    {"dist": "exponential", "mean": 0.1},
    {"dist": "lognormal", "mean": 0.1, "cv": 2.0},
], ids=["exponential", "lognormal"])
def test_no_waiting_is_erlang_b(service_time):
    c, lam, mu = 5, 40.0, 10.0
    r = run_once(pool(c, lam, 1 / mu, 0, service_time=service_time, reps=8, duration=600))
    blocked = [run["services"]["svc"]["requests"]["failed_429"] / run["services"]["svc"]["requests"]["arrived"]
               for run in r.summary["runs"]]
    assert_inside(erlang_b(c, lam / mu), blocked, f"M/G/5/5 blocking (Erlang B), {service_time['dist']}")
    assert sum(per_replication(r, ["pending_s", "p99"])) == 0       # nobody waits


def test_unlimited_per_request_instances_are_m_m_inf():
    """Every request gets its own instance (4 ms start): busy instances ~ lambda / mu. A request waits at
    most the 4 ms start, which adds at most lambda x 4 ms to the number in system."""
    lam, mean_service = 20.0, 1.0
    startup = {"schedule": "1ms", "image_fetch": "1ms", "container_start": "1ms", "app_init": "1ms"}
    data = make_scenario(
        service={"concurrency": 1, "min_instances": 0, "max_instances": 1000, "startup": startup,
                 "pending_timeout": "1h", "idle_retention": "60s", "cpu_per_request": 0,
                 "service_time": {"dist": "exponential", "mean": mean_service},
                 "autoscaling": {"policy": "per-request"}, "traffic": {"arrivals": "poisson", "rate": lam}},
        duration=1000, warmup=100, replications=6, seed=5)
    r = run_once(data)
    assert_inside(lam * mean_service, per_replication(r, ["requests", "mean_in_system"]),
                  "M/M/inf mean busy instances (lambda/mu)", slack_low=lam * 0.004)
    assert max(per_replication(r, ["pending_s", "p99"])) <= 0.004 * 1.01


# -- Little's law on every shipped scenario -------------------------------------------------------------------

def little_terms(service_summary, spec, pending_timeout, span):
    """(L measured, L from the outcomes): served requests spend their latency in the system, 429s their
    pending timeout, 504s at least the request timeout."""
    req = service_summary["requests"]
    served_time = req["served"] * (service_summary["latency_s"]["mean"] or 0.0)
    failed_time = req["failed_429"] * pending_timeout + req["failed_504"] * spec.request_timeout
    return req["mean_in_system"], (served_time + failed_time) / span


SHIPPED = shipped_scenarios()


@pytest.mark.skipif(not SHIPPED, reason="no scenarios/*.yaml yet")
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_littles_law_on_shipped_scenarios(path):
    sc = load_short(path, horizon=300)
    from sim.runner import run
    r = run(sc, replications=1, baseline=False)
    span = sc.duration - sc.warmup
    for spec in sc.services:
        s = r.summary["runs"][0]["services"][spec.name]
        measured, predicted = little_terms(s, spec, s["pending_timeout_s"], span)
        req = s["requests"]
        # requests still in the system at the end (and cut by a shutdown) carry an unknown part of their time;
        # allow each of them the longest time a served request took
        edge = (req["in_flight_at_end"] + req["failed_shutdown"]) * (s["latency_s"]["p99"] or 0.0) / span
        print(f"{path.stem}/{spec.name}: L = {measured:.5g}, sum of times / span = {predicted:.5g}, "
              f"edge allowance {edge:.3g}")
        assert measured == pytest.approx(predicted, rel=0.02, abs=edge + 1e-6)
