"""The compiled request path (numba): kernel.py mirrors requests.py and router.py on arrays, path.py gives it
RequestPath's interface, run.py merges its events with SimPy's. kernel_choice.py decides when it runs."""
from __future__ import annotations

from . import kernel
from .instances import KernelInstance, SharedEventIds
from .path import CompiledRequestPath
from .run import run_until

__all__ = ["CompiledRequestPath", "KernelInstance", "SharedEventIds", "run_until", "warm_up"]

_from_cache: bool | None = None


def warm_up() -> bool:
    """Compile the kernel, or load it from numba's cache (`cache=True`: __pycache__ beside these files),
    once per process, by running a tiny world through it; True when nothing had to be compiled."""
    global _from_cache
    if _from_cache is None:
        from .selftest import exercise
        exercise()
        _from_cache = not any(sum(f.stats.cache_misses.values()) for f in _dispatchers())
    return _from_cache


def _dispatchers():
    return [f for f in vars(kernel).values() if hasattr(f, "stats") and hasattr(f, "py_func")]
