"""Fault parameters that change over time, as pure functions of simulated time.

Outages, latency changes, quota changes and background load are known from the scenario before the run
starts, so they are plain lookups rather than processes: a key operation asks "what holds at time t?".
Faults that interact with model state (key states, IAM, deploys) apply themselves: see faults.py.
"""
from __future__ import annotations

from dataclasses import dataclass

# The window kinds some lookup of the model consults (kms.py: outages and EKM latency; QuotaSchedule and
# BackgroundLoad below). faults.check_registered refuses a window kind missing here.
CONSULTED_WINDOW_KINDS = frozenset({"kms-outage", "ekm-outage", "ekm-latency", "quota-change",
                                    "kms-background-load", "kms-region-busy"})


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    fault: object


def windows(faults, kind: str) -> list[Window]:
    return [Window(f.at, f.at + f.duration, f) for f in faults if f.kind == kind]


def active(ws: list[Window], t: float, key_id: str | None = None):
    """The latest-starting window in force at t (for key_id, when the fault names a key), or None."""
    found = None
    for w in ws:
        if w.start <= t < w.end and (getattr(w.fault, "key", None) in (None, key_id)):
            found = w.fault
    return found


class QuotaSchedule:
    """Requests per minute of one protection level over time: the base value and `quota-change` faults.

    A change with a duration reverts to the value before it when the duration ends.
    """

    def __init__(self, base: float, faults, field: str):
        self.base = base
        self.changes = [(f.at, None if f.duration is None else f.at + f.duration, getattr(f, field))
                        for f in faults if f.kind == "quota-change" and getattr(f, field, None) is not None]

    def at(self, t: float) -> float:
        value = self.base
        for start, end, rpm in self.changes:
            if start <= t and (end is None or t < end):
                value = rpm
        return value

    def breakpoints(self) -> list[float]:
        return sorted({p for s, e, _ in self.changes for p in (s, e) if p is not None})


class HeadroomSchedule:
    """The soft headroom of an HSM pool over time: kms.quota.soft_headroom, or the `headroom` of the latest
    `kms-region-busy` window in force (the region has no spare capacity meanwhile)."""

    def __init__(self, base: float, faults):
        self.base = base
        self.busy = windows(faults, "kms-region-busy")

    def at(self, t: float) -> float:
        busy = active(self.busy, t)
        return self.base if busy is None else busy.headroom


class BackgroundLoad:
    """Rate (per second) of other consumers of one quota pool (key project, protection level "hsm" or
    "external"): the pool's base rate (kms.quota.background_rps) plus the `kms-background-load` faults on
    that pool (their `pool`, and their `project` or every key project)."""

    def __init__(self, base_rps: float, faults, project: str | None = None, level: str = "hsm"):
        self.base = base_rps
        self.loads = [(f.at, f.at + f.duration, f.rps) for f in faults
                      if f.kind == "kms-background-load" and f.loads(project, level)]

    def rate(self, t: float) -> float:
        return self.base + sum(rps for s, e, rps in self.loads if s <= t < e)

    def pieces(self, a: float, b: float):
        """(start, end, rate) pieces of constant rate covering [a, b)."""
        cuts = sorted({a, b, *(p for s, e, _ in self.loads for p in (s, e) if a < p < b)})
        return [(s, e, self.rate(s)) for s, e in zip(cuts, cuts[1:])]
