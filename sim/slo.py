"""Service-level objectives on run summaries, and whether a set of replications meets them with confidence.

An SLO is `PATH[@WINDOW] OP NUMBER`: a dotted path into one service's run summary
(summary["runs"][i]["services"][name]), optionally over a window (sim/windows.py), one of <=, <, >=, >, and
a number, e.g. `cold_starts.latency_s.p99<=20`, `instance_starts_failed.quota_exceeded<=0`,
`requests.failed_fraction@fault[0]<=0.01`, `latency_s.p99@fault[0]+10m<=2`, `requests.failed@30m..60m<=100`,
`capacity.shortfall_fraction@peak-hour<=0.05`. It must hold for every service. `check_known` checks the path
against the declared metrics of sim/summary_schema.py (WINDOW_METRICS for a windowed one). The same
`METRIC[@WINDOW]` names a figure everywhere (`--slo` of solve and quota, `--metric` of sweep and
sensitivity: `parse_metric`); a windowed figure is read from the service summary's `windows` section.

"Met with confidence c": for every service, the one-sided c upper bound (for < and <=; lower bound for >
and >=) of the metric's mean across replications meets the threshold (Student t). An SLO `<= 0` or `< 0`
(a count that must not happen) instead requires every replication to meet it. A percentile that is empty
(null, e.g. no instance became ready) in any replication fails the SLO: nothing shows that it holds, and a
quota so low that no start succeeds must not pass a cold-start latency objective.
"""
from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import numpy as np

from .summary_schema import WINDOW_METRICS, service_template, window_template
from .windows import WindowError, parse_window

OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
_PATH = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*"
_SLO_RE = re.compile(rf"^\s*({_PATH})\s*(?:@\s*([^<>=]*?))?\s*(<=|>=|<|>)\s*(\S+)\s*$")
_METRIC_RE = re.compile(rf"^\s*({_PATH})\s*(?:@\s*(.*?))?\s*$")
EXAMPLE = "cold_starts.latency_s.p99<=20 or requests.failed_fraction@fault[0]<=0.01"
WINDOWED = tuple(p for p in WINDOW_METRICS if p not in ("start_s", "end_s"))


class SloError(ValueError):
    """A bad SLO; the message is one line, ready to print."""


@dataclass(frozen=True)
class Slo:
    text: str
    path: tuple[str, ...]
    op: str
    threshold: float
    window: str | None = None    # the window's canonical name (sim.windows), None: the whole run

    @property
    def metric(self) -> str:
        """`PATH` or `PATH@WINDOW`: how reports and CSV columns name the figure."""
        return metric_name(self.path, self.window)

    @property
    def upper(self) -> bool:
        """True when the metric must stay below the threshold (<, <=)."""
        return self.op in ("<", "<=")

    @property
    def every_replication(self) -> bool:
        """`<= 0` / `< 0`: a count that must not occur, checked in every replication."""
        return self.upper and self.threshold == 0

    def holds(self, value: float) -> bool:
        return OPS[self.op](value, self.threshold)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.threshold:g}"


def metric_name(path: tuple[str, ...], window: str | None) -> str:
    return ".".join(path) + (f"@{window}" if window else "")


def _window(text: str, window: str | None, option: str) -> str | None:
    if window is None:
        return None
    try:
        return parse_window(window).name
    except WindowError as exc:
        raise SloError(f"{option} {text!r}: {exc}") from None


def parse_slo(text: str, known: bool = False) -> Slo:
    """The SLO of `text`; with known=True its path must be a declared summary metric (check_known)."""
    m = _SLO_RE.match(text or "")
    if not m:
        raise SloError(f"--slo {text!r}: expected METRIC[@WINDOW] OP NUMBER with OP one of <=, <, >=, >, "
                       f"e.g. {EXAMPLE}")
    path, window, op, number = m.groups()
    try:
        threshold = float(number)
    except ValueError:
        raise SloError(f"--slo {text!r}: {number!r} is not a number") from None
    if not math.isfinite(threshold):
        raise SloError(f"--slo {text!r}: the threshold must be a finite number, got {number}")
    slo = Slo(text.strip(), tuple(path.split(".")), op, threshold, _window(text, window, "--slo"))
    if known:
        check_known(slo)
    return slo


