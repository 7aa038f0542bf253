"""The `cost` section of a service's summary: the billable instance time of each billing setting, the
requests and key operations, priced from the scenario's `pricing:` section (sim/cost.py, model/billing.py)."""
from __future__ import annotations

import pytest

from sim.runner import run
from sim.scenario import ScenarioError, scenario_from_dict
from sim.summary_schema import SERVICE_METRICS

KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"


def fixed(**service) -> dict:
    """One instance all run long (min = max = 1), a request every second (deterministic) taking 250 ms
    alone, so the busy spans never overlap: each is billed 300 ms under request-based billing."""
    svc = {"name": "web", "encryption_key": "k", "concurrency": 1, "min_instances": 1, "max_instances": 1,
           "cpu": 2, "memory": "512Mi", "service_time": {"dist": "constant", "value": "250ms"},
           "startup": {"schedule": "300ms", "image_fetch": "200ms", "container_start": 0, "app_init": 0},
           "traffic": {"arrivals": "deterministic", "rate": 1}}
    svc.update(service)
    return {"name": "cost", "duration": "60s", "seed": 4,
            "keys": [{"id": "k", "name": KEY, "protection": "software"}], "services": [svc]}


def service_of(data: dict) -> dict:
    summary = run(scenario_from_dict(data), replications=1, baseline=False).summary
    return summary["runs"][0]["services"]["web"], summary["runs"][0]["kms"]


def test_cost_per_month_scales_the_measured_span_to_30_days():
    """cost.usd_per_month = total_usd x 720 h / (duration - warmup): the run's traffic for a month."""
    s, _ = service_of({**fixed(), "warmup": "20s"})
    c = s["cost"]
    assert c["total_usd"] > 0
    assert c["usd_per_month"] == pytest.approx(c["total_usd"] * 30 * 86_400 / 40.0, rel=1e-12)


@pytest.mark.parametrize("billed_start", ["container", "request"])
def test_cost_of_a_hand_computable_run_is_the_formula(billed_start):
    data = fixed()
    data["pricing"] = {"billed_start": billed_start}
    s, kms = service_of(data)
    c = s["cost"]
    startup = s["cold_starts"]["latency_s"]["max"]          # the one start: 0.5 s plus two KMS decrypts
    assert s["cold_starts"]["count"] == 1 and s["requests"]["arrived"] == 60 == c["requests"]
    # Billed from the container's start (its container_start and app_init are 0 here), or from the request.
    billed_start_s = 0.0 if billed_start == "container" else startup
    assert c["billable_instance_s"] == pytest.approx(billed_start_s + 60 * 0.3)
    assert c["vcpu_seconds"] == pytest.approx(2 * c["billable_instance_s"])
    assert c["gib_seconds"] == pytest.approx(0.5 * c["billable_instance_s"])
    assert c["kms_operations"] == {"software": 2, "hsm": 0, "external": 0} and kms["operations"] == 2
    usd = c["usd"]
    assert usd["cpu"] == pytest.approx(c["vcpu_seconds"] * 0.000024)
    assert usd["memory"] == pytest.approx(c["gib_seconds"] * 0.0000025)
    assert usd["requests"] == pytest.approx(60 / 1e6 * 0.40)
    assert usd["kms"] == pytest.approx(2 / 1e4 * 0.03)
    # The one instance is kept by min_instances: idle from ready to the end but for its busy spans.
    assert c["idle_min_instance_s"] == pytest.approx(60 - startup - 60 * 0.3)
    assert usd["idle_cpu"] == pytest.approx(2 * c["idle_min_instance_s"] * 0.0000025)
    assert usd["idle_memory"] == pytest.approx(0.5 * c["idle_min_instance_s"] * 0.0000025)
    assert usd["total"] == pytest.approx(usd["cpu"] + usd["memory"] + usd["idle_cpu"] + usd["idle_memory"]
                                         + usd["requests"] + usd["kms"])
    assert c["total_usd"] == usd["total"]


@pytest.mark.parametrize("rounding, busy", [("0", 0.25), ("100ms", 0.3), ("500ms", 0.5)])
def test_billing_rounding_rounds_each_busy_span(rounding, busy):
    data = fixed()
    data["pricing"] = {"billing_rounding": rounding}
    s = service_of(data)[0]
    assert s["cost"]["billable_instance_s"] == pytest.approx(60 * busy)   # the start: 0 s of container


def test_warm_start_instances_are_billed_from_time_zero():
    data = fixed(billing="instance", warm_start=True, min_instances=0)
    s = service_of(data)[0]
    assert s["cold_starts"]["count"] == 0
    assert s["cost"]["billable_instance_s"] == pytest.approx(60.0)   # ready at 0, never stopped


