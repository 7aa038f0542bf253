"""billing.py's BillingClock on arrays, for the compiled path: the busy spans (each rounded up) and, under
request-based billing with min_instances, the idle minimum instances (the step function min(ready, m) -
min(busy, m), an instance busy until its span's rounding ends, with a heap of rounding ends: TT/TI).

The kernel bills an instance's busy span when it takes its first request and when it runs empty; the
pool's calls (instance ready, stopped, the end of the run) come through instances.KernelBillingClock, so
both sides add to the same sums in the order the Python path adds them.
"""
from __future__ import annotations

import math

from numba import njit

from .arrays import the_F, the_I, the_SF, the_SI, the_TI, the_TT
from .layout import (BILL_BUSY, BILL_READY, BILL_SINCE, BILLED_UNTIL, BILLING_BUSY, BILLING_MIN, BUSY_S,
                     BUSY_SINCE, IDLE_MIN_S, INST_ID, ROUNDING, S_IN_FLIGHT, TAILS_N, TI_ID, TI_SLOT, WARMUP)


@njit(cache=True)
def _tail_before(TT, TI, i, j):
    return TT[i] < TT[j] or (TT[i] == TT[j] and TI[i, TI_ID] < TI[j, TI_ID])


@njit(cache=True)
def _tail_swap(TT, TI, i, j):
    TT[i], TT[j] = TT[j], TT[i]
    for r in range(2):
        TI[i, r], TI[j, r] = TI[j, r], TI[i, r]


@njit(cache=True)
def _tail_push(st, until, s):
    I, SI, TT, TI = the_I(st), the_SI(st), the_TT(st), the_TI(st)
    i = I[TAILS_N]
    I[TAILS_N] = i + 1
    TT[i] = until
    TI[i, TI_ID] = SI[INST_ID, s]
    TI[i, TI_SLOT] = s
    while i > 0 and _tail_before(TT, TI, i, (i - 1) >> 1):
        _tail_swap(TT, TI, i, (i - 1) >> 1)
        i = (i - 1) >> 1


@njit(cache=True)
def _tail_pop(st):
    I, TT, TI = the_I(st), the_TT(st), the_TI(st)
    n = I[TAILS_N] - 1
    I[TAILS_N] = n
    _tail_swap(TT, TI, 0, n)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and _tail_before(TT, TI, c + 1, c):
            c += 1
        if _tail_before(TT, TI, c, i):
            _tail_swap(TT, TI, i, c)
            i = c
        else:
            break


@njit(cache=True)
def accrue(st, now):
    """Idle minimum-instance time from the last change to `now`."""
    F, I = the_F(st), the_I(st)
    m, ready, busy = I[BILLING_MIN], I[BILL_READY], I[BILL_BUSY]
    idle = (ready if ready < m else m) - (busy if busy < m else m)
    if idle:
        since = F[BILL_SINCE] if F[BILL_SINCE] > F[WARMUP] else F[WARMUP]
        if now > since:
            F[IDLE_MIN_S] += idle * (now - since)
    F[BILL_SINCE] = now


@njit(cache=True)
def advance(st, now):
    """Idle minimum-instance time up to `now`, ending the busy spans whose rounding ended before."""
    I, SF, SI, TT, TI = the_I(st), the_SF(st), the_SI(st), the_TT(st), the_TI(st)
    while I[TAILS_N] > 0 and TT[0] <= now:
        until, id_, s = TT[0], TI[0, TI_ID], TI[0, TI_SLOT]
        _tail_pop(st)
        # Stale when its instance stopped (the slot has another), a later span extended the billing, or one
        # began before `until` and still runs.
        if (SI[INST_ID, s] == id_ and SI[BILLING_BUSY, s] and SF[BILLED_UNTIL, s] == until
                and (SI[S_IN_FLIGHT, s] == 0 or SF[BUSY_SINCE, s] >= until)):
            accrue(st, until)
            SI[BILLING_BUSY, s] = 0
            I[BILL_BUSY] -= 1
    accrue(st, now)


@njit(cache=True)
def not_busy(st, s):
    I, SI = the_I(st), the_SI(st)
    if SI[BILLING_BUSY, s]:
        SI[BILLING_BUSY, s] = 0
        I[BILL_BUSY] -= 1


@njit(cache=True)
def busy_started(st, s, now):
    """The instance took a request while it had none."""
    I, SF, SI = the_I(st), the_SF(st), the_SI(st)
    SF[BUSY_SINCE, s] = now
    if I[BILLING_MIN]:
        advance(st, now)
        if not SI[BILLING_BUSY, s]:
            SI[BILLING_BUSY, s] = 1
            I[BILL_BUSY] += 1


@njit(cache=True)
def busy_ended(st, s, now, rounded):
    """The instance's last request left at `now` (rounded: False when it was shut down under them)."""
    F, I, SF = the_F(st), the_I(st), the_SF(st)
    begin = max(SF[BUSY_SINCE, s], F[WARMUP], SF[BILLED_UNTIL, s])
    if now > begin:
        span = now - begin
        if rounded and F[ROUNDING] > 0:
            span = math.ceil(span / F[ROUNDING] - 1e-9) * F[ROUNDING]
        F[BUSY_S] += span
        SF[BILLED_UNTIL, s] = begin + span
    if I[BILLING_MIN]:
        advance(st, now)
        if SF[BILLED_UNTIL, s] > now:               # busy until its rounding ends
            _tail_push(st, SF[BILLED_UNTIL, s], s)
        else:
            not_busy(st, s)


@njit(cache=True)
def ready(st, now):
    """An instance became ready (BillingClock.instance_ready's idle-minimum part)."""
    advance(st, now)
    the_I(st)[BILL_READY] += 1


@njit(cache=True)
def stopped(st, s, now):
    """An instance that was ready stopped (BillingClock.instance_stopped's idle-minimum part)."""
    advance(st, now)
    not_busy(st, s)
    the_I(st)[BILL_READY] -= 1
