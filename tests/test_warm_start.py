"""warm_start: the instances the autoscaler wants at the initial rate are ready at t = 0.

The count is checked against the policies' formulas computed here from the rate, the mean service time,
the concurrency and the targets; a steady run starts without the cold-start burst; warm instances go idle,
stop, and are shut down by a key's revocation like any other instance.
"""
from __future__ import annotations

import math

import pytest

from conftest import assert_invariants, base_service, make_scenario, run_once, service_summary, timeseries

RATE, SERVICE_TIME, CONCURRENCY, CPU_PER_REQUEST = 100.0, 0.5, 10, 0.05


def steady(policy: str = "cloud-run", **service) -> dict:
    svc = base_service(concurrency=CONCURRENCY, cpu=1, cpu_per_request=CPU_PER_REQUEST, max_instances=50,
                       service_time={"dist": "lognormal", "mean": SERVICE_TIME, "cv": 0.5},
                       autoscaling={"policy": policy}, traffic={"arrivals": "poisson", "rate": RATE})
    return make_scenario(service=svc | service, duration="2m", timeseries_interval="10s")


def expected_warm(policy: str, min_instances: int = 0, max_instances: int = 50) -> int:
    """The policy's desired count when the demand has held rate x mean service time for a window."""
    load = RATE * SERVICE_TIME
    if policy == "cloud-run":        # target_concurrency_utilization 0.6, target_cpu_utilization 0.6, cpu 1
        wanted = max(math.ceil(load / (CONCURRENCY * 0.6)), math.ceil(load * CPU_PER_REQUEST / (1 * 0.6)))
    elif policy == "knative":        # target_utilization 0.7
        wanted = math.ceil(load / (CONCURRENCY * 0.7))
    else:                            # per-request: the present demand / concurrency
        wanted = math.ceil(load / CONCURRENCY)
    return min(max_instances, max(min_instances, wanted))


def warm_rows(result) -> list[dict]:
    return [r for r in result.outputs[0].instances if r["requested_at"] is None]


@pytest.mark.parametrize("policy", ["cloud-run", "knative", "per-request"])
def test_the_warm_count_is_the_autoscalers_desired_count_at_the_initial_rate(policy):
    result = run_once(steady(policy, warm_start=True) | {"duration": "10s"})
    rows = warm_rows(result)
    assert expected_warm(policy) == {"cloud-run": 9, "knative": 8, "per-request": 5}[policy]
    assert len(rows) == expected_warm(policy)
    assert all(r["ready_at"] == 0 and r["startup_s"] is None and r["key_attempts"] == 0 for r in rows)


def test_the_count_is_clamped_to_min_and_max_instances():
    assert len(warm_rows(run_once(steady(warm_start=True, min_instances=12) | {"duration": "10s"}))) == 12
    assert len(warm_rows(run_once(steady(warm_start=True, max_instances=4) | {"duration": "10s"}))) == 4


def test_a_steady_run_starts_without_the_cold_start_burst():
    cold = run_once(steady())
    warm = run_once(steady(warm_start=True))
    first_minute = slice(0, 6)                                  # 10 s bins
    cold_starts = sum(timeseries(cold)["cold_starts"][first_minute])
    warm_starts = sum(timeseries(warm)["cold_starts"][first_minute])
    assert cold_starts >= expected_warm("cloud-run") and warm_starts <= 1, (cold_starts, warm_starts)
    assert timeseries(warm)["instances_ready"][0] == expected_warm("cloud-run")
    # without warm start the first requests wait for the first instances; with it none waits for a slot
    assert service_summary(warm)["pending_s"]["p99"] == 0 < service_summary(cold)["pending_s"]["p99"]
    assert service_summary(warm)["requests"]["failed_429"] == 0
    assert service_summary(warm)["cold_starts"]["count"] == warm_starts
    assert_invariants(warm)


def test_without_warm_start_min_instances_start_cold_at_zero():
    rows = run_once(steady(min_instances=3) | {"duration": "10s"}).outputs[0].instances
    at_zero = [r for r in rows if r["requested_at"] == 0]
    assert len(at_zero) == 3 and all(r["ready_at"] > 0 for r in at_zero) and not any(
        r["requested_at"] is None for r in rows)


