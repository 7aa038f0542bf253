"""One Cloud Run service: its rooms wired together, nothing more.

- requests.py  the request path (arrivals, slots, pending queue, completions): the hot path
- pool.py      the instances (start path, idle timers, park/unpark, stop)
- key_access.py KMS calls with retry, validation checks, the revocation countdown, the IAM binding
- scaler.py    the autoscaler loop and its signals, with the policy (autoscaler.py) chosen once here
- deployer.py  revisions and deploys
The recorder (recorder.py) is shared: each room records the events it owns.
"""
from __future__ import annotations

from collections import deque

from .. import rng as rngs
from ..cost import service_cost
from ..windows import resolved_spans, wants_peak_hour
from .autoscaler import make_policy
from .deployer import Deployer
from .draws import batched_dist
from .key_access import KeyAccess
from .kms import KmsCaller
from .pool import InstancePool
from .recorder import ServiceRecorder
from .requests import RequestPath
from .router import make_router
from .scaler import Scaler
from .traffic import RateProfile, arrival_times


def mean_startup_s(spec, scenario, key=None) -> float:
    """Analytic mean start time: the phases plus the key operations of `key` (a scenario Key; None:
    Google-managed encryption), for pending_timeout: auto."""
    st = spec.startup
    init = st.app_init.mean * (spec.startup_cpu_boost_factor if spec.startup_cpu_boost else 1.0)
    total = st.schedule.mean + st.image_fetch.mean + st.container_start.mean + init
    if key is not None:
        per_op = scenario.kms.latency.mean
        if key.is_external:
            per_op += min(scenario.kms.ekm.latency.mean, scenario.kms.ekm.timeout)
        total += spec.key_operations.decrypts_per_start * per_op
    return total


