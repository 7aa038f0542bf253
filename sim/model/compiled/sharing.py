"""Processor sharing (requests.py's second half) on arrays: per instance slot a virtual clock, a heap of
(finish, seq, request key) and a ring of request-timeout deadlines in start order, both cleaned lazily,
and one pending event superseded through a generation number."""
from __future__ import annotations


from numba import njit

from .arrays import (the_CS, the_DL, the_F, the_I, the_IREQ, the_PHR, the_PHS, the_PHV, the_RF, the_RI, the_RT,
                     the_SCR, the_SF, the_SI)
from .events import push_event
from .billing import busy_started
from .recording import count, saturation, served, touch
from .routing import attach, detach, free_request, release
from .layout import (ARRIVAL, CPU_IN_USE, DL_HEAD, DL_N, EV_DUE, FAILED_504, INF, IN_FLIGHT, NREQ, PH_N, PS_AT,
                     PS_GEN, PS_ON, PS_T, PS_V, REQUEST_TIMEOUT, R_GEN, R_INST, SAT_FROM, SEQ, SERVICE, START)


# -- processor sharing (requests.py's second half) -----------------------------------------------------------
@njit(cache=True)
def ph_before(st, s, i, j):
    PHV, PHS = the_PHV(st), the_PHS(st)
    return PHV[s, i] < PHV[s, j] or (PHV[s, i] == PHV[s, j] and PHS[s, i] < PHS[s, j])


@njit(cache=True)
def ph_swap(st, s, i, j):
    PHV, PHS, PHR = the_PHV(st), the_PHS(st), the_PHR(st)
    PHV[s, i], PHV[s, j] = PHV[s, j], PHV[s, i]
    PHS[s, i], PHS[s, j] = PHS[s, j], PHS[s, i]
    PHR[s, i], PHR[s, j] = PHR[s, j], PHR[s, i]


@njit(cache=True)
def ph_sift_up(st, s, i):
    while i > 0 and ph_before(st, s, i, (i - 1) >> 1):
        ph_swap(st, s, i, (i - 1) >> 1)
        i = (i - 1) >> 1


@njit(cache=True)
def ph_push(st, s, v, seq, key):
    SI, PHV, PHS, PHR = the_SI(st), the_PHV(st), the_PHS(st), the_PHR(st)
    n = SI[PH_N, s]
    if n == PHV.shape[1]:                            # full of entries of requests gone: keep the live ones (the
        m = 0                                        # keys are unique, so the order they come out in holds)
        for i in range(n):
            if running_on(st, PHR[s, i], s):
                PHV[s, m], PHS[s, m], PHR[s, m] = PHV[s, i], PHS[s, i], PHR[s, i]
                m += 1
                ph_sift_up(st, s, m - 1)
        n = m
    PHV[s, n] = v
    PHS[s, n] = seq
    PHR[s, n] = key
    SI[PH_N, s] = n + 1
    ph_sift_up(st, s, n)


@njit(cache=True)
def ph_pop(st, s):
    SI = the_SI(st)
    n = SI[PH_N, s] - 1
    SI[PH_N, s] = n
    ph_swap(st, s, 0, n)
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and ph_before(st, s, c + 1, c):
            c += 1
        if ph_before(st, s, c, i):
            ph_swap(st, s, i, c)
            i = c
        else:
            break


@njit(cache=True)
def dl_get(st, s, i):
    SI, DL = the_SI(st), the_DL(st)
    return DL[s, (SI[DL_HEAD, s] + i) % DL.shape[1]]


@njit(cache=True)
def dl_append(st, s, r):
    SI, DL = the_SI(st), the_DL(st)
    cap = DL.shape[1]
    if SI[DL_N, s] == cap:                           # full of finished entries: keep the live ones, in order
        m = 0
        for i in range(cap):
            q = DL[s, (SI[DL_HEAD, s] + i) % cap]
            if running_on(st, q, s):
                DL[s, m] = q
                m += 1
        SI[DL_HEAD, s] = 0
        SI[DL_N, s] = m
    DL[s, (SI[DL_HEAD, s] + SI[DL_N, s]) % cap] = r
    SI[DL_N, s] += 1


@njit(cache=True)
def dl_popleft(st, s):
    SI, DL = the_SI(st), the_DL(st)
    r = DL[s, SI[DL_HEAD, s]]
    SI[DL_HEAD, s] = (SI[DL_HEAD, s] + 1) % DL.shape[1]
    SI[DL_N, s] -= 1
    return r


@njit(cache=True)
def key(st, r):
    """A request's identity in the heap and deadline entries: its slot and the slot's generation (a slot is
    reused after its request left; the entries of the one before must not match the new one)."""
    return (the_RI(st)[R_GEN, r] << 32) | r


@njit(cache=True)
def running_on(st, key, s):
    """req.instance is inst, for the request of entry `key`."""
    r = key & 0xFFFFFFFF
    return the_RI(st)[R_INST, r] == s and the_RI(st)[R_GEN, r] == (key >> 32)


@njit(cache=True)
def advance(st, s, now):
    SF, SI, RT = the_SF(st), the_SI(st), the_RT(st)
    dt = now - SF[PS_T, s]
    if dt > 0:
        SF[PS_V, s] += RT[SI[NREQ, s]] * dt
        SF[PS_T, s] = now


