"""Seed-page behaviour table, the external key manager rows and Cloud KMS outages (DOMAIN.md sections 1, 6):
retryable errors keep instances starting (retried with backoff, nothing shut down), non-retryable errors
fail starts and shut running instances down after the waiting period whatever the revocation action,
EKM latency over the 150 ms timeout is the retryable TIMEOUT. Plus: faults never change the arrivals.

Deterministic scenarios: constant latencies (Cloud KMS 10 ms, EKM 40 ms), jitter 0, evenly spaced arrivals.
"""
from __future__ import annotations

import pytest

from sim.model.logs import MSG_DISABLED, MSG_EKM_UNPUBLISHED, Clock, run_error_entry
from sim.runner import run
from sim.scenario import NON_RETRYABLE_EKM_DOMAINS, RETRYABLE_EKM_DOMAINS

from test_kms_support import (
    EKM_L, KEY_OPS_OFFSET, KMS_L, build, deep_merge, errors, first_key_op, key, key_name, rows, scenario,
    service, start_ops, steady, svc_summary, world_run,
)

X = key_name("x")
OUT_START, OUT_END = 60.0, 360.0
BURST_FIRST_ARRIVAL = 100.5


def steady_svc(**extra):
    return steady(key_id="x", **deep_merge({"traffic": {"rate": 0.5}}, extra))


def burst_svc(**extra):
    """Concurrency 80, cloud-run policy: from 100.5 s one request every 5 s, which needs exactly one instance."""
    return service("burst", "x", **deep_merge({
        "concurrency": 80, "idle_retention": 900, "autoscaling": {"policy": "cloud-run"},
        "traffic": {"rate": [[0, 0], [100, 0], [BURST_FIRST_ARRIVAL, 0.2]]}}, extra))


def outage_fault(kind: str, at=OUT_START, duration=OUT_END - OUT_START, **extra) -> dict:
    if kind == "kms-outage":
        return {"at": at, "kind": "kms-outage", "duration": duration, **extra}
    return {"at": at, "kind": "ekm-outage", "duration": duration, "error": kind, **extra}


def expected_attempts(first: float, failed_latency: float, end: float, initial=1.0, multiplier=2.0, cap=32.0):
    """Attempt times of a start retried from `first` while an outage lasts until `end`."""
    times, backoffs, t, b = [first], [], first, initial
    while t < end:
        backoffs.append(b)
        t = t + failed_latency + b
        times.append(t)
        b = min(b * multiplier, cap)
    return times, backoffs


# -- retryable ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("error", sorted(RETRYABLE_EKM_DOMAINS) + ["kms-outage"])
def test_retryable_outage_retries_with_backoff_and_shuts_nothing_down(error):
    shut = {"revocation_action": "shut-down", "shutdown_after": 30}     # would fire quickly if it started
    data = scenario(duration=900, keys=[key("x", "external")],
                    services=[steady_svc(**shut), burst_svc(**shut)], faults=[outage_fault(error)])
    world, out = world_run(data)
    # Refused before the quota check (UNAVAILABLE) or after it (EKM errors): only the latter count.
    (pool,) = world.pools.values()
    assert pool.admitted_services == sum(1 for a in out.audit if a[4] != 14) and pool.rejected_services == 0

    # One instance of `burst` starts during the outage: its decrypt is retried after 1, 2, 4, 8, 16, 32,
    # 32... seconds (plus each failed call's latency) until the outage ends, then both decrypts succeed.
    failed_latency = KMS_L if error == "kms-outage" else KMS_L + EKM_L
    (inst,) = rows(out, "burst")
    first = first_key_op(inst)
    assert first == pytest.approx(BURST_FIRST_ARRIVAL + KEY_OPS_OFFSET)
    times, _ = expected_attempts(first, failed_latency, OUT_END)
    ops = start_ops(out, "burst")
    ok = KMS_L + EKM_L
    assert [a[0] for a in ops] == pytest.approx(times + [times[-1] + ok])
    for a in ops[:-2]:
        if error == "kms-outage":
            assert (a[4], a[5]) == (14, "The service is currently unavailable.")
        else:
            assert (a[4], a[5]) == (9, f"The external key manager returned an error. Error domain: {error}.")
    assert [a[4] for a in ops[-2:]] == [0, 0]
    assert inst["key_attempts"] == len(ops)

    # The waiting start completes after the outage; its kms_wait_s covers the whole wait.
    assert inst["start_error"] is None and inst["ready_at"] > OUT_END
    assert inst["kms_wait_s"] >= OUT_END - first
    assert inst["kms_wait_s"] == pytest.approx(times[-1] + 2 * ok - first)
    burst = svc_summary(out, "burst")
    assert burst["cold_starts"]["count"] == 1
    assert burst["cold_starts"]["kms_wait_s"]["max"] == pytest.approx(inst["kms_wait_s"])

    # During it: nobody becomes ready, nobody stops for the key, no start fails, nothing is logged.
    assert not [r for r in out.instances if r["ready_at"] is not None and OUT_START <= r["ready_at"] < OUT_END]
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]
    assert [r["stop_reason"] for r in rows(out, "steady")] == ["end_of_run", "end_of_run"]
    for s in out.summary["services"].values():
        assert sum(s["instance_starts_failed"].values()) == 0
        assert s["instances"]["shut_down_by_key_revocation"] == 0
    assert not out.run_errors
    # Validation checks during the outage fail too, but a retryable error is not a revocation.
    assert any(a[4] != 0 and a[1] == "steady" for a in out.audit)
    assert set(out.timeseries["steady"]["key_usable"]) == {1}
    # Scale-out is slower than expected: the twin's instance is ready ~2 s after the first request.
    assert burst["requests"]["failed_429"] > 0


