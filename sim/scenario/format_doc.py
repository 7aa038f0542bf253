"""The format reference people read: each key's description and default, for `sim schema` (the JSON Schema's
`description`s) and docs/scenario-format.md (`sim schema --markdown`).

One source per description: a key of the reference file is described by its comment there
(sim.scenario.reference); a key the reference does not describe (one this project added, or one the reference
leaves bare) by its model field's `Field(description=...)`; a section without either, and a fault kind, by its
model's docstring (the reference's comments on the fault examples are shown with the examples).
tests/test_format_reference.py checks that every key has exactly one of the first two, and that the committed
markdown is what this module writes.
"""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, TypeAdapter

from sim.dists import Dist
from sim.scenario.faults import FAULT_CLASSES
from sim.scenario.models import Scenario, scenario_json_schema as _bare_schema
from sim.scenario.reference import Entry, reference
from sim.scenario.types import DURATION_SCHEMA, TRACE_SCHEMA
from sim.units import format_duration, format_number

_NO_ENTRY = Entry("")


@dataclass
class Key:
    """One key of the format: where it is, what it holds, its default as written, and what it means."""

    path: str                  # services[].autoscaling.window
    model: type[BaseModel]     # the model that holds it
    name: str
    section: type[BaseModel] | None   # the model it opens (a section), else None
    default: str
    description: str           # "" when neither source has one
    source: str                # "reference", "field", "docstring" or ""
    group: str = ""
    notes: tuple[str, ...] = ()