@njit(cache=True)
def share(st, s, now):
    """Move s to sharing: its running requests (at rate 1 so far) keep their remaining work, taken in order of
    (start, arrival), as requests.py's sorted()."""
    I, SF, SI, IREQ, RF = the_I(st), the_SF(st), the_SI(st), the_IREQ(st), the_RF(st)
    SI[PS_ON, s] = 1
    SF[PS_V, s] = 0.0
    SF[PS_T, s] = now
    SI[PH_N, s] = 0
    SI[DL_HEAD, s] = 0
    SI[DL_N, s] = 0
    n = SI[NREQ, s]
    order = the_SCR(st)                              # scratch (no allocation): n <= concurrency
    for i in range(n):                               # insertion sort: n <= concurrency
        r = IREQ[s, i]
        j = i
        while j > 0 and (RF[START, order[j - 1]] > RF[START, r] or (
                RF[START, order[j - 1]] == RF[START, r] and RF[ARRIVAL, order[j - 1]] > RF[ARRIVAL, r])):
            order[j] = order[j - 1]
            j -= 1
        order[j] = r
    for j in range(n):
        r = order[j]
        I[SEQ] += 1
        ph_push(st, s, RF[START, r] + RF[SERVICE, r] - now, I[SEQ], key(st, r))
        dl_append(st, s, key(st, r))
    SF[PS_AT, s] = INF


@njit(cache=True)
def begin_shared(st, r, s, now):
    F, I, SF, SI, RF, CS, RT = the_F(st), the_I(st), the_SF(st), the_SI(st), the_RF(st), the_CS(st), the_RT(st)
    advance(st, s, now)
    rate_before = RT[SI[NREQ, s]]
    RF[START, r] = now
    attach(st, r, s)
    n = SI[NREQ, s]
    if n == 1:
        busy_started(st, s, now)
    I[IN_FLIGHT] += 1
    F[CPU_IN_USE] += CS[n]
    if n == I[SAT_FROM]:
        saturation(st, 1, now)
    I[SEQ] += 1
    ph_push(st, s, SF[PS_V, s] + RF[SERVICE, r], I[SEQ], key(st, r))
    dl_append(st, s, key(st, r))
    rate = RT[n]
    if rate != rate_before or now + RF[SERVICE, r] < SF[PS_AT, s]:
        schedule(st, s, now)


@njit(cache=True)
def schedule(st, s, now):
    F, SF, SI, RF, PHV, PHR, RT = the_F(st), the_SF(st), the_SI(st), the_RF(st), the_PHV(st), the_PHR(st), the_RT(st)
    while SI[PH_N, s] > 0 and not running_on(st, PHR[s, 0], s):
        ph_pop(st, s)
    while SI[DL_N, s] > 0 and not running_on(st, dl_get(st, s, 0), s):
        dl_popleft(st, s)
    SI[PS_GEN, s] += 1
    if SI[PH_N, s] == 0:
        SI[PS_ON, s] = 0
        SF[PS_AT, s] = INF
        return
    at = now + (PHV[s, 0] - SF[PS_V, s]) / RT[SI[NREQ, s]]
    deadline = RF[START, dl_get(st, s, 0) & 0xFFFFFFFF] + F[REQUEST_TIMEOUT]
    if deadline < at:
        at = deadline
    SF[PS_AT, s] = at
    push_event(st, now + max(0.0, at - now), EV_DUE, s, SI[PS_GEN, s])


@njit(cache=True)
def leave(st, r, s, now):
    F, I, SI, CS = the_F(st), the_I(st), the_SI(st), the_CS(st)
    detach(st, r, s)
    I[IN_FLIGHT] -= 1
    n = SI[NREQ, s]
    F[CPU_IN_USE] -= CS[n + 1]
    if n + 1 == I[SAT_FROM]:
        saturation(st, -1, now)


@njit(cache=True)
def due(st, s, gen, now):
    """The instance's one event: completions and request timeouts. Returns s, or -1 when superseded."""
    F, SF, SI, RF, PHV, PHR, RT = the_F(st), the_SF(st), the_SI(st), the_RF(st), the_PHV(st), the_PHR(st), the_RT(st)
    if gen != SI[PS_GEN, s]:
        return -1
    dt = now - SF[PS_T, s]
    if dt > 0:
        SF[PS_V, s] += RT[SI[NREQ, s]] * dt
        SF[PS_T, s] = now
    ps_v = SF[PS_V, s]
    limit = ps_v + 1e-9 * max(1.0, ps_v)
    scratch = the_SCR(st)                            # done in [0, heap size), late after: no allocation
    done = scratch[:SI[PH_N, s]]
    nd = 0
    while SI[PH_N, s] > 0 and PHV[s, 0] <= limit:
        key = PHR[s, 0]
        ph_pop(st, s)
        if running_on(st, key, s):
            r = key & 0xFFFFFFFF
            done[nd] = r
            nd += 1
            the_RI(st)[R_INST, r] = -2                    # req.instance = None (still in inst.requests until leave)
    late = scratch[SI[PH_N, s]:SI[PH_N, s] + SI[DL_N, s]]
    nl = 0
    timeout = F[REQUEST_TIMEOUT]
    while SI[DL_N, s] > 0:
        key = dl_get(st, s, 0)
        r = key & 0xFFFFFFFF
        if running_on(st, key, s) and not (RF[START, r] + timeout <= now + 1e-12):
            break
        dl_popleft(st, s)
        if running_on(st, key, s):
            late[nl] = r
            nl += 1
            the_RI(st)[R_INST, r] = -2
    touch(st, now)
    for i in range(nd):
        r = done[i]
        the_RI(st)[R_INST, r] = s
        leave(st, r, s, now)
        served(st, now, r)
        free_request(st, r)
    for i in range(nl):
        r = late[i]
        the_RI(st)[R_INST, r] = s
        leave(st, r, s, now)
        count(st, FAILED_504, now, RF[ARRIVAL, r])
        free_request(st, r)
    schedule(st, s, now)
    for _ in range(nd + nl):
        release(st, s)
    return s
