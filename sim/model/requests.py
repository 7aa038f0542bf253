"""The request path of one service: arrivals, concurrency slots, the pending queue, completions.

This is the hot path, and the one place where hot-path idioms are allowed (each is commented): requests
are plain objects moved by callbacks (no SimPy process per request), recorder counters are updated inline,
and the demand and CPU integrals the autoscaler reads are accumulated here on every change.

An arrival takes a free slot (the router picks the instance), or waits in a FIFO pending queue until a slot
frees, or fails with 429 when its pending timeout ends; a request running past `request_timeout` fails
with 504. The instance pool is told when an instance runs out of requests and when the queue needs starts.

CPU sharing (`cpu_model: shared`, and only for a service whose requests can need more than its vCPUs,
concurrency x cpu_per_request > cpu): the requests on an instance share its vCPUs (egalitarian processor
sharing). Each instance keeps a virtual clock advancing at rate r(n) = min(1, cpu / (n x cpu_per_request)),
its requests in a heap by finish virtual time, their request-timeout deadlines in start order, and ONE
pending event (the next completion or deadline), superseded through a generation number when the rate
changes: an arrival or completion costs O(log n). An instance below its vCPUs stays on the plain path of
one timeout per request (`_begin_plain`/`_complete`, rate 1) and moves to sharing when a request takes it
over (`_share`), until it runs empty. Services that cannot contend, and `cpu_model: unlimited`, only ever
take the plain path.
"""
from __future__ import annotations

from collections import deque
from heapq import heapify, heappop, heappush
from operator import attrgetter

_by_start = attrgetter("start", "arrival")        # a total order: no two requests of a service arrive at once


class Request:
    __slots__ = ("arrival", "service_time", "start", "instance", "deadline")

    def __init__(self, arrival: float, service_time: float):
        self.arrival = arrival
        self.service_time = service_time


class WarmupMark:
    """The demand integral at the warmup, from which mean_in_system counts (both request paths: this one and
    the compiled one, which define env, touch and demand_area)."""
    _demand_area_at_warmup = 0.0

    def watch_warmup(self, warmup: float) -> None:
        if warmup > 0:
            self.env.timeout(warmup).callbacks.append(self._at_warmup)

    def _at_warmup(self, _event) -> None:
        self.touch(self.env.now)
        self._demand_area_at_warmup = self.demand_area


