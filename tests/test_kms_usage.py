"""kms_usage.csv gives each column one meaning (issue 9, point 8).

`starts`, `validation`, `deploy`, `background`: requested operations per reason (admitted or refused);
`starts_rejected`, `validation_rejected`, `deploy_rejected`, `background_rejected`: those the quota refused
(RESOURCE_EXHAUSTED), so requested - rejected = admitted for each reason; `resource_exhausted`: the
services' refused operations in all; `unavailable`: the services' operations a kms-outage answered before
the quota check (they use none of it).

The admitted counts are rebuilt independently: the services' from the audit log (every operation with its
status code; 8 is the quota's refusal, 14 the outage's), the background's from what the pool admitted in
all per second less the services' admitted. No window admits more than its allowance.
"""
from __future__ import annotations

import math
from collections import Counter

import pytest

from sim.model.kms import USAGE_CATEGORY
from sim.results import KMS_USAGE_COLUMNS, read_csv, write_results

from test_kms_support import key, run_summary, scenario, service, world_run

REASONS = ("starts", "validation", "deploy", "background")
POOLS = {"hsm": "sec/hsm", "external": "sec/external"}


def _data(enforcement: str, quota_change: bool = False) -> dict:
    """Two pools (HSM, external) under a binding quota, background load in both, a deploy per service, a
    KMS outage and, optionally, a quota cut for a while."""
    burst = {"rate": [[0, 0.5], [60, 0.5], [70, 15], [200, 15], [210, 0.5]]}
    services = [service("h", "h", traffic=burst, max_instances=1000, key_operations={"validation_interval": 5}),
                service("x", "x", traffic=burst, max_instances=1000, key_operations={"validation_interval": 5})]
    faults = [{"at": 100, "kind": "deploy", "service": "h"}, {"at": 150, "kind": "deploy", "service": "x"},
              {"at": 300, "kind": "kms-outage", "duration": 20}]
    if quota_change:
        faults.append({"at": 120, "kind": "quota-change", "hsm_requests_per_minute": 90, "duration": 200})
    return scenario(duration=420, keys=[key("h", "hsm"), key("x", "external")], services=services, faults=faults,
                    kms={"quota": {"hsm_requests_per_minute": 300, "external_requests_per_minute": 250,
                                   "enforcement": enforcement,
                                   # per-minute: the soft headroom (1.5 x 300 in a minute) would refuse
                                   # no start, so that run keeps the HSM pool hard
                                   "hsm_enforcement": "hard" if enforcement == "per-minute" else "soft",
                                   "background_rps": 2}})


def _admitted_services(out) -> Counter:
    """(pool, second, reason) -> the services' operations the quota admitted, from the audit log."""
    pool_of_key = {"h": POOLS["hsm"], "x": POOLS["external"]}
    counts: Counter = Counter()
    for t, _svc, _method, name, code, _msg, reason in out.audit:
        if code not in (8, 14):
            counts[(pool_of_key[name.rsplit("/", 1)[1]], int(t), USAGE_CATEGORY[reason])] += 1
    return counts


@pytest.fixture(scope="module", params=[("per-second", False), ("per-minute", False), ("per-second", True)],
                ids=["per-second", "per-minute", "per-second-quota-change"])
def runs(request):
    enforcement, change = request.param
    world, out = world_run(_data(enforcement, change))
    return enforcement, world, out


def test_requested_minus_rejected_is_admitted_for_every_row_and_reason(runs):
    _, world, out = runs
    services = _admitted_services(out)
    pools = {p.name: p for p in world.pools.values()}
    rows = out.kms_usage
    assert {r["pool"] for r in rows} == set(POOLS.values())
    for r in rows:
        pool, sec = r["pool"], r["second"]
        served = sum(services[(pool, sec, c)] for c in ("starts", "validation", "deploy"))
        if not r["unavailable"]:            # no outage in this second: exact per reason
            for reason in ("starts", "validation", "deploy"):
                assert r[reason] - r[reason + "_rejected"] == services[(pool, sec, reason)], (r, reason)
        assert (sum(r[c] - r[c + "_rejected"] for c in ("starts", "validation", "deploy")) - r["unavailable"]
                == served), r
        assert r["resource_exhausted"] == r["starts_rejected"] + r["validation_rejected"] + r["deploy_rejected"]
        background_admitted = pools[pool].admitted_by_second.counts.get(sec, 0) - served
        assert r["background"] - r["background_rejected"] == background_admitted, r
        assert all(r[c + "_rejected"] <= r[c] for c in REASONS)
    # Every reason was requested, starts and background refused too; the outage answered some; totals
    # match the pool's.
    for c in REASONS:
        assert sum(r[c] for r in rows) > sum(r[c + "_rejected"] for r in rows), c
    assert all(sum(r[c + "_rejected"] for r in rows) > 0 for c in ("starts", "background"))
    assert sum(r["unavailable"] for r in rows) > 0
    for name, pool in pools.items():
        mine = [r for r in rows if r["pool"] == name]
        assert pool.rejected_background == sum(r["background_rejected"] for r in mine)
        assert pool.admitted_background == sum(r["background"] - r["background_rejected"] for r in mine)
        assert pool.rejected_services == sum(r["resource_exhausted"] for r in mine)
        assert pool.admitted_services == sum(r["starts"] + r["validation"] + r["deploy"] - r["resource_exhausted"]
                                             - r["unavailable"] for r in mine)


