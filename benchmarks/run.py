#!/usr/bin/env python
"""Benchmarks: our simulator against the plainest SimPy model (the floor) and against SimFaaS (the peer).

    python benchmarks/run.py                 # everything; writes benchmarks/RESULTS.md (~10 min)
    python benchmarks/run.py --quick         # smaller horizons, one repeat: a smoke run (~1-2 min)
    python benchmarks/run.py --only pool     # some cases (names or groups, comma-separated or repeated)
    python benchmarks/run.py --only sweep    # the study engine: 1 and 2 local workers, a 2-worker Dask cluster
    python benchmarks/run.py --profile       # cProfile of case (a), top 25 by tottime
    python benchmarks/run.py --profile per-request

Every case runs in a fresh subprocess (``python benchmarks/run.py --child SPEC``), so its peak memory is the
whole process's own high-water mark (VmHWM from /proc/self/status, read by the child at the end) and no case
warms the caches of the next. The wall time is that of the simulation call only (our ``sim.runner.run``,
the floor's ``env.run``, SimFaaS's ``generate_trace``); imports and scenario loading are left out. Each case
is repeated and the best wall time is reported, since the machine is shared and noise only ever slows a run.

Only the full run writes RESULTS.md; ``--quick`` and ``--only`` print, and write only with ``--out PATH``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"

# SimFaaS's reference workload, case (b) (Mahmoudi & Khazaei, SimFaaS, 2021): Poisson 0.9 req/s, exponential
# warm service with mean 2.016 s, cold requests 2.163 s = 2.016 s + 0.147 s of start, expiry after 600 s.
PR_RATE, PR_SERVICE_MEAN, PR_START_MEAN, PR_EXPIRY = 0.9, 2.016, 0.147, 600.0
HEAVY_SERVICE_MEAN, HEAVY_SERVICE_CV, HEAVY_RATE = 0.120, 1.0, 1000.0
FLOOR_SLOTS = 80 * 20                   # concurrency 80 x 20 instances: never the bottleneck at 1000 req/s
POOL_UTILIZATION = 0.7
PR_INTERVAL = 1e4                       # timeseries_interval of per-request.yaml: batches are made of its bins
MAX_BATCHES = 20                        # batch means for the (b) agreement check

# Pass / fail thresholds (see README.md).
FLAT_COST_MAX_RATIO = 1.25              # slowest / fastest cost per request across the pool sizes
MEMORY_LIMIT_MB = 300.0
MEMORY_FLAT_MAX_RATIO = 1.10            # peak at the longest horizon / peak at the shortest
SIMFAAS_MIN_SPEEDUP = 2.0
SIMFAAS_MIN_SPEEDUP_100 = 5.0
SWEEP_MIN_SPEEDUP = 1.7                 # 2 local workers over 1, on a 2-core machine

# The sweep case: heavy.yaml's arrival rate in 4 cells, 2 replications each (8 units, no fault-free twin).
SWEEP_RATES = (600.0, 800.0, 1000.0, 1200.0)
SWEEP_REPLICATIONS = 2


# ---------------------------------------------------------------------------------------------------------
# Child side: one case, one measurement, one JSON line on stdout.

def _status_mb(field_name: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _peak_mb() -> float:
    hwm = _status_mb("VmHWM")
    if hwm is not None:
        return hwm
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB


def _batch_edges(duration: float, interval: float) -> tuple[list[float], int]:
    """Batch boundaries on time-series bin edges: the most batches (<= MAX_BATCHES) that split the bins evenly."""
    n_bins = math.ceil(duration / interval - 1e-9)
    n = max([b for b in range(1, MAX_BATCHES + 1) if n_bins % b == 0])
    per = n_bins // n
    edges = [min(duration, k * per * interval) for k in range(n + 1)]
    return edges, per


def _ours_scenario(spec: dict):
    from sim.scenario import load_scenario, scenario_from_dict, with_updates
    if "file" in spec:
        sc = load_scenario(HERE / spec["file"])
        if spec.get("updates"):
            sc = with_updates(sc, spec["updates"])
        return sc
    return scenario_from_dict(spec["scenario"], "<benchmark>", base_dir=HERE)


def _ours_batches(result, sc, service: str) -> dict:
    """Per-batch cold-start probability and time-average instance count (starting + ready) of one run."""
    T, interval = sc.duration, sc.timeseries_interval
    edges, per = _batch_edges(T, interval)
    out = result.outputs[0]
    arrivals_by_bin = out.timeseries[service]["arrivals"]
    rows = [r for r in out.instances if r["service"] == service]
    arrivals, colds, inst = [], [], []
    for k in range(len(edges) - 1):
        a, b = edges[k], edges[k + 1]
        arrivals.append(sum(arrivals_by_bin[k * per:(k + 1) * per]))
        colds.append(sum(1 for r in rows if a <= r["requested_at"] < b))
        area = 0.0
        for r in rows:
            s = r["requested_at"]
            e = r["stopped_at"] if r["stopped_at"] is not None else T
            area += max(0.0, min(e, b) - max(s, a))
        inst.append(area / (b - a))
    return {"edges": edges, "arrivals": arrivals, "colds": colds, "instances": inst}


def child_ours(spec: dict) -> dict:
    from sim.runner import run
    sc = _ours_scenario(spec)
    svc_name = sc.services[0].name
    base = _status_mb("VmRSS")
    t0 = time.perf_counter()
    result = run(sc, baseline=False)
    wall = time.perf_counter() - t0
    peak = _peak_mb()
    s = result.summary["runs"][0]["services"][svc_name]
    out = {"wall": wall, "requests": s["requests"]["arrived"], "served": s["requests"]["served"],
           "cold_starts": s["cold_starts"]["count"], "mean_ready": s["instances"]["mean_ready"],
           "latency_mean": s["latency_s"]["mean"], "peak_mb": peak, "base_mb": base,
           "horizon": sc.duration}
    if spec.get("batches"):
        out["batches"] = _ours_batches(result, sc, svc_name)
    return out


def _floor_model(env, simpy, horizon: float, seed: int):
    """The plainest SimPy model of case (a): a process per request holding a Resource slot for its service time."""
    import random
    rnd = random.Random(seed)
    sigma2 = math.log(1.0 + HEAVY_SERVICE_CV ** 2)
    mu, sigma = math.log(HEAVY_SERVICE_MEAN) - sigma2 / 2.0, math.sqrt(sigma2)
    slots = simpy.Resource(env, capacity=FLOOR_SLOTS)
    latencies: list[float] = []
    count = [0]

    def request(service_time):
        arrived = env.now
        with slots.request() as req:
            yield req
            yield env.timeout(service_time)
        latencies.append(env.now - arrived)

    def source():
        while True:
            yield env.timeout(rnd.expovariate(HEAVY_RATE))
            count[0] += 1
            env.process(request(rnd.lognormvariate(mu, sigma)))

    env.process(source())
    return latencies, count


def child_floor(spec: dict) -> dict:
    import simpy
    env = simpy.Environment()
    latencies, count = _floor_model(env, simpy, spec["horizon"], spec.get("seed", 1))
    base = _status_mb("VmRSS")
    t0 = time.perf_counter()
    env.run(until=spec["horizon"])
    wall = time.perf_counter() - t0
    return {"wall": wall, "requests": count[0], "served": len(latencies), "peak_mb": _peak_mb(), "base_mb": base,
            "latency_mean": sum(latencies) / len(latencies) if latencies else None, "horizon": spec["horizon"]}


def _simfaas_batches(sim, T: float, edges: list[float]) -> dict:
    """Batch means from SimFaaS's own history arrays (hist_times, hist_server_count, hist_req_*_idxs).

    Level i (hist_server_count[i]: instances created and not yet expired, cold ones included) holds on
    [hist_times[i], hist_times[i+1]); a request recorded at index i arrived at hist_times[i+1].
    """
    import numpy as np
    times = np.asarray(sim.hist_times, dtype=float)
    levels = np.asarray(sim.hist_server_count, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(levels * np.diff(times)[:len(levels)])])

    def area(x: float) -> float:
        i = min(int(np.searchsorted(times, x, side="right")) - 1, len(levels) - 1)
        return float(cum[i] + levels[i] * (x - times[i]))

    def arrival_times(idxs):
        return times[np.asarray(idxs, dtype=int) + 1] if len(idxs) else np.zeros(0)

    cold_t = arrival_times(sim.hist_req_cold_idxs)
    all_t = np.concatenate([cold_t, arrival_times(sim.hist_req_warm_idxs), arrival_times(sim.hist_req_rej_idxs)])
    colds = np.histogram(cold_t[cold_t < T], bins=edges)[0].tolist()
    arrivals = np.histogram(all_t[all_t < T], bins=edges)[0].tolist()
    inst = [(area(edges[k + 1]) - area(edges[k])) / (edges[k + 1] - edges[k]) for k in range(len(edges) - 1)]
    return {"edges": list(edges), "arrivals": arrivals, "colds": colds, "instances": inst}


def child_simfaas(spec: dict) -> dict:
    import warnings
    warnings.simplefilter("ignore")                      # its lifespan mean warns when no instance expired
    try:
        import numpy as np
        import simfaas
        from simfaas.ParServerlessSimulator import ParServerlessSimulator
    except Exception as exc:                             # noqa: BLE001 - reported, the row is skipped
        return {"error": f"cannot import simfaas: {type(exc).__name__}: {exc}"}
    np.random.seed(spec.get("seed", 1))                  # SimFaaS draws from numpy's global generator
    # ParFunctionInstance: cold_end = creation + cold_service_process; the first departure = cold_end + warm
    # service. So its cold_service_process is the start only (our startup), not the whole cold request.
    sim = ParServerlessSimulator(concurrency_value=1, arrival_rate=spec["rate"],
                                 warm_service_rate=1.0 / PR_SERVICE_MEAN, cold_service_rate=1.0 / PR_START_MEAN,
                                 expiration_threshold=PR_EXPIRY, max_time=spec["horizon"])
    base = _status_mb("VmRSS")
    t0 = time.perf_counter()
    sim.generate_trace(debug_print=False, progress=False)
    wall = time.perf_counter() - t0
    peak = _peak_mb()
    out = {"wall": wall, "requests": sim.total_req_count, "cold_starts": sim.total_cold_count,
           "peak_mb": peak, "base_mb": base, "horizon": spec["horizon"], "version": simfaas.__version__}
    try:
        res = sim.get_result_dict()
        out["own"] = {k: float(res[k]) for k in ("prob_cold", "inst_count_avg", "inst_running_count_avg")}
    except Exception as exc:                             # noqa: BLE001
        out["own_error"] = f"{type(exc).__name__}: {exc}"
    if spec.get("batch_edges"):
        out["batches"] = _simfaas_batches(sim, spec["horizon"], spec["batch_edges"])
    return out


def child_profile(spec: dict) -> dict:
    import cProfile
    import io
    import pstats
    from sim.runner import run
    sc = _ours_scenario(spec)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    result = run(sc, baseline=False)
    prof.disable()
    wall = time.perf_counter() - t0
    s = result.summary["runs"][0]["services"][sc.services[0].name]
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).strip_dirs().sort_stats("tottime").print_stats(spec.get("top", 25))
    return {"wall": wall, "requests": s["requests"]["arrived"], "horizon": sc.duration, "profile": buf.getvalue()}


def child_sweep(spec: dict) -> dict:
    """A small grid through the study engine: 1 or 2 local workers, or a Dask LocalCluster on loopback.

    The wall time is `run_units` over all the units. Not counted: loading the model (local workers are forked
    from this process after it is loaded) and the cluster's start (its workers import the model before it).
    """
    import importlib

    from sim.scenario import with_updates
    from sim.study.engine import run_units
    from sim.study.units import units_for
    sc = _ours_scenario(spec)
    name = sc.services[0].name
    units = [u for cell, rate in enumerate(SWEEP_RATES)
             for u in units_for(with_updates(sc, {"services.0.traffic.rate": rate}), cell, SWEEP_REPLICATIONS,
                                baseline=False)]
    importlib.import_module("sim.runner")              # the model loaded before forking local workers
    cluster = scheduler = None
    if spec["mode"] == "dask":
        import logging

        import distributed
        cluster = distributed.LocalCluster(n_workers=spec["workers"], threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
        scheduler = cluster.scheduler_address
        with distributed.Client(scheduler, set_as_default=False) as client:
            client.run(importlib.import_module, "sim.runner")
    base = _status_mb("VmRSS")
    t0 = time.perf_counter()
    requests = sum(summary["services"][name]["requests"]["arrived"]
                   for _unit, summary in run_units(units, workers=spec["workers"], scheduler=scheduler))
    wall = time.perf_counter() - t0
    if cluster is not None:
        cluster.close()
    return {"wall": wall, "requests": requests, "units": len(units), "peak_mb": _peak_mb(), "base_mb": base,
            "horizon": sc.duration}


CHILDREN = {"ours": child_ours, "floor": child_floor, "simfaas": child_simfaas, "profile": child_profile,
            "sweep": child_sweep}


# ---------------------------------------------------------------------------------------------------------
# Parent side: the cases, running them, the table and the targets.

@dataclass
class Case:
    name: str
    group: str
    model: str                    # ours | floor | simfaas
    label: str                    # what it is, for the table
    spec: dict
    repeats: int = 3
    runs: list = field(default_factory=list)
    error: str | None = None

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
        return b["requests"] / b["wall"] if b and b["wall"] > 0 else None

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
    edges_pr, _ = _batch_edges(h_pr, PR_INTERVAL)
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
    return cases


def run_child(spec: dict, timeout: float = 3600.0) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    try:
        # The child imports this tree's sim, not an installed copy (a git worktree would measure another tree).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}


def load1() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def machine_info() -> dict:
    from sim.estimate import cpu_model
    cpu = cpu_model("?")
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram, "os": platform.platform()}


def versions() -> dict:
    from importlib import metadata
    out = {"python": platform.python_version()}
    for dist in ("cmek-sim", "simpy", "numpy", "scipy", "simfaas", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim"], cwd=ROOT, capture_output=True,
                               text=True)
        if rev.returncode == 0:
            out["git"] = rev.stdout.strip() + (" + uncommitted changes in sim/" if dirty.stdout.strip() else "")
    except OSError:
        pass
    return out


def t_ci(values: list[float]) -> tuple[float, float, int]:
    """(mean, standard error, degrees of freedom) of batch values."""
    import numpy as np
    xs = np.asarray(values, dtype=float)
    n = xs.size
    se = float(xs.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return float(xs.mean()), se, n - 1


def half_width(se: float, df: float) -> float:
    from scipy import stats
    return float(stats.t.ppf(0.975, df)) * se if df > 0 else 0.0


def agreement(ours: dict, theirs: dict) -> list[dict]:
    """Two-sample comparison of batch means (Welch): agree when the difference's 95% interval holds 0."""
    rows = []
    for metric, f in (("cold-start probability", lambda b: [c / a if a else 0.0 for c, a in
                                                            zip(b["colds"], b["arrivals"])]),
                      ("mean instances (starting + ready)", lambda b: b["instances"])):
        m1, se1, df1 = t_ci(f(ours))
        m2, se2, df2 = t_ci(f(theirs))
        se = math.sqrt(se1 ** 2 + se2 ** 2)
        if se1 > 0 or se2 > 0:
            df = se ** 4 / ((se1 ** 4 / df1 if df1 else 0) + (se2 ** 4 / df2 if df2 else 0))
        else:
            df = max(df1 + df2, 1)
        hw = half_width(se, df)
        rows.append({"metric": metric, "ours": (m1, half_width(se1, df1)), "theirs": (m2, half_width(se2, df2)),
                     "diff": m1 - m2, "diff_hw": hw, "ok": abs(m1 - m2) <= hw, "batches": (df1 + 1, df2 + 1)})
    return rows


