"""Idle minimum instances under request-based billing (issue 17, point 3): Cloud Run bills the instances kept
idle by min_instances at its idle rate; busy instances count towards the minimum first, idle instances above
it are not billed, and no time is billed at both rates (model/billing.py, sim/cost.py)."""
from __future__ import annotations

import math

import pytest

from sim.model.billing import BillingClock
from sim.runner import run
from sim.scenario import ScenarioError, scenario_from_dict

IDLE_CPU, IDLE_GIB = 0.0000025, 0.0000025      # the defaults: Tier 1 list prices, cloud.google.com/run/pricing


def cost_of(data: dict) -> dict:
    summary = run(scenario_from_dict(data), replications=1, baseline=False).summary
    return summary["runs"][0]["services"]["web"]["cost"]


def quiet(**service) -> dict:
    """10 minimum instances (1 vCPU, 512 MiB) for an hour with no request at all."""
    svc = {"name": "web", "min_instances": 10, "cpu": 1, "memory": "512Mi",
           "startup": {"schedule": "300ms", "image_fetch": "200ms", "container_start": 0, "app_init": 0},
           "traffic": {"rate": 0}}
    svc.update(service)
    return {"name": "idle", "duration": "1h", "seed": 1, "services": [svc]}


def test_ten_idle_minimum_instances_for_an_hour_cost_what_the_table_says():
    c = cost_of(quiet(warm_start=True))                   # ready at 0: idle the whole hour
    # By hand: 10 x 3600 s = 36,000 instance-seconds; x 1 vCPU x $0.0000025 = $0.09 of CPU,
    # x 0.5 GiB x $0.0000025 = $0.045 of memory: $0.135 for the hour.
    assert c["idle_min_instance_s"] == pytest.approx(36_000)
    assert c["idle_vcpu_seconds"] == pytest.approx(36_000) and c["idle_gib_seconds"] == pytest.approx(18_000)
    assert c["usd"]["idle_cpu"] == pytest.approx(0.09) and c["usd"]["idle_memory"] == pytest.approx(0.045)
    assert c["billable_instance_s"] == 0 and c["usd"]["cpu"] == 0 and c["requests"] == 0
    assert c["total_usd"] == pytest.approx(10 * 3600 * (1 * IDLE_CPU + 0.5 * IDLE_GIB)) == pytest.approx(0.135)


@pytest.mark.parametrize("billed_start, started_s", [("container", 0.0), ("request", 0.5)])
def test_cold_started_minimum_instances_are_billed_active_while_starting_then_idle(billed_start, started_s):
    # Each is requested at 0 and ready at 0.5 s, its container started then (container_start, app_init 0).
    data = quiet()
    data["pricing"] = {"billed_start": billed_start}
    c = cost_of(data)
    assert c["billable_instance_s"] == pytest.approx(10 * started_s)
    assert c["idle_min_instance_s"] == pytest.approx(10 * 3599.5)


def test_instance_based_billing_has_no_idle_rate():
    c = cost_of(quiet(warm_start=True, billing="instance"))
    assert c["billable_instance_s"] == pytest.approx(36_000)         # the whole lifetime, at its own rate
    assert c["idle_min_instance_s"] == 0 and c["usd"]["idle_cpu"] == c["usd"]["idle_memory"] == 0


def test_idle_rates_are_prices_of_the_pricing_section():
    data = quiet(warm_start=True)
    data["pricing"] = {"request_based": {"idle_vcpu_second": 1.0, "idle_gib_second": 2.0}}
    c = cost_of(data)
    assert c["usd"]["idle_cpu"] == pytest.approx(36_000) and c["usd"]["idle_memory"] == pytest.approx(36_000)


def test_a_negative_idle_rate_is_refused_with_one_line():
    data = quiet()
    data["pricing"] = {"request_based": {"idle_vcpu_second": -1e-6}}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    lines = str(err.value).splitlines()
    assert len(lines) == 1 and "pricing.request_based.idle_vcpu_second" in lines[0]


@pytest.mark.parametrize("rounding, busy", [("0", 0.25), ("100ms", 0.3), ("500ms", 0.5)])
def test_with_traffic_busy_time_is_active_and_only_the_rest_idle(rounding, busy):
    """One instance all run long (min = max = 1), a request every second taking 250 ms: its busy spans
    (rounded) at the active rate, the rest of its ready time at the idle rate; together its ready time."""
    data = {"name": "t", "duration": "60s", "seed": 4, "pricing": {"billing_rounding": rounding},
            "services": [{"name": "web", "concurrency": 1, "min_instances": 1, "max_instances": 1,
                          "warm_start": True, "service_time": {"dist": "constant", "value": "250ms"},
                          "traffic": {"arrivals": "deterministic", "rate": 1}}]}
    c = cost_of(data)
    assert c["billable_instance_s"] == pytest.approx(60 * busy)
    assert c["idle_min_instance_s"] == pytest.approx(60 - 60 * busy)
    assert c["billable_instance_s"] + c["idle_min_instance_s"] == pytest.approx(60.0)   # never both rates


