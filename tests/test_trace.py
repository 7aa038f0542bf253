"""Trace tests: tiny scenarios with constant distributions and exact expected timelines.

Start phases are 0.25 s each (ready 1.0 s after the request) and requests take 0.5 s unless a test says
otherwise; arrivals are deterministic, so every time below is exact. Exact times come from instances.csv
rows and from the bin a counter lands in; summary means are exact sums, percentiles come from a sketch
with 0.5% relative accuracy (compared with rel=0.01).
"""
import pytest

from conftest import assert_invariants, burst, instance_rows, make_scenario, nonzero_bins, run_once, service_summary, timeseries
from sim.model.kms import START_REASONS

EXACT = dict(abs=1e-9)


def test_cold_start_without_key_is_the_sum_of_the_phases():
    r = run_once(make_scenario(service={"max_instances": 1, "traffic": {"rate": burst(1)}}, duration="10s"))
    [row] = instance_rows(r)
    assert row["requested_at"] == 0.0
    assert row["ready_at"] == 1.0
    assert row["startup_s"] == 1.0
    assert row["kms_wait_s"] == 0.0 and row["key_attempts"] == 0
    assert (row["schedule_s"], row["image_fetch_s"], row["container_start_s"], row["app_init_s"]) == (
        0.25, 0.25, 0.25, 0.25)
    assert r.outputs[0].audit == []
    s = service_summary(r)
    assert s["cold_starts"]["count"] == 1
    assert s["cold_starts"]["latency_s"]["max"] == 1.0
    # the single request waited for the start, then ran 0.5 s
    assert s["requests"]["served"] == 1
    assert s["latency_s"]["mean"] == 1.5
    assert s["pending_s"]["mean"] == 1.0


def test_cold_start_with_key_adds_the_sequential_decrypts():
    """ready_at = schedule + image fetch + 2 decrypts (10 ms each) + container start + app init."""
    r = run_once(make_scenario(service={"encryption_key": "k", "max_instances": 1, "traffic": {"rate": burst(1)}},
                               kms={"latency": "10ms"}, duration="10s"))
    [row] = instance_rows(r)
    assert row["ready_at"] == pytest.approx(1.02, **EXACT)
    assert row["startup_s"] == pytest.approx(1.02, **EXACT)
    assert row["kms_wait_s"] == pytest.approx(0.02, **EXACT)
    assert row["key_operations_s"] == pytest.approx(0.02, **EXACT)
    assert row["key_attempts"] == 2
    # the decrypts come right after the image fetch, one after the other, with the two start reasons
    audit = r.outputs[0].audit
    assert [(round(t, 9), method, code, reason) for t, _svc, method, _key, code, _msg, reason in audit] == [
        (0.5, "Decrypt", 0, START_REASONS[0]), (0.51, "Decrypt", 0, START_REASONS[1])]
    s = service_summary(r)
    assert s["cold_starts"]["kms_wait_s"]["mean"] == pytest.approx(0.02, **EXACT)
    assert s["latency_s"]["mean"] == pytest.approx(1.52, **EXACT)
    assert r.summary["runs"][0]["kms"]["operations"] == 2


def test_decrypts_per_start_and_external_key_latency():
    """Three decrypts on an external key: each costs KMS latency + EKM round trip."""
    data = make_scenario(service={"encryption_key": "x", "key_operations": {"decrypts_per_start": 3},
                                  "max_instances": 1, "traffic": {"rate": burst(1)}},
                         keys=[{"id": "x", "name": "projects/acme-sec/locations/us-central1/keyRings/run/"
                                                   "cryptoKeys/ext", "protection": "external"}],
                         kms={"latency": "10ms", "ekm": {"latency": "40ms", "timeout": "150ms"}},
                         duration="10s")
    [row] = instance_rows(run_once(data))
    assert row["kms_wait_s"] == pytest.approx(3 * 0.05, **EXACT)
    assert row["ready_at"] == pytest.approx(1.0 + 3 * 0.05, **EXACT)
    assert row["key_attempts"] == 3


