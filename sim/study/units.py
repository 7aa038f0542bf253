"""The unit of work of every study: one replication of one cell (a variant of the scenario).

A unit carries the cell's resolved scenario (plain data, so it pickles to a worker process or a Dask
worker) and its replication index; replication r always uses the streams of (seed, r), so a unit's result
does not depend on where or when it runs, and cells are paired (common random numbers).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    cell: int                # index of the cell (sweep cell, solver level, sensitivity arm) in its study
    replication: int
    resolved: dict           # Scenario.to_resolved_dict() of the cell
    source: str              # where the scenario came from, for messages
    base_dir: str | None     # for relative trace paths
    baseline: bool           # also run the fault-free twin (capacity_loss)
    kernel: str = "auto"     # --kernel as the user gave it, resolved where the unit runs; not part of the
                             # unit's identity (store.fingerprint): both request paths give the same results

    @property
    def key(self) -> str:
        """A stable name, used by the resume store."""
        return f"cell{self.cell:05d}-rep{self.replication:04d}"


def units_for(scenario, cell: int, replications: int, baseline: bool = True, kernel: str = "auto") -> list[Unit]:
    resolved = scenario.to_resolved_dict()
    source = str(scenario.source_path or "<scenario>")
    base_dir = None if scenario.base_dir is None else str(scenario.base_dir)
    return [Unit(cell, r, resolved, source, base_dir, baseline, kernel) for r in range(replications)]


def run_unit(unit: Unit) -> dict:
    """The replication's run summary (what summary.json holds under "runs"); a top-level function for workers."""
    from ..runner import run_replication
    out, _twin = run_replication(unit.resolved, unit.source, unit.base_dir, unit.replication, unit.baseline,
                                 kernel=unit.kernel)
    return out.summary


def study_summary(runs: list[dict]) -> dict:
    """Per-replication summaries (in replication order) in the shape slo.assess and the reports read."""
    from ..metrics import aggregate_runs
    return {"replications": len(runs), "runs": runs, "aggregate": aggregate_runs(runs)}
