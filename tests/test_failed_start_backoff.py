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


def test_failed_starts_back_off_exponentially_to_the_cap_on_demand_starts_too():
    # One instance at most, per-request scaling (every start is an on-demand start), requests every 0.1 s:
    # after the k-th failure the next start comes at the first request after min(max, 10 x 2^(k-1)).
    result = run_once(disabled_key_scenario({"policy": "per-request"}, duration="1500s", enable_at="1400s",
                                            max_instances=1))
    failed = failed_rows(result)
    assert len(failed) >= 8
    for k, (prev, nxt) in enumerate(zip(failed, failed[1:]), start=1):
        wait = min(300.0, 10.0 * 2 ** (k - 1))
        gap = nxt["requested_at"] - prev["stopped_at"]
        assert wait - 1e-9 <= gap <= wait + 0.1 + 1e-6, (k, gap)
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
    assert 50 <= refused <= 400                      # before the back-off: thousands (6,595 in issue 9)
    assert result.summary["runs"][0]["kms"]["operations"] < 1000
    # After the key is enabled, the service is back at its spike size within the cap (5 min) and a start.
    ready = timeseries_at(result, "instances_ready")
    enabled, cap = 24 * 60, 300
    assert max(v for t, v in ready if t < enabled) <= 5      # nothing new started while disabled
    assert max(v for t, v in ready if enabled + cap + 10 <= t < 2100) >= 45
    first_ready = min(r["ready_at"] for r in instance_rows(result)
                      if r["ready_at"] is not None and r["requested_at"] >= enabled)
    assert first_ready <= enabled + cap + 2 + 2


def timeseries_at(result, column: str) -> list[tuple[float, int]]:
    ts = result.outputs[0].timeseries["svc"]
    return [((b + 1) * 10.0, v) for b, v in enumerate(ts[column])]


def test_max_failed_start_backoff_keeps_its_meaning_and_wins_over_failed_start_backoff():
    both = {"max_failed_start_backoff": "16s", "failed_start_backoff": {"initial": "1m", "max": "10m"}}
    spec = scenario_from_dict(disabled_key_scenario(both)).services[0].autoscaling
    assert spec.start_backoff == (2.0, 16.0)
    assert scenario_from_dict(disabled_key_scenario({})).services[0].autoscaling.start_backoff == (10.0, 300.0)
    slow = run_once(disabled_key_scenario(both))
    # Starts launched before the first of them has failed (on-demand, one per waiting request, 0.1 s apart)
    # form one wave; waves are what the backoff spaces.
    times = attempt_times(slow)
    waves = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 1.0]
    late = [t for t in waves if 60 <= t < 200]
    gaps = [b - a for a, b in zip(late, late[1:])]
    assert len(gaps) >= 4 and min(gaps) >= 16.0 - 1e-9 and max(gaps) <= 16.0 + 2.0 + 1.1
    ready = [row["ready_at"] for row in instance_rows(slow) if row["ready_at"] is not None]
    assert ready and min(ready) < 200 + 16 + 2 + 1.1  # after key-enable: within one backoff, a decision, a start


@pytest.mark.parametrize("bad", [{"initial": 0}, {"initial": "1m", "max": "30s"}])
def test_failed_start_backoff_is_checked(bad):
    with pytest.raises(ScenarioError):
        scenario_from_dict(disabled_key_scenario({"failed_start_backoff": bad}))