def test_a_retryable_key_error_is_retried_after_the_backoff():
    """Cloud KMS unavailable until 0.8 s: the first decrypt (0.5 s) fails, is retried 1 s after its answer
    (no jitter) at 1.51 and succeeds; the second decrypt ends at 1.53; ready at 2.03 after 3 attempts."""
    data = make_scenario(service={"encryption_key": "k", "max_instances": 1, "traffic": {"rate": burst(1)}},
                         kms={"latency": "10ms", "retry": {"initial_backoff": "1s", "jitter": 0}},
                         faults=[{"at": 0, "kind": "kms-outage", "duration": "0.8s"}], duration="10s")
    r = run_once(data)
    [row] = instance_rows(r)
    assert row["key_attempts"] == 3
    assert row["kms_wait_s"] == pytest.approx(1.03, **EXACT)
    assert row["ready_at"] == pytest.approx(2.03, **EXACT)
    codes = [(round(t, 9), code) for t, _svc, _m, _key, code, _msg, _reason in r.outputs[0].audit]
    assert codes == [(0.5, 14), (1.51, 0), (1.52, 0)]
    assert service_summary(r)["instance_starts_failed"] == dict.fromkeys(
        service_summary(r)["instance_starts_failed"], 0)


def test_pending_requests_are_served_in_order_after_the_cold_start():
    """DESIGN.md's example: arrivals 0, 0.1, 0.2; cold start 2 s; service 0.5 s; concurrency 1; max 1
    instance -> completions at exactly 2.5, 3.0, 3.5."""
    data = make_scenario(service={"max_instances": 1, "traffic": {"rate": burst(3, rate=10)},
                                  "startup": {"schedule": "0.5s", "image_fetch": "0.5s",
                                              "container_start": "0.5s", "app_init": "0.5s"}},
                         duration="6s", timeseries_interval="0.5s")
    r = run_once(data)
    ts = timeseries(r)
    assert nonzero_bins(ts["arrivals"]) == {0: 3}
    assert nonzero_bins(ts["served"]) == {5: 1, 6: 1, 7: 1}          # 2.5, 3.0, 3.5
    assert ts["pending"][:3] == [3, 3, 3]                             # sampled at 0.5, 1.0, 1.5
    assert ts["instances_starting"][:3] == [1, 1, 1]
    assert ts["instances_ready"][4:] == [1] * (len(ts["instances_ready"]) - 4)
    s = service_summary(r)
    assert s["requests"]["served"] == 3 and s["requests"]["in_flight_at_end"] == 0
    assert s["latency_s"]["mean"] == pytest.approx((2.5 + 2.9 + 3.3) / 3, **EXACT)
    assert s["pending_s"]["mean"] == pytest.approx((2.0 + 2.4 + 2.8) / 3, **EXACT)
    assert s["latency_s"]["p99"] == pytest.approx(3.3, rel=0.01)
    assert s["latency_s"]["p50"] == pytest.approx(2.9, rel=0.01)
    [row] = instance_rows(r)
    assert row["ready_at"] == 2.0


def test_429_exactly_at_the_pending_timeout():
    """Arrivals 0, 0.25, 0.5; one instance ready at 1.0; pending timeout 1.375 s: the first two are served
    (1.0-1.5, 1.5-2.0), the third has waited 1.375 s at 1.875 while the slot frees only at 2.0: 429."""
    data = make_scenario(service={"max_instances": 1, "pending_timeout": 1.375, "traffic": {"rate": burst(3)}},
                         duration="5s", timeseries_interval="0.125s")
    r = run_once(data)
    ts = timeseries(r)
    assert nonzero_bins(ts["failed_429"]) == {15: 1}                  # 1.875 / 0.125
    assert nonzero_bins(ts["served"]) == {12: 1, 16: 1}               # 1.5 and 2.0
    s = service_summary(r)["requests"]
    assert (s["arrived"], s["served"], s["failed_429"], s["failed_504"]) == (3, 2, 1, 0)
    assert service_summary(r)["pending_s"]["mean"] == pytest.approx((1.0 + 1.25) / 2, **EXACT)
    assert service_summary(r)["pending_timeout_s"] == 1.375


