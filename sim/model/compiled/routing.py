"""Requests, the pending queue and the routers (router.py) on arrays.

Requests live in slots (RF/RI columns), reused once their request left; each instance slot lists its own
(IREQ). least-loaded keeps, per level of requests in flight, a linked list of instances with the newest at
its tail (router.py's ordered dicts); newest-first a heap of (-ready order, id, slot), cleaned lazily."""
from __future__ import annotations

from numba import njit

from .arrays import the_BH, the_I, the_IREQ, the_NH, the_PQ, the_RF, the_RFREE, the_RI, the_SI
from .layout import (ARRIVAL, C, FREE_N, INST_ID, INST_SEQ, IN_BUCKET, IN_HEAP, LOWEST, NEWEST_FIRST, NEXT, NH_N,
                     NREQ, PQ_HEAD, PQ_N, PREV, ROUTABLE, R_ALIVE, R_GEN, R_INST, R_POS, SERVICE, S_IN_FLIGHT)


# -- requests: slots in RF/RI, each instance's in IREQ ---------------------------------------------------------
@njit(cache=True)
def new_request(st, arrival, service_time):
    RF, RI, RFREE, I = the_RF(st), the_RI(st), the_RFREE(st), the_I(st)
    n = I[FREE_N] - 1
    I[FREE_N] = n
    r = RFREE[n]
    RF[ARRIVAL, r] = arrival
    RF[SERVICE, r] = service_time
    RI[R_INST, r] = -1
    RI[R_ALIVE, r] = 1
    return r


@njit(cache=True)
def free_request(st, r):
    RI, RFREE, I = the_RI(st), the_RFREE(st), the_I(st)
    RI[R_ALIVE, r] = 0
    RI[R_INST, r] = -1
    RI[R_GEN, r] += 1                                # its events are void
    RFREE[I[FREE_N]] = r
    I[FREE_N] += 1


@njit(cache=True)
def attach(st, r, s):
    """inst.requests.add(req); req.instance = inst."""
    SI, IREQ, RI = the_SI(st), the_IREQ(st), the_RI(st)
    n = SI[NREQ, s]
    IREQ[s, n] = r
    RI[R_POS, r] = n
    RI[R_INST, r] = s
    SI[NREQ, s] = n + 1


@njit(cache=True)
def detach(st, r, s):
    """inst.requests.discard(req); req.instance = None."""
    SI, IREQ, RI = the_SI(st), the_IREQ(st), the_RI(st)
    n = SI[NREQ, s] - 1
    pos = RI[R_POS, r]
    last = IREQ[s, n]
    IREQ[s, pos] = last
    RI[R_POS, last] = pos
    SI[NREQ, s] = n
    RI[R_INST, r] = -1


# -- the pending queue: a ring of request slots -----------------------------------------------------------------
@njit(cache=True)
def pq_get(st, i):
    I, PQ = the_I(st), the_PQ(st)
    return PQ[(I[PQ_HEAD] + i) % PQ.shape[0]]


@njit(cache=True)
def pq_append(st, r):
    I, PQ = the_I(st), the_PQ(st)
    PQ[(I[PQ_HEAD] + I[PQ_N]) % PQ.shape[0]] = r
    I[PQ_N] += 1


@njit(cache=True)
def pq_popleft(st):
    I, PQ = the_I(st), the_PQ(st)
    r = PQ[I[PQ_HEAD]]
    I[PQ_HEAD] = (I[PQ_HEAD] + 1) % PQ.shape[0]
    I[PQ_N] -= 1
    return r


# -- routers (router.py): least-loaded buckets as linked lists (newest at the tail), newest-first as a heap ----
@njit(cache=True)
def bucket_append(st, level, s):
    SI, BH = the_SI(st), the_BH(st)
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
def bucket_remove(st, level, s):
    SI, BH = the_SI(st), the_BH(st)
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
def nh_before(st, i, j):
    NH = the_NH(st)
    return NH[0, i] < NH[0, j] or (NH[0, i] == NH[0, j] and NH[1, i] < NH[1, j])


@njit(cache=True)
def nh_swap(st, i, j):
    NH = the_NH(st)
    for r in range(3):
        NH[r, i], NH[r, j] = NH[r, j], NH[r, i]


@njit(cache=True)
def nh_pop(st):
    I = the_I(st)
    n = I[NH_N] - 1
    I[NH_N] = n
    nh_swap(st, 0, n)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and nh_before(st, c + 1, c):
            c += 1
        if nh_before(st, c, i):
            nh_swap(st, i, c)
            i = c
        else:
            break


@njit(cache=True)
def router_add(st, s):
    I, SI, NH = the_I(st), the_SI(st), the_NH(st)
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
            while i > 0 and nh_before(st, i, (i - 1) >> 1):
                nh_swap(st, i, (i - 1) >> 1)
                i = (i - 1) >> 1
        return
    if k < c:
        bucket_append(st, k, s)
        if k < I[LOWEST]:
            I[LOWEST] = k


@njit(cache=True)
def router_remove(st, s):
    I, SI = the_I(st), the_SI(st)
    if I[NEWEST_FIRST]:
        return                                       # entries of removed instances are dropped when they surface
    if SI[S_IN_FLIGHT, s] < I[C] and SI[IN_BUCKET, s]:
        bucket_remove(st, SI[S_IN_FLIGHT, s], s)


@njit(cache=True)
def acquire(st):
    """router.acquire(): the instance slot that takes a request (its in_flight counted), or -1."""
    I, SI, BH, NH = the_I(st), the_SI(st), the_BH(st), the_NH(st)
    c = I[C]
    if I[NEWEST_FIRST]:
        while I[NH_N] > 0:
            s = NH[2, 0]
            if NH[1, 0] == SI[INST_ID, s] and SI[ROUTABLE, s] and SI[S_IN_FLIGHT, s] < c:
                SI[S_IN_FLIGHT, s] += 1
                if SI[S_IN_FLIGHT, s] == c:
                    nh_pop(st)
                    SI[IN_HEAP, s] = 0
                return s
            stale = NH[1, 0] != SI[INST_ID, s]        # the slot holds a newer instance now
            nh_pop(st)
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
    bucket_remove(st, k, s)
    SI[S_IN_FLIGHT, s] = k + 1
    if k + 1 < c:
        bucket_append(st, k + 1, s)
    return s


@njit(cache=True)
def release(st, s):
    I, SI = the_I(st), the_SI(st)
    n = SI[S_IN_FLIGHT, s]
    SI[S_IN_FLIGHT, s] = n - 1
    if not SI[ROUTABLE, s]:
        return
    if I[NEWEST_FIRST]:
        router_add(st, s)
        return
    if n < I[C]:
        bucket_remove(st, n, s)
    bucket_append(st, n - 1, s)
    if n - 1 < I[LOWEST]:
        I[LOWEST] = n - 1
