"""The instances of one service: the start path and its phases, idle timers, park/unpark, stop.

The CMEK start path (docs/ARCHITECTURE.md): schedule, image fetch, the start decrypts (key access),
container start, app init. A retryable key error is retried by key access and the instance keeps starting;
any other error fails the start, and the instance the service still misses backs off on its own
(start_backoff.py: per slot, as Kubernetes per pod; `autoscaling.failed_start_backoff`).

Scale-in parks surplus instances: out of the routing, they finish their requests; then the scaling policy
says whether a drained instance stops at once (knative) or stays warm until `idle_retention` ends
(cloud-run), unless demand takes it back first, with no cold start.
"""
from __future__ import annotations

from .instance import Instance, InstanceState
from .start_backoff import StartBackoff

STARTING, READY, STOPPED = InstanceState.STARTING, InstanceState.READY, InstanceState.STOPPED


class InstancePool:
    def __init__(self, env, spec, recorder, router, draw_phases, instance_ids, instance_log: list | None,
                 backoff_rng):
        self.env = env
        self.spec = spec
        self.name = spec.name
        self.recorder = recorder
        self.router = router                          # the pool adds and removes instances; requests use slots
        self.draw_phases = draw_phases
        self._instance_ids = instance_ids             # callable: the world's next instance id
        self._instance_log = instance_log             # stopped instances, in stop order (None: not kept)
        self.C = spec.concurrency
        # Wired by the service.
        self.requests = None                          # RequestPath
        self.key_access = None                        # KeyAccess
        self.scaler = None                            # Scaler (desired count, policy)
        self.revisions = None                         # Deployer (the current revision)
        self.instances: dict[int, Instance] = {}     # every instance not stopped, in start order
        self.n_starting = 0
        self.n_ready = 0
        self.n_retiring = 0                          # old-revision instances waiting to be replaced
        self.parked: dict[int, Instance] = {}        # surplus instances out of the routing, in parking order
        self._seq = 0
        a = spec.autoscaling
        initial, cap = a.start_backoff
        self.make_instance = Instance                 # the compiled request path's instances keep their fields there
        self.on_start_completed = None                # callable(inst): the service's pending timeout
        self.backoff = StartBackoff(initial, cap, a.failed_start_backoff.jitter, a.interval, backoff_rng)

    @property
    def live(self) -> int:
        """Instances that count for scaling: starting or ready, not retiring after a deploy."""
        return self.n_starting + self.n_ready - self.n_retiring

    @property
    def serving(self) -> int:
        """Ready instances taking requests (not retiring, not parked)."""
        return self.n_ready - self.n_retiring - len(self.parked)

    def update_capacity(self, now: float) -> None:
        self.recorder.capacity(now, self.n_ready, self.scaler.desired)

    # -- starting -------------------------------------------------------------------------------------
    def start_on_demand(self, now: float, pending: int) -> None:
        """A request found no free slot: start an instance unless those starting already cover the queue.

        A parked (warm) instance is taken back first: no cold start."""
        if pending <= self.n_starting * self.C:
            return
        if self.parked:
            self.unpark(1)
            self.requests.dispatch_pending(now)
            return
        if self.live < self.spec.max_instances:
            failures = self.backoff.take(now, fresh=False)
            if failures is None:                      # the missing instances are backing off
                return
            self.start_instance(now, failures)
            self.scaler.at_least(self.live)
            self.update_capacity(now)

    def start_missing(self, now: float, missing: int) -> None:
        """The autoscaler misses `missing` instances: start those not backing off after a failed start."""
        self.backoff.keep_at_most(missing)
        for _ in range(max(0, min(missing - self.backoff.waiting(now), self.spec.max_instances - self.live))):
            self.start_instance(now, self.backoff.take(now, fresh=True))

    def start_warm(self, n: int) -> None:
        """warm_start: n instances ready now (t = 0), with their idle timers running. They started before the
        window the run simulates, so they take no start path (no phases, no key operation, no cold start
        recorded; instances.csv leaves requested_at and startup_s empty); from now on they are instances
        like any other (routing, idle timers, parking, deploys, the revocation countdown)."""
        now = self.env.now
        for _ in range(n):
            inst = self.make_instance(self._instance_ids(), self.revisions.revision, now)
            inst.requested_at = None
            inst.state = READY
            inst.ready_at = now
            self._seq += 1
            inst.seq = self._seq
            self.instances[inst.id] = inst
            self.n_ready += 1
            inst.routable = True
            self.router.add(inst)
            self.recorder.billing.instance_ready(inst, now)     # idle minimum instances are billed
            self._became_idle(inst, now)
        self.update_capacity(now)

    def start_instance(self, now: float, failed_starts_before: int = 0) -> Instance:
        inst = self.make_instance(self._instance_ids(), self.revisions.revision, now)
        inst.failed_starts_before = failed_starts_before
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
            failure = yield from self.key_access.start_decrypts(inst, key)
            inst.kms_wait_s = inst.phases["key_operations"] = env.now - t0
            if inst.state is STOPPED:
                return
            if failure is not None:
                self._start_failed(inst, key, failure)
                return
        inst.container_started_at = env.now
        yield env.timeout(container)
        if inst.state is STOPPED:
            return
        yield env.timeout(init)
        if inst.state is STOPPED:
            return
        self._become_ready(inst)

    def _start_failed(self, inst: Instance, key, result) -> None:
        now = self.env.now
        inst.start_error = result.failure
        self.recorder.start_failed(now, inst, result.failure)
        self.key_access.log_error(now, result, key)
        self.stop_instance(inst, "start_failed")
        self.backoff.failed(now, inst.failed_starts_before)     # the instance still missed backs off

    def _become_ready(self, inst: Instance) -> None:
        now = self.env.now
        self.requests.touch(now)
        inst.state = READY
        inst.ready_at = now
        inst.startup_s = now - inst.requested_at
        self._seq += 1
        inst.seq = self._seq
        self.n_starting -= 1
        self.n_ready += 1
        self.recorder.instance_ready(now, inst)
        if self.on_start_completed is not None:
            self.on_start_completed(inst)
        if inst.retiring:                            # started before a deploy: replaced at once
            self.stop_instance(inst, "replaced")
            return
        inst.routable = True
        self.router.add(inst)
        if self.requests.pending:
            self.requests.dispatch_pending(now)
        if inst.in_flight == 0:
            self._became_idle(inst, now)
        if self.n_retiring:
            self._retire_one_old(now)
        self.update_capacity(now)

    # -- stopping -------------------------------------------------------------------------------------
    def stop_instance(self, inst: Instance, reason: str) -> None:
        if inst.state is STOPPED:
            return
        now = self.env.now
        self.requests.touch(now)
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
        self.recorder.billing.instance_stopped(inst, now)
        if inst.requests:                              # shut down under running requests
            self.requests.fail_requests_of(inst, now)
        self.requests.instance_stopped(inst)
        del self.instances[inst.id]
        if self._instance_log is not None:
            self._instance_log.append((self.name, inst))
        self.update_capacity(now)

    def shut_down_key(self, key) -> None:
        """The revocation countdown ended: every instance whose revision uses `key` stops (ready ones are
        counted as shut down, starting ones as starts aborted)."""
        for inst in list(self.instances.values()):
            if inst.revision.key is key:
                self.recorder.instance_shut_down_by_revocation(ready=inst.state is READY)
                self.stop_instance(inst, "key_revocation")

    # -- idle instances -------------------------------------------------------------------------------
    def on_idle(self, inst: Instance, now: float) -> None:
        """The instance has no request left: drained instances stop, others start their idle time."""
        self.recorder.billing.busy_ended(inst, now)
        if not inst.routable and inst.retiring:
            self.stop_instance(inst, "replaced")
        elif inst.parked and not self.scaler.policy.keeps_idle_instances:
            self.stop_instance(inst, "scale_in")      # knative: a drained surplus instance terminates
        else:
            self._became_idle(inst, now)

    def _became_idle(self, inst: Instance, now: float) -> None:
        inst.idle_since = now
        if self.scaler.policy.keeps_idle_instances and not inst.idle_timer_armed:
            self._arm_idle_timer(inst, now + self.spec.idle_retention)

    def _arm_idle_timer(self, inst: Instance, at: float) -> None:
        inst.idle_timer_armed = True
        self.env.timeout(max(0.0, at - self.env.now), inst).callbacks.append(self._idle_check)

    def _idle_check(self, event) -> None:
        """An instance idle for `idle_retention` stops, unless that would go below min_instances."""
        inst = event.value
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

    # -- scale-in and scale-out of warm instances -----------------------------------------------------
    def park(self, surplus: int) -> None:
        """Scale-in: take surplus serving instances out of the routing, the least busy (then newest) first.

        They finish their requests; then a knative instance stops (scale_in), a cloud-run one stays warm
        and stops after idle_retention unless demand takes it back first (Cloud Run keeps idle instances)."""
        serving = [i for i in self.instances.values() if i.routable]
        keeps_idle = self.scaler.policy.keeps_idle_instances
        for inst in sorted(serving, key=lambda i: (i.in_flight, -i.seq))[:surplus]:
            inst.routable = False
            self.router.remove(inst)
            inst.parked = True
            self.parked[inst.id] = inst
            if inst.in_flight == 0 and not keeps_idle:
                self.stop_instance(inst, "scale_in")

    def unpark(self, n: int) -> int:
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

    # -- revisions ------------------------------------------------------------------------------------
    def replace_old_revisions(self, now: float) -> None:
        """A deploy succeeded: old-revision instances retire; each ready one gets a new-revision replacement,
        and is taken out of the routing when its replacement is ready. Parked ones stop once drained."""
        current = self.revisions.revision
        replacements = 0
        for inst in list(self.instances.values()):
            if inst.revision is not current and not inst.retiring:
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
        self.update_capacity(now)

    def _retire_one_old(self, now: float) -> None:
        """A new-revision instance is ready: take one old-revision instance out of the routing."""
        for inst in self.instances.values():
            if inst.retiring and inst.routable:
                inst.routable = False
                self.router.remove(inst)
                if inst.in_flight == 0:
                    self.stop_instance(inst, "replaced")
                return

    # -- end of run -----------------------------------------------------------------------------------
    def log_running_instances(self) -> None:
        if self._instance_log is not None:
            for inst in self.instances.values():
                inst.stop_reason = "end_of_run"
                self._instance_log.append((self.name, inst))
