"""The golden cases: shipped scenarios at a short horizon, covering each kind of result.

steady (no key), kms-quota-burst (RESOURCE_EXHAUSTED under quota pressure), key-disabled (a key fault, a
failed deploy and the fault-free twin), ekm-outage-non-retryable (the revocation countdown shutting
instances down), key-rotation-deploy (a deploy to a new key). Each runs with two replications, so the
aggregate is pinned too. Overrides shorten the runs; every fault of the file stays inside the horizon.
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent

CASES = {
    "steady": {"duration": "10m", "warmup": "1m", "replications": 2},
    "kms-quota-burst": {"duration": "25m", "replications": 2},
    "key-disabled": {"duration": "55m", "replications": 2, "timeseries_interval": "30s"},
    "ekm-outage-non-retryable": {"duration": "90m", "replications": 2, "timeseries_interval": "60s",
                                 "services.0.shutdown_after": "20m"},
    "key-rotation-deploy": {"duration": "40m", "replications": 2, "timeseries_interval": "30s"},
}
# Files whose bytes are pinned by a digest (the summary is pinned value by value).
DIGESTED = ("timeseries.csv", "baseline_timeseries.csv", "instances.csv", "kms_audit.jsonl", "run_errors.jsonl",
            "kms_usage.csv", "fault_events.csv")


def produce(name: str, kernel: str = "python") -> dict:
    """Run one case on a request path (--kernel) and return {"summary": ..., "digests": {file: sha256}} of its
    results folder. The pinned files are the Python path's; the compiled one must give them too."""
    from sim.results import write_results
    from sim.runner import run
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", CASES[name])
    result = run(scenario, kernel=kernel)
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_results(result, Path(tmp) / name, plots=False)
        summary = json.loads((folder / "summary.json").read_text())
        digests = {f: hashlib.sha256((folder / f).read_bytes()).hexdigest()
                   for f in DIGESTED if (folder / f).exists()}
    return {"summary": summary, "digests": digests}


def golden_path(name: str) -> Path:
    return GOLDEN_DIR / f"{name}.json"
