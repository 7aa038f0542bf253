"""Compound durations (`1h30m`, `2m30s`, `1h 30m`) wherever a duration is accepted: parts with units, the
largest unit first, each unit once, spaces between parts allowed; a bad one is refused in one line."""
from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario import ScenarioError, scenario_from_dict
from sim.scenario.types import DURATION_SCHEMA
from sim.units import format_duration, parse_duration

UNITS = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1), ("ms", 1e-3), ("us", 1e-6)]
PATTERN = re.compile(DURATION_SCHEMA["anyOf"][1]["pattern"])


@pytest.mark.parametrize("text, seconds", [
    ("1h30m", 5400.0), ("2m30s", 150.0), ("1h 30m", 5400.0), ("1d2h", 93_600.0), ("1s500ms", 1.5),
    ("5min30s", 330.0), ("1h30m15s", 5415.0), (" 1h 30m 15s ", 5415.0), ("1.5h30m", 7200.0),
])
def test_compound_forms(text, seconds):
    assert parse_duration(text) == seconds
    assert PATTERN.match(text)


@pytest.mark.parametrize("bad, hint", [
    ("30m1h", "largest unit first"), ("1h1h", "each unit once"), ("1m30", "1h30m"), ("1h-30m", "1h30m"),
    ("h30m", "1h30m"), ("1h30mx", "1h30m"), ("1h,30m", "1h30m"), ("1h30parsecs", "1h30m"),
])
def test_bad_compounds_are_refused_in_one_line(bad, hint):
    with pytest.raises(ValueError) as info:
        parse_duration(bad)
    assert hint in str(info.value) and "\n" not in str(info.value) and repr(bad) in str(info.value)


def test_compound_in_a_scenario_and_its_error_line():
    sc = scenario_from_dict({"name": "c", "duration": "1h30m", "warmup": "2m30s",
                             "services": [{"name": "web", "traffic": {"rate": [[0, 1], ["1h 15m", 5]]}}]})
    assert sc.duration == 5400 and sc.warmup == 150 and sc.services[0].traffic.rate[1][0] == 4500
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"name": "c", "duration": "30m1h", "services": [{"name": "web"}]})
    assert info.value.problems == ["<dict>: duration: must be a duration such as 30s, 150ms, 15m or 1h30m "
                                   "(largest unit first, each unit once), got '30m1h'"]


parts = st.lists(st.tuples(st.integers(0, 5), st.integers(0, 999)), min_size=2, max_size=6, unique_by=lambda p: p[0])


@settings(max_examples=300, deadline=None)
@given(parts, st.booleans())
def test_a_compound_is_the_sum_of_its_parts(chosen, spaced):
    chosen = sorted(chosen)                                    # largest unit first
    text = (" " if spaced else "").join(f"{n}{UNITS[i][0]}" for i, n in chosen)
    expected = math.fsum(n * UNITS[i][1] if UNITS[i][1] >= 1 else n / round(1 / UNITS[i][1]) for i, n in chosen)
    assert parse_duration(text) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert PATTERN.match(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(0, 10**7), st.floats(0, 1e7, allow_nan=False), st.integers(0, 10**9).map(lambda n: n / 1000)))
def test_format_then_parse_round_trips(seconds):
    """format_duration writes one unit (exact multiples) or rounds to 6 significant decimals of its unit."""
    text = format_duration(seconds)
    assert PATTERN.match(text)
    assert parse_duration(text) == pytest.approx(seconds, rel=1e-6, abs=1e-9)
    if isinstance(seconds, int) or (seconds * 1000).is_integer():
        assert parse_duration(text) == pytest.approx(seconds, rel=1e-15, abs=1e-15)
