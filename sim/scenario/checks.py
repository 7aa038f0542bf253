"""Scenario checks across parts of the file: unique ids and names, references that resolve, times that fit.

They read the raw mapping (or a Scenario's dump) and need only the constants and the fault classes, which
check their own references (`cross_check`); so the models can run them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.scenario.constants import KEY_NAME_RE, MIN_ABOVE_MAX
from sim.scenario.faults import FAULT_CLASSES, CrossContext
from sim.units import InputError, format_duration, parse_duration, show_value


# ---------------------------------------------------------------------------------------------------------
# Checks across parts of the file. They read the raw mapping, so that they still report what they can
# when other parts are malformed (every problem in one pass), and they never assume a type.

def _try_seconds(value):
    try:
        return parse_duration(value)
    except InputError:
        return None


def _items(raw: Mapping, key: str):
    value = raw.get(key, ())
    return list(enumerate(value)) if isinstance(value, (list, tuple)) else None


def cross_problems(raw: Mapping) -> list[tuple[tuple, str]]:
    """(key path, reason) of every problem across parts of the file, in file order."""
    problems: list[tuple[tuple, str]] = []
    duration = _try_seconds(raw.get("duration", 3600.0))
    warmup = _try_seconds(raw.get("warmup", 0.0))
    if duration and warmup is not None and warmup >= duration:
        problems.append((("warmup",), f"must be less than duration ({format_duration(duration)}), "
                                      f"got {format_duration(warmup)}"))
    project = raw.get("project", {})
    region = project.get("region", "us-central1") if isinstance(project, Mapping) else None

    keys = _items(raw, "keys")
    protections: dict[str, Any] | None = None if keys is None else {}
    projects: set[str] | None = None if keys is None else set()
    for i, key in keys or ():
        if not isinstance(key, Mapping):
            continue
        key_id, name = key.get("id"), key.get("name")
        if isinstance(key_id, str):
            if key_id in protections:
                problems.append((("keys", i, "id"), f"duplicate key id {show_value(key_id)}"))
            else:
                protections[key_id] = key.get("protection", "hsm")
        match = KEY_NAME_RE.fullmatch(name) if isinstance(name, str) else None
        if match:
            projects.add(match["project"])
        if match and isinstance(region, str) and match["location"] != region:
            problems.append((("keys", i, "name"), f"location {show_value(match['location'])} must equal the services' "
                                                  f"region (project.region {show_value(region)})"))

    key_references = CrossContext(protections, None)
    services = _items(raw, "services")
    names: set[str] | None = None if services is None else set()
    for i, service in services or ():
        if not isinstance(service, Mapping):
            continue
        name = service.get("name")
        if isinstance(name, str):
            if name in names:
                problems.append((("services", i, "name"), f"duplicate service name {show_value(name)}"))
            names.add(name)
        problems += key_references.key_problems(("services", i, "encryption_key"), service.get("encryption_key"))
        low, high = service.get("min_instances", 0), service.get("max_instances", 100)
        if all(isinstance(n, int) and not isinstance(n, bool) for n in (low, high)) and low > high >= 1:
            problems.append((("services", i, "min_instances"), MIN_ABOVE_MAX.format(high=high, low=low)))

    context = CrossContext(protections, names, projects)
    for i, fault in _items(raw, "faults") or ():
        if not isinstance(fault, Mapping):
            continue
        at, kind = _try_seconds(fault.get("at")), fault.get("kind")
        kind = kind if isinstance(kind, str) else None
        if at is not None and duration and at >= duration:
            problems.append((("faults", i, "at"), f"fault at or after the end of the run "
                                                  f"(at {format_duration(at)}, duration {format_duration(duration)})"))
        if kind in FAULT_CLASSES:
            problems += FAULT_CLASSES[kind].cross_check(fault, i, context)
    return problems



def service_keys(raw: Mapping) -> dict:
    """Service name -> its encryption_key as written (for messages that name a service's key)."""
    out = {}
    for _, service in _items(raw, "services") or ():
        if isinstance(service, Mapping) and isinstance(service.get("name"), str):
            out.setdefault(service["name"], service.get("encryption_key"))
    return out
