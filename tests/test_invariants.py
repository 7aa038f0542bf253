"""Invariants every run keeps: conservation of requests, min <= instances <= max, no negative level area,
no instance stopped before it was requested, ready after requested; on hand-picked scenarios that reach
every path (faults, policies, routers, warmup, several services) and on random small valid scenarios.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import KEY_NAME, assert_invariants, base_service, make_scenario, run_once

EXT_KEY = {"id": "x", "name": "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/ext",
           "protection": "external"}
SOFT_KEY = {"id": "s", "name": "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/soft",
            "protection": "software"}
KEYS = [{"id": "k", "name": KEY_NAME, "protection": "hsm"}, EXT_KEY, SOFT_KEY]

POISSON = {"service_time": {"dist": "exponential", "mean": "0.2s"},
           "startup": {"schedule": {"dist": "lognormal", "median": "0.3s", "p99": "1.5s"},
                       "image_fetch": {"dist": "exponential", "mean": "0.5s"}, "container_start": "0.2s",
                       "app_init": {"dist": "uniform", "low": "0.2s", "high": "1s"}},
           "traffic": {"arrivals": "poisson", "rate": 20}}


RAMP_AT_15S = {"arrivals": "poisson", "rate": [[0, 5], [12, 5], [20, 60], [60, 60]]}   # starts after 15 s


def cmek(**service):
    return base_service(**{**POISSON, "traffic": RAMP_AT_15S, "encryption_key": "k", "concurrency": 4, "max_instances": 8,
                           "idle_retention": "10s", "pending_timeout": "3s",
                           "key_operations": {"validation_interval": "15s"}, **service})


CASES = {
    "plain": make_scenario(service={**POISSON, "concurrency": 5}),
    "warmup": make_scenario(service={**POISSON, "concurrency": 5}, warmup="20s", duration="90s"),
    "min-max-pool": make_scenario(service={**POISSON, "min_instances": 3, "max_instances": 3,
                                           "pending_timeout": "1s"}),
    "request-timeouts": make_scenario(service={**POISSON, "request_timeout": "0.3s", "concurrency": 2}),
    "knative": make_scenario(service={**POISSON, "concurrency": 3, "autoscaling": {"policy": "knative"}}),
    "per-request-newest": make_scenario(service={**POISSON, "routing": "newest-first",
                                                 "autoscaling": {"policy": "per-request"}, "max_instances": 30}),
    "random-router": make_scenario(service={**POISSON, "routing": "random", "concurrency": 3}),
    "ramp": make_scenario(service={**POISSON, "concurrency": 4, "traffic": {"rate": [[0, 1], [20, 60], [40, 2]]}}),
    "key-disable-prevent-new": make_scenario(
        services=[cmek()], keys=KEYS,
        faults=[{"at": "10s", "kind": "key-disable", "key": "k"}, {"at": "40s", "kind": "key-enable", "key": "k"}]),
    "key-disable-shut-down": make_scenario(
        services=[cmek(revocation_action="shut-down", shutdown_after="10s", min_instances=1)], keys=KEYS,
        faults=[{"at": "10s", "kind": "key-disable", "key": "k"}], duration="90s"),
    "kms-outage": make_scenario(services=[cmek()], keys=KEYS, faults=[{"at": "5s", "kind": "kms-outage",
                                                                      "duration": "20s"}]),
    "quota-starved": make_scenario(services=[cmek(concurrency=1, max_instances=30)], keys=KEYS,
                                   kms={"quota": {"hsm_requests_per_minute": 60, "background_rps": 0.5}}),
    "iam-revoke": make_scenario(services=[cmek(revocation_action="shut-down", shutdown_after="5s")], keys=KEYS,
                                faults=[{"at": "10s", "kind": "iam-revoke", "key": "k"},
                                        {"at": "30s", "kind": "iam-grant", "key": "k"}]),
    "ekm-non-retryable": make_scenario(
        services=[cmek(encryption_key="x", shutdown_after="10s")], keys=KEYS,
        faults=[{"at": "10s", "kind": "ekm-outage", "duration": "30s", "error": "EXTERNAL_NOT_FOUND", "key": "x"}]),
    "ekm-slow": make_scenario(services=[cmek(encryption_key="x")], keys=KEYS,
                              faults=[{"at": "5s", "kind": "ekm-latency", "duration": "20s",
                                       "latency": {"dist": "lognormal", "median": "140ms", "p99": "600ms"}}]),
    "deploy": make_scenario(services=[cmek(min_instances=2)], keys=KEYS,
                            faults=[{"at": "20s", "kind": "deploy", "service": "svc", "encryption_key": "s"},
                                    {"at": "40s", "kind": "deploy", "service": "svc", "encryption_key": None}]),
    "deploy-fails": make_scenario(services=[cmek(min_instances=2)], keys=KEYS,
                                  faults=[{"at": "10s", "kind": "key-disable", "key": "k"},
                                          {"at": "20s", "kind": "deploy", "service": "svc"}]),
    "two-services": make_scenario(
        services=[cmek(name="a"), cmek(name="b", encryption_key=None, autoscaling={"policy": "knative"})],
        keys=KEYS, faults=[{"at": "15s", "kind": "key-destroy", "key": "k"}]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_invariants_on_hand_picked_scenarios(name):
    result = run_once(CASES[name], replications=2)
    assert_invariants(result)


def test_the_hand_picked_scenarios_reach_their_paths():
    """Guards the cases above: each one does exercise what it is named after."""
    def svc(name, service="svc"):
        return run_once(CASES[name]).summary["runs"][0]["services"][service]
    assert svc("request-timeouts")["requests"]["failed_504"] > 0
    assert svc("min-max-pool")["requests"]["failed_429"] > 0
    assert svc("key-disable-prevent-new")["instance_starts_failed"]["key_disabled"] > 0
    assert svc("key-disable-shut-down")["requests"]["failed_shutdown"] > 0
    assert svc("quota-starved")["instance_starts_failed"]["quota_exceeded"] > 0
    assert svc("iam-revoke")["instance_starts_failed"]["permission_denied"] > 0
    assert svc("ekm-non-retryable")["instance_starts_failed"]["ekm_non_retryable"] > 0
    assert svc("deploy")["deploys"] == {"succeeded": 2, "failed": 0}
    assert svc("deploy-fails")["deploys"] == {"succeeded": 0, "failed": 1}
    assert svc("two-services", "a")["instance_starts_failed"]["key_destroyed"] > 0


# -- property test: random small valid scenarios --------------------------------------------------------------

durations = st.sampled_from(["0s", "50ms", "0.2s", "1s"])


@st.composite
def services(draw, index: int, key_ids: list[str]):
    low = draw(st.integers(0, 3))
    high = draw(st.integers(max(1, low), 8))
    return base_service(
        name=f"svc{index}",
        encryption_key=draw(st.sampled_from([None, *key_ids])),
        revocation_action=draw(st.sampled_from(["prevent-new", "shut-down"])),
        shutdown_after=draw(st.sampled_from(["0s", "5s", "20s"])),
        concurrency=draw(st.integers(1, 20)),
        min_instances=low, max_instances=high,
        idle_retention=draw(st.sampled_from(["0s", "2s", "15s"])),
        routing=draw(st.sampled_from(["least-loaded", "newest-first", "random"])),
        pending_timeout=draw(st.sampled_from([0, "0.5s", "5s", "auto"])),
        request_timeout=draw(st.sampled_from(["0.3s", "2s", "300s"])),
        service_time=draw(st.sampled_from(["0.1s", {"dist": "exponential", "mean": "0.2s"},
                                           {"dist": "lognormal", "mean": "0.3s", "cv": 1.5}])),
        cpu_per_request=draw(st.sampled_from([0, 0.25, 1.0])),
        startup={"schedule": draw(durations), "image_fetch": draw(durations), "container_start": draw(durations),
                 "app_init": {"dist": "exponential", "mean": draw(st.sampled_from(["0.1s", "1s"]))}},
        startup_cpu_boost=draw(st.booleans()),
        key_operations={"decrypts_per_start": draw(st.integers(0, 3)), "validation_interval": "10s"},
        autoscaling={"policy": draw(st.sampled_from(["cloud-run", "knative", "per-request"])),
                     "interval": draw(st.sampled_from(["1s", "2s"])), "window": draw(st.sampled_from(["6s", "60s"])),
                     "on_demand": draw(st.booleans())},
        traffic={"arrivals": draw(st.sampled_from(["poisson", "deterministic"])),
                 "rate": draw(st.one_of(st.floats(0.5, 40), st.just([[0, 1], [10, 30], [25, 2]])))},
    )


@st.composite
def faults(draw, names: list[str], duration: int):
    kinds = draw(st.lists(st.sampled_from(["key-disable", "key-enable", "key-destroy", "kms-outage", "iam-revoke",
                                           "iam-grant", "deploy", "quota-change", "ekm-outage", "ekm-latency",
                                           "kms-background-load"]), max_size=4))
    out = []
    for kind in kinds:
        at = draw(st.integers(0, duration - 1))
        key = draw(st.sampled_from(["k", "x"]))
        if kind.startswith("key-"):
            out.append({"at": at, "kind": kind, "key": key})
        elif kind == "kms-outage":
            out.append({"at": at, "kind": kind, "duration": draw(st.integers(1, 20))})
        elif kind.startswith("iam-"):
            out.append({"at": at, "kind": kind, "key": key})
        elif kind == "deploy":
            fault = {"at": at, "kind": kind, "service": draw(st.sampled_from(names))}
            choice = draw(st.sampled_from(["keep", None, "k", "x"]))
            if choice != "keep":
                fault["encryption_key"] = choice
            out.append(fault)
        elif kind == "quota-change":
            out.append({"at": at, "kind": kind, "hsm_requests_per_minute": draw(st.sampled_from([30, 600])),
                        "external_requests_per_minute": 60, "duration": 15})
        elif kind == "ekm-outage":
            out.append({"at": at, "kind": kind, "duration": draw(st.integers(1, 20)), "key": "x",
                        "error": draw(st.sampled_from(["UNREACHABLE_NETWORK", "EXTERNAL_PERMISSION_DENIED",
                                                       "TLS_CERT"]))})
        elif kind == "ekm-latency":
            out.append({"at": at, "kind": kind, "duration": 10, "key": "x",
                        "latency": {"dist": "lognormal", "median": "140ms", "p99": "600ms"}})
        else:
            out.append({"at": at, "kind": kind, "duration": 10, "rps": draw(st.sampled_from([5, 50])),
                        "pool": draw(st.sampled_from(["hsm", "external"]))})
    return out


@st.composite
def scenarios(draw):
    duration = draw(st.integers(20, 60))
    n = draw(st.integers(1, 2))
    svcs = [draw(services(i, ["k", "x"])) for i in range(n)]
    return make_scenario(
        services=svcs, keys=[{"id": "k", "name": KEY_NAME, "protection": "hsm"}, EXT_KEY],
        duration=duration, warmup=draw(st.sampled_from([0, 5])), seed=draw(st.integers(0, 2**31)),
        timeseries_interval=draw(st.sampled_from(["1s", "2.5s", "10s"])),
        kms={"latency": {"dist": "lognormal", "median": "8ms", "p99": "40ms"},
             "quota": {"hsm_requests_per_minute": draw(st.sampled_from([60, 30000])),
                       "enforcement": draw(st.sampled_from(["per-second", "per-minute"])),
                       "background_rps": draw(st.sampled_from([0, 0.5]))},
             "retry": {"initial_backoff": "0.5s", "max_backoff": "4s"}},
        faults=draw(faults([s["name"] for s in svcs], duration)))


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_invariants_hold_on_random_scenarios(data):
    assert_invariants(run_once(data, replications=1))