def test_zero_pending_timeout_fails_at_arrival():
    """pending_timeout 0: a request that finds no free slot fails with 429 at its arrival time."""
    data = make_scenario(service={"min_instances": 1, "max_instances": 1, "pending_timeout": 0,
                                  "traffic": {"rate": burst(6)}},
                         duration="5s", timeseries_interval="0.125s")
    r = run_once(data)
    ts = timeseries(r)
    # the instance is ready at 1.0: arrivals at 0, .25, .5, .75 fail at once; 1.0 is served; 1.25 finds the
    # slot busy (1.0-1.5) and fails
    assert nonzero_bins(ts["failed_429"]) == {0: 1, 2: 1, 4: 1, 6: 1, 10: 1}
    assert nonzero_bins(ts["served"]) == {12: 1}
    assert service_summary(r)["requests"]["failed_429"] == 5


def test_auto_pending_timeout_is_max_of_10s_and_3_5_mean_startups():
    short = run_once(make_scenario(service={"pending_timeout": "auto", "traffic": {"rate": 0}}, duration="5s"))
    assert service_summary(short)["pending_timeout_s"] == 10.0
    slow = {"schedule": "1s", "image_fetch": "1s", "container_start": "1s", "app_init": "1s"}
    long = run_once(make_scenario(service={"pending_timeout": "auto", "startup": slow, "traffic": {"rate": 0}},
                                  duration="5s"))
    assert service_summary(long)["pending_timeout_s"] == pytest.approx(14.0)
    boosted = run_once(make_scenario(service={"pending_timeout": "auto", "startup": slow, "startup_cpu_boost": True,
                                              "traffic": {"rate": 0}}, duration="5s"))
    assert service_summary(boosted)["pending_timeout_s"] == pytest.approx(3.5 * 3.5)


def test_504_at_the_request_timeout_frees_the_slot():
    """Service 2 s, request timeout 1.5 s, one instance ready at 1.0: the first request fails with 504 at
    2.5 and frees the slot; the second (arrived 0.25) runs from 2.5 and fails at 4.0."""
    data = make_scenario(service={"max_instances": 1, "service_time": "2s", "request_timeout": "1.5s",
                                  "traffic": {"rate": burst(2)}},
                         duration="8s", timeseries_interval="0.125s")
    r = run_once(data)
    ts = timeseries(r)
    assert nonzero_bins(ts["failed_504"]) == {20: 1, 32: 1}
    assert nonzero_bins(ts["served"]) == {}
    s = service_summary(r)
    assert (s["requests"]["served"], s["requests"]["failed_504"], s["requests"]["in_flight_at_end"]) == (0, 2, 0)
    assert s["latency_s"]["mean"] is None and s["latency_s"]["p99"] is None
    [row] = instance_rows(r)
    assert row["stopped_at"] is None                                   # the instance keeps running


@pytest.mark.parametrize("policy", ["cloud-run", "per-request"])
def test_idle_instance_stops_idle_retention_after_its_last_request(policy):
    """Arrivals 0, 0.25, 0.5 on one instance: the last request ends at 2.5; idle_retention 20 s -> 22.5."""
    data = make_scenario(service={"max_instances": 1, "idle_retention": "20s", "traffic": {"rate": burst(3)},
                                  "autoscaling": {"policy": policy, "window": "10s"}},
                         duration="40s", timeseries_interval="0.5s")
    r = run_once(data)
    [row] = instance_rows(r)
    assert (row["requested_at"], row["ready_at"], row["stopped_at"], row["stop_reason"]) == (
        0.0, 1.0, 22.5, "idle")
    ready = timeseries(r)["instances_ready"]
    # sampled at bin ends: 1.5 ... 22.0 one instance, 23.0 on none (1.0 and 22.5 are event instants)
    assert ready[2:44] == [1] * 42 and ready[45:] == [0] * (len(ready) - 45)


def test_min_instances_start_at_zero_and_never_stop():
    data = make_scenario(service={"min_instances": 2, "max_instances": 5, "idle_retention": "5s",
                                  "traffic": {"rate": 0}},
                         duration="30s")
    r = run_once(data)
    rows = instance_rows(r)
    assert [(x["requested_at"], x["ready_at"], x["stopped_at"], x["stop_reason"]) for x in rows] == [
        (0.0, 1.0, None, "end_of_run")] * 2
    ts = timeseries(r)
    assert ts["instances_starting"][0] == 2 and ts["instances_ready"][1:] == [2] * (len(ts["instances_ready"]) - 1)
    assert service_summary(r)["instances"]["mean_ready"] == pytest.approx(2 * 29 / 30)


