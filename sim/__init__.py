"""cmek-sim: a discrete-event simulator of Cloud Run services whose images use a CMEK key.

The small public API; see docs/ARCHITECTURE.md for the modules behind it. Names are imported when first
used (PEP 562), so that `import sim.scenario` (and `python -m sim validate|schema`) does not load the
runner and its SimPy, SciPy and matplotlib.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .runner import RunResult, run, sweep
    from .scenario import ScenarioError, load_scenario, scenario_from_dict, with_updates

_HOMES = {"RunResult": "sim.runner", "run": "sim.runner", "sweep": "sim.runner",
          "ScenarioError": "sim.scenario", "load_scenario": "sim.scenario", "scenario_from_dict": "sim.scenario",
          "with_updates": "sim.scenario"}

__all__ = ["RunResult", "ScenarioError", "load_scenario", "run", "scenario_from_dict", "sweep", "with_updates"]


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # next time, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