def _model_of(annotation) -> tuple[type[BaseModel] | None, bool]:
    """(the model a field holds, whether as a list) or (None, False) for a value."""
    args = [a for a in typing.get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if typing.get_origin(annotation) is tuple and len(args) == 1:
        inner, _ = _model_of(args[0])
        return inner, inner is not None
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return _model_of(args[0])
    return None, False


def _first_paragraph(doc: str | None) -> str:
    return " ".join((doc or "").strip().split("\n\n")[0].split())


def _spec_text(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_spec_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_spec_text(v) for v in value) + "]"
    return _value_text(value)


def _value_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _default(model, name: str, info, entry: Entry) -> str:
    if info.is_required():
        return "required"
    value = info.get_default(call_default_factory=True)
    if entry.value and not entry.commented and _written_is(entry.value, info, value):
        return entry.value                                  # as the reference writes it
    if isinstance(value, BaseModel):
        return ""
    if isinstance(value, Dist):
        spec = value.to_spec()
        return _spec_text({k: format_duration(v) if k not in ("dist", "cv", "mu", "sigma", "file") else v
                           for k, v in spec.items()})
    if isinstance(value, float) and _is_duration(model, name):
        return format_duration(value)
    return _spec_text(value)


def _written_is(text: str, info, default) -> bool:
    """Is the value the reference writes the default? (Not so for the examples in `keys` and `services`.)"""
    try:
        written = yaml.safe_load(text)
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            value = info.annotation.model_validate(written)
        else:
            kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
            value = TypeAdapter(kind, config=ConfigDict(arbitrary_types_allowed=True)).validate_python(written)
    except (ValueError, yaml.YAMLError):
        return False
    return value == default


def _is_duration(model, name: str) -> bool:
    prop = model.model_json_schema()["properties"].get(name, {})
    return prop.get("anyOf") == DURATION_SCHEMA["anyOf"]


def keys() -> list[Key]:
    """Every key of the format but the faults' fields (`fault_kinds`), in the models' order (the reference's),
    each section followed by its keys."""
    ref = reference()
    out: list[Key] = []

    def walk(model: type[BaseModel], prefix: str):
        for name, info in model.model_fields.items():
            if name == "faults" and model is Scenario:
                out.append(_key(model, name, info, "faults", ref.entries.get("faults", _NO_ENTRY), None))
                continue
            path = f"{prefix}{name}"
            inner, is_list = _model_of(info.annotation)
            entry = ref.entries.get(path, _NO_ENTRY)
            out.append(_key(model, name, info, path, entry, inner))
            if inner is not None:
                walk(inner, f"{path}[]." if is_list else f"{path}.")

    walk(Scenario, "")
    return out


def _key(model, name, info, path, entry: Entry, section) -> Key:
    if entry.text and info.description:
        source, text = "both", entry.text
    elif entry.text:
        source, text = "reference", entry.text
    elif info.description:
        source, text = "field", info.description
    elif section is not None:
        source, text = "docstring", _first_paragraph(section.__doc__)
    else:
        source, text = "", ""
    return Key(path, model, name, section, _default(model, name, info, entry), text, source, entry.group,
               tuple(entry.notes))


@dataclass
class FaultKind:
    kind: str
    description: str
    examples: list[tuple[str, str]]                    # (flow mapping, comment) from the reference
    fields: list[tuple[str, str, str]]                 # (name, default, description)


def fault_kinds() -> list[FaultKind]:
    """Each fault kind: its class docstring, the reference's examples with their comments, and its fields."""
    examples = reference().examples
    out = []
    for kind, cls in FAULT_CLASSES.items():
        shown = examples.get(kind, [])
        text = _first_paragraph(cls.__doc__)   # the reference's comments annotate its examples: shown with them
        fields = [(name, "required" if info.is_required() else _default(cls, name, info, _NO_ENTRY),
                   info.description or "") for name, info in cls.model_fields.items() if name != "kind"]
        out.append(FaultKind(kind, text, shown, fields))
    return out


# ---------------------------------------------------------------------------------------------------------
# The JSON Schema with the descriptions.

def scenario_json_schema() -> dict:
    """A JSON Schema of scenario files, for editors: each property with its description (and default)."""
    schema = json.loads(json.dumps(_bare_schema()))     # no shared sub-schemas: each property gets its own
    defs = schema.get("$defs", {})

    def describe(model, name, text):
        node = schema if model is Scenario else defs.get(model.__name__)
        prop = (node or {}).get("properties", {}).get(name)
        if prop is not None and text:
            prop["description"] = text

    for key in keys():
        describe(key.model, key.name, " ".join([key.group + "." if key.group else "", key.description]).strip())
    for fault in fault_kinds():
        cls = FAULT_CLASSES[fault.kind]
        describe(cls, "kind", fault.description)
        for name, _, text in fault.fields:
            describe(cls, name, text)
    return schema


# ---------------------------------------------------------------------------------------------------------
# The markdown page (docs/scenario-format.md).

_INTRO = """\
# Scenario file format

Every key of a scenario file: its type, its default and what it means. This page is written by
`python -m sim schema --markdown > docs/scenario-format.md` from the comments of the reference file
(`sim/scenario/reference.yaml`, a copy of the shared `scenario-reference.yaml`) and, for the keys the reference
does not describe, from the models' field descriptions (`sim/scenario/models.py`, `faults.py`, `types.py`):
edit those, not this page (`tests/test_format_reference.py` checks that it is current). `python -m sim schema`
gives the same descriptions and defaults as a JSON Schema, for editors.

A key left out takes its default; `required` keys have none. Durations are a number of seconds or a string with
a unit (`150ms`, `30s`, `15m`, `2h`, `1d`), or a compound of them, largest unit first, with or without spaces
(`1h30m`, `2m30s`, `1h 30m`).
"""


def _cell(text: str) -> str:
    """Markdown table text: `|` escaped, `*` escaped outside code spans (amplitude*cos is no emphasis)."""
    parts = text.replace("|", "\\|").split("`")
    return "`".join(p.replace("*", "\\*") if i % 2 == 0 else p for i, p in enumerate(parts))


def _type_text(prop: dict) -> str:
    """A short type for a property of the JSON Schema."""
    if "$ref" in prop:
        return "section"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    options = prop.get("anyOf")
    if options and [o for o in options if o != {"type": "null"}] == DURATION_SCHEMA["anyOf"]:
        return "duration" + (" or null" if {"type": "null"} in options else "")
    if options:
        if any("dist" in (o.get("properties") or {}) for o in options):
            return "distribution"
        texts = [_type_text(o) for o in options if o != {"type": "null"}]
        text = " or ".join(dict.fromkeys(texts))
        return text + (" or null" if {"type": "null"} in options else "")
    kind = prop.get("type")
    if kind in ("number", "integer"):
        bounds = [f"{sign} {format_number(prop[name])}" for name, sign in
                  (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))
                  if name in prop]
        return ("whole number" if kind == "integer" else "number") + (" " + ", ".join(bounds) if bounds else "")
    if kind == "array":
        return "list"
    if kind == "object":
        return "mapping"
    if kind == "boolean":
        return "`true` \\| `false`"
    if kind == "string":
        return "date-time" if prop.get("format") == "date-time" else "text"
    return "value"


def _props(schema: dict, model) -> dict:
    node = schema if model is Scenario else schema["$defs"].get(model.__name__)
    return node["properties"] if node else model.model_json_schema()["properties"]   # a section in a WithJsonSchema


