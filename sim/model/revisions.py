"""Revisions: every configuration change makes one, named by Cloud Run's rules.

A name starts with `SERVICE-`, holds only lowercase letters, digits and `-`, does not end with `-` and is
at most 63 characters. Cloud Run's generated names look like `checkout-00002-xyz`: we do the same, with
the three letters drawn from the service's own stream.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

NAME_RULE = re.compile(r"^[a-z0-9-]{1,63}$")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, eq=False)
class Revision:
    name: str
    number: int
    key: object          # KeyVersion, or None for Google-managed encryption


def revision_name(service: str, number: int, rng) -> str:
    suffix = "".join(_LETTERS[i] for i in rng.integers(0, 26, 3))
    name = f"{service}-{number:05d}-{suffix}"
    assert NAME_RULE.match(name) and name.startswith(f"{service}-") and not name.endswith("-"), name
    return name


def is_valid_revision_name(name: str, service: str) -> bool:
    return bool(NAME_RULE.match(name)) and name.startswith(f"{service}-") and not name.endswith("-")
