"""SimFaaS (simfaas 0.2.2's ParServerlessSimulator) on case (b); optional: a failed import is a SKIP."""
from __future__ import annotations

import time

from .measure import peak_mb, status_mb
from .workloads import PR_EXPIRY, PR_SERVICE_MEAN, PR_START_MEAN


def simfaas_batches(sim, T: float, edges: list[float]) -> dict:
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
    base = status_mb("VmRSS")
    t0 = time.perf_counter()
    sim.generate_trace(debug_print=False, progress=False)
    wall = time.perf_counter() - t0
    peak = peak_mb()
    out = {"wall": wall, "requests": sim.total_req_count, "cold_starts": sim.total_cold_count,
           "peak_mb": peak, "base_mb": base, "horizon": spec["horizon"], "version": simfaas.__version__}
    try:
        res = sim.get_result_dict()
        out["own"] = {k: float(res[k]) for k in ("prob_cold", "inst_count_avg", "inst_running_count_avg")}
    except Exception as exc:                             # noqa: BLE001
        out["own_error"] = f"{type(exc).__name__}: {exc}"
    if spec.get("batch_edges"):
        out["batches"] = simfaas_batches(sim, spec["horizon"], spec["batch_edges"])
    return out
