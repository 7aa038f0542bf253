"""Quota solver: the smallest Cloud KMS quota that meets service-level objectives with stated confidence.

    python -m sim quota SCENARIO --slo EXPR [--slo EXPR ...] [--confidence 0.95] [--replications N]
                                 [--out DIR] [--workers N] [--protection hsm|external]

The quota varied is the requests per minute of the protection level the scenario's keys use (hsm ->
kms.quota.hsm_requests_per_minute; external and external-vpc -> kms.quota.external_requests_per_minute).
Every level runs the same replications (same seed, same replication indices), so levels are compared on
common random numbers. The search:

1. an unconstrained run (quota 1e9/min) gives the peak demand per enforcement window; converted to
   requests per minute it is the closed-form figure reported next to the answer. At or above the largest
   peak of any replication no request is ever refused, so the runs equal the unconstrained ones: if the
   SLOs fail even there, no quota helps and the solver says so.
2. the current quota and the peak demand are tried; then levels are doubled (or halved) until one meets
   the SLOs and one does not, and bisected to ~3% (whole requests per second under per-second enforcement);
3. the answer is rounded up to a tidy number and checked; 80% of it is also run, as evidence.

Writes quota.json, quota_report.md and quota_curve.png into --out (default results/<name>-quota/),
atomically.
"""
from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .quota_report import _n as _fmt
from .slo import Slo, SloError, assess, check_path, parse_slo

UNLIMITED_RPM = 1e9
RESOLUTION = 0.03            # stop bisecting when the bracket is within 3% of its top
MAX_DOUBLINGS = 12


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


def _unit(scenario) -> int:
    """Quota steps that change anything: per-second enforcement admits floor(rpm/60) each second."""
    return 60 if scenario.kms.quota.enforcement == "per-second" else 1


def _snap(rpm: float, unit: int) -> int:
    return max(unit, int(math.ceil(rpm / unit - 1e-9)) * unit)


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

    def to_json(self) -> dict:
        return {"requests_per_minute": self.rpm, "met": self.met, "metrics": self.rows, "kms": self.kms,
                "wall_seconds": round(self.seconds, 2)}


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

    def to_json(self) -> dict:
        return {
            "scenario": self.scenario,
            "recommended_requests_per_minute": self.recommended,
            "current_requests_per_minute": self.current,
            "lower_bound_requests_per_minute": self.lower_bound,
            "protection": self.protection,
            "enforcement": self.enforcement,
            "quota_field": quota_field(self.protection),
            "slo": [s.text for s in self.slos],
            "objectives": [{"slo": s.text, "metric": ".".join(s.path), "op": s.op, "threshold": s.threshold}
                           for s in self.slos],
            "confidence": self.confidence,
            "replications": self.replications,
            "recommended_meets_slo": self.levels[self.recommended].met,
            "at_80_percent": None if self.at_80_percent is None else {
                "requests_per_minute": self.at_80_percent, "met": self.levels[self.at_80_percent].met},
            "peak_demand": self.demand,
            "unconstrained": self.unconstrained.to_json(),
            "levels": [self.levels[q].to_json() for q in sorted(self.levels)],
            "notes": self.notes,
        }


def _kms_figures(summary: dict, level: str) -> dict:
    runs = summary["runs"]
    n = len(runs)
    def mean(get):
        return sum(get(r) for r in runs) / n
    pools = lambda r: [p for name, p in r["kms"].get("quota_pools", {}).items() if name.endswith("/" + level)]
    return {
        "resource_exhausted_mean": mean(lambda r: r["kms"]["resource_exhausted"]),
        "starts_failed_quota_exceeded_mean": mean(
            lambda r: sum(s["instance_starts_failed"]["quota_exceeded"] for s in r["services"].values())),
        "peak_admitted_per_second_mean": mean(lambda r: max((p["peak_admitted_per_second"] for p in pools(r)),
                                                            default=0)),
        "peak_admitted_per_minute_mean": mean(lambda r: max((p["peak_admitted_per_minute"] for p in pools(r)),
                                                            default=0)),
    }


