"""One Cloud Run service: requests, the pending queue, its instances and their start path, its revisions.

Requests are the hot path, so they are plain objects moved by callbacks (no SimPy process per request):
an arrival either takes a free slot (the router picks the instance) or waits in a FIFO pending queue until
a slot frees, or fails with 429 when its pending timeout ends. Instances, the autoscaler, validation checks
and deploys are SimPy processes.

The CMEK start path (DOMAIN.md section 1): schedule, image fetch, `decrypts_per_start` decrypts, container
start, app init. A retryable key error is retried with backoff and the instance keeps starting; any other
error fails the start, is logged, and further starts wait for the autoscaler's next decision.
"""
from __future__ import annotations

import math
from collections import deque

from .. import rng as rngs
from .autoscaler import Signals, make_policy
from .draws import batched_dist
from .instance import Instance, InstanceState
from .kms import REASON_DEPLOY, REASON_VALIDATE_DECRYPT, REASON_VALIDATE_ENCRYPT, START_REASONS
from .recorder import ServiceRecorder
from .revisions import Revision, revision_name
from .router import make_router
from .traffic import RateProfile, arrival_times

STARTING, READY, STOPPED = InstanceState.STARTING, InstanceState.READY, InstanceState.STOPPED
# Start failures that mean "the key is revoked" (shut-down action starts its countdown on them).
REVOCATION_FAILURES = frozenset({"key_disabled", "key_destroyed", "key_destroy_scheduled", "permission_denied"})


class Request:
    __slots__ = ("arrival", "service_time", "start", "instance", "deadline")

    def __init__(self, arrival: float, service_time: float):
        self.arrival = arrival
        self.service_time = service_time


def mean_startup_s(spec, scenario) -> float:
    """Analytic mean start time: the phases plus the key operations (for pending_timeout: auto)."""
    st = spec.startup
    init = st.app_init.mean * (spec.startup_cpu_boost_factor if spec.startup_cpu_boost else 1.0)
    total = st.schedule.mean + st.image_fetch.mean + st.container_start.mean + init
    if spec.encryption_key is not None:
        key = next(k for k in scenario.keys if k.id == spec.encryption_key)
        per_op = scenario.kms.latency.mean
        if key.protection in ("external", "external-vpc"):
            per_op += min(scenario.kms.ekm.latency.mean, scenario.kms.ekm.timeout)
        total += spec.key_operations.decrypts_per_start * per_op
    return total


