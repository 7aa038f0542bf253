"""Seed-page behaviour table, rows "key disabled or destroyed (also: scheduled for destruction)", IAM and
deploys (DOMAIN.md sections 1, 2, 5): which starts fail and how, who is shut down and when, what a deploy
does. Every scenario here is deterministic (constant phases and latencies, evenly spaced arrivals), so the
assertions are exact timelines, not statistics.

The `app` service gets one request every 10 s with concurrency 1 and idle_retention 0, so every request
starts an instance whose two decrypts happen 1.5 s after it is requested; `steady` keeps min_instances
running (they serve its light traffic) and starts nothing, so it only meets the key in validation checks.
"""
from __future__ import annotations

import re

import pytest

from sim.model.keys import KeyState, KeyVersion
from sim.model.kms import REASON_DEPLOY, REASON_VALIDATE_DECRYPT, REASON_VALIDATE_ENCRYPT, START_REASONS
from sim.model.logs import MSG_DESTROY_SCHEDULED, MSG_DESTROYED, MSG_DISABLED, MSG_PERMISSION
from sim.model.revisions import is_valid_revision_name, revision_name
from sim.scenario import Key

from test_kms_support import (
    AGENT, KEY_OPS_OFFSET, KMS_L, audit, errors, first_key_op, key, key_name, rows, scenario, service,
    start_ops, steady, svc_summary, world_run,
)

K = key_name("k")
VERSION = f"{K}/cryptoKeyVersions/1"
T = 310.0                   # the fault time of most tests (not on the 60 s validation grid)
STEADY_RATE = 0.5           # steady's two instances serve all of it: it never needs a start


def steady_svc(**extra):
    return steady(traffic={"rate": STEADY_RATE}, **extra)


def state_message(state: str) -> str:
    return f"{VERSION} is not enabled, current state is: {state}."


def assert_starts_split(out, boundary: float, failure: str, until: float = float("inf"),
                        check_before: bool = True):
    """Starts whose key operations begin at/after `boundary` (and before `until`) fail as `failure`; with
    `check_before`, starts whose key operations are all done before `boundary` succeed. Returns the failed
    rows. (A start still in its first phases when a shut-down countdown ends is stopped by it instead.)"""
    failed = []
    for r in rows(out, "app"):
        t0 = first_key_op(r)
        if r["stop_reason"] == "key_revocation" and r["ready_at"] is None:
            assert r["start_error"] is None and r["stopped_at"] <= t0 + 2 * KMS_L + 1e-9, r
        elif boundary <= t0 < until:
            assert r["start_error"] == failure, r
            assert r["ready_at"] is None and r["stop_reason"] == "start_failed", r
            assert r["stopped_at"] == pytest.approx(t0 + KMS_L), r    # fails on the first decrypt
            failed.append(r)
        elif check_before and t0 + 2 * KMS_L <= boundary:
            assert r["start_error"] is None, r
            assert r["ready_at"] is not None or r["stop_reason"] == "end_of_run", r
    assert failed, "the scenario must have starts after the fault"
    return failed