def test_admitted_never_exceeds_the_quota_window_allowance(runs):
    enforcement, world, out = runs
    window = 1 if enforcement == "per-second" else 60
    for pool in world.pools.values():
        admitted: Counter = Counter()
        over: Counter = Counter()
        rpm_at = {}
        for r in out.kms_usage:
            if r["pool"] != pool.name:
                continue
            # Served over the quota (a soft HSM pool's headroom) is admitted but not within the quota.
            over_row = r["served_over_quota"] + r["background_served_over_quota"]
            admitted_row = sum(r[c] - r[c + "_rejected"] for c in REASONS) - r["unavailable"] - over_row
            admitted[r["second"] // window] += admitted_row
            over[r["second"] // window] += over_row
            rpm_at[r["second"]] = r["quota_per_second"] * 60
        assert admitted and max(admitted.values()) > 0
        assert (max(over.values()) > 0) == (pool.headroom is not None)   # the HSM pool is soft by default
        for w, n in admitted.items():
            rpm = pool.limits.at(float(w * window))
            allowance = math.ceil(rpm / 60 - 1e-9) if window == 1 else math.floor(rpm + 1e-9)
            assert n <= allowance, (pool.name, w, n, allowance)
            quota = rpm / 60 if window == 1 else math.floor(rpm + 1e-9)
            headroom = pool.headroom.base if pool.headroom is not None else 1.0
            assert over[w] <= math.floor((headroom - 1) * quota + 1e-9), (pool.name, w, over[w])
        # The quota binds: some window is full (and refused something).
        assert any(n == (math.ceil(pool.limits.at(float(w * window)) / 60 - 1e-9) if window == 1
                         else math.floor(pool.limits.at(float(w * window)) + 1e-9)) for w, n in admitted.items())
        if window == 1:
            # rpm/60 a second on average: over the first n seconds of a constant quota, at most
            # floor(n * rpm / 60 + 1) (the carry starts just below one).
            base = pool.limits.base
            constant_until = min((s for s in range(int(world.scenario.duration))
                                  if pool.limits.at(float(s)) != base), default=int(world.scenario.duration))
            total = 0
            for s in range(constant_until):
                total += admitted.get(s, 0)
                assert total <= math.floor((s + 1) * base / 60 + 1 + 1e-9), (pool.name, s, total)


def test_the_csv_carries_the_columns_and_old_ones_keep_their_place(tmp_path):
    result = run_summary(_data("per-second"))
    folder = write_results(result, tmp_path / "r", plots=False)
    header = (folder / "kms_usage.csv").read_text().splitlines()[0].split(",")
    assert tuple(header) == KMS_USAGE_COLUMNS
    assert header[:8] == ["pool", "second", "starts", "validation", "deploy", "background", "resource_exhausted",
                          "quota_per_second"]           # the contract: add, never rename or move
    rows = read_csv(folder / "kms_usage.csv")
    raw = result.outputs[0].kms_usage
    assert len(rows) == len(raw)
    for got, want in zip(rows, raw):
        assert got == {k: (round(v, 9) if isinstance(v, float) else v) for k, v in want.items()}


def test_failures_per_grpc_code_are_counted_per_pool_and_second():
    """failed_precondition and permission_denied (issue 13): the services' operations the key refused, per
    pool and second, equal the audit log's codes 9 and 7; each code the model answered has its column."""
    from sim.model.kms import FAILURE_COLUMNS
    services = [service("h", "h", key_operations={"validation_interval": 5}),
                service("x", "x", key_operations={"validation_interval": 5})]
    faults = [{"at": 40, "kind": "key-disable", "key": "h"}, {"at": 80, "kind": "key-enable", "key": "h"},
              {"at": 120, "kind": "iam-revoke", "key": "h"}, {"at": 160, "kind": "iam-grant", "key": "h"},
              {"at": 60, "kind": "ekm-outage", "duration": 40, "error": "EXTERNAL_PERMISSION_DENIED", "key": "x"},
              {"at": 200, "kind": "kms-outage", "duration": 10}]
    data = scenario(duration=240, keys=[key("h", "hsm"), key("x", "external")], services=services, faults=faults,
                    kms={"quota": {"hsm_requests_per_minute": 300, "external_requests_per_minute": 300}})
    _, out = world_run(data)
    pool_of_key = {"h": POOLS["hsm"], "x": POOLS["external"]}
    want: Counter = Counter()
    for t, _svc, _method, name, code, _msg, _reason in out.audit:
        if code:
            want[(pool_of_key[name.rsplit("/", 1)[1]], int(t), FAILURE_COLUMNS[code])] += 1
    got: Counter = Counter()
    for r in out.kms_usage:
        for column in FAILURE_COLUMNS.values():
            if r[column]:
                got[(r["pool"], r["second"], column)] += r[column]
    assert got == want
    codes = {column for (_pool, _sec, column) in want}
    assert {"failed_precondition", "permission_denied", "unavailable"} <= codes
    assert set(FAILURE_COLUMNS.values()) <= set(KMS_USAGE_COLUMNS)
