"""Warnings for scenarios that validate but cannot mean what they say (sim/scenario/warnings.py).

Each registered check has a sample that triggers it (a test fails when a check has none), the samples
give exactly their own warnings, the shipped scenarios give none, and `validate` and `run` print them on
stderr with the file's name and leave the exit status alone.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, base_service, make_scenario, shipped_scenarios
from sim.scenario import scenario_from_dict, scenario_warnings
from sim.scenario.warnings import CHECKS, MIN_INSTANCES_MARGIN, peak_rate, traffic_end

EXT_NAME = "projects/acme-sec/locations/us-central1/keyRings/ekm/cryptoKeys/orders"
EXT_KEY = {"id": "ext", "name": EXT_NAME, "protection": "external"}


def warnings_of(data: dict) -> list[str]:
    return scenario_warnings(scenario_from_dict(data, "s.yaml"), data, "s.yaml")


def hsm_service(**overrides) -> dict:
    return base_service(encryption_key="k", **overrides)


# One scenario per check, with the key path and words each warning line must carry.
SAMPLES = {
    "fault-cannot-act": [
        (make_scenario(service=hsm_service(), keys=[{"id": "k", "name": EXT_NAME.replace("ekm", "run"),
                                                     "protection": "hsm"}, EXT_KEY],
                       faults=[{"at": "10s", "kind": "ekm-outage", "duration": "5s", "error": "TLS_CERT"}]),
         "faults[0].kind", "no service or deploy uses one"),
        (make_scenario(service=hsm_service(), keys=[{"id": "k", "name": EXT_NAME.replace("ekm", "run"),
                                                     "protection": "hsm"}, EXT_KEY],
                       faults=[{"at": "10s", "kind": "ekm-latency", "duration": "5s", "latency": "1s",
                                "key": "ext"}]),
         "faults[0].key", "no service or deploy uses key 'ext'"),
        (make_scenario(keys=[{"id": "k", "name": EXT_NAME, "protection": "hsm"}],
                       faults=[{"at": "10s", "kind": "key-disable", "key": "k"}]),
         "faults[0].key", "this key-disable cannot act"),
        (make_scenario(service={"traffic": {"rate": [[0, 5], [20, 5], [30, 0]]}},
                       faults=[{"at": "40s", "kind": "kms-outage", "duration": "5s"}]),
         "faults[0].at", "after every service's traffic has ended (30s)"),
        (make_scenario(service=hsm_service(), kms={"quota": {"hsm_enforcement": "hard"}},
                       faults=[{"at": "10s", "kind": "kms-region-busy", "duration": "5s"}]),
         "faults[0].kind", "kms.quota.hsm_enforcement is hard: it cannot act"),
        (make_scenario(faults=[{"at": "10s", "kind": "kms-region-busy", "duration": "5s"}]),
         "faults[0].kind", "no service or deploy uses an HSM key: it cannot act"),
    ],
    "key-left-disabled": [
        # issue 19 point 4: the EKM disables the key on EXTERNAL_PERMISSION_DENIED; nothing enables it again
        (make_scenario(service={"encryption_key": "k"}, keys=[{**EXT_KEY, "id": "k"}],
                       faults=[{"at": "10s", "kind": "ekm-outage", "duration": "5s",
                                "error": "EXTERNAL_PERMISSION_DENIED"}]),
         "faults[0].error", "stays disabled after the outage ends (15s) until a key-enable"),
    ],
    "fault-past-end": [
        (make_scenario(faults=[{"at": "50s", "kind": "kms-outage", "duration": "20s"}]),
         "faults[0].duration", "ends at 70s, after the end of the run (1m)"),
    ],
    "cold-start-burst": [
        # issue 19 point 2: 100/s x 0.5 s / (1 x 0.6) = 84 instances wanted at t = 0, none warm
        (make_scenario(service={"max_instances": 100, "traffic": {"rate": 100}}),
         "services[0].warm_start", "starts empty at 100/s, which needs 84 instances (0 minimum)"),
    ],
    "cpu-oversubscribed": [
        (make_scenario(service={"cpu_per_request": 0.5, "concurrency": 8, "autoscaling": {"policy": "knative"}}),
         "services[0].cpu_per_request", "more than 2 requests at once on an instance slow each other down"),
        (make_scenario(service={"cpu_per_request": 2, "cpu": 1}),
         "services[0].cpu_per_request", "even a request alone runs slower"),
    ],
    "background-load": [
        (make_scenario(service=hsm_service(), kms={"quota": {"hsm_requests_per_minute": 600,
                                                             "background_rps": 12}}),
         "kms.quota.background_rps", "720/min is at or above the hsm quota (600/min)"),
        (make_scenario(service=hsm_service(), kms={"quota": {"background_rps": {"external": 3}}}),
         "kms.quota.background_rps.external", "no service or deploy uses an external key"),
        (make_scenario(service=hsm_service(), kms={"quota": {"hsm_requests_per_minute": 600}},
                       faults=[{"at": "10s", "kind": "kms-background-load", "duration": "20s", "rps": 9},
                               {"at": "15s", "kind": "kms-background-load", "duration": "5s", "rps": 2}]),
         "faults[1].rps", "during this fault of 11/s = 660/min"),
        (make_scenario(faults=[{"at": "10s", "kind": "kms-background-load", "duration": "20s", "rps": 1}]),
         "faults[0].pool", "no service or deploy uses an hsm key"),
    ],
    "bare-duration": [
        (make_scenario(service={"service_time": 80}),
         "services[0].service_time", "bare numbers are seconds; 80 s: did you mean 80ms?"),
        (make_scenario(service={"startup": {"app_init": {"dist": "lognormal", "median": 0.5, "p99": 45}}}),
         "services[0].startup.app_init.p99", "45 s: did you mean 45ms?"),
    ],
    "min-instances-idle": [
        # 10/s x 0.5 s = 5 in flight / (concurrency 1 x target 0.6) = 9 instances at the peak; 28 > 3 x 9
        (make_scenario(service={"min_instances": 28, "max_instances": 30}),
         "services[0].min_instances", "28 is more than 3x the 9 instance(s) the cloud-run autoscaler wants"),
        # CPU-bound: 60/s x 0.3 s x 0.25 vCPU = 4.5 vCPU / (1 x 0.6) = 8 instances, though concurrency asks 1
        (make_scenario(service={"min_instances": 25, "max_instances": 30, "concurrency": 80, "service_time": "0.3s",
                                "cpu_per_request": 0.25, "traffic": {"rate": 60}}),
         "services[0].min_instances", "25 is more than 3x the 8 instance(s)"),
    ],
    "shutdown-not-whole-hours": [
        (make_scenario(service={"revocation_action": "shut-down", "shutdown_after": "30m"}),
         "services[0].shutdown_after", "30m: Cloud Run accepts only whole hours from 1h"),
        (make_scenario(service={"revocation_action": "shut-down", "shutdown_after": "90m"}),
         "services[0].shutdown_after", "accepts only whole hours"),
    ],
    "concurrency-below-1-vcpu": [
        # issue 20 point 5: below 1 vCPU Cloud Run needs concurrency 1 and request-based billing
        (make_scenario(service={"cpu": 0.75, "concurrency": 1000}),
         "services[0].concurrency", "1000 with cpu 0.75: Cloud Run needs concurrency 1 below 1 vCPU"),
        (make_scenario(service={"cpu": 0.5, "concurrency": 1, "billing": "instance"}),
         "services[0].billing", "instance-based billing needs 1 vCPU or more"),
    ],
}
CASES = [(name, *case) for name, cases in SAMPLES.items() for case in cases]


def test_every_check_has_a_sample():
    assert set(SAMPLES) == set(CHECKS)


@pytest.mark.parametrize("name, data, where, words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_sample_gives_its_warning(name, data, where, words):
    lines = warnings_of(data)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"warning: s.yaml: {where}: ") and words in lines[0], lines[0]


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_shipped_scenarios_give_no_warning(path):
    from sim.scenario import load_scenario

    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert scenario_warnings(load_scenario(path), raw) == []


NEAR_MISSES = {
    "a high initial rate with warm_start": make_scenario(service={"max_instances": 100, "warm_start": True,
                                                                  "traffic": {"rate": 100}}),
    "a high initial rate with a warmup": make_scenario(service={"max_instances": 100, "traffic": {"rate": 100}},
                                                       warmup="10s"),
    "a burst of 10 over min_instances": make_scenario(service={"max_instances": 100, "min_instances": 74,
                                                              "traffic": {"rate": 100}}),
    "a permission-denied outage then a key-enable": make_scenario(
        service={"encryption_key": "k"}, keys=[{**EXT_KEY, "id": "k"}],
        faults=[{"at": "10s", "kind": "ekm-outage", "duration": "5s", "error": "EXTERNAL_PERMISSION_DENIED"},
                {"at": "30s", "kind": "key-enable", "key": "k"}]),
    "a retryable EKM outage": make_scenario(
        service={"encryption_key": "k"}, keys=[{**EXT_KEY, "id": "k"}],
        faults=[{"at": "10s", "kind": "ekm-outage", "duration": "5s", "error": "UNREACHABLE_NETWORK"}]),
    "a fault ending at the end": make_scenario(faults=[{"at": "50s", "kind": "kms-outage", "duration": "10s"}]),
    "min_instances at 3x the need": make_scenario(service={"min_instances": 27, "max_instances": 30}),
    "min_instances at 3x the CPU need": make_scenario(service={
        "min_instances": 24, "max_instances": 30, "concurrency": 80, "service_time": "0.3s", "cpu_per_request": 0.25,
        "traffic": {"rate": 60}}),
    "a unit written": make_scenario(service={"service_time": "80s"}),
    "a bare start phase under 30 s": make_scenario(service={"startup": {"app_init": 29.9}}),
    "CPU demand equal to the instance": make_scenario(service={"cpu_per_request": 0.125, "concurrency": 8,
                                                               "autoscaling": {"policy": "knative"}}),
    # cloud-run scales on CPU too: 0.25 x 80 on 1 vCPU says nothing for it (the shipped steady.yaml)
    "cloud-run scales on CPU": make_scenario(service={"cpu_per_request": 0.25, "concurrency": 80}),
    "cpu_model unlimited": make_scenario(service={"cpu_per_request": 2, "cpu": 1, "cpu_model": "unlimited"}),
    "background under the quota": make_scenario(
        service=hsm_service(), kms={"quota": {"hsm_requests_per_minute": 600, "background_rps": 9.99}}),
    "a key fault on a used key": make_scenario(service=hsm_service(),
                                               faults=[{"at": "10s", "kind": "key-disable", "key": "k"}]),
    "shutdown after whole hours": make_scenario(service={"revocation_action": "shut-down",
                                                         "shutdown_after": "2h"}),
    "shutdown_after unused by prevent-new": make_scenario(service={"revocation_action": "prevent-new",
                                                                   "shutdown_after": "10m"}),
    "concurrency 1 below 1 vCPU": make_scenario(service={"cpu": 0.5, "concurrency": 1}),
    "a fault before the traffic ends": make_scenario(service={"traffic": {"rate": [[0, 5], [20, 5], [30, 0]]}},
                                                     faults=[{"at": "29s", "kind": "kms-outage", "duration": "5s"}]),
}


@pytest.mark.parametrize("data", NEAR_MISSES.values(), ids=NEAR_MISSES)
def test_the_near_misses_give_no_warning(data):
    assert warnings_of(data) == []


def test_the_capacity_warning_uses_the_autoscalers_formula():
    """The need the warning states is the autoscaler's steady answer at the peak, for every policy."""
    from sim.model.autoscaler import make_policy, steady_instances
    for policy in ("cloud-run", "knative", "per-request"):
        sc = scenario_from_dict(make_scenario(service={"concurrency": 10, "cpu_per_request": 0.4, "cpu": 1,
                                                       "autoscaling": {"policy": policy}}))
        svc = sc.services[0]
        in_flight = 10 * 0.5
        assert steady_instances(svc, 10) == make_policy(svc).steady_desired(in_flight, in_flight * 0.4)
    # cloud-run: concurrency asks ceil(5 / 6) = 1, CPU asks ceil(2 / 0.6) = 4
    assert steady_instances(scenario_from_dict(make_scenario(service={"concurrency": 10, "cpu_per_request": 0.4})
                                               ).services[0], 10) == 4


