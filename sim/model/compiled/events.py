"""The kernel's event heap: (time, event id) -> (kind, a, b), ordered as SimPy orders its queue. Every kernel
event has SimPy's NORMAL priority and takes its id from SimPy's own counter (the EID cell)."""
from __future__ import annotations

from numba import njit

from .arrays import the_EID, the_F, the_HI, the_HT, the_I
from .layout import ARR_EID, ARR_PENDING, ARR_T, EV_ARRIVAL, HEAP_N, H_A, H_B, H_EID, H_KIND


# -- the event heap: (time, event id) -> (kind, a, b); all kernel events have SimPy's NORMAL priority (1) -----
@njit(cache=True)
def before(t1, e1, t2, e2):
    return t1 < t2 or (t1 == t2 and e1 < e2)


@njit(cache=True)
def push_event(st, t, kind, a, b):
    """Schedule an event. The next arrival (there is one at a time) waits beside the heap, not in it: one
    push and pop fewer per request; run() takes whichever of the two comes first."""
    F, I, HT, HI, EID = the_F(st), the_I(st), the_HT(st), the_HI(st), the_EID(st)
    eid = EID[0]
    EID[0] = eid + 1
    if kind == EV_ARRIVAL:
        F[ARR_T] = t
        I[ARR_EID] = eid
        I[ARR_PENDING] = 1
        return
    i = I[HEAP_N]
    I[HEAP_N] = i + 1
    while i > 0:
        p = (i - 1) >> 1
        if before(t, eid, HT[p], HI[p, H_EID]):
            HT[i] = HT[p]
            for r in range(4):
                HI[i, r] = HI[p, r]
            i = p
        else:
            break
    HT[i] = t
    HI[i, H_EID] = eid
    HI[i, H_KIND] = kind
    HI[i, H_A] = a
    HI[i, H_B] = b


@njit(cache=True)
def pop_event(st):
    I, HT, HI = the_I(st), the_HT(st), the_HI(st)
    n = I[HEAP_N] - 1
    I[HEAP_N] = n
    t, eid, kind, a, b = HT[n], HI[n, H_EID], HI[n, H_KIND], HI[n, H_A], HI[n, H_B]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and before(HT[c + 1], HI[c + 1, H_EID], HT[c], HI[c, H_EID]):
            c += 1
        if before(HT[c], HI[c, H_EID], t, eid):
            HT[i] = HT[c]
            for r in range(4):
                HI[i, r] = HI[c, r]
            i = c
        else:
            break
    if n > 0:
        HT[i] = t
        HI[i, H_EID] = eid
        HI[i, H_KIND] = kind
        HI[i, H_A] = a
        HI[i, H_B] = b
