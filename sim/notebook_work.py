"""What a notebook of notebooks/ simulates, for the work estimate of `sim notebook` (issue 18.13, 19.12).

Each notebook runs the planner's scenario a known number of times, given its parameters (the defaults of its
cell tagged `parameters`, then the values injected): `runs(name, scenario, parameters)` returns the
scenarios to estimate (one per run of the scenario, each with its replications), whether their fault-free
twins run, and the workers. A notebook not listed here is counted as one `sim run` of the scenario.
"""
from __future__ import annotations

import ast

from .estimate import QUOTA_LEVELS

FAULT_TOURS = 11             # fault_tour: one run (and its twin) per fault kind it shows
SOLVE_LEVELS = 8             # outage_study: levels `sim solve` typically runs on min_instances


def defaults(declared: dict) -> dict:
    """The notebook's own parameter values (papermill gives their source text); None when not a literal."""
    values = {}
    for name, spec in declared.items():
        try:
            values[name] = ast.literal_eval(spec.get("default", "None"))
        except (ValueError, SyntaxError):
            values[name] = None
    return values


def _count(text, fallback: int = 1) -> int:
    return len(str(text).split(",")) if text else fallback


def _whole(value, fallback: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else fallback


def runs(name: str, scenario, values: dict) -> tuple[list, bool, int]:
    """(scenarios, one per replication to run; baseline; workers) of notebook `name` on `scenario`."""
    reps = _whole(values.get("replications"), scenario.replications)
    workers = _whole(values.get("workers"), 1)
    if name == "quota_increase_justification":     # the current quota, the solver's levels, the raised quota
        return [scenario] * ((QUOTA_LEVELS + 2) * reps), False, workers
    if name == "outage_study":                       # a sweep, a solve, a sensitivity study
        from .study.sensitivity_arms import build_arms
        cells = _count(values.get("outage_lengths")) * _count(values.get("min_instances"))
        arms = build_arms(scenario, "requests.failed_fraction").cells
        return ([scenario] * (cells + SOLVE_LEVELS) + list(arms)) * reps, True, workers
    if name == "fault_tour":
        return [scenario] * FAULT_TOURS, True, 1
    return [scenario] * reps, True, workers
