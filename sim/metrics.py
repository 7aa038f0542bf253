"""Recorders whose memory does not grow with the number of requests.

- `QuantileSketch`: a log-bucketed histogram (the DDSketch idea): every quantile it returns is within
  `relative_accuracy` of a true sample value at that rank; min, max, count and sum are exact.
- `TimeWeighted`: the integral and peak of a level that changes at discrete times, counted from `start`.
- `t_interval`: the mean and 95% Student-t interval of per-replication values (bounds null from one value:
  one replication says nothing about its spread). Bounds are stored as computed, even below zero for a
  figure that cannot be negative; what displays them clips at zero (quota/report.py, plots/quota_curve.py).
"""
from __future__ import annotations

import math

import numpy as np


class QuantileSketch:
    __slots__ = ("_log_gamma", "_gamma", "_buckets", "_zeros", "count", "total", "min", "max")

    def __init__(self, relative_accuracy: float = 0.005):
        self._gamma = (1 + relative_accuracy) / (1 - relative_accuracy)
        self._log_gamma = math.log(self._gamma)
        self._buckets: dict[int, int] = {}
        self._zeros = 0
        self.count = 0
        self.total = 0.0
        self.min = math.inf
        self.max = -math.inf

    def add(self, x: float) -> None:
        self.count += 1
        self.total += x
        if x < self.min:
            self.min = x
        if x > self.max:
            self.max = x
        if x <= 1e-9:
            self._zeros += 1
            return
        k = math.ceil(math.log(x) / self._log_gamma)
        b = self._buckets
        b[k] = b.get(k, 0) + 1

    @property
    def log_gamma(self) -> float:
        """log of the bucket ratio: a value x > 1e-9 falls in bucket ceil(log(x) / log_gamma)."""
        return self._log_gamma

    def load(self, count: int, total: float, low: float, high: float, zeros: int, buckets: dict[int, int]) -> None:
        """Take the state of a sketch kept elsewhere (the compiled request path's arrays), as if its values
        had been added here in the same order."""
        self.count, self.total, self.min, self.max, self._zeros, self._buckets = count, total, low, high, zeros, buckets

    def merge(self, other: "QuantileSketch") -> None:
        """Add another sketch's values (same accuracy): as if each had been added here."""
        self.count += other.count
        self.total += other.total
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)
        self._zeros += other._zeros
        for k, n in other._buckets.items():
            self._buckets[k] = self._buckets.get(k, 0) + n

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        """Nearest-rank quantile (None when empty), clamped to the exact min and max."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        if rank <= self._zeros:
            return max(self.min, 0.0)
        seen = self._zeros
        for k in sorted(self._buckets):
            seen += self._buckets[k]
            if seen >= rank:
                value = 2 * self._gamma ** k / (self._gamma + 1)
                return min(max(value, self.min), self.max)
        return self.max

    def summary(self, with_max: bool = False) -> dict:
        out = {"mean": self.mean, "p50": self.quantile(0.50), "p95": self.quantile(0.95),
               "p99": self.quantile(0.99)}
        if with_max:
            out["max"] = self.max if self.count else None
        return out


class TimeWeighted:
    """Area under a step function from `start` on, and its peak there; update on every change."""
    __slots__ = ("level", "last_t", "area", "peak", "start")

    def __init__(self, start: float = 0.0, level: float = 0.0):
        self.start = start
        self.level = level
        self.last_t = 0.0
        self.area = 0.0
        self.peak = level if start <= 0 else -math.inf

    def set(self, t: float, level: float) -> None:
        if t > self.start:
            self.area += self.level * (t - max(self.last_t, self.start))
            if self.last_t < self.start and self.level > self.peak:
                self.peak = self.level  # the level in force when the measured span began
            if level > self.peak:
                self.peak = level
        elif level > self.peak and t == self.start:
            self.peak = level
        self.last_t = t
        self.level = level

    def close(self, t: float) -> float:
        """Bring the area up to `t` and return it."""
        self.set(t, self.level)
        if self.peak == -math.inf:
            self.peak = self.level
        return self.area


def t_interval(values, confidence: float = 0.95) -> dict:
    """Mean and Student-t interval; None values (empty percentiles) are left out. One value: no interval
    (bounds None); equal values: a zero-width interval."""
    xs = np.array([v for v in values if v is not None], dtype=float)
    if xs.size == 0:
        return {"mean": None, "low": None, "high": None}
    mean = float(xs.mean())
    if xs.size == 1:
        return {"mean": mean, "low": None, "high": None}
    if np.all(xs == xs[0]):
        return {"mean": mean, "low": mean, "high": mean}
    from scipy import stats  # here: importing scipy.stats takes half a second, and one replication never needs it
    half = stats.t.ppf(0.5 + confidence / 2, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size)
    return {"mean": mean, "low": mean - float(half), "high": mean + float(half)}


def aggregate_runs(runs: list) -> object:
    """A RUN-shaped structure with every number replaced by its t-interval over the runs."""
    first = runs[0]
    if isinstance(first, dict):
        keys = list(dict.fromkeys(k for r in runs for k in r))
        return {k: aggregate_runs([r.get(k) for r in runs]) for k in keys}
    if first is None or isinstance(first, (int, float)) and not isinstance(first, bool):
        if all(r is None for r in runs):
            return {"mean": None, "low": None, "high": None}
        return t_interval(runs)
    return first
