"""The declared summary schema (sim/summary_schema.py) is exactly what a run's summary holds, and SLO paths
are checked against it."""
from __future__ import annotations

import pytest

from sim.runner import run
from sim.scenario import scenario_from_dict
from sim.slo import SloError, check_known, parse_slo
from sim.summary_schema import (KMS_GROUPS, KMS_METRICS, POOL_METRICS, SERVICE_METRICS, WINDOW_METRICS,
                                failed_requests, leaf_paths, service_template)

KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"


@pytest.fixture(scope="module")
def summary():
    data = {"name": "schema", "duration": "2m", "seed": 2,
            "kms": {"quota": {"hsm_requests_per_minute": 120, "background_rps": 0.5}},
            "keys": [{"id": "k", "name": KEY, "protection": "hsm"}],
            "services": [{"name": "web", "encryption_key": "k", "concurrency": 5, "min_instances": 1,
                          "max_instances": 20, "service_time": {"dist": "lognormal", "mean": "1s", "cv": 0.5},
                          "traffic": {"rate": [[0, 5], [60, 30], [120, 30]]}}],
            "faults": [{"at": "30s", "kind": "key-disable", "key": "k"},
                       {"at": "50s", "kind": "key-enable", "key": "k"}]}
    return run(scenario_from_dict(data), replications=1).summary["runs"][0]


def leaf_paths_values(tree: dict) -> list:
    return [v for v in tree.values() for v in (leaf_paths_values(v) if isinstance(v, dict) else [v])]


def _is_number(v) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def test_service_summary_has_exactly_the_declared_paths(summary):
    for service in summary["services"].values():
        service = dict(service)
        windows = service.pop("windows")
        assert list(windows) == ["fault[0]"]          # every fault's window, by default
        for figures in windows.values():
            assert leaf_paths(figures) == list(WINDOW_METRICS)
            assert all(_is_number(v) for v in leaf_paths_values(figures))
        paths = leaf_paths(service)
        assert set(paths) == set(SERVICE_METRICS), set(paths) ^ set(SERVICE_METRICS)
        assert paths == list(SERVICE_METRICS)        # same order: the error messages list them in it
        for path in paths:
            node = service
            for part in path.split("."):
                node = node[part]
            assert _is_number(node), path


def test_kms_and_pool_figures_are_the_declared_ones(summary):
    kms = summary["kms"]
    assert set(kms) == set(KMS_METRICS) | set(KMS_GROUPS)
    assert all(_is_number(kms[k]) for k in KMS_METRICS)
    assert kms["quota_pools"]
    for pool in kms["quota_pools"].values():
        assert set(pool) == set(POOL_METRICS)


def test_every_declared_metric_has_a_unit_and_a_meaning():
    for table in (SERVICE_METRICS, KMS_METRICS, POOL_METRICS, WINDOW_METRICS):
        for path, (unit, meaning) in table.items():
            assert unit and meaning and "\n" not in meaning, path


def test_slo_paths_are_checked_against_the_schema():
    check_known(parse_slo("capacity_loss.extra_failed_requests<=0"))
    assert parse_slo("cold_starts.latency_s.p99<=20", known=True).path == ("cold_starts", "latency_s", "p99")
    with pytest.raises(SloError, match=r"unknown metric 'cold_starts.latency' \(cold_starts has: count, latency_s"):
        parse_slo("cold_starts.latency.p99<=20", known=True)
    with pytest.raises(SloError, match="cold_starts.latency_s is not a number; add one of: mean, p50"):
        check_known(parse_slo("cold_starts.latency_s<=20"))
    assert set(service_template()) == {p.split(".")[0] for p in SERVICE_METRICS}


def test_failed_requests_adds_the_three_causes():
    assert failed_requests({"failed_429": 1, "failed_504": 2, "failed_shutdown": 4}) == 7
    assert failed_requests({"failed_429": 1, "failed_504": 2}) == 3          # older files: no failed_shutdown
