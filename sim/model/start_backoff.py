"""The failed-start back-off, kept per missing instance ("slot"), the way Kubernetes backs off per pod.

An instance whose start fails leaves a slot behind: the instance the service still misses. A slot whose
start has failed k times in a row waits min(max, initial x 2^(k-1)) x a jitter factor after its k-th
failure, and never less than until the autoscaler's next decision. A new start takes a slot whose wait is
over (the start inherits its count of failures) or, when no slot is waiting, a fresh one; a start that
succeeds ends its slot, so the back-off resets. When the autoscaler wants fewer instances, surplus slots
vanish, the ones with the longest wait first.

Why per slot: counted per service, starts that fail together in parallel pushed one counter to the cap, so a
20-second key problem became a 6-minute outage (issue 17). Kubernetes keys its restart and image-pull
back-off per pod (10 s doubling to 300 s, reset after success); a ReplicaSet counts one failed sync as one
failure, not one per pod. The jitter (an assumption, `failed_start_backoff.jitter`) keeps the retries of a
wave of failed starts out of one quota second.
"""
from __future__ import annotations

import math

import numpy as np


class StartBackoff:
    def __init__(self, initial: float, cap: float, jitter: float, interval: float, rng: np.random.Generator):
        self.initial = initial
        self.cap = cap
        self.jitter = jitter
        self.interval = interval                  # the autoscaler's decisions come every `interval`
        self._rng = rng
        self._slots: list[list[float]] = []       # [retry_at, failures in a row], in the order they failed

    def __len__(self) -> int:
        return len(self._slots)

    def failed(self, now: float, failures_before: int) -> float:
        """A start that had failed `failures_before` times in a row failed once more: its slot waits.
        Returns the time the slot may start again."""
        k = failures_before + 1
        wait = min(self.cap, self.initial * 2.0 ** min(k - 1, 60))
        if self.jitter > 0:                        # a draw only when asked for: jitter 0 draws nothing
            wait *= 1.0 + self.jitter * (2.0 * self._rng.random() - 1.0)
        next_decision = (math.floor(now / self.interval + 1e-9) + 1) * self.interval
        retry_at = max(now + wait, next_decision)
        self._slots.append([retry_at, k])
        return retry_at

    def waiting(self, now: float) -> int:
        """Slots still backing off at `now`."""
        return sum(1 for retry_at, _ in self._slots if retry_at > now + 1e-9)

    def take(self, now: float, fresh: bool) -> int | None:
        """A start goes ahead on a slot: the failures in a row of the slot it takes (the ready slot that
        failed most often, then the one that has waited longest), else 0 for a fresh slot when `fresh`
        (the autoscaler counted the waiting slots already) or when no slot is waiting; None: every slot is
        backing off, and so is this start (an on-demand start never adds to the instances waited for)."""
        ready = [s for s in self._slots if s[0] <= now + 1e-9]
        if ready:
            slot = max(ready, key=lambda s: (s[1], -s[0]))
            self._slots.remove(slot)
            return int(slot[1])
        return 0 if fresh or not self._slots else None

    def keep_at_most(self, n: int) -> None:
        """The autoscaler misses only n instances: surplus slots vanish, the longest waits first."""
        if len(self._slots) > n:
            self._slots.sort(key=lambda s: s[0])
            del self._slots[max(0, n):]
