"""What the request path records, on arrays: recording.py's ArrivalCounter, metrics.QuantileSketch (the
latency and pending-time tallies, the windows' sketches), metrics.TimeWeighted (CPU-saturated
instances), the demand and CPU integrals (requests.py's touch)."""
from __future__ import annotations

import math

from numba import njit

from .arrays import the_BYS, the_CNT, the_F, the_I, the_RF, the_SK, the_SKF, the_SKI, the_TOT, the_WSP

from .layout import (ARRIVAL, CPU_AREA, CPU_IN_USE, DEMAND_AREA, INV_INTERVAL, IN_FLIGHT, LAST, LOG_GAMMA,
                     MINUTES_FROM, N_SPANS, PQ_N, SATURATED, SAT_AREA, SAT_LAST, SAT_LEVEL, SAT_PEAK, SAT_START,
                     SERVED, SKF_MAX, SKF_MIN, SKF_TOTAL, SKI_COUNT, SKI_ZEROS, SK_LATENCY, SK_OFFSET, SK_PENDING,
                     SK_SPANS, START, WARMUP, WIN_ACTIVE)


# -- recording (recording.py's Counter/ArrivalCounter, metrics.QuantileSketch, metrics.TimeWeighted) --------
@njit(cache=True)
def count(st, which, t, begun):
    """ArrivalCounter.add(t, begun) of the request counter `which`."""
    F, CNT, BYS, TOT = the_F(st), the_CNT(st), the_BYS(st), the_TOT(st)
    CNT[which, int(t * F[INV_INTERVAL])] += 1
    BYS[which, int(begun)] += 1
    if begun >= F[WARMUP]:
        TOT[which] += 1


@njit(cache=True)
def sketch_add(st, k, x):
    F, I, SK, SKF, SKI = the_F(st), the_I(st), the_SK(st), the_SKF(st), the_SKI(st)
    SKI[k, SKI_COUNT] += 1
    SKF[k, SKF_TOTAL] += x
    if x < SKF[k, SKF_MIN]:
        SKF[k, SKF_MIN] = x
    if x > SKF[k, SKF_MAX]:
        SKF[k, SKF_MAX] = x
    if x <= 1e-9:
        SKI[k, SKI_ZEROS] += 1
        return
    SK[k, math.ceil(math.log(x) / F[LOG_GAMMA]) + I[SK_OFFSET]] += 1


@njit(cache=True)
def window_add(st, arrival, latency):
    """WindowLatency.add: the spans known before the run, then the arrival minute (peak-hour)."""
    I, WSP = the_I(st), the_WSP(st)
    for i in range(I[N_SPANS]):
        if WSP[0, i] <= arrival < WSP[1, i]:
            sketch_add(st, SK_SPANS + i, latency)
    if I[MINUTES_FROM] >= 0:
        sketch_add(st, I[MINUTES_FROM] + int(arrival // 60), latency)


@njit(cache=True)
def served(st, now, r):
    """A request served: the served counter, latency and pending time (warm-up aware), the windows."""
    F, I, RF = the_F(st), the_I(st), the_RF(st)
    arrival = RF[ARRIVAL, r]
    count(st, SERVED, now, arrival)
    if arrival >= F[WARMUP]:
        sketch_add(st, SK_LATENCY, now - arrival)
        sketch_add(st, SK_PENDING, RF[START, r] - arrival)
    if I[WIN_ACTIVE]:
        window_add(st, arrival, now - arrival)


@njit(cache=True)
def saturation(st, step, now):
    """saturated += step, and TimeWeighted.set(now, saturated)."""
    F, I = the_F(st), the_I(st)
    I[SATURATED] += step
    level = float(I[SATURATED])
    start = F[SAT_START]
    if now > start:
        F[SAT_AREA] += F[SAT_LEVEL] * (now - max(F[SAT_LAST], start))
        if F[SAT_LAST] < start and F[SAT_LEVEL] > F[SAT_PEAK]:
            F[SAT_PEAK] = F[SAT_LEVEL]
        if level > F[SAT_PEAK]:
            F[SAT_PEAK] = level
    elif level > F[SAT_PEAK] and now == start:
        F[SAT_PEAK] = level
    F[SAT_LAST] = now
    F[SAT_LEVEL] = level


@njit(cache=True)
def touch(st, now):
    F, I = the_F(st), the_I(st)
    dt = now - F[LAST]
    if dt > 0:
        F[DEMAND_AREA] += (I[IN_FLIGHT] + I[PQ_N]) * dt
        F[CPU_AREA] += F[CPU_IN_USE] * dt
        F[LAST] = now


# -- the plain path ---------------------------------------------------------------------------------------------
