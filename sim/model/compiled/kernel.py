"""The compiled request path: requests.py and router.py, line for line, on arrays (numba).

Every function here mirrors one of requests.py (and the two routers it supports) with the same arithmetic
in the same order, so results are bit-identical: the same draws (from buffers Python fills from the same
streams), the same event order (this kernel's events carry event ids from SimPy's own counter, and run.py
interleaves them with SimPy's queue by (time, priority, id)), and the same float operations.

The kernel processes its events up to a bound (the head of SimPy's queue) and hands back to Python, with a
code, whenever a request needs the control plane: an instance that runs empty (`pool.on_idle`, unless the
fast path below covers it), an instance's first request under idle-minimum billing (`busy_started`), a start
on demand, buffers to refill, arrays to grow. What remains of the event is kept in CONT_* and `resume`
finishes it. The state is a tuple of arrays (layout.py names their rows and cells).
"""
from __future__ import annotations

import math

import numpy as np
from numba import carray, njit, types
from numba.extending import intrinsic

from .layout import (CODE_SLOT, ARR_DONE, ARR_I, ARR_N, ARRIVAL, ARRIVED, BILLED_UNTIL, BUSY_S, BUSY_SINCE, BUSY_STARTED,
                     C, CONT_DISPATCH, CONT_IDLE, CPR, CPU, CPU_AREA, CPU_IN_USE, DEADLINE, DEADLINES_MAY_FALL,
                     DEMAND_AREA, DL_HEAD, DL_N, DONE, EV_ARRIVAL, EV_COMPLETE, EV_DUE, EV_REAP, FAILED_429,
                     FAILED_504, FAILED_SHUTDOWN, FREE_N, GROW, H_A, H_B, H_EID, H_KIND, HEAP_N, IDLE_SINCE,
                     IDLE_TIMER_ARMED, IN_BUCKET, IN_FLIGHT, IN_HEAP, INST_ID, INST_SEQ, INV_INTERVAL,
                     KEEPS_IDLE, LAST, LOG_GAMMA, LOWEST, MAY_START, MINUTES_FROM, N_SPANS, NEWEST_FIRST, NEXT,
                     NH_N, NOW, NREQ, ON_DEMAND, ON_DEMAND_COVER, ON_DEMAND_START, ON_IDLE, PENDING_TIMEOUT,
                     PH_N, PQ_HEAD, PQ_N, PREV, PS_AT, PS_GEN, PS_ON, PS_T, PS_V, R_ALIVE, R_GEN, R_INST,
                     R_POS, REAPER_ARMED, REFILL, REQUEST_TIMEOUT, ROUNDING, ROUTABLE, S_IN_FLIGHT, SAT_AREA,
                     SAT_FROM, SAT_LAST, SAT_LEVEL, SAT_PEAK, SAT_START, SATURATED, SEQ, SERVED, SERVICE,
                     SHARED, SK_LATENCY, SK_OFFSET, SK_PENDING, SK_SPANS, SKF_MAX, SKF_MIN, SKF_TOTAL,
                     SKI_COUNT, SKI_ZEROS, ST_I, ST_N, START, WARMUP, WIN_ACTIVE, BILLING_MIN)



# -- the state: one int64 array of (data address, rows, columns) per array ---------------------------------------
# The kernel's functions pass the state to each other. As a tuple of 29 arrays it was ~260 machine arguments
# per call and, for arrays Python owns, atomic reference counting on every use; as one array of addresses
# it is a handful of arguments, and the views below carry no reference count (Python holds the arrays; see
# path.py's `_pack`). Each `_aN(st)` is array N of path.py's `arrays()`.
@intrinsic
def _f64_at(typingctx, address):
    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(sig.return_type))
    return types.CPointer(types.float64)(types.int64), codegen


@intrinsic
def _i64_at(typingctx, address):
    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(sig.return_type))
    return types.CPointer(types.int64)(types.int64), codegen

@njit(cache=True)
def _a0(st):
    return carray(_f64_at(st[0]), (st[1],))

@njit(cache=True)
def _a1(st):
    return carray(_i64_at(st[3]), (st[4],))

@njit(cache=True)
def _a2(st):
    return carray(_f64_at(st[6]), (st[7], st[8]))

@njit(cache=True)
def _a3(st):
    return carray(_i64_at(st[9]), (st[10], st[11]))

@njit(cache=True)
def _a4(st):
    return carray(_i64_at(st[12]), (st[13], st[14]))

@njit(cache=True)
def _a5(st):
    return carray(_f64_at(st[15]), (st[16], st[17]))

@njit(cache=True)
def _a6(st):
    return carray(_i64_at(st[18]), (st[19], st[20]))

@njit(cache=True)
def _a7(st):
    return carray(_i64_at(st[21]), (st[22], st[23]))

@njit(cache=True)
def _a8(st):
    return carray(_f64_at(st[24]), (st[25], st[26]))

@njit(cache=True)
def _a9(st):
    return carray(_i64_at(st[27]), (st[28], st[29]))

