"""YAML for files a user gives (scenarios, service exports, command-line values): safe and bounded; a leaf.

`GuardedLoader` is PyYAML's SafeLoader with these changes:
- a key written twice in one mapping is refused (YAML would silently keep the last);
- a document is refused when it nests deeper than MAX_DEPTH, has more than MAX_ALIASES aliases, or when its
  aliases expand it to more than MAX_VALUES values (a "billion laughs" bomb: 9 anchors of 9 aliases each
  is 387 M values, which nothing downstream could even print), checked while composing, before anything is built;
- an alias inside the very value it names (a recursive document) is refused, so is an integer of more than
  MAX_DIGITS characters;
- numbers with an exponent are numbers as YAML 1.2 reads them (`1e3`, `1.0e12`, `2E-3`): YAML 1.1, which
  PyYAML follows, reads them as text.
Every refusal is a `yaml.MarkedYAMLError` (`LimitError` for the limits) with the line it happened at.
"""
from __future__ import annotations

import re

import yaml

MAX_DEPTH = 100            # a scenario nests ~8 levels, a Cloud Run export ~12
MAX_ALIASES = 1000         # a scenario reusing a block with `<<: *defaults` needs a handful
MAX_VALUES = 1_000_000     # every scalar, list and mapping, aliases expanded
MAX_DIGITS = 100           # an integer's characters (a float of more is inf, which the checks refuse)


class LimitError(yaml.composer.ComposerError):
    """A document beyond one of the limits (its `problem` says which)."""


class GuardedLoader(yaml.SafeLoader):
    """A SafeLoader with duplicate keys refused, bounded nesting and alias expansion, YAML 1.2 exponents."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._values = 0
        self._sizes: dict[int, int] = {}     # id(node) -> values it expands to (nodes live while composing)

    def compose_document(self):
        self._depth = self._aliases = self._values = 0
        self._sizes = {}
        try:
            return super().compose_document()
        finally:
            self._sizes = {}

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise LimitError(None, None, f"more than {MAX_ALIASES:,} aliases (*name) in one document",
                                 event.start_mark)
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node))
            if size is None:
                raise LimitError(None, None, f"alias *{event.anchor} is inside the value it names "
                                             "(a recursive document)", event.start_mark)
            self._count(size, event.start_mark)
            return node
        start = self.peek_event().start_mark
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise LimitError(None, None, f"nested more than {MAX_DEPTH} levels deep", start)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.ScalarNode):
            size = 1
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._sizes.get(id(item), 1) for item in node.value)
        else:
            size = 1 + sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        self._sizes[id(node)] = size
        self._count(1, start)                   # its children counted themselves
        return node

    def _count(self, size: int, mark) -> None:
        self._values += size
        if self._values > MAX_VALUES:
            raise LimitError(None, None, f"more than {MAX_VALUES:,} values once aliases are expanded", mark)


def _construct_mapping(loader: GuardedLoader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {_short(key)}",
                                                    key_node.start_mark)
    return loader.construct_mapping(node, deep=deep)


def _short(key) -> str:
    text = repr(key) if isinstance(key, (str, int, float, bool)) or key is None else f"a {type(key).__name__}"
    return text if len(text) <= 60 else text[:57] + "..."


def _construct_int(loader: GuardedLoader, node):
    if len(node.value) > MAX_DIGITS:     # Python refuses to read > 4300 digits with advice meant for programmers
        raise yaml.constructor.ConstructorError(None, None, f"a number of {len(node.value):,} digits (at most "
                                                            f"{MAX_DIGITS})", node.start_mark)
    return loader.construct_yaml_int(node)


GuardedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
GuardedLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
GuardedLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+.0123456789"))


def load(text: str):
    """One document (None if empty); yaml.YAMLError on bad YAML or a document beyond the limits."""
    return yaml.load(text, Loader=GuardedLoader)  # noqa: S506 (a SafeLoader subclass)


def load_all(text: str):
    """The documents of a multi-document stream, one at a time (each checked as `load` checks one)."""
    return yaml.load_all(text, Loader=GuardedLoader)  # noqa: S506 (a SafeLoader subclass)
