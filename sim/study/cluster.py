"""Running a function on an existing Dask distributed cluster (`--scheduler tcp://HOST:PORT`).

Dask is an optional extra: `distributed` is imported only here, and only when a scheduler is given. The
address comes from `--scheduler` or the DASK_SCHEDULER_ADDRESS environment variable (`scheduler_address`).
Calls are submitted in a sliding window (a new one as each finishes) and each future is released once its
result is read, so the client's memory does not grow with the number of calls. If a worker is lost mid-call,
the scheduler reruns the call elsewhere; results are keyed by the caller, so nothing is counted twice.
"""
from __future__ import annotations

import asyncio
import os
import sys
import threading
import time

from .errors import StudyError

ENV = "DASK_SCHEDULER_ADDRESS"
CONNECT_TIMEOUT_S = 10.0                    # how long to try to reach the scheduler before giving up
HANDSHAKE_GRACE_S = 1.0                     # beyond it, for a peer that accepts and then says nothing
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


async def _identity(address: str, timeout: float):
    from distributed.comm import connect as open_comm
    comm = await open_comm(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def check_scheduler(address: str, timeout: float | None = None) -> int:
    """The worker threads of the Dask scheduler at `address`; StudyError (one line) within `timeout` unless
    a Dask scheduler answers there.

    Asked before a Client is made, because the Client trusts its peer: an HTTP server or a silent socket
    makes it wait for ever, and random bytes make it raise whatever it decoded them into."""
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    _check_address(address)
    where = f"the Dask scheduler at {address}"
    try:
        reply = _ask_identity(address, timeout)
    except (asyncio.TimeoutError, TimeoutError):
        raise StudyError(f"{where}: no answer within {timeout:g} s (is it a Dask scheduler?)") from None
    except OSError as exc:
        raise StudyError(f"cannot reach {where} within {timeout:g} s: {_first_line(exc)}") from None
    except Exception:  # noqa: BLE001  whatever a foreign peer's bytes decode into (struct.error, ...)
        raise StudyError(f"{where}: what answers is not a Dask scheduler (it does not speak its protocol)") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise StudyError(f"{where}: what answers is not a Dask scheduler (it is a {_kind(reply)})")
    workers = reply.get("workers")
    return sum(int(w.get("nthreads") or 0) for w in workers.values() if isinstance(w, dict)) \
        if isinstance(workers, dict) else 0


def _ask_identity(address: str, timeout: float):
    """The scheduler's identity reply, asked on a thread of its own (its own event loop, also when the caller
    runs one, as a notebook does), given up on after the timeout whatever the peer does."""
    outcome: dict = {}

    def ask():
        try:   # Dask's own timeout first (a refused connection is retried until then), ours a little later
            outcome["reply"] = asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout + HANDSHAKE_GRACE_S))
        except BaseException as exc:  # noqa: BLE001  handed to the caller
            outcome["error"] = exc
    thread = threading.Thread(target=ask, name="dask-scheduler-check", daemon=True)
    thread.start()
    thread.join(timeout + 2 * HANDSHAKE_GRACE_S)
    if thread.is_alive() or not outcome:
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["reply"]


def _check_address(address: str) -> None:
    """A known scheme and, for network schemes, a host and a port in range; else StudyError at once."""
    import_distributed()                        # the one-line "not installed" first
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
            if not host or not 0 < port < 65536:
                raise ValueError("the port must be 1 to 65535" if host else "no host")
    except ValueError as exc:
        raise StudyError(f"--scheduler {address}: not a scheduler address ({_first_line(exc)}); "
                         "expected tcp://HOST:PORT") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _kind(reply) -> str:
    return str(reply.get("type"))[:40] if isinstance(reply, dict) else type(reply).__name__


def connect(address: str, timeout: float | None = None):
    """A Client of the scheduler at `address`; StudyError (one line) if it cannot be reached in time."""
    distributed = import_distributed()
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    check_scheduler(address, timeout)
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
