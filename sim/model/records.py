"""Named records of a run's raw material: what the log and event files are written from."""
from __future__ import annotations

from typing import NamedTuple


class AuditRecord(NamedTuple):
    """One key operation, as kms_audit.jsonl logs it."""
    t: float
    service: str
    method: str                 # "Encrypt" | "Decrypt"
    key_name: str
    code: int                   # gRPC code, 0 for OK
    message: str
    reason: str                 # the audit log's metadata.reason


class RunErrorRecord(NamedTuple):
    """One CMEK error Cloud Run would log for a service (run_errors.jsonl)."""
    t: float
    service: str
    revision: str
    message: str
    published: bool             # False: our own wording (the platform's text is not published)


class FaultEvent(NamedTuple):
    """A state-changing fault as applied (fault_events.csv)."""
    t: float
    kind: str
    target: str
    applied: bool
