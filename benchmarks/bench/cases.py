"""The case table: every case's name, group, model, kernel and the spec its child runs.

Repeats run in rounds and cases that are compared sit next to each other in this list (ours and the floor,
ours and SimFaaS, each kernel case's python and compiled runs), so each pair sees about the same load.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .agreement import batch_edges
from .workloads import (HEAVY_SERVICE_CV, HEAVY_SERVICE_MEAN, KERNEL_QUICK_SHARE, KERNELS, PLAIN_RATES,
                        PLAIN_REQUESTS, PLANNER_QUICK_UPDATES, PLANNER_REPLICATIONS,
                        PLANNER_WORKERS, POOL_UTILIZATION, PR_INTERVAL,
                        PR_RATE, SWEEP_RATES, SWEEP_REPLICATIONS)


@dataclass
class Case:
    name: str
    group: str
    model: str                    # ours | floor | simfaas
    label: str                    # what it is, for the table
    spec: dict
    repeats: int = 3
    pair: str | None = None       # kernel group: the name the python and compiled cases share (plain-1k, ...)
    opt_in: bool = False          # run only when --only names it (its case or its group)
    runs: list = field(default_factory=list)
    error: str | None = None
    skip: str | None = None       # why the case cannot run on this tree (a compiled kernel that does not load)

    @property
    def kernel(self) -> str | None:
        return self.spec.get("kernel")

    @property
    def model_label(self) -> str:
        return f"{self.model} ({self.kernel})" if self.kernel else self.model

    @property
    def loads(self) -> str:
        xs = [r["load"] for r in self.runs if "load" in r]
        if not xs:
            return "-"
        return f"{min(xs):.1f}" if max(xs) - min(xs) < 0.05 else f"{min(xs):.1f}-{max(xs):.1f}"

    @property
    def best(self) -> dict | None:
        ok = [r for r in self.runs if "error" not in r]
        return min(ok, key=lambda r: r["wall"]) if ok else None

    @property
    def rate(self) -> float | None:
        b = self.best
        return b["requests"] / b["wall"] if b and b.get("requests") and b["wall"] > 0 else None

    @property
    def peak_mb(self) -> float | None:
        ok = [r["peak_mb"] for r in self.runs if r.get("peak_mb") is not None]
        return max(ok) if ok else None


def pool_scenario(n: int, requests: int) -> dict:
    """Concurrency 1, a fixed pool of n instances (min = max = n) kept 70% busy, no key, no start time."""
    rate = n * POOL_UTILIZATION / HEAVY_SERVICE_MEAN
    return {
        "name": f"bench-pool-{n}", "duration": requests / rate, "seed": 1, "timeseries_interval": 10.0,
        "services": [{
            "name": "pool", "concurrency": 1, "min_instances": n, "max_instances": n,
            "service_time": {"dist": "lognormal", "mean": HEAVY_SERVICE_MEAN, "cv": HEAVY_SERVICE_CV},
            "startup": {"schedule": 0, "image_fetch": 0, "container_start": 0, "app_init": 0},
            "traffic": {"arrivals": "poisson", "rate": rate},
        }],
    }


def make_cases(quick: bool) -> list[Case]:
    q = quick
    rep = 1 if q else 3
    h_short, h_heavy, h_long = (60.0, 120.0, 240.0) if q else (900.0, 3600.0, 4 * 3600.0)
    h_pr, h_pr100, h_sf100 = (1e5, 1e3, 1e2) if q else (1e6, 1e4, 1e3)
    pool_requests = 200_000 if q else 600_000       # enough that 1000 instance starts are a small part
    heavy = {"kind": "ours", "file": "heavy.yaml"}
    pr = {"kind": "ours", "file": "per-request.yaml"}
    edges_pr, _ = batch_edges(h_pr, PR_INTERVAL)
    cases = [
        Case("heavy-short", "heavy", "ours", "(a) heavy.yaml", {**heavy, "updates": {"duration": h_short}}, rep),
        Case("floor", "floor", "floor", "(a) plain SimPy, process per request", {"kind": "floor",
                                                                               "horizon": h_short}, rep),
        Case("heavy", "heavy", "ours", "(a) heavy.yaml", {**heavy, "updates": {"duration": h_heavy}}, rep),
        Case("heavy-long", "heavy", "ours", "(a) heavy.yaml", {**heavy, "updates": {"duration": h_long}}, 1),
        Case("per-request", "per-request", "ours", "(b) per-request.yaml, 0.9 req/s",
             {**pr, "updates": {"duration": h_pr}, "batches": True}, rep),
        Case("simfaas", "simfaas", "simfaas", "(b) SimFaaS ParServerlessSimulator, 0.9 req/s",
             {"kind": "simfaas", "rate": PR_RATE, "horizon": h_pr, "batch_edges": edges_pr}, rep),
        Case("per-request-100", "per-request", "ours", "(b) per-request.yaml, 100 req/s",
             {**pr, "updates": {"duration": h_pr100, "services.0.traffic.rate": 100.0}}, rep),
        Case("simfaas-100", "simfaas", "simfaas", "(b) SimFaaS ParServerlessSimulator, 100 req/s",
             {"kind": "simfaas", "rate": 100.0, "horizon": h_sf100}, 1 if q else 2),
    ]
    for n in (10, 100, 1000):
        cases.append(Case(f"pool-{n}", "pool", "ours", f"pool of {n}, concurrency 1, 70% busy",
                          {"kind": "ours", "scenario": pool_scenario(n, pool_requests)}, rep))
    grid = f"{len(SWEEP_RATES)} cells x {SWEEP_REPLICATIONS} replications of heavy.yaml"
    sweep = {"kind": "sweep", "file": "heavy.yaml", "updates": {"duration": 30.0 if q else 600.0}}
    cases += [Case("sweep-1", "sweep", "ours", f"sweep: {grid}, 1 local worker", {**sweep, "mode": "local",
                                                                                  "workers": 1}, rep),
              Case("sweep-2", "sweep", "ours", f"sweep: {grid}, 2 local workers", {**sweep, "mode": "local",
                                                                                   "workers": 2}, rep),
              Case("sweep-dask-2", "sweep", "ours", f"sweep: {grid}, Dask LocalCluster of 2 worker processes",
                   {**sweep, "mode": "dask", "workers": 2}, rep)]
    return cases + kernel_cases(quick)


def kernel_cases(quick: bool) -> list[Case]:
    """Issue 21's measurements: every case twice, kernel=python then kernel=compiled, next to each other."""
    share = KERNEL_QUICK_SHARE if quick else 1.0
    rep = 1 if quick else 3

    def both(pair: str, group: str, label: str, spec: dict, repeats: int, opt_in: bool = False) -> list[Case]:
        return [Case(f"{pair}-{k}", group, "ours", label, {**spec, "kernel": k}, repeats, pair, opt_in)
                for k in KERNELS]

    in_process = {"kind": "ours", "warmup_s": 2.0}
    cases: list[Case] = []
    for rate in PLAIN_RATES:
        horizon = round(PLAIN_REQUESTS * share / rate)
        cases += both(f"plain-{rate / 1000:.0f}k", "kernel", f"plain path, {rate:,.0f} req/s",
                      {**in_process, "file": "scenarios/plain.yaml",
                       "updates": {"duration": float(horizon), "services.0.traffic.rate": rate}}, rep)
    ten_minutes = {"duration": round(600.0 * share)}
    cases += both("shared-cpu", "kernel", "processor sharing, 3,000 req/s, 0.25 vCPU per request",
                  {**in_process, "file": "scenarios/shared-cpu.yaml", "updates": ten_minutes}, rep)
    cases += both("overload", "kernel", "overload, 3,000 req/s on 2 instances (429s)",
                  {**in_process, "file": "scenarios/overload.yaml", "updates": ten_minutes}, rep)
    cases += both("run-10k", "kernel", "`sim run` end to end, 10,000 req/s",
                  {"kind": "cli-run", "file": "scenarios/plain.yaml",
                   "updates": {"duration": 30.0} if quick else {}}, 1 if quick else 2)
    cases += both("solve-planner", "solve-planner", "planner's `sim solve` (min_instances, EKM outage), "
                  f"{PLANNER_WORKERS} workers",
                  {"kind": "cli-solve", "file": "scenarios/planner-solve.yaml", "workers": PLANNER_WORKERS,
                   "replications": 2 if quick else PLANNER_REPLICATIONS,
                   "updates": PLANNER_QUICK_UPDATES if quick else {}, "timeout": 4 * 3600.0}, 1, opt_in=True)
    return cases


def select(cases: list[Case], wanted: set[str]) -> list[Case]:
    """The cases --only names (by case, group or kernel pair: plain-3k is plain-3k-python and -compiled);
    without --only, every case but the opt-in ones."""
    if not wanted:
        return [c for c in cases if not c.opt_in]
    return [c for c in cases if wanted & {c.name, c.group, c.pair}]


def known_names(cases: list[Case]) -> set[str]:
    return {c.name for c in cases} | {c.group for c in cases} | {c.pair for c in cases if c.pair}
