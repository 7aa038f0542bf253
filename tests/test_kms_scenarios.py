"""The shipped CMEK story scenarios: each loads, lasts 30 min to 2 h, says what it shows, runs, and its
summary tells its story (replication 0, with its fault-free twin where it has faults)."""
from __future__ import annotations

import pytest

from sim.runner import run
from sim.scenario import load_scenario, scenario_from_dict

from test_kms_support import SCENARIOS

STORIES = ["key-disabled", "key-destroyed", "ekm-outage-retryable", "ekm-outage-non-retryable",
           "kms-quota-burst", "shared-quota-noisy-neighbour", "key-rotation-deploy"]


@pytest.fixture(scope="module")
def results():
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run(load_scenario(SCENARIOS / f"{name}.yaml"), replications=1)
            _conservation(cache[name])
        return cache[name]
    return get


def _conservation(result):
    """Every request accounted for once; time series totals equal the summary (warmup is 0 in all)."""
    out = result.outputs[0]
    for name, s in result.summary["runs"][0]["services"].items():
        req = s["requests"]
        assert req["arrived"] == (req["served"] + req["failed_429"] + req["failed_504"] + req["failed_shutdown"]
                                  + req["in_flight_at_end"])
        ts = out.timeseries[name]
        for kind in ("arrivals", "served", "failed_429", "failed_shutdown"):
            assert sum(ts[kind]) == req["arrived" if kind == "arrivals" else kind]
        assert sum(ts["start_failures"]) == sum(s["instance_starts_failed"].values())


def _svc(result, name):
    return result.summary["runs"][0]["services"][name]


def _rows(result, name):
    return [r for r in result.outputs[0].instances if r["service"] == name]


@pytest.mark.parametrize("name", STORIES)
def test_story_scenario_is_well_formed(name):
    sc = load_scenario(SCENARIOS / f"{name}.yaml")
    assert sc.name == name
    assert 30 * 60 <= sc.duration <= 2 * 3600
    assert len(sc.description) > 300 and "Look at" in sc.description
    assert sc.keys and all(s.encryption_key for s in sc.services)


def test_key_disabled(results):
    r = results("key-disabled")
    s = _svc(r, "checkout")
    assert s["instance_starts_failed"]["key_disabled"] > 0
    assert s["instances"]["shut_down_by_key_revocation"] == 0            # prevent-new
    assert s["deploys"] == {"succeeded": 0, "failed": 1}
    assert s["requests"]["failed_429"] > 0
    assert s["capacity_loss"]["ready_instance_s"] > 0 and s["capacity_loss"]["extra_failed_requests"] > 0
    rows = _rows(r, "checkout")
    failed = [x for x in rows if x["start_error"]]
    assert min(x["stopped_at"] for x in failed) >= 20 * 60 + 30               # disable seen after 30 s
    assert max(x["stopped_at"] for x in failed) < 50 * 60 + 1                 # re-enabled at 50m
    assert not [x for x in rows if x["stop_reason"] == "key_revocation"]
    assert len({x["revision"] for x in rows}) == 1
    assert any(x["ready_at"] and x["requested_at"] >= 50 * 60 for x in rows)   # catch-up after the enable
    usable = r.outputs[0].timeseries["checkout"]["key_usable"]
    assert usable[121] == 1 and set(usable[122:299]) == {0} and usable[299] == 1   # sampled at bin ends


def test_key_destroyed(results):
    r = results("key-destroyed")
    s = _svc(r, "billing")
    failed = s["instance_starts_failed"]
    assert failed["key_destroy_scheduled"] > 0 and failed["key_destroyed"] > 0
    assert s["instances"]["shut_down_by_key_revocation"] >= 2
    errs = r.outputs[0].run_errors
    first = min(e[0] for e in errs)
    assert 870 <= first <= 900.5                                             # the check at 15m
    revoked = [x for x in _rows(r, "billing") if x["stop_reason"] == "key_revocation" and x["ready_at"]]
    # shut down when the waiting period ends and a last validation check (encrypt, decrypt) has failed
    assert revoked and len({x["stopped_at"] for x in revoked}) == 1
    assert all(first + 3600 < x["stopped_at"] <= first + 3600 + 1.0 for x in revoked)
    destroyed = [x for x in _rows(r, "billing") if x["start_error"] == "key_destroyed"]
    assert min(x["stopped_at"] for x in destroyed) >= 100 * 60
    assert s["capacity_loss"]["extra_failed_requests"] > 0
    assert any("CMEK Key: " in e[3] for e in errs) and any("has been destroyed" in e[3] for e in errs)


