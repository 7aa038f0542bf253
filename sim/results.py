"""Writing and reading a results folder (the contract is shared/results-reference.md).

Everything is written to a temporary folder and moved into place file by file at the end (sim/output_folder.py),
so a run that fails never leaves a half-written folder, never damages an earlier one and never deletes a file
the program did not write.
"""
from __future__ import annotations

import csv
import json
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import simpy
import yaml

from .model.logs import Clock, audit_entry, run_error_entry
from .model.recorder import COUNTERS, LEVELS
from .output_folder import (  # noqa: F401  (re-exported: the commands import them from here)
    RESULT_MARKERS, OutputFolderError, atomic_folder, check_output_folder,
)

TIMESERIES_COLUMNS = ("time_s", "service", "arrivals", "served", "failed_429", "failed_504", "pending",
                      "in_flight", "instances_starting", "instances_ready", "instances_desired", "cold_starts",
                      "start_failures", "kms_operations", "kms_resource_exhausted", "kms_errors", "key_usable",
                      "failed_shutdown", "instances_parked", "instances_cpu_saturated")
INSTANCE_COLUMNS = ("service", "revision", "instance", "requested_at", "ready_at", "stopped_at", "stop_reason",
                    "start_error", "startup_s", "kms_wait_s", "key_attempts", "schedule_s", "image_fetch_s",
                    "key_operations_s", "container_start_s", "app_init_s", "failed_starts_before")
# Requested operations per reason (starts, validation, deploy, background: admitted or refused), the
# services' refused operations in all (resource_exhausted), the quota per second, then what the quota
# refused per reason (added later, hence after quota_per_second): requested - *_rejected = admitted, and
# the services' operations a kms-outage answered before the quota check (`unavailable`: no quota used),
# then (issue 13) the services' operations admitted but refused by the key, per gRPC code, then (issue 17)
# the services' and the background's requests served over the quota (soft enforcement; part of admitted).
KMS_USAGE_COLUMNS = ("pool", "second", "starts", "validation", "deploy", "background", "resource_exhausted",
                     "quota_per_second", "starts_rejected", "validation_rejected", "deploy_rejected",
                     "background_rejected", "unavailable", "failed_precondition", "permission_denied",
                     "served_over_quota", "background_served_over_quota")
QUOTA_IN_FORCE_COLUMNS = ("pool", "level", "enforcement", "start_s", "end_s", "requests_per_minute",
                          "admitted_per_window", "window_s", "soft_headroom")
FAULT_WINDOW_COLUMNS = ("number", "kind", "target", "start_s", "end_s", "label")
assert set(TIMESERIES_COLUMNS[2:]) == set(COUNTERS) | set(LEVELS)


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(round(v, 9))
    return v


def write_csv(path: Path, columns, rows) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for row in rows:
            w.writerow([_cell(row.get(c)) for c in columns])


def timeseries_rows(timeseries: dict, interval: float):
    for name, cols in timeseries.items():
        n = len(cols["arrivals"])
        for b in range(n):
            yield {"time_s": b * interval, "service": name, **{c: cols[c][b] for c in cols}}


def write_results(result, out_dir: str | Path, plots=None) -> Path:
    """Write the results folder. `plots`: a function that draws into the (still temporary) folder, e.g.
    `sim.plots.write_charts` (the runner passes it), so the charts move into place with the files; None or
    False: no charts. This module does not import sim.plots: the charts read results folders through it."""
    with atomic_folder(out_dir) as tmp:
        _write_all(result, tmp)
        if plots:
            plots(tmp)
    return Path(out_dir).resolve()


def _trace_functions(sc) -> dict:
    """Service name -> the Azure trace functions its replay sums (which functions `top`/`trigger` picked)."""
    return {svc.name: [p.as_dict() for p in svc.traffic.trace.picked]
            for svc in sc.services if svc.traffic.trace is not None and svc.traffic.trace.picked}