@pytest.mark.parametrize("min_instances", [0, 2])
def test_warm_instances_go_idle_and_stop_after_idle_retention(min_instances):
    data = steady(warm_start=True, min_instances=min_instances, idle_retention="60s",
                  traffic={"arrivals": "poisson", "rate": [[0, RATE], [1, 0]]}) | {"duration": "3m"}
    rows = warm_rows(run_once(data))
    assert len(rows) == expected_warm("cloud-run", min_instances)
    idle = [r for r in rows if r["stop_reason"] == "idle"]
    kept = [r for r in rows if r["stop_reason"] == "end_of_run"]
    assert len(kept) == min_instances and len(idle) == len(rows) - min_instances
    # idle from their last request (the traffic stops within 1 s, requests last about 0.5 s): 60 s later
    assert all(60 <= r["stopped_at"] <= 60 + 1 + 5 for r in idle), [r["stopped_at"] for r in idle]


def test_warm_instances_are_shut_down_by_the_revocation_countdown():
    data = steady(warm_start=True, encryption_key="k", revocation_action="shut-down", shutdown_after="30s",
                  key_operations={"validation_interval": "20s"}) | {"duration": "90s"}
    data["faults"] = [{"at": "10s", "kind": "key-disable", "key": "k"}]
    result = run_once(data, baseline=False)
    rows = warm_rows(result)
    assert len(rows) == expected_warm("cloud-run")
    # the check at 20 s fails, the countdown ends 30 s later: every instance stops then
    assert all(r["stop_reason"] == "key_revocation" and r["stopped_at"] == pytest.approx(50, abs=1) for r in rows)
    assert service_summary(result)["instances"]["shut_down_by_key_revocation"] >= len(rows)
    assert_invariants(result)


def test_the_charts_leave_warm_instances_out_of_the_cold_starts(tmp_path):
    from sim.plots import cold_start_figure, write_charts
    from sim.results import write_results

    result = run_once(steady(warm_start=True, traffic={"arrivals": "poisson", "rate": [[0, RATE], [30, 3 * RATE]]})
                      | {"duration": "1m"})
    folder = write_results(result, tmp_path / "warm", plots=write_charts)
    assert (folder / "cold_start.png").exists() and (folder / "timeline.png").exists()
    figure = cold_start_figure(folder)
    cold = service_summary(result)["cold_starts"]["count"]
    assert cold > 0 and f"{cold:,} cold starts" in " ".join(ax.get_title() for ax in figure.axes)


class _Requests:          # the request path at t = 0: nothing has arrived yet
    demand, demand_area, cpu_area, cpu_in_use = 0, 0.0, 0.0, 0.0


class _Pool:
    def __init__(self, serving):
        self.serving = serving


@pytest.mark.parametrize("policy", ["cloud-run", "knative"])
def test_the_windows_hold_the_initial_demand_so_the_first_decision_keeps_the_warm_instances(policy):
    from sim.model.autoscaler import make_policy
    from sim.model.scaler import Scaler
    from sim.scenario import scenario_from_dict

    spec = scenario_from_dict(steady(policy, warm_start=True)).services[0]
    scaler = Scaler(None, spec, make_policy(spec), _Requests(), _Pool(expected_warm(policy)))
    assert scaler.warm_start(RATE) == expected_warm(policy)
    signals = scaler.signals(0.0)
    assert signals.stable_concurrency == pytest.approx(RATE * SERVICE_TIME)
    assert signals.panic_concurrency == pytest.approx(RATE * SERVICE_TIME)
    assert signals.cpu == pytest.approx(RATE * SERVICE_TIME * CPU_PER_REQUEST)
    assert scaler.policy.decide(0.0, signals) == expected_warm(policy)
    # without the warm start the same first look sees no demand (and would scale the instances in)
    cold = Scaler(None, spec, make_policy(spec), _Requests(), _Pool(expected_warm(policy)))
    assert cold.signals(0.0).stable_concurrency == 0