@njit(cache=True)
def _a10(st):
    return carray(_i64_at(st[30]), (st[31],))

@njit(cache=True)
def _a11(st):
    return carray(_i64_at(st[33]), (st[34],))

@njit(cache=True)
def _a12(st):
    return carray(_f64_at(st[36]), (st[37],))

@njit(cache=True)
def _a13(st):
    return carray(_i64_at(st[39]), (st[40], st[41]))

@njit(cache=True)
def _a14(st):
    return carray(_i64_at(st[42]), (st[43], st[44]))

@njit(cache=True)
def _a15(st):
    return carray(_i64_at(st[45]), (st[46], st[47]))

@njit(cache=True)
def _a16(st):
    return carray(_f64_at(st[48]), (st[49],))

@njit(cache=True)
def _a17(st):
    return carray(_i64_at(st[51]), (st[52], st[53]))

@njit(cache=True)
def _a18(st):
    return carray(_f64_at(st[54]), (st[55],))

@njit(cache=True)
def _a19(st):
    return carray(_f64_at(st[57]), (st[58],))

@njit(cache=True)
def _a20(st):
    return carray(_f64_at(st[60]), (st[61],))

@njit(cache=True)
def _a21(st):
    return carray(_i64_at(st[63]), (st[64], st[65]))

@njit(cache=True)
def _a22(st):
    return carray(_i64_at(st[66]), (st[67], st[68]))

@njit(cache=True)
def _a23(st):
    return carray(_i64_at(st[69]), (st[70],))

@njit(cache=True)
def _a24(st):
    return carray(_i64_at(st[72]), (st[73], st[74]))

@njit(cache=True)
def _a25(st):
    return carray(_f64_at(st[75]), (st[76], st[77]))

@njit(cache=True)
def _a26(st):
    return carray(_i64_at(st[78]), (st[79], st[80]))

@njit(cache=True)
def _a27(st):
    return carray(_f64_at(st[81]), (st[82], st[83]))

@njit(cache=True)
def _a28(st):
    return carray(_i64_at(st[84]), (st[85],))


INF = math.inf


# -- the event heap: (time, event id) -> (kind, a, b); all kernel events have SimPy's NORMAL priority (1) -----
@njit(cache=True)
def _before(t1, e1, t2, e2):
    return t1 < t2 or (t1 == t2 and e1 < e2)


@njit(cache=True)
def _push_event(st, t, kind, a, b):
    I, HT, HI, EID = _a1(st), _a12(st), _a13(st), _a28(st)
    eid = EID[0]
    EID[0] = eid + 1
    i = I[HEAP_N]
    I[HEAP_N] = i + 1
    while i > 0:
        p = (i - 1) >> 1
        if _before(t, eid, HT[p], HI[H_EID, p]):
            HT[i] = HT[p]
            for r in range(4):
                HI[r, i] = HI[r, p]
            i = p
        else:
            break
    HT[i] = t
    HI[H_EID, i] = eid
    HI[H_KIND, i] = kind
    HI[H_A, i] = a
    HI[H_B, i] = b