# -- key disabled, prevent-new ----------------------------------------------------------------------------
def test_disable_fails_starts_after_propagation_none_before_prevent_new_keeps_running():
    propagation = 30.0
    boundary = T + propagation
    data = scenario(services=[service(), steady_svc()],
                    faults=[{"at": T, "kind": "key-disable", "key": "k"},
                            {"at": 600, "kind": "deploy", "service": "steady"}],
                    kms={"disable_propagation": propagation})
    world, out = world_run(data)

    # Every key operation of any kind: OK before the disable is seen, FAILED_PRECONDITION from then on.
    assert {a[1] for a in out.audit if a[0] >= boundary} == {"app", "steady"}
    for t, _svc, _method, name, code, message, _reason in out.audit:
        assert name == K
        if t < boundary:
            assert code == 0, (t, message)
        else:
            assert (code, message) == (9, state_message("DISABLED")), t
    assert any(T <= a[0] < boundary and a[4] == 0 for a in start_ops(out, "app")), \
        "starts during the propagation delay still succeed"

    failed = assert_starts_split(out, boundary, "key_disabled")
    app = svc_summary(out, "app")
    assert app["instance_starts_failed"] == {**dict.fromkeys(app["instance_starts_failed"], 0),
                                              "key_disabled": len(failed)}
    # Each failed start is logged with the published message, at the time the decrypt answered.
    start_errs = [e for e in errors(out, "app") if e[0] in {r["stopped_at"] for r in failed}]
    assert len(start_errs) == len(failed)
    assert {e[3] for e in errors(out)} == {MSG_DISABLED % K}

    # prevent-new: nothing stops for the key; steady's instances run to the end and keep serving.
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]
    assert all(s["instances"]["shut_down_by_key_revocation"] == 0 for s in out.summary["services"].values())
    st_rows = rows(out, "steady")
    assert [r["stop_reason"] for r in st_rows] == ["end_of_run", "end_of_run"]
    st = svc_summary(out, "steady")
    req = st["requests"]
    assert req["failed_429"] == req["failed_504"] == req["failed_shutdown"] == 0
    assert req["served"] + req["in_flight_at_end"] == req["arrived"] == 1800 * STEADY_RATE

    # The deploy during the disable fails: its encrypt is refused, it is logged, the old revision stays.
    deploy_ops = audit(out, "steady", {REASON_DEPLOY})
    assert [(a[0], a[2], a[4]) for a in deploy_ops] == [(600.0, "Encrypt", 9)]
    assert st["deploys"] == {"succeeded": 0, "failed": 1}
    old = st_rows[0]["revision"]
    assert world.services["steady"].revision.name == old and {r["revision"] for r in st_rows} == {old}
    assert (pytest.approx(600 + KMS_L), "steady", old, MSG_DISABLED % K, True) in errors(out, "steady")
    served_after = sum(st_served for t, st_served in zip(range(0, 1800, 10),
                                                         out.timeseries["steady"]["served"]) if t >= 600)
    assert served_after >= (1800 - 610) * STEADY_RATE - 1

    # key_usable (sampled at each bin's end) turns 0 when the disable is seen.
    interval = 10
    usable = out.timeseries["app"]["key_usable"]
    assert usable == [int((b + 1) * interval < boundary) for b in range(len(usable))]


# -- revocation with shut-down ------------------------------------------------------------------------------
REVOKE_CASES = {
    "key-disable": ([{"at": T, "kind": "key-disable", "key": "k"}], "key_disabled", MSG_DISABLED % K),
    "key-schedule-destroy": ([{"at": T, "kind": "key-schedule-destroy", "key": "k"}], "key_destroy_scheduled",
                             MSG_DESTROY_SCHEDULED % K),
    "key-destroy": ([{"at": T, "kind": "key-destroy", "key": "k"}], "key_destroyed", MSG_DESTROYED % K),
    "iam-revoke": ([{"at": T, "kind": "iam-revoke", "key": "k"}], "permission_denied",
                   MSG_PERMISSION % AGENT),
}


