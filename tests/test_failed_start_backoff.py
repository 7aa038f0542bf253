"""autoscaling.max_failed_start_backoff: after failed starts in a row, new starts back off (an assumption
knob: no public source gives Cloud Run's cadence); 0, the default, retries at every autoscaler decision."""
from __future__ import annotations

from conftest import instance_rows, make_scenario, run_once, service_summary


def disabled_key_scenario(backoff: str) -> dict:
    return make_scenario(
        service={"encryption_key": "k", "max_instances": 5,
                 "autoscaling": {"max_failed_start_backoff": backoff}},
        duration="300s",
        faults=[{"at": "0s", "kind": "key-disable", "key": "k"}, {"at": "200s", "kind": "key-enable", "key": "k"}])


def attempt_times(result) -> list[float]:
    return sorted({row["requested_at"] for row in instance_rows(result) if row["start_error"]})


def test_default_retries_at_every_decision():
    times = attempt_times(run_once(disabled_key_scenario("0s")))
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= 2.0 + 1e-9                   # the autoscaler decides every 2 s and starts again


def test_backoff_spaces_attempts_up_to_its_maximum_and_recovers_after_the_key_heals():
    slow, fast = run_once(disabled_key_scenario("16s")), run_once(disabled_key_scenario("0s"))
    # Starts launched before the first of them has failed (on-demand, one per waiting request, 0.1 s apart)
    # form one wave; waves are what the backoff spaces.
    times = attempt_times(slow)
    waves = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 1.0]
    late = [t for t in waves if 60 <= t < 200]
    gaps = [b - a for a, b in zip(late, late[1:])]
    assert len(gaps) >= 4 and min(gaps) >= 16.0 - 1e-9   # once backed off to the cap, waves are >= 16 s apart
    failed = service_summary(slow)["instance_starts_failed"]["key_disabled"]
    assert failed < service_summary(fast)["instance_starts_failed"]["key_disabled"] / 3
    ready = [row["ready_at"] for row in instance_rows(slow) if row["ready_at"] is not None]
    assert ready and min(ready) < 200 + 16 + 2 + 1.1  # after key-enable: within one backoff, a decision, a start