def test_no_answer_of_solve_triggers_the_min_instances_warning():
    """Issue 19 point 3: a CPU-bound service whose key is disabled before traffic arrives, so its min instances
    carry the load alone. `solve` answers 4 (3 fail); concurrency alone asks 1 instance, which warned at 4."""
    from sim.slo import parse_slo
    from sim.study.paths import apply_setting
    from sim.study.solve import Solver
    data = {"name": "cpu-bound", "duration": "90s", "seed": 3, "keys": [{"id": "k", "name": EXT_NAME, "protection": "hsm"}],
            "services": [{"name": "api", "encryption_key": "k", "concurrency": 80, "min_instances": 1,
                          "max_instances": 20, "cpu": 1, "cpu_per_request": 0.25, "cpu_model": "shared",
                          "service_time": {"dist": "lognormal", "mean": "300ms", "cv": 0.5},
                          "traffic": {"rate": [[0, 0], [10, 0], [11, 60]]}}],
            "faults": [{"at": "5s", "kind": "key-disable", "key": "k"}]}
    sc = scenario_from_dict(data)
    result = Solver(sc, "services.0.min_instances", [parse_slo("requests.failed_fraction<=0.01")],
                    replications=2).solve()
    assert result.recommended >= 4 and not result.levels[result.recommended - 1].met
    for value, level in result.levels.items():
        if level.met:
            assert scenario_warnings(apply_setting(sc, "services.0.min_instances", value), None) == [], value


