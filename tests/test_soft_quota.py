"""Soft quota enforcement (issue 17, point 2): since 2026-02-16 Cloud KMS serves HSM requests over the quota
while the region has spare capacity; EKM stays hard.

A soft pool serves over its quota up to floor((soft_headroom - 1) x the window's quota) more requests per
window, and no more; `hsm_enforcement: hard`, or a headroom of 1, is the rule before 2026-02-16, bit for
bit; an external pool is hard whatever the HSM setting; a `kms-region-busy` fault takes the headroom away
only within its window. Window counts are rebuilt from the audit log and kms_usage.csv.
"""
from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from sim.model.quota import QuotaPool
from sim.model.schedule import BackgroundLoad, HeadroomSchedule, QuotaSchedule
from sim.scenario import ScenarioError

from test_kms_support import build, key, key_name, scenario, service, world_run
from test_quota import admitted_per_window, burst, pool_of

NEW_POOL_FIGURES = ("quota_enforcement", "soft_headroom", "served_over_quota_services",
                    "served_over_quota_background")


def pool(rpm: float, enforcement: str = "per-second", headroom: float | None = 1.5, faults=()) -> QuotaPool:
    schedule = None if headroom is None else HeadroomSchedule(headroom, list(faults))
    return QuotaPool("p/hsm", QuotaSchedule(rpm, [], "hsm_requests_per_minute"), enforcement,
                     BackgroundLoad(0.0, []), np.random.default_rng(0), horizon=600.0, headroom=schedule)


def busy(at: float, duration: float, headroom: float = 1.0):
    return SimpleNamespace(kind="kms-region-busy", at=at, duration=duration, headroom=headroom)


# -- the pool ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headroom, over", [(1.5, 5), (2.0, 10), (1.25, 2), (1.0, 0)])
def test_a_soft_window_serves_over_its_quota_up_to_the_headroom_and_no_more(headroom, over):
    p = pool(600.0, headroom=headroom)                    # 10 a second
    got = [p.try_acquire(5.5) for _ in range(30)]
    assert got == ["quota"] * 10 + ["over"] * over + [None] * (20 - over)
    assert p.try_acquire(6.0) == "quota"                  # a new window: the quota first
    assert (p.admitted_services, p.served_over_quota_services, p.rejected_services) == (11 + over, over, 20 - over)
    assert p.summary()["served_over_quota_services"] == over
    assert p.summary()["quota_enforcement"] == "soft" and p.summary()["soft_headroom"] == headroom


def test_a_per_minute_window_gets_its_headroom_on_floor_rpm():
    p = pool(100.0, "per-minute", headroom=1.5)            # 100 a minute, 50 more
    got = Counter(p.try_acquire(1.0 + i * 0.1) for i in range(200))
    assert got == {"quota": 100, "over": 50, None: 50}


def test_a_hard_pool_has_no_headroom():
    p = pool(600.0, headroom=None)
    assert [p.try_acquire(5.5) for _ in range(12)] == ["quota"] * 10 + [None] * 2
    assert p.summary()["quota_enforcement"] == "hard" and p.summary()["soft_headroom"] == 1.0


def test_region_busy_takes_the_headroom_away_only_within_its_window():
    p = pool(600.0, headroom=1.5, faults=[busy(10.0, 5.0)])
    served = {}
    for second in range(8, 18):
        got = [p.try_acquire(second + 0.5) for _ in range(20)]
        served[second] = got.count("over")
    assert served == {8: 5, 9: 5, 10: 0, 11: 0, 12: 0, 13: 0, 14: 0, 15: 5, 16: 5, 17: 5}
    # A busy region with some spare capacity left: a smaller headroom meanwhile.
    partial = pool(600.0, headroom=2.0, faults=[busy(10.0, 5.0, headroom=1.2)])
    assert [partial.try_acquire(t + 0.5) for t in (11,) for _ in range(20)].count("over") == 2


# -- runs ---------------------------------------------------------------------------------------------------
def _burst_run(**quota):
    """A 10/s HSM quota under 12/s of background (Poisson) and a service's starts: over the quota all along."""
    data = scenario(duration=300, services=[burst()],
                    kms={"quota": {"hsm_requests_per_minute": 600, "background_rps": 12, **quota}})
    return world_run(data)