@pytest.mark.parametrize("cause", list(REVOKE_CASES))
def test_shut_down_stops_running_instances_shutdown_after_the_first_failure(cause):
    faults, failure, message = REVOKE_CASES[cause]
    after = 600.0
    shut = {"revocation_action": "shut-down", "shutdown_after": after}
    data = scenario(services=[service(**shut), steady_svc(**shut)], faults=faults)
    _, out = world_run(data)

    assert_starts_split(out, T, failure)
    first = {}
    for name in ("app", "steady"):
        errs = [e for e in errors(out, name) if e[0] >= T]
        assert errs and {e[3] for e in errs} == {message}
        first[name] = errs[0][0]
    # app first meets the key on a start (requested at T, decrypt 1.5 s later); steady on its validation
    # check at 360 s (encrypt then decrypt).
    assert first["app"] == pytest.approx(T + KEY_OPS_OFFSET + KMS_L)
    assert first["steady"] == pytest.approx(360 + 2 * KMS_L)

    # When a countdown ends, one last validation check (encrypt, decrypt: 2 x KMS_L) fails: shut down then.
    revoked = [r for r in out.instances if r["stop_reason"] == "key_revocation"]
    for r in revoked:
        if r["ready_at"] is not None:        # running instances stop when the first countdown ends
            assert r["stopped_at"] == pytest.approx(first[r["service"]] + after + 2 * KMS_L), r
        else:                                # later countdowns (from later failures) only meet starting ones
            assert any(r["stopped_at"] == pytest.approx(e[0] + after + 2 * KMS_L)
                       for e in errors(out, r["service"])), r
    st = [r for r in rows(out, "steady") if r["ready_at"] is not None]
    assert [r["stop_reason"] for r in st] == ["key_revocation", "key_revocation"]
    assert all(r["ready_at"] < T for r in st)
    # Then steady's own traffic needs instances again, and those starts fail on the key.
    assert {r["start_error"] for r in rows(out, "steady") if r["stop_reason"] == "start_failed"} == {failure}
    assert svc_summary(out, "steady")["instances"]["shut_down_by_key_revocation"] == 2
    # Nothing was stopped for the key before its time.
    assert all(r["stopped_at"] >= first[r["service"]] + after - 1e-9 for r in revoked)


def test_prevent_new_with_permission_denied_keeps_instances():
    data = scenario(services=[service(), steady_svc(shutdown_after=60)],
                    faults=[{"at": T, "kind": "iam-revoke", "key": "k"}])
    _, out = world_run(data)
    assert_starts_split(out, T, "permission_denied")
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]


def test_key_enable_and_a_successful_operation_cancel_the_shutdown():
    shut = {"revocation_action": "shut-down", "shutdown_after": 600}
    data = scenario(services=[service(**shut), steady_svc(**shut)],
                    faults=[{"at": T, "kind": "key-disable", "key": "k"},
                            {"at": 500, "kind": "key-enable", "key": "k"}])
    _, out = world_run(data)
    failed = assert_starts_split(out, T, "key_disabled", until=500)
    assert all(first_key_op(r) < 500 for r in failed)
    # app's countdown (from 311.51) is cancelled by its start at 500 (decrypts at 501.5), steady's (from
    # 360.02) by its validation check at 540: nobody is shut down although both would end at ~912 / ~960.
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]
    assert [r["stop_reason"] for r in rows(out, "steady")] == ["end_of_run", "end_of_run"]
    assert all(r["start_error"] is None for r in rows(out, "app") if first_key_op(r) >= 500)
    assert all(a[4] == 0 for a in out.audit if a[0] >= 500)


def final_checks(out, at: float) -> list:
    """The validation encrypt and decrypt that end a countdown at `at`."""
    return [a for a in out.audit if at - 1e-9 <= a[0] <= at + 2 * KMS_L + 1e-9
            and a[6] in (REASON_VALIDATE_ENCRYPT, REASON_VALIDATE_DECRYPT)]


def countdown_scenario(enable_at: float) -> dict:
    """steady alone, shut-down after 300 s, a validation check every 400 s: the check at 400 meets the key
    disabled at T = 310 and starts the countdown (400.02 -> 700.02); no key operation until it ends."""
    shut = {"revocation_action": "shut-down", "shutdown_after": 300, "key_operations": {"validation_interval": 400}}
    return scenario(services=[steady_svc(**shut)],
                    faults=[{"at": T, "kind": "key-disable", "key": "k"},
                            {"at": enable_at, "kind": "key-enable", "key": "k"}])


COUNTDOWN_END = 400 + 2 * KMS_L + 300


