"""The kernel's event heap: (time, event id) -> (kind, a, b), ordered as SimPy orders its queue. Every kernel
event has SimPy's NORMAL priority and takes its id from SimPy's own counter (the EID cell)."""
from __future__ import annotations

from numba import njit

from .arrays import the_EID, the_HI, the_HT, the_I
from .layout import HEAP_N, H_A, H_B, H_EID, H_KIND


# -- the event heap: (time, event id) -> (kind, a, b); all kernel events have SimPy's NORMAL priority (1) -----
@njit(cache=True)
def before(t1, e1, t2, e2):
    return t1 < t2 or (t1 == t2 and e1 < e2)


@njit(cache=True)
def push_event(st, t, kind, a, b):
    I, HT, HI, EID = the_I(st), the_HT(st), the_HI(st), the_EID(st)
    eid = EID[0]
    EID[0] = eid + 1
    i = I[HEAP_N]
    I[HEAP_N] = i + 1
    while i > 0:
        p = (i - 1) >> 1
        if before(t, eid, HT[p], HI[H_EID, p]):
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
def pop_event(st):
    I, HT, HI = the_I(st), the_HT(st), the_HI(st)
    n = I[HEAP_N] - 1
    I[HEAP_N] = n
    t, eid, kind, a, b = HT[n], HI[H_EID, n], HI[H_KIND, n], HI[H_A, n], HI[H_B, n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and before(HT[c + 1], HI[H_EID, c + 1], HT[c], HI[H_EID, c]):
            c += 1
        if before(HT[c], HI[H_EID, c], t, eid):
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
