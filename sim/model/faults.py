"""Faults acting on the model: each state-changing fault applies itself at its time.

Faults are data (`{at, kind, ...}`); their classes (sim/scenario/faults.py) form a registry: a "state" kind
changes the world at `at` through `fault.apply(world)` (key states, the IAM binding, deploys), a "window"
kind changes nothing at a time and is consulted by a lookup instead (schedule.py: outages, latency,
quota changes, background load). `check_registered` refuses, before a run, a kind the model would not
handle, so no fault is ever silently ignored.
"""
from __future__ import annotations

import inspect

from .records import FaultEvent
from .schedule import CONSULTED_WINDOW_KINDS


def check_registered(faults) -> None:
    for fault in faults:
        if fault.effect == "window" and fault.kind not in CONSULTED_WINDOW_KINDS:
            raise NotImplementedError(f"fault kind {fault.kind}: no lookup of the model consults its windows")
        if fault.effect == "state" and not callable(getattr(fault, "apply", None)):
            raise NotImplementedError(f"fault kind {fault.kind}: no apply(world)")


def start_fault_processes(world) -> None:
    faults = world.scenario.faults
    check_registered(faults)
    for fault in faults:
        if fault.effect == "state":
            world.env.process(_apply_at(world, fault))


def _apply_at(world, fault):
    env = world.env
    yield env.timeout(fault.at)
    outcome = fault.apply(world)
    if inspect.isgenerator(outcome):           # a process (a deploy): logged as it begins
        world.log_fault(FaultEvent(env.now, fault.kind, fault.target, True))
        yield from outcome
    else:
        world.log_fault(FaultEvent(env.now, fault.kind, fault.target, bool(outcome)))

