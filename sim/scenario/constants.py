"""Names, patterns and texts shared by several scenario modules (a leaf: it imports nothing of the package).

Protection levels, resource-name patterns, the EKM error domains, shared message templates, and how a
problem's key path is written (`services[0].traffic.trace`).
"""

from __future__ import annotations

import re
from typing import Literal

EXTERNAL_PROTECTIONS = frozenset({"external", "external-vpc"})
KEY_NAME_RE = re.compile(
    r"projects/(?P<project>[^/\s]+)/locations/(?P<location>[^/\s]+)"
    r"/keyRings/(?P<key_ring>[^/\s]+)/cryptoKeys/(?P<crypto_key>[^/\s]+)")
SERVICE_NAME_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
SCENARIO_NAME_RE = re.compile(r"[A-Za-z0-9._-]+")

RETRYABLE_EKM_DOMAINS = frozenset(
    {"TIMEOUT", "UNREACHABLE_NETWORK", "OVERLOADED_EKM", "EXTERNAL_RESOURCE_EXHAUSTED", "REQUEST_CANCELLED"})
NON_RETRYABLE_EKM_DOMAINS = frozenset(
    {"EXTERNAL_PERMISSION_DENIED", "EXTERNAL_NOT_FOUND", "EXTERNAL_KEY_URI_INVALID", "TLS_CERT",
     "EXTERNAL_SERVER_ERROR", "DECRYPTION_FAILED"})
EkmDomain = Literal[
    "TIMEOUT", "UNREACHABLE_NETWORK", "OVERLOADED_EKM", "EXTERNAL_RESOURCE_EXHAUSTED", "REQUEST_CANCELLED",
    "EXTERNAL_PERMISSION_DENIED", "EXTERNAL_NOT_FOUND", "EXTERNAL_KEY_URI_INVALID", "TLS_CERT",
    "EXTERNAL_SERVER_ERROR", "DECRYPTION_FAILED",
]

# Messages written by more than one module (the model's own check and the check across the raw file).
MIN_ABOVE_MAX = "must not exceed max_instances ({high}), got {low}"


def path_text(loc) -> str:
    """A problem's key path as written in messages: ("services", 0, "name") -> services[0].name."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith("["):
            out += part
        else:
            out += ("." if out else "") + str(part)
    return out