class ServiceModel:
    def __init__(self, world, spec, index: int):
        sc = world.scenario
        self.env = world.env
        self.world = world
        self.kms = world.kms
        self.spec = spec
        self.name = spec.name
        self.C = spec.concurrency
        seed, rep = sc.seed, world.replication

        def stream(name):
            return rngs.stream(seed, rep, name, index)

        self.rng_kms = stream("kms_latency")
        self.rng_ekm = stream("ekm_latency")
        self.rng_jitter = stream("retry_jitter")
        self.rng_names = stream("revision_names")
        self.draw_service_time = batched_dist(spec.service_time, stream("service_times"))
        startup_rng = stream("startup")
        st = spec.startup
        self.draw_phases = [batched_dist(d, startup_rng) for d in
                            (st.schedule, st.image_fetch, st.container_start, st.app_init)]
        self._arrivals = arrival_times(RateProfile(spec.traffic), spec.traffic.arrivals, stream("arrivals"),
                                       sc.duration)

        self.recorder = ServiceRecorder(spec.name, sc.duration, sc.timeseries_interval, sc.warmup)
        self.router = make_router(spec.routing, spec.concurrency, stream("routing"))
        self.policy = make_policy(spec)
        self.uses_idle_timers = spec.autoscaling.policy != "knative"
        self.parks_surplus = spec.autoscaling.policy != "per-request"
        self.request_timeout = spec.request_timeout
        # vCPUs in use rise by _cpu_step[n] when an instance goes from n - 1 to n requests (capped at its cpu).
        cpr, cpu = spec.cpu_per_request, spec.cpu
        self._cpu_step = [0.0] + [min(n * cpr, cpu) - min((n - 1) * cpr, cpu) for n in range(1, spec.concurrency + 1)]
        self.pending_timeout = (max(10.0, 3.5 * mean_startup_s(spec, sc)) if spec.pending_timeout == "auto"
                                else float(spec.pending_timeout))
        self.on_demand = spec.autoscaling.on_demand or spec.autoscaling.policy == "per-request"

        self.instances: dict[int, Instance] = {}     # every instance not stopped, in start order
        self.n_starting = 0
        self.n_ready = 0
        self.n_retiring = 0                          # old-revision instances waiting to be replaced
        self.parked: dict[int, Instance] = {}        # surplus instances out of the routing, in parking order
        self.pending: deque[Request] = deque()
        self.in_flight = 0
        self.cpu_in_use = 0.0
        self.desired = spec.min_instances
        self.start_blocked_until = 0.0
        self._failed_starts_in_a_row = 0
        self.iam_granted = True
        self.revision = Revision(revision_name(spec.name, 1, self.rng_names), 1,
                                 world.keys.get(spec.encryption_key))
        self.deploys = {"succeeded": 0, "failed": 0}
        self._countdowns: dict[str, object] = {}     # key id -> token of the running shutdown countdown
        self._reaper_armed = False
        self._seq = 0
        # Integrals of demand (in flight + pending) and CPU in use, for the autoscaler's windows.
        self._last = 0.0
        self._demand_area = 0.0
        self._cpu_area = 0.0
        self._snapshots: deque = deque([(0.0, 0.0, 0.0)])
        self._area_at_warmup = 0.0

    # -- start of run ---------------------------------------------------------------------------------
    def start(self) -> None:
        env = self.env
        for _ in range(self.spec.min_instances):
            self.start_instance(0.0)
        first = next(self._arrivals, None)
        if first is not None:
            env.timeout(first).callbacks.append(self._arrive)
        env.process(self._scale_loop())
        env.process(self._sample_loop())
        if self.revision.key is not None:
            env.process(self._validation_loop())
        if self.world.scenario.warmup > 0:
            env.timeout(self.world.scenario.warmup).callbacks.append(self._at_warmup)
        self._update_capacity(0.0)

    def _at_warmup(self, _event) -> None:
        self._touch(self.env.now)
        self._area_at_warmup = self._demand_area

    # -- requests (the hot path) ----------------------------------------------------------------------
    def _touch(self, now: float) -> None:
        """Accumulate the demand and CPU integrals up to now; call before every change of either."""
        dt = now - self._last
        if dt > 0:
            self._demand_area += (self.in_flight + len(self.pending)) * dt
            self._cpu_area += self.cpu_in_use * dt
            self._last = now

    def _arrive(self, _event) -> None:
        env = self.env
        now = env.now
        nxt = next(self._arrivals, None)
        if nxt is not None:
            env.timeout(nxt - now).callbacks.append(self._arrive)
        rec = self.recorder
        rec.arrivals[int(now * rec.inv_interval)] += 1
        if now >= rec.warmup:
            rec.totals["arrived"] += 1
        req = Request(now, self.draw_service_time())
        self._touch(now)
        inst = self.router.acquire()
        if inst is not None:
            self._begin(req, inst, now)
        else:
            self._enqueue(req, now)

    def _begin(self, req: Request, inst: Instance, now: float) -> None:
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
        req = event._value
        inst = req.instance
        if req not in inst.requests:
            return                                    # already failed when its instance was shut down
        inst.requests.discard(req)
        now = self.env.now
        dt = now - self._last                         # _touch(now), inlined on the hot path
        if dt > 0:
            self._demand_area += (self.in_flight + len(self.pending)) * dt
            self._cpu_area += self.cpu_in_use * dt
            self._last = now
        self.in_flight -= 1
        self.cpu_in_use -= self._cpu_step[inst.in_flight]
        rec = self.recorder
        if req.service_time > self.request_timeout:
            rec.failed(now, req.arrival, "failed_504")
        else:
            rec.served[int(now * rec.inv_interval)] += 1
            if req.arrival >= rec.warmup:
                rec.totals["served"] += 1
                rec.latency.add(now - req.arrival)
                rec.pending_time.add(req.start - req.arrival)
        self.router.release(inst)
        if self.pending:
            self._dispatch_pending(now)
        if inst.in_flight == 0:
            self._on_idle(inst, now)

    def _on_idle(self, inst: Instance, now: float) -> None:
        """The instance has no request left: drained instances stop, others start their idle time."""
        if not inst.routable and inst.retiring:
            self.stop_instance(inst, "replaced")
        elif inst.parked and not self.uses_idle_timers:
            self.stop_instance(inst, "scale_in")      # knative: a drained surplus instance terminates
        else:
            self._became_idle(inst, now)

    def _enqueue(self, req: Request, now: float) -> None:
        if self.pending_timeout <= 0:
            self.recorder.failed(now, req.arrival, "failed_429")
        else:
            req.deadline = now + self.pending_timeout
            self.pending.append(req)
            if not self._reaper_armed:
                self._arm_reaper(now)
        if self.on_demand:
            self._start_on_demand(now)

    def _dispatch_pending(self, now: float) -> None:
        pending, router = self.pending, self.router
        while pending:
            inst = router.acquire()
            if inst is None:
                return
            req = pending.popleft()
            while req.deadline < now:                 # expired, its reaper has not run yet
                self.recorder.failed(now, req.arrival, "failed_429")
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
            self._touch(now)
            while pending and pending[0].deadline <= now + 1e-12:
                self.recorder.failed(now, pending.popleft().arrival, "failed_429")
        if pending:
            self._arm_reaper(now)

    # -- instances ------------------------------------------------------------------------------------
    @property
    def live(self) -> int:
        """Instances that count for scaling: starting or ready, not retiring after a deploy."""
        return self.n_starting + self.n_ready - self.n_retiring

    def _start_on_demand(self, now: float) -> None:
        """A request found no free slot: start an instance unless those starting already cover the queue.

        A parked (warm) instance is taken back first: no cold start."""
        if len(self.pending) <= self.n_starting * self.C:
            return
        if self.parked:
            self._unpark(1)
            self._dispatch_pending(now)
            return
        if now >= self.start_blocked_until and self.live < self.spec.max_instances:
            self.start_instance(now)
            if self.live > self.desired:
                self.desired = self.live
            self._update_capacity(now)

    def start_instance(self, now: float) -> Instance:
        inst = Instance(self.world.next_instance_id(), self.revision, now)
        self.instances[inst.id] = inst
        self.n_starting += 1
        self.env.process(self._boot(inst))
        return inst

    def _boot(self, inst: Instance):
        env = self.env
        phases = [draw() for draw in self.draw_phases]   # drawn up front: the same draws whatever happens
        if self.spec.startup_cpu_boost:
            phases[3] *= self.spec.startup_cpu_boost_factor
        schedule, fetch, container, init = phases
        inst.phases = {"schedule": schedule, "image_fetch": fetch, "key_operations": 0.0,
                       "container_start": container, "app_init": init}
        yield env.timeout(schedule)
        if inst.state is STOPPED:
            return
        yield env.timeout(fetch)
        if inst.state is STOPPED:
            return
        key = inst.revision.key
        if key is not None:
            t0 = env.now
            failure = yield from self._start_key_operations(inst, key)
            inst.kms_wait_s = inst.phases["key_operations"] = env.now - t0
            if inst.state is STOPPED:
                return
            if failure is not None:
                self._start_failed(inst, key, failure)
                return
        yield env.timeout(container)
        if inst.state is STOPPED:
            return
        yield env.timeout(init)
        if inst.state is STOPPED:
            return
        self._become_ready(inst)

    def _start_key_operations(self, inst: Instance, key):
        """The decrypts of one start; returns None on success or the failing KeyOpResult."""
        for i in range(self.spec.key_operations.decrypts_per_start):
            result = yield from self._key_call_with_retry(key, "Decrypt", START_REASONS[i % 2], inst)
            if inst.state is STOPPED:
                return None
            if not result.ok:
                self._observe_key_failure(key, result)
                return result
        self._observe_key_success(key)
        return None

    def _key_call_with_retry(self, key, method: str, reason: str, inst: Instance | None = None):
        """Retry retryable errors with backoff and jitter, however long it takes (the platform's retry)."""
        retry = self.world.scenario.kms.retry
        backoff = retry.initial_backoff
        while True:
            result = yield from self.kms.call(self, key, method, reason)
            if inst is not None:
                inst.key_attempts += 1
                if inst.state is STOPPED:
                    return result
            if result.ok or not result.retryable:
                return result
            jitter = 1.0 + retry.jitter * (2.0 * self.rng_jitter.random() - 1.0)
            yield self.env.timeout(backoff * jitter)
            backoff = min(backoff * retry.multiplier, retry.max_backoff)

    def _start_failed(self, inst: Instance, key, result) -> None:
        now = self.env.now
        inst.start_error = result.failure
        self.recorder.start_failed(now, inst, result.failure)
        self.world.log_run_error(now, self, result, key)
        self.stop_instance(inst, "start_failed")
        # Further starts wait for the autoscaler's next decision, or longer after repeated failures.
        a = self.spec.autoscaling
        self._failed_starts_in_a_row += 1
        backoff = min(a.max_failed_start_backoff, a.interval * 2.0 ** min(self._failed_starts_in_a_row - 1, 60))
        next_decision = (math.floor(now / a.interval + 1e-9) + 1) * a.interval
        self.start_blocked_until = max(self.start_blocked_until, next_decision, now + backoff)

    def _become_ready(self, inst: Instance) -> None:
        now = self.env.now
        self._touch(now)
        inst.state = READY
        inst.ready_at = now
        inst.startup_s = now - inst.requested_at
        self._seq += 1
        inst.seq = self._seq
        self._failed_starts_in_a_row = 0
        self.n_starting -= 1
        self.n_ready += 1
        self.recorder.instance_ready(now, inst)
        if inst.retiring:                            # started before a deploy: replaced at once
            self.stop_instance(inst, "replaced")
            return
        inst.routable = True
        self.router.add(inst)
        if self.pending:
            self._dispatch_pending(now)
        if inst.in_flight == 0:
            self._became_idle(inst, now)
        if self.n_retiring:
            self._retire_one_old(now)
        self._update_capacity(now)

    def stop_instance(self, inst: Instance, reason: str) -> None:
        if inst.state is STOPPED:
            return
        now = self.env.now
        self._touch(now)
        if inst.routable:
            inst.routable = False
            self.router.remove(inst)
        if inst.parked:
            self._forget_parked(inst)
        if inst.state is STARTING:
            self.n_starting -= 1
        else:
            self.n_ready -= 1
        if inst.retiring:
            self.n_retiring -= 1
        inst.state = STOPPED
        inst.stopped_at = now
        inst.stop_reason = reason
        if inst.requests:                              # shut down under running requests
            cpr = self.spec.cpu_per_request
            for req in inst.requests:
                self.recorder.failed(now, req.arrival, "failed_shutdown")
            self.in_flight -= len(inst.requests)
            self.cpu_in_use -= min(inst.in_flight * cpr, self.spec.cpu)
            inst.requests.clear()
            inst.in_flight = 0
        del self.instances[inst.id]
        if self.world.keep_logs:
            self.world.instance_rows.append((self.name, inst))
        self._update_capacity(now)

    def _became_idle(self, inst: Instance, now: float) -> None:
        inst.idle_since = now
        if self.uses_idle_timers and not inst.idle_timer_armed:
            self._arm_idle_timer(inst, now + self.spec.idle_retention)

    def _arm_idle_timer(self, inst: Instance, at: float) -> None:
        inst.idle_timer_armed = True
        self.env.timeout(max(0.0, at - self.env.now), inst).callbacks.append(self._idle_check)

    def _idle_check(self, event) -> None:
        """An instance idle for `idle_retention` stops, unless that would go below min_instances."""
        inst = event._value
        inst.idle_timer_armed = False
        if inst.state is not READY or inst.in_flight > 0:
            return                                    # re-armed when it next becomes idle
        now = self.env.now
        due = inst.idle_since + self.spec.idle_retention
        if now < due - 1e-9:
            self._arm_idle_timer(inst, due)
        elif self.live > self.spec.min_instances:
            self.stop_instance(inst, "idle")
        else:                                         # at min_instances: look again later (never in a
            # zero-delay loop: with idle_retention 0 the next look is at the autoscaler's next decision)
            self._arm_idle_timer(inst, now + max(self.spec.idle_retention, self.spec.autoscaling.interval))

    # -- autoscaling ----------------------------------------------------------------------------------
    def _signals(self, now: float) -> Signals:
        instant = self.in_flight + len(self.pending)
        ready = self.n_ready - self.n_retiring - len(self.parked)
        if self.spec.autoscaling.policy == "per-request":    # reads only the present demand: no windows
            return Signals(instant, instant, self.cpu_in_use, instant, ready)
        a = self.spec.autoscaling
        snaps = self._snapshots
        snaps.append((now, self._demand_area, self._cpu_area))
        while len(snaps) > 2 and snaps[1][0] <= now - a.window + 1e-9:
            snaps.popleft()

        def average(span: float, index: int) -> float:
            for t, *areas in reversed(snaps):
                if t <= now - span + 1e-9:
                    break
            if now - t <= 0:
                return float(self.in_flight + len(self.pending)) if index == 0 else self.cpu_in_use
            return (snaps[-1][1 + index] - areas[index]) / (now - t)

        return Signals(stable_concurrency=average(a.window, 0),
                       panic_concurrency=average(a.window * a.panic_window_percentage / 100.0, 0),
                       cpu=average(a.window, 1),
                       instant_concurrency=instant, ready=ready)

    def _scale_loop(self):
        spec, env = self.spec, self.env
        while True:
            now = env.now
            self._touch(now)
            decided = self.policy.decide(now, self._signals(now))
            self.desired = min(spec.max_instances, max(spec.min_instances, decided))
            available = self.live - len(self.parked)     # starting or serving
            if self.desired > available:
                missing = self.desired - available - self._unpark(self.desired - available)
                if now < self.start_blocked_until - 1e-9:
                    missing = 0                          # backing off after failed starts
                for _ in range(max(0, min(missing, spec.max_instances - self.live))):
                    self.start_instance(now)
                if self.pending:
                    self._dispatch_pending(now)
            elif self.parks_surplus and available > self.desired:
                self._park(available - self.desired, now)
            self._update_capacity(now)
            yield env.timeout(spec.autoscaling.interval)

    def _park(self, surplus: int, now: float) -> None:
        """Scale-in: take surplus serving instances out of the routing, the least busy (then newest) first.

        They finish their requests; then a knative instance stops (scale_in), a cloud-run one stays warm
        and stops after idle_retention unless demand takes it back first (Cloud Run keeps idle instances)."""
        serving = [i for i in self.instances.values() if i.routable]
        for inst in sorted(serving, key=lambda i: (i.in_flight, -i.seq))[:surplus]:
            inst.routable = False
            self.router.remove(inst)
            inst.parked = True
            self.parked[inst.id] = inst
            if inst.in_flight == 0 and not self.uses_idle_timers:
                self.stop_instance(inst, "scale_in")

    def _unpark(self, n: int) -> int:
        """Put up to n parked instances back into the routing, the most recently parked first."""
        taken = 0
        while taken < n and self.parked:
            inst = next(reversed(self.parked.values()))
            self._forget_parked(inst)
            inst.routable = True
            inst.idle_since = self.env.now              # its idle time starts again
            self.router.add(inst)
            taken += 1
        return taken

    def _forget_parked(self, inst: Instance) -> None:
        inst.parked = False
        del self.parked[inst.id]

    def _update_capacity(self, now: float) -> None:
        self.recorder.capacity(now, self.n_ready, self.desired)

    # -- key checks, revocation and deploys -------------------------------------------------------------
    def _validation_loop(self):
        """Encrypt and decrypt dummy data every validation_interval, on the current revision's key."""
        env = self.env
        interval, n = self.spec.key_operations.validation_interval, 0
        while True:
            n += 1                                   # on the n x interval grid: the checks' latency never drifts it
            yield env.timeout(max(0.0, n * interval - env.now))
            key = self.revision.key
            if key is None:
                continue
            results = []
            for method, reason in (("Encrypt", REASON_VALIDATE_ENCRYPT), ("Decrypt", REASON_VALIDATE_DECRYPT)):
                results.append((yield from self.kms.call(self, key, method, reason)))
            failed = [r for r in results if not r.ok and not r.retryable]
            if failed:
                self.world.log_run_error(env.now, self, failed[0], key)
                self._observe_key_failure(key, failed[0])
            elif all(r.ok for r in results):
                self._observe_key_success(key)

    def _observe_key_failure(self, key, result) -> None:
        """Start the shutdown countdown where the revocation rules call for one."""
        if key.id in self._countdowns:
            return
        if result.failure == "ekm_non_retryable" or (
                self.spec.revocation_action == "shut-down" and result.failure in REVOCATION_FAILURES):
            token = object()
            self._countdowns[key.id] = token
            self.env.process(self._countdown(key, token))

    def _observe_key_success(self, key) -> None:
        self._countdowns.pop(key.id, None)           # the key works again: cancel the countdown

    def _countdown(self, key, token):
        yield self.env.timeout(self.spec.shutdown_after)
        if self._countdowns.get(key.id) is not token:
            return
        del self._countdowns[key.id]
        for inst in list(self.instances.values()):
            if inst.revision.key is key:
                if inst.state is READY:
                    self.recorder.shut_down_by_key_revocation += 1
                self.stop_instance(inst, "key_revocation")

    def deploy(self, fault):
        """SimPy process: a new revision; the deploy encrypt must succeed, else the old revision stays."""
        key = self.revision.key if fault.keep_current_key else self.world.keys.get(fault.encryption_key)
        number = self.revision.number + 1
        if key is not None:
            result = yield from self._key_call_with_retry(key, "Encrypt", REASON_DEPLOY)
            if not result.ok:
                self.deploys["failed"] += 1
                self.world.log_run_error(self.env.now, self, result, key, deploy=True)
                return
        self.deploys["succeeded"] += 1
        self.revision = Revision(revision_name(self.name, number, self.rng_names), number, key)
        now = self.env.now
        replacements = 0
        for inst in list(self.instances.values()):
            if inst.revision is not self.revision and not inst.retiring:
                inst.retiring = True
                self.n_retiring += 1
                if inst.parked:                      # surplus already: not replaced, stops when drained
                    self._forget_parked(inst)
                    if inst.in_flight == 0:
                        self.stop_instance(inst, "replaced")
                elif inst.state is READY:
                    replacements += 1
        for _ in range(min(replacements, self.spec.max_instances)):
            self.start_instance(now)
        self._update_capacity(now)

    def _retire_one_old(self, now: float) -> None:
        """A new-revision instance is ready: take one old-revision instance out of the routing."""
        for inst in self.instances.values():
            if inst.retiring and inst.routable:
                inst.routable = False
                self.router.remove(inst)
                if inst.in_flight == 0:
                    self.stop_instance(inst, "replaced")
                return

    # -- sampling and end of run --------------------------------------------------------------------------
    def _sample_loop(self):
        rec = self.recorder
        for b in range(rec.n_bins - 1):
            yield self.env.timeout((b + 1) * rec.interval - self.env.now)
            self.sample(b)

    def sample(self, b: int) -> None:
        self.recorder.sample_levels(b, {
            "pending": len(self.pending), "in_flight": self.in_flight,
            "instances_starting": self.n_starting, "instances_ready": self.n_ready,
            "instances_desired": self.desired, "instances_parked": len(self.parked),
            "key_usable": int(self.world.key_usable(self, self.revision.key, self.env.now))})

    def finish(self, t_end: float) -> dict:
        self._touch(t_end)
        self.sample(self.recorder.n_bins - 1)
        warm = self.recorder.warmup
        in_flight_at_end = sum(1 for r in self.pending if r.arrival >= warm) + sum(
            1 for inst in self.instances.values() for r in inst.requests if r.arrival >= warm)
        summary = self.recorder.summary(t_end, in_flight_at_end)
        span = max(t_end - warm, 1e-12)
        summary["requests"]["mean_in_system"] = (self._demand_area - self._area_at_warmup) / span
        summary["deploys"] = dict(self.deploys)
        summary["pending_timeout_s"] = self.pending_timeout
        if self.world.keep_logs:
            for inst in self.instances.values():
                inst.stop_reason = "end_of_run"
                self.world.instance_rows.append((self.name, inst))
        return summary
