"""Shared helpers for the model tests: a minimal valid scenario dict, one run, and readers of the outputs.

`make_scenario(service={...}, **top)` builds the smallest scenario `scenario_from_dict` accepts: one
service `svc` with constant distributions and Google-managed encryption (no key), deep-merged with
`service` and the top-level keys in `top`. Tests read exact times from instances.csv rows and counts
from the summary.
"""
from __future__ import annotations

import copy
from pathlib import Path

from sim.runner import run
from sim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS_DIR = ROOT / "scenarios"

KEY_NAME = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"


def base_service(**overrides) -> dict:
    """A service with constant distributions: start 0.1 + 0.2 + 0.3 + 0.4 = 1.0 s, service 0.5 s."""
    svc = {
        "name": "svc",
        "encryption_key": None,
        "concurrency": 1,
        "min_instances": 0,
        "max_instances": 10,
        "idle_retention": "60s",
        "pending_timeout": "30s",
        "request_timeout": "300s",
        "service_time": "0.5s",
        "cpu_per_request": 0,
        "startup": {"schedule": "0.1s", "image_fetch": "0.2s", "container_start": "0.3s", "app_init": "0.4s"},
        "autoscaling": {"policy": "cloud-run", "on_demand": True},
        "traffic": {"arrivals": "deterministic", "rate": 10},
    }
    return deep_merge(svc, overrides)


def deep_merge(base: dict, overrides: dict) -> dict:
    """A copy of `base` with `overrides` merged in (mappings merge key by key; anything else replaces)."""
    out = copy.deepcopy(base)
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def make_scenario(service: dict | None = None, services: list | None = None, **top) -> dict:
    """A minimal valid scenario dict: one service (base_service merged with `service`), or `services`."""
    data = {
        "name": "test",
        "duration": "60s",
        "seed": 1,
        "replications": 1,
        "timeseries_interval": "1s",
        "kms": {"latency": "10ms"},
        "keys": [{"id": "k", "name": KEY_NAME, "protection": "hsm"}],
        "services": services if services is not None else [base_service(**(service or {}))],
    }
    return deep_merge(data, top)


def run_once(data: dict, **kwargs):
    """Run a scenario dict (one replication unless the dict or kwargs say otherwise)."""
    return run(scenario_from_dict(data), **kwargs)


def service_summary(result, name: str = "svc", replication: int = 0) -> dict:
    return result.summary["runs"][replication]["services"][name]


def instance_rows(result, name: str = "svc") -> list[dict]:
    """instances.csv rows of replication 0 for one service, in order of request time then id."""
    rows = [r for r in result.outputs[0].instances if r["service"] == name]
    return sorted(rows, key=lambda r: (r["requested_at"], r["instance"]))


def burst(n: int, rate: float = 4.0) -> list:
    """A `traffic.rate` giving exactly n deterministic arrivals at 0, 1/rate, ..., (n-1)/rate, then none."""
    last = (n - 1) / rate
    return [[0, rate], [last + 0.01 / rate, rate], [last + 0.02 / rate, 0]]


def timeseries(result, name: str = "svc", replication: int = 0) -> dict:
    return result.outputs[replication].timeseries[name]


def nonzero_bins(column: list) -> dict:
    """{bin index: value} of the bins where a counter is not zero."""
    return {i: v for i, v in enumerate(column) if v}
