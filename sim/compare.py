"""`sim compare A B [C ...]`: results side by side, each against the first.

A source is a run's results folder or one cell of a sweep (`SWEEP#N`). Each service's main figures (the
ones a sweep keeps, plus the cost) per replication come from the run's summary.json (`runs`: one summary
per replication) or from the sweep's sweep.csv (one row per cell and replication), read through
`sim.results.ResultsFolder`. Replication r of any run or cell uses the random streams of (seed, r), so
two sources with the same seed share their streams replication by replication: their difference gets a
paired Student-t interval over the replications both have. Sources with different seeds are independent:
Welch's interval. Timelines (replication 0, from timeseries.csv and instances.csv) exist for runs only.

Writes compare.json (the figures), compare.md, compare.html (self-contained) and compare.png into --out
(default results/compare-<names>), atomically, like every command.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .results import OutputFolderError, ResultsFolder, ResultsFolderError, atomic_folder
from .study.sweep_files import FAULT_FIGURES, KMS_FIGURES, SERVICE_FIGURES, service_figure

# A sweep's figures (the median latency beside its p99), the fault figure, the cost.
FIGURES = tuple(f for p in SERVICE_FIGURES for f in (("latency_s.p50", p) if p == "latency_s.p99" else (p,))) \
    + FAULT_FIGURES + ("cost.total_usd",)
CONFIDENCE = 0.95


class CompareError(Exception):
    """A source that cannot be compared; one line, ready to print."""


@dataclass
class Source:
    label: str                  # short and unique: the folder's name, `<sweep>#<cell>` for a cell
    what: str                   # one line: a run of X, or cell N of a sweep of X (its settings)
    scenario: str
    seed: int | None
    replications: int
    duration_s: float | None
    services: list[str]
    values: dict = field(default_factory=dict)   # (service or "kms", figure) -> per-replication values
    folder: ResultsFolder | None = None           # a run's folder (timelines); None for a sweep cell


def _number(v):
    return None if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) else float(v)


def read_source(text: str) -> Source:
    """A run folder, or `SWEEP_FOLDER#N` for cell N of a sweep; CompareError or ResultsFolderError otherwise."""
    cell = None
    match = re.fullmatch(r"(.+)#(\d+)", text)
    if match and not Path(text).exists():
        text, cell = match.group(1), int(match.group(2))
    folder = ResultsFolder(text)
    if folder.kind == "sweep":
        if cell is None:
            raise CompareError(f"{text}: a sweep folder; name one of its cells, e.g. {text}#0")
        return _sweep_cell(folder, cell, text)
    if cell is not None:
        raise CompareError(f"{text}#{cell}: {text} is a {folder.kind} folder, not a sweep; #N names a sweep's cell")
    if folder.kind != "run":
        raise CompareError(f"{text}: a {folder.kind} folder; compare takes run folders and sweep cells (SWEEP#N)")
    return _run(folder)


def _run(folder: ResultsFolder) -> Source:
    summary = folder.summary()
    runs = summary.get("runs") or []
    services = list(runs[0]["services"]) if runs else []
    source = Source(folder.name, f"run of {summary.get('scenario')}", str(summary.get("scenario")),
                    summary.get("seed"), len(runs), summary.get("simulated_seconds"), services, folder=folder)
    for name in services:
        for path in FIGURES:
            source.values[name, path] = [_number(_figure(r["services"].get(name), path)) for r in runs]
    for k in KMS_FIGURES:
        source.values["kms", k] = [_number(r["kms"].get(k)) for r in runs]
    return source


def _figure(service: dict | None, path: str):
    if service is None:
        return None
    try:
        return service_figure(service, path)
    except (KeyError, TypeError):           # capacity_loss without faults, an older summary
        return None


def _sweep_cell(folder: ResultsFolder, cell: int, text: str) -> Source:
    study = folder.json("sweep.json")
    cells = {c["cell"]: c for c in study.get("cells", [])}
    if cell not in cells:
        raise CompareError(f"{text}#{cell}: the sweep has cells 0 to {len(cells) - 1}")
    rows = sorted((r for r in folder.rows("sweep.csv") if r.get("cell") == cell), key=lambda r: r["replication"])
    settings = ", ".join(f"{k}={v}" for k, v in cells[cell]["values"].items())
    services = list(study.get("services", []))
    source = Source(f"{folder.name}#{cell}", f"cell {cell} of a sweep of {study.get('scenario')} ({settings})",
                    str(study.get("scenario")), study.get("seed"), len(rows), study.get("duration_s"), services)
    for column in study.get("figures", []):
        head, _, path = column.partition(".")
        source.values[head, path] = [_number(r.get(column)) for r in rows]
    return source


# -- the figures ------------------------------------------------------------------------------------------
def mean(values) -> float | None:
    xs = [v for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def shares_streams(a: Source, b: Source) -> bool:
    """Replication r of both used the streams of (seed, r): their figures pair up replication by replication."""
    return a.seed is not None and a.seed == b.seed and min(a.replications, b.replications) >= 2


def difference(a: list, b: list, paired: bool) -> dict:
    """mean(b) - mean(a) and its two-sided Student-t interval: over the pairs (a_r, b_r) when paired, else
    Welch's (unequal variances). Bounds are None when there are too few values to say anything."""
    from scipy import stats  # the command only
    if paired:                     # the sensitivity study's paired interval, over the pairs with both values
        from .study.sensitivity import paired_change
        p = paired_change(a, b, CONFIDENCE)
        return {"change": p["change"], "low": p["interval_low"], "high": p["interval_high"], "method": "paired",
                "n": p["pairs"]}
    xs, ys = [v for v in a if v is not None], [v for v in b if v is not None]
    if not xs or not ys:
        return {"change": None, "low": None, "high": None, "method": "welch", "n": 0}
    change = mean(ys) - mean(xs)
    if len(xs) < 2 or len(ys) < 2:
        return {"change": change, "low": None, "high": None, "method": "welch", "n": min(len(xs), len(ys))}
    vx = sum((v - mean(xs)) ** 2 for v in xs) / (len(xs) - 1) / len(xs)
    vy = sum((v - mean(ys)) ** 2 for v in ys) / (len(ys) - 1) / len(ys)
    if vx + vy == 0:
        return {"change": change, "low": change, "high": change, "method": "welch", "n": min(len(xs), len(ys))}
    dof = (vx + vy) ** 2 / (vx ** 2 / (len(xs) - 1) + vy ** 2 / (len(ys) - 1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof)) * math.sqrt(vx + vy)
    return {"change": change, "low": change - half, "high": change + half, "method": "welch",
            "n": min(len(xs), len(ys))}