def test_backoff_follows_the_retry_parameters():
    data = scenario(duration=900, keys=[key("x", "external")], services=[burst_svc()],
                    faults=[outage_fault("UNREACHABLE_NETWORK")],
                    kms={"retry": {"initial_backoff": "500ms", "multiplier": 3, "max_backoff": "20s"}})
    _, out = world_run(data)
    (inst,) = rows(out, "burst")
    times, backoffs = expected_attempts(first_key_op(inst), KMS_L + EKM_L, OUT_END, 0.5, 3.0, 20.0)
    assert backoffs[:5] == [0.5, 1.5, 4.5, 13.5, 20.0] and set(backoffs[4:]) == {20.0}
    assert [a[0] for a in start_ops(out, "burst")][:-1] == pytest.approx(times)


def test_backoff_jitter_stays_within_its_fraction():
    data = scenario(duration=900, keys=[key("x", "external")], services=[burst_svc()],
                    faults=[outage_fault("OVERLOADED_EKM")], kms={"retry": {"jitter": 0.2}})
    _, out = world_run(data)
    ts = [a[0] for a in start_ops(out, "burst")][:-1]
    gaps = [b - a - (KMS_L + EKM_L) for a, b in zip(ts, ts[1:])]
    nominal = [min(2.0 ** i, 32.0) for i in range(len(gaps))]
    assert all(0.8 * n - 1e-9 <= g <= 1.2 * n + 1e-9 for g, n in zip(gaps, nominal))
    assert any(abs(g - n) > 1e-6 for g, n in zip(gaps, nominal))        # the jitter is drawn


# -- non-retryable -------------------------------------------------------------------------------------------
NR_AT, AFTER, CHECK = 100.0, 300.0, 60.0


def nr_scenario(error: str, action: str, duration_s: float, **extra):
    act = {"revocation_action": action, "shutdown_after": AFTER}
    return scenario(keys=[key("x", "external")],
                    services=[service("app", "x", **act), steady_svc(**act)],
                    faults=[outage_fault(error, at=NR_AT, duration=duration_s)], **extra)


NR_CASES = [(e, a) for e in sorted(NON_RETRYABLE_EKM_DOMAINS) for a in ("prevent-new", "shut-down")
            # EXTERNAL_PERMISSION_DENIED disables the version: a service that only meets the disabled version
            # (not the EKM error) follows its own action; see the test below.
            if (e, a) != ("EXTERNAL_PERMISSION_DENIED", "prevent-new")]


