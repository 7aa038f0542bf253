"""Arrival processes against their rate profiles: counts per window match the integral of the rate."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from conftest import base_service, make_scenario
from sim.model.traffic import RateProfile, arrival_times
from sim.scenario import scenario_from_dict


def traffic_of(traffic: dict, tmp_path=None):
    """The Traffic of a one-service scenario (Poisson unless said; the base service's rate is replaced)."""
    traffic = {"arrivals": "poisson", **({"rate": None} if "trace" in traffic else {}), **traffic}
    data = make_scenario(service={"traffic": traffic}, duration="1d")
    return scenario_from_dict(data, base_dir=tmp_path).services[0].traffic


def arrivals(traffic, horizon: float, seed: int = 11) -> np.ndarray:
    profile = RateProfile(traffic)
    return np.fromiter(arrival_times(profile, traffic.arrivals, np.random.default_rng(seed), horizon), float)


def assert_poisson_counts(times: np.ndarray, profile: RateProfile, edges) -> None:
    """Each window's count is Poisson with mean the rate's integral: check them all with one chi-square."""
    counts, _ = np.histogram(times, bins=edges)
    expected = np.array([integrate.quad(profile.rate, a, b, limit=200)[0] for a, b in zip(edges, edges[1:])])
    assert np.all(expected > 20), "windows too small for the normal approximation"
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < stats.chi2.ppf(0.999, len(expected)), (chi2, counts, expected)


def test_constant_rate_poisson_count_and_gaps():
    t = arrivals(traffic_of({"rate": 50}), 2000.0)
    assert abs(len(t) - 100_000) < 4 * math.sqrt(100_000)
    gaps = np.diff(t)
    assert gaps.mean() == pytest.approx(1 / 50, rel=0.01)
    assert stats.kstest(gaps, "expon", args=(0, 1 / 50)).pvalue > 0.001


def test_piecewise_linear_rate_follows_the_ramp():
    tr = traffic_of({"rate": [[0, 20], ["30m", 20], ["32m", 400], ["50m", 400], ["55m", 20]]})
    t = arrivals(tr, 3600.0)
    assert_poisson_counts(t, RateProfile(tr), np.arange(0, 3601, 60.0))
    assert t.min() >= 0 and t.max() < 3600


def test_trace_is_a_step_function(tmp_path):
    (tmp_path / "trace.csv").write_text("time,rps\n0,10\n10m,0\n20m,100\n")
    tr = traffic_of({"trace": "trace.csv"}, tmp_path)
    t = arrivals(tr, 1800.0)
    assert not np.any((t >= 600) & (t < 1200))                  # rate 0 between 10 and 20 minutes
    assert_poisson_counts(t, RateProfile(tr), [0, 300, 600])
    assert_poisson_counts(t, RateProfile(tr), [1200, 1500, 1800])


def test_daily_pattern_multiplies_the_rate():
    tr = traffic_of({"rate": 10, "daily_pattern": {"amplitude": 0.5, "peak_at": "6h"}})
    profile = RateProfile(tr)
    assert profile.rate(6 * 3600) == pytest.approx(15) and profile.rate(18 * 3600) == pytest.approx(5)
    t = arrivals(tr, 86400.0)
    assert_poisson_counts(t, profile, np.arange(0, 86401, 3600.0))


def test_deterministic_arrivals_are_evenly_spaced_from_zero():
    t = arrivals(traffic_of({"arrivals": "deterministic", "rate": 4}), 10.0)
    assert list(t) == pytest.approx([k / 4 for k in range(40)])


def test_deterministic_arrivals_follow_a_changing_rate():
    tr = traffic_of({"arrivals": "deterministic", "rate": [[0, 0], [100, 0], [100.001, 2], [200, 2]]})
    t = arrivals(tr, 200.0)
    assert t.min() >= 100 and len(t) == pytest.approx(200, abs=2)


def test_same_stream_same_arrivals():
    tr = traffic_of({"rate": [[0, 5], [600, 50]]})
    assert np.array_equal(arrivals(tr, 600.0, seed=3), arrivals(tr, 600.0, seed=3))
    assert not np.array_equal(arrivals(tr, 600.0, seed=3), arrivals(tr, 600.0, seed=4))


def test_base_service_default_is_deterministic_10_per_second():
    """The trace tests' base service: 10 evenly spaced arrivals a second (guards conftest's meaning)."""
    assert base_service()["traffic"] == {"arrivals": "deterministic", "rate": 10}