@pytest.mark.parametrize("rounding", ["0", "100ms", "1s"])
def test_instances_that_never_exceed_the_minimum_are_billed_their_ready_time_once(rounding):
    """min = max = 3 warm instances under Poisson traffic: spans overlap, start within other spans' rounding
    and end after it; whatever the rounding, busy (active rate) + idle (idle rate) = 3 x the run, exactly."""
    data = {"name": "t", "duration": "5m", "seed": 3, "pricing": {"billing_rounding": rounding},
            "services": [{"name": "web", "concurrency": 10, "min_instances": 3, "max_instances": 3,
                          "warm_start": True, "service_time": {"dist": "exponential", "mean": "150ms"},
                          "traffic": {"rate": 15}}]}
    c = cost_of(data)
    assert 0 < c["idle_min_instance_s"] < 900
    assert c["billable_instance_s"] + c["idle_min_instance_s"] == pytest.approx(3 * 300.0, rel=1e-9)


def test_idle_fraction_of_one_minimum_instance_is_the_theory():
    """One instance (min = max = 1) with room for every request (M/G/inf while no request shares its vCPUs):
    Poisson arrivals at 2/s, 0.5 s each on average, so it is empty a fraction exp(-2 x 0.5) = 0.368 of the
    time (unrounded billing); that time is billed idle, the rest busy."""
    data = {"name": "t", "duration": "2h", "seed": 7, "pricing": {"billing_rounding": "0"},
            "services": [{"name": "web", "concurrency": 1000, "cpu": 8, "memory": "1Gi", "min_instances": 1,
                          "max_instances": 1, "warm_start": True,
                          "service_time": {"dist": "exponential", "mean": "500ms"}, "traffic": {"rate": 2}}]}
    c = cost_of(data)
    assert c["idle_min_instance_s"] / 7200 == pytest.approx(math.exp(-1.0), abs=0.015)   # seeds 1-3: within 0.006
    assert c["billable_instance_s"] + c["idle_min_instance_s"] == pytest.approx(7200.0)


class Inst:
    """What BillingClock reads of an instance."""
    _ids = iter(range(1_000_000))

    def __init__(self, ready_at: float = 0.0, requested_at: float | None = None):
        self.id = next(self._ids)
        self.ready_at, self.requested_at = ready_at, requested_at
        self.in_flight, self.busy_since, self.billed_until, self.billing_busy = 0, 0.0, 0.0, False
        self.container_started_at = None     # billed from the start request then


def busy(clock: BillingClock, inst: Inst, start: float, end: float) -> None:
    inst.in_flight = 1
    clock.busy_started(inst, start)
    inst.in_flight = 0
    clock.busy_ended(inst, end)


def test_busy_instances_count_towards_the_minimum_first_and_idle_ones_above_it_are_not_billed():
    # min 2, three ready instances (one above the minimum, kept by idle_retention), 30 s.
    clock = BillingClock(warmup=0.0, rounding=0.0, min_instances=2)
    a, b, c = Inst(), Inst(), Inst()
    for inst in (a, b, c):
        clock.instance_ready(inst, 0.0)
    busy(clock, a, 10.0, 20.0)                # 0-10: 2 idle billed; 10-20: 1 (a is busy); 20-30: 2
    billed = clock.close(30.0, [a, b, c])
    assert billed["idle_min"] == pytest.approx(2 * 10 + 1 * 10 + 2 * 10)
    assert billed["request"] == pytest.approx(10.0)

    clock = BillingClock(warmup=0.0, rounding=0.0, min_instances=2)
    a, b, c = Inst(), Inst(), Inst()
    for inst in (a, b, c):
        clock.instance_ready(inst, 0.0)
    a.in_flight = 1
    clock.busy_started(a, 10.0)
    busy(clock, b, 12.0, 18.0)                # 12-18: two busy cover the minimum: no idle billed
    a.in_flight = 0
    clock.busy_ended(a, 20.0)
    assert clock.close(30.0, [a, b, c])["idle_min"] == pytest.approx(2 * 10 + 1 * 2 + 0 * 6 + 1 * 2 + 2 * 10)


def test_the_rounding_of_a_busy_span_is_not_billed_idle_too():
    clock = BillingClock(warmup=0.0, rounding=1.0, min_instances=1)
    a = Inst()
    clock.instance_ready(a, 0.0)
    busy(clock, a, 10.0, 10.2)                # billed busy 10-11 (rounded up to 1 s)
    busy(clock, a, 10.5, 10.7)                # within that second: billed already, still busy
    billed = clock.close(30.0, [a])
    assert billed["request"] == pytest.approx(1.0)
    assert billed["idle_min"] == pytest.approx(30.0 - 1.0)

    clock = BillingClock(warmup=0.0, rounding=1.0, min_instances=1)
    a = Inst()
    clock.instance_ready(a, 0.0)
    busy(clock, a, 10.0, 10.2)                # billed busy 10-11
    busy(clock, a, 10.5, 11.5)                # starts within it, ends after: billed on from 11, to 12
    billed = clock.close(30.0, [a])
    assert billed["request"] == pytest.approx(2.0)
    assert billed["idle_min"] == pytest.approx(30.0 - 2.0)


def test_idle_time_is_billed_from_the_warmup_only_and_not_past_a_stop():
    clock = BillingClock(warmup=5.0, rounding=0.0, min_instances=3)
    a, b = Inst(), Inst(ready_at=2.0, requested_at=1.0)
    clock.instance_ready(a, 0.0)
    clock.instance_ready(b, 2.0)
    clock.instance_stopped(b, 20.0)           # fewer instances than the minimum: only those running
    billed = clock.close(30.0, [a])
    assert billed["idle_min"] == pytest.approx((30 - 5) + (20 - 5))
