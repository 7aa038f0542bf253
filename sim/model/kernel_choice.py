"""Which request path a run uses: the pure-Python reference (requests.py) or the compiled kernel
(compiled/, numba). Both give the same results; the compiled one is faster at high request rates.

`--kernel auto | python | compiled` on every simulating command: auto takes the compiled kernel when numba
loads and the scenario is one it runs (random routing draws from numpy per request, which the kernel does
not mirror: those services run on the Python path).
"""
from __future__ import annotations

import functools
import time

CHOICES = ("auto", "python", "compiled")


class KernelUnavailable(ValueError):
    """`--kernel compiled` was asked for where it cannot run (one line for the user)."""


@functools.lru_cache(maxsize=1)
def numba_problem() -> str | None:
    """None when the compiled kernel loads here, else why not (one line)."""
    try:
        import numba  # noqa: F401
        from . import compiled  # noqa: F401
    except Exception as exc:                       # any import failure means: use the Python path
        return f"numba does not load here ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
    return None


def numba_version() -> str | None:
    """numba's version when the compiled kernel loads here, else None."""
    if numba_problem() is not None:
        return None
    import numba
    return numba.__version__


@functools.lru_cache(maxsize=1)
def warm_up_report() -> tuple[float, bool] | None:
    """Load and compile the compiled kernel once in this process: (seconds it took, whether numba loaded it
    from its disk cache), or None where it does not load (the Python path). `sim.model.compiled.warm_up()`,
    when the package has one, compiles its functions and returns True when they all came from numba's cache
    (cache=True: a later process only loads them). The commands call this once before the work: their line
    says the time, and worker processes then find the cache warm."""
    if numba_problem() is not None:
        return None
    from . import compiled
    started = time.perf_counter()
    ready = getattr(compiled, "warm_up", None)
    cached = ready() is True if ready is not None else False
    return time.perf_counter() - started, cached


def warm_up() -> float | None:
    """The seconds loading and compiling the compiled kernel took in this process (once; None: python)."""
    report = warm_up_report()
    return None if report is None else report[0]


def scenario_problem(scenario) -> str | None:
    """None when the compiled kernel can run every service of `scenario`, else why not."""
    random = [s.name for s in scenario.services if s.routing == "random"]
    if random:
        return f"routing: random (service {random[0]}) draws per request; the compiled kernel does not run it"
    return None


def resolve(choice: str, scenario) -> str:
    """'python' or 'compiled' for `scenario`; KernelUnavailable when 'compiled' is asked for and cannot run."""
    if choice not in CHOICES:
        raise KernelUnavailable(f"--kernel must be one of {', '.join(CHOICES)}, got {choice!r}")
    if choice == "python":
        return "python"
    problem = numba_problem() or scenario_problem(scenario)
    if problem is None:
        return "compiled"
    if choice == "compiled":
        raise KernelUnavailable(f"--kernel compiled: {problem}")
    return "python"
