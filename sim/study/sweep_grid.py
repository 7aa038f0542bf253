"""The grid of a sweep: `--set PATH=V1,V2,...` options and the cells they span, every cell checked up front.

The cells are the cartesian product of the settings' values, the first `--set` varying slowest. Each cell
is the scenario with all its settings applied at once (paths resolved against the scenario as given, so a
setting that reorders the faults cannot move another setting's target). Light: no SimPy, SciPy or matplotlib.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..scenario import ScenarioError, with_updates
from ..units import show_value
from .paths import current_value, dotted_path, parse_value

_OPEN, _CLOSE = "[{", "]}"


@dataclass(frozen=True)
class Setting:
    path: str                # as given on the command line
    dotted: str              # the with_updates path it names
    texts: tuple[str, ...]   # the values as given
    values: tuple            # the values parsed (YAML scalars; durations stay text until checked)


@dataclass(frozen=True)
class Cell:
    index: int
    texts: tuple[str, ...]   # one value per setting, as given
    scenario: object         # the cell's checked Scenario

    def label(self, settings: list[Setting]) -> str:
        return ", ".join(f"{s.path}={t}" for s, t in zip(settings, self.texts))

    def resolved_values(self, settings: list[Setting]) -> dict:
        """Each setting's value in the cell's resolved scenario (durations in seconds), for charts."""
        return {s.path: current_value(self.scenario, s.path) for s in settings}


def split_values(text: str) -> list[str]:
    """`V1,V2,...` split at the commas outside brackets and quotes (`[[0, 5], [1h, 9]],10` is two values)."""
    out, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i].strip())
            start = i + 1
    out.append(text[start:].strip())
    return out


def parse_setting(option: str, scenario) -> Setting:
    """One `--set PATH=V1,V2,...`; ScenarioError (one line, naming the option) when it cannot be used."""
    path, sep, rest = option.partition("=")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError([f"--set {option}: expected PATH=V1,V2,... e.g. services[0].min_instances=1,2,3"])
    texts = split_values(rest)
    if any(not t for t in texts):
        raise ScenarioError([f"--set {option}: an empty value (write null for no value)"])
    repeated = sorted({t for t in texts if texts.count(t) > 1})
    if repeated:
        raise ScenarioError([f"--set {option}: value {repeated[0]} given twice"])
    try:
        dotted = dotted_path(scenario, path)
        values = tuple(parse_value(t) for t in texts)
    except ScenarioError as exc:
        raise ScenarioError([f"--set {option}: {p}" for p in exc.problems]) from None
    return Setting(path, dotted, tuple(texts), values)


def parse_settings(options: list[str], scenario) -> list[Setting]:
    """Every `--set`, all problems at once; the same setting twice (in any spelling) is refused."""
    settings, problems = [], []
    for option in options:
        try:
            setting = parse_setting(option, scenario)
        except ScenarioError as exc:
            problems += exc.problems
            continue
        twin = next((s for s in settings if s.dotted == setting.dotted), None)
        if twin is not None:
            problems.append(f"--set {option}: the same setting as --set {twin.path}=... (give its values once)")
            continue
        settings.append(setting)
    if problems:
        raise ScenarioError(problems)
    return settings


def build_grid(scenario, settings: list[Setting]) -> list[Cell]:
    """Every cell's checked scenario, first setting slowest; ScenarioError with one line per problem, each
    naming its first cell (a problem shared by several cells is told once, with how many share it)."""
    cells, seen = [], {}
    source = f"{scenario.source_path or '<scenario>'}: "    # with_updates names the file; the cell says enough
    services = [sv.name for sv in scenario.services]
    for index, combo in enumerate(itertools.product(*(range(len(s.values)) for s in settings))):
        texts = tuple(s.texts[k] for s, k in zip(settings, combo))
        where = f"cell {index} ({', '.join(f'{s.path}={t}' for s, t in zip(settings, texts))})"
        try:
            cell_scenario = with_updates(scenario, {s.dotted: s.values[k] for s, k in zip(settings, combo)})
        except ScenarioError as exc:
            for problem in exc.problems:
                seen.setdefault(problem.removeprefix(source), []).append(where)
            continue
        names = [sv.name for sv in cell_scenario.services]
        if names != services:                    # the figures are per service name, the same in every cell
            seen.setdefault(f"a sweep cannot rename services (services here: {', '.join(names)})", []).append(where)
            continue
        cells.append(Cell(index, texts, cell_scenario))
    if seen:
        raise ScenarioError([f"{named[0]}: {problem}" + (f" (and {len(named) - 1} other cell"
                                                          f"{'s' if len(named) > 2 else ''})" if len(named) > 1 else "")
                             for problem, named in seen.items()])
    _refuse_same_values(settings, cells)
    return cells


def _refuse_same_values(settings: list[Setting], cells: list[Cell]) -> None:
    """Two values of one setting that mean the same (`1,1.0`, `60,1m`) would make twin cells: refused."""
    problems = []
    for k, setting in enumerate(settings):
        meaning: dict = {}                      # the value's meaning -> the first text that gave it
        looked = set()
        for cell in cells:
            text = cell.texts[k]
            if text in looked:
                continue
            looked.add(text)
            value = current_value(cell.scenario, setting.path)
            key = repr(value)                     # 1 and 1.0 alike: numbers compared as floats
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                key = repr(float(value))
            if key in meaning:
                problems.append(f"--set {setting.path}: {meaning[key]} and {text} are the same value "
                                f"({show_value(value)}): give each value once")
                continue
            meaning[key] = text
    if problems:
        raise ScenarioError(problems)
