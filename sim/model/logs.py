"""Cloud Logging LogEntry records: the KMS audit log and the errors Cloud Run writes for a service.

Message texts are the published ones (DOMAIN.md section 1), `%s` filled in. Cloud Run's wording for an
external key manager error is not published: those entries carry our own text and the label
`cmek_sim/message: unpublished`.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .failures import StartFailure

MSG_PERMISSION = "User's service account does not have CMEK decrypter permission. Service account: %s"
MSG_QUOTA = "User's KMS operation quota has been exceeded. CMEK key: %s"
MSG_DISABLED = "User's CMEK key has been disabled. CMEK key: %s"
MSG_DESTROYED = "User's CMEK key has been destroyed. CMEK key: %s"
MSG_DESTROY_SCHEDULED = "User's CMEK key has been scheduled for deletion. CMEK Key: %s"
MSG_EKM_UNPUBLISHED = "CMEK key operation failed at the external key manager (error domain %s). CMEK key: %s"

MESSAGE_BY_FAILURE = {StartFailure.KEY_DISABLED: MSG_DISABLED, StartFailure.KEY_DESTROYED: MSG_DESTROYED,
                      StartFailure.KEY_DESTROY_SCHEDULED: MSG_DESTROY_SCHEDULED,
                      StartFailure.QUOTA_EXCEEDED: MSG_QUOTA}


def run_error_text(failure: str, key_name: str, service_agent: str, domain: str | None) -> tuple[str, bool]:
    """(message, published) for a failure name of the summary's instance_starts_failed."""
    if failure == StartFailure.PERMISSION_DENIED:
        return MSG_PERMISSION % service_agent, True
    if failure in MESSAGE_BY_FAILURE:
        return MESSAGE_BY_FAILURE[failure] % key_name, True
    return MSG_EKM_UNPUBLISHED % (domain, key_name), False


class Clock:
    """Simulated seconds -> RFC 3339 timestamps from the scenario's start_time."""

    def __init__(self, start_time: str):
        self.start = datetime.fromisoformat(start_time.replace("Z", "+00:00"))

    def __call__(self, t: float) -> str:
        return (self.start + timedelta(seconds=t)).isoformat(timespec="microseconds").replace("+00:00", "Z")


def audit_entry(clock: Clock, n: int, rec: tuple, project: str, service_agent: str, location: str) -> dict:
    t, service, method, key_name, code, message, reason = rec
    from .kms import GRPC_CODES
    key_project = key_name.split("/")[1]
    return {
        "logName": f"projects/{key_project}/logs/cloudaudit.googleapis.com%2Fdata_access",
        "timestamp": clock(t),
        "severity": "INFO" if code == 0 else "ERROR",
        "insertId": f"kms-{n:09d}",
        "resource": {"type": "cloudkms_cryptokey",
                     "labels": {"project_id": key_project, "location": location,
                                "key_ring_id": key_name.split("/")[5], "crypto_key_id": key_name.split("/")[7]}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "cloudkms.googleapis.com",
            "methodName": method,
            "resourceName": key_name,
            "authenticationInfo": {"principalEmail": service_agent},
            "status": {"code": code, "message": message or GRPC_CODES[code]},
            "metadata": {"reason": reason, "caller": f"run.googleapis.com/{project}/{service}"},
        },
    }


def run_error_entry(clock: Clock, n: int, rec: tuple, project: str, location: str) -> dict:
    t, service, revision, message, published = rec
    entry = {
        "logName": f"projects/{project}/logs/run.googleapis.com%2Fvarlog%2Fsystem",
        "timestamp": clock(t),
        "severity": "ERROR",
        "insertId": f"run-{n:09d}",
        "resource": {"type": "cloud_run_revision",
                     "labels": {"service_name": service, "revision_name": revision, "location": location,
                                "project_id": project}},
        "textPayload": message,
    }
    if not published:
        entry["labels"] = {"cmek_sim/message": "unpublished"}
    return entry
