"""Our model in a child process: one timed run (`sim.runner.run`), a cProfile of one, a sweep of units."""
from __future__ import annotations

import time

from .agreement import ours_batches
from .measure import peak_mb, status_mb
from .workloads import BENCH_DIR, SWEEP_RATES, SWEEP_REPLICATIONS


def ours_scenario(spec: dict):
    """The case's scenario: a file under benchmarks/ with dotted-path updates, or a scenario dict."""
    from sim.scenario import load_scenario, scenario_from_dict, with_updates
    if "file" in spec:
        sc = load_scenario(BENCH_DIR / spec["file"])
        if spec.get("updates"):
            sc = with_updates(sc, spec["updates"])
        return sc
    return scenario_from_dict(spec["scenario"], "<benchmark>", base_dir=BENCH_DIR)


def kernel_problem(spec: dict, sc) -> str | None:
    """Why the case's kernel cannot run here (the case is then a SKIP), or None. No kernel in the spec: the
    runner's default, and nothing to check (so the older cases also run on a tree without kernels)."""
    kernel = spec.get("kernel")
    if kernel in (None, "python"):
        return None
    try:
        from sim.model.kernel_choice import KernelUnavailable, resolve
    except ImportError:
        return "this tree has no kernel choice (sim/model/kernel_choice.py)"
    try:
        resolve(kernel, sc)
    except KernelUnavailable as exc:
        return str(exc)
    return None


def run_kwargs(spec: dict) -> dict:
    """`kernel=` for sim.runner.run only when the case names one."""
    return {"kernel": spec["kernel"]} if spec.get("kernel") else {}


def child_ours(spec: dict) -> dict:
    from sim.runner import run
    from sim.scenario import with_updates
    sc = ours_scenario(spec)
    problem = kernel_problem(spec, sc)
    if problem:
        return {"skip": problem}
    svc_name = sc.services[0].name
    if spec.get("warmup_s"):
        # Untimed: a few simulated seconds first, so a JIT's compile (or its cache load) and the first-call
        # costs of either kernel stay out of the per-request figure.
        run(with_updates(sc, {"duration": spec["warmup_s"]}), baseline=False, **run_kwargs(spec))
    base = status_mb("VmRSS")
    t0 = time.perf_counter()
    result = run(sc, baseline=False, **run_kwargs(spec))
    wall = time.perf_counter() - t0
    peak = peak_mb()
    s = result.summary["runs"][0]["services"][svc_name]
    out = {"wall": wall, "requests": s["requests"]["arrived"], "served": s["requests"]["served"],
           "failed_429": s["requests"]["failed_429"],
           "cold_starts": s["cold_starts"]["count"], "mean_ready": s["instances"]["mean_ready"],
           "latency_mean": s["latency_s"]["mean"], "peak_mb": peak, "base_mb": base,
           "horizon": sc.duration}
    if spec.get("batches"):
        out["batches"] = ours_batches(result, sc, svc_name)
    return out


def child_profile(spec: dict) -> dict:
    import cProfile
    import io
    import pstats

    from sim.runner import run
    sc = ours_scenario(spec)
    problem = kernel_problem(spec, sc)
    if problem:
        return {"error": problem}
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    result = run(sc, baseline=False, **run_kwargs(spec))
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
    sc = ours_scenario(spec)
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
    base = status_mb("VmRSS")
    t0 = time.perf_counter()
    requests = sum(summary["services"][name]["requests"]["arrived"]
                   for _unit, summary in run_units(units, workers=spec["workers"], scheduler=scheduler))
    wall = time.perf_counter() - t0
    if cluster is not None:
        cluster.close()
    return {"wall": wall, "requests": requests, "units": len(units), "peak_mb": peak_mb(), "base_mb": base,
            "horizon": sc.duration}

