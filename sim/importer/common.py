"""What both service forms share: the imported service record, problem lines and value parsing.

A leaf of the importer: it knows Cloud Run's rules (key names, revision names, whole shutdown hours) and
turns Kubernetes quantities ("1000m", "512Mi") and API durations ("300s") into scenario values.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sim.model.revisions import is_valid_revision_name
from sim.scenario.constants import KEY_NAME_RE
from sim.units import show_value

# Cloud Run's defaults where the file says nothing (documented in the README and the output's comments).
DEFAULTS = {"min_instances": 0, "max_instances": 100, "concurrency": 80, "request_timeout": 300,
            "cpu": 1, "memory": "512Mi", "revocation_action": "prevent-new", "startup_cpu_boost": False}
# containerConcurrency 0 means "no limit" in Knative; Cloud Run's largest setting is 1000.
UNLIMITED_CONCURRENCY = 1000
_DURATION_RE = re.compile(r"(?P<n>[0-9]+(\.[0-9]+)?)s")


@dataclass
class Imported:
    """One service read from one document: scenario keys, and what the comments must say."""
    document: int                       # 1-based document number in the file
    form: str                           # "v1 (serving.knative.dev/v1)" or "v2 (run.googleapis.com/v2)"
    name: str | None = None
    region: str | None = None
    project_number: str | None = None
    project_id: str | None = None
    project_id_from: str = ""           # where the project id was read
    key_name: str | None = None
    settings: dict = field(default_factory=dict)     # scenario service keys read from the file
    defaulted: list = field(default_factory=list)    # scenario service keys left at Cloud Run's default
    unknown: list = field(default_factory=list)      # annotations and fields ignored
    notes: list = field(default_factory=list)        # one-line comments about choices made


class Problems:
    """Problem lines `FILE: document N: path: reason`, all collected before anything is written."""

    def __init__(self, file: str):
        self.file = file
        self.lines: list[str] = []

    def add(self, document: int | None, path: str, reason: str) -> None:
        where = f"document {document}: " if document is not None else ""
        self.lines.append(f"{self.file}: {where}{path}: {reason}")


def _scalar_text(value) -> str:
    """A number's or a text's characters; "" for anything else (a list is never turned into text whole)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return str(value).strip()


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def whole_number(value, path: str, doc: int, problems: Problems, *, minimum: int = 0) -> int | None:
    """An integer from a number or a numeric string (annotations are strings), else a problem."""
    text = _scalar_text(value)
    if re.fullmatch(r"[0-9]{1,18}", text) and int(text) >= minimum:   # 18 digits: int() never refuses it
        return int(text)
    problems.add(doc, path, f"must be a whole number >= {minimum}, got {show_value(value)}")
    return None


def cpu_value(value, path: str, doc: int, problems: Problems) -> float | int | None:
    """vCPUs from a Kubernetes quantity: "1", "2", "0.5", "1000m"."""
    text = _scalar_text(value)
    match = re.fullmatch(r"([0-9]+(\.[0-9]+)?)(m?)", text)
    if not match:
        problems.add(doc, path, f"must be a CPU quantity such as 1, 2 or 1000m, got {show_value(value)}")
        return None
    number = float(match[1]) / (1000 if match[3] else 1)
    return int(number) if number == int(number) else number


def seconds_value(value, path: str, doc: int, problems: Problems) -> float | int | None:
    """Seconds from an API duration ("300s", "3600s") or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION_RE.fullmatch(_scalar_text(value))
    if not match:
        problems.add(doc, path, f"must be a duration in seconds such as \"300s\", got {show_value(value)}")
        return None
    number = float(match["n"])
    return int(number) if number == int(number) else number


def shutdown_hours(hours, path: str, doc: int, problems: Problems) -> str | None:
    """Cloud Run counts the shutdown delay in whole hours: "1", 24, 3600s are fine; 1.5 hours is not."""
    try:
        number = float(hours)
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number) or number < 0 or number != int(number):
        problems.add(doc, path, f"must be a whole number of hours (Cloud Run counts the shutdown delay in "
                                f"hours), got {show_value(hours)}")
        return None
    return f"{int(number)}h"


# The revocation action as each form spells it: the v1 annotation's values (prevent-new | shut-down) and the v2
# API's enum names (PREVENT_NEW | SHUTDOWN), accepted in either place; the enum's UNSPECIFIED means the default.
REVOCATION_ACTIONS = {"prevent-new": "prevent-new", "shut-down": "shut-down",
                      "PREVENT_NEW": "prevent-new", "SHUTDOWN": "shut-down"}
UNSPECIFIED_ACTION = "ENCRYPTION_KEY_REVOCATION_ACTION_UNSPECIFIED"


def revocation_action(value, path: str, doc: int, problems: Problems) -> str | None:
    """The scenario's revocation_action from either spelling; None (Cloud Run's default) when absent or
    unspecified; a problem otherwise."""
    if value is None or value == UNSPECIFIED_ACTION:
        return None
    if value in REVOCATION_ACTIONS:
        return REVOCATION_ACTIONS[value]
    problems.add(doc, path, f"must be prevent-new or shut-down (v2: PREVENT_NEW or SHUTDOWN), got {show_value(value)}")
    return None


def check_key(item: Imported, name, path: str, problems: Problems) -> None:
    """The key must be a Cloud KMS key name in the service's region."""
    if not isinstance(name, str) or not KEY_NAME_RE.fullmatch(name):
        problems.add(item.document, path, "must be a key name of the form projects/P/locations/L/keyRings/R/"
                                          f"cryptoKeys/K, got {show_value(name)}")
        return
    item.key_name = name
    location = KEY_NAME_RE.fullmatch(name)["location"]
    if item.region and location != item.region:
        problems.add(item.document, path, f"key location {show_value(location)} differs from the service's region "
                                          f"{show_value(item.region)} (Cloud Run needs a key in the service's region)")


def check_revision(item: Imported, revision, path: str, problems: Problems) -> None:
    """A revision name: the service name and "-", then lowercase letters, digits and "-", <= 63 characters."""
    if revision is None or not item.name:
        return
    if not isinstance(revision, str) or not is_valid_revision_name(revision, item.name):
        shown = repr(revision[:100]) if isinstance(revision, str) else show_value(revision)   # the length matters
        problems.add(item.document, path,
                     f"revision name {shown} breaks Cloud Run's rules: it must start with "
                     f"{show_value(item.name + '-')}, hold only lowercase letters, digits and '-', not end with '-' "
                     "and be at most 63 characters")


def set_or_default(item: Imported, key: str, value) -> None:
    if value is None:
        item.defaulted.append(key)
    else:
        item.settings[key] = value
