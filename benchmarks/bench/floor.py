"""The floor: the plainest SimPy model of case (a), a generator process per request holding a Resource slot."""
from __future__ import annotations

import math
import time

from .measure import peak_mb, status_mb
from .workloads import FLOOR_SLOTS, HEAVY_RATE, HEAVY_SERVICE_CV, HEAVY_SERVICE_MEAN


def floor_model(env, simpy, horizon: float, seed: int):
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
    latencies, count = floor_model(env, simpy, spec["horizon"], spec.get("seed", 1))
    base = status_mb("VmRSS")
    t0 = time.perf_counter()
    env.run(until=spec["horizon"])
    wall = time.perf_counter() - t0
    return {"wall": wall, "requests": count[0], "served": len(latencies), "peak_mb": peak_mb(), "base_mb": base,
            "latency_mean": sum(latencies) / len(latencies) if latencies else None, "horizon": spec["horizon"]}
