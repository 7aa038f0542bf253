"""Running units: in this process, on local processes or on a Dask cluster, each result saved as it finishes.

`run_units` is what every study command calls. Units already in the resume store are yielded from it, not
run; each unit that runs is saved there as soon as it finishes, so an interrupted study keeps its work and the
same command with `--resume` runs only the rest. A unit's result does not depend on where it ran (replication r
always uses the streams of (seed, r)), so 1 worker, N workers, a cluster and the store give identical results.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

from .execute import Job, backend_for, map_on, stream
from .progress import Progress
from .store import Store, fingerprint
from .units import Unit, run_unit, units_for

__all__ = ["run_units", "run_cells", "map_on", "dask_key"]


def dask_key(unit: Unit, fp: str) -> str:
    """The unit's Dask key: the same unit with the same inputs always gets the same key."""
    return f"sim-{unit.key}-{fp[:16]}"


def run_units(units: Iterable[Unit], *, workers: int = 1, scheduler: str | None = None,
              store: Path | None = None, progress: bool = False) -> Iterator[tuple[Unit, dict]]:
    """Yield (unit, run summary) as units finish, in any order.

    workers: local processes; scheduler: a Dask scheduler address (tcp://HOST:PORT), which takes precedence;
    store: a folder where each finished unit is saved, and from which units already there are read, not run;
    progress: one bar on the terminal (stderr, only when it is a terminal).
    `units` may be a generator: it is read only as far as the window of units in flight.
    """
    total = len(units) if hasattr(units, "__len__") else None
    saved = None if store is None else Store(store)
    bar = Progress(total, enabled=progress)
    counts = {"done": 0}

    def jobs():
        for unit in units:
            fp = fingerprint(unit) if (saved is not None or scheduler) else None
            summary = None if saved is None else saved.load(unit, fp)
            if summary is not None:
                yield Job((unit, fp), done=True, result=summary)
            else:
                yield Job((unit, fp), (unit,), dask_key(unit, fp) if scheduler else None)

    backend = backend_for(run_unit, workers, scheduler, units=total)
    try:
        with closing(stream(backend, jobs())) as finished:
            for (unit, fp), summary, ran in finished:
                if ran and saved is not None:
                    saved.save(unit, summary, fp)
                counts["done"] += 1
                bar.advance(ran)
                yield unit, summary
        if saved is not None and saved.rejected:
            bar.close()
            print(f"{len(saved.rejected)} saved unit(s) in {saved.folder} failed their check (damaged or edited: "
                  f"{', '.join(saved.rejected[:3])}{' ...' if len(saved.rejected) > 3 else ''}) and were rerun",
                  file=sys.stderr)
    except KeyboardInterrupt as exc:
        bar.close()
        if saved is not None:
            of = "" if total is None else f" of {total}"
            print(f"{counts['done']}{of} units are saved in {saved.folder}; the same command with --resume "
                  "runs only the rest", file=sys.stderr)
            exc.resume_said = True           # sim.cli says nothing more of it
        raise
    finally:
        bar.close()


def run_cells(scenarios: list, replications: int, *, baseline: bool, workers: int = 1, scheduler: str | None = None,
              progress: bool = False, first_cell: int = 0, store: Path | None = None,
              kernel: str = "auto") -> list[list[dict]]:
    """Each scenario (one cell, numbered from `first_cell`) run `replications` times on paired streams; per
    cell, its run summaries in replication order (for the studies that keep whole summaries: solve, quota,
    sensitivity; a sweep reduces each unit as it arrives instead). store: the resume store, as for run_units;
    kernel: --kernel, carried by every unit."""
    units = [u for i, sc in enumerate(scenarios)
             for u in units_for(sc, first_cell + i, replications, baseline, kernel)]
    done = {(u.cell, u.replication): summary
            for u, summary in run_units(units, workers=workers, scheduler=scheduler, progress=progress,
                                            store=store)}
    return [[done[first_cell + i, r] for r in range(replications)] for i in range(len(scenarios))]
