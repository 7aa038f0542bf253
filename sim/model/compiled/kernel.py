"""The compiled request path: requests.py and router.py, line for line, on arrays (numba). This module has
the plain path, the pending queue and the event loop; sharing.py, routing.py and recording.py the rest.

Every function mirrors one of requests.py (and the two routers it supports) with the same arithmetic
in the same order, so results are bit-identical: the same draws (from buffers Python fills from the same
streams), the same event order (this kernel's events carry event ids from SimPy's own counter, and run.py
interleaves them with SimPy's queue by (time, priority, id)), and the same float operations.

The kernel processes its events up to a bound (the head of SimPy's queue) and hands back to Python, with a
code, whenever a request needs the control plane: an instance that runs empty (`pool.on_idle`, unless the
fast path in on_idle covers it), a start on demand (both the last thing an event does: nothing is left to
finish), buffers to refill, arrays to grow (both before an event starts). Billing (billing.py) is the
kernel's own. The state: arrays.py (layout.py names their rows and cells).
"""
from __future__ import annotations

from numba import njit

from .arrays import (the_AB, the_CS, the_F, the_HI, the_HT, the_I, the_IREQ, the_PQ, the_RF, the_RI, the_SB, the_SF,
                     the_SI, the_TT)
from .events import before, pop_event, push_event
from .billing import busy_ended, busy_started
from .recording import count, saturation, served, touch
from .routing import acquire, attach, detach, free_request, new_request, pq_append, pq_get, pq_popleft, release
from .sharing import begin_shared, due, share
from .layout import (ARRIVAL, ARRIVED, ARR_DONE, ARR_EID, ARR_I, ARR_N, ARR_PENDING, ARR_T, CODE_SLOT,
                     CPR, CPU, CPU_IN_USE, DEADLINE, DEADLINES_MAY_FALL, DL_HEAD, DL_N, DONE, EV_ARRIVAL,
                     EV_COMPLETE, EV_DUE, EV_REAP, FAILED_429, FAILED_504, FAILED_SHUTDOWN, FREE_N, GROW, HEAP_N,
                     H_A, H_B, H_EID, H_KIND, IDLE_SINCE, IDLE_TIMER_ARMED, INF, IN_FLIGHT, KEEPS_IDLE, MAY_START,
                     NOW, NREQ, ON_DEMAND, ON_DEMAND_COVER, ON_DEMAND_START, ON_IDLE, PENDING_TIMEOUT, PH_N, PQ_N,
                     PS_AT, PS_GEN, PS_ON, REAPER_ARMED, REFILL, REQUEST_TIMEOUT, ROUTABLE, R_ALIVE, R_GEN, R_INST,
                     SAT_FROM, SERVICE, SHARED, START, ST_I, ST_N, S_IN_FLIGHT, TAILS_N)

@njit(cache=True)
def begin_plain(st, r, s, now):
    F, I, SI, RF, RI, CS = the_F(st), the_I(st), the_SI(st), the_RF(st), the_RI(st), the_CS(st)
    RF[START, r] = now
    attach(st, r, s)
    k = SI[S_IN_FLIGHT, s]
    if k == 1:
        busy_started(st, s, now)
    I[IN_FLIGHT] += 1
    F[CPU_IN_USE] += CS[k]
    if k == I[SAT_FROM]:
        saturation(st, 1, now)
    stime = RF[SERVICE, r]
    push_event(st, now + (stime if stime <= F[REQUEST_TIMEOUT] else F[REQUEST_TIMEOUT]), EV_COMPLETE, r,
                RI[R_GEN, r])


@njit(cache=True)
def begin(st, r, s, now):
    I, SI = the_I(st), the_SI(st)
    if not I[SHARED]:
        begin_plain(st, r, s, now)
    elif SI[PS_ON, s]:
        begin_shared(st, r, s, now)
    elif SI[S_IN_FLIGHT, s] == I[SAT_FROM]:
        share(st, s, now)
        begin_shared(st, r, s, now)
    else:
        begin_plain(st, r, s, now)


