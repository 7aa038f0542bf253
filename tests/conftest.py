"""Shared helpers for the model tests: a minimal valid scenario dict, one run, and readers of the outputs.

`make_scenario(service={...}, **top)` builds the smallest scenario `scenario_from_dict` accepts: one
service `svc` with constant distributions and Google-managed encryption (no key; an HSM key `k` is declared for the
tests that set `encryption_key: k`), deep-merged with
`service` and the top-level keys in `top`. Tests read exact times from instances.csv rows and counts
from the summary.
"""
from __future__ import annotations

import contextlib
import copy
import os
import signal
from pathlib import Path

from sim.kernel import ready_line
from sim.runner import run
from sim.scenario import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]

# The work estimate of commands that simulate reads this machine's speed; tests (and the commands they spawn)
# use a fixed figure instead of calibrating and writing the user's cache (tests/test_estimate.py sets its own).
os.environ.setdefault("CMEK_SIM_SPEED", "150000")
SCENARIOS_DIR = ROOT / "scenarios"

# The compiled request path is compiled here, once, before any test (and its one line said here, unheard):
# numba keeps it on disk (cache=True), so the commands the tests run, in this process or in subprocesses,
# then find it ready and say nothing of it, as a user's second run does.
ready_line()

KEY_NAME = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"


def base_service(**overrides) -> dict:
    """A service with constant distributions: start 4 x 0.25 = 1.0 s, service 0.5 s (all exact in binary)."""
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
        "startup": {"schedule": "0.25s", "image_fetch": "0.25s", "container_start": "0.25s", "app_init": "0.25s"},
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


def shipped_scenarios() -> list[Path]:
    """scenarios/*.yaml at collection time (others add files; every one is picked up)."""
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


def load_short(path: Path, horizon: float = 300.0):
    """A shipped scenario on a short horizon: one replication, faults at or after the horizon left out,
    warmup shortened if it would not fit. The full file must also load as it is."""
    import yaml

    from sim.scenario import load_scenario
    from sim.units import parse_duration

    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    duration = parse_duration(raw.get("duration", 3600))
    horizon = min(horizon, duration)
    overrides = {"duration": horizon, "replications": 1,
                 "faults": [f for f in raw.get("faults") or [] if parse_duration(f["at"]) < horizon]}
    if parse_duration(raw.get("warmup", 0)) >= horizon / 2:
        overrides["warmup"] = 0
    return load_scenario(path, overrides=overrides)


# -- invariants every run must keep (used by test_invariants, the property test and the shipped scenarios) --


def live_at(rows: list[dict], t: float) -> list[dict]:
    """Instances requested at or before t and not stopped by t."""
    return [r for r in rows if r["requested_at"] <= t and (r["stopped_at"] is None or r["stopped_at"] > t)]


def assert_invariants(result) -> None:
    """Conservation, bounds and ordering: every run, every replication, every service."""
    sc = result.scenario
    specs = {s.name: s for s in sc.services}
    has_deploy = any(f.kind == "deploy" for f in sc.faults)
    for rep, out in enumerate(result.outputs):
        run_summary = result.summary["runs"][rep]
        for name, spec in specs.items():
            s = run_summary["services"][name]
            req = s["requests"]
            where = f"replication {rep}, service {name}"
            # conservation: every request that arrived is accounted for exactly once
            assert req["arrived"] == (req["served"] + req["failed_429"] + req["failed_504"]
                                      + req["failed_shutdown"] + req["in_flight_at_end"]), (where, req)
            assert min(req[k] for k in ("arrived", "served", "failed_429", "failed_504", "failed_shutdown",
                                        "in_flight_at_end")) >= 0, (where, req)
            # no level area is negative
            cap = s["capacity"]
            for k in ("desired_instance_s", "ready_instance_s", "shortfall_instance_s"):
                assert cap[k] >= -1e-9, (where, k, cap)
            assert -1e-12 <= cap["shortfall_fraction"] <= 1 + 1e-12, (where, cap)
            assert req["mean_in_system"] >= -1e-9 and s["instances"]["mean_ready"] >= -1e-9, where
            assert s["instances"]["peak_ready"] <= spec.max_instances + _old_revision_allowance(has_deploy, spec)
            for kind in ("latency_s", "pending_s"):
                m = s[kind]
                if req["served"]:
                    assert m["mean"] >= -1e-12 and m["p50"] <= m["p95"] <= m["p99"], (where, kind, m)
                else:
                    assert m["mean"] is None and m["p99"] is None, (where, kind, m)
            ts = out.timeseries[name]
            n_bins = len(ts["arrivals"])
            for column, values in ts.items():
                assert len(values) == n_bins and min(values) >= 0, (where, column)
            # levels: min <= live (not retiring) <= max, and in flight never above the slots of ready instances
            unhindered = (sum(ts["start_failures"]) == 0 and s["instances"]["shut_down_by_key_revocation"] == 0
                          and sum(ts["failed_shutdown"]) == 0)
            for b in range(n_bins):
                live = ts["instances_ready"][b] + ts["instances_starting"][b]
                if not has_deploy:
                    assert live <= spec.max_instances, (where, b, live)
                if unhindered and not has_deploy:
                    assert live >= spec.min_instances, (where, b, live)
                assert ts["in_flight"][b] <= ts["instances_ready"][b] * spec.concurrency, (where, b)
                assert spec.min_instances <= ts["instances_desired"][b] <= spec.max_instances, (where, b)
            if sc.warmup == 0:
                assert sum(ts["arrivals"]) == req["arrived"], where
                for kind in ("served", "failed_429", "failed_504", "failed_shutdown"):
                    assert sum(ts[kind]) == req[kind], (where, kind)
        if rep == 0:
            _assert_instance_rows(result, out, specs, has_deploy)


