"""Poisson arrivals at a varying rate (traffic.py's thinning), compiled: the same draws from the same blocks,
the same float operations, so the same arrival times. At a few µs per candidate in Python, thinning was
most of a compiled run's time once the request path itself was compiled.

traffic._varying_arrival_times draws a unit exponential and a uniform per candidate, each from its own
`Batched` block of the arrivals stream, refilled when empty. `thin` runs that loop until its output block is
full, the horizon is reached, or a block of draws is empty; `thinned_blocks` refills the block from the
stream at that point, exactly when the Python loop would have, and goes on.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..draws import BLOCK
from ..traffic import BOUND_CHUNK_S, DAY_S
from ..traffic import arrival_blocks as traffic_blocks

# state cells: where the loop stands (t, the chunk's end and bound, and the step it stopped before)
T, CHUNK_END, LAM, PHASE = range(4)
AT_CHUNK, AT_EXP, AT_UNIFORM = 0.0, 1.0, 2.0
# what thin() stops for
FULL, NEED_EXP, NEED_UNIFORM, END = range(4)


@njit(cache=True)
def _base_rate(times, rates, step, t):
    i = np.searchsorted(times, t, side="right") - 1          # bisect.bisect_right(times, t) - 1
    if i < 0:
        return rates[0] if not step else 0.0
    if step or i + 1 == times.shape[0]:
        return rates[i]
    t0, r0, t1, r1 = times[i], rates[i], times[i + 1], rates[i + 1]
    return r0 + (r1 - r0) * (t - t0) / (t1 - t0)


@njit(cache=True)
def _rate(times, rates, step, amplitude, peak_at, daily, t):
    factor = 1.0 + amplitude * math.cos(2 * math.pi * (t - peak_at) / DAY_S) if daily else 1.0
    return max(0.0, _base_rate(times, rates, step, t) * factor)


@njit(cache=True)
def _bound(times, rates, step, amplitude, daily, a, b):
    base = max(_base_rate(times, rates, step, a), _base_rate(times, rates, step, b))
    for k in range(times.shape[0]):
        if a < times[k] < b and rates[k] > base:
            base = rates[k]
    if daily:
        base *= 1.0 + amplitude
    return max(0.0, base)


@njit(cache=True)
def thin(state, times, rates, step, amplitude, peak_at, daily, exp, ei, uni, ui, horizon, out):
    """Arrival times into `out`; (how many, why it stopped, exp position, uniform position)."""
    n = 0
    t, chunk_end, lam, phase = state[T], state[CHUNK_END], state[LAM], state[PHASE]
    why = FULL
    while n < out.shape[0]:
        if phase == AT_CHUNK:
            if not t < horizon:
                why = END
                break
            chunk_end = min(horizon, (math.floor(t / BOUND_CHUNK_S) + 1) * BOUND_CHUNK_S)
            lam = _bound(times, rates, step, amplitude, daily, t, chunk_end)
            if lam <= 0:
                t = chunk_end
                continue
            phase = AT_EXP
        if phase == AT_EXP:
            if ei == exp.shape[0]:
                why = NEED_EXP
                break
            t += exp[ei] / lam
            ei += 1
            if t >= chunk_end:
                t = chunk_end                            # memoryless: restart from the chunk's end
                phase = AT_CHUNK
                continue
            phase = AT_UNIFORM
        if ui == uni.shape[0]:
            why = NEED_UNIFORM
            break
        u = uni[ui]
        ui += 1
        phase = AT_EXP
        if u * lam <= _rate(times, rates, step, amplitude, peak_at, daily, t):
            out[n] = t
            n += 1
    state[T], state[CHUNK_END], state[LAM], state[PHASE] = t, chunk_end, lam, phase
    return n, why, ei, ui


def thinned_blocks(profile, rng, horizon: float):
    """traffic.arrival_blocks for Poisson arrivals at a varying rate: the same times, thinned in numba."""
    times = np.array(profile.times, dtype=float)
    rates = np.array([r for _t, r in profile.points], dtype=float)
    daily = profile.daily is not None
    amplitude = profile.daily.amplitude if daily else 0.0
    peak_at = profile.daily.peak_at if daily else 0.0
    state = np.array([0.0, 0.0, 0.0, AT_CHUNK])
    exp, uni = np.empty(0), np.empty(0)
    ei = ui = 0
    while True:
        out = np.empty(BLOCK)
        n, why, ei, ui = thin(state, times, rates, profile.step, amplitude, peak_at, daily, exp, ei, uni, ui,
                              float(horizon), out)
        if n:
            yield out[:n]
        if why == END:
            return
        if why == NEED_EXP:                             # as Batched: a block of the stream when one is needed
            exp, ei = rng.standard_exponential(BLOCK), 0
        elif why == NEED_UNIFORM:
            uni, ui = rng.random(BLOCK), 0


def arrival_blocks(profile, kind: str, rng, horizon: float):
    """The compiled path's arrival times: thinned here at a varying Poisson rate, else traffic's blocks."""
    if kind == "poisson" and not profile.constant:
        return thinned_blocks(profile, rng, horizon)
    return traffic_blocks(profile, kind, rng, horizon)