def test_instance_based_billing_counts_the_whole_lifetime():
    c = service_of(fixed(billing="instance"))[0]["cost"]
    assert c["billable_instance_s"] == pytest.approx(60.0)   # started at 0, never stopped
    assert c["usd"]["cpu"] == pytest.approx(2 * 60 * 0.000018)
    assert c["usd"]["memory"] == pytest.approx(0.5 * 60 * 0.000002)
    assert c["usd"]["requests"] == 0.0


def test_warmup_is_not_billed():
    data = fixed(billing="instance")
    data["warmup"] = "20s"
    c = service_of(data)[0]["cost"]
    assert c["billable_instance_s"] == pytest.approx(40.0) and c["requests"] == 40


@pytest.mark.parametrize("policy", ["cloud-run", "knative"])
def test_request_based_is_at_most_instance_based(policy):
    """Autoscaled Poisson traffic with bursts: instances start, idle, retire; the billing setting changes
    nothing but the cost, so the two runs are the same run."""
    data = {"name": "cost", "duration": "4m", "seed": 9,
            "services": [{"name": "web", "concurrency": 4, "idle_retention": "20s", "max_instances": 30,
                          "autoscaling": {"policy": policy},
                          "traffic": {"rate": [[0, 2], [60, 40], [120, 40], [121, 3], [240, 3]]}}]}
    by_request = service_of(data)[0]
    data["services"][0]["billing"] = "instance"
    by_instance = service_of(data)[0]
    assert by_request["requests"] == by_instance["requests"]
    req, inst = by_request["cost"]["billable_instance_s"], by_instance["cost"]["billable_instance_s"]
    assert 0 < req < inst
    # Instance-based billing starts at the start request, ready time at readiness: a little more.
    assert inst >= by_request["capacity"]["ready_instance_s"]


def test_pricing_overrides_apply():
    data = fixed()
    data["pricing"] = {"request_based": {"vcpu_second": 1.0, "per_million_requests": 1e6},
                       "kms_per_10k_operations": {"software": 1e4}}
    c = service_of(data)[0]["cost"]
    assert c["usd"]["cpu"] == pytest.approx(c["vcpu_seconds"])
    assert c["usd"]["memory"] == pytest.approx(c["gib_seconds"] * 0.0000025)   # not overridden: the default
    assert c["usd"]["requests"] == pytest.approx(60.0) and c["usd"]["kms"] == pytest.approx(2.0)


def test_a_negative_price_is_refused_with_one_line():
    data = fixed()
    data["pricing"] = {"instance_based": {"gib_second": -0.1}}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    lines = str(err.value).splitlines()
    assert len(lines) == 1 and "pricing.instance_based.gib_second" in lines[0] and "-0.1" in lines[0]


def test_cost_total_is_a_declared_metric():
    assert "cost.total_usd" in SERVICE_METRICS and SERVICE_METRICS["cost.total_usd"][0] == "USD"


def test_an_slo_can_name_the_cost():
    from sim.slo import SloError, parse_slo
    assert parse_slo("cost.total_usd<=5", known=True).path == ("cost", "total_usd")
    with pytest.raises(SloError):
        parse_slo("cost.total<=5", known=True)


def test_a_start_is_billed_from_its_container_start_not_while_it_waits_on_the_key():
    """pricing.billed_start: container (the default) bills a start from its container's start to ready; request
    bills from the start request. A retryable EKM outage makes starts wait on the key for minutes: the
    difference between the two is exactly the ready instances' schedule, image fetch and key operations."""
    from conftest import instance_rows, make_scenario, run_once, service_summary

    def scenario(billed_start):
        return make_scenario(
            service={"encryption_key": "x", "max_instances": 20, "traffic": {"arrivals": "deterministic", "rate": 4}},
            keys=[{"id": "x", "name": "projects/acme-sec/locations/us-central1/keyRings/ekm/cryptoKeys/x",
                   "protection": "external"}],
            kms={"latency": "10ms", "ekm": {"latency": "30ms", "timeout": "150ms"}}, duration="5m",
            pricing={"billed_start": billed_start, "billing_rounding": 0},
            faults=[{"at": "0s", "kind": "ekm-outage", "duration": "90s", "error": "UNREACHABLE_NETWORK"}])

    container, request = run_once(scenario("container")), run_once(scenario("request"))
    waited = sum(r["schedule_s"] + r["image_fetch_s"] + r["key_operations_s"] for r in instance_rows(container)
                 if r["ready_at"] is not None and r["requested_at"] is not None)
    assert waited > 60                                     # the starts did wait out the outage
    billed = [service_summary(r)["cost"]["billable_instance_s"] for r in (container, request)]
    assert billed[1] - billed[0] == pytest.approx(waited, rel=1e-9)
