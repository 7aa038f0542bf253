"""The compiled request path (numba): kernel.py mirrors requests.py and router.py on arrays, path.py gives it
RequestPath's interface, run.py merges its events with SimPy's. kernel_choice.py decides when it runs."""
from __future__ import annotations

import hashlib
from pathlib import Path


# the modules with compiled functions (and the layout their constants come from)
NUMBA_MODULES = ("arrays", "billing", "entry", "events", "kernel", "layout", "recording", "routing", "sharing",
                 "thinning",
                 "../traffic", "../draws")


def _drop_stale_cache() -> None:
    """numba's cache (cache=True) checks each function against its own file only, so after a change to one
    of these files, a function of another that calls it would load stale. One digest of all of them, kept
    beside the cache, throws the whole cache away when any changed."""
    here = Path(__file__).resolve().parent
    sources = [here / f"{name}.py" for name in NUMBA_MODULES]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    cache = here / "__pycache__"
    stamp = cache / "kernel-sources.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for old in cache.glob("*.nb[ic]"):
            old.unlink()
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:                                    # read-only: numba keeps its cache in the user's folder
        pass


_drop_stale_cache()

from . import arrays, billing, entry, events, kernel, recording, routing, sharing, thinning  # noqa: E402
from .instances import KernelInstance, SharedEventIds  # noqa: E402
from .path import CompiledRequestPath  # noqa: E402
from .run import run_until  # noqa: E402
from .thinning import arrival_blocks  # noqa: E402

__all__ = ["CompiledRequestPath", "KernelInstance", "SharedEventIds", "arrival_blocks", "run_until", "warm_up"]

_ready = False


def warm_up() -> bool:
    """Compile the kernel, or load it from numba's cache (`cache=True`: __pycache__ beside these files), by
    running a tiny world through it; True when this call compiled nothing (all from the cache, or an earlier
    call in this process did it), so that the compile is said once."""
    global _ready
    if _ready:
        return True
    from .selftest import exercise
    exercise()
    _ready = True
    return not any(sum(f.stats.cache_misses.values()) for f in _dispatchers())


def _dispatchers():
    modules = (arrays, billing, entry, events, kernel, recording, routing, sharing, thinning)
    return [f for m in modules for f in vars(m).values() if hasattr(f, "stats") and hasattr(f, "py_func")]