@njit(cache=True)
def complete(st, r, gen, s_unused, now):
    """A plain request's timeout: served or 504. Returns the instance slot, or -1 when the event is void."""
    F, I, SI, RF, RI, CS = the_F(st), the_I(st), the_SI(st), the_RF(st), the_RI(st), the_CS(st)
    if RI[R_GEN, r] != gen or RI[R_INST, r] < 0:
        return -1
    s = RI[R_INST, r]
    if SI[PS_ON, s]:
        return -1
    detach(st, r, s)
    touch(st, now)
    I[IN_FLIGHT] -= 1
    k = SI[S_IN_FLIGHT, s]
    F[CPU_IN_USE] -= CS[k]
    if k == I[SAT_FROM]:
        saturation(st, -1, now)
    if RF[SERVICE, r] > F[REQUEST_TIMEOUT]:
        count(st, FAILED_504, now, RF[ARRIVAL, r])
    else:
        served(st, now, r)
    free_request(st, r)
    release(st, s)
    return s


# -- the pending queue --------------------------------------------------------------------------------------
@njit(cache=True)
def arm_reaper(st, now):
    I, RF = the_I(st), the_RF(st)
    I[REAPER_ARMED] = 1
    push_event(st, now + max(0.0, RF[DEADLINE, pq_get(st, 0)] - now), EV_REAP, 0, 0)


@njit(cache=True)
def reap(st, now):
    I, RF = the_I(st), the_RF(st)
    I[REAPER_ARMED] = 0
    if I[PQ_N] > 0 and RF[DEADLINE, pq_get(st, 0)] <= now + 1e-12:
        touch(st, now)
        while I[PQ_N] > 0 and RF[DEADLINE, pq_get(st, 0)] <= now + 1e-12:
            r = pq_popleft(st)
            count(st, FAILED_429, now, RF[ARRIVAL, r])
            free_request(st, r)
    if I[PQ_N] > 0:
        arm_reaper(st, now)


@njit(cache=True)
def enqueue(st, r, now):
    """Returns True when Python must consider a start on demand (pool.start_on_demand)."""
    F, I, RF = the_F(st), the_I(st), the_RF(st)
    if F[PENDING_TIMEOUT] <= 0:
        count(st, FAILED_429, now, RF[ARRIVAL, r])
        free_request(st, r)
    else:
        deadline = now + F[PENDING_TIMEOUT]
        if I[DEADLINES_MAY_FALL] and I[PQ_N] > 0:
            last = RF[DEADLINE, pq_get(st, I[PQ_N] - 1)]
            if last > deadline:
                deadline = last
        RF[DEADLINE, r] = deadline
        pq_append(st, r)
        if not I[REAPER_ARMED]:
            arm_reaper(st, now)
    # pool.start_on_demand returns at once when the starting instances cover the queue, or when it can
    # neither take back a parked instance nor start one: only then is Python asked.
    return I[ON_DEMAND] == 1 and I[PQ_N] > I[ON_DEMAND_COVER] and I[MAY_START] == 1


@njit(cache=True)
def dispatch(st, now):
    """dispatch_pending(now): give free slots to pending requests, oldest first."""
    I, RF = the_I(st), the_RF(st)
    while I[PQ_N] > 0:
        s = acquire(st)
        if s < 0:
            return
        r = pq_popleft(st)
        while RF[DEADLINE, r] < now:                 # expired, its reaper has not run yet
            count(st, FAILED_429, now, RF[ARRIVAL, r])
            free_request(st, r)
            if I[PQ_N] == 0:
                release(st, s)
                return
            r = pq_popleft(st)
        begin(st, r, s, now)


@njit(cache=True)
def on_idle(st, s, now):
    """pool.on_idle, when it only bills the busy span and starts the idle time (a routable instance whose
    idle timer runs, or is not wanted); else ON_IDLE for Python."""
    I, SF, SI = the_I(st), the_SF(st), the_SI(st)
    if not SI[ROUTABLE, s] or (I[KEEPS_IDLE] and not SI[IDLE_TIMER_ARMED, s]):
        I[CODE_SLOT] = s
        return ON_IDLE
    busy_ended(st, s, now, True)
    SF[IDLE_SINCE, s] = now                          # pool._became_idle
    return DONE


