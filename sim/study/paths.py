"""Addressing any scenario key from the command line: `--set PATH=V1,V2` (sweep) and `--param PATH` (solve).

A path is keys joined by dots, where a list's item is chosen by index or by its `name` (services) or `id`
(keys): `services.0.max_instances`, `services[0].max_instances`, `services[checkout].concurrency`,
`keys[images].protection`, `faults[2].duration`, `kms.quota.hsm_requests_per_minute`. Indices count the
items of the resolved scenario (faults in time order, as in scenario.resolved.yaml). A path must name a
setting: a key the scenario has, or an optional one its format accepts (`traffic.daily_pattern.amplitude`
while there is no daily pattern), never a whole list or item. Each problem is one line (ScenarioError)
naming the path and what exists there. Light: no SimPy, SciPy or matplotlib.
"""
from __future__ import annotations

import difflib
import re
import typing

import yaml
from pydantic import BaseModel, BeforeValidator

from .. import safe_yaml
from ..scenario import FAULT_CLASSES, Scenario, ScenarioError, with_updates

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)")   # 1e3: YAML 1.1 would read it as text
_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\[\]]*)\]|(\.)")


def parse_value(text: str):
    """A YAML scalar as written on the command line: `30m`, `150ms`, `5`, `true`, `hsm`, `null`.

    Durations and sizes with units stay text: the scenario's checks convert them, as in a scenario file."""
    try:
        value = safe_yaml.load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError([f"value {text!r}: {problem}"]) from None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


def _tokens(path: str) -> list[tuple[str, str]]:
    """("key", name) and ("item", selector) in order; ScenarioError on a malformed path."""
    out, pos, dot_ok = [], 0, False
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise ScenarioError([f"{path}: malformed path at {path[pos:]!r} (e.g. services[0].max_instances)"])
        key, item, dot = m.groups()
        if dot:
            if not dot_ok or pos + 1 == len(path):
                raise ScenarioError([f"{path}: malformed path (an empty key around a dot)"])
            dot_ok = False
        elif key is not None:
            if out and dot_ok:
                raise ScenarioError([f"{path}: malformed path (a key must follow a dot)"])
            out.append(("item", key) if key.isdigit() and out else ("key", key))
            dot_ok = True
        else:
            if not out or not dot_ok or not item.strip():
                raise ScenarioError([f"{path}: malformed path at {m.group(0)!r} "
                                     "(a selector [N] or [NAME] follows a key)"])
            out.append(("item", item.strip()))
        pos = m.end()
    if not out:
        raise ScenarioError(["empty path (e.g. services[0].max_instances)"])
    return out


def _shown(parts: list) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p) for i, p in enumerate(parts))


def _close(word: str, choices) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _field_types(field) -> list:
    """Every type inside a field's annotation (Union, Annotated, tuple arguments...)."""
    out, stack = [], [field.annotation]
    while stack:
        t = stack.pop()
        out.append(t)
        stack.extend(typing.get_args(t))
    return out


def _model_of(field):
    """The pydantic model a field holds (directly, optionally, or as the items of a tuple), or None."""
    return next((t for t in _field_types(field) if isinstance(t, type) and issubclass(t, BaseModel)), None)


def _is_item_list(field) -> bool:
    return typing.get_origin(field.annotation) is tuple and _model_of(field) is not None


def _item_label(item, index: int) -> str:
    if isinstance(item, dict):
        for key in ("id", "name"):                 # a key's id, not its resource name
            if isinstance(item.get(key), str):
                return item[key]
        if "kind" in item:
            return f"{index} {item['kind']}"
    return str(index)


def _select(items: list, selector: str, where: str, path: str) -> int:
    """The index of the item `selector` names (an index, or an item's name or id)."""
    labels = [_item_label(item, i) for i, item in enumerate(items)]
    if not items:
        raise ScenarioError([f"{path}: {where} is empty, so it has no item {selector}"])
    listing = f"{where}: {', '.join(labels)}"
    if selector.lstrip("-").isdigit():
        index = int(selector)
        if not 0 <= index < len(items):
            raise ScenarioError([f"{path}: {where} has no item {index} ({listing}; indices start at 0)"])
        return index
    named = [i for i, item in enumerate(items)
             if isinstance(item, dict) and selector in (item.get("name"), item.get("id"))]
    if not named:
        if items and not any(isinstance(it, dict) and ("name" in it or "id" in it) for it in items):
            raise ScenarioError([f"{path}: the items of {where} have no name or id; choose one by index "
                                 f"({listing})"])
        names = [lb for lb, item in zip(labels, items) if isinstance(item, dict) and lb in
                 (item.get("name"), item.get("id"))]
        raise ScenarioError([f"{path}: {where} has no item named {selector!r}{_close(selector, names)} ({listing})"])
    return named[0]


