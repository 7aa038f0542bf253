"""A whole simulated world for one replication: keys, quota pools, KMS, services and faults on one
SimPy environment. `World(scenario, replication).run()` returns a RunOutput: the run's summary and the
raw material of the result files.

The world is also what state-changing faults act on (see faults.py): `change_key_state`, `set_iam` and
`deploy` are the only ways a fault changes the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from .. import rng as rngs
from .chart_data import fault_window_rows, quota_in_force_rows
from .faults import start_fault_processes
from .kernel_choice import resolve as resolve_kernel
from .keys import KeyState, KeyVersion
from .kms import Kms, KmsStats
from .logs import run_error_text
from .quota import QuotaPool
from .records import FaultEvent, RunErrorRecord
from .schedule import BackgroundLoad, HeadroomSchedule, QuotaSchedule
from .service import ServiceModel
from .summary import run_summary

# kms_usage.csv's count columns: requested per reason, refused per reason, the services' refused in all,
# the services' other failures per gRPC code.
USAGE_COUNT_COLUMNS = ("starts", "validation", "deploy", "background", "resource_exhausted",
                       "starts_rejected", "validation_rejected", "deploy_rejected", "background_rejected",
                       "unavailable", "failed_precondition", "permission_denied", "served_over_quota",
                       "background_served_over_quota")

PROGRESS_CHUNKS = 20


@dataclass
class RunOutput:
    summary: dict                    # {"services": ..., "kms": ...}; capacity_loss null until the runner adds it
    timeseries: dict                 # service -> column -> list (one value per bin)
    ready_steps: dict                # service -> [(t, ready instances)] change points
    service_sections: dict = field(default_factory=dict)   # what the summary is assembled from
    audit: list = field(default_factory=list)
    run_errors: list = field(default_factory=list)
    instances: list = field(default_factory=list)
    kms_usage: list = field(default_factory=list)
    fault_log: list = field(default_factory=list)
    fault_windows: list = field(default_factory=list)    # fault_windows.csv rows
    quota_in_force: list = field(default_factory=list)   # quota_in_force.csv rows
    kernel: str = "python"           # the request path that ran: 'python' or 'compiled' (manifest.json)


class World:
    def __init__(self, scenario, replication: int = 0, keep_logs: bool = True, keep_usage: bool = False,
                 kernel: str = "python"):
        """kernel: 'auto', 'python' or 'compiled' (kernel_choice.py); the results are the same."""
        self.scenario = sc = scenario
        self.kernel = resolve_kernel(kernel, sc)
        self.replication = replication
        self.keep_logs = keep_logs
        self.keep_usage = keep_usage       # kms_usage rows without the logs (the quota solver's warm-up-free peak)
        self.env = simpy.Environment()
        if self.kernel == "compiled":                  # the kernels draw their event ids from SimPy's counter
            from .compiled import SharedEventIds
            self.event_ids = self.env._eid = SharedEventIds()
        self.keys = {k.id: KeyVersion(k, sc.kms.disable_propagation) for k in sc.keys}
        self.pools = self._make_pools()
        self.stats = KmsStats(keep_audit=keep_logs, warmup=sc.warmup)
        self.kms = Kms(self.env, sc, self.keys, self.pools, self.stats)
        self.kms.on_key_disabled = self._key_disabled_by_ekm
        self.run_errors: list[RunErrorRecord] = []
        self.instance_rows: list[tuple] = []
        self.fault_log: list[FaultEvent] = []
        self._instance_ids = 0
        self.services = {s.name: ServiceModel(self, s, i) for i, s in enumerate(sc.services)}

    def _make_pools(self) -> dict:
        sc = self.scenario
        levels = sorted({(k.project, "hsm" if k.protection == "hsm" else "external")
                         for k in sc.keys if k.protection != "software"})
        pools = {}
        for index, (project, level) in enumerate(levels):
            rpm_field = f"{level}_requests_per_minute"
            pools[(project, level)] = QuotaPool(
                f"{project}/{level}", QuotaSchedule(getattr(sc.kms.quota, rpm_field), sc.faults, rpm_field),
                sc.kms.quota.enforcement,
                BackgroundLoad(sc.kms.quota.background_rps.for_pool(level), sc.faults, project, level),
                rngs.stream(sc.seed, self.replication, "background_kms", index), sc.duration,
                headroom=self._soft_headroom(level))
        return pools

    def _soft_headroom(self, level: str):
        """The headroom of a soft-enforced pool; None (hard) for EKM always, and for HSM when hard."""
        quota = self.scenario.kms.quota
        if level != "hsm" or quota.hsm_enforcement == "hard":
            return None
        return HeadroomSchedule(quota.soft_headroom, self.scenario.faults)

    def next_instance_id(self) -> int:
        self._instance_ids += 1
        return self._instance_ids

    # -- what faults act on ---------------------------------------------------------------------------
    def change_key_state(self, key_id: str, kind: str) -> bool:
        """A key fault (key-disable, ...); False when the key's state does not allow it."""
        key = self.keys[key_id]
        applied = key.apply(kind, self.env.now)
        if applied and kind == "key-schedule-destroy":
            self.env.process(self._destroy_when_due(key, key.destroy_at))
        return applied

    def _destroy_when_due(self, key, due: float):
        """DESTROY_SCHEDULED becomes DESTROYED after the key's scheduled duration, unless restored first."""
        yield self.env.timeout(due - self.env.now)
        if key.state is KeyState.DESTROY_SCHEDULED and key.destroy_at == due:
            key.set_state(KeyState.DESTROYED, self.env.now)
            key.destroy_at = None
            self.log_fault(FaultEvent(self.env.now, "key-destroyed", key.id, True))

    def _key_disabled_by_ekm(self, t: float, key) -> None:
        """EXTERNAL_PERMISSION_DENIED: the EKM disabled the key version (logged like a fault)."""
        self.log_fault(FaultEvent(t, "key-disabled-by-ekm", key.id, True))

    def set_iam(self, key_id: str, granted: bool) -> bool:
        """The project's service agent gains or loses the encrypter/decrypter role on the key: every
        service of the project using that key (start decrypts, validation checks, deploy encrypts)."""
        self.kms.set_iam(key_id, granted)
        return True

    def deploy(self, service: str, fault):
        """A deploy of `service` (a process): to the fault's key, or its current one if the fault names none."""
        svc = self.services[service]
        key = svc.revision.key if fault.keep_current_key else self.keys.get(fault.encryption_key)
        return svc.deployer.deploy(key)

    def log_fault(self, event: FaultEvent) -> None:
        self.fault_log.append(event)

    def log_run_error(self, t: float, service: str, revision: str, result, key) -> None:
        if not self.keep_logs:
            return
        text, published = run_error_text(result.failure, key.name, self.scenario.project.service_agent,
                                         result.domain)
        self.run_errors.append(RunErrorRecord(t, service, revision, text, published))

    # -- the run --------------------------------------------------------------------------------------
    def run(self, progress=None) -> RunOutput:
        env, sc = self.env, self.scenario
        for svc in self.services.values():
            svc.start()
        start_fault_processes(self)
        run_until = self._run_until()
        for i in range(1, PROGRESS_CHUNKS + 1):
            run_until(sc.duration * i / PROGRESS_CHUNKS)
            if progress is not None:
                progress(i / PROGRESS_CHUNKS)
        for pool in self.pools.values():
            pool.finish(sc.duration)
        sections = {name: svc.finish(sc.duration, self.stats.billable.get(name, {}))
                    for name, svc in self.services.items()}
        kms = self.stats.summary(self.pools)
        out = RunOutput(run_summary(sections, kms),
                        {name: svc.recorder.timeseries() for name, svc in self.services.items()},
                        {name: svc.recorder.ready_steps for name, svc in self.services.items()},
                        sections, kernel=self.kernel)
        if self.keep_logs:
            out.audit = self.stats.audit
            out.run_errors = self.run_errors
            out.instances = [inst.row(name) for name, inst in self.instance_rows]
            out.kms_usage = self._kms_usage()
            out.fault_log = self.fault_log
            out.fault_windows = fault_window_rows(sc, self.fault_log)
            out.quota_in_force = quota_in_force_rows(self)
        elif self.keep_usage:
            out.kms_usage = self._kms_usage()
        return out

    def _run_until(self):
        """env.run(until=...), or the compiled kernels' loop (their events merged into SimPy's)."""
        if self.kernel != "compiled":
            return lambda at: self.env.run(until=at)
        from .compiled import run_until
        paths = [svc.requests for svc in self.services.values()]
        return lambda at: run_until(self.env, at, paths)

    def _kms_usage(self) -> list[dict]:
        """One row per quota pool and second with any key operation: kms_usage.csv.

        `starts`, `validation`, `deploy`, `background`: requested operations (admitted or refused);
        `*_rejected`: those refused by the quota (RESOURCE_EXHAUSTED), so requested - rejected = admitted;
        `resource_exhausted`: the services' refused operations (the sum of the three services' *_rejected);
        `unavailable`: the services' operations a kms-outage answered UNAVAILABLE before the quota check (they
        use no quota: admitted in the pool = requested - rejected, less `unavailable`, summed over reasons);
        `failed_precondition`, `permission_denied`: the services' operations the quota admitted and the key
        refused (key state, EKM error or timeout; IAM)."""
        rows: dict[tuple[str, int], dict] = {}

        def empty(pool: str, sec: int) -> dict:
            return {"pool": pool, "second": sec} | {c: 0 for c in USAGE_COUNT_COLUMNS}

        for (pool, sec), c in self.stats.usage.items():
            row = rows[(pool, sec)] = empty(pool, sec)
            for col in USAGE_COUNT_COLUMNS:
                if col not in ("background", "background_rejected", "background_served_over_quota"):
                    row[col] = getattr(c, col)
        for pool in self.pools.values():
            for sec, n in pool.background_by_second.items():
                rows.setdefault((pool.name, sec), empty(pool.name, sec))["background"] = n
            for sec, n in pool.background_rejected_by_second.items():
                rows[(pool.name, sec)]["background_rejected"] = n
            for sec, n in pool.background_over_by_second.items():
                rows[(pool.name, sec)]["background_served_over_quota"] = n
        for (name, sec), row in rows.items():
            pool = next((p for p in self.pools.values() if p.name == name), None)
            row["quota_per_second"] = pool.limits.at(sec) / 60.0 if pool else None
        return [rows[k] for k in sorted(rows)]
