"""Streaming recorders: quantiles within the sketch's accuracy, exact time integrals, t-intervals."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.metrics import QuantileSketch, TimeWeighted, aggregate_runs, t_interval


def test_sketch_quantiles_are_within_relative_accuracy_of_the_exact_ones():
    rng = np.random.default_rng(5)
    values = rng.lognormal(-2.0, 1.2, 50_000)
    sketch = QuantileSketch(relative_accuracy=0.005)
    for v in values:
        sketch.add(float(v))
    ordered = np.sort(values)
    for q in (0.01, 0.5, 0.9, 0.95, 0.99, 0.999):
        exact = ordered[max(1, math.ceil(q * len(values))) - 1]          # nearest rank
        assert sketch.quantile(q) == pytest.approx(exact, rel=0.0051), q
    assert sketch.count == len(values) and sketch.mean == pytest.approx(values.mean())
    assert sketch.min == values.min() and sketch.max == values.max()


def test_sketch_memory_does_not_grow_with_the_count():
    sketch = QuantileSketch()
    rng = np.random.default_rng(1)
    for v in rng.exponential(1.0, 100_000):
        sketch.add(float(v))
    assert len(sketch._buckets) < 5_000        # bounded by the value range, not by the 100,000 values


def test_sketch_zeros_and_empty():
    empty = QuantileSketch()
    assert empty.summary(with_max=True) == {"mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    sketch = QuantileSketch()
    for v in (0.0, 0.0, 0.0, 2.0):
        sketch.add(v)
    assert sketch.quantile(0.5) == 0.0 and sketch.quantile(1.0) == pytest.approx(2.0, rel=0.005)


def test_time_weighted_area_and_peak_from_start():
    level = TimeWeighted(start=10.0)
    level.set(0.0, 3)            # 3 from 0 (before the measured span)
    level.set(12.0, 5)           # 3 x 2 counted (10..12)
    level.set(20.0, 1)           # 5 x 8
    assert level.close(30.0) == pytest.approx(3 * 2 + 5 * 8 + 1 * 10)
    assert level.peak == 5


def test_time_weighted_peak_counts_the_level_in_force_at_start():
    level = TimeWeighted(start=10.0)
    level.set(0.0, 7)
    level.set(15.0, 2)
    level.close(20.0)
    assert level.peak == 7 and level.area == pytest.approx(7 * 5 + 2 * 5)


def test_t_interval_matches_scipy_and_handles_degenerate_cases():
    xs = [1.0, 2.0, 4.0, 7.0]
    low, high = stats.t.interval(0.95, len(xs) - 1, loc=np.mean(xs), scale=stats.sem(xs))
    out = t_interval(xs)
    assert out["mean"] == pytest.approx(3.5) and out["low"] == pytest.approx(low) and out["high"] == pytest.approx(high)
    assert t_interval([2.0]) == {"mean": 2.0, "low": None, "high": None}   # one replication: no interval
    assert t_interval([2.0, 2.0]) == {"mean": 2.0, "low": 2.0, "high": 2.0}
    assert t_interval([None, None]) == {"mean": None, "low": None, "high": None}


def test_aggregate_keeps_the_run_shape():
    runs = [{"a": {"b": 1.0, "c": None, "name": "x"}}, {"a": {"b": 3.0, "c": None, "name": "x"}}]
    agg = aggregate_runs(runs)
    assert agg["a"]["b"]["mean"] == 2.0 and agg["a"]["c"] == {"mean": None, "low": None, "high": None}
    assert agg["a"]["name"] == "x"
