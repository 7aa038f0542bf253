"""One container instance: its lifecycle state and what instances.csv records about it."""
from __future__ import annotations

from collections import deque
from enum import Enum


class InstanceState(Enum):
    STARTING = "starting"
    READY = "ready"
    STOPPED = "stopped"


class Instance:
    __slots__ = ("id", "revision", "seq", "state", "in_flight", "requests", "routable", "in_heap",
                 "retiring", "parked", "requested_at", "ready_at", "stopped_at", "stop_reason", "start_error",
                 "startup_s", "kms_wait_s", "key_attempts", "phases", "idle_since", "idle_timer_armed", "busy_since",
                 "billed_until", "billing_busy", "failed_starts_before", "container_started_at",
                 "ps_v", "ps_t", "ps_heap", "ps_deadlines", "ps_gen", "ps_at", "ps_on")

    def __init__(self, id_: int, revision, requested_at: float):
        self.id = id_
        self.revision = revision
        self.seq = 0                    # order of becoming ready (newest-first routing)
        self.state = InstanceState.STARTING
        self.in_flight = 0
        self.requests: set = set()      # requests in flight, to fail them if the instance is shut down
        self.routable = False           # in the router: ready, not retiring, not stopped
        self.in_heap = False            # newest-first router bookkeeping
        self.retiring = False           # replaced by a newer revision: takes no new requests
        self.parked = False             # surplus after a scale-in decision: drains, takes no new requests
        self.requested_at = requested_at
        self.ready_at: float | None = None
        self.stopped_at: float | None = None
        self.stop_reason: str | None = None
        self.start_error: str | None = None
        self.startup_s: float | None = None
        self.kms_wait_s = 0.0
        self.key_attempts = 0
        self.phases: dict[str, float] = {}   # seconds spent in each start phase
        self.idle_since = requested_at
        self.idle_timer_armed = False
        self.busy_since = 0.0           # when it last took a request while empty (billing.py)
        self.billed_until = 0.0         # request-based billing: billed up to here (rounding)
        self.billing_busy = False       # billed busy: a request in flight or its rounding (billing.py)
        self.failed_starts_before = 0   # its slot's failed starts in a row before it (start_backoff.py)
        self.container_started_at: float | None = None   # after the key operations (billing.py)
        # processor sharing (requests.py): virtual clock, when advanced, finish heap, deadlines, event
        self.ps_v = 0.0
        self.ps_t = 0.0
        self.ps_heap: list = []
        self.ps_deadlines: deque = deque()
        self.ps_gen = 0
        self.ps_at = float("inf")
        self.ps_on = False              # sharing its vCPUs (requests.py), else each request at rate 1

    def __lt__(self, other):            # heap ties (never reached: ids are unique)
        return self.id < other.id

    def row(self, service: str) -> dict:
        return {"service": service, "revision": self.revision.name, "instance": self.id,
                "requested_at": self.requested_at, "ready_at": self.ready_at, "stopped_at": self.stopped_at,
                "stop_reason": self.stop_reason, "start_error": self.start_error, "startup_s": self.startup_s,
                "kms_wait_s": self.kms_wait_s, "key_attempts": self.key_attempts,
                "failed_starts_before": self.failed_starts_before,
                **{f"{name}_s": v for name, v in self.phases.items()}}
