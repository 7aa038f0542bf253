"""Helpers shared by the KMS, quota, fault and log tests (this module holds no tests itself).

The scenarios built here are small and deterministic where an assertion has to be exact: constant
startup phases and latencies, deterministic arrivals, retry jitter 0.
"""
from __future__ import annotations

from pathlib import Path

from conftest import deep_merge

from sim.model.kms import START_REASONS
from sim.model.world import World
from sim.runner import run
from sim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
PROJECT_NUMBER = "123456789012"
AGENT = f"service-{PROJECT_NUMBER}@serverless-robot-prod.iam.gserviceaccount.com"
KMS_L = 0.01             # constant Cloud KMS latency of the test scenarios
EKM_L = 0.04             # constant EKM round trip of the test scenarios
SCHEDULE, FETCH, CONTAINER, INIT = 0.5, 1.0, 0.2, 0.3
KEY_OPS_OFFSET = SCHEDULE + FETCH  # first decrypt of a start, after it is requested


def key_name(key_id: str, project: str = "sec") -> str:
    return f"projects/{project}/locations/us-central1/keyRings/run/cryptoKeys/{key_id}"


def key(key_id: str = "k", protection: str = "hsm", project: str = "sec", **extra) -> dict:
    return {"id": key_id, "name": key_name(key_id, project), "protection": protection, **extra}


def service(name: str = "app", key_id: str | None = "k", **extra) -> dict:
    """One request every 10 s, concurrency 1, per-request scaling and idle_retention 0: one start per request.

    The failed-start back-off is made negligible (1 ms) so that every request still tries a start while the
    key fails: these tests pin the key's behaviour, test_failed_start_backoff.py the back-off."""
    svc = {
        "name": name, "encryption_key": key_id, "concurrency": 1, "service_time": "1s", "cpu_per_request": 0,
        "idle_retention": 0,
        "startup": {"schedule": SCHEDULE, "image_fetch": FETCH, "container_start": CONTAINER, "app_init": INIT},
        "traffic": {"arrivals": "deterministic", "rate": 0.1},
        "autoscaling": {"policy": "per-request", "failed_start_backoff": {"initial": 0.001, "max": 0.001}},
        "key_operations": {"validation_interval": 60},
    }
    return deep_merge(svc, extra)


def steady(name: str = "steady", key_id: str = "k", n: int = 2, **extra) -> dict:
    """min_instances running instances and no traffic: they only stop if the key revocation stops them."""
    return service(name, key_id, **deep_merge({"min_instances": n, "traffic": {"rate": 0}}, extra))


def scenario(services=None, keys=None, faults=(), **extra) -> dict:
    sc = {
        "name": "t", "duration": 1800, "seed": 3, "timeseries_interval": 10,
        "project": {"id": "acme-prod", "number": PROJECT_NUMBER, "region": "us-central1"},
        "kms": {"latency": {"dist": "constant", "value": KMS_L},
                "ekm": {"latency": {"dist": "constant", "value": EKM_L}},
                "retry": {"jitter": 0}},
        "keys": list(keys) if keys is not None else [key()],
        "services": list(services) if services is not None else [service()],
        "faults": list(faults),
    }
    return deep_merge(sc, extra)


def build(data: dict):
    return scenario_from_dict(data, "<test>")


def world_run(data: dict):
    """(World, RunOutput) of replication 0, logs kept: the world gives access to key states afterwards."""
    w = World(build(data), 0, keep_logs=True)
    return w, w.run()


def run_summary(data: dict, baseline: bool = False):
    """RunResult of one replication."""
    return run(build(data), replications=1, baseline=baseline)


# -- reading raw records ---------------------------------------------------------------------------------
def audit(out, service_name: str | None = None, reasons=None):
    """Audit tuples (t, service, method, key name, code, message, reason), optionally filtered."""
    return [a for a in out.audit if (service_name is None or a[1] == service_name)
            and (reasons is None or a[6] in reasons)]


def start_ops(out, service_name: str | None = None):
    return audit(out, service_name, START_REASONS)


def rows(out, service_name: str | None = None):
    return [r for r in out.instances if service_name is None or r["service"] == service_name]


def errors(out, service_name: str | None = None):
    """run_errors tuples (t, service, revision, message, published)."""
    return [e for e in out.run_errors if service_name is None or e[1] == service_name]


def first_key_op(row) -> float:
    return row["requested_at"] + row["schedule_s"] + row["image_fetch_s"]


def svc_summary(out, name: str = "app") -> dict:
    return out.summary["services"][name]