def test_ekm_outage_retryable(results):
    r = results("ekm-outage-retryable")
    s = _svc(r, "orders")
    assert sum(s["instance_starts_failed"].values()) == 0
    assert s["instances"]["shut_down_by_key_revocation"] == 0
    assert s["cold_starts"]["kms_wait_s"]["max"] > 400
    assert s["capacity_loss"]["extra_failed_requests"] > 0
    assert s["capacity_loss"]["extra_cold_start_p99_s"] > 300
    rows = _rows(r, "orders")
    assert not [x for x in rows if x["ready_at"] and 30 * 60 + 5 < x["ready_at"] < 40 * 60]
    assert not r.outputs[0].run_errors
    assert set(r.outputs[0].timeseries["orders"]["key_usable"]) == {1}


def test_ekm_outage_non_retryable(results):
    r = results("ekm-outage-non-retryable")
    s = _svc(r, "orders")
    assert s["instance_starts_failed"]["ekm_non_retryable"] > 0
    assert s["instances"]["shut_down_by_key_revocation"] >= 2                # although prevent-new
    revoked = [x for x in _rows(r, "orders") if x["stop_reason"] == "key_revocation" and x["ready_at"]]
    assert all(20 * 60 + 3600 <= x["stopped_at"] <= 20 * 60 + 3600 + 300 + 1 for x in revoked)
    assert s["capacity_loss"]["ready_instance_s"] > 0
    assert any(x["ready_at"] and x["requested_at"] >= 110 * 60 for x in _rows(r, "orders"))   # recovery


def test_kms_quota_burst(results):
    r = results("kms-quota-burst")
    s = _svc(r, "catalog")
    kms = r.summary["runs"][0]["kms"]
    assert s["instance_starts_failed"]["quota_exceeded"] > 20
    assert kms["resource_exhausted"] > 20
    pool = kms["quota_pools"]["acme-sec/hsm"]
    # 10/s quota, soft-enforced (the default since 2026-02-16): up to 1.5 x 10 served with the headroom
    assert pool["peak_admitted_per_second"] == 15 < kms["peak_per_second"]
    assert pool["served_over_quota_services"] + pool["served_over_quota_background"] > 0
    assert s["capacity"]["shortfall_instance_s"] > 0


def test_shared_quota_noisy_neighbour(results):
    r = results("shared-quota-noisy-neighbour")
    assert _svc(r, "checkout")["instance_starts_failed"]["quota_exceeded"] > 0
    assert _svc(r, "batch-api")["instance_starts_failed"]["quota_exceeded"] > 0
    assert list(r.summary["runs"][0]["kms"]["quota_pools"]) == ["acme-sec/hsm"]
    # Alone, checkout never meets the quota.
    data = load_scenario(SCENARIOS / "shared-quota-noisy-neighbour.yaml").to_resolved_dict()
    data["services"] = [s for s in data["services"] if s["name"] != "batch-api"]
    data["keys"] = [k for k in data["keys"] if k["id"] != "batch-images"]
    alone = run(scenario_from_dict(data), replications=1)
    assert alone.summary["runs"][0]["services"]["checkout"]["instance_starts_failed"]["quota_exceeded"] == 0
    assert alone.summary["runs"][0]["kms"]["resource_exhausted"] == 0


def test_key_rotation_deploy(results):
    r = results("key-rotation-deploy")
    orders, reports = _svc(r, "orders"), _svc(r, "reports")
    assert orders["deploys"] == {"succeeded": 1, "failed": 0}
    assert sum(orders["instance_starts_failed"].values()) == 0
    assert orders["instances"]["shut_down_by_key_revocation"] == 0
    rows = _rows(r, "orders")
    old, new = rows[0]["revision"], next(x["revision"] for x in rows if x["requested_at"] >= 20 * 60)
    assert old != new and new.startswith("orders-00002-")
    assert any(x["revision"] == new and x["ready_at"] and x["requested_at"] > 31 * 60 for x in rows)
    at_deploy = [x for x in rows if x["revision"] == old and x["stopped_at"] >= 20 * 60]
    assert at_deploy and {x["stop_reason"] for x in at_deploy} == {"replaced"}
    audit = r.outputs[0].audit
    assert {a[3].rsplit("/", 1)[1] for a in audit if a[1] == "orders" and a[0] > 20 * 60 + 1} == {"images-2026"}
    assert reports["instance_starts_failed"]["key_disabled"] > 0
    assert reports["instances"]["shut_down_by_key_revocation"] > 0
    assert reports["capacity_loss"]["extra_failed_requests"] > 0
