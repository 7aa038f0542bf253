"""Cloud KMS key versions and their states.

States and transitions follow cloud.google.com/kms/docs/key-states: ENABLED <-> DISABLED,
DISABLED/ENABLED -> DESTROY_SCHEDULED -> DESTROYED after the scheduled duration, DESTROY_SCHEDULED ->
DISABLED on restore. Enabling is strongly consistent; a change that makes the key unusable takes
`disable_propagation` seconds to be seen (docs: up to about a minute), so until then the old state holds;
a further unusable change during that delay (disable, then schedule-destroy) does not postpone it.
"""
from __future__ import annotations

from enum import Enum

from .failures import StartFailure


class KeyState(str, Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"
    DESTROY_SCHEDULED = "DESTROY_SCHEDULED"
    DESTROYED = "DESTROYED"


# What a failed start is counted as, per unusable state (summary: instance_starts_failed).
FAILURE_BY_STATE = {
    KeyState.DISABLED: StartFailure.KEY_DISABLED,
    KeyState.DESTROY_SCHEDULED: StartFailure.KEY_DESTROY_SCHEDULED,
    KeyState.DESTROYED: StartFailure.KEY_DESTROYED,
}

_ALLOWED = {
    "key-disable": {KeyState.ENABLED, KeyState.DISABLED},
    "key-enable": {KeyState.ENABLED, KeyState.DISABLED},
    "key-schedule-destroy": {KeyState.ENABLED, KeyState.DISABLED, KeyState.DESTROY_SCHEDULED},
    "key-restore": {KeyState.DESTROY_SCHEDULED, KeyState.DISABLED},
    "key-destroy": set(KeyState) - {KeyState.DESTROYED},
}


class KeyVersion:
    """The primary version of one scenario key, with eventual consistency of disabling."""

    def __init__(self, spec, propagation_s: float):
        self.spec = spec
        self.id = spec.id
        self.name = spec.name
        self.version_name = f"{spec.name}/cryptoKeyVersions/1"
        self.protection = spec.protection
        self.is_external = spec.protection in ("external", "external-vpc")
        self.propagation_s = propagation_s
        self.state = KeyState.ENABLED
        self._seen_state = KeyState.ENABLED   # what operations see until `_seen_from`
        self._seen_from = 0.0
        self.destroy_at: float | None = None

    def state_at(self, t: float) -> KeyState:
        """The state key operations observe at time t."""
        return self.state if t >= self._seen_from else self._seen_state

    def usable_at(self, t: float) -> bool:
        return self.state_at(t) is KeyState.ENABLED

    def apply(self, kind: str, t: float) -> bool:
        """Apply a key fault; False (and no change) when the transition is not allowed from this state."""
        if self.state not in _ALLOWED[kind]:
            return False
        target = {"key-disable": KeyState.DISABLED, "key-enable": KeyState.ENABLED,
                  "key-schedule-destroy": KeyState.DESTROY_SCHEDULED, "key-restore": KeyState.DISABLED,
                  "key-destroy": KeyState.DESTROYED}[kind]
        self.set_state(target, t)
        self.destroy_at = (t + self.spec.destroy_scheduled_duration
                           if target is KeyState.DESTROY_SCHEDULED else None)
        return True

    def set_state(self, target: KeyState, t: float) -> None:
        if target is self.state:
            return                     # no change: a second disable must not postpone the first one's visibility
        seen_now = self.state_at(t)
        if seen_now is KeyState.ENABLED and target is not KeyState.ENABLED and self.state is not KeyState.ENABLED:
            self.state = target        # a change to unusable is already propagating: it is not postponed
            return
        delay = self.propagation_s if (seen_now is KeyState.ENABLED and target is not KeyState.ENABLED) else 0.0
        self._seen_state = seen_now
        self._seen_from = t + delay
        self.state = target