def _resolve(scenario, path: str, whole_section: bool = False) -> list:
    """The parts (keys and int indices) of the setting `path` names in `scenario`.

    whole_section: the value is a mapping, so the path may end at a section it replaces (sensitivity sets
    `kms.retry` as a whole); from the command line a path must name one key.
    """
    node, model, field, parts = scenario.to_resolved_dict(), Scenario, None, []
    tokens = _tokens(path)
    for kind, text in tokens:
        where = _shown(parts) or "the scenario"
        if kind == "item":
            if not isinstance(node, list):
                raise ScenarioError([f"{path}: {where} is not a list, so [{text}] selects nothing"])
            index = _select(node, text, where, path)
            parts.append(index)
            node = node[index]
            if parts[:1] == ["faults"] and len(parts) == 2:
                model = FAULT_CLASSES.get(node.get("kind"))    # each fault kind has its own keys
            field = None
            continue
        if isinstance(node, list):
            raise ScenarioError([f"{path}: {where} is a list; choose an item: {where}[0]"
                                 + (f" or {where}[NAME]" if any(isinstance(i, dict) and ("name" in i or "id" in i)
                                                                for i in node) else "")])
        if model is not None:
            known = list(model.model_fields)
            if text not in known:
                raise ScenarioError([f"{path}: {where} has no key {text!r}{_close(text, known)} "
                                     f"({where} has: {', '.join(known)})"])
            field = model.model_fields[text]
            model = _model_of(field)
        elif isinstance(node, dict):
            if text not in node:
                raise ScenarioError([f"{path}: {where} has no key {text!r}{_close(text, node)} "
                                     f"({where} has: {', '.join(map(str, node))})"])
            field = None
        else:
            raise ScenarioError([f"{path}: {where} is a single value, it has no key {text!r}"])
        parts.append(text)
        node = node.get(text) if isinstance(node, dict) else None
    if not (whole_section and model is not None):
        _check_setting(path, parts, node, model, field)
    return parts


def _check_setting(path: str, parts: list, node, model, field) -> None:
    """Refuse a path ending at a list of items, an item, or a section (name one of its keys instead)."""
    shown = _shown(parts)
    if field is not None and _is_item_list(field):
        raise ScenarioError([f"{path}: {shown} is a list of items; name a key of one, e.g. {shown}[0].KEY"])
    if isinstance(parts[-1], int) and isinstance(node, dict):
        raise ScenarioError([f"{path}: {shown} is a whole item; name one of its keys: {', '.join(map(str, node))}"])
    takes_other = field is not None and (type(None) in _field_types(field)      # can be null (daily_pattern)
                                         or any(isinstance(m, BeforeValidator) for m in field.metadata))
    if model is not None and not takes_other:
        raise ScenarioError([f"{path}: {shown} is a section; name one of its keys: "
                             f"{', '.join(model.model_fields)}"])


def dotted_path(scenario, path: str) -> str:
    """The `with_updates` dotted path that `path` names in `scenario`; ScenarioError (one line) if it names nothing."""
    return ".".join(str(p) for p in _resolve(scenario, path))


def current_value(scenario, path: str):
    """The value `path` has in `scenario` (resolved form: durations in seconds); None for an absent optional key."""
    node = scenario.to_resolved_dict()
    for part in _resolve(scenario, path):
        node = node[part] if isinstance(node, list) else (node or {}).get(part)
    return node


def apply_setting(scenario, path: str, value):
    """A re-validated copy of `scenario` with `path` set to `value` (ScenarioError lists the problems)."""
    dotted = ".".join(str(p) for p in _resolve(scenario, path, whole_section=isinstance(value, dict)))
    return with_updates(scenario, {dotted: value})
