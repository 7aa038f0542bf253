"""The reference file's comments as descriptions: a small parser of `reference.yaml` (a byte-identical copy of
the shared scenario-reference.yaml, tests/test_format_reference.py checks it).

The reference writes one key a line with its default and a comment; these lines give each key's description,
so that `sim schema` and docs/scenario-format.md say what the reference says, from one source. What it reads:
- `key: value   # text`, continued by comment lines whose `#` stands in the same column (also inside a
  commented-out line, where the continuation reads `#   ...   #   more`);
- a commented-out key (`# trace: ...   # text`) as a key, and list items written as flow mappings
  (`- {at: 20m, kind: key-disable, key: images}   # text`, commented out or not) as examples of a fault kind;
- other comment blocks: before the first key, the file's conventions (`header`); ending with ":", a label of
  the keys that follow at the same indentation (`group`); else a note of the section they open or stand in.
Paths join keys with dots, a list's items as `name[]`: `services[].autoscaling.window`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

REFERENCE = Path(__file__).with_name("reference.yaml")

_KEY = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[A-Za-z_]\w*):(?=\s|$)(?P<rest>.*)$")
_FLOW_ITEM = re.compile(r"^(?P<indent> *)- +(?P<flow>\{.*?\})(?P<rest>\s*(#.*)?)$")
_COMMENT = re.compile(r"^(?P<indent> *)#(?P<text>.*)$")
# A continuation: `#` in the column of the comment it continues, or `#` and two spaces further right than the
# key, possibly inside a commented-out line (`  #      #   more`).
_INNER = re.compile(r"^ *(?:# +)?(?P<hash>#)(?P<gap> {2,})?(?P<text>.*)$")


@dataclass
class Entry:
    """One key of the reference: its value as written ("" for a section), its comment, the notes of the
    comment blocks that belong to it, and the label of its group."""

    path: str
    value: str = ""
    text: str = ""
    notes: list[str] = field(default_factory=list)
    group: str = ""
    commented: bool = False                    # a commented-out key: an example, not the default


@dataclass
class Reference:
    header: list[str]                                   # the conventions, one line each (without "# ")
    entries: dict[str, Entry]                           # path -> entry, in the file's order
    examples: dict[str, list[tuple[str, str]]]          # fault kind -> [(flow mapping, comment)]


def _split_comment(rest: str, offset: int) -> tuple[str, str, int | None]:
    """(value, comment, column of its `#` in the line) of what follows a key's colon."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1].isspace()):
            return rest[:i].strip(), rest[i + 1:].strip(), offset + i
    return rest.strip(), "", None


class _Parser:
    def __init__(self):
        self.ref = Reference([], {}, {})
        self.stack: list[tuple[int, str]] = []       # (indentation, name) of the open keys and list items
        self.last: tuple[Entry | list, int, int] | None = None  # what a continuation extends, its `#` column
                                                                # and the indentation of its line
        self.pending: list[tuple[int, str]] = []     # a comment block waiting for the next key
        self.group: tuple[int, str] | None = None
        self.seen_key = False

    def path(self, name: str | None = None) -> str:
        parts = [n for _, n in self.stack] + ([name] if name else [])
        return ".".join(parts).replace(".[]", "[]")

    def pop_to(self, indent: int):
        while self.stack and self.stack[-1][0] >= indent:
            self.stack.pop()

    def line(self, line: str):
        if not line.strip():
            self.last, self.group = None, None
            return
        comment = _COMMENT.match(line)
        if comment:
            self.comment_line(line, comment)
        elif not self.code_line(line, 0):
            self.last = None

    def comment_line(self, line: str, match):
        inner = _INNER.match(line)                   # the `#` of a continuation, if the line is one
        if self.last and inner and (inner.start("hash") == self.last[1]
                                    or (inner["gap"] and inner.start("hash") > self.last[2])):
            self.extend(inner["text"].strip())
            return
        text = match["text"][1:] if match["text"].startswith(" ") else match["text"]
        if not self.seen_key:
            self.ref.header.append(text)
            return
        indent = len(match["indent"])
        stripped = text.lstrip()
        shift = len(line) - len(stripped) - indent     # where the commented-out line's text really starts
        if self.pending or not self.code_line(" " * indent + stripped, shift):   # prose is never a key
            self.pending.append((indent, stripped))
            self.last = None

    def extend(self, text: str):
        target = self.last[0]
        if isinstance(target, Entry):
            target.text = f"{target.text} {text}".strip()
        else:
            target[-1] = (target[-1][0], f"{target[-1][1]} {text}".strip())

    def code_line(self, line: str, shift: int) -> bool:
        """A key or a flow-mapping list item (`shift`: how far right the line really stands); False otherwise."""
        item = _FLOW_ITEM.match(line)
        if item:
            try:
                kind = (yaml.safe_load(item["flow"]) or {}).get("kind")
            except yaml.YAMLError:
                return False
            _, text, col = _split_comment(item["rest"], item.end("flow") + shift)
            examples = self.ref.examples.setdefault(str(kind), [])
            examples.append((item["flow"], text))
            self.last = (examples, col, len(item["indent"]) + shift) if col is not None else None
            self.pending = []
            return True
        key = _KEY.match(line)
        if not key:
            return False
        self.seen_key = True
        indent = len(key["indent"])
        if key["dash"]:
            self.pop_to(indent)
            self.stack.append((indent, "[]"))
            indent += len(key["dash"])
        self.pop_to(indent)
        value, text, col = _split_comment(key["rest"], key.start("rest") + shift)
        entry = Entry(self.path(key["key"]), value, text, commented=shift > 0)
        if self.group and indent < self.group[0]:
            self.group = None                                 # the group's section has ended
        self.take_pending(entry, indent)
        if self.group and indent == self.group[0]:
            entry.group = self.group[1]
        self.ref.entries[entry.path] = entry
        self.stack.append((indent, key["key"]))
        self.last = (entry, col, indent + shift) if col is not None else None
        return True

    def take_pending(self, entry: Entry, indent: int):
        if not self.pending:
            return
        note = " ".join(text for _, text in self.pending)
        col = self.pending[0][0]
        self.pending = []
        if note.endswith(":"):
            self.group = (indent, note[:-1])
        elif entry.value == "" and col == indent:            # a block just above a section: its note
            entry.notes.append(note)
        else:                                                 # inside a section: the section's note
            parent = self.ref.entries.get(self.path())
            (parent.notes if parent else self.ref.header).append(note)


def parse_reference(text: str) -> Reference:
    parser = _Parser()
    for line in text.splitlines():
        parser.line(line)
    return parser.ref


@cache
def reference() -> Reference:
    """The shipped reference file, parsed once."""
    return parse_reference(REFERENCE.read_text(encoding="utf-8"))