def test_bare_durations_need_the_file_as_written():
    data = make_scenario(service={"service_time": 80})
    assert scenario_warnings(scenario_from_dict(data), None) == []   # no mapping: that check cannot look


def test_traffic_helpers():
    sc = scenario_from_dict(make_scenario(service={"traffic": {"rate": [[0, 5], [20, 8], [30, 0], [50, 0]],
                                                                "daily_pattern": {"amplitude": 0.5, "peak_at": 0}}}))
    traffic = sc.services[0].traffic
    assert peak_rate(traffic) == 12 and traffic_end(traffic) == 30
    assert traffic_end(scenario_from_dict(make_scenario()).services[0].traffic) is None
    assert MIN_INSTANCES_MARGIN == 3


def cli(*args, cwd=ROOT):
    """`python -m sim ARGS` as a user runs it, with this tree's sim."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "mistake.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_validate_prints_warnings_and_keeps_the_status(tmp_path):
    path = write(tmp_path, make_scenario(service={"service_time": 80, "min_instances": 3}))
    done = cli("validate", path.name, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == "mistake.yaml: ok\n"
    assert done.stderr.splitlines() == [
        "warning: mistake.yaml: services[0].service_time: bare numbers are seconds; 80 s: did you mean 80ms?"]


def test_run_prints_warnings_first_and_quiet_hides_them(tmp_path):
    data = make_scenario(service={"min_instances": 28, "max_instances": 30}, duration="5s")
    path = write(tmp_path, data)
    done = cli("run", path, "--out", tmp_path / "out", "--no-plots")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("warning: ") and "services[0].min_instances" in done.stderr.splitlines()[0]
    quiet = cli("run", path, "--out", tmp_path / "out2", "--no-plots", "--quiet")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