def _row(name: str, type_text: str, default: str, text: str) -> str:
    default = "" if default in ("", "[]") and type_text in ("section", "list") else default
    shown = "required" if default == "required" else (f"`{default}`" if default else "")
    return f"| `{name}` | {type_text} | {_cell(shown)} | {_cell(text)} |"


def _table(schema: dict, rows: list[Key]) -> list[str]:
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key in rows:
        prop = _props(schema, key.model).get(key.name, {})
        if key.section is None or "anyOf" in prop:             # a value, or a section that also takes one
            type_text = _type_text(prop)
        else:
            type_text = "list" if prop.get("type") == "array" else "section"
        text = f"*{key.group}.* {key.description}" if key.group else key.description
        lines.append(_row(key.name, type_text, key.default, text))
    return lines


def scenario_markdown() -> str:
    """docs/scenario-format.md: the conventions, one table per section, the faults, the trace options."""
    schema = scenario_json_schema()
    all_keys = keys()
    lines = [_INTRO, "## Conventions (from the reference file)", ""]
    header = reference().header
    start = header.index("Conventions") + 1 if "Conventions" in header else 0
    in_code = False
    for text in header[start:]:
        code = text.startswith("    ")
        if code != in_code:
            lines.append("  ```yaml" if code else "  ```")
            in_code = code
        lines.append(("  " + text[4:]) if code else text)
    if in_code:
        lines.append("  ```")
    sections = [("", None, "The top level of the file.")] + [
        (k.path, k, k.description) for k in all_keys if k.section is not None]
    for path, key, text in sections:
        if path == "faults":
            continue
        children = [k for k in all_keys if _parent(k.path) == path]
        item = key is not None and _props(schema, key.model).get(key.name, {}).get("type") == "array"
        heading = f"`{path}[]` (each item of `{path}`)" if item else (f"`{path}`" if path else "Top level")
        lines += ["", f"## {heading}", ""]
        if text:
            lines += [_cell(text[:1].upper() + text[1:]), ""]
        for note in key.notes if key else ():
            lines += [_cell(note), ""]
        lines += _table(schema, children)
        if path == "services[].traffic":
            lines += _trace_options()
    lines += _faults_markdown(next(k for k in all_keys if k.path == "faults"))
    return "\n".join(lines).rstrip() + "\n"


def _parent(path: str) -> str:
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    return parent.removesuffix("[]")


def _trace_options() -> list[str]:
    mapping = next(o for o in TRACE_SCHEMA["anyOf"] if o.get("type") == "object")
    lines = ["", "`trace` may also be a mapping `{file: PATH, format: ..., ...}` with these keys:", "",
             "| key | type | default | description |", "| --- | --- | --- | --- |"]
    for name, prop in mapping["properties"].items():
        default = "required" if name in mapping.get("required", ()) else _value_text(prop.get("default", ""))
        lines.append(_row(name, _type_text(prop), default, prop.get("description", "")))
    return lines


def _faults_markdown(key: Key) -> list[str]:
    kinds = fault_kinds()
    lines = ["", "## `faults[]` (each item of `faults`)", "", _cell(key.description[:1].upper() + key.description[1:]),
             "", "| kind | keys | description |", "| --- | --- | --- |"]
    for fault in kinds:
        names = ", ".join(f"`{n}`" + ("" if d == "required" else " (optional)") for n, d, _ in fault.fields)
        lines.append(f"| `{fault.kind}` | {names} | {_cell(fault.description)} |")
    lines += ["", "The keys of the faults:", "", "| key | kinds | type | default | description |",
              "| --- | --- | --- | --- | --- |"]
    seen: dict[tuple[str, str, str], list[str]] = {}
    types: dict[tuple[str, str, str], str] = {}
    for fault in kinds:
        props = FAULT_CLASSES[fault.kind].model_json_schema()["properties"]
        for name, default, text in fault.fields:
            seen.setdefault((name, default, text), []).append(fault.kind)
            types[(name, default, text)] = _type_text(props.get(name, {}))
    for (name, default, text), used in seen.items():
        where = "all" if len(used) == len(kinds) else ", ".join(f"`{k}`" for k in used)
        shown = "required" if default == "required" else f"`{default}`"
        lines.append(f"| `{name}` | {where} | {types[(name, default, text)]} | {shown} | {_cell(text)} |")
    examples = [(flow, text) for fault in kinds for flow, text in fault.examples]
    if examples:
        width = max(len(flow) for flow, _ in examples) + 4
        lines += ["", "Examples, from the reference file:", "", "```yaml", "faults:"]
        lines += [(f"  - {flow}".ljust(width + 2) + (f"# {text}" if text else "")).rstrip() for flow, text in examples]
        lines.append("```")
    return lines
