"""The search: the smallest quota level meeting the SLOs on paired replications (see the package docstring)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from ..slo import Slo, assess, check_known, parse_slo, windows_of
from ..windows import WindowError, with_windows
from ..study.search import MAX_DOUBLINGS, RESOLUTION, Search, Unreachable, snap
from .demand import demand_breakdown, kms_figures
from .report import fmt_number as _fmt

UNLIMITED_RPM = 1e9


def _with_updates(scenario, updates):
    from ..scenario import with_updates
    return with_updates(scenario, updates)


class QuotaError(Exception):
    """The scenario cannot be solved (no quota-consuming key, SLO unreachable...); one line, ready to print."""


# -- what the scenario's quota is ---------------------------------------------------------------------------
def protection_of(scenario, requested: str | None = None) -> str:
    """'hsm' or 'external': the quota level of the keys the services use (services and deploys)."""
    used = {s.encryption_key for s in scenario.services} | {
        getattr(f, "encryption_key", None) for f in scenario.faults if f.kind == "deploy"}
    levels = sorted({"hsm" if k.protection == "hsm" else "external"
                     for k in scenario.keys if k.id in used and k.protection != "software"})
    if not levels:
        raise QuotaError(f"{scenario.name}: no service uses an HSM or external key, so no KMS quota limits "
                         "it (software keys and Google-managed encryption use none): nothing to solve")
    if requested:
        if requested not in levels:
            raise QuotaError(f"{scenario.name}: no service uses a {requested} key (used: {', '.join(levels)})")
        return requested
    if len(levels) > 1:
        raise QuotaError(f"{scenario.name}: the services use both HSM and external keys; choose one quota "
                         "with --protection hsm or --protection external")
    return levels[0]


def quota_field(level: str) -> str:
    return f"kms.quota.{level}_requests_per_minute"


def is_soft(scenario, level: str) -> bool:
    """Is the pool of `level` soft-enforced (HSM with hsm_enforcement: soft; EKM is always hard)?"""
    return level == "hsm" and scenario.kms.quota.hsm_enforcement == "soft"


def _unit(scenario) -> int:
    """Quota steps that change anything: per-second enforcement admits floor(rpm/60) each second."""
    return 60 if scenario.kms.quota.enforcement == "per-second" else 1


def tidy_steps(rpm: float, unit: int):
    """Tidy values >= rpm, smallest first: multiples of the largest 1-2-5 step within ~2.5% of rpm."""
    step = unit
    for k in range(12):
        for m in (1, 2, 5):
            s = m * 10 ** k * unit
            if s <= 0.025 * rpm:
                step = s
    value = int(math.ceil(rpm / step - 1e-9)) * step
    while True:
        yield value
        value += step


# -- the solver ---------------------------------------------------------------------------------------------
@dataclass
class Level:
    rpm: float
    met: bool
    rows: list                   # slo.assess rows: slo, service, mean, low, high, bound, values, met
    kms: dict                    # mean figures of the quota pools and refused starts
    seconds: float
    short_cut: bool = False      # not run: at or above the peak demand it equals the unlimited run

    def to_json(self) -> dict:
        return {"requests_per_minute": self.rpm, "met": self.met, "metrics": self.rows, "kms": self.kms,
                "wall_seconds": round(self.seconds, 2), "short_cut": self.short_cut}


@dataclass
class QuotaResult:
    scenario: str
    slos: list[Slo]
    protection: str
    enforcement: str
    confidence: float
    replications: int
    current: float
    lower_bound: int
    recommended: int
    at_80_percent: int | None       # None when the quota step is too coarse for a distinct 80% level
    demand: dict
    unconstrained: Level
    levels: dict = field(default_factory=dict)       # rpm -> Level
    notes: list = field(default_factory=list)
    soft_headroom: float | None = None    # a soft pool's assumed headroom (None: hard)
    current_with_headroom: Level | None = None     # a soft pool: the current quota as the scenario runs it

    def to_json(self) -> dict:
        return {
            "scenario": self.scenario,
            "recommended_requests_per_minute": self.recommended,
            "current_requests_per_minute": self.current,
            "unconstrained_peak_requests_per_minute": self.lower_bound,
            "lower_bound_requests_per_minute": self.lower_bound,   # the old name, kept as an alias
            "protection": self.protection,
            "enforcement": self.enforcement,
            "quota_enforcement": "hard" if self.soft_headroom is None else "soft",
            "soft_headroom": self.soft_headroom,
            # The quota at which the SLOs hold with nothing served over it: what the quota guarantees, so
            # the figure to ask for (= recommended; under soft enforcement the search runs the pool hard).
            "guaranteed_requests_per_minute": self.recommended,
            "current_with_headroom": None if self.current_with_headroom is None else
            self.current_with_headroom.to_json(),
            "quota_field": quota_field(self.protection),
            "slo": [s.text for s in self.slos],
            "objectives": [{"slo": s.text, "metric": s.metric, "op": s.op, "threshold": s.threshold}
                           for s in self.slos],
            "confidence": self.confidence,
            "replications": self.replications,
            "recommended_meets_slo": self.levels[self.recommended].met,
            "at_80_percent": None if self.at_80_percent is None else {
                "requests_per_minute": self.at_80_percent, "met": self.levels[self.at_80_percent].met},
            "peak_demand": self.demand,
            "anchor": {"requests_per_minute": self.lower_bound,
                       "excludes_warmup": self.demand.get("anchor_excludes_warmup", False),
                       "warmup_s": self.demand.get("warmup_s", 0.0)},
            "unconstrained": self.unconstrained.to_json(),
            "levels": [self.levels[q].to_json() for q in sorted(self.levels)],
            "levels_run": sum(not lv.short_cut for lv in self.levels.values()) + 1,     # + the unlimited run
            "levels_skipped": sum(lv.short_cut for lv in self.levels.values()),
            "notes": self.notes,
        }


class Solver:
    def __init__(self, scenario, slos: list[Slo], *, confidence: float = 0.95, replications: int = 5,
                 workers: int = 1, protection: str | None = None, progress=None, scheduler: str | None = None,
                 kernel: str = "auto"):
        if not 0.5 <= confidence < 1:
            raise QuotaError(f"--confidence must be at least 0.5 and below 1, got {confidence:g}")
        if replications < 2:
            raise QuotaError(f"--replications must be at least 2 to state a confidence, got {replications}")
        self.slos = list(slos)
        self.confidence = confidence
        self.replications = replications
        self.workers = workers
        self.level = protection_of(scenario, protection)
        self.field = quota_field(self.level)
        # Soft enforcement (HSM since 2026-02-16): over-quota service is best effort, so the search runs the
        # pool hard (what the quota guarantees); the scenario as it is (with its headroom) is run once, at
        # the current quota.
        for slo in self.slos:
            check_known(slo)          # against the declared summary schema (sim.summary_schema)
        try:                          # every level records the windows the SLOs name
            scenario = with_windows(scenario, windows_of(self.slos))
        except WindowError as exc:
            raise QuotaError(f"--slo: {exc}") from None
        self.as_given = scenario
        self.soft_headroom = float(scenario.kms.quota.soft_headroom) if is_soft(scenario, self.level) else None
        self.scenario = scenario if self.soft_headroom is None else \
            _with_updates(scenario, {"kms.quota.hsm_enforcement": "hard"})
        self.unit = _unit(scenario)
        current = float(getattr(scenario.kms.quota, f"{self.level}_requests_per_minute"))
        self.current = int(current) if current.is_integer() else current
        self.baseline = any(s.path[0] == "capacity_loss" for s in self.slos)
        self.progress = progress or (lambda text: None)
        self.levels: dict[float, Level] = {}
        self.scheduler = scheduler
        self.kernel = kernel              # --kernel, passed on to every run as it is
        self.store = None                 # the resume store (a folder), set by the command
        self.unconstrained: Level | None = None
        self.short_cut_from: int | None = None     # levels at or above it reuse the unlimited run (solve sets it)

    def _run(self, rpm: float):
        from ..runner import run
        from ..scenario import with_updates
        return run(with_updates(self.scenario, {self.field: rpm}), replications=self.replications,
                   workers=self.workers, baseline=self.baseline, scheduler=self.scheduler,
                   keep_usage=self.scenario.warmup > 0, kernel=self.kernel)

    def _summary(self, rpm: float, scenario=None) -> dict:
        """The level's runs through the study engine (local processes or a Dask cluster), in replication order."""
        from ..scenario import with_updates
        from ..study.engine import run_cells
        from ..study.units import study_summary
        [runs] = run_cells([with_updates(scenario or self.scenario, {self.field: rpm})], self.replications,
                           baseline=self.baseline, workers=self.workers, scheduler=self.scheduler,
                           first_cell=len(self.levels) + 1, store=self.store, kernel=self.kernel)
        return study_summary(runs)

    def evaluate(self, rpm: float) -> Level:
        if rpm in self.levels:
            return self.levels[rpm]
        if self.short_cut_from is not None and rpm >= self.short_cut_from:
            u = self.unconstrained
            level = self.levels[rpm] = Level(rpm, u.met, u.rows, u.kms, 0.0, short_cut=True)
            self.progress(f"  {rpm:>12,.0f}/min: {'meets' if u.met else 'fails'} the SLOs  (short-cut: at or "
                          "above the peak demand, the runs are the unlimited ones)")
            return level
        t0 = time.perf_counter()
        summary = self._summary(rpm)
        met, rows = assess(self.slos, summary, self.confidence)
        level = Level(rpm, met, rows, kms_figures(summary, self.level), time.perf_counter() - t0)
        self.levels[rpm] = level
        self.progress(f"  {rpm:>12,.0f}/min: {'meets' if met else 'fails'} the SLOs  ({level.seconds:.1f} s)")
        return level

    def evaluate_with_headroom(self, rpm: float) -> Level:
        """A soft pool at `rpm` with the scenario's headroom (best effort: what the region may serve over)."""
        t0 = time.perf_counter()
        summary = self._summary(rpm, self.as_given)
        met, rows = assess(self.slos, summary, self.confidence)
        level = Level(rpm, met, rows, kms_figures(summary, self.level), time.perf_counter() - t0)
        self.progress(f"  {rpm:>12,.0f}/min: {'meets' if met else 'fails'} the SLOs with the soft headroom "
                      f"{self.soft_headroom:g}x  ({level.seconds:.1f} s)")
        return level

    def peak_demand(self) -> tuple[Level, dict]:
        """The unconstrained run and its peak demand per window, with where it comes from."""
        t0 = time.perf_counter()
        result = self._run(UNLIMITED_RPM)
        met, rows = assess(self.slos, result.summary, self.confidence)
        unconstrained = Level(UNLIMITED_RPM, met, rows, kms_figures(result.summary, self.level),
                              time.perf_counter() - t0)
        self.progress(f"  {'unlimited':>12}: {'meets' if met else 'fails'} the SLOs  ({unconstrained.seconds:.1f} s)")
        return unconstrained, demand_breakdown(result, self.level, self.scenario)

    def solve(self) -> QuotaResult:
        unconstrained, demand = self.peak_demand()
        if not unconstrained.met:
            failing = "; ".join(f"{r['service']}: {r['slo']} (" + (
                f"no value in {r['empty']} of {self.replications} replications" if r["empty"] else
                f"mean {_fmt(r['mean'])}, one-sided {self.confidence:.0%} bound {_fmt(r['bound'])}") + ")"
                for r in unconstrained.rows if not r["met"])
            raise QuotaError(f"the SLOs are not met even with unlimited KMS quota, so no quota meets them: "
                             f"{failing}")
        window = "per_second" if self.unit == 60 else "per_minute"
        lower = snap(demand[f"anchor_peak_{window}_mean"] * (60 if self.unit == 60 else 1), self.unit, self.unit)
        ceiling = snap(demand[f"peak_{window}_max"] * (60 if self.unit == 60 else 1), self.unit, self.unit)
        if not self._quota_changes():
            # The exact short-cut: at or above the largest peak per enforcement window of any replication no
            # request is ever refused, so under common random numbers the runs are the unlimited ones.
            self.unconstrained, self.short_cut_from = unconstrained, ceiling
        search = Search(lambda q: self.evaluate(q).met, step=self.unit, floor=self.unit)
        for q in (lower, self.current):
            search.met(q)
        try:
            hi = search.smallest(ceiling)
        except Unreachable as exc:
            raise QuotaError(f"no quota up to {exc.args[0]:,}/min meets the SLOs") from None
        recommended = self._tidy(hi)
        at_80 = round(0.8 * recommended / self.unit) * self.unit
        if 0 < at_80 < recommended:
            self.evaluate(at_80)
        else:
            at_80 = None
        with_headroom = None if self.soft_headroom is None else self.evaluate_with_headroom(self.current)
        notes = self._notes(ceiling, recommended, at_80, with_headroom)
        return QuotaResult(self.scenario.name, self.slos, self.level, self.scenario.kms.quota.enforcement,
                           self.confidence, self.replications, self.current, lower, recommended, at_80, demand,
                           unconstrained, dict(self.levels), notes, self.soft_headroom, with_headroom)

    def _quota_changes(self) -> list:
        return [f for f in self.scenario.faults
                if f.kind == "quota-change" and getattr(f, f"{self.level}_requests_per_minute") is not None]

    def _tidy(self, hi: int) -> int:
        for n, q in enumerate(tidy_steps(hi, self.unit)):
            if self.evaluate(q).met:
                return q
            if n >= 4:
                break
        return hi  # tidy values above hi failed (the SLO is not monotone in the quota here): keep hi

    def _notes(self, ceiling, recommended, at_80, with_headroom=None) -> list[str]:
        notes = []
        if with_headroom is not None:
            served = with_headroom.kms["served_over_quota_mean"]
            notes.append(
                f"The HSM quota is soft-enforced (Cloud KMS since 2026-02-16): requests over it are served while "
                f"the region has spare capacity, which is not guaranteed. The recommendation is the quota at "
                f"which the objectives hold with nothing served over it (the pool run hard). At the current "
                f"quota with the assumed headroom ({self.soft_headroom:g}x the quota, an assumption) the "
                f"objectives {'hold' if with_headroom.met else 'do not hold'}, with {served:,.1f} requests per "
                f"run served over the quota (mean): "
                + ("the current quota relies on spare capacity for them." if with_headroom.met and
                   not self.levels[self.current].met else "best effort, not to plan on."))
        if self._quota_changes():
            notes.append(f"The scenario's quota-change faults set the {self.level} quota for part of the run; "
                         "the solver varies the base quota only, so those windows keep their own values.")
        if at_80 is None:
            notes.append("No 80% check: the recommendation is the smallest quota step, nothing distinct lies below.")
        elif self.levels[at_80].met:
            notes.append(f"The SLOs also hold at 80% of the recommendation ({at_80:,}/min): the quota barely "
                         "matters near here, or the SLOs are not monotone in it; consider a tighter SLO.")
        rec = self.levels[recommended]
        failed_starts = rec.kms["starts_failed_quota_exceeded_mean"]
        if failed_starts and any(s.path[0] == "cold_starts" for s in self.slos):
            notes.append(f"Cold-start figures count only the instances that became ready; at the recommendation "
                         f"{failed_starts:,.1f} instance starts per run still fail on quota. Add "
                         "`instance_starts_failed.quota_exceeded<=0` or `capacity.shortfall_fraction<=...` "
                         "to the objectives if failed starts matter.")
        if recommended > ceiling:
            notes.append("The recommendation is above the largest peak demand of any replication.")
        return notes


def solve(scenario, slos, **kw) -> QuotaResult:
    """Python API: `solve(load_scenario(path), ["instance_starts_failed.quota_exceeded<=0"], replications=5)`."""
    return Solver(scenario, [s if isinstance(s, Slo) else parse_slo(s) for s in slos], **kw).solve()
