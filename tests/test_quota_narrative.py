"""Issue 19 point 5: the quota notebook's sentences come from the figures. An increase that removes one
refused start while 429s and shortfall stay put says that nothing a user would see changes; the request names
the project, the region and the quota as the console does; the peak second is split into own calls and
background."""
from __future__ import annotations

from conftest import make_scenario
from sim.quota.narrative import changed, compare, impact, peak_split, request_header
from sim.scenario import scenario_from_dict


def _summary(runs):
    """A run summary with one service per run: (refused starts, 429s, arrived, shortfall)."""
    return {"runs": [{"services": {"api": {
        "instance_starts_failed": {"quota_exceeded": refused},
        "requests": {"failed_429": r429, "failed_504": 0, "failed_shutdown": 0, "arrived": arrived},
        "capacity": {"shortfall_fraction": short}}}} for refused, r429, arrived, short in runs]}


def test_an_increase_that_changes_nothing_a_user_sees_says_so():
    """The flash sale of the issue: 600 -> 960/min removes one refused start per run, 429s and shortfall stay."""
    before = impact(_summary([(3, 410, 100_000, 0.052), (3, 380, 100_000, 0.049), (3, 395, 100_000, 0.05)]))
    after = impact(_summary([(2, 405, 100_000, 0.051), (2, 382, 100_000, 0.049), (2, 398, 100_000, 0.05)]))
    text = " ".join(compare(before, after, "600/min", "960/min"))
    assert "instance starts refused on quota go from 3 to 2 per run" in text
    assert "Nothing a user would see changes" in text and "429 responses" in text and "capacity shortfall" in text
    assert "shortfall they caused" not in text and "What users see changes" not in text


def test_an_increase_that_removes_the_failures_says_what_users_see():
    before = impact(_summary([(40, 900, 100_000, 0.2), (35, 950, 100_000, 0.22)]))
    after = impact(_summary([(0, 0, 100_000, 0.0), (0, 0, 100_000, 0.0)]))
    text = " ".join(compare(before, after, "600/min", "2,280/min"))
    assert "go from 37.5 to 0 per run" in text and "What users see changes: 429 responses go from 925 to 0" in text
    assert "the capacity shortfall goes from 21% to 0%" in text


def test_changed_needs_more_than_the_spread():
    assert not changed([100, 120, 80], [110, 100, 85])          # up, down, up: the spread
    assert changed([100, 120, 80], [90, 110, 70])                # down in every replication
    assert changed([0.056, 0.05], [0.02, 0.021]) and not changed([0, 0], [0, 0])
    assert not changed([1000, 1000], [1001, 1001])               # under 1% of the figure


def test_request_header_names_project_region_and_quota():
    sc = scenario_from_dict(make_scenario(service={"encryption_key": "k"}))
    text = request_header(sc, "hsm", 600, 2280)
    assert "acme-sec" in text and "us-central1" in text
    assert "HSM symmetric cryptographic requests per region" in text and "hsm_symmetric_requests" in text
    assert "600 per minute (10 per second)" in text and "2,280 per minute (38 per second)" in text


def test_peak_split_into_own_calls_and_background():
    demand = {"peak_second_replication0": {"starts": 30, "validation": 2, "deploy": 0, "background": 8,
                                           "total": 40, "at_s": 1230}}
    text = peak_split(demand)
    assert "asked this quota for 40 operations" in text and "**32 from the services' own calls**" in text
    assert "30 instance-start decrypts, 2 validation checks" in text and "**8 from background load**" in text
    assert "80% of the peak" in text and "t = 1,230 s" in text