def test_key_still_disabled_at_the_end_of_the_countdown_shuts_down_after_a_final_check():
    _, out = world_run(countdown_scenario(enable_at=900))
    assert not [a for a in out.audit if 400 + 1 <= a[0] < COUNTDOWN_END - 1e-9]    # nothing in between
    checks = final_checks(out, COUNTDOWN_END)
    assert [(a[2], a[4], a[6]) for a in checks] == [("Encrypt", 9, REASON_VALIDATE_ENCRYPT),
                                                      ("Decrypt", 9, REASON_VALIDATE_DECRYPT)]
    assert checks[0][0] == pytest.approx(COUNTDOWN_END)
    revoked = [r for r in rows(out, "steady") if r["stop_reason"] == "key_revocation"]
    assert len(revoked) == 2 and all(r["stopped_at"] == pytest.approx(COUNTDOWN_END + 2 * KMS_L) for r in revoked)
    assert svc_summary(out, "steady")["instances"]["shut_down_by_key_revocation"] == 2


def test_key_re_enabled_before_the_end_of_the_countdown_shuts_nothing_down():
    # Enabled two minutes before the end, at steady load: no start, no validation check in between; the
    # final check at the end succeeds and nothing is shut down.
    _, out = world_run(countdown_scenario(enable_at=COUNTDOWN_END - 120))
    assert not [a for a in out.audit if 400 + 1 <= a[0] < COUNTDOWN_END - 1e-9]
    checks = final_checks(out, COUNTDOWN_END)
    assert [(a[2], a[4], a[6]) for a in checks] == [("Encrypt", 0, REASON_VALIDATE_ENCRYPT),
                                                      ("Decrypt", 0, REASON_VALIDATE_DECRYPT)]
    assert checks[0][0] == pytest.approx(COUNTDOWN_END)
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]
    assert [r["stop_reason"] for r in rows(out, "steady")] == ["end_of_run", "end_of_run"]
    assert svc_summary(out, "steady")["instances"]["shut_down_by_key_revocation"] == 0


# -- scheduled destruction, restore, destroy ---------------------------------------------------------------
def test_schedule_destroy_then_destroyed_after_the_scheduled_duration():
    """A run longer than 24 h with little traffic: DESTROY_SCHEDULED for exactly destroy_scheduled_duration."""
    day = 86_400.0
    at = 3610.0
    data = scenario(
        duration=day + 2 * 3600, timeseries_interval=600,
        keys=[key(destroy_scheduled_duration="1d")],
        services=[service(traffic={"rate": 1 / 600}, key_operations={"validation_interval": 3600},
                          autoscaling={"interval": 10})],
        faults=[{"at": at, "kind": "key-schedule-destroy", "key": "k"}])
    world, out = world_run(data)
    destroyed_at = at + day
    assert (destroyed_at, "key-destroyed", "k", True) in out.fault_log
    assert world.keys["k"].state is KeyState.DESTROYED

    scheduled = assert_starts_split(out, at, "key_destroy_scheduled", until=destroyed_at)
    destroyed = assert_starts_split(out, destroyed_at, "key_destroyed", check_before=False)
    app = svc_summary(out)["instance_starts_failed"]
    assert app["key_destroy_scheduled"] == len(scheduled) and app["key_destroyed"] == len(destroyed)
    for t, *_rest, code, message, _reason in out.audit:
        if t < at:
            assert code == 0
        elif t < destroyed_at:
            assert (code, message) == (9, state_message("DESTROY_SCHEDULED"))
        else:
            assert (code, message) == (9, state_message("DESTROYED"))
    texts = {e[3] for e in errors(out)}
    assert texts == {MSG_DESTROY_SCHEDULED % K, MSG_DESTROYED % K}
    assert "CMEK Key: " in MSG_DESTROY_SCHEDULED % K      # capital K, as published


def test_restore_returns_to_disabled_and_enable_then_works():
    data = scenario(faults=[{"at": T, "kind": "key-schedule-destroy", "key": "k"},
                            {"at": 400, "kind": "key-enable", "key": "k"},    # refused: restore first
                            {"at": 610, "kind": "key-restore", "key": "k"},
                            {"at": 910, "kind": "key-enable", "key": "k"}])
    world, out = world_run(data)
    assert [f[1:] for f in out.fault_log] == [("key-schedule-destroy", "k", True), ("key-enable", "k", False),
                                              ("key-restore", "k", True), ("key-enable", "k", True)]
    assert_starts_split(out, T, "key_destroy_scheduled", until=610)
    assert_starts_split(out, 610, "key_disabled", until=910, check_before=False)
    assert all(r["start_error"] is None for r in rows(out) if first_key_op(r) >= 910)
    assert any(r["ready_at"] for r in rows(out) if first_key_op(r) >= 910)
    assert world.keys["k"].state is KeyState.ENABLED
    # A restored key never becomes DESTROYED, even after the scheduled duration would have ended.
    assert not [f for f in out.fault_log if f[1] == "key-destroyed"]


