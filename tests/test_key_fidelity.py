"""Issue 9, model points: validation checks follow the current revision, small per-second quotas, propagation
not postponed, the Encrypt permission message, `pending_timeout: auto` after a deploy, starts aborted by the
countdown counted apart, and the EKM's own disable in fault_events.csv (DOMAIN.md sections 5, 6, 9)."""
from __future__ import annotations

import numpy as np
import pytest

from sim.model.keys import KeyState, KeyVersion
from sim.model.quota import QuotaPool
from sim.model.schedule import BackgroundLoad, QuotaSchedule
from sim.results import read_csv, write_results
from sim.scenario import Key

from test_kms_support import (
    EKM_L, KMS_L, key, key_name, rows, run_summary, scenario, service, steady, svc_summary, world_run,
)

SHUT = {"revocation_action": "shut-down", "shutdown_after": 300}


# -- validation checks follow the current revision -----------------------------------------------------------
def test_a_service_deployed_onto_a_key_gets_validation_checks_and_a_disabled_key_stops_it():
    # steady starts on Google-managed encryption, is deployed onto k at 100; k is disabled at 310. Its check
    # at 360 fails, the countdown ends at 660.02 with a failing final check: its instances stop.
    data = scenario(services=[steady(key_id=None, **SHUT)],
                    faults=[{"at": 100, "kind": "deploy", "service": "steady", "encryption_key": "k"},
                            {"at": 310, "kind": "key-disable", "key": "k"}])
    _, out = world_run(data)
    checks = sorted({round(a[0]) for a in out.audit if a[6].startswith("Performing")})
    assert checks[:5] == [120, 180, 240, 300, 360]                  # from the first check after the deploy
    new_rev = [r for r in rows(out, "steady") if r["ready_at"] is not None and "-00002-" in r["revision"]]
    revoked = [r for r in rows(out, "steady") if r["stop_reason"] == "key_revocation"]
    assert len(revoked) == 2 and all(r["stopped_at"] == pytest.approx(360 + 2 * KMS_L + 300 + 2 * KMS_L)
                                     for r in revoked)
    assert new_rev and svc_summary(out, "steady")["instances"]["shut_down_by_key_revocation"] == 2


def test_validation_checks_stop_while_the_current_revision_has_no_key():
    data = scenario(services=[steady(**SHUT)],
                    faults=[{"at": 200, "kind": "deploy", "service": "steady", "encryption_key": None},
                            {"at": 310, "kind": "key-disable", "key": "k"},
                            {"at": 650, "kind": "key-enable", "key": "k"},
                            {"at": 700, "kind": "deploy", "service": "steady", "encryption_key": "k"}])
    _, out = world_run(data)
    # Checks on the 60 s grid while a revision has the key: none from the deploy at 200 to the one at 700,
    # so the disabled key (310 to 650) is never met and nothing is shut down.
    checks = sorted({round(a[0]) for a in out.audit if a[6].startswith("Performing")})
    assert [t for t in checks if t < 900] == [60, 120, 180, 720, 780, 840]
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]


# -- small quotas, per-second enforcement -------------------------------------------------------------------
def per_second_pool(rpm: float, changes=()) -> QuotaPool:
    return QuotaPool("p/hsm", QuotaSchedule(rpm, list(changes), "hsm_requests_per_minute"), "per-second",
                     BackgroundLoad(0.0, []), np.random.default_rng(0), horizon=10_000.0)


def admitted_each_second(pool: QuotaPool, seconds: int) -> list[int]:
    """Ask far more than any quota every second (at mid-second): what each second admitted."""
    out = []
    for s in range(seconds):
        n = 0
        while pool.try_acquire(s + 0.5):
            n += 1
        out.append(n)
    return out


@pytest.mark.parametrize("rpm, per_second", [(59, {0, 1}), (100, {1, 2}), (30, {0, 1}), (1, {0, 1}),
                                             (6000, {100}), (150, {2, 3})])
def test_per_second_enforcement_admits_rpm_over_60_on_average_never_more_than_its_ceiling(rpm, per_second):
    got = admitted_each_second(per_second_pool(rpm), 600)
    assert set(got) == per_second
    assert [sum(got[m * 60:(m + 1) * 60]) for m in range(10)] == [rpm] * 10   # exactly rpm in each minute
    if rpm == 59:                     # one second in 60 admits nothing: about one call every 60/59 s
        assert got.count(0) == 10
    if rpm == 1:                      # one call a minute, at the first second of each minute
        assert [s for s, n in enumerate(got) if n] == list(range(0, 600, 60))


def test_per_second_carry_works_across_a_quota_change():
    change = type("F", (), {"kind": "quota-change", "at": 120.0, "duration": 120.0,
                            "hsm_requests_per_minute": 30.0})()
    got = admitted_each_second(per_second_pool(100, [change]), 360)
    assert sum(got[:120]) == 200 and set(got[:120]) == {1, 2}
    assert sum(got[120:240]) == 60 and set(got[120:240]) == {0, 1}
    assert sum(got[240:]) == 200 and max(got) == 2


