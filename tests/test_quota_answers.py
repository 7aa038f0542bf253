"""Issue 19 point 2: a quota recommendation below the current quota says so in words, with the failed starts
and failed requests it brings; the search's anchor leaves the start-up transient out when there is a warmup,
and says whether it did."""
from __future__ import annotations

import pytest

from sim.quota.report import anchor_line, recommendation_line, report_markdown
from sim.quota.solver import solve
from sim.scenario import scenario_from_dict

EXT = "projects/acme-sec/locations/us-central1/keyRings/ekm/cryptoKeys/orders"
SLO = "requests.failed_fraction<=0.02"


def _data(warmup: str) -> dict:
    """50/s from t = 0, starting empty: about 17 instances start at once (34 decrypts), then few key operations;
    the EKM quota is the default 6,000/min."""
    return {"name": "burst", "duration": "3m", "warmup": warmup, "seed": 4,
            "keys": [{"id": "k", "name": EXT, "protection": "external"}],
            "services": [{"name": "api", "encryption_key": "k", "concurrency": 1, "max_instances": 60,
                          "service_time": {"dist": "lognormal", "mean": "200ms", "cv": 0.5}, "cpu_per_request": 0,
                          "traffic": {"rate": 50}}]}


@pytest.fixture(scope="module")
def cold():
    return solve(scenario_from_dict(_data("0s")), [SLO], replications=2).to_json()


def test_a_cut_below_the_current_quota_says_what_it_costs(cold):
    rec, cur = cold["recommended_requests_per_minute"], cold["current_requests_per_minute"]
    assert rec < cur
    at_rec = next(lv for lv in cold["levels"] if lv["requests_per_minute"] == rec)["kms"]
    failed_starts = at_rec["starts_failed_quota_exceeded_mean"]
    assert failed_starts > 0 and "failed_fraction_mean" in at_rec and "requests_failed_mean" in at_rec
    line = recommendation_line(cold)
    assert "below the current quota" in line and "could lower" not in line
    assert f"{failed_starts:,.0f} instance starts fail on quota" in line and "of requests fail" in line
    assert "add an objective" in line
    assert f"**{line}**" in report_markdown(cold)


def test_the_anchor_says_it_kept_the_start_up_burst_and_suggests_warm_start(cold):
    assert cold["anchor"] == {"requests_per_minute": cold["unconstrained_peak_requests_per_minute"],
                              "excludes_warmup": False, "warmup_s": 0.0}
    assert "warm_start: true" in anchor_line(cold) and "warm_start: true" in report_markdown(cold)


def test_with_a_warmup_the_anchor_leaves_the_burst_out():
    q = solve(scenario_from_dict(_data("1m")), [SLO], replications=2).to_json()
    assert q["anchor"]["excludes_warmup"] and q["anchor"]["warmup_s"] == 60
    whole_run = q["peak_demand"]["peak_per_second_mean"] * 60
    assert q["anchor"]["requests_per_minute"] < whole_run / 10      # the burst at t = 0 was most of the peak
    assert "from the warm-up on" in anchor_line(q)