def test_key_destroy_is_final():
    data = scenario(faults=[{"at": T, "kind": "key-destroy", "key": "k"},
                            {"at": 600, "kind": "key-restore", "key": "k"},
                            {"at": 700, "kind": "key-enable", "key": "k"}])
    world, out = world_run(data)
    assert [f[3] for f in out.fault_log] == [True, False, False]
    failed = assert_starts_split(out, T, "key_destroyed")
    assert max(first_key_op(r) for r in failed) > 1700
    assert world.keys["k"].state is KeyState.DESTROYED
    assert {e[3] for e in errors(out)} == {MSG_DESTROYED % K}


def _key_version(propagation: float) -> KeyVersion:
    return KeyVersion(Key(id="k", name=K, protection="hsm"), propagation)


def test_key_state_logic_and_eventual_consistency():
    kv = _key_version(60.0)
    assert kv.apply("key-disable", 100.0)
    assert kv.state_at(100.0) is KeyState.ENABLED and kv.state_at(159.9) is KeyState.ENABLED
    assert kv.state_at(160.0) is KeyState.DISABLED
    # A second disable does not postpone the first one's visibility.
    assert kv.apply("key-disable", 120.0)
    assert kv.state_at(160.0) is KeyState.DISABLED
    # Enabling is strongly consistent, also during the propagation of a disable.
    kv2 = _key_version(60.0)
    kv2.apply("key-disable", 100.0)
    kv2.apply("key-enable", 130.0)
    assert all(kv2.state_at(t) is KeyState.ENABLED for t in (130.0, 160.0, 500.0))
    # Scheduled destruction: DISABLED and ENABLED can be scheduled; restore -> DISABLED; enable refused then.
    kv3 = _key_version(0.0)
    assert kv3.apply("key-schedule-destroy", 10.0) and kv3.destroy_at == 10.0 + 30 * 86_400
    assert not kv3.apply("key-enable", 20.0) and not kv3.apply("key-disable", 20.0)
    assert kv3.apply("key-restore", 30.0) and kv3.state_at(30.0) is KeyState.DISABLED and kv3.destroy_at is None
    assert kv3.apply("key-enable", 40.0) and kv3.usable_at(40.0)
    assert kv3.apply("key-destroy", 50.0) and kv3.state_at(50.0) is KeyState.DESTROYED
    assert not any(kv3.apply(kind, 60.0) for kind in
                   ("key-enable", "key-disable", "key-restore", "key-schedule-destroy", "key-destroy"))


def test_repeated_disable_during_propagation_is_seen_at_the_first_disable_plus_propagation():
    data = scenario(faults=[{"at": T, "kind": "key-disable", "key": "k"},
                            {"at": T + 20, "kind": "key-disable", "key": "k"}],
                    kms={"disable_propagation": 60})
    _, out = world_run(data)
    assert_starts_split(out, T + 60, "key_disabled")