def test_a_quota_below_60_per_minute_still_lets_instances_start():
    # One start every 10 s, one decrypt each; before the fix floor(59/60) = 0 refused every one.
    data = scenario(duration=600, services=[service(key_operations={"decrypts_per_start": 1})],
                    kms={"quota": {"hsm_requests_per_minute": 59}})
    _, out = world_run(data)
    app = svc_summary(out)
    assert app["instance_starts_failed"]["quota_exceeded"] <= 1
    assert app["cold_starts"]["count"] >= 55


# -- propagation -------------------------------------------------------------------------------------------
def test_schedule_destroy_during_the_propagation_delay_does_not_postpone_it():
    v = KeyVersion(Key(id="k", name=key_name("k")), propagation_s=60.0)
    assert v.apply("key-disable", 100.0)
    assert v.apply("key-schedule-destroy", 150.0)
    assert v.state_at(159.9) is KeyState.ENABLED
    assert v.state_at(160.0) is KeyState.DESTROY_SCHEDULED         # the disable's time + propagation
    # The same through a run: starts fail from 100 + 60 on, as destroy-scheduled.
    data = scenario(kms={"disable_propagation": 60},
                    faults=[{"at": 100, "kind": "key-disable", "key": "k"},
                            {"at": 150, "kind": "key-schedule-destroy", "key": "k"}])
    _, out = world_run(data)
    failing = [a[0] for a in out.audit if a[4] != 0]
    assert failing and min(failing) >= 160 and min(failing) < 172
    assert all(a[4] == 0 for a in out.audit if a[0] < 160)


# -- messages, pending timeout, counts, fault events ----------------------------------------------------------
def test_permission_denied_on_an_encrypt_names_use_to_encrypt():
    data = scenario(services=[steady()], faults=[{"at": 100, "kind": "iam-revoke", "key": "k"}])
    _, out = world_run(data)
    denied = {(a[2], a[5]) for a in out.audit if a[4] == 7}
    assert denied == {("Encrypt", f"Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied on resource "
                                  f"'{key_name('k')}' (or it may not exist)."),
                      ("Decrypt", f"Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on resource "
                                  f"'{key_name('k')}' (or it may not exist).")}


SLOW_START = {"schedule": 1.0, "image_fetch": 2.0, "container_start": 0.5, "app_init": 0.5}   # 4 s: 3.5 x 4 = 14


@pytest.mark.parametrize("first, then, before, after", [
    (None, "x", 14.0, 3.5 * (4.0 + 2 * (KMS_L + EKM_L))),       # onto an external key: longer
    ("x", None, 3.5 * (4.0 + 2 * (KMS_L + EKM_L)), 14.0),       # onto Google-managed: shorter
])
def test_pending_timeout_auto_follows_the_current_revision(first, then, before, after):
    def run(faults):
        data = scenario(duration=300, keys=[key("x", "external")],
                        services=[service(key_id=first, startup=SLOW_START, pending_timeout="auto")],
                        faults=faults)
        return svc_summary(world_run(data)[1])["pending_timeout_s"]
    assert run([]) == pytest.approx(before)
    assert run([{"at": 100, "kind": "deploy", "service": "app", "encryption_key": then}]) == pytest.approx(after)


def test_starts_stopped_by_the_countdown_are_counted_apart_from_ready_instances():
    # app's first failure at 311.51 starts its countdown; it ends at 620.51 and the final check fails at
    # 620.53, while the start requested at 620 is still in its first phases: one start aborted, no ready
    # instance shut down. steady's two ready instances are shut down by its own countdown.
    shut = {"revocation_action": "shut-down", "shutdown_after": 309}
    data = scenario(services=[service(**shut), steady(**shut)],
                    faults=[{"at": 310, "kind": "key-disable", "key": "k"}])
    _, out = world_run(data)
    app, st = svc_summary(out, "app")["instances"], svc_summary(out, "steady")["instances"]
    aborted = [r for r in rows(out, "app") if r["stop_reason"] == "key_revocation"]
    assert aborted and all(r["ready_at"] is None for r in aborted)
    assert aborted[0]["requested_at"] == pytest.approx(620) and aborted[0]["stopped_at"] == pytest.approx(620.53)
    assert app["starts_aborted_by_revocation"] == len(aborted) and app["shut_down_by_key_revocation"] == 0
    assert st["shut_down_by_key_revocation"] == 2
    ready_revoked = [r for r in rows(out, "steady") if r["stop_reason"] == "key_revocation" and r["ready_at"]]
    assert len(ready_revoked) == 2


def test_a_key_disabled_by_the_ekm_appears_in_fault_events(tmp_path):
    data = scenario(duration=400, keys=[key("x", "external")], services=[steady(key_id="x")],
                    faults=[{"at": 100, "kind": "ekm-outage", "duration": 100, "key": "x",
                             "error": "EXTERNAL_PERMISSION_DENIED"}])
    _, out = world_run(data)
    events = [e for e in out.fault_log if e.kind == "key-disabled-by-ekm"]
    assert len(events) == 1 and events[0].target == "x" and events[0].applied
    assert events[0].t == pytest.approx(120)          # steady's first validation check in the outage
    result = run_summary(data)
    folder = write_results(result, tmp_path / "r", plots=False)
    rows_csv = read_csv(folder / "fault_events.csv")
    ekm_rows = [r for r in rows_csv if r["kind"] == "key-disabled-by-ekm"]
    assert len(ekm_rows) == 1 and ekm_rows[0]["target"] == "x" and float(ekm_rows[0]["time_s"]) == pytest.approx(120)
