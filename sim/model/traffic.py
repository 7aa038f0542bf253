"""Request arrivals: Poisson or evenly spaced, at a rate that may change over time.

The rate profile is a constant, a piecewise-linear list of [time, rps] points, or a trace (a step
function), optionally times a daily cosine pattern. Poisson arrivals at a varying rate use thinning
against a piecewise-constant bound recomputed every `BOUND_CHUNK_S` seconds, so a low rate next to a spike
does not pay for the spike's bound.
"""
from __future__ import annotations

import bisect
import math

import numpy as np

from .draws import BLOCK, Batched

BOUND_CHUNK_S = 10.0
DAY_S = 86400.0


class RateProfile:
    def __init__(self, traffic):
        if traffic.trace_points is not None:
            self.points = [tuple(p) for p in traffic.trace_points]
            self.step = True
        elif isinstance(traffic.rate, (int, float)):
            self.points = [(0.0, float(traffic.rate))]
            self.step = True
        else:
            self.points = [tuple(map(float, p)) for p in traffic.rate]
            self.step = False
        self.times = [t for t, _ in self.points]
        self.daily = traffic.daily_pattern
        self.constant = len(self.points) == 1 and (self.daily is None or self.daily.amplitude == 0)

    def base_rate(self, t: float) -> float:
        i = bisect.bisect_right(self.times, t) - 1
        if i < 0:
            return self.points[0][1] if not self.step else 0.0
        t0, r0 = self.points[i]
        if self.step or i + 1 == len(self.points):
            return r0
        t1, r1 = self.points[i + 1]
        return r0 + (r1 - r0) * (t - t0) / (t1 - t0)

    def daily_factor(self, t: float) -> float:
        if self.daily is None:
            return 1.0
        return 1.0 + self.daily.amplitude * math.cos(2 * math.pi * (t - self.daily.peak_at) / DAY_S)

    def rate(self, t: float) -> float:
        return max(0.0, self.base_rate(t) * self.daily_factor(t))

    def bound(self, a: float, b: float) -> float:
        """An upper bound of the rate on [a, b]."""
        inside = [r for t, r in self.points if a < t < b]
        base = max([self.base_rate(a), self.base_rate(b), *inside])
        if self.daily is not None:
            base *= 1.0 + self.daily.amplitude
        return max(0.0, base)

    def next_change(self, t: float) -> float:
        """The next breakpoint after t (inf if none): where a zero rate may become positive."""
        i = bisect.bisect_right(self.times, t)
        return self.times[i] if i < len(self.times) else math.inf


def arrival_times(profile: RateProfile, kind: str, rng, horizon: float):
    """Generator of arrival times in [0, horizon), drawn from `rng` (the service's arrivals stream)."""
    if not profile.constant:               # one by one: no blocks to build and take apart again
        yield from _varying_arrival_times(profile, kind, rng, horizon)
        return
    for block in arrival_blocks(profile, kind, rng, horizon):
        yield from block.tolist()


def arrival_blocks(profile: RateProfile, kind: str, rng, horizon: float):
    """The same arrival times as arrays of up to BLOCK (the compiled request path takes them whole).

    A constant rate is drawn a block at a time, as it always was; a varying one time by time (thinning),
    then handed on in blocks."""
    if profile.constant and kind == "deterministic":
        rate = profile.rate(0.0)
        k = 0
        while rate > 0:               # k / rate, not a running sum: no float drift (50, not 51, in 5 s at 10/s)
            times = np.arange(k, k + BLOCK) / rate
            late = np.flatnonzero(times >= horizon)
            if late.size:
                yield times[:late[0]]
                return
            yield times
            k += BLOCK
        return
    if profile.constant:
        rate = profile.rate(0.0)
        if rate <= 0:
            return
        mean = 1.0 / rate
        t = 0.0
        while True:                    # the same sums as adding one gap after another
            times = np.add.accumulate(np.concatenate(([t], rng.standard_exponential(BLOCK) * mean)))[1:]
            late = np.flatnonzero(times >= horizon)
            if late.size:
                yield times[:late[0]]
                return
            yield times
            t = times[-1]
    chunk = []
    for t in _varying_arrival_times(profile, kind, rng, horizon):
        chunk.append(t)
        if len(chunk) == BLOCK:
            yield np.array(chunk)
            chunk = []
    yield np.array(chunk, dtype=float)


def _varying_arrival_times(profile: RateProfile, kind: str, rng, horizon: float):
    """Arrival times one by one at a rate that varies: evenly spaced, or Poisson by thinning."""
    t = 0.0
    if kind == "deterministic":
        while t < horizon:
            r = profile.rate(t)
            if r <= 0:
                t = profile.next_change(t) if profile.daily is None else t + 1.0
                if t >= horizon:
                    return
                continue
            yield t                    # evenly spaced, the first one at the start of the run
            t += 1.0 / r
            if t >= horizon:
                return
        return
    unit_exp = Batched(lambda n: rng.standard_exponential(n))
    uniform = Batched(lambda n: rng.random(n))
    while t < horizon:
        chunk_end = min(horizon, (math.floor(t / BOUND_CHUNK_S) + 1) * BOUND_CHUNK_S)
        lam = profile.bound(t, chunk_end)
        if lam <= 0:
            t = chunk_end
            continue
        while True:
            t += unit_exp() / lam
            if t >= chunk_end:
                t = chunk_end          # memoryless: restart from the chunk's end with its own bound
                break
            if uniform() * lam <= profile.rate(t):
                yield t
