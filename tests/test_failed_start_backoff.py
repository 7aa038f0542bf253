"""autoscaling.failed_start_backoff (DOMAIN.md section 9, an assumption): after k failed starts in a row a
service makes no new start, decided or on demand, before min(max, initial x 2^(k-1)) after the last failure
(default 10 s doubling to 5 min, Kubernetes' back-off), and never before the autoscaler's next decision; a
successful start resets it. The older key `max_failed_start_backoff` (> 0) means {initial: interval, max: it}
and wins when both are given."""
from __future__ import annotations

import pytest

from sim.scenario import ScenarioError, scenario_from_dict

from conftest import instance_rows, make_scenario, run_once, service_summary


def disabled_key_scenario(autoscaling: dict, duration: str = "300s", enable_at: str = "200s", **svc) -> dict:
    return make_scenario(
        service={"encryption_key": "k", "max_instances": 5, "autoscaling": autoscaling, **svc},
        duration=duration,
        faults=[{"at": "0s", "kind": "key-disable", "key": "k"}, {"at": enable_at, "kind": "key-enable", "key": "k"}])


def failed_rows(result) -> list[dict]:
    return [row for row in instance_rows(result) if row["start_error"]]


def attempt_times(result) -> list[float]:
    return sorted({row["requested_at"] for row in failed_rows(result)})


@pytest.mark.parametrize("jitter", [0.0, 0.1, 0.3])
def test_failed_starts_back_off_exponentially_to_the_cap_on_demand_starts_too(jitter):
    # One instance at most, per-request scaling (every start is an on-demand start), requests every 0.1 s:
    # after the k-th failure the next start comes at the first request after min(max, 10 x 2^(k-1)),
    # stretched or shrunk by at most the jitter.
    result = run_once(disabled_key_scenario({"policy": "per-request",
                                             "failed_start_backoff": {"jitter": jitter}},
                                            duration="1500s", enable_at="1400s", max_instances=1))
    failed = failed_rows(result)
    assert len(failed) >= 8
    gaps = []
    for k, (prev, nxt) in enumerate(zip(failed, failed[1:]), start=1):
        wait = min(300.0, 10.0 * 2 ** (k - 1))
        gap = nxt["requested_at"] - prev["stopped_at"]
        gaps.append(gap / wait)
        assert wait * (1 - jitter) - 1e-9 <= gap <= wait * (1 + jitter) + 0.1 + 1e-6, (k, gap)
    if jitter:
        assert max(gaps) - min(gaps) > jitter / 4      # the jitter is drawn, not a constant factor
    assert service_summary(result)["instance_starts_failed"]["key_disabled"] == len(failed)


def test_a_key_disabled_for_20_minutes_during_a_spike_costs_a_few_hundred_starts_and_recovers_within_the_cap():
    # 30 req/s of 1 s requests at concurrency 1: about 50 instances at the 0.6 target. The key is disabled
    # at 4 min, the spike runs from 5 to 35 min, the key comes back at 24 min.
    data = make_scenario(
        service={"encryption_key": "k", "max_instances": 100, "service_time": "1s", "idle_retention": "15m",
                 "traffic": {"arrivals": "deterministic",
                             "rate": [[0, 1], [300, 1], [301, 30], [2100, 30], [2101, 1]]}},
        duration="40m", timeseries_interval="10s",
        faults=[{"at": "4m", "kind": "key-disable", "key": "k"}, {"at": "24m", "kind": "key-enable", "key": "k"}])
    result = run_once(data, baseline=False)
    s = service_summary(result)
    refused = s["instance_starts_failed"]["key_disabled"]
    # Hundreds, not thousands: each of the (up to 95) missing instances retries at 10, 20, 40, 80, 160 s,
    # then every 5 min (before any back-off: 6,595 in issue 9).
    assert 50 <= refused < 1000
    assert result.summary["runs"][0]["kms"]["operations"] < 2000
    # After the key is enabled, the service is back at its spike size within the cap (5 min) and a start.
    ready = timeseries_at(result, "instances_ready")
    enabled, cap = 24 * 60, 300
    assert max(v for t, v in ready if t < enabled) <= 5      # nothing new started while disabled
    assert max(v for t, v in ready if enabled + cap + 10 <= t < 2100) >= 45
    first_ready = min(r["ready_at"] for r in instance_rows(result)
                      if r["ready_at"] is not None and r["requested_at"] >= enabled)
    assert first_ready <= enabled + cap + 2 + 2


def timeseries_at(result, column: str, interval: float = 10.0) -> list[tuple[float, int]]:
    ts = result.outputs[0].timeseries["svc"]
    return [((b + 1) * interval, v) for b, v in enumerate(ts[column])]