def compare(sources: list[Source]) -> dict:
    """compare.json: the sources, how each pairs with the first, and per figure each source's mean and its
    difference from the first."""
    first = sources[0]
    groups = list(dict.fromkeys([s for src in sources for s in src.services] + ["kms"]))
    paired = [shares_streams(first, s) for s in sources[1:]]
    rows = []
    for group in groups:
        figures = list(dict.fromkeys(p for src in sources for g, p in src.values if g == group))
        for path in figures:
            values = [src.values.get((group, path)) for src in sources]
            if all(v is None or mean(v) is None for v in values):
                continue
            n = [min(first.replications, s.replications) if p else None for s, p in zip(sources[1:], paired)]
            diffs = [None if v is None or values[0] is None else
                     difference(values[0][:k] if k else values[0], v[:k] if k else v, p)
                     for v, p, k in zip(values[1:], paired, n)]
            rows.append({"group": group, "figure": path, "means": [None if v is None else mean(v) for v in values],
                         "differences": diffs})
    return {"sources": [{"label": s.label, "what": s.what, "scenario": s.scenario, "seed": s.seed,
                         "replications": s.replications, "duration_s": s.duration_s,
                         "timelines": s.folder is not None} for s in sources],
            "paired": paired, "confidence": CONFIDENCE, "rows": rows}


def default_out(sources: list[Source]) -> Path:
    names = "-".join(re.sub(r"[^\w.-]+", "-", s.label).strip("-") for s in sources)
    return Path("results") / f"compare-{names}"[:120]


def main(args) -> int:
    """`sim compare`: read the sources, write the folder, print where it is."""
    from .compare_files import write_compare
    if len(args.sources) < 2:
        print("compare: give at least two results folders (or sweep cells SWEEP#N)", file=sys.stderr)
        return 2
    sources, problems = [], []
    for text in args.sources:
        try:
            sources.append(read_source(text))
        except (CompareError, ResultsFolderError) as exc:
            problems.append(str(exc))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    labels = [s.label for s in sources]
    for i, s in enumerate(sources):                      # the same folder name twice: number them
        if labels.count(s.label) > 1:
            s.label = f"{s.label} ({i + 1})"
    out = Path(args.out) if args.out else default_out(sources)
    try:
        with atomic_folder(out) as tmp:
            write_compare(compare(sources), sources, tmp)
    except OutputFolderError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"compare: {out}")
    return 0
