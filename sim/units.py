"""Units at the edge of the simulator: durations and memory sizes as people write them.

Inside the simulator time is always float seconds and memory float MiB. Scenario files may write
`150ms`, `30s`, `15m`, `2h`, `1d`, compounds such as `1h30m` (or a bare number of seconds) and `512Mi`, `1Gi`, `2G` (or a bare
number of MiB). These functions turn such values into floats and refuse anything else with a short
message meant for a person (the caller adds the file name and the key's path).
"""

from __future__ import annotations

import math
import re
import reprlib

__all__ = ["InputError", "parse_duration", "parse_memory", "format_duration", "format_number", "show_value"]


class InputError(ValueError):
    """A value that cannot be accepted. `key` optionally names the sub-key at fault (e.g. `median`)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


# Divisors for sub-second units and multipliers for the others: dividing by an exact integer gives the
# float nearest the decimal value ("8ms" -> 0.008 exactly as Python writes it).
_DIVIDE = {"us": 1_000_000, "µs": 1_000_000, "ms": 1_000}
_MULTIPLY = {"": 1, "s": 1, "m": 60, "min": 60, "h": 3_600, "d": 86_400}
_DURATION_RE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zµ]*)\s*$")
# A compound duration: parts with units, largest unit first, each unit once ("1h30m", "2m30s", "1h 30m").
_PART_RE = re.compile(r"\s*((?:\d+(?:\.\d*)?|\.\d+))\s*(us|µs|ms|min|s|m|h|d)(?![a-zµ])")
_ORDER = ("d", "h", "m", "s", "ms", "us")  # min is m, µs is us
_EXAMPLES = "a duration such as 30s, 150ms, 15m or 1h30m"

_MEMORY_UNITS = {  # MiB per unit
    "": 1.0,
    "ki": 1 / 1024, "mi": 1.0, "gi": 1024.0, "ti": 1024.0**2,
    "kib": 1 / 1024, "mib": 1.0, "gib": 1024.0, "tib": 1024.0**2,
    "k": 1e3 / 2**20, "m": 1e6 / 2**20, "g": 1e9 / 2**20, "t": 1e12 / 2**20,
    "kb": 1e3 / 2**20, "mb": 1e6 / 2**20, "gb": 1e9 / 2**20, "tb": 1e12 / 2**20,
}
_MEMORY_RE = re.compile(r"^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*$")


def format_number(x: float) -> str:
    """A number as a person writes it: 0 not 0.0, 0.25 not 0.25000000000000001."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


def show_value(value) -> str:
    """A short rendering of a value for an error message, in YAML's words (null, true)."""
    if isinstance(value, float):
        text = format_number(value)
    elif isinstance(value, bool):
        text = str(value).lower()
    elif value is None:
        text = "null"
    elif isinstance(value, str):
        text = repr(value[:60])
    else:
        text = _SHORT.repr(value)   # bounded work: a huge (or alias-bombed) value is never rendered whole
    return text if len(text) <= 60 else text[:57] + "..."


# repr() of at most a few items per level: show_value's cost does not grow with the value it shows.
_SHORT = reprlib.Repr()
_SHORT.maxlevel = 4
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = _SHORT.maxfrozenset = 20
_SHORT.maxstring = _SHORT.maxother = 60


def _seconds(number: float, unit: str) -> float:
    return number / _DIVIDE[unit] if unit in _DIVIDE else number * _MULTIPLY[unit]


def _compound(text: str) -> float:
    """Seconds of "1h30m", "2m30s", "1h 30m 15s": each part a number with a unit, largest unit first."""
    parts, end = [], 0
    for match in _PART_RE.finditer(text):
        if match.start() != end:
            break
        parts.append((float(match.group(1)), match.group(2)))
        end = match.end()
    if len(parts) < 2 or text[end:].strip():
        raise InputError(f"must be {_EXAMPLES}, got {show_value(text)}")
    ranks = [_ORDER.index({"min": "m", "µs": "us"}.get(unit, unit)) for _, unit in parts]
    if any(a >= b for a, b in zip(ranks, ranks[1:])):
        raise InputError(f"must be {_EXAMPLES} (largest unit first, each unit once), got {show_value(text)}")
    return math.fsum(_seconds(number, unit) for number, unit in parts)


def parse_duration(value) -> float:
    """Seconds from a number (seconds) or a string such as "150ms", "30s", "15m", "2h", "1d", "250us", or a
    compound of them, largest unit first, with or without spaces between the parts: "1h30m", "2m30s", "1h 30m"."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"must be {_EXAMPLES}, got {show_value(value)}")
    if isinstance(value, str):
        match = _DURATION_RE.match(value)
        unit = match.group(2) if match else None
        if match is None:
            seconds = _compound(value)
        elif unit not in _DIVIDE and unit not in _MULTIPLY:
            raise InputError(f"must be {_EXAMPLES}, got {show_value(value)}")
        else:
            seconds = _seconds(float(match.group(1)), unit)
    else:
        seconds = float(value) if abs(value) < 1e300 or isinstance(value, float) else math.inf
    if not math.isfinite(seconds):
        raise InputError(f"must be a finite duration, got {show_value(value)}")
    if seconds < 0:
        raise InputError(f"must not be negative, got {show_value(value)}")
    return seconds + 0.0  # turns -0.0 into 0.0


def parse_memory(value) -> float:
    """MiB from a number (MiB) or a string such as "512Mi", "1Gi" (binary) or "256M", "2G" (decimal)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"must be a memory size such as 512Mi or 2Gi, got {show_value(value)}")
    if isinstance(value, str):
        match = _MEMORY_RE.match(value)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _MEMORY_UNITS:
            raise InputError(f"must be a memory size such as 512Mi or 2Gi, got {show_value(value)}")
        mib = float(match.group(1)) * _MEMORY_UNITS[unit]
    else:
        mib = float(value) if abs(value) < 1e300 or isinstance(value, float) else math.inf
    if not math.isfinite(mib):
        raise InputError(f"must be a finite memory size, got {show_value(value)}")
    if mib < 0:
        raise InputError(f"must not be negative, got {show_value(value)}")
    return mib + 0.0


def format_duration(seconds: float) -> str:
    """A compact label for a duration in seconds: 0.15 -> "150ms", 90 -> "90s", 900 -> "15m", 7200 -> "2h"."""
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds == 0:
        return "0s"
    sign, s = ("-", -seconds) if seconds < 0 else ("", seconds)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if s >= size and (s / size).is_integer():
            return f"{sign}{int(s / size)}{unit}"
    if s >= 1:
        return f"{sign}{format_number(round(s, 6))}s"
    if s >= 1e-3:
        return f"{sign}{format_number(round(s * 1e3, 6))}ms"
    return f"{sign}{format_number(round(s * 1e6, 6))}us"