def _old_revision_allowance(has_deploy: bool, spec) -> int:
    return spec.max_instances if has_deploy else 0   # old-revision instances being replaced do not count


def _assert_instance_rows(result, out, specs, has_deploy) -> None:
    sc = result.scenario
    for name, spec in specs.items():
        rows = [r for r in out.instances if r["service"] == name]
        assert len({r["instance"] for r in rows}) == len(rows), "one row per instance"
        started_warm = [r for r in rows if r["requested_at"] is None]
        for r in started_warm:       # warm_start: ready at 0 without a start (no request time, no startup)
            assert spec.warm_start and r["ready_at"] == 0 and r["startup_s"] is None, r
            assert r["key_attempts"] == 0 and r["kms_wait_s"] == 0, r
        rows = [r for r in rows if r["requested_at"] is not None] + [
            {**r, "requested_at": 0.0, "startup_s": 0.0} for r in started_warm]
        for r in rows:
            assert 0 <= r["requested_at"] <= sc.duration, r
            if r["ready_at"] is not None:
                assert r["ready_at"] >= r["requested_at"], r
                assert abs(r["startup_s"] - (r["ready_at"] - r["requested_at"])) < 1e-9, r
                assert r["kms_wait_s"] <= r["startup_s"] + 1e-9, r
            if r["stopped_at"] is not None:
                assert r["stopped_at"] >= r["requested_at"], r       # never stops before it is requested
                if r["ready_at"] is not None:
                    assert r["stopped_at"] >= r["ready_at"], r
                assert r["stop_reason"] != "end_of_run", r
            else:
                assert r["stop_reason"] == "end_of_run", r
            if r["start_error"]:
                assert r["ready_at"] is None and r["stop_reason"] == "start_failed", r
            if r["stop_reason"] == "start_failed":
                assert r["start_error"], r
            if spec.encryption_key is None and not has_deploy:
                assert r["key_attempts"] == 0 and r["kms_wait_s"] == 0, r
        # at every start, the live instances of the current revision stay within max_instances
        for r in rows:
            t = r["requested_at"]
            live = [x for x in live_at(rows, t) if x["revision"] == r["revision"]]
            assert len(live) <= spec.max_instances, (name, t, len(live))
        cold = [r for r in rows[:len(rows) - len(started_warm)]      # the warm rows come last
                if r["ready_at"] is not None and r["requested_at"] >= sc.warmup]
        assert result.summary["runs"][0]["services"][name]["cold_starts"]["count"] == len(cold)
    if sc.warmup == 0:
        assert result.summary["runs"][0]["kms"]["operations"] == len(out.audit)


@contextlib.contextmanager
def deadline(seconds: int):
    """Fail (TimeoutError in the main thread) rather than hang if the block takes longer than `seconds`
    (the tests that start a Dask cluster bound their time with it)."""
    def expired(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
