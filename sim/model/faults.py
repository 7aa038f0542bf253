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
    faults = _registered(world.scenario.faults)
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


# TEMPORARY, until the fault classes carry effect/target/apply (the registry branch): the same dispatch.
_KEY_KINDS = {"key-disable", "key-enable", "key-schedule-destroy", "key-restore", "key-destroy"}


class _Legacy:
    def __init__(self, f):
        self.f, self.kind, self.at = f, f.kind, f.at
        self.effect = "state" if f.kind in _KEY_KINDS | {"iam-revoke", "iam-grant", "deploy"} else "window"
        self.target = getattr(f, "key", None) or getattr(f, "service", None) or ""

    def apply(self, world):
        f = self.f
        if f.kind in _KEY_KINDS:
            return world.change_key_state(f.key, f.kind)
        if f.kind in ("iam-revoke", "iam-grant"):
            return world.set_iam(f.service, granted=f.kind == "iam-grant")
        return world.deploy(f.service, f)


def _registered(faults):
    return [f if hasattr(f, "effect") else _Legacy(f) for f in faults]
