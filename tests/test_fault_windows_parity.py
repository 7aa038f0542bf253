"""Round trip: the registry's fault windows (sim.scenario.fault_windows, from a Scenario's faults) are what
the charts read back from a results folder's fault_windows.csv (sim.plots.fault_windows)."""
from __future__ import annotations

import pytest

from sim import plots
from sim.results import write_results
from sim.runner import run
from sim.scenario import fault_windows, scenario_from_dict
from conftest import KEY_NAME, make_scenario

KEYS = [{"id": "k", "name": KEY_NAME, "protection": "hsm"},
        {"id": "k2", "name": KEY_NAME.replace("/images", "/other"), "protection": "hsm"},
        {"id": "x", "name": KEY_NAME.replace("/images", "/external"), "protection": "external"}]
SERVICES = [{"name": "svc", "encryption_key": "k", "min_instances": 1, "max_instances": 3, "service_time": "0.2s",
             "startup": {"schedule": "0.25s", "image_fetch": "0.25s", "container_start": "0.25s",
                         "app_init": "0.25s"}, "traffic": {"arrivals": "deterministic", "rate": 1}},
            {"name": "api", "min_instances": 1, "max_instances": 3, "traffic": {"arrivals": "deterministic",
                                                                                "rate": 1}}]

CASES = {
    "every kind, overlapping": [
        {"at": "5s", "kind": "key-disable", "key": "k"},
        {"at": "8s", "kind": "kms-outage", "duration": "10s"},
        {"at": "9s", "kind": "ekm-outage", "duration": "20s", "error": "EXTERNAL_NOT_FOUND", "key": "x"},
        {"at": "10s", "kind": "ekm-outage", "duration": "5s", "error": "TIMEOUT"},
        {"at": "11s", "kind": "ekm-latency", "duration": "15s",
         "latency": {"dist": "lognormal", "median": "40ms", "p99": "150ms"}, "key": "x"},
        {"at": "12s", "kind": "ekm-latency", "duration": "5s", "latency": "300ms"},
        {"at": "12s", "kind": "quota-change", "hsm_requests_per_minute": 600, "duration": "20s"},
        {"at": "13s", "kind": "quota-change", "external_requests_per_minute": 90.5,
         "hsm_requests_per_minute": 1200},
        {"at": "14s", "kind": "kms-background-load", "duration": "100s", "rps": 2.5, "pool": "external"},
        {"at": "15s", "kind": "iam-revoke", "key": "k2"},
        {"at": "20s", "kind": "key-enable", "key": "k"},
        {"at": "22s", "kind": "key-schedule-destroy", "key": "k2"},
        {"at": "25s", "kind": "key-restore", "key": "k2"},
        {"at": "30s", "kind": "iam-grant", "key": "k2"},
        {"at": "35s", "kind": "deploy", "service": "svc"},
        {"at": "36s", "kind": "deploy", "service": "api", "encryption_key": "k"},
        {"at": "37s", "kind": "deploy", "service": "svc", "encryption_key": None},
        {"at": "40s", "kind": "key-destroy", "key": "k2"},
    ],
    "never undone, and no effect": [
        {"at": "3s", "kind": "key-disable", "key": "k2"},
        {"at": "4s", "kind": "key-disable", "key": "k2"},          # already disabled: no effect
        {"at": "6s", "kind": "key-restore", "key": "k"},           # not scheduled: no effect
        {"at": "7s", "kind": "iam-revoke", "key": "k"},
        {"at": "9s", "kind": "key-enable", "key": "k"},            # closes nothing of its target
        {"at": "50s", "kind": "key-destroy", "key": "k"},
        {"at": "55s", "kind": "key-enable", "key": "k2"},
        {"at": "58s", "kind": "kms-outage", "duration": "10s"},    # ends after the run
    ],
    "same time, file order": [
        {"at": "10s", "kind": "key-disable", "key": "k"},
        {"at": "10s", "kind": "key-enable", "key": "k"},
        {"at": "10s", "kind": "quota-change", "hsm_requests_per_minute": 60},
        {"at": "20s", "kind": "key-schedule-destroy", "key": "k"},
        {"at": "30s", "kind": "key-enable", "key": "k"},
    ],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fault_windows_match_the_charts(case, tmp_path):
    scenario = scenario_from_dict(make_scenario(keys=KEYS, services=SERVICES, faults=CASES[case]))
    result = run(scenario, baseline=False)
    folder = plots.Folder.read(write_results(result, tmp_path / "run", plots=False))
    not_applied = [(t, kind, target) for t, kind, target, applied in result.outputs[0].fault_log if not applied]
    mine = fault_windows(scenario.faults, scenario.duration, not_applied)
    theirs = plots.fault_windows(folder)
    assert [(w.number, w.kind, w.start, w.end, w.label) for w in mine] == \
           [(w.number, w.kind, w.start, w.end, w.label) for w in theirs]
    if case == "never undone, and no effect":
        assert any(w.label.endswith("(no effect)") for w in mine)