def fmt_rate(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_time(seconds: float) -> str:
    if seconds >= 86400 * 2:
        return f"{seconds:.0e} s".replace("e+0", "e")
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:,.0f} s"


def table(cases: list[Case]) -> list[str]:
    lines = ["| case | model | what | horizon (sim) | requests | best wall s (of N) | requests / wall s "
             "| µs / request | peak RSS MB (after imports) | load (1 min) at its runs |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in cases:
        b = c.best
        if b is None:
            lines.append(f"| {c.name} | {c.model} | {c.label} | | | | skipped: {c.error or 'no result'} | | | |")
            continue
        rate = c.rate
        us = 1e6 / rate if rate else None
        lines.append(f"| {c.name} | {c.model} | {c.label} | {fmt_time(b['horizon'])} | {b['requests']:,} "
                     f"| {b['wall']:.2f} ({len(c.runs)}) | {fmt_rate(rate)} | {us:.1f} "
                     f"| {c.peak_mb:.0f} ({b['base_mb']:.0f}) | {c.loads} |")
    return lines


def paired(a: Case, b: Case) -> str:
    """Ratios of requests/s run by run (round by round, so each pair ran under about the same load)."""
    xs = [(ra["requests"] / ra["wall"]) / (rb["requests"] / rb["wall"]) for ra, rb in zip(a.runs, b.runs)]
    return "" if len(xs) < 2 else "; round by round " + ", ".join(f"{x:.2f}x" for x in xs)


def targets(cases: dict[str, Case]) -> tuple[list[str], list[dict]]:
    lines: list[str] = []
    agree_rows: list[dict] = []

    def have(*names):
        return all(n in cases and cases[n].best is not None for n in names)

    def verdict(ok: bool | None) -> str:
        return "SKIP" if ok is None else ("PASS" if ok else "FAIL")

    def missing(*names):
        why = [f"{n}: {cases[n].error}" for n in names if n in cases and cases[n].error]
        return "; ".join(why) or "case not run"

    # (a) at least as fast as the floor, at the same horizon.
    if have("heavy-short", "floor"):
        r = cases["heavy-short"].rate / cases["floor"].rate
        extra = ""
        if have("heavy"):
            extra = f"; at {fmt_time(cases['heavy'].best['horizon'])}: {cases['heavy'].rate / cases['floor'].rate:.2f}x"
        lines.append(f"{verdict(r >= 1.0)}  (a) ours vs the floor (requests/s, same arrivals, "
                     f"{fmt_time(cases['floor'].best['horizon'])}): {r:.2f}x (target >= 1x)"
                     f"{paired(cases['heavy-short'], cases['floor'])}{extra}")
    else:
        lines.append(f"SKIP  (a) ours vs the floor: {missing('heavy-short', 'floor')}")
    # (b) against SimFaaS.
    for ours, theirs, need in (("per-request", "simfaas", SIMFAAS_MIN_SPEEDUP),
                               ("per-request-100", "simfaas-100", SIMFAAS_MIN_SPEEDUP_100)):
        if have(ours, theirs):
            r = cases[ours].rate / cases[theirs].rate
            lines.append(f"{verdict(r >= need)}  (b) ours vs SimFaaS, {cases[ours].label.split(', ')[-1]} "
                         f"(requests/s): {r:.2f}x (target >= {need:g}x){paired(cases[ours], cases[theirs])}")
        else:
            lines.append(f"SKIP  (b) ours vs SimFaaS ({ours}): {missing(ours, theirs)}")
    # Cost per request flat with the pool size.
    pools = [f"pool-{n}" for n in (10, 100, 1000)]
    if have(*pools):
        us = {p: 1e6 / cases[p].rate for p in pools}
        ratio = max(us.values()) / min(us.values())
        shown = ", ".join(f"{p.split('-')[1]}: {v:.1f} µs" for p, v in us.items())
        lines.append(f"{verdict(ratio <= FLAT_COST_MAX_RATIO)}  cost per request flat with 10/100/1000 instances "
                     f"busy: {shown}; slowest/fastest {ratio:.2f} (target <= {FLAT_COST_MAX_RATIO})")
    else:
        lines.append(f"SKIP  cost per request flat: {missing(*pools)}")
    # Memory of (a).
    if have("heavy"):
        m = cases["heavy"].peak_mb
        lines.append(f"{verdict(m < MEMORY_LIMIT_MB)}  (a) peak memory at {fmt_time(cases['heavy'].best['horizon'])}: "
                     f"{m:.0f} MB, whole process (target < {MEMORY_LIMIT_MB:.0f} MB)")
    else:
        lines.append(f"SKIP  (a) peak memory: {missing('heavy')}")
    sweep = [n for n in ("heavy-short", "heavy", "heavy-long") if have(n)]
    if len(sweep) >= 2:
        peaks = [cases[n].peak_mb for n in sweep]
        ratio = peaks[-1] / peaks[0]
        shown = ", ".join(f"{fmt_time(cases[n].best['horizon'])}: {cases[n].peak_mb:.0f} MB" for n in sweep)
        lines.append(f"{verdict(ratio <= MEMORY_FLAT_MAX_RATIO and max(peaks) < MEMORY_LIMIT_MB)}  (a) peak memory "
                     f"flat as the horizon grows: {shown}; longest/shortest {ratio:.2f} "
                     f"(target <= {MEMORY_FLAT_MAX_RATIO})")
    else:
        lines.append("SKIP  (a) peak memory flat: needs two of heavy-short, heavy, heavy-long")
    # The sweep through the study engine: 2 local workers over 1, and a 2-worker Dask cluster against them.
    if have("sweep-1", "sweep-2"):
        r = cases["sweep-2"].rate / cases["sweep-1"].rate
        lines.append(f"{verdict(r >= SWEEP_MIN_SPEEDUP)}  sweep ({cases['sweep-1'].best['units']} units), 2 local "
                     f"workers vs 1: {r:.2f}x (target >= {SWEEP_MIN_SPEEDUP}x)"
                     f"{paired(cases['sweep-2'], cases['sweep-1'])}")
    else:
        lines.append(f"SKIP  sweep, 2 local workers vs 1: {missing('sweep-1', 'sweep-2')}")
    if have("sweep-2", "sweep-dask-2"):
        r = cases["sweep-dask-2"].rate / cases["sweep-2"].rate
        vs1 = (f", {cases['sweep-dask-2'].rate / cases['sweep-1'].rate:.2f}x 1 local worker"
               if have("sweep-1") else "")
        lines.append(f"INFO  sweep, Dask cluster of 2 worker processes vs 2 local workers: {r:.2f}x{vs1}"
                     f"{paired(cases['sweep-dask-2'], cases['sweep-2'])}")
    else:
        lines.append(f"SKIP  sweep on Dask: {missing('sweep-2', 'sweep-dask-2')}")
    # (b) agreement with SimFaaS.
    if have("per-request", "simfaas") and "batches" in cases["simfaas"].best and (
            cases["per-request"].best["batches"]["edges"] != cases["simfaas"].best["batches"]["edges"]):
        lines.append("SKIP  (b) agreement with SimFaaS: the batch edges differ (timeseries_interval of "
                     "per-request.yaml is not PR_INTERVAL)")
    elif have("per-request", "simfaas") and "batches" in cases["simfaas"].best:
        agree_rows = agreement(cases["per-request"].best["batches"], cases["simfaas"].best["batches"])
        for row in agree_rows:
            (m1, h1), (m2, h2) = row["ours"], row["theirs"]
            lines.append(f"{verdict(row['ok'])}  (b) agrees with SimFaaS, {row['metric']}: ours {m1:.5g} ± {h1:.2g}, "
                         f"SimFaaS {m2:.5g} ± {h2:.2g}; difference {row['diff']:+.3g} ± {row['diff_hw']:.2g} "
                         f"(95%, {row['batches'][0]:.0f} + {row['batches'][1]:.0f} batch means)")
    else:
        lines.append(f"SKIP  (b) agreement with SimFaaS: {missing('per-request', 'simfaas')}")
    return lines, agree_rows


def agreement_section(cases: dict[str, Case], rows: list[dict]) -> list[str]:
    if not rows:
        return []
    ours, theirs = cases["per-request"].best, cases["simfaas"].best
    lines = ["## (b) agreement with SimFaaS", "",
             f"One run each of {fmt_time(ours['horizon'])} (seed 1), cut into {len(ours['batches']['arrivals'])} "
             f"batches of {fmt_time(ours['batches']['edges'][1])}; each figure is the mean of the batch values with "
             "its 95% Student-t half-width, and the verdict is a Welch test of the difference at 5%. "
             "Our figures come from the run's time series (arrivals per bin) and instances.csv rows (a cold start is "
             "an instance start, counted at its request time; instances count from start request to stop, so "
             "starting ones are included, like SimFaaS's server_count which counts COLD instances). SimFaaS's come "
             "from its own history arrays (hist_times, hist_server_count, hist_req_cold/warm/rej_idxs).", "",
             "| metric | ours | SimFaaS | difference | verdict |", "| --- | ---: | ---: | ---: | --- |"]
    for row in rows:
        (m1, h1), (m2, h2) = row["ours"], row["theirs"]
        lines.append(f"| {row['metric']} | {m1:.5g} ± {h1:.2g} | {m2:.5g} ± {h2:.2g} "
                     f"| {row['diff']:+.3g} ± {row['diff_hw']:.2g} | {'agree' if row['ok'] else 'DIFFER'} |")
    own = theirs.get("own")
    lines += ["", "Whole-run figures: ours "
              f"{ours['cold_starts']:,} cold starts / {ours['requests']:,} arrivals = "
              f"{ours['cold_starts'] / ours['requests']:.5f}, mean ready instances {ours['mean_ready']:.3f} "
              "(summary `instances.mean_ready`, starting ones excluded); SimFaaS `get_result_dict()`: "
              + (f"prob_cold {own['prob_cold']:.5f}, inst_count_avg {own['inst_count_avg']:.3f}, "
                 f"inst_running_count_avg {own['inst_running_count_avg']:.3f}." if own else
                 theirs.get("own_error", "not available") + "."),
              "", "Mapping of (b) onto SimFaaS (read from simfaas 0.2.2's source): `ParServerlessSimulator` builds "
              "`ParFunctionInstance`s, whose cold request ends at creation + `cold_service_process` + a "
              "`warm_service_process` draw (`generate_cold_departure`). So `cold_service_rate` is 1 / our mean "
              f"start ({PR_START_MEAN} s), not 1 / {PR_SERVICE_MEAN + PR_START_MEAN:.3f} s: a cold request then takes "
              f"{PR_START_MEAN} + {PR_SERVICE_MEAN} = {PR_SERVICE_MEAN + PR_START_MEAN:.3f} s on average, as ours does "
              "(start, then a warm service time). This is also how its own `__main__` sets it up. "
              "(The plain `ServerlessSimulator` instead draws the whole cold request from `cold_service_process`.) "
              "Other parameters: `concurrency_value=1`, `arrival_rate`, `warm_service_rate=1/2.016`, "
              "`expiration_threshold=600` (an instance expires 600 s after its last departure, our "
              "`idle_retention`), newest instance first (ours: `routing: newest-first`), "
              "`maximum_concurrency` left at 1000 (never reached)."]
    return lines


def report(cases: list[Case], started: float, quick: bool, argv: list[str], load_start, load_end,
           v_start: dict) -> str:
    by_name = {c.name: c for c in cases}
    m, v = machine_info(), versions()
    if v.get("git") != v_start.get("git"):
        v["git"] = f"{v_start.get('git')} at the start, {v.get('git')} at the end (sim/ changed during the run)"
    target_lines, agree_rows = targets(by_name)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Benchmark results{' (quick)' if quick else ''}", "",
             f"- date: {now}; command: `{' '.join(['python benchmarks/run.py', *argv])}`",
             f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, {m['os']}",
             "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
             f"- load average (1 min) at start {load_start:.2f}, at end {load_end:.2f} (the machine is shared; "
             "each case runs alone in a fresh subprocess, the best of N wall times is shown)",
             f"- whole run: {time.perf_counter() - started:.0f} s", "",
             "## Speed and memory", "",
             *table(cases), "",
             "Requests are arrivals simulated; the wall time is the simulation call only. Peak RSS is the child "
             "process's VmHWM, interpreter and imports included; in brackets its RSS after the imports and scenario "
             "loading, just before the timed call (ours import numpy, scipy and pydantic; the floor only simpy).", "",
             "## Targets", "", "```", *target_lines, "```", ""]
    lines += agreement_section(by_name, agree_rows)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller horizons and one repeat (a smoke run)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only these cases or groups (heavy, floor, per-request, simfaas, pool, sweep, or a case name)")
    ap.add_argument("--repeats", type=int, default=None, help="override the repeats of every case")
    ap.add_argument("--profile", nargs="?", const="heavy", default=None, metavar="CASE",
                    help="profile one of our cases (default heavy, case (a)) with cProfile: top 25 by tottime")
    ap.add_argument("--out", default=None, help="write the report here (the full run writes benchmarks/RESULTS.md)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child is not None:
        spec = json.loads(args.child)
        print("RESULT " + json.dumps(CHILDREN[spec["kind"]](spec)), flush=True)
        return 0

    cases = make_cases(args.quick)
    if args.profile:
        case = next((c for c in cases if c.name == args.profile and c.model == "ours"), None)
        if case is None:
            ap.error(f"--profile: not one of our cases: {args.profile}")
        spec = dict(case.spec, kind="profile")
        if case.group == "heavy":                        # (a) profiled over 15 min (2 min with --quick)
            spec["updates"] = {**spec.get("updates", {}), "duration": 120.0 if args.quick else 900.0}
        print(f"profiling {case.name} ({case.label}) ...", file=sys.stderr, flush=True)
        r = run_child(spec)
        if "error" in r:
            print(f"profile failed: {r['error']}", file=sys.stderr)
            return 1
        print(f"{case.name}: {r['requests']:,} requests over {fmt_time(r['horizon'])} simulated in "
              f"{r['wall']:.2f} s under cProfile ({r['requests'] / r['wall']:,.0f} requests/s)\n")
        print(r["profile"])
        return 0

    wanted = {w.strip() for arg in args.only for w in arg.split(",") if w.strip()}
    if wanted:
        known = {c.name for c in cases} | {c.group for c in cases}
        unknown = wanted - known
        if unknown:
            ap.error(f"--only: unknown {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})")
        cases = [c for c in cases if c.name in wanted or c.group in wanted]
    if args.repeats:
        for c in cases:
            c.repeats = args.repeats

    started = time.perf_counter()
    load_start = load1() or 0.0
    v_start = versions()
    # Rounds: every case once, then again for the second repeat, ... Cases that are compared (ours and the
    # floor, ours and SimFaaS) sit next to each other, so each pair of runs sees about the same machine load.
    for round_ in range(max((c.repeats for c in cases), default=0)):
        for c in cases:
            if round_ >= c.repeats or c.error:
                continue
            load = load1() or 0.0
            print(f"[{time.perf_counter() - started:6.0f} s] {c.name} run {round_ + 1}/{c.repeats} "
                  f"(load {load:.2f}) ...", file=sys.stderr, flush=True)
            r = run_child(c.spec)
            if "error" in r:
                c.error = r["error"]
                print(f"    {c.name}: {r['error']}", file=sys.stderr, flush=True)
                continue
            r["load"] = load
            c.runs.append(r)
            print(f"    {r['requests']:,} requests in {r['wall']:.2f} s ({r['requests'] / r['wall']:,.0f}/s), "
                  f"peak {r['peak_mb']:.0f} MB", file=sys.stderr, flush=True)
    load_end = load1() or 0.0
    text = report(cases, started, args.quick, argv, load_start, load_end, v_start)
    print(text)
    out = Path(args.out) if args.out else (RESULTS if not (args.quick or wanted or args.repeats) else None)
    if out is not None:
        out.write_text(text, encoding="utf-8")
        print(f"written: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
