"""Quota solver: the smallest Cloud KMS quota that meets service-level objectives with stated confidence.

    python -m sim quota SCENARIO --slo EXPR [--slo EXPR ...] [--confidence 0.95] [--replications N]
                                 [--out DIR] [--workers N] [--protection hsm|external]

The quota varied is the requests per minute of the protection level the scenario's keys use (hsm ->
kms.quota.hsm_requests_per_minute; external and external-vpc -> kms.quota.external_requests_per_minute).
Every level runs the same replications (same seed, same replication indices), so levels are compared on
common random numbers. The search:

1. an unconstrained run (quota 1e9/min) gives the peak demand per enforcement window; converted to
   requests per minute it is the unconstrained peak demand (simulated) reported next to the answer. At or above the largest
   peak of any replication no request is ever refused, so the runs equal the unconstrained ones: if the
   SLOs fail even there, no quota helps and the solver says so.
2. the current quota and the peak demand are tried; then levels are doubled (or halved) until one meets
   the SLOs and one does not, and bisected to ~3% (whole requests per second under per-second enforcement);
3. the answer is rounded up to a tidy number and checked; 80% of it is also run, as evidence.

The bracketing and bisection are sim.study.search (shared with `sim solve`). Levels at or above the largest
peak of any replication are not run: their runs are the unconstrained ones, bit for bit (common random
numbers, nothing refused), so the unconstrained level is reused (`short_cut`; not with quota-change faults
on this quota). Levels run through the study engine (`--workers`, `--scheduler`).

Writes quota.json, quota_report.md and quota_curve.png into --out (default results/<name>-quota/),
atomically.
"""
from __future__ import annotations

from ..slo import Slo, SloError, parse_slo
from .cli import main
from .demand import demand_breakdown, kms_figures
from .files import write_quota
from .report import report_markdown
from .solver import (MAX_DOUBLINGS, RESOLUTION, UNLIMITED_RPM, Level, QuotaError, QuotaResult, Solver, protection_of,
                     quota_field, solve, tidy_steps)

__all__ = ["MAX_DOUBLINGS", "RESOLUTION", "UNLIMITED_RPM", "Level", "QuotaError", "QuotaResult", "Slo", "SloError",
           "Solver", "demand_breakdown", "kms_figures", "main", "parse_slo", "protection_of",
           "quota_field", "report_markdown", "solve", "tidy_steps", "write_quota"]
