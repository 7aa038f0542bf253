"""Why an instance start fails: one enum shared by the KMS decision, the recorder, the logs and the summary.

The values are the keys of the summary's `instance_starts_failed` and of instances.csv's `start_error`.
"""
from __future__ import annotations

from enum import StrEnum


class StartFailure(StrEnum):
    KEY_DISABLED = "key_disabled"
    KEY_DESTROYED = "key_destroyed"
    KEY_DESTROY_SCHEDULED = "key_destroy_scheduled"
    QUOTA_EXCEEDED = "quota_exceeded"
    PERMISSION_DENIED = "permission_denied"
    EKM_NON_RETRYABLE = "ekm_non_retryable"


# Failures that mean "the key is revoked": the shut-down revocation action starts its countdown on them.
KEY_REVOKED = frozenset({StartFailure.KEY_DISABLED, StartFailure.KEY_DESTROYED,
                         StartFailure.KEY_DESTROY_SCHEDULED, StartFailure.PERMISSION_DENIED})
# Failures for a reason of the key itself (not quota): the end-of-countdown check shuts down only on these.
KEY_FAILURES = KEY_REVOKED | {StartFailure.EKM_NON_RETRYABLE}
