"""Addressing any scenario key from the command line: `--set PATH=V1,V2` (sweep) and `--param PATH` (solve).

STUB on main: only dotted paths with numeric indices (`services.0.max_instances`). The sweep helper replaces
the bodies with the full syntax (`services[0]`, `services[checkout]` by name, `keys[images]` by id,
`faults[2]`), keeping these names and signatures.
"""
from __future__ import annotations

import yaml

from ..scenario import ScenarioError, with_updates


def parse_value(text: str):
    """A YAML scalar as written on the command line: `30m`, `150ms`, `5`, `true`, `hsm`."""
    return yaml.safe_load(text)


def dotted_path(scenario, path: str) -> str:
    """The `with_updates` dotted path that `path` names in `scenario`; ScenarioError (one line) if it names nothing."""
    return path


def current_value(scenario, path: str):
    """The value `path` has in `scenario` (resolved form)."""
    node = scenario.to_resolved_dict()
    for part in dotted_path(scenario, path).split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def apply_setting(scenario, path: str, value):
    """A re-validated copy of `scenario` with `path` set to `value` (ScenarioError lists the problems)."""
    return with_updates(scenario, {dotted_path(scenario, path): value})
