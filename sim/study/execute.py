"""Calling one function over many arguments, in this process, on local worker processes or on a Dask cluster.

`stream` keeps a bounded window of calls in flight and pulls the next job only when one finishes, so memory
does not grow with the number of jobs (a generator of jobs is never read ahead more than the window).
`map_on` is the ordered map `sim run` uses for its replications. Neither knows what a unit or a scenario is.
"""
from __future__ import annotations

import itertools
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from .local import InProcess, LocalPool, usable_workers


@dataclass
class Job:
    tag: Any                       # what the caller gets back with the result
    args: tuple = ()
    key: str | None = None         # the Dask key (None: Dask derives one from the function and arguments)
    done: bool = False             # already known (read from a store): yielded as it is, not run
    result: Any = None


def backend_for(fn, workers: int = 1, scheduler: str | None = None, units: int | None = None):
    """Where calls of `fn` run: the Dask cluster at `scheduler`, else `workers` local processes (no more than
    the `units` of work and MAX_WORKERS_PER_CORE per core), else here."""
    if scheduler:
        from .cluster import DaskBackend       # imports distributed only when a scheduler is given
        return DaskBackend(fn, scheduler)
    workers = usable_workers(workers, units)
    if workers > 1:
        return LocalPool(fn, workers)
    return InProcess(fn)


def stream(backend, jobs):
    """Yield (tag, result, ran) as jobs finish, in any order; `ran` is False for jobs that came done.

    On an exception, an interrupt or the consumer closing the generator early, pending calls are cancelled
    and the backend shut down before it propagates.
    """
    jobs = iter(jobs)
    pending: dict = {}
    tokens = itertools.count()
    more, finished = True, False
    try:
        while True:
            while more and (not pending or len(pending) < backend.window):
                job = next(jobs, None)
                if job is None:
                    more = False
                elif job.done:
                    yield job.tag, job.result, False
                else:
                    token = next(tokens)
                    pending[token] = job.tag
                    backend.submit(token, job.args, job.key)
            if not pending:
                finished = True
                return
            token, result = backend.next_done()
            yield pending.pop(token), result, True
    finally:
        backend.close(cancel=not finished)


def map_on(fn, args_list, *, workers: int = 1, scheduler: str | None = None) -> list:
    """[fn(*args) for args in args_list], computed in parallel where asked, returned in order."""
    args_list = [tuple(args) for args in args_list]
    results: list = [None] * len(args_list)
    backend = backend_for(fn, workers, scheduler, units=len(args_list))
    with closing(stream(backend, (Job(i, args) for i, args in enumerate(args_list)))) as calls:
        for i, result, _ in calls:
            results[i] = result
    return results
