"""Running a function on an existing Dask distributed cluster (`--scheduler tcp://HOST:PORT`).

Dask is an optional extra: `distributed` is imported only here, and only when a scheduler is given. The
address comes from `--scheduler` or the DASK_SCHEDULER_ADDRESS environment variable (`scheduler_address`).
Calls are submitted in a sliding window (a new one as each finishes) and each future is released once its
result is read, so the client's memory does not grow with the number of calls. If a worker is lost mid-call,
the scheduler reruns the call elsewhere; results are keyed by the caller, so nothing is counted twice.
"""
from __future__ import annotations

import os
import sys
import time

from .errors import StudyError

ENV = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT_S = 10.0                    # how long to try to reach the scheduler before giving up
RESIZE_S = 5.0                              # how often the window follows workers joining or leaving
INSTALL = "pip install -e '.[dask]'"


def add_scheduler_argument(parser) -> None:
    parser.add_argument("--scheduler", metavar="ADDR",
                        help=f"run on a Dask cluster, e.g. tcp://10.0.0.5:8786 (default: ${ENV} if set)")


def scheduler_address(value: str | None = None) -> str | None:
    """The scheduler to use: `value` (from --scheduler; an args namespace works too), else $DASK_SCHEDULER_ADDRESS."""
    if value is not None and not isinstance(value, str):
        value = getattr(value, "scheduler", None)
    value = (value or os.environ.get(ENV) or "").strip()
    return value or None


def import_distributed():
    try:
        import distributed
    except ImportError:
        raise StudyError(f"a Dask scheduler was given but Dask is not installed: {INSTALL}") from None
    return distributed


def connect(address: str, timeout: float | None = None):
    """A Client of the scheduler at `address`; StudyError (one line) if it cannot be reached in time."""
    distributed = import_distributed()
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyError(f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {reason}") from None
    if not client.nthreads():
        print(f"the Dask scheduler at {address} has no worker yet: waiting for one", file=sys.stderr)
    return client


class DaskBackend:
    """A backend of `execute.stream` on a Dask cluster (connected at the first call)."""

    def __init__(self, fn, address: str):
        self.fn, self.address = fn, address
        self.client = None
        self.completed = None
        self.futures: dict = {}
        self.window = 1
        self.sized_at = 0.0

    def submit(self, token, args, key=None) -> None:
        if self.client is None:
            distributed = import_distributed()
            self.client = connect(self.address)
            self.completed = distributed.as_completed(loop=self.client.loop)
            self.resize()
        future = self.client.submit(self.fn, *args, key=key, pure=key is None)
        self.futures[future] = token
        self.completed.add(future)

    def resize(self) -> None:
        """Every worker thread busy, with one call queued behind it (at least 4 in flight)."""
        self.sized_at = time.monotonic()
        self.window = max(4, 2 * sum(self.client.nthreads().values()))

    def next_done(self):
        future = next(self.completed)
        token = self.futures.pop(future)
        if time.monotonic() - self.sized_at > RESIZE_S:
            self.resize()
        try:
            return token, future.result()
        except import_distributed().KilledWorker:
            raise StudyError(f"{future.key}: every worker that ran it died (out of memory?)") from None
        finally:
            future.release()                           # the scheduler may forget it: memory stays flat

    def close(self, cancel: bool) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if cancel and self.futures:
                client.cancel(list(self.futures), force=True)
        finally:
            self.futures.clear()
            if self.completed is not None:
                self.completed.clear()
            client.close(timeout=CONNECT_TIMEOUT_S)
