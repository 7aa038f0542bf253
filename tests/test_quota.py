"""Seed-page behaviour table, row "KMS quota exceeded" (DOMAIN.md sections 1, 5): RESOURCE_EXHAUSTED is
logged and no new instance starts until quota is available again. Pools are per (key project, protection
level); per-second enforcement admits rpm/60 per 1 s window on average (the fraction carried over, never
more than ceil(rpm/60) in one window), per-minute floor(rpm) in every fixed 60 s window aligned to 0; a
rejected request consumes nothing; software keys use no quota; other consumers (background_rps,
kms-background-load) draw on the pool of their own protection level (a plain background_rps, and a load
without `pool`, mean HSM), in every key project or the one a load names.

These tests check the hard rule (`hsm_enforcement: hard`, EKM's always, HSM's before 2026-02-16); the
soft rule (HSM's default since then) is tests/test_soft_quota.py.

Window counts are rebuilt from the raw records: the audit log (every service operation, with its code)
plus the pool's admitted background requests per second (kms_usage.csv's `background` - `background_rejected`:
requested minus refused).
"""
from __future__ import annotations

import bisect
import math
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from sim.model.logs import MSG_QUOTA
from sim.model.quota import QuotaPool
from sim.model.schedule import BackgroundLoad, QuotaSchedule
from sim.results import read_csv, read_jsonl, write_results

from test_kms_support import (
    errors, key, key_name, rows, run_summary, scenario, service, svc_summary, world_run,
)

OK_CODES_AFTER_QUOTA = {0, 7, 9}      # decided after the quota check: the request was admitted


def burst(name="app", key_id="k", rate=20, **extra):
    """Deterministic arrivals at `rate`, concurrency 1, 1 s requests: about `rate` starts per second."""
    return service(name, key_id, traffic={"rate": [[0, 0.5], [60, 0.5], [70, rate], [200, rate], [210, 0.5]]},
                   max_instances=1000, **extra)


