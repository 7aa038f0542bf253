"""The request path of one service: arrivals, concurrency slots, the pending queue, completions.

This is the hot path, and the one place where hot-path idioms are allowed (each is commented): requests
are plain objects moved by callbacks (no SimPy process per request), recorder counters are updated inline,
and the demand and CPU integrals the autoscaler reads are accumulated here on every change.

An arrival takes a free slot (the router picks the instance), or waits in a FIFO pending queue until a slot
frees, or fails with 429 when its pending timeout ends; a request running past `request_timeout` fails
with 504. The instance pool is told when an instance runs out of requests and when the queue needs starts.
"""
from __future__ import annotations

from collections import deque


class Request:
    __slots__ = ("arrival", "service_time", "start", "instance", "deadline")

    def __init__(self, arrival: float, service_time: float):
        self.arrival = arrival
        self.service_time = service_time


class RequestPath:
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
        self._demand_area_at_warmup = 0.0

    def start(self) -> None:
        first = next(self._arrivals, None)
        if first is not None:
            self.env.timeout(first).callbacks.append(self._arrive)

    def watch_warmup(self, warmup: float) -> None:
        if warmup > 0:
            self.env.timeout(warmup).callbacks.append(self._at_warmup)

    def _at_warmup(self, _event) -> None:
        self.touch(self.env.now)
        self._demand_area_at_warmup = self.demand_area

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
        if now >= arrivals.warmup:
            arrivals.total += 1
        req = Request(now, self.draw_service_time())
        self.touch(now)
        inst = self.router.acquire()
        if inst is not None:
            self._begin(req, inst, now)
        else:
            self._enqueue(req, now)

    def _begin(self, req: Request, inst, now: float) -> None:
        """`inst` has just given `req` a slot (router.acquire counted it in inst.in_flight)."""
        req.start = now
        req.instance = inst
        inst.requests.add(req)
        self.in_flight += 1
        self.cpu_in_use += self._cpu_step[inst.in_flight]
        st = req.service_time
        timeout = self.env.timeout(st if st <= self.request_timeout else self.request_timeout, req)
        timeout.callbacks.append(self._complete)

    def _complete(self, event) -> None:
        req = event.value
        inst = req.instance
        if req not in inst.requests:
            return                                    # already failed when its instance was shut down
        inst.requests.discard(req)
        now = self.env.now
        dt = now - self._last                         # touch(now), inlined: the hot path
        if dt > 0:
            self.demand_area += (self.in_flight + len(self.pending)) * dt
            self.cpu_area += self.cpu_in_use * dt
            self._last = now
        self.in_flight -= 1
        self.cpu_in_use -= self._cpu_step[inst.in_flight]
        rec = self.recorder
        if req.service_time > self.request_timeout:
            rec.failed_504.add(now, req.arrival)
        else:
            served = rec.served                       # Counter.add and Tally.add, inlined: the hot path
            served.bins[int(now * served.inv_interval)] += 1
            if req.arrival >= served.warmup:
                served.total += 1
                rec.latency.sketch.add(now - req.arrival)
                rec.pending_time.sketch.add(req.start - req.arrival)
        self.router.release(inst)
        if self.pending:
            self.dispatch_pending(now)
        if inst.in_flight == 0:
            self.pool.on_idle(inst, now)

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
        inst.requests.clear()
        inst.in_flight = 0

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
