"""Units (durations, memory) and distributions: every written form, exact means, quantiles, round trips."""

import math
from statistics import NormalDist

import numpy as np
import pytest

from sim.dists import (
    DIST_NAMES, Constant, Dist, Empirical, Exponential, Gamma, LogNormal, Uniform, Z99, parse_dist,
)
from sim.units import format_duration, parse_duration, parse_memory

N = 200_000
Z_999 = NormalDist().inv_cdf(0.9995)  # two-sided 99.9% interval: a fixed seed never sits at its edge


@pytest.mark.parametrize("text, seconds", [
    (5, 5.0), (1.5, 1.5), (0, 0.0), ("0", 0.0), ("10", 10.0), ("150ms", 0.15), ("8ms", 0.008),
    ("30s", 30.0), ("1.5s", 1.5), ("15m", 900.0), ("2h", 7200.0), ("1d", 86400.0), ("250us", 0.00025),
    (" 2m ", 120.0), ("1e3ms", 1.0), (".5s", 0.5), ("5min", 300.0),
])
def test_parse_duration_forms(text, seconds):
    assert parse_duration(text) == seconds
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize("bad", [
    "-5s", -1, -0.001, "abc", "5 parsecs", "", "1.2.3s", "s", "inf", float("nan"), float("inf"), None, True,
    [], {}, "1e400s", 10**400,
])
def test_parse_duration_refuses(bad):
    with pytest.raises(ValueError) as info:
        parse_duration(bad)
    assert "must" in str(info.value) and "\n" not in str(info.value)


def test_negative_duration_message():
    with pytest.raises(ValueError, match="must not be negative, got '-5s'"):
        parse_duration("-5s")


@pytest.mark.parametrize("text, mib", [
    ("512Mi", 512.0), ("1Gi", 1024.0), ("1.5Gi", 1536.0), ("2G", 2e9 / 2**20), ("256M", 256e6 / 2**20),
    (512, 512.0), ("512", 512.0), ("2048Ki", 2.0), ("1GiB", 1024.0),
])
def test_parse_memory_forms(text, mib):
    assert parse_memory(text) == pytest.approx(mib, rel=1e-12)


@pytest.mark.parametrize("bad", ["-1Gi", "lots", "512Xi", None, True, -5, "", float("nan")])
def test_parse_memory_refuses(bad):
    with pytest.raises(ValueError):
        parse_memory(bad)


