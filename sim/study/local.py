"""Running a function on this machine: in this process, or on a pool of worker processes.

Both are backends of `execute.stream`: `submit(token, args, key)` queues a call, `next_done()` returns
(token, result) of one finished call, `close(cancel)` stops. The pool's workers ignore SIGINT: a Ctrl-C reaches
only this process, which stops them itself (so no worker prints a traceback of its own). A worker whose parent
is gone (`kill -9` of the command) exits by itself within PARENT_CHECK_S: nobody else would stop it.

No more workers start than the work has units, nor than MAX_WORKERS_PER_CORE per core (`usable_workers`): a
process more than the cores only adds memory (about 55 MB each), not speed.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from .errors import StudyError


class InProcess:
    """Calls run one at a time in this process, when their result is asked for."""
    window = 1

    def __init__(self, fn):
        self.fn = fn
        self.queue: deque = deque()

    def submit(self, token, args, key=None) -> None:
        self.queue.append((token, args))

    def next_done(self):
        token, args = self.queue.popleft()
        return token, self.fn(*args)

    def close(self, cancel: bool) -> None:
        self.queue.clear()


MAX_WORKERS_PER_CORE = 2
PARENT_CHECK_S = 0.5


def usable_workers(asked: int, units: int | None = None) -> int:
    """The local worker processes worth starting: at most one per unit and MAX_WORKERS_PER_CORE per core."""
    cap = MAX_WORKERS_PER_CORE * (os.cpu_count() or 1)
    n = min(int(asked or 1), cap)
    if units is not None:
        n = min(n, units)
    return max(1, n)


def _worker_start(parent: int) -> None:
    """In each worker: ignore Ctrl-C (the parent stops the pool) and exit when the parent is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """An orphan is re-parented (to init or a subreaper): its parent id changes, and it exits at once."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


class LocalPool:
    """Worker processes; twice as many calls in flight as workers, so none waits for the next one."""

    def __init__(self, fn, workers: int):
        self.fn, self.workers = fn, workers
        self.window = 2 * workers
        self.pool: ProcessPoolExecutor | None = None       # started at the first call (a resumed study may need none)
        self.futures: dict = {}

    def submit(self, token, args, key=None) -> None:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.workers, initializer=_worker_start,
                                            initargs=(os.getpid(),))
        self.futures[self.pool.submit(self.fn, *args)] = token

    def next_done(self):
        done, _ = wait(self.futures, return_when=FIRST_COMPLETED)
        future = next(iter(done))
        token = self.futures.pop(future)
        try:
            return token, future.result()
        except BrokenProcessPool:
            raise StudyError("a worker process died (out of memory?)") from None

    def close(self, cancel: bool) -> None:
        if self.pool is None:
            return
        if cancel:
            for future in self.futures:
                future.cancel()
            _terminate_workers(self.pool)               # running calls would otherwise finish first
        self.futures.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = None


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    terminate = getattr(pool, "terminate_workers", None)     # Python 3.14+
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()