class Solver:
    def __init__(self, scenario, slos: list[Slo], *, confidence: float = 0.95, replications: int = 5,
                 workers: int = 1, protection: str | None = None, progress=None):
        if not 0.5 <= confidence < 1:
            raise QuotaError(f"--confidence must be at least 0.5 and below 1, got {confidence:g}")
        if replications < 2:
            raise QuotaError(f"--replications must be at least 2 to state a confidence, got {replications}")
        self.scenario = scenario
        self.slos = list(slos)
        self.confidence = confidence
        self.replications = replications
        self.workers = workers
        self.level = protection_of(scenario, protection)
        self.field = quota_field(self.level)
        self.unit = _unit(scenario)
        current = float(getattr(scenario.kms.quota, f"{self.level}_requests_per_minute"))
        self.current = int(current) if current.is_integer() else current
        self.baseline = any(s.path[0] == "capacity_loss" for s in self.slos)
        self.progress = progress or (lambda text: None)
        self.levels: dict[float, Level] = {}
        check_slo_paths(scenario, self.slos)

    def _run(self, rpm: float):
        from .runner import run
        from .scenario import with_updates
        return run(with_updates(self.scenario, {self.field: rpm}), replications=self.replications,
                   workers=self.workers, baseline=self.baseline)

    def evaluate(self, rpm: float) -> Level:
        if rpm in self.levels:
            return self.levels[rpm]
        t0 = time.perf_counter()
        result = self._run(rpm)
        met, rows = assess(self.slos, result.summary, self.confidence)
        level = Level(rpm, met, rows, _kms_figures(result.summary, self.level), time.perf_counter() - t0)
        self.levels[rpm] = level
        self.progress(f"  {rpm:>12,.0f}/min: {'meets' if met else 'fails'} the SLOs  ({level.seconds:.1f} s)")
        return level

    def peak_demand(self) -> tuple[Level, dict]:
        """The unconstrained run and its peak demand per window, with where it comes from."""
        t0 = time.perf_counter()
        result = self._run(UNLIMITED_RPM)
        met, rows = assess(self.slos, result.summary, self.confidence)
        unconstrained = Level(UNLIMITED_RPM, met, rows, _kms_figures(result.summary, self.level),
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
        lower = _snap(demand[f"peak_{window}_mean"] * (60 if self.unit == 60 else 1), self.unit)
        ceiling = _snap(demand[f"peak_{window}_max"] * (60 if self.unit == 60 else 1), self.unit)
        for q in (lower, self.current):
            self.evaluate(q)
        lo, hi = self._bracket(ceiling)
        while hi - lo > max(self.unit, RESOLUTION * hi):
            mid = _snap((lo + hi) / 2, self.unit)
            if mid >= hi or mid <= lo:
                break
            if self.evaluate(mid).met:
                hi = mid
            else:
                lo = mid
        recommended = self._tidy(hi)
        at_80 = round(0.8 * recommended / self.unit) * self.unit
        if 0 < at_80 < recommended:
            self.evaluate(at_80)
        else:
            at_80 = None
        notes = self._notes(ceiling, recommended, at_80)
        return QuotaResult(self.scenario.name, self.slos, self.level, self.scenario.kms.quota.enforcement,
                           self.confidence, self.replications, self.current, lower, recommended, at_80, demand,
                           unconstrained, dict(self.levels), notes)

    def _bracket(self, ceiling: int) -> tuple[int, int]:
        """(lo, hi): a level that fails (0 if none) just below the smallest level found to meet the SLOs."""
        met = [q for q, lv in self.levels.items() if lv.met]
        if not met:
            # At or above `ceiling` the runs equal the unconstrained ones (which met the SLOs), unless
            # quota-change faults keep part of the run constrained: then doubling goes on, up to a limit.
            q = max(self.levels)
            for _ in range(MAX_DOUBLINGS):
                q = _snap(2 * q, self.unit) if q >= ceiling else min(_snap(2 * q, self.unit), ceiling)
                if self.evaluate(q).met:
                    break
            else:
                raise QuotaError(f"no quota up to {q:,}/min meets the SLOs")
            met = [q]
        hi = min(met)
        below = [q for q, lv in self.levels.items() if not lv.met and q < hi]
        if below:
            return max(below), hi
        q = hi
        while q > self.unit:
            q = _snap(q / 2, self.unit)
            if not self.evaluate(q).met:
                return q, hi
            hi = q
        return 0, hi  # even the smallest quota meets the SLOs

    def _tidy(self, hi: int) -> int:
        for n, q in enumerate(tidy_steps(hi, self.unit)):
            if self.evaluate(q).met:
                return q
            if n >= 4:
                break
        return hi  # tidy values above hi failed (the SLO is not monotone in the quota here): keep hi

    def _notes(self, ceiling, recommended, at_80) -> list[str]:
        notes = []
        changes = [f for f in self.scenario.faults
                   if f.kind == "quota-change" and getattr(f, f"{self.level}_requests_per_minute") is not None]
        if changes:
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


def check_slo_paths(scenario, slos: list[Slo]) -> None:
    """Raise SloError for a path that is not a number in a service's run summary (a 1-second dry run)."""
    from .runner import run
    from .scenario import with_updates
    probe = with_updates(scenario, {"duration": min(scenario.duration, 1.0), "warmup": 0, "faults": []})
    services = run(probe, replications=1, baseline=False).summary["runs"][0]["services"]
    template = next(iter(services.values()))
    for slo in slos:
        check_path(slo, template)


def demand_breakdown(result, level: str, scenario) -> dict:
    """Peak operations per second and per minute of the quota pools of `level` in an unconstrained run."""
    runs = result.summary["runs"]
    def peaks(key):
        return [max((p[key] for name, p in r["kms"].get("quota_pools", {}).items() if name.endswith("/" + level)),
                    default=0) for r in runs]
    per_s, per_m = peaks("peak_admitted_per_second"), peaks("peak_admitted_per_minute")
    rows = [r for r in result.outputs[0].kms_usage if str(r["pool"]).endswith("/" + level)]
    cats = ("starts", "validation", "deploy", "background")
    def at_peak(groups: dict) -> dict:
        if not groups:
            return {c: 0 for c in cats} | {"total": 0, "at_s": None}
        at, counts = max(groups.items(), key=lambda kv: (sum(kv[1][c] for c in cats), -kv[0][1]))
        return {c: counts[c] for c in cats} | {"total": sum(counts[c] for c in cats), "at_s": at[1], "pool": at[0]}
    by_second, by_minute = {}, {}
    for r in rows:
        for groups, key in ((by_second, (r["pool"], r["second"])), (by_minute, (r["pool"], r["second"] // 60 * 60))):
            g = groups.setdefault(key, {c: 0 for c in cats})
            for c in cats:
                g[c] += r[c] or 0
    decrypts = sorted({s.key_operations.decrypts_per_start for s in scenario.services if s.encryption_key})
    return {"peak_per_second_mean": sum(per_s) / len(per_s), "peak_per_second_max": max(per_s),
            "peak_per_minute_mean": sum(per_m) / len(per_m), "peak_per_minute_max": max(per_m),
            "peak_per_second_by_replication": per_s, "peak_per_minute_by_replication": per_m,
            "decrypts_per_start": decrypts,
            "peak_second_replication0": at_peak(by_second), "peak_minute_replication0": at_peak(by_minute)}


def solve(scenario, slos, **kw) -> QuotaResult:
    """Python API: `solve(load_scenario(path), ["instance_starts_failed.quota_exceeded<=0"], replications=5)`."""
    return Solver(scenario, [s if isinstance(s, Slo) else parse_slo(s) for s in slos], **kw).solve()


# -- writing ------------------------------------------------------------------------------------------------
def write_quota(result: QuotaResult, out_dir) -> Path:
    """quota.json, quota_report.md and quota_curve.png, written to a temporary folder and moved into place."""
    from .plots import quota_curve_figure, save
    from .quota_report import report_markdown
    from .results import atomic_folder
    with atomic_folder(out_dir) as tmp:
        (tmp / "quota.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
        (tmp / "quota_report.md").write_text(report_markdown(result.to_json()))
        save(quota_curve_figure(tmp), tmp / "quota_curve.png")
    return Path(out_dir).resolve()


# -- command line -------------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("quota", help="find the smallest KMS quota that meets service-level objectives",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("file", metavar="SCENARIO", help="scenario YAML file")
    p.add_argument("--slo", action="append", required=True, metavar="EXPR",
                   help="e.g. 'cold_starts.latency_s.p99<=20' (a path into a service's run summary, <=, <, >= "
                        "or >, a number); repeat for several; each must hold for every service")
    p.add_argument("--confidence", type=float, default=0.95, metavar="C", help="one-sided confidence (0.95)")
    p.add_argument("--replications", type=_positive_int, default=5, metavar="N", help="paired replications per level (5)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: results/<scenario name>-quota)")
    p.add_argument("--workers", type=_positive_int, default=1, metavar="N", help="parallel worker processes (1)")
    p.add_argument("--protection", choices=("hsm", "external"),
                   help="which quota to solve for when the services use both HSM and external keys")
    p.set_defaults(handler=main)


def main(args) -> int:
    from .results import OutputFolderError, check_output_folder
    from .scenario import ScenarioError, load_scenario
    try:
        slos = [parse_slo(text) for text in args.slo]
        scenario = load_scenario(args.file)
        solver = Solver(scenario, slos, confidence=args.confidence, replications=args.replications,
                        workers=max(1, args.workers or 1), protection=args.protection,
                        progress=lambda text: print(text, file=sys.stderr, flush=True))
        out = check_output_folder(args.out or Path("results") / f"{scenario.name}-quota")
    except ScenarioError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except (SloError, QuotaError, OutputFolderError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"solving the {solver.level} quota of {scenario.name} ({solver.replications} replications per level, "
          f"confidence {solver.confidence:g})", file=sys.stderr)
    try:
        result = solver.solve()
    except QuotaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_quota(result, out)
    at_80 = result.at_80_percent
    check = "" if at_80 is None else \
        f"; at 80% = {at_80:,}/min: {'meets' if result.levels[at_80].met else 'fails'} the SLOs"
    print(f"recommended {result.protection} quota: {result.recommended:,} requests per minute "
          f"(current {result.current:,.0f}; closed-form peak demand {result.lower_bound:,}{check})")
    print(f"results: {out}")
    return 0