def test_max_failed_start_backoff_keeps_its_meaning_and_wins_over_failed_start_backoff():
    both = {"max_failed_start_backoff": "16s", "failed_start_backoff": {"initial": "1m", "max": "10m", "jitter": 0}}
    spec = scenario_from_dict(disabled_key_scenario(both)).services[0].autoscaling
    assert spec.start_backoff == (2.0, 16.0)
    assert scenario_from_dict(disabled_key_scenario({})).services[0].autoscaling.start_backoff == (10.0, 300.0)
    # One missing instance at most: its retries come 2, 4, 8, 16, 16, ... s after each failure (at the first
    # request or decision after that), and it is ready within one wait, a decision and a start of key-enable.
    slow = run_once(disabled_key_scenario({**both, "policy": "per-request"}, max_instances=1))
    failed = failed_rows(slow)
    assert [row["failed_starts_before"] for row in failed] == list(range(len(failed)))
    for k, (prev, nxt) in enumerate(zip(failed, failed[1:]), start=1):
        wait = min(16.0, 2.0 * 2 ** (k - 1))
        assert wait - 1e-9 <= nxt["requested_at"] - prev["stopped_at"] <= wait + 0.1 + 1e-6, k
    ready = [row["ready_at"] for row in instance_rows(slow) if row["ready_at"] is not None]
    assert ready and min(ready) < 200 + 16 + 2 + 1.1


@pytest.mark.parametrize("bad", [{"initial": 0}, {"initial": "1m", "max": "30s"}])
def test_failed_start_backoff_is_checked(bad):
    with pytest.raises(ScenarioError):
        scenario_from_dict(disabled_key_scenario({"failed_start_backoff": bad}))


def test_a_key_disabled_for_20_seconds_during_a_step_recovers_within_seconds_of_its_return():
    # Issue 17: a step from 2 to 60 req/s of 0.4 s requests (about 40 new instances) while the key is
    # disabled for 20 s. The ~40 starts fail in parallel; counted per service the back-off reached its 5-minute
    # cap and 38% of requests failed. Per missing instance each waits 10 s +/- 10% after its one failure.
    data = make_scenario(
        service={"encryption_key": "k", "max_instances": 100, "service_time": "0.4s", "idle_retention": "15m",
                 "pending_timeout": "auto",
                 "traffic": {"arrivals": "poisson", "rate": [[0, 2], [299, 2], [300, 60], [900, 60]]}},
        duration="15m", timeseries_interval="5s",
        faults=[{"at": "295s", "kind": "key-disable", "key": "k"}, {"at": "315s", "kind": "key-enable", "key": "k"}])
    result = run_once(data, baseline=False)
    s = service_summary(result)
    assert s["instance_starts_failed"]["key_disabled"] >= 30          # the wave did fail
    assert s["requests"]["failed_fraction"] < 0.03
    ready = timeseries_at(result, "instances_ready", interval=5.0)
    assert min(v for t, v in ready if 315 + 20 <= t < 900) >= 40       # back at size within 20 s of enable


def test_kms_quota_burst_with_fast_starts_keeps_its_capacity_and_its_replications_agree():
    # Issue 17: with start phases at about a tenth of their defaults a wave of starts meets the HSM quota
    # within half a second; with the per-service back-off only ~35 of the wanted instances became ready and
    # 44% vs 50% of requests failed in two replications. Per missing instance, with jitter, the retries spread
    # over the quota's seconds.
    import yaml
    from sim.scenario import scenario_from_dict
    from sim.runner import run
    from conftest import SCENARIOS_DIR

    data = yaml.safe_load((SCENARIOS_DIR / "kms-quota-burst.yaml").read_text())
    data["duration"] = "25m"
    data["services"][0]["startup"] = {
        "schedule": {"dist": "lognormal", "median": "30ms", "p99": "150ms"},
        "image_fetch": {"dist": "lognormal", "median": "80ms", "p99": "400ms"}, "container_start": "20ms",
        "app_init": {"dist": "lognormal", "median": "100ms", "p99": "500ms"}}
    runs = run(scenario_from_dict(data), baseline=False).summary["runs"]
    shares = [r["services"]["catalog"]["requests"]["failed_fraction"] for r in runs]
    assert len(runs) == 2 and max(shares) < 0.02 and abs(shares[0] - shares[1]) < 0.03
    assert min(r["services"]["catalog"]["instances"]["peak_ready"] for r in runs) >= 100
    assert min(r["services"]["catalog"]["instance_starts_failed"]["quota_exceeded"] for r in runs) > 0