def parse_metric(text: str, option: str = "--metric") -> tuple[tuple[str, ...], str | None]:
    """(path, window name or None) of `METRIC[@WINDOW]`, checked against the declared metrics."""
    m = _METRIC_RE.match(text or "")
    if not m:
        raise SloError(f"{option} {text!r}: expected METRIC[@WINDOW], e.g. requests.failed_fraction@fault[0]")
    path, window = tuple(m.group(1).split(".")), _window(text, m.group(2), option)
    try:
        check_known(Slo(text, path, "<=", 0.0, window))
    except SloError as exc:
        raise SloError(str(exc).replace(f"--slo {text!r}", f"{option} {text!r}", 1)) from None
    return path, window


def windows_of(figures) -> list[str]:
    """The window names that SLOs or (path, window) metrics use, in order, once each."""
    names = [f.window if isinstance(f, Slo) else f[1] for f in figures]
    return list(dict.fromkeys(n for n in names if n))


def check_path(slo: Slo, service_summary: dict) -> None:
    """Raise SloError unless the SLO's path leads to a number in a service's run summary."""
    node, walked = service_summary, []
    for part in slo.path:
        if not isinstance(node, dict):
            raise SloError(f"--slo {slo.text!r}: unknown metric {'.'.join(walked + [part])!r} "
                           f"({'.'.join(walked)} is already a number)")
        if part not in node:
            where = ".".join(walked) or "a service's summary"
            raise SloError(f"--slo {slo.text!r}: unknown metric {'.'.join(walked + [part])!r} "
                           f"({where} has: {', '.join(node)})")
        node = node[part]
        walked.append(part)
    if isinstance(node, dict):
        raise SloError(f"--slo {slo.text!r}: {'.'.join(walked)} is not a number; "
                       f"add one of: {', '.join(node)}")
    if node is not None and (isinstance(node, bool) or not isinstance(node, (int, float))):
        raise SloError(f"--slo {slo.text!r}: {'.'.join(walked)} is not a number")


def check_known(slo: Slo) -> None:
    """Raise SloError unless the SLO's path is a metric of the declared summary schema (sim.summary_schema);
    a windowed one must be a figure every window has (WINDOW_METRICS)."""
    if slo.window is None:
        check_path(slo, service_template())
        return
    if ".".join(slo.path) not in WINDOWED:
        raise SloError(f"--slo {slo.text!r}: {'.'.join(slo.path)} has no per-window figure; over a window "
                       f"there are: {', '.join(WINDOWED)}")
    check_path(slo, window_template())


def metric(service_summary: dict, path: tuple[str, ...], window: str | None = None):
    """The figure at `path` of a service's run summary; over `window`, from its `windows` section."""
    node = service_summary if window is None else service_summary["windows"][window]
    for part in path:
        node = node[part]
    return node


def one_sided_bounds(values: list, confidence: float) -> tuple:
    """(mean, lower bound, upper bound): one-sided `confidence` Student-t bounds of the mean; Nones left out."""
    xs = np.array([v for v in values if v is not None], dtype=float)
    if xs.size == 0:
        return None, None, None
    mean = float(xs.mean())
    if xs.size == 1 or np.all(xs == xs[0]):
        return mean, mean, mean
    from scipy import stats  # imported here: the command line parses SLOs without loading scipy
    half = float(stats.t.ppf(confidence, xs.size - 1) * xs.std(ddof=1) / math.sqrt(xs.size))
    return mean, mean - half, mean + half


def assess(slos: list[Slo], summary: dict, confidence: float) -> tuple[bool, list[dict]]:
    """Whether the runs in `summary` meet every SLO for every service, and the evidence row by row."""
    rows = []
    names = list(summary["runs"][0]["services"])
    for slo in slos:
        for name in names:
            values = [metric(run["services"][name], slo.path, slo.window) for run in summary["runs"]]
            mean, low, high = one_sided_bounds(values, confidence)
            bound = high if slo.upper else low
            if any(v is None for v in values):
                met = False
            elif slo.every_replication:
                met = all(slo.holds(v) for v in values)
            else:
                met = slo.holds(bound)
            rows.append({"slo": slo.text, "service": name, "mean": mean, "low": low, "high": high,
                         "bound": bound, "values": values, "empty": sum(v is None for v in values),
                         "met": bool(met)})
    return all(r["met"] for r in rows), rows


def evidence_line(rows: list[dict], confidence: float, fmt) -> str:
    """The assess rows of one level as a sentence for a report: each SLO's mean, bound and verdict."""
    parts = []
    for r in rows:
        bound = "upper" if "<" in r["slo"] else "lower"
        parts.append(f"{r['service']} `{r['slo']}`: mean {fmt(r['mean'])}, one-sided {confidence:.0%} {bound} "
                     f"bound {fmt(r['bound'])} → {'met' if r['met'] else '**not met**'}")
    return "; ".join(parts)