# -- IAM ------------------------------------------------------------------------------------------------------
def test_iam_revoke_on_a_key_denies_every_service_using_it_and_grant_restores():
    """One service agent per project, its role granted on the key (DOMAIN.md section 9): revoking it on k
    fails the starts of both services on k, and their validation checks, until the grant; a service on
    another key of the same project keeps its access. key_usable follows the binding."""
    data = scenario(keys=[key("k"), key("k2")],
                    services=[service(), service("app2"), service("other", "k2"), steady_svc()],
                    faults=[{"at": T, "kind": "iam-revoke", "key": "k"},
                            {"at": 610, "kind": "iam-grant", "key": "k"}])
    world, out = world_run(data)
    assert world.kms.revoked_keys == set()                  # granted again at the end
    for name in ("app", "app2"):
        window = [r for r in rows(out, name) if T <= first_key_op(r) < 610]
        assert window and all(r["start_error"] == "permission_denied" for r in window), name
        assert all(r["start_error"] is None for r in rows(out, name) if first_key_op(r) >= 610), name
        assert all(r["start_error"] is None for r in rows(out, name) if first_key_op(r) + 2 * KMS_L <= T), name
        summary = svc_summary(out, name)["instance_starts_failed"]
        assert summary["permission_denied"] == len(window) and sum(summary.values()) == len(window)
    assert all(r["start_error"] is None for r in rows(out, "other"))
    assert svc_summary(out, "other")["instance_starts_failed"]["permission_denied"] == 0
    for t, svc, method, name, code, message, _r in out.audit:
        if name == K and T <= t < 610:
            use = "useToEncrypt" if method == "Encrypt" else "useToDecrypt"     # the permission each method needs
            assert code == 7 and message == (f"Permission 'cloudkms.cryptoKeyVersions.{use}' denied on "
                                             f"resource '{K}' (or it may not exist)."), (t, svc)
        else:
            assert code == 0, (t, svc)          # the other key, and k outside the revocation
    # The validation checks of steady (on k) are refused too: IAM is the key's, not a service's.
    assert {(a[2], a[4]) for a in audit(out, "steady", {REASON_VALIDATE_ENCRYPT, REASON_VALIDATE_DECRYPT})
            if T <= a[0] < 610} == {("Encrypt", 7), ("Decrypt", 7)}
    text = ("User's service account does not have CMEK decrypter permission. Service account: "
            "service-123456789012@serverless-robot-prod.iam.gserviceaccount.com")
    assert {e[3] for e in errors(out)} == {text} and AGENT in text
    assert {e[1] for e in errors(out)} == {"app", "app2", "steady"}
    # key_usable (sampled at each bin's end) is 0 on k while revoked, 1 on k2 all along.
    for name in ("app", "app2", "steady"):
        usable = out.timeseries[name]["key_usable"]
        assert usable == [int(not T <= (b + 1) * 10 < 610) for b in range(len(usable))], name
    assert set(out.timeseries["other"]["key_usable"]) == {1}
    # fault_events.csv names the key.
    assert [(e.kind, e.target, e.applied) for e in out.fault_log] == [("iam-revoke", "k", True),
                                                                       ("iam-grant", "k", True)]


def test_deploy_onto_a_key_whose_binding_is_revoked_fails():
    data = scenario(keys=[key("k"), key("k2")], services=[service(), steady_svc()],
                    faults=[{"at": T, "kind": "iam-revoke", "key": "k2"},
                            {"at": 400, "kind": "deploy", "service": "steady", "encryption_key": "k2"}])
    world, out = world_run(data)
    assert [(a[0], a[2], a[4]) for a in audit(out, "steady", {REASON_DEPLOY})] == [(400.0, "Encrypt", 7)]
    assert svc_summary(out, "steady")["deploys"] == {"succeeded": 0, "failed": 1}
    assert all(r["start_error"] is None for r in rows(out, "app"))     # app's key k keeps its binding