@njit(cache=True)
def _pop_event(st):
    I, HT, HI = _a1(st), _a12(st), _a13(st)
    n = I[HEAP_N] - 1
    I[HEAP_N] = n
    t, eid, kind, a, b = HT[n], HI[H_EID, n], HI[H_KIND, n], HI[H_A, n], HI[H_B, n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _before(HT[c + 1], HI[H_EID, c + 1], HT[c], HI[H_EID, c]):
            c += 1
        if _before(HT[c], HI[H_EID, c], t, eid):
            HT[i] = HT[c]
            for r in range(4):
                HI[r, i] = HI[r, c]
            i = c
        else:
            break
    if n > 0:
        HT[i] = t
        HI[H_EID, i] = eid
        HI[H_KIND, i] = kind
        HI[H_A, i] = a
        HI[H_B, i] = b


# -- recording (recording.py's Counter/ArrivalCounter, metrics.QuantileSketch, metrics.TimeWeighted) --------
@njit(cache=True)
def _count(st, which, t, begun):
    """ArrivalCounter.add(t, begun) of the request counter `which`."""
    F, CNT, BYS, TOT = _a0(st), _a21(st), _a22(st), _a23(st)
    CNT[which, int(t * F[INV_INTERVAL])] += 1
    BYS[which, int(begun)] += 1
    if begun >= F[WARMUP]:
        TOT[which] += 1


@njit(cache=True)
def _sketch_add(st, k, x):
    F, I, SK, SKF, SKI = _a0(st), _a1(st), _a24(st), _a25(st), _a26(st)
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
def _window_add(st, arrival, latency):
    """WindowLatency.add: the spans known before the run, then the arrival minute (peak-hour)."""
    I, WSP = _a1(st), _a27(st)
    for i in range(I[N_SPANS]):
        if WSP[0, i] <= arrival < WSP[1, i]:
            _sketch_add(st, SK_SPANS + i, latency)
    if I[MINUTES_FROM] >= 0:
        _sketch_add(st, I[MINUTES_FROM] + int(arrival // 60), latency)


@njit(cache=True)
def _served(st, now, r):
    """A request served: the served counter, latency and pending time (warm-up aware), the windows."""
    F, I, RF = _a0(st), _a1(st), _a8(st)
    arrival = RF[ARRIVAL, r]
    _count(st, SERVED, now, arrival)
    if arrival >= F[WARMUP]:
        _sketch_add(st, SK_LATENCY, now - arrival)
        _sketch_add(st, SK_PENDING, RF[START, r] - arrival)
    if I[WIN_ACTIVE]:
        _window_add(st, arrival, now - arrival)


@njit(cache=True)
def _saturation(st, step, now):
    """saturated += step, and TimeWeighted.set(now, saturated)."""
    F, I = _a0(st), _a1(st)
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
def _touch(st, now):
    F, I = _a0(st), _a1(st)
    dt = now - F[LAST]
    if dt > 0:
        F[DEMAND_AREA] += (I[IN_FLIGHT] + I[PQ_N]) * dt
        F[CPU_AREA] += F[CPU_IN_USE] * dt
        F[LAST] = now


# -- requests: slots in RF/RI, each instance's in IREQ ---------------------------------------------------------
@njit(cache=True)
def _new_request(st, arrival, service_time):
    RF, RI, RFREE, I = _a8(st), _a9(st), _a10(st), _a1(st)
    n = I[FREE_N] - 1
    I[FREE_N] = n
    r = RFREE[n]
    RF[ARRIVAL, r] = arrival
    RF[SERVICE, r] = service_time
    RI[R_INST, r] = -1
    RI[R_ALIVE, r] = 1
    return r


@njit(cache=True)
def _free_request(st, r):
    RI, RFREE, I = _a9(st), _a10(st), _a1(st)
    RI[R_ALIVE, r] = 0
    RI[R_INST, r] = -1
    RI[R_GEN, r] += 1                                # its events are void
    RFREE[I[FREE_N]] = r
    I[FREE_N] += 1


@njit(cache=True)
def _attach(st, r, s):
    """inst.requests.add(req); req.instance = inst."""
    SI, IREQ, RI = _a3(st), _a4(st), _a9(st)
    n = SI[NREQ, s]
    IREQ[s, n] = r
    RI[R_POS, r] = n
    RI[R_INST, r] = s
    SI[NREQ, s] = n + 1


@njit(cache=True)
def _detach(st, r, s):
    """inst.requests.discard(req); req.instance = None."""
    SI, IREQ, RI = _a3(st), _a4(st), _a9(st)
    n = SI[NREQ, s] - 1
    pos = RI[R_POS, r]
    last = IREQ[s, n]
    IREQ[s, pos] = last
    RI[R_POS, last] = pos
    SI[NREQ, s] = n
    RI[R_INST, r] = -1


# -- the pending queue: a ring of request slots -----------------------------------------------------------------
@njit(cache=True)
def _pq_get(st, i):
    I, PQ = _a1(st), _a11(st)
    return PQ[(I[PQ_HEAD] + i) % PQ.shape[0]]


@njit(cache=True)
def _pq_append(st, r):
    I, PQ = _a1(st), _a11(st)
    PQ[(I[PQ_HEAD] + I[PQ_N]) % PQ.shape[0]] = r
    I[PQ_N] += 1


@njit(cache=True)
def _pq_popleft(st):
    I, PQ = _a1(st), _a11(st)
    r = PQ[I[PQ_HEAD]]
    I[PQ_HEAD] = (I[PQ_HEAD] + 1) % PQ.shape[0]
    I[PQ_N] -= 1
    return r


# -- routers (router.py): least-loaded buckets as linked lists (newest at the tail), newest-first as a heap ----
@njit(cache=True)
def _bucket_append(st, level, s):
    SI, BH = _a3(st), _a14(st)
    tail = BH[1, level]
    SI[PREV, s] = tail
    SI[NEXT, s] = -1
    if tail >= 0:
        SI[NEXT, tail] = s
    else:
        BH[0, level] = s
    BH[1, level] = s
    SI[IN_BUCKET, s] = 1


@njit(cache=True)
def _bucket_remove(st, level, s):
    SI, BH = _a3(st), _a14(st)
    p, n = SI[PREV, s], SI[NEXT, s]
    if p >= 0:
        SI[NEXT, p] = n
    else:
        BH[0, level] = n
    if n >= 0:
        SI[PREV, n] = p
    else:
        BH[1, level] = p
    SI[IN_BUCKET, s] = 0


@njit(cache=True)
def _nh_before(st, i, j):
    NH = _a15(st)
    return NH[0, i] < NH[0, j] or (NH[0, i] == NH[0, j] and NH[1, i] < NH[1, j])


@njit(cache=True)
def _nh_swap(st, i, j):
    NH = _a15(st)
    for r in range(3):
        NH[r, i], NH[r, j] = NH[r, j], NH[r, i]


@njit(cache=True)
def _nh_pop(st):
    I, NH = _a1(st), _a15(st)
    n = I[NH_N] - 1
    I[NH_N] = n
    _nh_swap(st, 0, n)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _nh_before(st, c + 1, c):
            c += 1
        if _nh_before(st, c, i):
            _nh_swap(st, i, c)
            i = c
        else:
            break


@njit(cache=True)
def _router_add(st, s):
    I, SI, NH = _a1(st), _a3(st), _a15(st)
    c = I[C]
    k = SI[S_IN_FLIGHT, s]
    if I[NEWEST_FIRST]:
        if k < c and SI[IN_HEAP, s] == 0:
            SI[IN_HEAP, s] = 1
            i = I[NH_N]
            I[NH_N] = i + 1
            NH[0, i] = -SI[INST_SEQ, s]
            NH[1, i] = SI[INST_ID, s]
            NH[2, i] = s
            while i > 0 and _nh_before(st, i, (i - 1) >> 1):
                _nh_swap(st, i, (i - 1) >> 1)
                i = (i - 1) >> 1
        return
    if k < c:
        _bucket_append(st, k, s)
        if k < I[LOWEST]:
            I[LOWEST] = k


@njit(cache=True)
def _router_remove(st, s):
    I, SI = _a1(st), _a3(st)
    if I[NEWEST_FIRST]:
        return                                       # entries of removed instances are dropped when they surface
    if SI[S_IN_FLIGHT, s] < I[C] and SI[IN_BUCKET, s]:
        _bucket_remove(st, SI[S_IN_FLIGHT, s], s)


@njit(cache=True)
def _acquire(st):
    """router.acquire(): the instance slot that takes a request (its in_flight counted), or -1."""
    I, SI, BH, NH = _a1(st), _a3(st), _a14(st), _a15(st)
    c = I[C]
    if I[NEWEST_FIRST]:
        while I[NH_N] > 0:
            s = NH[2, 0]
            if NH[1, 0] == SI[INST_ID, s] and SI[ROUTABLE, s] and SI[S_IN_FLIGHT, s] < c:
                SI[S_IN_FLIGHT, s] += 1
                if SI[S_IN_FLIGHT, s] == c:
                    _nh_pop(st)
                    SI[IN_HEAP, s] = 0
                return s
            stale = NH[1, 0] != SI[INST_ID, s]        # the slot holds a newer instance now
            _nh_pop(st)
            if not stale:
                SI[IN_HEAP, s] = 0
        return -1
    k = I[LOWEST]
    while k < c and BH[0, k] < 0:
        k += 1
    I[LOWEST] = k
    if k == c:
        return -1
    s = BH[1, k]
    _bucket_remove(st, k, s)
    SI[S_IN_FLIGHT, s] = k + 1
    if k + 1 < c:
        _bucket_append(st, k + 1, s)
    return s


@njit(cache=True)
def _release(st, s):
    I, SI = _a1(st), _a3(st)
    n = SI[S_IN_FLIGHT, s]
    SI[S_IN_FLIGHT, s] = n - 1
    if not SI[ROUTABLE, s]:
        return
    if I[NEWEST_FIRST]:
        _router_add(st, s)
        return
    if n < I[C]:
        _bucket_remove(st, n, s)
    _bucket_append(st, n - 1, s)
    if n - 1 < I[LOWEST]:
        I[LOWEST] = n - 1


# -- the plain path ---------------------------------------------------------------------------------------------
@njit(cache=True)
def _busy_started(st, s, now):
    """billing.busy_started without idle-minimum billing (busy_since only); else Python does it (a code)."""
    I, SF = _a1(st), _a2(st)
    if I[BILLING_MIN]:
        return True
    SF[BUSY_SINCE, s] = now
    return False


@njit(cache=True)
def _begin_plain(st, r, s, now):
    """Returns True when Python must run billing.busy_started (moved from the middle of _begin_plain to
    its end: it reads nothing the rest of _begin_plain changes)."""
    F, I, SI, RF, RI, CS = _a0(st), _a1(st), _a3(st), _a8(st), _a9(st), _a16(st)
    RF[START, r] = now
    _attach(st, r, s)
    busy = False
    k = SI[S_IN_FLIGHT, s]
    if k == 1:
        busy = _busy_started(st, s, now)
    I[IN_FLIGHT] += 1
    F[CPU_IN_USE] += CS[k]
    if k == I[SAT_FROM]:
        _saturation(st, 1, now)
    stime = RF[SERVICE, r]
    _push_event(st, now + (stime if stime <= F[REQUEST_TIMEOUT] else F[REQUEST_TIMEOUT]), EV_COMPLETE, r,
                RI[R_GEN, r])
    return busy


@njit(cache=True)
def _begin(st, r, s, now):
    I, SI = _a1(st), _a3(st)
    if not I[SHARED]:
        return _begin_plain(st, r, s, now)
    if SI[PS_ON, s]:
        return _begin_shared(st, r, s, now)
    if SI[S_IN_FLIGHT, s] == I[SAT_FROM]:
        _share(st, s, now)
        return _begin_shared(st, r, s, now)
    return _begin_plain(st, r, s, now)


@njit(cache=True)
def _complete(st, r, gen, s_unused, now):
    """A plain request's timeout: served or 504. Returns the instance slot, or -1 when the event is void."""
    F, I, SI, RF, RI, CS = _a0(st), _a1(st), _a3(st), _a8(st), _a9(st), _a16(st)
    if RI[R_GEN, r] != gen or RI[R_INST, r] < 0:
        return -1
    s = RI[R_INST, r]
    if SI[PS_ON, s]:
        return -1
    _detach(st, r, s)
    _touch(st, now)
    I[IN_FLIGHT] -= 1
    k = SI[S_IN_FLIGHT, s]
    F[CPU_IN_USE] -= CS[k]
    if k == I[SAT_FROM]:
        _saturation(st, -1, now)
    if RF[SERVICE, r] > F[REQUEST_TIMEOUT]:
        _count(st, FAILED_504, now, RF[ARRIVAL, r])
    else:
        _served(st, now, r)
    _free_request(st, r)
    _release(st, s)
    return s


# -- processor sharing (requests.py's second half) -----------------------------------------------------------
@njit(cache=True)
def _ph_before(st, s, i, j):
    PHV, PHS = _a5(st), _a6(st)
    return PHV[s, i] < PHV[s, j] or (PHV[s, i] == PHV[s, j] and PHS[s, i] < PHS[s, j])


@njit(cache=True)
def _ph_swap(st, s, i, j):
    PHV, PHS, PHR = _a5(st), _a6(st), _a7(st)
    PHV[s, i], PHV[s, j] = PHV[s, j], PHV[s, i]
    PHS[s, i], PHS[s, j] = PHS[s, j], PHS[s, i]
    PHR[s, i], PHR[s, j] = PHR[s, j], PHR[s, i]


@njit(cache=True)
def _ph_sift_up(st, s, i):
    while i > 0 and _ph_before(st, s, i, (i - 1) >> 1):
        _ph_swap(st, s, i, (i - 1) >> 1)
        i = (i - 1) >> 1


@njit(cache=True)
def _ph_push(st, s, v, seq, key):
    SI, PHV, PHS, PHR = _a3(st), _a5(st), _a6(st), _a7(st)
    n = SI[PH_N, s]
    if n == PHV.shape[1]:                            # full of entries of requests gone: keep the live ones (the
        m = 0                                        # keys are unique, so the order they come out in holds)
        for i in range(n):
            if _running_on(st, PHR[s, i], s):
                PHV[s, m], PHS[s, m], PHR[s, m] = PHV[s, i], PHS[s, i], PHR[s, i]
                m += 1
                _ph_sift_up(st, s, m - 1)
        n = m
    PHV[s, n] = v
    PHS[s, n] = seq
    PHR[s, n] = key
    SI[PH_N, s] = n + 1
    _ph_sift_up(st, s, n)


@njit(cache=True)
def _ph_pop(st, s):
    SI = _a3(st)
    n = SI[PH_N, s] - 1
    SI[PH_N, s] = n
    _ph_swap(st, s, 0, n)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _ph_before(st, s, c + 1, c):
            c += 1
        if _ph_before(st, s, c, i):
            _ph_swap(st, s, i, c)
            i = c
        else:
            break


@njit(cache=True)
def _dl_get(st, s, i):
    SI, DL = _a3(st), _a17(st)
    return DL[s, (SI[DL_HEAD, s] + i) % DL.shape[1]]


@njit(cache=True)
def _dl_append(st, s, r):
    SI, DL = _a3(st), _a17(st)
    cap = DL.shape[1]
    if SI[DL_N, s] == cap:                           # full of finished entries: keep the live ones, in order
        m = 0
        for i in range(cap):
            q = DL[s, (SI[DL_HEAD, s] + i) % cap]
            if _running_on(st, q, s):
                DL[s, m] = q
                m += 1
        SI[DL_HEAD, s] = 0
        SI[DL_N, s] = m
    DL[s, (SI[DL_HEAD, s] + SI[DL_N, s]) % cap] = r
    SI[DL_N, s] += 1


@njit(cache=True)
def _dl_popleft(st, s):
    SI, DL = _a3(st), _a17(st)
    r = DL[s, SI[DL_HEAD, s]]
    SI[DL_HEAD, s] = (SI[DL_HEAD, s] + 1) % DL.shape[1]
    SI[DL_N, s] -= 1
    return r


@njit(cache=True)
def _key(st, r):
    """A request's identity in the heap and deadline entries: its slot and the slot's generation (a slot is
    reused after its request left; the entries of the one before must not match the new one)."""
    return (_a9(st)[R_GEN, r] << 32) | r


@njit(cache=True)
def _running_on(st, key, s):
    """req.instance is inst, for the request of entry `key`."""
    r = key & 0xFFFFFFFF
    return _a9(st)[R_INST, r] == s and _a9(st)[R_GEN, r] == (key >> 32)


@njit(cache=True)
def _advance(st, s, now):
    SF, SI, RT = _a2(st), _a3(st), _a18(st)
    dt = now - SF[PS_T, s]
    if dt > 0:
        SF[PS_V, s] += RT[SI[NREQ, s]] * dt
        SF[PS_T, s] = now


@njit(cache=True)
def _share(st, s, now):
    """Move s to sharing: its running requests (at rate 1 so far) keep their remaining work, in start order."""
    I, SF, SI, IREQ, RF = _a1(st), _a2(st), _a3(st), _a4(st), _a8(st)
    SI[PS_ON, s] = 1
    SF[PS_V, s] = 0.0
    SF[PS_T, s] = now
    SI[PH_N, s] = 0
    SI[DL_HEAD, s] = 0
    SI[DL_N, s] = 0
    n = SI[NREQ, s]
    order = np.empty(n, dtype=np.int64)
    starts = np.empty(n, dtype=np.float64)
    for i in range(n):
        order[i] = IREQ[s, i]
        starts[i] = RF[START, IREQ[s, i]]
    idx = np.argsort(starts, kind="mergesort")     # stable, as sorted()
    for j in range(n):
        r = order[idx[j]]
        I[SEQ] += 1
        _ph_push(st, s, RF[START, r] + RF[SERVICE, r] - now, I[SEQ], _key(st, r))
        _dl_append(st, s, _key(st, r))
    SF[PS_AT, s] = INF


@njit(cache=True)
def _begin_shared(st, r, s, now):
    F, I, SF, SI, RF, CS, RT = _a0(st), _a1(st), _a2(st), _a3(st), _a8(st), _a16(st), _a18(st)
    _advance(st, s, now)
    rate_before = RT[SI[NREQ, s]]
    RF[START, r] = now
    _attach(st, r, s)
    n = SI[NREQ, s]
    busy = False
    if n == 1:
        busy = _busy_started(st, s, now)
    I[IN_FLIGHT] += 1
    F[CPU_IN_USE] += CS[n]
    if n == I[SAT_FROM]:
        _saturation(st, 1, now)
    I[SEQ] += 1
    _ph_push(st, s, SF[PS_V, s] + RF[SERVICE, r], I[SEQ], _key(st, r))
    _dl_append(st, s, _key(st, r))
    rate = RT[n]
    if rate != rate_before or now + RF[SERVICE, r] < SF[PS_AT, s]:
        _schedule(st, s, now)
    return busy


@njit(cache=True)
def _schedule(st, s, now):
    F, SF, SI, RF, PHV, PHR, RT = _a0(st), _a2(st), _a3(st), _a8(st), _a5(st), _a7(st), _a18(st)
    while SI[PH_N, s] > 0 and not _running_on(st, PHR[s, 0], s):
        _ph_pop(st, s)
    while SI[DL_N, s] > 0 and not _running_on(st, _dl_get(st, s, 0), s):
        _dl_popleft(st, s)
    SI[PS_GEN, s] += 1
    if SI[PH_N, s] == 0:
        SI[PS_ON, s] = 0
        SF[PS_AT, s] = INF
        return
    at = now + (PHV[s, 0] - SF[PS_V, s]) / RT[SI[NREQ, s]]
    deadline = RF[START, _dl_get(st, s, 0) & 0xFFFFFFFF] + F[REQUEST_TIMEOUT]
    if deadline < at:
        at = deadline
    SF[PS_AT, s] = at
    _push_event(st, now + max(0.0, at - now), EV_DUE, s, SI[PS_GEN, s])


@njit(cache=True)
def _leave(st, r, s, now):
    F, I, SI, CS = _a0(st), _a1(st), _a3(st), _a16(st)
    _detach(st, r, s)
    I[IN_FLIGHT] -= 1
    n = SI[NREQ, s]
    F[CPU_IN_USE] -= CS[n + 1]
    if n + 1 == I[SAT_FROM]:
        _saturation(st, -1, now)


@njit(cache=True)
def _due(st, s, gen, now):
    """The instance's one event: completions and request timeouts. Returns s, or -1 when superseded."""
    F, SF, SI, RF, PHV, PHR, RT = _a0(st), _a2(st), _a3(st), _a8(st), _a5(st), _a7(st), _a18(st)
    if gen != SI[PS_GEN, s]:
        return -1
    dt = now - SF[PS_T, s]
    if dt > 0:
        SF[PS_V, s] += RT[SI[NREQ, s]] * dt
        SF[PS_T, s] = now
    ps_v = SF[PS_V, s]
    limit = ps_v + 1e-9 * max(1.0, ps_v)
    done = np.empty(SI[PH_N, s], dtype=np.int64)
    nd = 0
    while SI[PH_N, s] > 0 and PHV[s, 0] <= limit:
        key = PHR[s, 0]
        _ph_pop(st, s)
        if _running_on(st, key, s):
            r = key & 0xFFFFFFFF
            done[nd] = r
            nd += 1
            _a9(st)[R_INST, r] = -2                    # req.instance = None (still in inst.requests until _leave)
    late = np.empty(SI[DL_N, s], dtype=np.int64)
    nl = 0
    timeout = F[REQUEST_TIMEOUT]
    while SI[DL_N, s] > 0:
        key = _dl_get(st, s, 0)
        r = key & 0xFFFFFFFF
        if _running_on(st, key, s) and not (RF[START, r] + timeout <= now + 1e-12):
            break
        _dl_popleft(st, s)
        if _running_on(st, key, s):
            late[nl] = r
            nl += 1
            _a9(st)[R_INST, r] = -2
    _touch(st, now)
    for i in range(nd):
        r = done[i]
        _a9(st)[R_INST, r] = s
        _leave(st, r, s, now)
        _served(st, now, r)
        _free_request(st, r)
    for i in range(nl):
        r = late[i]
        _a9(st)[R_INST, r] = s
        _leave(st, r, s, now)
        _count(st, FAILED_504, now, RF[ARRIVAL, r])
        _free_request(st, r)
    _schedule(st, s, now)
    for _ in range(nd + nl):
        _release(st, s)
    return s


# -- the pending queue --------------------------------------------------------------------------------------
@njit(cache=True)
def _arm_reaper(st, now):
    I, RF = _a1(st), _a8(st)
    I[REAPER_ARMED] = 1
    _push_event(st, now + max(0.0, RF[DEADLINE, _pq_get(st, 0)] - now), EV_REAP, 0, 0)


@njit(cache=True)
def _reap(st, now):
    I, RF = _a1(st), _a8(st)
    I[REAPER_ARMED] = 0
    if I[PQ_N] > 0 and RF[DEADLINE, _pq_get(st, 0)] <= now + 1e-12:
        _touch(st, now)
        while I[PQ_N] > 0 and RF[DEADLINE, _pq_get(st, 0)] <= now + 1e-12:
            r = _pq_popleft(st)
            _count(st, FAILED_429, now, RF[ARRIVAL, r])
            _free_request(st, r)
    if I[PQ_N] > 0:
        _arm_reaper(st, now)


@njit(cache=True)
def _enqueue(st, r, now):
    """Returns True when Python must consider a start on demand (pool.start_on_demand)."""
    F, I, RF = _a0(st), _a1(st), _a8(st)
    if F[PENDING_TIMEOUT] <= 0:
        _count(st, FAILED_429, now, RF[ARRIVAL, r])
        _free_request(st, r)
    else:
        deadline = now + F[PENDING_TIMEOUT]
        if I[DEADLINES_MAY_FALL] and I[PQ_N] > 0:
            last = RF[DEADLINE, _pq_get(st, I[PQ_N] - 1)]
            if last > deadline:
                deadline = last
        RF[DEADLINE, r] = deadline
        _pq_append(st, r)
        if not I[REAPER_ARMED]:
            _arm_reaper(st, now)
    # pool.start_on_demand returns at once when the starting instances cover the queue, or when it can
    # neither take back a parked instance nor start one: only then is Python asked.
    return I[ON_DEMAND] == 1 and I[PQ_N] > I[ON_DEMAND_COVER] and I[MAY_START] == 1


@njit(cache=True)
def _dispatch(st, now):
    """dispatch_pending(now). DONE, or BUSY_STARTED with CONT_DISPATCH set (call resume after Python's
    billing.busy_started of CODE_SLOT)."""
    I, RF = _a1(st), _a8(st)
    I[CONT_DISPATCH] = 0
    while I[PQ_N] > 0:
        s = _acquire(st)
        if s < 0:
            return DONE
        r = _pq_popleft(st)
        while RF[DEADLINE, r] < now:                 # expired, its reaper has not run yet
            _count(st, FAILED_429, now, RF[ARRIVAL, r])
            _free_request(st, r)
            if I[PQ_N] == 0:
                _release(st, s)
                return DONE
            r = _pq_popleft(st)
        if _begin(st, r, s, now):
            I[CONT_DISPATCH] = 1
            I[CODE_SLOT] = s
            return BUSY_STARTED
    return DONE


@njit(cache=True)
def _on_idle(st, s, now):
    """pool.on_idle, when it only bills the busy span and starts the idle time (a routable instance, no
    idle-minimum billing, its idle timer running or not wanted); else ON_IDLE for Python."""
    F, I, SF, SI = _a0(st), _a1(st), _a2(st), _a3(st)
    if I[BILLING_MIN] or not SI[ROUTABLE, s] or (I[KEEPS_IDLE] and not SI[IDLE_TIMER_ARMED, s]):
        I[CODE_SLOT] = s
        return ON_IDLE
    begin = max(SF[BUSY_SINCE, s], F[WARMUP], SF[BILLED_UNTIL, s])   # billing.busy_ended
    if now > begin:
        span = now - begin
        if F[ROUNDING] > 0:
            span = math.ceil(span / F[ROUNDING] - 1e-9) * F[ROUNDING]
        F[BUSY_S] += span
        SF[BILLED_UNTIL, s] = begin + span
    SF[IDLE_SINCE, s] = now                          # pool._became_idle
    return DONE


@njit(cache=True)
def _resume(st):
    """Finish the event a code interrupted: the rest of a dispatch, then the emptied instance's on_idle."""
    F, I, SI = _a0(st), _a1(st), _a3(st)
    now = F[NOW]
    if I[CONT_DISPATCH]:
        code = _dispatch(st, now)
        if code != DONE:
            return code
    s = I[CONT_IDLE]
    if s >= 0:
        I[CONT_IDLE] = -1
        if SI[S_IN_FLIGHT, s] == 0:
            return _on_idle(st, s, now)
    return DONE


@njit(cache=True)
def _after_release(st, s, now):
    """What _complete and _due do after releasing: dispatch the queue, then on_idle if s ran empty."""
    I = _a1(st)
    I[CONT_IDLE] = s
    if I[PQ_N] > 0:
        code = _dispatch(st, now)
        if code != DONE:
            return code
    return _resume(st)


@njit(cache=True)
def _run(st, bound_t, bound_p, bound_e, margin):
    """Process events before (bound_t, bound_p, bound_e) (SimPy's head); a code when Python is needed."""
    F, I, HT, HI, AB, SB = _a0(st), _a1(st), _a12(st), _a13(st), _a19(st), _a20(st)
    I[CODE_SLOT] = -1
    while I[HEAP_N] > 0:
        t, e = HT[0], HI[H_EID, 0]
        if not (t < bound_t or (t == bound_t and (1 < bound_p or (1 == bound_p and e < bound_e)))):
            return DONE
        if I[HEAP_N] + margin > HT.shape[0] or I[FREE_N] < 2 or I[PQ_N] + 2 > _a11(st).shape[0]:
            return GROW
        kind = HI[H_KIND, 0]
        if kind == EV_ARRIVAL and ((I[ARR_I] == I[ARR_N] and not I[ARR_DONE]) or I[ST_I] == I[ST_N]):
            return REFILL
        a, b = HI[H_A, 0], HI[H_B, 0]
        _pop_event(st)
        now = t
        F[NOW] = now
        if kind == EV_ARRIVAL:
            if I[ARR_I] < I[ARR_N]:
                nxt = AB[I[ARR_I]]
                I[ARR_I] += 1
                _push_event(st, now + (nxt - now), EV_ARRIVAL, 0, 0)
            _count(st, ARRIVED, now, now)
            r = _new_request(st, now, SB[I[ST_I]])
            I[ST_I] += 1
            _touch(st, now)
            s = _acquire(st)
            if s >= 0:
                if _begin(st, r, s, now):
                    I[CODE_SLOT] = s
                    return BUSY_STARTED
            elif _enqueue(st, r, now):
                return ON_DEMAND_START
        elif kind == EV_COMPLETE:
            s = _complete(st, a, b, -1, now)
            if s >= 0:
                code = _after_release(st, s, now)
                if code != DONE:
                    return code
        elif kind == EV_DUE:
            s = _due(st, a, b, now)
            if s >= 0:
                code = _after_release(st, s, now)
                if code != DONE:
                    return code
        else:
            _reap(st, now)
    return DONE


@njit(cache=True)
def _fail_requests_of(st, s, now):
    """The instance is shut down under running requests: they fail (the caller touched the integrals)."""
    F, I, SF, SI, IREQ, RF = _a0(st), _a1(st), _a2(st), _a3(st), _a4(st), _a8(st)
    n = SI[NREQ, s]
    for i in range(n):
        r = IREQ[s, i]
        _count(st, FAILED_SHUTDOWN, now, RF[ARRIVAL, r])
    I[IN_FLIGHT] -= n
    k = SI[S_IN_FLIGHT, s]
    F[CPU_IN_USE] -= min(k * F[CPR], F[CPU])
    if I[SAT_FROM] and k >= I[SAT_FROM]:
        _saturation(st, -1, now)
    for i in range(n):
        _free_request(st, IREQ[s, i])
    SI[NREQ, s] = 0
    SI[S_IN_FLIGHT, s] = 0
    if I[SHARED]:
        SI[PH_N, s] = 0
        SI[DL_HEAD, s] = 0
        SI[DL_N, s] = 0
        SI[PS_GEN, s] += 1
        SF[PS_AT, s] = INF
        SI[PS_ON, s] = 0


@njit(cache=True)
def _requests_in_system_since(st, warmup):
    """Requests pending or running that arrived at or after warmup (end_figures' in_flight_at_end)."""
    RF, RI = _a8(st), _a9(st)
    n = 0
    for r in range(RF.shape[1]):
        if RI[R_ALIVE, r] and RF[ARRIVAL, r] >= warmup:
            n += 1
    return n




# -- entry points from Python (st: path.py's address array) --------------------------------------------------------
run, resume, dispatch, touch, push_event = _run, _resume, _dispatch, _touch, _push_event
router_add, router_remove, fail_requests_of = _router_add, _router_remove, _fail_requests_of
requests_in_system_since = _requests_in_system_since