@pytest.mark.parametrize("seconds, text", [
    (0, "0s"), (0.15, "150ms"), (1.5, "1.5s"), (90, "90s"), (900, "15m"), (7200, "2h"), (86400, "1d"),
    (0.00025, "250us"), (30 * 86400, "30d"),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)


# --------------------------------------------------------------------------------------------------------
# Distributions: every form parses to the distribution built directly.

@pytest.mark.parametrize("spec, expected", [
    (2, Constant(2.0)),
    ("150ms", Constant(0.15)),
    ({"dist": "constant", "value": "2s"}, Constant(2.0)),
    ({"dist": "exponential", "mean": "2s"}, Exponential(2.0)),
    ({"dist": "uniform", "low": "1s", "high": 3}, Uniform(1.0, 3.0)),
    ({"dist": "lognormal", "median": "8ms", "p99": "40ms"}, LogNormal.from_median_p99(0.008, 0.04)),
    ({"dist": "lognormal", "mean": "120ms", "cv": 1.0}, LogNormal.from_mean_cv(0.12, 1.0)),
    ({"dist": "lognormal", "mu": -0.5, "sigma": 0.7}, LogNormal(-0.5, 0.7)),
    ({"dist": "gamma", "mean": "1s", "cv": 0.5}, Gamma(1.0, 0.5)),
    ({"dist": "empirical", "values": ["0.8s", 1.1, "2500ms"]}, Empirical([0.8, 1.1, 2.5])),
])
def test_parse_dist_forms(spec, expected):
    dist = parse_dist(spec)
    assert dist == expected
    assert hash(dist) == hash(expected)
    assert parse_dist(dist.to_spec()) == dist  # to_spec round-trips
    assert parse_dist(dist) is dist


def test_to_spec_writes_seconds_and_keeps_the_form():
    assert parse_dist({"dist": "lognormal", "median": "8ms", "p99": "40ms"}).to_spec() == {
        "dist": "lognormal", "median": 0.008, "p99": 0.04}
    assert parse_dist("2m").to_spec() == {"dist": "constant", "value": 120.0}


def test_empirical_from_file(tmp_path):
    (tmp_path / "samples.csv").write_text("seconds\n0.8\n\n# a comment\n1.1\n2500ms\n")
    dist = parse_dist({"dist": "empirical", "file": "samples.csv"}, base_dir=tmp_path)
    assert dist == Empirical([0.8, 1.1, 2.5])
    assert dist.to_spec() == {"dist": "empirical", "values": [0.8, 1.1, 2.5]}
    assert parse_dist(dist.to_spec()) == dist


@pytest.mark.parametrize("content, reason", [("", "no values"), ("1\nabc\n", "line 2")])
def test_empirical_bad_file(tmp_path, content, reason):
    (tmp_path / "s.csv").write_text(content)
    with pytest.raises(ValueError, match=reason):
        parse_dist({"dist": "empirical", "file": "s.csv"}, base_dir=tmp_path)


def test_empirical_missing_file(tmp_path):
    with pytest.raises(ValueError, match="file not found") as info:
        parse_dist({"dist": "empirical", "file": "nope.csv"}, base_dir=tmp_path)
    assert info.value.key == "file"


@pytest.mark.parametrize("spec, reason, key", [
    ({"dist": "weibull", "mean": 1}, "unknown distribution 'weibull'; valid: " + ", ".join(DIST_NAMES), "dist"),
    ({"mean": 1}, "missing key `dist`", None),
    ({"dist": "lognormal", "median": 1}, "lognormal needs either median and p99, or mean and cv", None),
    ({"dist": "exponential"}, "exponential needs mean", None),
    ({"dist": "exponential", "mean": 1, "cv": 2}, "unexpected parameter", "cv"),
    ({"dist": "lognormal", "median": "2s", "p99": "1s"}, "must be greater than the median", "p99"),
    ({"dist": "lognormal", "median": "2s", "p99": "2s"}, "must be greater than the median", "p99"),
    ({"dist": "lognormal", "mean": "1s", "cv": 0}, "must be greater than 0", "cv"),
    ({"dist": "gamma", "mean": "1s", "cv": -1}, "must be greater than 0", "cv"),
    ({"dist": "exponential", "mean": "-1s"}, "must not be negative", "mean"),
    ({"dist": "exponential", "mean": 0}, "must be greater than 0", "mean"),
    ({"dist": "uniform", "low": 3, "high": 1}, "must be at least low", "high"),
    ({"dist": "uniform", "low": -1, "high": 1}, "must not be negative", "low"),
    ({"dist": "constant", "value": "soon"}, "must be a duration", "value"),
    ({"dist": "gamma", "mean": 1, "cv": "big"}, "must be a number", "cv"),
    ({"dist": "empirical", "values": []}, "non-empty list", "values"),
    ({"dist": "empirical", "values": [1, "-2s"]}, "item 1: must not be negative", "values"),
    ({"dist": "empirical", "values": [1], "file": "x"}, "empirical needs either values, or file", None),
    ("-5s", "must not be negative", None),
    ([1, 2], "must be a duration or a mapping", None),
    (None, "must be a duration or a mapping", None),
])
def test_parse_dist_refuses(spec, reason, key):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace("[", r"\[")) as info:
        parse_dist(spec)
    assert getattr(info.value, "key", None) == key


