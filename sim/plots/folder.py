"""Reading a results folder for the charts: names, duration and bins from scenario.resolved.yaml, and the
result files (time series, instances, KMS usage, fault windows, quota in force). Model logic is never
re-derived here: a folder written by an older version, without fault_windows.csv or quota_in_force.csv,
gives no fault windows and no quota line."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..results import ResultsFolder, read_csv


def read_rows(path: Path) -> list[dict]:
    """CSV rows as dicts with numbers parsed and empty cells as None ([] when the file is missing)."""
    return read_csv(path, missing_ok=True)


@dataclass
class FaultWindow:
    number: int
    kind: str
    start: float
    end: float | None          # None: an instant (deploy, or a fault that had no effect)
    label: str


@dataclass
class Folder:
    """What the charts need from a results folder."""
    path: Path
    name: str
    duration: float
    interval: float
    services: list             # service names, in the scenario's order
    summary: dict
    baseline: bool
    warmup: float = 0.0        # the summary's figures count from here on; the charts draw the whole run

    @classmethod
    def read(cls, folder) -> "Folder":
        path = Path(folder)
        results = ResultsFolder(path)
        scenario, summary, manifest = results.scenario(), results.summary(), results.manifest()
        baseline = results.has("baseline_timeseries.csv") and manifest.get("baseline", True)
        return cls(path, scenario["name"], float(scenario["duration"]), float(scenario["timeseries_interval"]),
                   [s["name"] for s in scenario["services"]], summary, bool(baseline),
                   float(scenario.get("warmup") or 0.0))

    def rows(self, file: str) -> list[dict]:
        return read_rows(self.path / file)

    def has(self, file: str) -> bool:
        return (self.path / file).exists()

    def series(self, file: str = "timeseries.csv") -> dict[str, dict[str, np.ndarray]]:
        """service -> column -> values per bin (plus "t", the bin start), in the scenario's service order."""
        out: dict[str, dict[str, list]] = {name: {} for name in self.services}
        for row in self.rows(file):
            cols = out.setdefault(row["service"], {})
            for k, v in row.items():
                if k != "service":
                    cols.setdefault(k, []).append(0.0 if v is None else v)
        return {name: {("t" if k == "time_s" else k): np.asarray(v, float) for k, v in cols.items()}
                for name, cols in out.items() if cols}

    def quota_in_force(self) -> dict[str, list[dict]]:
        """pool -> its quota_in_force.csv rows ({} for a folder without the file)."""
        out: dict[str, list[dict]] = {}
        for r in self.rows("quota_in_force.csv"):
            out.setdefault(str(r["pool"]), []).append(r)
        return out


def fault_windows(folder: Folder) -> list[FaultWindow]:
    """The fault windows of fault_windows.csv ([] for a folder without the file)."""
    return [FaultWindow(int(r["number"]), r["kind"], float(r["start_s"]),
                        None if r["end_s"] is None else float(r["end_s"]), str(r["label"]))
            for r in folder.rows("fault_windows.csv")]
