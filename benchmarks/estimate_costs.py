"""The cost of each kind of work sim/estimate_work.py counts, in simulated requests of the calibration
scenario: CPU seconds of a run that isolates the kind (a zero-rate service otherwise), minus an empty run,
per event, times the calibrated speed. Re-run after a change to the model's hot paths and update COST.

    PYTHONPATH=$PWD python benchmarks/estimate_costs.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import make_scenario  # noqa: E402

from sim import estimate  # noqa: E402
from sim.model.world import World  # noqa: E402
from sim.scenario import scenario_from_dict  # noqa: E402

IDLE = {"traffic": {"rate": 0}, "service_time": "0.1s", "concurrency": 80}


def cpu(data: dict, reps: int = 1) -> float:
    sc = scenario_from_dict(data, "<bench>")
    started = time.process_time()
    for r in range(reps):
        World(sc, r, keep_logs=r == 0).run()
    return (time.process_time() - started) / reps


def main() -> None:
    speed = estimate.calibrate()
    empty = cpu(make_scenario(service=IDLE, duration="10s", timeseries_interval="10s"), 20)
    short = {"duration": "100s", "timeseries_interval": "100s"}
    cases = {   # kind: (scenario, events of that kind, baseline run)
        "ticks (20 ms window)": (make_scenario(service={**IDLE, "autoscaling": {"interval": "10ms", "window": "20ms"}},
                                               **short), 1e4, None),
        "ticks (10 s window)": (make_scenario(service={**IDLE, "autoscaling": {"interval": "10ms", "window": "10s"}},
                                              **short), 1e4, None),
        "bins": (make_scenario(service=IDLE, duration="100s", timeseries_interval="1ms"), 1e5, None),
        "instances": (make_scenario(service={**IDLE, "min_instances": 4000, "max_instances": 4000}, **short), 4e3,
                      None),
        "checks": (make_scenario(service={**IDLE, "encryption_key": "k",
                                          "key_operations": {"validation_interval": "10ms"}}, **short), 1e4,
                   make_scenario(service={**IDLE, "encryption_key": "k"}, **short)),
        "background": (make_scenario(service={**IDLE, "encryption_key": "k"},
                                     kms={"latency": "10ms", "quota": {"background_rps": 10000}}, **short), 1e6,
                       make_scenario(service={**IDLE, "encryption_key": "k"}, **short)),
    }
    print(f"calibration: {speed:,.0f} requests/s; an empty run {empty * 1e3:.2f} ms = {empty * speed:.0f} requests")
    for kind, (data, events, base) in cases.items():
        extra = cpu(data) - (empty if base is None else cpu(base))
        print(f"{kind}: {extra / events * 1e6:.2f} us = {extra / events * speed:.3f} requests each")


if __name__ == "__main__":
    main()
