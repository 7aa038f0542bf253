"""Which assumptions a sensitivity study varies, and over what range: `--only` / `--exclude` pick them by
name, and `--relative` varies an input the scenario states around its own value (x (1 - r) and x (1 + r))
instead of over the assumption's plausible range (sim/assumptions.py).

An input the planner measured (the scenario sets `service_time`, `cpu_per_request`...) is better questioned
by "what if it is 20% off" than by the model's whole plausible range. `--relative 20%` does that for every
assumption the scenario states; `--relative NAME=30%` for one (stated or not), and wins over the global one.
A value is scaled where it is a quantity: plain numbers, a distribution's location (mean, median, p99,
value, low, high, values: its cv stays), the numbers of a mapping (prices, back-offs; not a multiplier, a
jitter or a cv); a whole number stays whole. A text value (`auto`, an enforcement) keeps its plausible range.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..assumptions import ASSUMPTIONS, SETTINGS


class ChoiceError(Exception):
    """A bad --only / --exclude / --relative: one line, exit 2."""


DIST_LOCATION = ("mean", "median", "p99", "value", "low", "high")
NOT_SCALED = ("multiplier", "jitter", "cv", "dist")


def expand(scenario, path: str) -> list[str]:
    """`services[].x` -> `services.0.x`, `services.1.x`, ...; any other path as it is."""
    if path.startswith("services[]."):
        rest = path[len("services[]."):]
        return [f"services.{i}.{rest}" for i in range(len(scenario.services))]
    return [path]


def match(token: str) -> list[str]:
    """The assumptions a name selects: an exact parameter name, else every one containing it (any case)."""
    token = token.strip()
    names = [a.parameter for a in ASSUMPTIONS]
    if token in names:
        return [token]
    found = [n for n in names if token.lower() in n.lower()]
    if not found:
        raise ChoiceError(f"{token!r} names no assumption (they are: {', '.join(names)})")
    return found


def chosen(only: list[str] | None, exclude: list[str] | None) -> set[str]:
    """The assumptions left after --only (comma-separated, repeatable) and --exclude."""
    names = {a.parameter for a in ASSUMPTIONS}
    if only:
        names = {n for text in only for token in text.split(",") if token.strip() for n in match(token)}
    for text in exclude or ():
        for token in text.split(","):
            if token.strip():
                names -= set(match(token))
    return names


def _fraction(text: str, option: str) -> float:
    raw = text.strip()
    try:
        value = float(raw[:-1]) / 100 if raw.endswith("%") else float(raw)
    except ValueError:
        raise ChoiceError(f"{option}: expected a share such as 20% or 0.2, got {text!r}") from None
    if not 0 < value < 1:
        raise ChoiceError(f"{option}: the share must be above 0% and below 100%, got {text!r}")
    return value


def parse_relative(texts: list[str] | None) -> dict[str, float]:
    """`--relative 20%` -> {"*": 0.2}; `--relative NAME=30%` -> {parameter: 0.3} (each one NAME selects)."""
    out: dict[str, float] = {}
    for text in texts or ():
        if "=" in text:
            name, share = text.rsplit("=", 1)
            fraction = _fraction(share, f"--relative {text}")
            for parameter in match(name):
                out[parameter] = fraction
        else:
            out["*"] = _fraction(text, f"--relative {text}")
    return out


def scaled(value, factor: float):
    """`value` with its quantities x factor (None: nothing in it is a quantity)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        return max(1 if value >= 1 else 0, round(value * factor))
    if isinstance(value, float):
        return value * factor
    if isinstance(value, dict):
        keys = DIST_LOCATION if "dist" in value else [k for k in value if k not in NOT_SCALED]
        out, changed = dict(value), False
        for k in keys:
            s = scaled(value.get(k), factor)
            if s is not None:
                out[k], changed = s, True
        if "dist" in value and isinstance(value.get("values"), list):
            out["values"], changed = [v * factor for v in value["values"]], True
        return out if changed else None
    return None


def _stated(raw, path: str) -> bool:
    """Whether the file as written sets `path` (`services[]`: for some service)."""
    def walk(node, parts):
        if not parts:
            return True
        if not isinstance(node, dict):
            return False
        head, rest = parts[0], parts[1:]
        if head == "services[]":
            return any(walk(s, rest) for s in node.get("services") or [] if isinstance(s, dict))
        return head in node and walk(node[head], rest)
    parts = path.split(".")
    if parts[0].startswith("services[]"):
        parts = ["services[]"] + parts[1:]
    return walk(raw, parts)


@dataclass(frozen=True)
class Range:
    low: dict            # concrete scenario path -> value
    high: dict
    low_text: str
    high_text: str


def relative_range(scenario, raw, parameter: str, relative: dict[str, float]) -> Range | None:
    """The relative arms of one assumption, or None when it keeps its plausible range (no --relative for it,
    not stated in the file under a global --relative, or nothing in it to scale)."""
    from .paths import current_value
    if parameter in relative:
        fraction = relative[parameter]
    elif "*" in relative and raw is not None and any(_stated(raw, p) for p in SETTINGS[parameter].paths):
        fraction = relative["*"]
    else:
        return None
    low, high = {}, {}
    for path in SETTINGS[parameter].paths:
        for concrete in expand(scenario, path):
            value = current_value(scenario, concrete)
            down, up = scaled(value, 1 - fraction), scaled(value, 1 + fraction)
            if down is None or up is None:
                return None
            low[concrete], high[concrete] = down, up
    if not low:
        return None
    share = f"{fraction:.0%}"
    return Range(low, high, f"-{share} of the scenario's", f"+{share} of the scenario's")
