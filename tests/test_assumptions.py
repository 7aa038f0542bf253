"""sim/assumptions.py: every row of the README's assumptions table has an entry with a plausible range, and
each default is the scenario model's default where the row is one plain scenario key."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sim.assumptions import ASSUMPTIONS, BY_PARAMETER, plausible_range
from sim.scenario import scenario_from_dict

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_rows() -> list[list[str]]:
    text = README.read_text()
    section = text[text.index("## Assumptions"):]
    section = section[:section.index("\n## ", 1)]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["parameter", "default", "plausible range", "note"]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[2:]]


def readme_name(cell: str) -> str:
    """`services[].x` (older key) -> services[].x; plain text stays."""
    cell = re.sub(r"\s*\((added|older) key\)$", "", cell)
    m = re.fullmatch(r"`([^`]+)`", cell)
    return m.group(1) if m else cell


def test_every_readme_assumption_has_an_entry_and_a_range():
    names = [readme_name(row[0]) for row in readme_rows()]
    assert names and len(names) == len(set(names))
    assert set(names) == set(BY_PARAMETER), (set(names) ^ set(BY_PARAMETER))
    for row in readme_rows():
        assert row[2], row                              # the README shows the range too
    for a in ASSUMPTIONS:
        assert a.reason and "\n" not in a.reason
        assert plausible_range(a.parameter) == (a.low, a.high)


def model_default(path: str):
    sc = scenario_from_dict({"name": "x", "services": [{"name": "s"}]}, "<test>")
    obj = sc
    for part in path.split("."):
        obj = obj.services[0] if part == "services[]" else getattr(obj, part)
    return obj


@pytest.mark.parametrize("a", [a for a in ASSUMPTIONS if a.path is not None], ids=lambda a: a.parameter)
def test_defaults_equal_the_scenario_models(a):
    got = model_default(a.path)
    if isinstance(a.default, dict):
        assert {k: getattr(got, k) for k in a.default} == a.default
    else:
        assert got == a.default
    if isinstance(a.low, (int, float)) and isinstance(a.high, (int, float)):
        assert a.low <= a.high
