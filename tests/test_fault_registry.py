"""The fault registry: every kind in FAULT_CLASSES parses, is described and says what it does.

A new kind must get a sample in SAMPLES (the first test fails otherwise), and then passes the same walk.
The walk ends with a run: each sample must change what happens in a small scenario (against the same
scenario without it, on the same random streams), so a kind the model does not handle fails here.
"""
from __future__ import annotations

import pytest
from matplotlib.colors import is_color_like

from sim.scenario import (
    FAULT_CLASSES, FAULT_KINDS, CrossContext, FaultBase, ScenarioError, fault_windows, scenario_from_dict,
)
from conftest import KEY_NAME, base_service, make_scenario

EXTERNAL_KEY = {"id": "x", "name": KEY_NAME.replace("/images", "/external"), "protection": "external"}

# One sample per kind, as a scenario file writes it (key "k" is HSM, "x" external; the service is "svc").
SAMPLES = {
    "key-disable": {"at": "10s", "kind": "key-disable", "key": "k"},
    "key-enable": {"at": "10s", "kind": "key-enable", "key": "k"},
    "key-schedule-destroy": {"at": "10s", "kind": "key-schedule-destroy", "key": "k"},
    "key-restore": {"at": "10s", "kind": "key-restore", "key": "k"},
    "key-destroy": {"at": "10s", "kind": "key-destroy", "key": "k"},
    "ekm-outage": {"at": "10s", "kind": "ekm-outage", "duration": "5s", "error": "TIMEOUT", "key": "x"},
    "ekm-latency": {"at": "10s", "kind": "ekm-latency", "duration": "5s", "latency": "200ms", "key": "x"},
    "kms-outage": {"at": "10s", "kind": "kms-outage", "duration": "5s"},
    "quota-change": {"at": "10s", "kind": "quota-change", "hsm_requests_per_minute": 600},
    "kms-background-load": {"at": "10s", "kind": "kms-background-load", "duration": "5s", "rps": 3, "pool": "hsm"},
    "kms-region-busy": {"at": "10s", "kind": "kms-region-busy", "duration": "20s"},
    "iam-revoke": {"at": "10s", "kind": "iam-revoke", "key": "k"},
    "iam-grant": {"at": "10s", "kind": "iam-grant", "key": "k"},
    "deploy": {"at": "10s", "kind": "deploy", "service": "svc", "encryption_key": "k"},
}


def parse(sample: dict):
    keys = make_scenario()["keys"] + [EXTERNAL_KEY]
    (fault,) = scenario_from_dict(make_scenario(keys=keys, faults=[sample])).faults
    return fault


def test_every_registered_kind_has_a_sample():
    assert set(SAMPLES) == set(FAULT_CLASSES)
    assert FAULT_KINDS == tuple(FAULT_CLASSES)


@pytest.mark.parametrize("kind", sorted(FAULT_CLASSES))
def test_each_kind_parses_and_describes_itself(kind):
    cls, sample = FAULT_CLASSES[kind], SAMPLES[kind]
    fault = parse(sample)
    assert type(fault) is cls and isinstance(fault, FaultBase) and fault.kind == kind
    assert typing_kinds(cls) == (kind,), "one class per kind"
    assert isinstance(cls.colour, str) and is_color_like(cls.colour)
    assert fault.label() and fault.label().startswith(kind)
    named = sample.get("key") or sample.get("service")
    assert fault.target == (named or "")
    assert set(cls.undone_by) <= set(FAULT_CLASSES)
    assert cls.effect in {"state", "window"}
    if cls.effect == "state":
        assert cls.apply is not FaultBase.apply, f"{kind} changes state but does not say how (apply)"
    else:
        assert cls.apply is FaultBase.apply
        with pytest.raises(NotImplementedError):
            fault.apply(object())


def typing_kinds(cls) -> tuple:
    import typing
    return typing.get_args(cls.model_fields["kind"].annotation)


class RecordingWorld:
    """Only the interface a fault may use."""

    def __init__(self):
        self.calls = []

    def change_key_state(self, key, kind):
        self.calls.append(("change_key_state", key, kind))
        return True

    def set_iam(self, key, *, granted):
        self.calls.append(("set_iam", key, granted))
        return True

    def deploy(self, service, fault):
        self.calls.append(("deploy", service, fault.kind))
        return iter(())


@pytest.mark.parametrize("kind", sorted(k for k, c in FAULT_CLASSES.items() if c.effect == "state"))
def test_state_kinds_use_only_the_world_interface(kind):
    world, fault = RecordingWorld(), parse(SAMPLES[kind])
    fault.apply(world)
    expected = {"iam-revoke": ("set_iam", "k", False), "iam-grant": ("set_iam", "k", True),
                "deploy": ("deploy", "svc", "deploy")}.get(kind, ("change_key_state", "k", kind))
    assert world.calls == [expected]


