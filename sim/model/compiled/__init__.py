"""The compiled request path (numba): kernel.py mirrors requests.py and router.py on arrays, path.py gives it
RequestPath's interface, run.py merges its events with SimPy's. kernel_choice.py decides when it runs."""
from __future__ import annotations

import time

from . import kernel
from .path import CompiledRequestPath, KernelInstance, SharedEventIds
from .run import run_until

__all__ = ["CompiledRequestPath", "KernelInstance", "SharedEventIds", "run_until", "warm_up"]

_ready_in: float | None = None


def warm_up() -> float:
    """Compile (or load from numba's cache) the kernel once per process; the seconds it took the first time."""
    global _ready_in
    if _ready_in is None:
        started = time.perf_counter()
        from .selftest import exercise
        exercise()
        _ready_in = time.perf_counter() - started
    return _ready_in