def _write_all(result, d: Path) -> None:
    sc = result.scenario
    out0 = result.outputs[0]
    with open(d / "scenario.resolved.yaml", "w") as f:
        yaml.safe_dump(sc.to_resolved_dict(), f, sort_keys=False)
    manifest = {"seed": sc.seed, "replications": result.summary["replications"], "version": _version(),
                "git_commit": _git_commit(), "python": platform.python_version(), "simpy": simpy.__version__,
                "numpy": np.__version__, "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "wall_seconds": round(result.wall_seconds, 3), "baseline": result.baseline0 is not None,
                "kernel": result.kernel}
    picked = _trace_functions(sc)
    if picked:
        manifest["trace_functions"] = picked
    (d / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (d / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n")
    write_csv(d / "timeseries.csv", TIMESERIES_COLUMNS, timeseries_rows(out0.timeseries, sc.timeseries_interval))
    if result.baseline0 is not None:
        write_csv(d / "baseline_timeseries.csv", TIMESERIES_COLUMNS,
                  timeseries_rows(result.baseline0.timeseries, sc.timeseries_interval))
    write_csv(d / "instances.csv", INSTANCE_COLUMNS, out0.instances)
    write_csv(d / "kms_usage.csv", KMS_USAGE_COLUMNS, out0.kms_usage)
    write_csv(d / "fault_events.csv", ("time_s", "kind", "target", "applied"),
              ({"time_s": t, "kind": k, "target": target, "applied": int(ok)} for t, k, target, ok in out0.fault_log))
    write_csv(d / "fault_windows.csv", FAULT_WINDOW_COLUMNS, out0.fault_windows)
    write_csv(d / "quota_in_force.csv", QUOTA_IN_FORCE_COLUMNS, out0.quota_in_force)
    clock = Clock(sc.start_time)
    agent, region, project = sc.project.service_agent, sc.project.region, sc.project.id
    with open(d / "kms_audit.jsonl", "w") as f:
        for n, rec in enumerate(out0.audit):
            f.write(json.dumps(audit_entry(clock, n, rec, project, agent, region)) + "\n")
    with open(d / "run_errors.jsonl", "w") as f:
        for n, rec in enumerate(out0.run_errors):
            f.write(json.dumps(run_error_entry(clock, n, rec, project, region)) + "\n")


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("cmek-sim")
    except Exception:
        return "unknown"


# -- reading ----------------------------------------------------------------------------------------------
def read_summary(folder: str | Path) -> dict:
    return json.loads((Path(folder) / "summary.json").read_text())


def read_csv(path: str | Path, missing_ok: bool = False) -> list[dict]:
    """Rows as dicts, numbers parsed (empty cells become None); [] for a missing file when missing_ok."""
    if missing_ok and not Path(path).exists():
        return []
    def parse(v: str):
        if v == "":
            return None
        try:
            f = float(v)
            return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
        except ValueError:
            return v
    with open(path, newline="") as f:
        return [{k: parse(v) for k, v in row.items()} for row in csv.DictReader(f)]


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# -- reading a whole folder (sim compare, sim report) ----------------------------------------------------
# What kind of folder a marker file says it is, in the order they are looked for.
FOLDER_KINDS = (("summary.json", "run"), ("sweep.json", "sweep"), ("solve.json", "solve"), ("quota.json", "quota"),
                ("sensitivity.json", "sensitivity"), ("compare.json", "compare"))


class ResultsFolderError(Exception):
    """A folder that cannot be read as results; one line, ready to print."""


class ResultsFolder:
    """A results folder as `sim compare` and `sim report` read it: its kind (run, sweep, solve, quota,
    sensitivity, compare), its files by name, and the scenario as resolved when the folder has it."""

    def __init__(self, folder: str | Path):
        self.path = Path(folder)
        if not self.path.is_dir():
            raise ResultsFolderError(f"{folder}: no such folder")
        self.kind = next((kind for marker, kind in FOLDER_KINDS if (self.path / marker).is_file()), None)
        if self.kind is None:
            raise ResultsFolderError(f"{folder}: not a results folder (none of "
                                     f"{', '.join(m for m, _ in FOLDER_KINDS)})")
        self.name = self.path.resolve().name

    def has(self, file: str) -> bool:
        return (self.path / file).is_file()

    def json(self, file: str) -> dict:
        """A JSON file of the folder; ResultsFolderError (one line) when it is missing or damaged."""
        try:
            return json.loads((self.path / file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ResultsFolderError(f"{self.path / file}: cannot be read ({exc.__class__.__name__})") from None

    def text(self, file: str) -> str | None:
        """A text file of the folder (a report it holds); None when absent."""
        return (self.path / file).read_text(encoding="utf-8") if self.has(file) else None

    def rows(self, file: str) -> list[dict]:
        """A CSV file's rows, numbers parsed ([] when the folder does not have it)."""
        return read_csv(self.path / file, missing_ok=True)

    def summary(self) -> dict:
        return self.json("summary.json")

    def manifest(self) -> dict:
        return self.json("manifest.json") if self.has("manifest.json") else {}

    def scenario(self, file: str = "scenario.resolved.yaml") -> dict | None:
        """The resolved scenario (a run's, or a sweep cell's `cells/cell-NNN.yaml`); None when absent."""
        if not self.has(file):
            return None
        try:
            data = yaml.safe_load((self.path / file).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            raise ResultsFolderError(f"{self.path / file}: cannot be read as YAML") from None
        return data if isinstance(data, dict) else None

    def charts(self) -> list[Path]:
        """The folder's PNG charts, by name."""
        return sorted(self.path.glob("*.png"))