@pytest.mark.parametrize("kind", sorted(FAULT_CLASSES))
def test_each_kind_checks_its_references(kind):
    sample = dict(SAMPLES[kind])
    for field in ("key", "encryption_key"):
        if field in sample:
            sample[field] = "gone"
    if "service" in sample:
        sample["service"] = "nowhere"
    if kind == "kms-background-load":
        sample["project"] = "elsewhere"
    context = CrossContext({"k": "hsm", "x": "external"}, {"svc"}, {"sec"})
    problems = FAULT_CLASSES[kind].cross_check(sample, 0, context)
    assert [reason.split(" ")[1] for _, reason in problems] == \
        ["key" for f in ("key", "encryption_key") if f in sample] + ["service"] * ("service" in sample) \
        + ["key"] * ("project" in sample)      # "unknown key project ..."
    if problems:
        with pytest.raises(ScenarioError):
            parse(sample)


def test_ekm_kinds_need_an_external_key():
    for kind in ("ekm-outage", "ekm-latency"):
        problems = FAULT_CLASSES[kind].cross_check({**SAMPLES[kind], "key": "k"}, 3, CrossContext({"k": "hsm"}, set()))
        assert problems == [(("faults", 3, "key"), f"key 'k' has protection hsm; {kind} needs an external or "
                                                   "external-vpc key")]


def test_every_sample_gives_a_window_unless_it_closes_one():
    faults = [parse(SAMPLES[kind]) for kind in FAULT_KINDS]
    windows = fault_windows(faults, 60.0)
    closing = {k for c in FAULT_CLASSES.values() for k in c.undone_by}
    assert [w.kind for w in windows] == [k for k in FAULT_KINDS if k not in closing]
    assert all(w.colour == FAULT_CLASSES[w.kind].colour and w.label for w in windows)


# Faults a sample needs before it can have an effect (an enable needs a disabled key, ...).
PRELUDE = {
    "key-enable": [{"at": "5s", "kind": "key-disable", "key": "k"}],
    "key-restore": [{"at": "5s", "kind": "key-schedule-destroy", "key": "k"}],
    "iam-grant": [{"at": "5s", "kind": "iam-revoke", "key": "k"}],
    # a soft HSM quota the load exceeds (2/s, 1 more on the default headroom), so there is headroom to take
    "kms-region-busy": [{"at": "0s", "kind": "quota-change", "hsm_requests_per_minute": 120}],
}


def busy_scenario(faults: list) -> dict:
    """Two services, on the HSM key k and the external key x, starting and checking keys all along."""
    busy = {"traffic": {"rate": [[0, 1], [60, 12]]}, "idle_retention": "3s",
            "key_operations": {"validation_interval": "2s"}}
    services = [base_service(name="svc", encryption_key="k", **busy),
                base_service(name="ext", encryption_key="x", **busy)]
    keys = make_scenario()["keys"] + [EXTERNAL_KEY]
    return make_scenario(services=services, keys=keys, faults=faults, duration="60s")


@pytest.mark.parametrize("kind", sorted(FAULT_CLASSES))
def test_each_kind_changes_what_happens_in_a_run(kind):
    from sim.runner import run

    prelude = PRELUDE.get(kind, [])
    with_fault = run(scenario_from_dict(busy_scenario(prelude + [SAMPLES[kind]])), baseline=False)
    without = run(scenario_from_dict(busy_scenario(prelude)), baseline=False)
    a, b = with_fault.outputs[0], without.outputs[0]
    assert (with_fault.summary["runs"], a.audit, a.kms_usage) != (without.summary["runs"], b.audit, b.kms_usage), \
        f"{kind} changed nothing in the run"
    if FAULT_CLASSES[kind].effect == "state":
        applied = [e for e in with_fault.outputs[0].fault_log if e.kind == kind]
        assert applied and all(e.applied for e in applied), with_fault.outputs[0].fault_log


@pytest.mark.parametrize("kind", ["iam-revoke", "iam-grant"])
def test_iam_kinds_naming_a_service_get_one_line_saying_what_to_write(kind):
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(busy_scenario([{"at": "10s", "kind": kind, "service": "ext"}]))
    assert err.value.problems == [
        f"<dict>: faults[0].service: {kind} takes key: (the service agent's role is granted on a key, for every "
        "service of the project); write key: x"]


def test_background_load_labels_name_their_pool():
    assert parse(SAMPLES["kms-background-load"]).label() == "kms-background-load +3/s (hsm)"
    load = parse({**SAMPLES["kms-background-load"], "pool": "external", "project": "acme-sec"})
    assert load.label() == "kms-background-load +3/s (acme-sec/external)"
