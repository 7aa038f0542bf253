"""Running units: local processes or a Dask cluster, each result saved as it finishes (resume).

STUB on main (sequential, no store): the engine helper replaces the body, keeping this signature.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from .units import Unit, run_unit


def run_units(units: Iterable[Unit], *, workers: int = 1, scheduler: str | None = None,
              store: Path | None = None, progress: bool = False) -> Iterator[tuple[Unit, dict]]:
    """Yield (unit, run summary) as units finish, in any order.

    workers: local processes; scheduler: a Dask scheduler address (tcp://HOST:PORT), which takes precedence;
    store: a folder where each finished unit is saved, and from which units already there are read, not run;
    progress: one bar on the terminal (stderr, only when it is a terminal).
    """
    for unit in units:
        yield unit, run_unit(unit)