def test_dists_are_immutable_values():
    dist = Exponential(2.0)
    with pytest.raises(AttributeError):
        dist.mean_ = 3.0
    assert {Exponential(2.0), Exponential(2.0), Gamma(2.0, 1.0)} == {Exponential(2.0), Gamma(2.0, 1.0)}
    assert Exponential(2.0) != Gamma(2.0, 1.0)
    assert LogNormal.from_mean_cv(1.0, 1.0) != LogNormal.from_mean_cv(1.0, 0.9)
    assert "Exponential" in repr(dist)


# --------------------------------------------------------------------------------------------------------
# Means and quantiles, exactly and by sampling (fixed seeds; intervals, not pinned numbers).

def test_lognormal_median_p99_analytic():
    dist = LogNormal.from_median_p99(0.008, 0.040)
    assert dist.median == pytest.approx(0.008, rel=1e-12)
    assert dist.quantile(0.99) == pytest.approx(0.040, rel=1e-12)
    assert dist.mean == pytest.approx(math.exp(dist.mu + dist.sigma**2 / 2))
    assert Z99 == pytest.approx(2.326347874, rel=1e-9)


def test_lognormal_median_p99_sampled():
    dist = LogNormal.from_median_p99(0.3, 1.5)
    x = dist.sample_many(np.random.default_rng(11), N)
    for q, value in ((0.5, 0.3), (0.99, 1.5)):
        share_below = np.mean(x <= value)  # ~ Binomial(N, q) / N
        assert abs(share_below - q) < Z_999 * math.sqrt(q * (1 - q) / N)


@pytest.mark.parametrize("dist, cv", [
    (LogNormal.from_mean_cv(1.0, 0.8), 0.8),
    (LogNormal.from_mean_cv(0.12, 1.0), 1.0),
    (Gamma(2.0, 0.5), 0.5),
    (Gamma(0.5, 2.0), 2.0),
    (Exponential(2.0), 1.0),
])
def test_mean_cv_forms_give_the_mean(dist, cv):
    assert dist.mean == pytest.approx(dist.mean, rel=1e-12)
    x = dist.sample_many(np.random.default_rng(5), N)
    sd = dist.mean * cv
    assert abs(x.mean() - dist.mean) < NormalDist().inv_cdf(0.995) * sd / math.sqrt(N)  # 99% interval
    assert np.std(x) == pytest.approx(sd, rel=0.1)


def test_analytic_means():
    assert LogNormal.from_mean_cv(1.5, 0.3).mean == pytest.approx(1.5, rel=1e-12)
    assert Gamma(1.5, 0.3).mean == 1.5
    assert Uniform(1, 3).mean == 2.0
    assert Constant(0.2).mean == 0.2
    assert Empirical([1, 2, 6]).mean == 3.0


def test_sampling_uses_only_the_given_generator():
    for dist in (Exponential(1), Uniform(1, 2), LogNormal(0, 1), Gamma(1, 0.5), Empirical([1, 2, 3])):
        a = [dist.sample(np.random.default_rng(3)) for _ in range(3)]
        b = [dist.sample(np.random.default_rng(3)) for _ in range(3)]
        assert a == b and all(isinstance(v, float) for v in a)
        many = dist.sample_many(np.random.default_rng(3), 50)
        assert many.shape == (50,) and np.all(many >= 0)
    rng = np.random.default_rng(3)
    assert Constant(0.2).sample(rng) == 0.2
    assert set(Empirical([1, 2, 3]).sample_many(rng, 1000)) == {1.0, 2.0, 3.0}


def test_all_dists_share_the_base():
    for name in DIST_NAMES:
        assert any(cls.name == name for cls in Dist.__subclasses__())


def test_dists_pickle_and_copy():
    import copy
    import pickle

    for dist in (Constant(1), Exponential(2), Uniform(1, 2), LogNormal.from_median_p99(1, 3),
                 LogNormal.from_mean_cv(1, 0.5), Gamma(1, 0.5), Empirical([1, 2])):
        for clone in (pickle.loads(pickle.dumps(dist)), copy.deepcopy(dist)):
            assert clone == dist and clone.to_spec() == dist.to_spec()