@njit(cache=True)
def after_release(st, s, now):
    """What complete and due do after releasing: dispatch the queue, then on_idle if s ran empty."""
    if the_I(st)[PQ_N] > 0:
        dispatch(st, now)
    if the_SI(st)[S_IN_FLIGHT, s] == 0:
        return on_idle(st, s, now)
    return DONE


@njit(cache=True)
def run(st, bound_t, bound_p, bound_e, margin):
    """Process events before (bound_t, bound_p, bound_e) (SimPy's head); a code when Python is needed."""
    F, I, HT, HI, AB, SB = the_F(st), the_I(st), the_HT(st), the_HI(st), the_AB(st), the_SB(st)
    I[CODE_SLOT] = -1
    while True:
        from_heap = I[HEAP_N] > 0 and not (I[ARR_PENDING] and before(F[ARR_T], I[ARR_EID], HT[0], HI[0, H_EID]))
        if from_heap:
            t, e, kind = HT[0], HI[0, H_EID], HI[0, H_KIND]
        elif I[ARR_PENDING]:
            t, e, kind = F[ARR_T], I[ARR_EID], EV_ARRIVAL
        else:
            return DONE
        if not (t < bound_t or (t == bound_t and (1 < bound_p or (1 == bound_p and e < bound_e)))):
            return DONE
        if (I[HEAP_N] + margin > HT.shape[0] or I[FREE_N] < 2 or I[PQ_N] + 2 > the_PQ(st).shape[0]
                or I[TAILS_N] + 2 > the_TT(st).shape[0]):
            return GROW
        if kind == EV_ARRIVAL and ((I[ARR_I] == I[ARR_N] and not I[ARR_DONE]) or I[ST_I] == I[ST_N]):
            return REFILL
        if from_heap:
            a, b = HI[0, H_A], HI[0, H_B]
            pop_event(st)
        else:
            a, b = 0, 0
            I[ARR_PENDING] = 0
        now = t
        F[NOW] = now
        if kind == EV_ARRIVAL:
            if I[ARR_I] < I[ARR_N]:
                nxt = AB[I[ARR_I]]
                I[ARR_I] += 1
                push_event(st, now + (nxt - now), EV_ARRIVAL, 0, 0)
            count(st, ARRIVED, now, now)
            r = new_request(st, now, SB[I[ST_I]])
            I[ST_I] += 1
            touch(st, now)
            s = acquire(st)
            if s >= 0:
                begin(st, r, s, now)
            elif enqueue(st, r, now):
                return ON_DEMAND_START
        elif kind == EV_COMPLETE:
            s = complete(st, a, b, -1, now)
            if s >= 0:
                code = after_release(st, s, now)
                if code != DONE:
                    return code
        elif kind == EV_DUE:
            s = due(st, a, b, now)
            if s >= 0:
                code = after_release(st, s, now)
                if code != DONE:
                    return code
        else:
            reap(st, now)
    return DONE


@njit(cache=True)
def fail_requests_of(st, s, now):
    """The instance is shut down under running requests: they fail (the caller touched the integrals)."""
    F, I, SF, SI, IREQ, RF = the_F(st), the_I(st), the_SF(st), the_SI(st), the_IREQ(st), the_RF(st)
    n = SI[NREQ, s]
    for i in range(n):
        r = IREQ[s, i]
        count(st, FAILED_SHUTDOWN, now, RF[ARRIVAL, r])
    I[IN_FLIGHT] -= n
    k = SI[S_IN_FLIGHT, s]
    F[CPU_IN_USE] -= min(k * F[CPR], F[CPU])
    if I[SAT_FROM] and k >= I[SAT_FROM]:
        saturation(st, -1, now)
    for i in range(n):
        free_request(st, IREQ[s, i])
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
def requests_in_system_since(st, warmup):
    """Requests pending or running that arrived at or after warmup (end_figures' in_flight_at_end)."""
    RF, RI = the_RF(st), the_RI(st)
    n = 0
    for r in range(RF.shape[1]):
        if RI[R_ALIVE, r] and RF[ARRIVAL, r] >= warmup:
            n += 1
    return n
