"""Know the cost before paying it: every command that simulates estimates its work first (issue 10, point 8).

STUB on main so the study commands can call it while it is being written; the estimate helper replaces the
bodies, keeping these names and signatures.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

DEFAULT_LIMIT_HOURS = 24.0


@dataclass
class Estimate:
    requests: float          # simulated requests over every scenario, replication and fault-free twin
    wall_seconds: float      # expected wall time on this machine, with the given number of workers

    def line(self) -> str:
        return f"estimate: {self.requests:,.0f} simulated requests, about {self.wall_seconds:,.0f} s of wall time"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--yes` and `--max-hours` on a command that simulates."""
    parser.add_argument("--yes", action="store_true", help="run even when the estimate exceeds --max-hours")
    parser.add_argument("--max-hours", type=float, default=DEFAULT_LIMIT_HOURS, metavar="H",
                        help=f"refuse work estimated above H hours of wall time ({DEFAULT_LIMIT_HOURS:g})")


def estimate(scenarios, replications: int, *, workers: int = 1, baseline: bool = True) -> Estimate:
    """The work of running each scenario (a list: one per cell or level) `replications` times."""
    return Estimate(0.0, 0.0)


def check_work(scenarios, replications: int, args, *, workers: int = 1, baseline: bool = True,
               quiet: bool = False) -> str | None:
    """Print the estimate (stderr, unless quiet); a one-line refusal when it exceeds args.max_hours and not args.yes."""
    return None