def test_a_soft_run_serves_over_quota_up_to_the_headroom_in_every_second():
    world, out = _burst_run(soft_headroom=1.5)
    counts = admitted_per_window(out, "sec/hsm", 1.0, {key_name("k")})
    assert max(counts.values()) == 15 and all(n <= 15 for n in counts.values())     # 10/s + 5 over
    over = Counter()
    for r in out.kms_usage:
        over[r["second"]] += r["served_over_quota"] + r["background_served_over_quota"]
    assert max(over.values()) == 5 and all(counts[s] - n <= 10 for s, n in over.items())   # the rest within
    p = pool_of(world, "sec/hsm")
    summary = out.summary["kms"]["quota_pools"]["sec/hsm"]
    assert summary["served_over_quota_services"] == sum(r["served_over_quota"] for r in out.kms_usage) > 0
    assert summary["served_over_quota_background"] == sum(r["background_served_over_quota"] for r in out.kms_usage)
    assert p.rejected_services > 0                        # the burst asks for more than 15/s


def _without_mode(summary: dict) -> str:
    runs = json.loads(json.dumps(summary))
    for r in [runs]:
        for p in r["kms"]["quota_pools"].values():
            for name in ("quota_enforcement", "soft_headroom"):
                p.pop(name)
    return json.dumps(runs, sort_keys=True)


def test_hard_and_a_headroom_of_one_give_the_same_results_bit_for_bit():
    _, hard = _burst_run(hsm_enforcement="hard")
    _, one = _burst_run(hsm_enforcement="soft", soft_headroom=1)
    _, soft = _burst_run(hsm_enforcement="soft", soft_headroom=1.5)
    assert _without_mode(hard.summary) == _without_mode(one.summary)
    assert (hard.audit, hard.kms_usage) == (one.audit, one.kms_usage)
    pools = hard.summary["kms"]["quota_pools"]["sec/hsm"]
    assert pools["served_over_quota_services"] == pools["served_over_quota_background"] == 0
    assert _without_mode(hard.summary) != _without_mode(soft.summary)   # the headroom does change results


def test_the_external_pool_stays_hard_when_hsm_is_soft():
    keys = [key("h", "hsm"), key("x", "external")]
    services = [burst("hsm-app", "h"), burst("ext-app", "x")]
    world, out = world_run(scenario(duration=300, keys=keys, services=services, faults=[
        {"at": 0, "kind": "kms-region-busy", "duration": 10, "headroom": 3}],
        kms={"quota": {"hsm_requests_per_minute": 600, "external_requests_per_minute": 600,
                       "hsm_enforcement": "soft", "soft_headroom": 3}}))
    pools = out.summary["kms"]["quota_pools"]
    ext = pools["sec/external"]
    assert ext["quota_enforcement"] == "hard" and ext["soft_headroom"] == 1.0
    assert ext["served_over_quota_services"] == ext["served_over_quota_background"] == 0
    counts = admitted_per_window(out, "sec/external", 1.0, {key_name("x")})
    assert max(counts.values()) == 10 and ext["rejected_services"] > 0
    assert pools["sec/hsm"]["served_over_quota_services"] > 0


def test_region_busy_in_a_run_serves_nothing_over_quota_within_its_window():
    def run(faults):
        data = scenario(duration=300, services=[burst()], faults=faults,
                        kms={"quota": {"hsm_requests_per_minute": 600, "background_rps": 12}})
        return world_run(data)[1]

    out = run([{"at": 100, "kind": "kms-region-busy", "duration": 50}])
    calm = run([])
    over = {r["second"]: r["served_over_quota"] + r["background_served_over_quota"] for r in out.kms_usage}
    assert all(over[s] == 0 for s in over if 100 <= s < 150)
    assert any(over[s] for s in over if 70 <= s < 100) and any(over[s] for s in over if 150 <= s < 200)
    # Before the window the run is the calm one (same streams); within it more is refused.
    assert [r for r in out.kms_usage if r["second"] < 100] == [r for r in calm.kms_usage if r["second"] < 100]
    def refused(o):
        return sum(r["background_rejected"] + r["resource_exhausted"] for r in o.kms_usage if 100 <= r["second"] < 150)
    assert refused(out) > refused(calm)


# -- the scenario keys --------------------------------------------------------------------------------------
@pytest.mark.parametrize("quota, problem", [
    ({"hsm_enforcement": "best-effort"}, "kms.quota.hsm_enforcement"),
    ({"soft_headroom": 0.5}, "kms.quota.soft_headroom"),
    ({"external_enforcement": "soft"}, "kms.quota.external_enforcement"),   # EKM is always hard: no such key
])
def test_bad_enforcement_settings_are_one_line_each(quota, problem):
    with pytest.raises(ScenarioError) as err:
        build(scenario(kms={"quota": quota}))
    assert len(err.value.problems) == 1 and problem in err.value.problems[0]


def test_hsm_is_soft_by_default_with_a_headroom_of_one_and_a_half():
    q = build(scenario()).kms.quota
    assert (q.hsm_enforcement, q.soft_headroom) == ("soft", 1.5)