class RequestPath(WarmupMark):
    def __init__(self, env, spec, recorder, router, draw_service_time, arrivals, pending_timeout: float):
        self.env = env
        self.recorder = recorder
        self.router = router
        self.draw_service_time = draw_service_time
        self._arrivals = arrivals                    # iterator of arrival times
        self.request_timeout = spec.request_timeout
        self.pending_timeout = pending_timeout
        # vCPUs in use rise by _cpu_step[n] when an instance goes from n - 1 to n requests (capped at its cpu).
        cpr, cpu = spec.cpu_per_request, spec.cpu
        self._cpu_per_request, self._cpu = cpr, cpu
        self._cpu_step = [0.0] + [min(n * cpr, cpu) - min((n - 1) * cpr, cpu) for n in range(1, spec.concurrency + 1)]
        # CPU saturation: an instance with more than _sat_from - 1 requests needs more than its vCPUs.
        over = [n for n in range(1, spec.concurrency + 1) if n * cpr > cpu]
        self._sat_from = over[0] if over else 0         # 0: never saturated
        self.saturated = 0                              # instances whose CPU demand exceeds their vCPUs
        self.shared = bool(over) and spec.cpu_model == "shared"
        self._rate = [1.0] + [1.0 if n * cpr <= cpu else cpu / (n * cpr) for n in range(1, spec.concurrency + 1)]
        self._seq = 0                                   # heap ties: start order
        # The processor-sharing path (see the module text) for a service that can contend, else the plain one.
        self._begin = self._begin_contended if self.shared else self._begin_plain
        self.starts_on_demand = False
        self.pool = None                              # the InstancePool, set by the service when wiring
        self.pending: deque[Request] = deque()
        self.in_flight = 0
        self.cpu_in_use = 0.0
        self._reaper_armed = False
        self._deadlines_may_fall = False              # the pending timeout was changed by a deploy
        # Integrals of demand (in flight + pending) and CPU in use, for the autoscaler's windows.
        self._last = 0.0
        self.demand_area = 0.0
        self.cpu_area = 0.0

    def start(self) -> None:
        first = next(self._arrivals, None)
        if first is not None:
            self.env.timeout(first).callbacks.append(self._arrive)

    @property
    def demand(self) -> int:
        return self.in_flight + len(self.pending)

    def touch(self, now: float) -> None:
        """Accumulate the demand and CPU integrals up to now; call before every change of either."""
        dt = now - self._last
        if dt > 0:
            self.demand_area += (self.in_flight + len(self.pending)) * dt
            self.cpu_area += self.cpu_in_use * dt
            self._last = now

    # -- the hot path ---------------------------------------------------------------------------------
    def _arrive(self, _event) -> None:
        env = self.env
        now = env.now
        nxt = next(self._arrivals, None)
        if nxt is not None:
            env.timeout(nxt - now).callbacks.append(self._arrive)
        arrivals = self.recorder.arrivals             # Counter.add(now, now), inlined: the hot path
        arrivals.bins[int(now * arrivals.inv_interval)] += 1
        arrivals.by_second[int(now)] += 1
        if now >= arrivals.warmup:
            arrivals.total += 1
        req = Request(now, self.draw_service_time())
        self.touch(now)
        inst = self.router.acquire()
        if inst is not None:
            self._begin(req, inst, now)
        else:
            self._enqueue(req, now)

    def _begin_plain(self, req: Request, inst, now: float) -> None:
        """`inst` has just given `req` a slot (router.acquire counted it in inst.in_flight)."""
        req.start = now
        req.instance = inst
        inst.requests.add(req)
        if inst.in_flight == 1:                       # busy from now: once per busy span (billing.py)
            self.recorder.billing.busy_started(inst, now)
        self.in_flight += 1
        self.cpu_in_use += self._cpu_step[inst.in_flight]
        if inst.in_flight == self._sat_from:
            self._saturation(1, now)
        st = req.service_time
        timeout = self.env.timeout(st if st <= self.request_timeout else self.request_timeout, req)
        timeout.callbacks.append(self._complete)

    def _complete(self, event) -> None:
        req = event.value
        inst = req.instance
        if req not in inst.requests or inst.ps_on:
            return                                    # failed when its instance was shut down, or now shared
        inst.requests.discard(req)
        now = self.env.now
        dt = now - self._last                         # touch(now), inlined: the hot path
        if dt > 0:
            self.demand_area += (self.in_flight + len(self.pending)) * dt
            self.cpu_area += self.cpu_in_use * dt
            self._last = now
        self.in_flight -= 1
        self.cpu_in_use -= self._cpu_step[inst.in_flight]
        if inst.in_flight == self._sat_from:
            self._saturation(-1, now)
        rec = self.recorder
        if req.service_time > self.request_timeout:
            rec.failed_504.add(now, req.arrival)
        else:
            served = rec.served                       # ArrivalCounter.add and Tally.add, inlined: the hot path
            served.bins[int(now * served.inv_interval)] += 1
            served.by_second[int(req.arrival)] += 1
            if req.arrival >= served.warmup:
                served.total += 1
                rec.latency.sketch.add(now - req.arrival)
                rec.pending_time.sketch.add(req.start - req.arrival)
            if rec.window_latency.active:
                rec.window_latency.add(req.arrival, now - req.arrival)
        self.router.release(inst)
        if self.pending:
            self.dispatch_pending(now)
        if inst.in_flight == 0:
            self.pool.on_idle(inst, now)

    def _saturation(self, step: int, now: float) -> None:
        self.saturated += step
        self.recorder.saturated.set(now, self.saturated)

    # -- the processor-sharing path (cpu_model: shared, a service whose requests can contend) ------------
    # Per instance: ps_v (virtual clock), ps_t (when it was last advanced), ps_heap [(finish v, seq, req)],
    # ps_deadlines (deque of requests in start order: the request timeout is the same for all), ps_gen
    # (the generation of the one pending event), ps_at (its time). A request is running while
    # req.instance is its instance; finished or failed ones are dropped lazily from the heap and deque.
    def _advance(self, inst, now: float) -> None:
        dt = now - inst.ps_t
        if dt > 0:
            inst.ps_v += self._rate[len(inst.requests)] * dt
            inst.ps_t = now

    def _begin_contended(self, req: Request, inst, now: float) -> None:
        """An instance below its vCPUs runs each request on the plain path (one timeout each, rate 1);
        the request that takes it over its vCPUs moves it, with the requests it runs, to sharing, until
        it runs empty."""
        if inst.ps_on:
            self._begin_shared(req, inst, now)
        elif inst.in_flight == self._sat_from:
            self._share(inst, now)
            self._begin_shared(req, inst, now)
        else:
            self._begin_plain(req, inst, now)

    def _share(self, inst, now: float) -> None:
        """Move `inst` to sharing: its running requests (at rate 1 so far) keep their remaining work."""
        inst.ps_on = True
        inst.ps_v = 0.0
        inst.ps_t = now
        heap, deadlines = inst.ps_heap, inst.ps_deadlines
        heap.clear()
        deadlines.clear()
        for req in sorted(inst.requests, key=_by_start):
            self._seq += 1
            heap.append((req.start + req.service_time - now, self._seq, req))
            deadlines.append(req)
        heapify(heap)
        inst.ps_at = float("inf")

    def _begin_shared(self, req: Request, inst, now: float) -> None:
        """`inst` has just given `req` a slot: it joins the instance's processor sharing."""
        self._advance(inst, now)
        rate_before = self._rate[len(inst.requests)]
        req.start = now
        req.instance = inst
        inst.requests.add(req)
        n = len(inst.requests)                        # = inst.in_flight (the router counted it)
        if n == 1:
            self.recorder.billing.busy_started(inst, now)
        self.in_flight += 1
        self.cpu_in_use += self._cpu_step[n]
        if n == self._sat_from:
            self._saturation(1, now)
        self._seq += 1
        finish_v = inst.ps_v + req.service_time
        heappush(inst.ps_heap, (finish_v, self._seq, req))
        inst.ps_deadlines.append(req)
        rate = self._rate[n]
        # The pending event still holds when the rate is unchanged and the newcomer neither finishes nor
        # times out before it (a newcomer's deadline is the latest of the instance's).
        if rate != rate_before or now + req.service_time < inst.ps_at:
            self._schedule(inst, now)

    def _schedule(self, inst, now: float) -> None:
        """Arm the instance's one event at its next completion or request-timeout deadline."""
        heap, deadlines = inst.ps_heap, inst.ps_deadlines
        while heap and heap[0][2].instance is not inst:
            heappop(heap)
        while deadlines and deadlines[0].instance is not inst:
            deadlines.popleft()
        inst.ps_gen += 1
        if not heap:                                  # empty: back to the plain path
            inst.ps_on = False
            inst.ps_at = float("inf")
            return
        at = now + (heap[0][0] - inst.ps_v) / self._rate[len(inst.requests)]
        deadline = deadlines[0].start + self.request_timeout
        if deadline < at:
            at = deadline
        inst.ps_at = at
        self.env.timeout(max(0.0, at - now), (inst, inst.ps_gen)).callbacks.append(self._due)

    def _due(self, event) -> None:
        inst, gen = event.value
        if gen != inst.ps_gen:
            return                                    # superseded by a rate change, or the instance stopped
        now = self.env.now
        dt = now - inst.ps_t                          # _advance(inst, now), inlined: the hot path
        if dt > 0:
            inst.ps_v += self._rate[len(inst.requests)] * dt
            inst.ps_t = now
        heap, deadlines = inst.ps_heap, inst.ps_deadlines
        done, late = [], []
        limit = inst.ps_v + 1e-9 * max(1.0, inst.ps_v)  # float slack: a finish due now is done now
        while heap and heap[0][0] <= limit:
            req = heappop(heap)[2]
            if req.instance is inst:
                done.append(req)
                req.instance = None
        timeout = self.request_timeout
        while deadlines and (deadlines[0].instance is not inst or deadlines[0].start + timeout <= now + 1e-12):
            req = deadlines.popleft()
            if req.instance is inst:
                late.append(req)
                req.instance = None
        self.touch(now)
        rec = self.recorder
        for req in done:
            self._leave(req, inst, now)
            rec.served.add(now, req.arrival)
            rec.latency.add(req.arrival, now - req.arrival)
            rec.pending_time.add(req.arrival, req.start - req.arrival)
            if rec.window_latency.active:
                rec.window_latency.add(req.arrival, now - req.arrival)
        for req in late:
            self._leave(req, inst, now)
            rec.failed_504.add(now, req.arrival)
        self._schedule(inst, now)                     # before dispatching: a newcomer then sees ps_at
        for _ in range(len(done) + len(late)):
            self.router.release(inst)
        if self.pending:
            self.dispatch_pending(now)
        if inst.in_flight == 0:
            self.pool.on_idle(inst, now)

    def _leave(self, req: Request, inst, now: float) -> None:
        inst.requests.discard(req)
        self.in_flight -= 1
        n = len(inst.requests)
        self.cpu_in_use -= self._cpu_step[n + 1]
        if n + 1 == self._sat_from:
            self._saturation(-1, now)

    def set_pending_timeout(self, seconds: float) -> None:
        """The pending timeout for requests that start waiting from now on (a deploy changed it). After a
        shortening, a new request never expires before one queued ahead of it (the queue stays in
        deadline order)."""
        self.pending_timeout = seconds
        self._deadlines_may_fall = True

    def _enqueue(self, req: Request, now: float) -> None:
        if self.pending_timeout <= 0:
            self.recorder.failed_429.add(now, req.arrival)
        else:
            req.deadline = now + self.pending_timeout
            if self._deadlines_may_fall and self.pending and self.pending[-1].deadline > req.deadline:
                req.deadline = self.pending[-1].deadline
            self.pending.append(req)
            if not self._reaper_armed:
                self._arm_reaper(now)
        if self.starts_on_demand:
            self.pool.start_on_demand(now, len(self.pending))

    def dispatch_pending(self, now: float) -> None:
        """Give free slots to pending requests, oldest first."""
        pending, router = self.pending, self.router
        while pending:
            inst = router.acquire()
            if inst is None:
                return
            req = pending.popleft()
            while req.deadline < now:                 # expired, its reaper has not run yet
                self.recorder.failed_429.add(now, req.arrival)
                if not pending:
                    router.release(inst)
                    return
                req = pending.popleft()
            self._begin(req, inst, now)

    def _arm_reaper(self, now: float) -> None:
        self._reaper_armed = True
        self.env.timeout(max(0.0, self.pending[0].deadline - now)).callbacks.append(self._reap)

    def _reap(self, _event) -> None:
        """Fail with 429 the requests whose pending timeout has ended (the queue is in deadline order)."""
        self._reaper_armed = False
        now = self.env.now
        pending = self.pending
        if pending and pending[0].deadline <= now + 1e-12:
            self.touch(now)
            while pending and pending[0].deadline <= now + 1e-12:
                self.recorder.failed_429.add(now, pending.popleft().arrival)
        if pending:
            self._arm_reaper(now)

    # -- called by the instance pool ------------------------------------------------------------------
    def fail_requests_of(self, inst, now: float) -> None:
        """`inst` is shut down under running requests: they fail (the caller has touched the integrals)."""
        for req in inst.requests:
            self.recorder.failed_shutdown.add(now, req.arrival)
        self.in_flight -= len(inst.requests)
        self.cpu_in_use -= min(inst.in_flight * self._cpu_per_request, self._cpu)
        if self._sat_from and inst.in_flight >= self._sat_from:
            self._saturation(-1, now)
        inst.requests.clear()
        inst.in_flight = 0
        if self.shared:
            for req in inst.requests:
                req.instance = None
            inst.ps_heap.clear()
            inst.ps_deadlines.clear()
            inst.ps_gen += 1                          # its pending event is void
            inst.ps_at = float("inf")
            inst.ps_on = False

    def instance_stopped(self, inst) -> None:
        """The pool stopped `inst` (the compiled path gives its slot back; nothing to do here)."""

    # -- end of run -----------------------------------------------------------------------------------
    def end_figures(self, t_end: float, warmup: float, instances) -> dict:
        """in_flight_at_end (requests that arrived after warmup and are still pending or running) and the
        mean number in system since warmup."""
        self.touch(t_end)
        in_flight_at_end = sum(1 for r in self.pending if r.arrival >= warmup) + sum(
            1 for inst in instances for r in inst.requests if r.arrival >= warmup)
        span = max(t_end - warmup, 1e-12)
        return {"in_flight_at_end": in_flight_at_end,
                "mean_in_system": (self.demand_area - self._demand_area_at_warmup) / span}
