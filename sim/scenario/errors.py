"""Scenario errors: `ScenarioError`, and pydantic's errors and the cross checks' problems as one line each.

Each line reads `FILE: key.path[i].key: reason`.
"""

from __future__ import annotations

import difflib
import re
import typing

from pydantic import BaseModel

from sim.scenario.constants import path_text
from sim.scenario.faults import FAULT_CLASSES, FAULT_KINDS
from sim.scenario.models import Scenario
from sim.units import show_value


class ScenarioError(Exception):
    """A scenario that cannot be run; `problems` holds one readable line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = [re.sub(r"\s*\n\s*", " ", str(p)) for p in problems]  # one line each, always
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------------------------------------------------
# Turning pydantic's errors into one line each.

def _clean_loc(loc: tuple) -> tuple:
    """Drops the tag pydantic inserts after a fault's index (faults.0.key-disable.key -> faults[0].key)."""
    out = []
    for i, part in enumerate(loc):
        if (i >= 2 and part in FAULT_CLASSES and isinstance(loc[i - 1], int) and loc[i - 2] == "faults"):
            continue
        out.append(part)
    return tuple(out)


def _model_at(loc: tuple):
    """The model class whose keys live at `loc` (for "did you mean"), or None."""
    model = Scenario
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(part, str) and part in FAULT_CLASSES:
            model = FAULT_CLASSES[part]
            continue
        field = model.model_fields.get(part) if isinstance(part, str) else None
        if field is None:
            return None
        model = next((t for t in _types_in(field.annotation) if isinstance(t, type) and issubclass(t, BaseModel)),
                     None)
        if model is None:
            return None
    return model


def _types_in(annotation):
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types_in(arg)


def _reason(error: dict) -> tuple[tuple, str]:
    """(extra key path, reason) for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    got = f", got {show_value(value)}"
    if kind == "missing":
        return (), "missing required key"
    if kind == "extra_forbidden":
        loc = error["loc"]
        model = _model_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1) if model else []
        return (), "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    if kind in {"value_error", "assertion_error"}:
        exc = ctx.get("error")
        key = getattr(exc, "key", None)
        message = str(exc) if exc is not None else error["msg"].removeprefix("Value error, ")
        return ((key,) if key else ()), message
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        return (), "must be a mapping (key: value)" + got
    if kind in {"tuple_type", "list_type", "iterable_type"}:
        return (), "must be a list" + got
    if kind in {"string_type", "string_unicode"}:
        return (), "must be a string" + got
    if kind in {"bool_type", "bool_parsing"}:
        return (), "must be true or false" + got
    if kind in {"int_type", "int_parsing", "int_from_float", "int_parsing_size"}:
        return (), "must be a whole number" + got
    if kind in {"float_type", "float_parsing", "finite_number"}:
        return (), "must be a finite number" + got
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", ctx.get("expected", "")) or [ctx.get("expected", "")]
        return (), f"must be one of {', '.join(expected)}" + got
    if kind == "union_tag_invalid":
        return ("kind",), f"unknown fault kind {show_value(ctx.get('tag'))}; valid: {', '.join(FAULT_KINDS)}"
    if kind == "union_tag_not_found":
        return ("kind",), f"missing required key (one of {', '.join(FAULT_KINDS)})"
    if kind == "too_short":
        return (), f"must have at least {ctx.get('min_length')} item" + ("" if ctx.get("min_length") == 1 else "s")
    if kind == "recursion_loop":
        return (), "refers to itself (YAML alias loop)"
    message = error["msg"]
    return (), message[:1].lower() + message[1:] + got


def problem_lines(source: str, errors, cross) -> list[str]:
    """One line per problem: pydantic's `errors`, then the cross checks' (key path, reason) pairs."""
    lines = []
    errors = list(errors)
    for error in errors:
        if error["type"] == "too_short" and any(  # pydantic also counts the items it refused
                tuple(other["loc"][:len(error["loc"])]) == tuple(error["loc"]) and other is not error
                for other in errors):
            continue
        loc = _clean_loc(tuple(error["loc"]))
        extra, reason = _reason(error)
        lines.append(_line(source, loc + extra, reason))
    lines += [_line(source, loc, reason) for loc, reason in cross]
    return list(dict.fromkeys(lines))  # one line per problem, in order


def _line(source: str, loc: tuple, reason: str) -> str:
    path = path_text(loc)
    return f"{source}: {path}: {reason}" if path else f"{source}: {reason}"
