"""A whole simulated world for one replication: keys, quota pools, KMS, services and faults on one
SimPy environment. `World(scenario, replication).run()` returns a RunOutput: the run's summary and the
raw material of the result files."""
from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from .. import rng as rngs
from .chart_data import fault_window_rows, quota_in_force_rows
from .faults import start_fault_processes
from .keys import KeyVersion
from .kms import RETRYABLE_EKM_DOMAINS, Kms, KmsStats
from .logs import run_error_text
from .quota import QuotaPool
from .recorder import COUNTERS, LEVELS
from .schedule import BackgroundLoad, QuotaSchedule, active
from .service import ServiceModel

PROGRESS_CHUNKS = 20


@dataclass
class RunOutput:
    summary: dict
    timeseries: dict                 # service -> column -> list (one value per bin)
    ready_steps: dict                # service -> [(t, ready instances)] change points
    audit: list = field(default_factory=list)
    run_errors: list = field(default_factory=list)
    instances: list = field(default_factory=list)
    kms_usage: list = field(default_factory=list)
    fault_log: list = field(default_factory=list)
    fault_windows: list = field(default_factory=list)    # fault_windows.csv rows
    quota_in_force: list = field(default_factory=list)   # quota_in_force.csv rows


class World:
    def __init__(self, scenario, replication: int = 0, keep_logs: bool = True):
        self.scenario = sc = scenario
        self.replication = replication
        self.keep_logs = keep_logs
        self.env = simpy.Environment()
        self.keys = {k.id: KeyVersion(k, sc.kms.disable_propagation) for k in sc.keys}
        self.pools = self._make_pools()
        self.stats = KmsStats(keep_audit=keep_logs, warmup=sc.warmup)
        self.kms = Kms(self.env, sc, self.keys, self.pools, self.stats)
        self.run_errors: list[tuple] = []
        self.instance_rows: list[tuple] = []
        self.fault_log: list[tuple] = []
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
                sc.kms.quota.enforcement, BackgroundLoad(sc.kms.quota.background_rps, sc.faults),
                rngs.stream(sc.seed, self.replication, "background_kms", index), sc.duration)
        return pools

    def next_instance_id(self) -> int:
        self._instance_ids += 1
        return self._instance_ids

    def key_usable(self, svc, key, t: float) -> bool:
        """Would a key operation of `svc` fail for a reason of the key (state, IAM, non-retryable EKM)?"""
        if key is None:
            return True
        if not svc.iam_granted or not key.usable_at(t):
            return False
        outage = active(self.kms.ekm_outages, t, key.id) if key.is_external else None
        return outage is None or outage.error in RETRYABLE_EKM_DOMAINS

    def log_run_error(self, t: float, svc, result, key, deploy: bool = False) -> None:
        if not self.keep_logs:
            return
        text, published = run_error_text(result.failure, key.name, self.scenario.project.service_agent,
                                         result.domain)
        self.run_errors.append((t, svc.name, svc.revision.name, text, published))

    def run(self, progress=None) -> RunOutput:
        env, sc = self.env, self.scenario
        for svc in self.services.values():
            svc.start()
        start_fault_processes(self)
        for i in range(1, PROGRESS_CHUNKS + 1):
            env.run(until=sc.duration * i / PROGRESS_CHUNKS)
            if progress is not None:
                progress(i / PROGRESS_CHUNKS)
        for pool in self.pools.values():
            pool.finish(sc.duration)
        services = {name: svc.finish(sc.duration) for name, svc in self.services.items()}
        summary = {"services": services, "kms": self.stats.summary(self.pools)}
        n = next(iter(self.services.values())).recorder.n_bins
        timeseries = {name: {**{c: getattr(svc.recorder, c)[:n] for c in COUNTERS},
                             **{c: svc.recorder.levels[c][:n] for c in LEVELS}}
                      for name, svc in self.services.items()}
        ready_steps = {name: svc.recorder.ready_steps for name, svc in self.services.items()}
        out = RunOutput(summary, timeseries, ready_steps)
        if self.keep_logs:
            out.audit = self.stats.audit
            out.run_errors = self.run_errors
            out.instances = [inst.row(name) for name, inst in self.instance_rows]
            out.kms_usage = self._kms_usage()
            out.fault_log = self.fault_log
            out.fault_windows = fault_window_rows(sc, self.fault_log)
            out.quota_in_force = quota_in_force_rows(self)
        return out

    def _kms_usage(self) -> list[dict]:
        """One row per quota pool and second with any key operation: kms_usage.csv."""
        rows: dict[tuple[str, int], dict] = {}
        for (pool, sec), (starts, validation, deploy, exhausted) in self.stats.usage.items():
            rows[(pool, sec)] = {"pool": pool, "second": sec, "starts": starts, "validation": validation,
                                 "deploy": deploy, "background": 0, "resource_exhausted": exhausted}
        for pool in self.pools.values():
            for sec, n in pool.background_by_second.items():
                row = rows.setdefault((pool.name, sec), {"pool": pool.name, "second": sec, "starts": 0,
                                                         "validation": 0, "deploy": 0, "background": 0,
                                                         "resource_exhausted": 0})
                row["background"] = n
        for (name, sec), row in rows.items():
            pool = next((p for p in self.pools.values() if p.name == name), None)
            row["quota_per_second"] = pool.limits.at(sec) / 60.0 if pool else None
        return [rows[k] for k in sorted(rows)]
