"""Faults that change model state, each a small process acting at its time.

Faults are data (`{at, kind, ...}` in the scenario). Key faults change the key version through its one
method (`KeyVersion.apply`), IAM faults flip the service agent's permission, a deploy runs the service's
deploy. Outages, latency and quota changes and background load need no process: see schedule.py.
"""
from __future__ import annotations

from .keys import KeyState

KEY_FAULTS = {"key-disable", "key-enable", "key-schedule-destroy", "key-restore", "key-destroy"}


def start_fault_processes(world) -> None:
    for fault in world.scenario.faults:
        if fault.kind in KEY_FAULTS or fault.kind in ("iam-revoke", "iam-grant", "deploy"):
            world.env.process(_apply_at(world, fault))


def _apply_at(world, fault):
    env = world.env
    yield env.timeout(fault.at)
    if fault.kind in KEY_FAULTS:
        key = world.keys[fault.key]
        applied = key.apply(fault.kind, env.now)
        world.fault_log.append((env.now, fault.kind, fault.key, applied))
        if applied and fault.kind == "key-schedule-destroy":
            env.process(_destroy_when_due(world, key, key.destroy_at))
    elif fault.kind in ("iam-revoke", "iam-grant"):
        world.services[fault.service].iam_granted = fault.kind == "iam-grant"
        world.fault_log.append((env.now, fault.kind, fault.service, True))
    else:
        world.fault_log.append((env.now, fault.kind, fault.service, True))
        yield from world.services[fault.service].deploy(fault)


def _destroy_when_due(world, key, due: float):
    """DESTROY_SCHEDULED becomes DESTROYED after the key's scheduled duration, unless restored first."""
    yield world.env.timeout(due - world.env.now)
    if key.state is KeyState.DESTROY_SCHEDULED and key.destroy_at == due:
        key.set_state(KeyState.DESTROYED, world.env.now)
        key.destroy_at = None
        world.fault_log.append((world.env.now, "key-destroyed", key.id, True))
