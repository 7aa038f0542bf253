"""Scenario loading: YAML read safely (sim.userfile, sim.safe_yaml), dotted-path overrides, then every check.

`load_scenario` reads a file, `scenario_from_dict` checks a mapping, `with_updates` derives a variant.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import ValidationError

from sim import safe_yaml
from sim.scenario.checks import cross_problems, service_keys
from sim.scenario.constants import path_text
from sim.scenario.errors import ScenarioError, problem_lines
from sim.scenario.models import Scenario
from sim.units import InputError
from sim.userfile import SCENARIO_LIMIT, UserFileError, read_user_text


# ---------------------------------------------------------------------------------------------------------
# Loading.

def _read_yaml(path: Path, source: str):
    try:
        text = read_user_text(path, SCENARIO_LIMIT)
    except UserFileError as exc:
        raise ScenarioError([f"{source}: {exc}"]) from None
    try:
        return safe_yaml.load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        prefix = "" if "duplicate key" in what or isinstance(exc, safe_yaml.LimitError) else "invalid YAML: "
        raise ScenarioError([f"{source}: {where}{prefix}{what}"]) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ScenarioError([f"{source}: invalid YAML: {reason}"]) from None


def _apply_updates(data: dict, updates: Mapping, source: str) -> dict:
    """A copy of `data` with each dotted path (`services.0.max_instances`) set to its value."""
    data = copy.deepcopy(data)
    problems = []
    for dotted, value in updates.items():
        parts = str(dotted).split(".")
        shown = tuple(int(p) if p.isdigit() else p for p in parts)
        node = data
        try:
            for depth, part in enumerate(parts):
                last = depth == len(parts) - 1
                if isinstance(node, list):
                    if not part.isdigit() or int(part) >= len(node):
                        raise InputError(f"{path_text(shown[:depth])} has no item {part}")
                    part = int(part)
                elif not isinstance(node, dict):
                    raise InputError(f"{path_text(shown[:depth])} is not a mapping")
                elif not last and node.get(part) is None:
                    node[part] = {}  # e.g. daily_pattern: null gets its first key
                if last:
                    node[part] = copy.deepcopy(value)
                else:
                    node = node[part]
        except InputError as exc:
            problems.append(f"{source}: override {dotted}: {exc}")
    if problems:
        raise ScenarioError(problems)
    return data


def scenario_from_dict(data, source: str = "<dict>", base_dir: str | Path | None = None,
                       *, source_path: str | Path | None = None) -> Scenario:
    """A checked Scenario from a mapping; relative files (traces, samples) are found in `base_dir`."""
    if not isinstance(data, Mapping):
        names = {str: "a single text", list: "a list", int: "a number", float: "a number", bool: "true/false"}
        what = "empty" if data is None else names.get(type(data), f"a {type(data).__name__}")
        raise ScenarioError([f"{source}: a scenario must be a mapping (key: value) with at least `name` and "
                             f"`services`; this one is {what}"])
    base = Path(base_dir).resolve() if base_dir is not None else Path.cwd()
    cross = cross_problems(data)
    try:
        scenario = Scenario.model_validate(data, context={"base_dir": base, "cross_checked": True,
                                                              "service_keys": service_keys(data)})
    except ValidationError as exc:
        raise ScenarioError(problem_lines(source, exc.errors(), cross)) from None
    if cross:
        raise ScenarioError(problem_lines(source, [], cross))
    scenario._base_dir = base
    scenario._source_path = Path(source_path).resolve() if source_path is not None else None
    return scenario


def read_scenario_data(path: str | Path, overrides: Mapping | None = None):
    """The raw mapping of a scenario file as written (durations as typed), overrides applied, not checked."""
    source = str(path)
    data = _read_yaml(Path(path), source)
    if overrides:
        if not isinstance(data, dict):
            scenario_from_dict(data, source)  # raises the "not a mapping" problem
        data = _apply_updates(data, overrides, source)
    return data


def load_scenario(path: str | Path, overrides: Mapping | None = None) -> Scenario:
    """Reads, overrides (dotted paths, before validation) and checks a scenario file."""
    data = read_scenario_data(path, overrides)
    resolved = Path(path).resolve()
    return scenario_from_dict(data, str(path), base_dir=resolved.parent, source_path=resolved)


def with_updates(scenario: Scenario, updates: Mapping) -> Scenario:
    """A new, re-checked Scenario with dotted-path updates applied (for sweeps); `scenario` is unchanged.

    Setting a service's `traffic.rate` drops its `traffic.trace` and the other way round, unless both are given.
    """
    data = scenario.to_resolved_dict()
    updates = dict(updates)
    for dotted in list(updates):
        for mine, other in (("traffic.rate", "traffic.trace"), ("traffic.trace", "traffic.rate")):
            if str(dotted).endswith(mine) and updates[dotted] is not None:
                sibling = str(dotted)[: -len(mine)] + other
                updates.setdefault(sibling, None)
    source = str(scenario.source_path) if scenario.source_path else "<scenario>"
    data = _apply_updates(data, updates, source)
    return scenario_from_dict(data, source, base_dir=scenario.base_dir, source_path=scenario.source_path)