@pytest.mark.parametrize("error, action", NR_CASES)
def test_non_retryable_error_fails_starts_and_shuts_down_whatever_the_action(error, action):
    _, out = world_run(nr_scenario(error, action, 1700))
    failure = "key_disabled" if error == "EXTERNAL_PERMISSION_DENIED" else "ekm_non_retryable"

    app_failed = [r for r in rows(out, "app") if r["start_error"]]
    assert app_failed and all(first_key_op(r) >= NR_AT for r in app_failed)
    # The first start in the outage fails on the EKM error (for EXTERNAL_PERMISSION_DENIED, later ones
    # meet the version the EKM has disabled).
    assert min(app_failed, key=lambda r: r["requested_at"])["start_error"] == "ekm_non_retryable"
    assert {r["start_error"] for r in app_failed} <= {"ekm_non_retryable", failure}
    for r in rows(out, "app"):
        if first_key_op(r) >= NR_AT and r["stop_reason"] != "key_revocation":
            assert r["start_error"] in {"ekm_non_retryable", failure} and r["ready_at"] is None
    assert svc_summary(out, "app")["instance_starts_failed"]["ekm_non_retryable"] >= 1

    # Every instance running at the outage start is shut down within shutdown_after plus one validation
    # interval (and the check's two calls) after it, none earlier.
    running = [r for r in out.instances if r["ready_at"] is not None and r["ready_at"] < NR_AT
               and (r["stopped_at"] is None or r["stopped_at"] > NR_AT)]
    assert len(running) >= 2
    for r in running:
        assert r["stop_reason"] == "key_revocation", r
        assert NR_AT + AFTER <= r["stopped_at"] <= NR_AT + AFTER + CHECK + 2 * (KMS_L + EKM_L), r
    assert min(r["stopped_at"] for r in out.instances if r["stop_reason"] == "key_revocation") >= NR_AT + AFTER
    assert svc_summary(out, "steady")["instances"]["shut_down_by_key_revocation"] == 2

    # Cloud Run's wording for an EKM error is not published: our own text, labelled as such.
    ekm_errors = [e for e in errors(out) if not e[4]]
    assert ekm_errors and all(e[3] == MSG_EKM_UNPUBLISHED % (error, X) for e in ekm_errors)
    entry = run_error_entry(Clock("2026-01-01T00:00:00Z"), 0, ekm_errors[0], "acme-prod", "us-central1")
    assert entry["labels"] == {"cmek_sim/message": "unpublished"}
    # key_usable: 0 while the non-retryable outage lasts.
    usable = out.timeseries["steady"]["key_usable"]
    assert usable[0] == 1 and set(usable[int(NR_AT // 10):-1]) == {0}


@pytest.mark.parametrize("error", sorted(NON_RETRYABLE_EKM_DOMAINS - {"EXTERNAL_PERMISSION_DENIED"}))
@pytest.mark.parametrize("action", ["prevent-new", "shut-down"])
def test_non_retryable_error_that_heals_in_time_cancels_the_shutdown(error, action):
    _, out = world_run(nr_scenario(error, action, 200))             # healed at 300, countdown ends ~420
    assert not [r for r in out.instances if r["stop_reason"] == "key_revocation"]
    assert [r["stop_reason"] for r in rows(out, "steady")] == ["end_of_run", "end_of_run"]
    assert svc_summary(out, "app")["instance_starts_failed"]["ekm_non_retryable"] > 0
    assert all(r["start_error"] is None for r in rows(out, "app") if first_key_op(r) >= 300)
    assert all(a[4] == 0 for a in out.audit if a[0] >= 300)


def test_external_permission_denied_leaves_the_key_disabled():
    # steady is alone on the key, so its own validation check is the first call to meet the EKM error.
    act = {"revocation_action": "prevent-new", "shutdown_after": AFTER}
    world, out = world_run(scenario(keys=[key("x", "external")], services=[steady_svc(**act)],
                                    faults=[outage_fault("EXTERNAL_PERMISSION_DENIED", at=NR_AT, duration=200)]))
    from sim.model.keys import KeyState
    assert world.keys["x"].state is KeyState.DISABLED
    # After the outage the EKM answers again, but the version it disabled stays DISABLED.
    later = [a for a in out.audit if a[0] >= 300]
    assert later and all(a[4] == 9 and a[5] == f"{X}/cryptoKeyVersions/1 is not enabled, current state is: "
                                                  "DISABLED." for a in later)
    first_err = errors(out)[0]
    assert first_err[0] == pytest.approx(120 + (KMS_L + EKM_L) + KMS_L)   # the decrypt meets DISABLED
    assert first_err[3] == MSG_EKM_UNPUBLISHED % ("EXTERNAL_PERMISSION_DENIED", X)
    assert {e[3] for e in errors(out)[1:]} == {MSG_DISABLED % X}
    # The non-retryable error started the countdown and no key operation has succeeded since: shut down.
    revoked = [r for r in rows(out, "steady") if r["stop_reason"] == "key_revocation"]
    # (when it ends, a final validation check, encrypt and decrypt, meets the disabled version: shut down)
    assert len(revoked) == 2 and all(r["stopped_at"] == pytest.approx(first_err[0] + AFTER + 2 * KMS_L)
                                     for r in revoked)
    # Its restarts then fail on the disabled version.
    assert {r["start_error"] for r in rows(out, "steady") if r["stop_reason"] == "start_failed"} == {"key_disabled"}


def test_external_permission_denied_seen_by_another_service_first_leaves_prevent_new_running():
    """app meets the EKM error first (a start at 101.5 s) and the EKM disables the version; steady's next
    check (120 s) meets a DISABLED version, which with prevent-new stops nothing (as for a key-disable)."""
    world, out = world_run(nr_scenario("EXTERNAL_PERMISSION_DENIED", "prevent-new", 1700))
    assert errors(out, "app")[0][3] == MSG_EKM_UNPUBLISHED % ("EXTERNAL_PERMISSION_DENIED", X)
    assert {e[3] for e in errors(out, "steady")} == {MSG_DISABLED % X}
    assert [r["stop_reason"] for r in rows(out, "steady")] == ["end_of_run", "end_of_run"]
    assert svc_summary(out, "app")["instance_starts_failed"]["ekm_non_retryable"] == 1


def test_outage_naming_one_key_leaves_the_other_external_key_alone():
    data = scenario(keys=[key("x", "external"), key("y", "external")],
                    services=[service("app", "x"), service("other", "y")],
                    faults=[outage_fault("EXTERNAL_NOT_FOUND", at=100, duration=600, key="x")])
    _, out = world_run(data)
    assert svc_summary(out, "app")["instance_starts_failed"]["ekm_non_retryable"] > 0
    assert sum(svc_summary(out, "other")["instance_starts_failed"].values()) == 0
    assert all(a[4] == 0 for a in out.audit if a[1] == "other")


# -- EKM latency -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("latency, times_out", [("200ms", True), ("151ms", True), ("150ms", False),
                                                ("140ms", False)])
def test_ekm_latency_over_the_timeout_is_a_retryable_timeout(latency, times_out):
    at, until = 100.0, 400.0
    data = scenario(keys=[key("x", "external")], services=[service("app", "x")],
                    faults=[{"at": at, "kind": "ekm-latency", "duration": until - at,
                             "latency": {"dist": "constant", "value": latency}}])
    _, out = world_run(data)
    inside = [a for a in out.audit if at <= a[0] < until]
    assert inside
    if times_out:
        for a in inside:
            assert (a[4], a[5]) == (9, "The external key manager did not respond in time. Error domain: TIMEOUT.")
        # The starts that met it waited out the window (retried), none failed, none was ready inside it.
        assert sum(svc_summary(out)["instance_starts_failed"].values()) == 0
        assert not [r for r in rows(out) if r["ready_at"] and at + 5 < r["ready_at"] < until]
        waited = [r for r in rows(out) if at <= first_key_op(r) < until and r["ready_at"]]
        assert waited and all(r["ready_at"] > until and r["kms_wait_s"] >= until - first_key_op(r)
                              for r in waited)
        # A timed-out call costs Cloud KMS latency plus the 150 ms timeout.
        gaps = [b[0] - a[0] for a, b in zip(inside, inside[1:]) if a[6] == b[6] and b[0] - a[0] < 1.2]
        assert gaps and min(gaps) == pytest.approx(KMS_L + 0.150 + 1.0)
    else:
        assert all(a[4] == 0 for a in out.audit)
        inside_rows = [r for r in rows(out) if at <= first_key_op(r) < until - 5]
        ekm = float(latency.removesuffix("ms")) / 1000
        assert inside_rows and all(r["kms_wait_s"] == pytest.approx(2 * (KMS_L + ekm)) for r in inside_rows)


# -- arrivals do not depend on faults ------------------------------------------------------------------------
def test_arrivals_identical_with_and_without_faults():
    data = scenario(
        duration=1200, keys=[key("h", "hsm"), key("x", "external")],
        services=[service("app", "h", traffic={"arrivals": "poisson", "rate": [[0, 2], [600, 20], [1200, 5]]},
                          concurrency=4, autoscaling={"policy": "cloud-run"}, idle_retention=60),
                  service("ext", "x", traffic={"arrivals": "poisson", "rate": 3}, concurrency=2,
                          revocation_action="shut-down", shutdown_after=120)],
        kms={"retry": {"jitter": 0.2}, "quota": {"hsm_requests_per_minute": 300, "background_rps": 1}},
        faults=[{"at": 100, "kind": "key-disable", "key": "h"}, {"at": 300, "kind": "key-enable", "key": "h"},
                {"at": 200, "kind": "ekm-outage", "duration": 300, "error": "EXTERNAL_NOT_FOUND"},
                {"at": 600, "kind": "kms-outage", "duration": 60},
                {"at": 700, "kind": "iam-revoke", "key": "h"}, {"at": 800, "kind": "iam-grant", "key": "h"},
                {"at": 900, "kind": "quota-change", "hsm_requests_per_minute": 60, "duration": 120},
                {"at": 950, "kind": "kms-background-load", "duration": 60, "rps": 10},
                {"at": 1000, "kind": "deploy", "service": "ext"}])
    data["kms"]["latency"] = {"dist": "lognormal", "median": "8ms", "p99": "40ms"}
    result = run(build(data), replications=1, baseline=True)
    out, twin = result.outputs[0], result.baseline0
    assert twin is not None
    for name in ("app", "ext"):
        assert out.timeseries[name]["arrivals"] == twin.timeseries[name]["arrivals"]
        assert sum(out.timeseries[name]["arrivals"]) == svc_summary(out, name)["requests"]["arrived"] > 0
    # ...while the faults did change what happened to them.
    assert svc_summary(out, "ext")["instances"]["shut_down_by_key_revocation"] > 0
    assert out.summary["services"]["app"]["capacity_loss"]["ready_instance_s"] > 0
