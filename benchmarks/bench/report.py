"""The report: the speed and memory table, the kernel table, the (b) agreement section, the whole page."""
from __future__ import annotations

import datetime as dt
import time

from .cases import Case
from .figures import best_cost, cost_unit, fmt_rate, fmt_time, kernel_pairs, speedup
from .machine import machine_info, versions
from .targets import targets
from .workloads import PR_SERVICE_MEAN, PR_START_MEAN


def table(cases: list[Case]) -> list[str]:
    lines = ["| case | model | what | horizon (sim) | requests | best wall s (of N) | requests / wall s "
             "| µs / request | peak RSS MB (after imports) | load (1 min) at its runs |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for c in cases:
        b = c.best
        if b is None:
            why = f"SKIP: {c.skip}" if c.skip else f"skipped: {c.error or 'no result'}"
            lines.append(f"| {c.name} | {c.model_label} | {c.label} | | | | {why} | | | |")
            continue
        rate = c.rate
        us = f"{1e6 / rate:.1f}" if rate else "-"
        requests = "-" if b.get("requests") is None else f"{b['requests']:,}"
        base = "" if b.get("base_mb") is None else f" ({b['base_mb']:.0f})"
        lines.append(f"| {c.name} | {c.model_label} | {c.label} | {fmt_time(b['horizon'])} | {requests} "
                     f"| {b['wall']:.2f} ({len(c.runs)}) | {fmt_rate(rate)} | {us} "
                     f"| {c.peak_mb:.0f}{base} | {c.loads} |")
    return lines


def kernel_table(cases: list[Case]) -> list[str]:
    pairs = kernel_pairs(cases)
    if not pairs:
        return []
    lines = ["## Kernel: python vs compiled", "",
             "| case | what | horizon (sim) | requests | python | compiled | speed-up | round by round "
             "| peak RSS MB python / compiled |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |"]
    notes = []
    for py, co in pairs:
        b = py.best or co.best
        unit = cost_unit(py)
        ratio, rounds = speedup(py, co)

        def shown(c: Case) -> str:
            x = best_cost(c)
            return "not measured" if x is None else f"{x:.2f} {unit} ({len(c.runs)})"
        requests = "-" if b is None or b.get("requests") is None else f"{b['requests']:,}"
        peaks = " / ".join("-" if c.peak_mb is None else f"{c.peak_mb:.0f}" for c in (py, co))
        lines.append(f"| {py.pair} | {py.label} | {fmt_time(b['horizon']) if b else ''} | {requests} "
                     f"| {shown(py)} | {shown(co)} | {'-' if ratio is None else f'{ratio:.1f}x'} "
                     f"| {', '.join(f'{x:.1f}x' for x in rounds) or '-'} | {peaks} |")
        notes += [f"- {c.name}: {c.skip or c.error}" for c in (py, co) if c.skip or c.error]
        notes += [f"- {c.name}: {c.best['note']}" for c in (py, co) if c.best and c.best.get("note")]
        failed = [f"{c.kernel} {c.best['failed_429'] / c.best['requests']:.1%}" for c in (py, co)
                  if c.best and c.best.get("failed_429")]
        if failed:                               # the overload case: the 429s it is about, kernel by kernel
            notes.append(f"- {py.pair}: 429s (pending timeout) of arrivals: {', '.join(failed)}")
    lines += ["", "Each case ran with kernel=python and kernel=compiled one after the other in every round; the "
              "speed-up is python / compiled of the best runs, then round by round. µs/request: wall time of the "
              "simulation call (in process, after an untimed 2-second warm-up run) or of the whole `sim run` "
              "command (`run-10k`, after an untimed 2-second run that fills the JIT's cache), per request "
              "simulated. CPU-min: CPU time of the whole `sim solve` command and its worker processes."]
    if notes:
        lines += ["", *notes]
    return lines + [""]


def agreement_section(cases: dict[str, Case], rows: list[dict]) -> list[str]:
    if not rows:
        return []
    ours, theirs = cases["per-request"].best, cases["simfaas"].best
    lines = ["## (b) agreement with SimFaaS", "",
             f"One run each of {fmt_time(ours['horizon'])} (seed 1), cut into {len(ours['batches']['arrivals'])} "
             f"batches of {fmt_time(ours['batches']['edges'][1])}; each figure is the mean of the batch values with "
             "its 95% Student-t half-width, and the verdict is a Welch test of the difference at 5%. "
             "Our figures come from the run's time series (arrivals per bin) and instances.csv rows (a cold start is "
             "an instance start, counted at its request time; instances count from start request to stop, so "
             "starting ones are included, like SimFaaS's server_count which counts COLD instances). SimFaaS's come "
             "from its own history arrays (hist_times, hist_server_count, hist_req_cold/warm/rej_idxs).", "",
             "| metric | ours | SimFaaS | difference | verdict |", "| --- | ---: | ---: | ---: | --- |"]
    for row in rows:
        (m1, h1), (m2, h2) = row["ours"], row["theirs"]
        lines.append(f"| {row['metric']} | {m1:.5g} ± {h1:.2g} | {m2:.5g} ± {h2:.2g} "
                     f"| {row['diff']:+.3g} ± {row['diff_hw']:.2g} | {'agree' if row['ok'] else 'DIFFER'} |")
    own = theirs.get("own")
    lines += ["", "Whole-run figures: ours "
              f"{ours['cold_starts']:,} cold starts / {ours['requests']:,} arrivals = "
              f"{ours['cold_starts'] / ours['requests']:.5f}, mean ready instances {ours['mean_ready']:.3f} "
              "(summary `instances.mean_ready`, starting ones excluded); SimFaaS `get_result_dict()`: "
              + (f"prob_cold {own['prob_cold']:.5f}, inst_count_avg {own['inst_count_avg']:.3f}, "
                 f"inst_running_count_avg {own['inst_running_count_avg']:.3f}." if own else
                 theirs.get("own_error", "not available") + "."),
              "", "Mapping of (b) onto SimFaaS (read from simfaas 0.2.2's source): `ParServerlessSimulator` builds "
              "`ParFunctionInstance`s, whose cold request ends at creation + `cold_service_process` + a "
              "`warm_service_process` draw (`generate_cold_departure`). So `cold_service_rate` is 1 / our mean "
              f"start ({PR_START_MEAN} s), not 1 / {PR_SERVICE_MEAN + PR_START_MEAN:.3f} s: a cold request then takes "
              f"{PR_START_MEAN} + {PR_SERVICE_MEAN} = {PR_SERVICE_MEAN + PR_START_MEAN:.3f} s on average, as ours does "
              "(start, then a warm service time). This is also how its own `__main__` sets it up. "
              "(The plain `ServerlessSimulator` instead draws the whole cold request from `cold_service_process`.) "
              "Other parameters: `concurrency_value=1`, `arrival_rate`, `warm_service_rate=1/2.016`, "
              "`expiration_threshold=600` (an instance expires 600 s after its last departure, our "
              "`idle_retention`), newest instance first (ours: `routing: newest-first`), "
              "`maximum_concurrency` left at 1000 (never reached)."]
    return lines




def report(cases: list[Case], started: float, quick: bool, argv: list[str], load_start, load_end,
           v_start: dict) -> str:
    by_name = {c.name: c for c in cases}
    m, v = machine_info(), versions()
    if v.get("git") != v_start.get("git"):
        v["git"] = f"{v_start.get('git')} at the start, {v.get('git')} at the end (sim/ changed during the run)"
    target_lines, agree_rows = targets(by_name)
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Benchmark results{' (quick)' if quick else ''}", "",
             f"- date: {now}; command: `{' '.join(['python benchmarks/run.py', *argv])}`",
             f"- machine: {m['nproc']} CPUs ({m['cpu']}), {m['ram']} RAM, {m['os']}",
             "- versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
             f"- load average (1 min) at start {load_start:.2f}, at end {load_end:.2f} (the machine is shared; "
             "each case runs alone in a fresh subprocess, the best of N wall times is shown)",
             f"- whole run: {time.perf_counter() - started:.0f} s", "",
             "## Speed and memory", "",
             *table(cases), "",
             "Requests are arrivals simulated; the wall time is the simulation call only (for `run-10k`, the "
             "whole command). Peak RSS is the child "
             "process's VmHWM, interpreter and imports included; in brackets its RSS after the imports and scenario "
             "loading, just before the timed call (ours import numpy, scipy and pydantic; the floor only simpy).", "",
             *kernel_table(cases),
             "## Targets", "", "```", *target_lines, "```", ""]
    lines += agreement_section(by_name, agree_rows)
    return "\n".join(lines) + "\n"