def admitted_per_window(out, pool_name: str, window: float, key_names: set[str]) -> Counter:
    """Admitted requests (services + background) per enforcement window of one pool."""
    counts: Counter = Counter()
    for t, _svc, _m, name, code, _msg, _r in out.audit:
        if name in key_names and code in OK_CODES_AFTER_QUOTA:
            counts[int(t // window)] += 1
    for row in out.kms_usage:
        if row["pool"] == pool_name and row["background"] - row["background_rejected"]:
            counts[int(row["second"] // window)] += row["background"] - row["background_rejected"]
    return counts


def pool_of(world, name: str):
    return next(p for p in world.pools.values() if p.name == name)


# -- the windows ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("enforcement, rpm, window", [("per-second", 150, 1.0), ("per-minute", 150, 60.0),
                                                      ("per-second", 600, 1.0), ("per-minute", 200, 60.0)])
def test_no_window_admits_more_than_the_quota(enforcement, rpm, window):
    data = scenario(duration=400, services=[burst()],
                    kms={"quota": {"hsm_requests_per_minute": rpm, "enforcement": enforcement, "background_rps": 1,
                                   "hsm_enforcement": "hard"}})
    world, out = world_run(data)
    limit = math.ceil(rpm / 60) if window == 1.0 else rpm
    counts = admitted_per_window(out, "sec/hsm", window, {key_name("k")})
    per_minute = admitted_per_window(out, "sec/hsm", 60.0, {key_name("k")})
    assert all(n <= rpm for n in per_minute.values())        # per-second: rpm/60 on average, no more
    assert max(counts.values()) == limit                     # the quota binds...
    assert all(n <= limit for n in counts.values())          # ...and is never exceeded
    pool = pool_of(world, "sec/hsm")
    assert pool.admitted_services == sum(1 for a in out.audit if a[4] in OK_CODES_AFTER_QUOTA)
    assert pool.rejected_services == sum(1 for a in out.audit if a[4] == 8) > 0
    assert pool.admitted_background == sum(r["background"] - r["background_rejected"] for r in out.kms_usage) > 0
    assert pool.rejected_background == sum(r["background_rejected"] for r in out.kms_usage)
    assert pool.peak_admitted_per_window == limit
    summary = out.summary["kms"]["quota_pools"]["sec/hsm"]
    assert summary["enforcement"] == enforcement and summary["requests_per_minute"] == rpm
    if window == 1.0:
        assert summary["peak_admitted_per_second"] == limit
    else:
        assert summary["peak_admitted_per_minute"] == limit
    # A window with a rejected service request was full when it was refused: nothing admitted is lost.
    rejected = Counter(int(a[0] // window) for a in out.audit if a[4] == 8)
    full = {limit, math.floor(rpm / 60)} if window == 1.0 else {limit}    # per-second: that window's allowance
    assert all(counts[w] in full for w in rejected)


def test_quota_pool_rejections_consume_nothing_and_windows_reset():
    change = SimpleNamespace(kind="quota-change", at=30.0, duration=None, hsm_requests_per_minute=120.0)
    pool = QuotaPool("p/hsm", QuotaSchedule(60.0, [change], "hsm_requests_per_minute"), "per-minute",
                     BackgroundLoad(0.0, []), np.random.default_rng(0), horizon=600.0)
    got = [bool(pool.try_acquire(1.0 + i * 0.1)) for i in range(100)]        # 60 rpm in window [0, 60)
    assert got.count(True) == 60 and got[:60] == [True] * 60
    # The limit rises to 120 at 30 s, in the same window: 60 more are admitted (the 40 refused took nothing).
    more = [bool(pool.try_acquire(31.0 + i * 0.1)) for i in range(100)]
    assert more.count(True) == 60 and more[:60] == [True] * 60
    assert pool.try_acquire(60.0)                                      # a new window
    assert (pool.admitted_services, pool.rejected_services) == (121, 80)

    per_second = QuotaPool("p/hsm", QuotaSchedule(300.0, [], "hsm_requests_per_minute"), "per-second",
                           BackgroundLoad(0.0, []), np.random.default_rng(0), horizon=600.0)
    assert [per_second.try_acquire(5.5) for _ in range(7)] == ["quota"] * 5 + [None] * 2
    assert per_second.try_acquire(5.999) is None and per_second.try_acquire(6.0) == "quota"


def test_resource_exhausted_fails_the_start_as_quota_exceeded_with_the_published_message(tmp_path):
    data = scenario(duration=300, services=[burst(autoscaling={"interval": 2})],
                    kms={"quota": {"hsm_requests_per_minute": 120}})
    result = run_summary(data)
    out = result.outputs[0]
    failed = [r for r in rows(out) if r["start_error"]]
    assert failed and {r["start_error"] for r in failed} == {"quota_exceeded"}
    app = svc_summary(out)
    assert app["instance_starts_failed"]["quota_exceeded"] == len(failed)
    kms = out.summary["kms"]
    exhausted = [a for a in out.audit if a[4] == 8]
    assert kms["resource_exhausted"] == len(exhausted) == kms["errors_by_code"]["RESOURCE_EXHAUSTED"]
    assert sum(out.timeseries["app"]["kms_resource_exhausted"]) == len(exhausted)
    # Each failed start is logged once, with the exact published text.
    fail_times = {r["stopped_at"] for r in failed}
    start_errors = [e for e in errors(out) if e[0] in fail_times]
    assert {e[3] for e in errors(out)} == {MSG_QUOTA % key_name("k")}
    assert MSG_QUOTA % key_name("k") == ("User's KMS operation quota has been exceeded. CMEK key: "
                                         "projects/sec/locations/us-central1/keyRings/run/cryptoKeys/k")
    assert len(start_errors) >= len(failed)
    # No new instance starts until the next autoscaler decision after a refused start.
    requested = sorted(r["requested_at"] for r in rows(out))
    for r in failed:
        grid = (math.floor(r["stopped_at"] / 2 + 1e-9) + 1) * 2
        i = bisect.bisect_right(requested, r["stopped_at"])
        assert i == len(requested) or requested[i] >= grid - 1e-9, (r, requested[i])
    # The same, read back from a results folder.
    folder = write_results(result, tmp_path / "r", plots=False)
    audit_lines = read_jsonl(folder / "kms_audit.jsonl")
    assert sum(1 for e in audit_lines if e["protoPayload"]["status"]["code"] == 8) == len(exhausted)
    run_errors = read_jsonl(folder / "run_errors.jsonl")
    assert {e["textPayload"] for e in run_errors} == {MSG_QUOTA % key_name("k")}
    inst = read_csv(folder / "instances.csv")
    assert sum(1 for r in inst if r["start_error"] == "quota_exceeded") == len(failed)
    usage = read_csv(folder / "kms_usage.csv")
    assert sum(r["resource_exhausted"] for r in usage) == len(exhausted)


def test_software_key_never_gets_resource_exhausted_and_counts_no_quota():
    data = scenario(duration=400, keys=[key("k", "software")], services=[burst()],
                    kms={"quota": {"hsm_requests_per_minute": 60, "external_requests_per_minute": 60,
                                   "background_rps": 5}})
    world, out = world_run(data)
    assert world.pools == {} and out.summary["kms"]["quota_pools"] == {}
    assert out.summary["kms"]["resource_exhausted"] == 0
    assert all(a[4] == 0 for a in out.audit)
    assert {r["pool"] for r in out.kms_usage} == {"software"}
    assert all(r["background"] == 0 and r["quota_per_second"] is None for r in out.kms_usage)
    assert out.summary["kms"]["peak_per_second"] > 1                     # plenty of operations, no quota
    assert svc_summary(out)["instance_starts_failed"]["quota_exceeded"] == 0


def _steady_load(**extra):
    """A start every 10 s plus a validation check every second: about 2.2 operations per second."""
    return service(key_operations={"validation_interval": 1}, **extra)


@pytest.mark.parametrize("how", ["kms-background-load", "background_rps"])
def test_background_load_draws_on_the_same_quota(how):
    quota = {"hsm_requests_per_minute": 600, "hsm_enforcement": "hard"}           # 10 per second
    faults = []
    if how == "background_rps":
        quota["background_rps"] = 30
    else:
        faults = [{"at": 300, "kind": "kms-background-load", "duration": 300, "rps": 30}]
    world, out = world_run(scenario(duration=900, services=[_steady_load()], kms={"quota": quota},
                                    faults=faults))
    counts = admitted_per_window(out, "sec/hsm", 1.0, {key_name("k")})
    assert all(n <= 10 for n in counts.values()) and max(counts.values()) == 10
    refused = [a[0] for a in out.audit if a[4] == 8]
    assert refused
    bg_seconds = [r["second"] for r in out.kms_usage if r["background"]]
    pool = pool_of(world, "sec/hsm")
    assert pool.admitted_background > 0 and pool.rejected_background > 0
    if how == "kms-background-load":
        assert 300 <= min(refused) and max(refused) < 600
        assert min(bg_seconds) >= 300 and max(bg_seconds) < 600
    else:
        assert min(refused) < 60 and max(refused) > 840
    # The same load without background: nothing refused.
    _, quiet = world_run(scenario(duration=900, services=[_steady_load()],
                                  kms={"quota": {"hsm_requests_per_minute": 600, "hsm_enforcement": "hard"}}))
    assert not [a for a in quiet.audit if a[4] == 8]


def test_quota_change_changes_the_limit_for_its_window_only():
    faults = [{"at": 300, "kind": "quota-change", "hsm_requests_per_minute": 60, "duration": 300},
              {"at": 100, "kind": "quota-change", "external_requests_per_minute": 60}]    # another pool
    world, out = world_run(scenario(duration=900, services=[_steady_load()],
                                    kms={"quota": {"hsm_requests_per_minute": 600}}, faults=faults))
    refused = [a[0] for a in out.audit if a[4] == 8]
    assert refused and 300 <= min(refused) and max(refused) < 600
    counts = admitted_per_window(out, "sec/hsm", 1.0, {key_name("k")})
    assert all(n <= 1 for s, n in counts.items() if 300 <= s < 600)
    assert max(n for s, n in counts.items() if s < 300 or s >= 600) > 1
    quota_col = {r["second"]: r["quota_per_second"] for r in out.kms_usage}
    assert {q for s, q in quota_col.items() if 300 <= s < 600} == {1.0}
    assert {q for s, q in quota_col.items() if s < 300 or s >= 600} == {10.0}
    # Without a duration the change lasts to the end of the run.
    _, out2 = world_run(scenario(duration=900, services=[_steady_load()],
                                 kms={"quota": {"hsm_requests_per_minute": 600}},
                                 faults=[{"at": 300, "kind": "quota-change", "hsm_requests_per_minute": 60}]))
    refused2 = [a[0] for a in out2.audit if a[4] == 8]
    assert 300 <= min(refused2) and max(refused2) > 850


def test_hsm_and_external_pools_are_separate():
    keys = [key("h", "hsm"), key("x", "external"), key("v", "external-vpc")]
    data = scenario(duration=400, keys=keys,
                    services=[burst("hsm-app", "h"), burst("ext-app", "x"), _steady_load(name="vpc-app",
                                                                                         key_id="v")],
                    kms={"quota": {"hsm_requests_per_minute": 6000, "external_requests_per_minute": 120}})
    world, out = world_run(data)
    assert sorted(out.summary["kms"]["quota_pools"]) == ["sec/external", "sec/hsm"]
    hsm = svc_summary(out, "hsm-app")["instance_starts_failed"]["quota_exceeded"]
    ext = svc_summary(out, "ext-app")["instance_starts_failed"]["quota_exceeded"]
    assert hsm == 0 and ext > 0
    # external and external-vpc keys share the external pool; the HSM pool only counts the HSM key.
    pools = out.summary["kms"]["quota_pools"]
    by_key = Counter(a[3] for a in out.audit if a[4] in OK_CODES_AFTER_QUOTA)
    assert pools["sec/hsm"]["admitted_services"] == by_key[key_name("h")]
    assert pools["sec/external"]["admitted_services"] == by_key[key_name("x")] + by_key[key_name("v")]
    counts = admitted_per_window(out, "sec/external", 1.0, {key_name("x"), key_name("v")})
    assert max(counts.values()) == 2
    assert any(a[4] == 8 for a in out.audit if a[1] == "vpc-app")


def test_services_with_keys_in_one_key_project_share_a_pool():
    keys = [key("a", "hsm", "shared-sec"), key("b", "hsm", "shared-sec"), key("c", "hsm", "elsewhere")]
    quota = {"hsm_requests_per_minute": 600, "hsm_enforcement": "hard"}
    services = [burst("noisy", "a"), _steady_load(name="quiet", key_id="b"), _steady_load(name="apart", key_id="c")]
    world, out = world_run(scenario(duration=400, keys=keys, services=services, kms={"quota": quota}))
    pools = out.summary["kms"]["quota_pools"]
    assert sorted(pools) == ["elsewhere/hsm", "shared-sec/hsm"]
    by_key = Counter(a[3] for a in out.audit if a[4] in OK_CODES_AFTER_QUOTA)
    assert pools["shared-sec/hsm"]["admitted_services"] == by_key[key_name("a", "shared-sec")] + \
        by_key[key_name("b", "shared-sec")]
    assert pools["elsewhere/hsm"]["admitted_services"] == by_key[key_name("c", "elsewhere")]
    counts = admitted_per_window(out, "shared-sec/hsm", 1.0,
                                 {key_name("a", "shared-sec"), key_name("b", "shared-sec")})
    assert max(counts.values()) == 10 and all(n <= 10 for n in counts.values())
    # noisy's burst starves quiet (same pool), not apart (another project's pool).
    quiet_refused = [a[0] for a in out.audit if a[1] == "quiet" and a[4] == 8]
    assert quiet_refused and all(60 <= t < 240 for t in quiet_refused)
    assert svc_summary(out, "quiet")["instance_starts_failed"]["quota_exceeded"] > 0
    assert not [a for a in out.audit if a[1] == "apart" and a[4] == 8]
    # Alone, quiet meets no refusal.
    _, alone = world_run(scenario(duration=400, keys=keys, services=services[1:], kms={"quota": quota}))
    assert not [a for a in alone.audit if a[4] == 8]


def test_peak_per_second_counts_requested_operations_admitted_or_not():
    _, out = world_run(scenario(duration=300, services=[burst()], kms={"quota": {"hsm_requests_per_minute": 120,
                                                                                   "hsm_enforcement": "hard"}}))
    per_second = Counter(int(a[0]) for a in out.audit)
    per_minute = Counter(int(a[0]) // 60 for a in out.audit)
    kms = out.summary["kms"]
    assert kms["peak_per_second"] == max(per_second.values()) > 2
    assert kms["peak_per_minute"] == max(per_minute.values())
    assert kms["quota_pools"]["sec/hsm"]["peak_admitted_per_second"] == 2
    assert kms["operations"] == len(out.audit)


# -- background load belongs to a pool (DOMAIN.md section 9, "Quota pools") ---------------------------------
def _two_pools(quota=None, faults=(), keys=None):
    """app on the HSM key k, ext on the external key x, both in project sec: two pools, sec/hsm and
    sec/external, with tight quotas (10 per second each) so that any background shows in the refusals."""
    keys = keys or [key("k"), key("x", "external")]
    services = [_steady_load(), _steady_load(name="ext", key_id=keys[1]["id"])]
    quota = {"hsm_requests_per_minute": 600, "external_requests_per_minute": 600, **(quota or {})}
    return world_run(scenario(duration=600, keys=keys, services=services, kms={"quota": quota}, faults=faults))


def _background_by_pool(out) -> dict:
    """Admitted background requests per pool, from kms_usage.csv's rows."""
    totals: Counter = Counter()
    for row in out.kms_usage:
        totals[row["pool"]] += row["background"]
    return dict(totals)


def _pool_audit(out, key_id: str) -> list:
    """The audit records of the key with this id (whatever its project)."""
    return [a for a in out.audit if a[3].endswith(f"/cryptoKeys/{key_id}")]


@pytest.mark.parametrize("how", ["background_rps", "kms-background-load"])
def test_background_on_the_external_pool_leaves_the_hsm_pool_alone(how):
    if how == "background_rps":
        world, out = _two_pools(quota={"background_rps": {"external": 30}})
    else:
        world, out = _two_pools(faults=[{"at": 100, "kind": "kms-background-load", "duration": 300, "rps": 30,
                                         "pool": "external"}])
    _, quiet = _two_pools()
    pools = out.summary["kms"]["quota_pools"]
    assert pools["sec/external"]["admitted_background"] > 0 and pools["sec/external"]["rejected_background"] > 0
    assert pools["sec/hsm"]["admitted_background"] == pools["sec/hsm"]["rejected_background"] == 0
    assert _background_by_pool(out).get("sec/hsm", 0) == 0
    # The HSM pool's admissions are exactly those of the run without any background.
    assert _pool_audit(out, "k") == _pool_audit(quiet, "k")
    assert pools["sec/hsm"] == quiet.summary["kms"]["quota_pools"]["sec/hsm"]
    # ...while the external service meets RESOURCE_EXHAUSTED.
    assert any(a[4] == 8 for a in _pool_audit(out, "x")) and not any(a[4] == 8 for a in _pool_audit(quiet, "x"))
    if how == "kms-background-load":
        bg_seconds = [r["second"] for r in out.kms_usage if r["pool"] == "sec/external" and r["background"]]
        assert 100 <= min(bg_seconds) and max(bg_seconds) < 400


def test_a_plain_background_rps_loads_the_hsm_pool_only():
    world, out = _two_pools(quota={"background_rps": 30})
    _, quiet = _two_pools()
    pools = out.summary["kms"]["quota_pools"]
    assert pools["sec/hsm"]["admitted_background"] > 0
    assert pools["sec/external"]["admitted_background"] == pools["sec/external"]["rejected_background"] == 0
    assert _pool_audit(out, "x") == _pool_audit(quiet, "x")
    assert any(a[4] == 8 for a in _pool_audit(out, "k"))


def test_background_load_without_pool_means_hsm_of_every_key_project():
    keys = [key("k"), key("k2", project="other")]
    world, out = _two_pools(keys=keys, faults=[{"at": 100, "kind": "kms-background-load", "duration": 300,
                                                "rps": 30}])
    totals = _background_by_pool(out)
    assert totals["sec/hsm"] > 0 and totals["other/hsm"] > 0


def test_background_load_with_project_loads_that_projects_pool_only():
    keys = [key("k"), key("k2", project="other")]
    world, out = _two_pools(keys=keys, faults=[{"at": 100, "kind": "kms-background-load", "duration": 300,
                                                "rps": 30, "pool": "hsm", "project": "other"}])
    _, quiet = _two_pools(keys=keys)
    assert _background_by_pool(out).get("sec/hsm", 0) == 0 and _background_by_pool(out)["other/hsm"] > 0
    assert _pool_audit(out, "k") == _pool_audit(quiet, "k")
    assert any(a[4] == 8 for a in _pool_audit(out, "k2"))