class ServiceModel:
    def __init__(self, world, spec, index: int):
        sc = world.scenario
        self.env = env = world.env
        self.spec = spec
        self.name = spec.name
        self.warmup = sc.warmup

        def stream(name):
            return rngs.stream(sc.seed, world.replication, name, index)

        rng_kms, rng_ekm = stream("kms_latency"), stream("ekm_latency")
        rng_jitter, rng_names = stream("retry_jitter"), stream("revision_names")
        draw_service_time = batched_dist(spec.service_time, stream("service_times"))
        startup_rng = stream("startup")
        st = spec.startup
        draw_phases = [batched_dist(d, startup_rng) for d in
                       (st.schedule, st.image_fetch, st.container_start, st.app_init)]
        if world.kernel == "compiled":
            from .compiled import arrival_blocks
            arrivals = arrival_blocks(RateProfile(spec.traffic), spec.traffic.arrivals, stream("arrivals"), sc.duration)
        else:
            arrivals = arrival_times(RateProfile(spec.traffic), spec.traffic.arrivals, stream("arrivals"), sc.duration)

        self.recorder = rec = ServiceRecorder(spec.name, sc.duration, sc.timeseries_interval, sc.warmup,
                                              sc.pricing.billing_rounding,
                                              spec.min_instances if spec.billing == "request" else 0,
                                              resolved_spans(sc), wants_peak_hour(sc), sc.pricing.billed_start)
        policy = make_policy(spec)
        self._scenario = sc
        first_key = sc.key(spec.encryption_key) if spec.encryption_key is not None else None
        self._recent_starts: deque = deque(maxlen=spec.pending_timeout_observed_starts)
        self.pending_timeout = self._pending_timeout_for(first_key)
        self.pending_timeout_max = self.pending_timeout

        if world.kernel == "compiled":
            from .compiled import CompiledRequestPath, KernelInstance
            self.requests = CompiledRequestPath(env, spec, rec, draw_service_time, arrivals, self.pending_timeout,
                                                world.event_ids, policy.keeps_idle_instances, sc.duration)
            router = self.requests.router
        else:
            router = make_router(spec.routing, spec.concurrency, stream("routing"))
            self.requests = RequestPath(env, spec, rec, router, draw_service_time, arrivals, self.pending_timeout)
        self.requests.starts_on_demand = spec.autoscaling.on_demand or policy.always_on_demand
        self.pool = InstancePool(env, spec, rec, router, draw_phases, world.next_instance_id,
                                 world.instance_rows if world.keep_logs else None, stream("start_backoff"))
        self.key_access = KeyAccess(env, spec, world.kms, KmsCaller(spec.name, rng_kms, rng_ekm), rng_jitter,
                                    sc.kms.retry, rec, world.log_run_error)
        self.deployer = Deployer(env, spec.name, world.keys.get(spec.encryption_key), rng_names)
        if world.kernel == "compiled":
            self.pool.make_instance = lambda *args: KernelInstance(self.requests, *args)
        self.scaler = Scaler(env, spec, policy, self.requests, self.pool)
        # The wiring: who tells whom.
        self.requests.pool = self.pool
        self.pool.requests, self.pool.key_access = self.requests, self.key_access
        self.pool.scaler, self.pool.revisions = self.scaler, self.deployer
        self.key_access.pool, self.key_access.revisions = self.pool, self.deployer
        self.deployer.pool, self.deployer.key_access = self.pool, self.key_access
        self.deployer.on_new_revision = self._revision_changed
        if spec.pending_timeout == "auto" and spec.pending_timeout_basis == "observed":
            self.pool.on_start_completed = self._start_completed

    # -- the pending timeout --------------------------------------------------------------------------
    def _pending_timeout_for(self, key_spec) -> float:
        """The pending timeout of a revision on `key_spec`: `auto` is max(10 s, 3.5 x the average startup
        time): the mean of the revision's recent completed starts (basis observed, once one completed),
        else the analytic mean of its start path."""
        if self.spec.pending_timeout != "auto":
            return float(self.spec.pending_timeout)
        if self._recent_starts:
            average = sum(self._recent_starts) / len(self._recent_starts)
        else:
            average = mean_startup_s(self.spec, self._scenario, key_spec)
        return max(10.0, 3.5 * average)

    def _set_pending_timeout(self, seconds: float) -> None:
        """Requests already waiting keep their deadline."""
        if seconds != self.pending_timeout:
            self.pending_timeout = seconds
            self.pending_timeout_max = max(self.pending_timeout_max, seconds)
            self.requests.set_pending_timeout(seconds)

    def _key_spec(self, revision):
        return revision.key.spec if revision.key is not None else None

    def _revision_changed(self, revision) -> None:
        """A deploy succeeded: the pending timeout follows the new revision (its own starts, once observed)."""
        self._recent_starts.clear()
        self._set_pending_timeout(self._pending_timeout_for(self._key_spec(revision)))

    def _start_completed(self, inst) -> None:
        """basis observed: a start of the current revision completed; the average follows it."""
        revision = self.revision
        if inst.revision is revision:
            self._recent_starts.append(inst.startup_s)
            self._set_pending_timeout(self._pending_timeout_for(self._key_spec(revision)))

    @property
    def revision(self):
        return self.deployer.revision

    def start(self) -> None:
        env = self.env
        if self.spec.warm_start:                          # ready at t = 0: see Scaler.warm_start
            self.pool.start_warm(self.scaler.warm_start(RateProfile(self.spec.traffic).rate(0.0)))
        else:
            for _ in range(self.spec.min_instances):
                self.pool.start_instance(0.0)
        self.requests.start()
        env.process(self.scaler.loop())
        env.process(self._sample_loop())
        env.process(self.key_access.validation_loop())   # checks only while the current revision has a key
        self.requests.watch_warmup(self.warmup)
        self.pool.update_capacity(0.0)

    # -- sampling and end of run ----------------------------------------------------------------------
    def _sample_loop(self):
        rec = self.recorder
        for b in range(rec.n_bins - 1):
            yield self.env.timeout((b + 1) * rec.interval - self.env.now)
            self.sample(b)

    def sample(self, b: int) -> None:
        req, pool = self.requests, self.pool
        self.recorder.sample(b, {
            "pending": len(req.pending), "in_flight": req.in_flight,
            "instances_starting": pool.n_starting, "instances_ready": pool.n_ready,
            "instances_desired": self.scaler.desired, "instances_parked": len(pool.parked),
            "instances_cpu_saturated": req.saturated,
            "key_usable": int(self.key_access.key_usable(self.revision.key, self.env.now))})

    def finish(self, t_end: float, kms_operations: dict) -> dict:
        """The service's summary sections (summary.py assembles them); kms_operations: its successful key
        operations by price level (cost.LEVELS), for its cost."""
        figures = self.requests.end_figures(t_end, self.warmup, self.pool.instances.values())
        self.sample(self.recorder.n_bins - 1)
        rec = self.recorder
        billable_s = rec.billing.close(t_end, self.pool.instances.values())
        cost = service_cost(self.spec, self._scenario.pricing, billable_s, rec.arrivals.total, kms_operations,
                            t_end - self.warmup)
        sections = {**rec.sections(t_end), **figures, "deploys": dict(self.deployer.counts),
                    "pending_timeout_s": self.pending_timeout, "pending_timeout_max_s": self.pending_timeout_max,
                    "cost": cost}
        self.pool.log_running_instances()
        return sections
