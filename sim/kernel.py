"""`--kernel auto | python | compiled` on the commands that simulate: the option and the lines that say which
request path runs (sim/model/kernel_choice.py decides it; estimate.check_work refuses an impossible choice
before any work, as it refuses too much work).

The user's choice travels as it is ('auto' stays 'auto') from the command through the runner and the study
engine's units to every World, in worker processes and on Dask workers too (an argument, not an environment
variable: a Dask worker is another machine). Each process resolves it itself; the results are the same
either way, so a unit's identity in the resume store does not include it.
"""
from __future__ import annotations

from .model import kernel_choice

DEFAULT = "auto"


def add_argument(parser) -> None:
    parser.add_argument("--kernel", choices=kernel_choice.CHOICES, default=DEFAULT,
                        help="the request path: compiled (numba) where it loads and the scenario allows it, else "
                             "python (auto, the default); python; or compiled (refused where it cannot run). "
                             "The results are the same; the compiled one is faster at high request rates")


def kernel_of(args) -> str:
    """The --kernel of a command's arguments (the default for a namespace without one)."""
    return getattr(args, "kernel", None) or DEFAULT


def resolve_all(choice: str, scenarios) -> list[str]:
    """The request path of each scenario in this process; KernelUnavailable (one line) when `compiled` is
    asked for and cannot run one of them."""
    return [kernel_choice.resolve(choice, scenario) for scenario in scenarios]


def request_path_line(choice: str, scenario) -> str:
    """`request path: compiled (numba 0.68.1)`, or python and why."""
    if kernel_choice.resolve(choice, scenario) == "compiled":
        return f"request path: compiled (numba {kernel_choice.numba_version()})"
    if choice == "python":
        return "request path: python (--kernel python)"
    why = kernel_choice.numba_problem() or kernel_choice.scenario_problem(scenario)
    return f"request path: python (auto: {why})"


_said = False                # the compile is said once per process, by the first command after it


def ready_line() -> str | None:
    """`compiled kernel ready in 41.3 s (compiled once; numba keeps it for later runs)` after numba compiled
    the kernel in this process, once; None when numba loaded it from its disk cache (nothing worth saying),
    once said, and where it does not load."""
    global _said
    report = kernel_choice.warm_up_report()
    if report is None or report[1] or _said:
        return None
    _said = True
    return f"compiled kernel ready in {report[0]:.1f} s (compiled once; numba keeps it for later runs)"
