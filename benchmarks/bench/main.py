"""The command line: which cases, the rounds of repeats, the report (see benchmarks/README.md)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from .cases import Case, known_names, make_cases, select
from .children import child_main, run_child
from .figures import fmt_time
from .machine import versions
from .measure import load1
from .report import report
from .workloads import RESULTS

DESCRIPTION = "Benchmarks: our simulator against the plainest SimPy model (the floor) and against SimFaaS (the peer)."


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=DESCRIPTION)
    ap.add_argument("--quick", action="store_true", help="smaller horizons and one repeat (a smoke run)")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="run only these cases or groups (heavy, floor, per-request, simfaas, pool, sweep, kernel, "
                         "solve-planner, or a case name)")
    ap.add_argument("--repeats", type=int, default=None, help="override the repeats of every case")
    ap.add_argument("--profile", nargs="?", const="heavy", default=None, metavar="CASE",
                    help="profile one of our cases (default heavy, case (a)) with cProfile: top 25 by tottime")
    ap.add_argument("--out", default=None, help="write the report here (the full run writes benchmarks/RESULTS.md)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    return ap


def profile(ap: argparse.ArgumentParser, cases: list[Case], name: str, quick: bool) -> int:
    case = next((c for c in cases if c.name == name and c.spec["kind"] == "ours"), None)
    if case is None:
        ap.error(f"--profile: not one of our in-process cases: {name}")
    spec = dict(case.spec, kind="profile")
    if case.group == "heavy":                        # (a) profiled over 15 min (2 min with --quick)
        spec["updates"] = {**spec.get("updates", {}), "duration": 120.0 if quick else 900.0}
    print(f"profiling {case.name} ({case.label}) ...", file=sys.stderr, flush=True)
    r = run_child(spec)
    if "error" in r:
        print(f"profile failed: {r['error']}", file=sys.stderr)
        return 1
    print(f"{case.name}: {r['requests']:,} requests over {fmt_time(r['horizon'])} simulated in "
          f"{r['wall']:.2f} s under cProfile ({r['requests'] / r['wall']:,.0f} requests/s)\n")
    print(r["profile"])
    return 0


def run_rounds(cases: list[Case], started: float) -> None:
    """Every case once, then again for the second repeat, ... A case that errs or cannot run here (SKIP)
    is not run again."""
    for round_ in range(max((c.repeats for c in cases), default=0)):
        for c in cases:
            if round_ >= c.repeats or c.error or c.skip:
                continue
            load = load1() or 0.0
            print(f"[{time.perf_counter() - started:6.0f} s] {c.name} run {round_ + 1}/{c.repeats} "
                  f"(load {load:.2f}) ...", file=sys.stderr, flush=True)
            r = run_child(c.spec)
            if "skip" in r:
                c.skip = r["skip"]
                print(f"    SKIP {c.name}: {r['skip']}", file=sys.stderr, flush=True)
                continue
            if "error" in r:
                c.error = r["error"]
                print(f"    {c.name}: {r['error']}", file=sys.stderr, flush=True)
                continue
            r["load"] = load
            c.runs.append(r)
            done = (f"{r['requests']:,} requests in {r['wall']:.2f} s ({r['requests'] / r['wall']:,.0f}/s)"
                    if r.get("requests") else f"{r['wall']:.2f} s")
            cpu = f", {r['cpu_s'] / 60:.2f} CPU-min" if "cpu_s" in r else ""
            print(f"    {done}{cpu}, peak {r['peak_mb']:.0f} MB", file=sys.stderr, flush=True)


def write_whole(path: Path, text: str) -> None:
    """Written beside it, then moved into place: an interrupted write never leaves half a report."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = parser()
    args = ap.parse_args(argv)
    if args.child is not None:
        return child_main(args.child)

    cases = make_cases(args.quick)
    if args.profile:
        return profile(ap, cases, args.profile, args.quick)
    wanted = {w.strip() for arg in args.only for w in arg.split(",") if w.strip()}
    unknown = wanted - known_names(cases)
    if unknown:
        ap.error(f"--only: unknown {', '.join(sorted(unknown))} (known: {', '.join(sorted(known_names(cases)))})")
    cases = select(cases, wanted)
    if args.repeats:
        for c in cases:
            c.repeats = args.repeats

    started = time.perf_counter()
    load_start = load1() or 0.0
    v_start = versions()
    run_rounds(cases, started)
    load_end = load1() or 0.0
    text = report(cases, started, args.quick, argv, load_start, load_end, v_start)
    print(text)
    out = Path(args.out) if args.out else (RESULTS if not (args.quick or wanted or args.repeats) else None)
    if out is not None:
        write_whole(out, text)
        print(f"written: {out}", file=sys.stderr)
    return 0
