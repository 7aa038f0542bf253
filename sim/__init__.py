"""cmek-sim: a discrete-event simulator of Cloud Run services whose images use a CMEK key.

The small public API; see docs/ARCHITECTURE.md for the modules behind it.
"""
from .runner import RunResult, run, sweep
from .scenario import ScenarioError, load_scenario, scenario_from_dict, with_updates

__all__ = ["RunResult", "ScenarioError", "load_scenario", "run", "scenario_from_dict", "sweep", "with_updates"]