def test_min_instances_stay_while_surplus_instances_go_idle():
    """A burst starts surplus instances on demand; they stop after idle_retention, the min ones never."""
    data = make_scenario(service={"min_instances": 2, "max_instances": 10, "idle_retention": "5s",
                                  "traffic": {"rate": burst(8)}, "autoscaling": {"window": "4s"}},
                         duration="40s")
    r = run_once(data)
    rows = instance_rows(r)
    assert len(rows) > 2
    mins = [x for x in rows if x["requested_at"] == 0.0]
    assert len(mins) >= 2
    running = [x for x in rows if x["stopped_at"] is None]
    assert len(running) == 2
    assert all(x["stop_reason"] == "idle" for x in rows if x["stopped_at"] is not None)
    assert timeseries(r)["instances_ready"][-1] == 2
    assert min(timeseries(r)["instances_ready"][1:]) >= 2


def test_startup_cpu_boost_halves_app_init():
    data = make_scenario(service={"startup_cpu_boost": True, "max_instances": 1, "traffic": {"rate": burst(1)}}, duration="5s")
    [row] = instance_rows(run_once(data))
    assert row["app_init_s"] == 0.125
    assert row["ready_at"] == 0.875
    data = make_scenario(service={"startup_cpu_boost": True, "startup_cpu_boost_factor": 0.8,
                                  "max_instances": 1, "traffic": {"rate": burst(1)}}, duration="5s")
    [row] = instance_rows(run_once(data))
    assert row["app_init_s"] == pytest.approx(0.2, **EXACT)


def test_deterministic_arrivals_are_evenly_spaced():
    r = run_once(make_scenario(service={"traffic": {"rate": 10}}, duration="5s", timeseries_interval="1s"))
    assert timeseries(r)["arrivals"] == [10] * 5
    assert service_summary(r)["requests"]["arrived"] == 50


def test_concurrency_slots_on_one_instance():
    """Concurrency 3, one instance: three requests run side by side, the fourth waits for a slot."""
    data = make_scenario(service={"concurrency": 3, "max_instances": 1, "traffic": {"rate": burst(4)}},
                         duration="5s", timeseries_interval="0.125s")
    r = run_once(data)
    # ready at 1.0: three start at 1.0 and end at 1.5; the fourth starts at 1.5 and ends at 2.0
    assert nonzero_bins(timeseries(r)["served"]) == {12: 3, 16: 1}
    assert service_summary(r)["latency_s"]["mean"] == pytest.approx((1.5 + 1.25 + 1.0 + 1.25) / 4, **EXACT)


def test_on_demand_off_waits_for_the_autoscaler():
    """Without on-demand starts the first instance is requested at the first decision that sees demand."""
    data = make_scenario(service={"max_instances": 1, "traffic": {"rate": burst(1)},
                                  "autoscaling": {"on_demand": False, "interval": "2s"}},
                         duration="10s")
    r = run_once(data)
    rows = instance_rows(r)
    assert rows[0]["requested_at"] == 2.0 and rows[0]["ready_at"] == 3.0
    assert service_summary(r)["latency_s"]["mean"] == 3.5


def test_zero_idle_retention_at_min_instances_does_not_loop():
    """idle_retention 0 with the instances at min_instances once re-armed the idle check at `now` forever (a
    zero-delay loop found by the property test): the run must end with min_instances kept at every moment."""
    data = make_scenario(service={"min_instances": 1, "max_instances": 3, "idle_retention": "0s",
                                  "traffic": {"rate": burst(4)}}, duration="10s")
    r = run_once(data)
    assert_invariants(r)                             # includes min <= ready + starting at every bin
    assert sum(1 for x in instance_rows(r) if x["stopped_at"] is None) == 1
    assert all(x["stop_reason"] == "idle" for x in instance_rows(r) if x["stopped_at"] is not None)
    assert service_summary(r)["requests"]["served"] == 4
