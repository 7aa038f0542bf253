"""`sim solve`: the smallest value of any setting at which every SLO holds with confidence.

    python -m sim solve FILE --param PATH --slo EXPR [--slo ...] [--service NAME] [--low L --high H]
                             [--replications N] [--confidence C] [--workers N] [--scheduler ADDR] [--out DIR]

The setting is any numeric scenario key (sim.study.paths): whole numbers when its current value is one
(min_instances, max_instances, concurrency...), any number otherwise (durations in seconds, rates), bisected
to 3% of the answer. The solver ASSUMES THE SLOs ARE MONOTONE IN THE SETTING, more being better: if a level
meets them, every larger level does. Every level runs the same replications (same seed, same replication
indices), so levels are compared on common random numbers; the search is sim.study.search (the quota
solver's): from the current value (within --low/--high), double until a level meets the SLOs, halve until one
fails, bisect. 80% of the answer is also run, as evidence that the answer is not far above the need.
Writes solve.json, solve_report.md and solve_curve.png into --out (default results/<name>-solve/), atomically.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..slo import Slo, assess, check_known, windows_of
from ..summary_schema import failed_requests
from ..windows import WindowError, with_windows
from .search import MAX_DOUBLINGS, RESOLUTION, Search, Unreachable


# Top-level keys that are not settings of the system: a "smallest value" of them would be an accident of
# the draws (seed) or of how the study is run (replications), not a recommendation.
NOT_SOLVABLE = {"seed": "the seed picks the random draws; no value of it is a property of the system",
                "replications": "the number of replications is how precisely the study measures "
                                "(--replications), not a setting of the system"}


class SolveError(Exception):
    """A bad request (path, bounds, service): one line, exit 2."""


class Unmet(Exception):
    """The SLOs are not met within the bounds: one line, exit 1."""


@dataclass
class Level:
    value: float
    met: bool
    rows: list                   # slo.assess rows: slo, service, mean, low, high, bound, values, met
    seconds: float
    cost: dict = field(default_factory=dict)   # level_cost: cost per month and failed requests, means

    def to_json(self) -> dict:
        return {"value": self.value, "met": self.met, "metrics": self.rows, **self.cost,
                "wall_seconds": round(self.seconds, 2)}


@dataclass
class SolveResult:
    scenario: str
    param: str
    slos: list[Slo]
    service: str | None
    confidence: float
    replications: int
    integer: bool
    current: float
    low: float
    high: float | None
    recommended: float
    at_80_percent: float | None
    levels: dict = field(default_factory=dict)        # value -> Level
    notes: list = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "scenario": self.scenario,
            "param": self.param,
            "recommended": self.recommended,
            "recommended_meets_slo": self.levels[self.recommended].met,
            "current": self.current,
            "low": self.low,
            "high": self.high,
            "kind": "integer" if self.integer else "number",
            "slo": [s.text for s in self.slos],
            "objectives": [{"slo": s.text, "metric": s.metric, "op": s.op, "threshold": s.threshold}
                           for s in self.slos],
            "service": self.service,
            "confidence": self.confidence,
            "replications": self.replications,
            "assumption": "the SLOs are monotone in the setting: a level that meets them implies every larger one does",
            "at_80_percent": None if self.at_80_percent is None else {
                "value": self.at_80_percent, "met": self.levels[self.at_80_percent].met},
            "levels": [self.levels[v].to_json() for v in sorted(self.levels)],
            "levels_run": len(self.levels),
            "levels_skipped": 0,         # no exact short-cut is known for an arbitrary setting
            "notes": self.notes,
        }


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SolveError(f"{what} is {value!r}, not a number: sim solve varies numeric settings only")
    return value


class Solver:
    def __init__(self, scenario, param: str, slos: list[Slo], *, service: str | None = None,
                 low=None, high=None, confidence: float = 0.95, replications: int = 5, workers: int = 1,
                 scheduler: str | None = None, progress=None, kernel: str = "auto"):
        from ..scenario import ScenarioError
        from .paths import current_value
        if not 0.5 <= confidence < 1:
            raise SolveError(f"--confidence must be at least 0.5 and below 1, got {confidence:g}")
        if replications < 2:
            raise SolveError(f"--replications must be at least 2 to state a confidence, got {replications}")
        for slo in slos:
            check_known(slo)
        try:                                   # every level records the windows the SLOs name
            scenario = with_windows(scenario, windows_of(slos))
        except WindowError as exc:
            raise SolveError(f"--slo: {exc}") from None
        names = [s.name for s in scenario.services]
        if service is not None and service not in names:
            raise SolveError(f"--service {service!r}: no such service (the scenario has: {', '.join(names)})")
        self.scenario, self.param, self.slos, self.service = scenario, param, list(slos), service
        self.confidence, self.replications = confidence, replications
        self.workers, self.scheduler, self.kernel = workers, scheduler, kernel
        self.store = None                 # the resume store (a folder), set by the command
        self.progress = progress or (lambda text: None)
        self.baseline = any(s.path[0] == "capacity_loss" for s in self.slos)
        why = NOT_SOLVABLE.get(param.strip())
        if why:
            raise SolveError(f"--param {param}: {why}; solve for a setting of the service, the key or KMS")
        try:
            current = current_value(scenario, param)
        except ScenarioError as exc:
            raise SolveError(exc.problems[0]) from None
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            raise SolveError(f"--param {param!r}: names no setting of {scenario.name}") from None
        self.current = _number(current, f"--param {param}")
        self.integer = isinstance(current, int)
        self.step = 1 if self.integer else 0
        self.low = self._bound(low, "--low") if low is not None else self._smallest_valid()
        self.high = self._bound(high, "--high") if high is not None else None
        if self.high is not None and self.high < self.low:
            raise SolveError(f"--high {self.high:g} is below --low {self.low:g}")
        self.levels: dict[float, Level] = {}

    # -- the setting's values -----------------------------------------------------------------------------
    def _apply(self, value):
        from .paths import apply_setting
        return apply_setting(self.scenario, self.param, value)

    def _bound(self, text, flag: str) -> float:
        """A bound as written (`30m`, `5`) in the setting's resolved unit (seconds for durations)."""
        from ..scenario import ScenarioError
        from .paths import current_value, parse_value
        value = parse_value(text) if isinstance(text, str) else text
        try:
            resolved = current_value(self._apply(value), self.param)
        except ScenarioError as exc:
            raise SolveError(f"{flag} {text}: {exc.problems[0]}") from None
        resolved = _number(resolved, f"{flag} {text}")
        if self.integer and not float(resolved).is_integer():
            raise SolveError(f"{flag} {text}: {self.param} takes whole numbers")
        return int(resolved) if self.integer else resolved

    def _smallest_valid(self) -> float:
        """The smallest whole number from 0 up that the scenario accepts (0.0 for other numbers, if valid);
        the current value when none below it is valid."""
        from ..scenario import ScenarioError
        candidates = range(0, min(int(self.current), 64)) if self.integer else (0.0,)
        for value in candidates:
            try:
                self._apply(value)
                return value
            except ScenarioError:
                continue
        return self.current

    # -- running a level ---------------------------------------------------------------------------------
    def _summary(self, value) -> tuple[dict, dict]:
        from ..scenario import ScenarioError
        from .engine import run_cells
        from .units import study_summary
        try:
            scenario = self._apply(value)
        except ScenarioError as exc:
            raise SolveError(f"{self.param}={value:g} is not a valid setting ({exc.problems[0]}); "
                             "bound the search with --low/--high") from None
        [runs] = run_cells([scenario], self.replications, baseline=self.baseline, workers=self.workers,
                           scheduler=self.scheduler, first_cell=len(self.levels), store=self.store,
                           kernel=self.kernel)
        cost = level_cost(runs, windows_of(self.slos))   # every service's cost, before --service narrows
        if self.service is not None:
            runs = [{**r, "services": {self.service: r["services"][self.service]}} for r in runs]
        return study_summary(runs), cost

    def evaluate(self, value) -> Level:
        if value in self.levels:
            return self.levels[value]
        t0 = time.perf_counter()
        summary, cost = self._summary(value)
        met, rows = assess(self.slos, summary, self.confidence)
        level = self.levels[value] = Level(value, met, rows, time.perf_counter() - t0, cost)
        self.progress(f"  {self.param} = {value:>10g}: {'meets' if met else 'fails'} the SLOs  "
                      f"({level.seconds:.1f} s)")
        return level

    def expected_levels(self) -> int:
        """A guess of the levels the search runs, for the work estimate: 2 log2(range) + 3."""
        top = self.high if self.high is not None else max(4 * self.current, self.low + 8)
        span = (top - self.low) if self.integer else max(top, 1e-9) / max(self.low, RESOLUTION * top)
        return int(2 * math.ceil(math.log2(max(span, 2))) + 3)

    # -- the search ----------------------------------------------------------------------------------------
    def solve(self) -> SolveResult:
        cap = self.high
        search = Search(lambda v: self.evaluate(v).met, step=self.step, floor=self.low, cap=cap)
        start = max(self.current, self.low) if cap is None else min(max(self.current, self.low), cap)
        search.met(start)
        try:
            recommended = search.smallest(cap)
        except Unreachable as exc:
            last = exc.args[0]
            where = f"the high bound {self.param}={last:g}" if cap is not None and last >= cap else \
                f"{self.param}={last:g} ({MAX_DOUBLINGS} doublings from {start:g}; give --high to go further)"
            failing = "; ".join(f"{r['service']}: {r['slo']} (mean {_g(r['mean'])}, bound {_g(r['bound'])})"
                                for r in self.levels[last].rows if not r["met"])
            raise Unmet(f"the SLOs are not met even at {where}: {failing}") from None
        at_80 = self._at_80(recommended)
        if at_80 is not None:
            self.evaluate(at_80)
        return SolveResult(self.scenario.name, self.param, self.slos, self.service, self.confidence,
                           self.replications, self.integer, self.current, self.low, self.high, recommended, at_80,
                           dict(self.levels), self._notes(recommended, at_80))

    def _at_80(self, recommended):
        value = 0.8 * recommended
        if self.integer:
            value = min(round(value), recommended - 1)
        return value if self.low <= value < recommended else None

    def _notes(self, recommended, at_80) -> list[str]:
        notes = []
        if recommended == self.low:
            notes.append(f"The SLOs hold even at the low bound ({recommended:g}): the answer may be lower still.")
        if at_80 is None:
            notes.append("No 80% check: nothing distinct lies between the low bound and 80% of the answer.")
        elif self.levels[at_80].met:
            notes.append(f"The SLOs also hold at 80% of the recommendation ({at_80:g}): the setting barely matters "
                         "near here, or the SLOs are not monotone in it.")
        broken = [v for v, lv in self.levels.items() if lv.met and any(
            not w.met for u, w in self.levels.items() if u > v)]
        if broken:
            notes.append("Some level meets the SLOs while a larger one fails: they are not monotone in the setting "
                         "over the levels tried, so the answer may not be the smallest.")
        return notes


def level_cost(runs: list[dict], windows: list[str]) -> dict:
    """A level's cost beside its capacity, means over the replications of the sums over services: the cost
    per month at the scenario's traffic (cost.usd_per_month) and the failed requests over the whole run and
    over each window the SLOs name (what a level more buys)."""
    def mean(values):
        return sum(values) / len(values)

    def failed(service, window):
        return (service["windows"][window]["requests"]["failed"] if window
                else failed_requests(service["requests"]))

    return {"cost_per_month_usd": mean([sum(s["cost"]["usd_per_month"] for s in r["services"].values())
                                        for r in runs]),
            "failed_requests": {w or "run": mean([sum(failed(s, w) for s in r["services"].values()) for r in runs])
                                for w in [None, *windows]}}


def _g(x) -> str:
    return "–" if x is None else f"{x:.4g}"
