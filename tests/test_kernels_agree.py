"""The compiled request path gives the Python path's results bit for bit (sim/model/compiled/).

Every shipped scenario runs both ways (replication 0, its full length) and every output of the run must be
equal: the summary (floats to the bit), the time series, the ready steps, the instance rows, the KMS audit
and usage, the run errors and the fault log. Four more worlds take the paths the shipped scenarios do not:
newest-first routing with per-request scaling; knative with processor sharing, request timeouts (504), a
daily pattern on a varying Poisson rate (thinning) and an overloaded queue (429) whose pending timeout a
deploy changes; a varying rate of evenly spaced arrivals with warm start, parking, windows and the peak
hour; constant service times under processor sharing (ties).
"""
import json
from pathlib import Path

import pytest

from sim.model.kernel_choice import numba_problem
from sim.model.world import World
from sim.scenario import load_scenario, scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))
OUTPUTS = ("summary", "timeseries", "ready_steps", "instances", "kms_usage", "audit", "run_errors", "fault_log",
           "fault_windows", "quota_in_force")

pytestmark = pytest.mark.skipif(numba_problem() is not None, reason="numba does not load here")


def _outputs(scenario, kernel: str, replication: int = 0) -> dict:
    out = World(scenario, replication, keep_logs=True, kernel=kernel).run()
    return {name: json.loads(json.dumps(getattr(out, name), default=str)) for name in OUTPUTS}


def _first_difference(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            found = _first_difference(a.get(k), b.get(k), f"{path}.{k}")
            if found:
                return found
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
    elif a != b or type(a) is not type(b):
        return f"{path}: python {a!r}, compiled {b!r}"
    return None


def assert_same(scenario, replication: int = 0):
    python, compiled = _outputs(scenario, "python", replication), _outputs(scenario, "compiled", replication)
    assert python["summary"]["services"], "nothing ran"
    assert _first_difference(python, compiled) is None, _first_difference(python, compiled)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_gives_the_same_results_on_both_kernels(name):
    assert_same(load_scenario(ROOT / "scenarios" / name))


SERVICE = {"service_time": {"dist": "lognormal", "mean": 0.12, "cv": 1.0}}

NEWEST_FIRST = {
    "name": "newest-first", "duration": 3000, "seed": 3, "replications": 1, "timeseries_interval": 60,
    "services": [{"name": "fn", "concurrency": 1, "max_instances": 1000, "idle_retention": 60,
                  "routing": "newest-first", "autoscaling": {"policy": "per-request"},
                  "service_time": {"dist": "exponential", "mean": 2.0}, "traffic": {"arrivals": "poisson", "rate": 4}}],
}

KNATIVE_OVERLOAD = {
    "name": "knative-overload", "duration": 1800, "warmup": 60, "seed": 5, "replications": 1,
    "keys": [{"id": "k", "name": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k", "protection": "hsm"},
             {"id": "k2", "name": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k2", "protection": "hsm"}],
    "services": [{"name": "api", "encryption_key": "k", "concurrency": 10, "cpu": 1, "cpu_per_request": 0.3,
                  "min_instances": 1, "max_instances": 6, "request_timeout": 2, "pending_timeout": "auto",
                  "autoscaling": {"policy": "knative"},
                  "service_time": {"dist": "lognormal", "mean": 0.6, "cv": 1.5},
                  "traffic": {"arrivals": "poisson", "rate": [[0, 20], [600, 140], [900, 30], [1800, 30]],
                              "daily_pattern": {"amplitude": 0.4, "peak_at": "20m"}}}],
    "faults": [{"kind": "deploy", "service": "api", "at": 700, "encryption_key": "k2"},
               {"kind": "key-disable", "key": "k2", "at": 1000}, {"kind": "key-enable", "key": "k2", "at": 1120}],
}

EVEN_WARM_WINDOWS = {
    "name": "even-warm", "duration": 7200, "seed": 9, "replications": 1, "timeseries_interval": 30,
    "windows": ["peak-hour", "30m..60m"],
    "services": [{"name": "web", "concurrency": 40, "min_instances": 3, "max_instances": 50, "warm_start": True,
                  **SERVICE, "traffic": {"arrivals": "deterministic", "rate": [[0, 10], [3600, 80], [7200, 10]]}}],
}


# Constant service times under processor sharing: requests that start together finish together, so the
# order they move to sharing in must be a total one on both paths (start, then arrival), not a set's.
TIES = {
    "name": "ties", "duration": 600, "seed": 3, "replications": 1,
    "services": [{"name": "api", "concurrency": 20, "cpu": 1, "cpu_per_request": 0.5, "max_instances": 20,
                  "idle_retention": "5s", "service_time": {"dist": "constant", "value": 0.2},
                  "traffic": {"arrivals": "deterministic", "rate": [[0, 50], [300, 200], [600, 50]]}}],
}


@pytest.mark.parametrize("spec", [NEWEST_FIRST, KNATIVE_OVERLOAD, EVEN_WARM_WINDOWS, TIES], ids=lambda s: s["name"])
def test_the_paths_the_shipped_scenarios_miss_give_the_same_results(spec):
    scenario = scenario_from_dict(spec, f"<{spec['name']}>")
    for replication in (0, 1):
        assert_same(scenario, replication)