# -- deploys ------------------------------------------------------------------------------------------------
def test_deploy_to_a_new_key_makes_a_valid_revision_and_new_starts_use_it():
    data = scenario(keys=[key("k"), key("k2")],
                    services=[service(), steady_svc()],
                    faults=[{"at": 300, "kind": "deploy", "service": "app", "encryption_key": "k2"},
                            {"at": 300, "kind": "deploy", "service": "steady", "encryption_key": "k2"},
                            {"at": 600, "kind": "key-disable", "key": "k"}])
    world, out = world_run(data)
    k2 = key_name("k2")
    for name in ("app", "steady"):
        deploys = audit(out, name, {REASON_DEPLOY})
        assert [(a[0], a[2], a[3], a[4]) for a in deploys] == [(300.0, "Encrypt", k2, 0)]
        assert svc_summary(out, name)["deploys"] == {"succeeded": 1, "failed": 0}
        old = rows(out, name)[0]["revision"]
        new = world.services[name].revision.name
        for rev in (old, new):
            assert is_valid_revision_name(rev, name)
            assert rev.startswith(f"{name}-") and re.fullmatch(r"[a-z0-9-]+", rev) and not rev.endswith("-")
            assert len(rev) <= 63
        assert new != old and world.services[name].revision.number == 2
        for r in rows(out, name):
            if r["requested_at"] >= 300 + KMS_L:
                assert r["revision"] == new and r["start_error"] is None, r
            elif r["requested_at"] < 300:
                assert r["revision"] == old
        # Key operations after the deploy are on the new key (starts and validation checks).
        # (a start requested at 300, before the deploy's encrypt answered, is old-revision: decrypts at 301.5)
        assert {a[3] for a in audit(out, name) if a[0] > 300 + KMS_L + KEY_OPS_OFFSET + 2 * KMS_L} == {k2}
    # steady: both old instances are replaced one-for-one by new-revision instances.
    st = rows(out, "steady")
    old_rows = [r for r in st if r["revision"] != world.services["steady"].revision.name]
    assert sorted(r["stop_reason"] for r in old_rows) == ["replaced", "replaced"]
    assert sum(r["stop_reason"] == "end_of_run" for r in st) == 2
    # The old key is disabled at 600: the new revision keeps starting, nothing fails or stops for it.
    assert not out.run_errors
    assert any(r["ready_at"] and r["requested_at"] > 600 for r in rows(out, "app"))
    assert all(sum(s["instance_starts_failed"].values()) == 0 for s in out.summary["services"].values())


def test_deploy_to_a_disabled_key_fails_naming_a_new_valid_key_succeeds():
    data = scenario(keys=[key("k"), key("k2")], services=[steady_svc()],
                    faults=[{"at": T, "kind": "key-disable", "key": "k"},
                            {"at": 400, "kind": "deploy", "service": "steady", "encryption_key": "k"},
                            {"at": 500, "kind": "deploy", "service": "steady", "encryption_key": "k2"}])
    world, out = world_run(data)
    assert svc_summary(out, "steady")["deploys"] == {"succeeded": 1, "failed": 1}
    assert [(a[0], a[3], a[4]) for a in audit(out, "steady", {REASON_DEPLOY})] == [
        (400.0, K, 9), (500.0, key_name("k2"), 0)]
    assert world.services["steady"].revision.number == 2 and world.services["steady"].revision.key.id == "k2"


def test_revision_names_follow_the_rules_for_long_service_names():
    import numpy as np
    rng = np.random.default_rng(0)
    name = "a" + "b" * 47 + "c"                     # 49 characters, the longest service name
    for number in (1, 2, 99999):
        rev = revision_name(name, number, rng)
        assert is_valid_revision_name(rev, name) and len(rev) <= 63
    assert not is_valid_revision_name("app-00001-", "app")
    assert not is_valid_revision_name("other-00001-abc", "app")
    assert not is_valid_revision_name("app-00001-ABC", "app")


def test_validation_checks_are_one_encrypt_then_one_decrypt_per_interval():
    _, out = world_run(scenario(services=[steady_svc()]))
    checks = audit(out, "steady", {REASON_VALIDATE_ENCRYPT, REASON_VALIDATE_DECRYPT})
    expected = []
    for n in range(1, 30):
        expected += [(60.0 * n, "Encrypt", REASON_VALIDATE_ENCRYPT), (60.0 * n + KMS_L, "Decrypt",
                                                                      REASON_VALIDATE_DECRYPT)]
    assert [(a[0], a[2], a[6]) for a in checks] == [(pytest.approx(t), m, r) for t, m, r in expected]
    starts = start_ops(out, "steady")
    assert [a[6] for a in starts] == [START_REASONS[0], START_REASONS[0], START_REASONS[1], START_REASONS[1]]
