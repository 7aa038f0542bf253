"""`sim report FOLDER`: one self-contained HTML page for a run, sweep, solve or quota folder, to attach to
a ticket: the table, every chart embedded, the scenario in brief, warnings, the assumptions with their
ranges, and the cost. No code and no path of the machine (sim/html_page.py). Reads the folder through
sim.results.ResultsFolder; writes FOLDER/report.html (or --out FILE) atomically, and replaces only an
earlier report."""
from __future__ import annotations

import sys
from pathlib import Path

from . import html_page as h
from . import report_sections as parts
from .results import ResultsFolder, ResultsFolderError

REPORT_MARK = "<!-- cmek-sim report -->"   # what an earlier report begins with: it may be replaced
KINDS = ("run", "sweep", "solve", "quota")
CHART_CAPTIONS = {"timeline": "offered load, instances, pending requests and failures over time",
                  "cold_start": "cold-start percentiles over time and their start phases",
                  "kms": "key operations against the KMS quota", "capacity_loss": "against the fault-free twin",
                  "sweep": "the sweep's figure per cell, with 95% intervals",
                  "solve_curve": "each objective's metric against the setting",
                  "quota_curve": "each objective's metric against the quota"}


class ReportError(Exception):
    """The report cannot be written; one line, ready to print."""


# -- the run's table ---------------------------------------------------------------------------------------
RUN_FIGURES = (("arrived", ("requests", "arrived"), 1, ""), ("failed 429", ("requests", "failed_429"), 1, ""),
               ("failed 504", ("requests", "failed_504"), 1, ""),
               ("failed by shutdown", ("requests", "failed_shutdown"), 1, ""),
               ("failed share", ("requests", "failed_fraction"), 100, "%"),
               ("latency p50", ("latency_s", "p50"), 1, " s"), ("latency p99", ("latency_s", "p99"), 1, " s"),
               ("cold starts", ("cold_starts", "count"), 1, ""),
               ("cold-start p99", ("cold_starts", "latency_s", "p99"), 1, " s"),
               ("mean instances ready", ("instances", "mean_ready"), 1, ""),
               ("capacity shortfall", ("capacity", "shortfall_fraction"), 100, "%"),
               ("cost", ("cost", "total_usd"), 1, "$"))


def _at(node, path):
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def run_table(summary: dict) -> str:
    services = summary["aggregate"]["services"]
    names = list(services)
    rows = [[label, *(parts.money_interval(_at(services[n], path)) if unit == "$"    # one money format
                      else parts.interval(_at(services[n], path), scale, unit) for n in names)]
            for label, path, scale, unit in RUN_FIGURES]
    for name in names:                       # starts that failed, by cause, when any did
        for cause, v in (services[name].get("instance_starts_failed") or {}).items():
            if isinstance(v, dict) and v.get("mean"):
                rows.append([f"starts failed: {cause} ({name})",
                             *(parts.interval(v) if n == name else "" for n in names)])
    kms = summary["aggregate"]["kms"]
    lines = [f"KMS, the services' own calls: {parts.interval(kms.get('operations'))} operations, peak "
             f"{parts.interval(kms.get('peak_per_second'))}/s, RESOURCE_EXHAUSTED "
             f"{parts.interval(kms.get('resource_exhausted'))}."]
    for pool, p in (kms.get("quota_pools") or {}).items():
        soft = p.get("quota_enforcement") == "soft"      # over-quota service is best effort
        over = (f", served over quota {parts.interval(p.get('served_over_quota_services'))} of the services' and "
                f"{parts.interval(p.get('served_over_quota_background'))} background (soft enforcement, up to "
                f"{parts.interval(p.get('soft_headroom'))}x the quota)" if soft else "")
        lines.append(f"Quota pool {pool} ({p.get('enforcement')}): quota "
                     f"{parts.interval(p.get('requests_per_minute'))}/min, peak "
                     f"{parts.interval(p.get('peak_requested_per_minute'))}/min incl. background{over}, refused "
                     f"{parts.interval(p.get('rejected_services'))} of the services' and "
                     f"{parts.interval(p.get('rejected_background'))} background.")
    reps = summary.get("replications")
    note = (f"Means over {reps} replications, with 95% Student-t intervals [low, high]." if reps and reps > 1
            else "One replication: no intervals.")
    return (f"<p>{h.esc(note)}</p>" + h.table(["", *names], rows)
            + "<ul>" + "".join(f"<li>{h.esc(line)}</li>" for line in lines) + "</ul>")


# -- per kind ------------------------------------------------------------------------------------------------
def scenario_warnings(sc: dict | None, base: Path) -> list[str]:
    """The warnings `sim validate` gives for the scenario (re-checked from its resolved form; checks that need
    the file as written are left out), and a line when it cannot be re-checked."""
    if not sc:
        return []
    from .scenario import ScenarioError, scenario_from_dict, scenario_warnings as check
    try:
        return [line.removeprefix("warning: ") for line in check(scenario_from_dict(sc, "scenario", base),
                                                                 source="scenario")]
    except (ScenarioError, OSError, ValueError) as exc:
        return [f"the scenario's warnings could not be re-checked here ({exc.__class__.__name__})"]


def run_sections(folder: ResultsFolder) -> tuple[str, str, list[tuple[str, str]]]:
    summary, manifest, sc = folder.summary(), folder.manifest(), folder.scenario()
    from .plots import skipped_charts
    warnings = scenario_warnings(sc, folder.path)
    warnings += [f"{name}.png not drawn: {why}" for name, why in skipped_charts(folder.path).items()]
    if summary.get("replications", 0) < 2:
        warnings.append("one replication: the figures have no confidence intervals")
    subtitle = (f"A run of {summary.get('scenario')}: {summary.get('replications')} replications, seed "
                f"{summary.get('seed')}, {parts.seconds(summary.get('simulated_seconds'))} simulated"
                + _made(manifest))
    return (f"{summary.get('scenario')} — run report", subtitle, [
        ("Results", run_table(summary)),
        ("Cost", parts.cost_section(summary["aggregate"]["services"], sc, summary.get("simulated_seconds"))),
        ("Charts", charts(folder)),
        ("Scenario in brief", parts.scenario_brief(sc)),
        ("Warnings", parts.warnings_section(warnings)),
        ("Assumptions", parts.assumptions_section(sc))])


def sweep_sections(folder: ResultsFolder) -> tuple[str, str, list[tuple[str, str]]]:
    study = folder.json("sweep.json")
    cells = study.get("cells") or []
    sc = folder.scenario(cells[0]["scenario"]) if cells and cells[0].get("scenario") else None
    paths = [s["path"] for s in study.get("sets", [])]
    shown = ("requests.failed_fraction", "latency_s.p99", "cold_starts.latency_s.p99", "instances.mean_ready",
             study.get("metric"))
    columns = [f"{s}.{p}" for s in study.get("services", []) for p in dict.fromkeys(shown) if p]
    rows = []
    for r in folder.rows("sweep_summary.csv"):
        rows.append([r["cell"], *(r.get(p) for p in paths),
                     *(parts.interval({"mean": r.get(f"{c}.mean"), "low": r.get(f"{c}.low"),
                                       "high": r.get(f"{c}.high")}) for c in columns)])
    table = (f"<p>Each cell's means over {study.get('replications')} paired replications with 95% intervals; "
             "every figure per cell and replication is in sweep.csv.</p>"
             + h.table(["cell", *paths, *columns], rows, text_columns=1 + len(paths)))
    subtitle = (f"A sweep of {study.get('scenario')} over {', '.join(paths)}: {len(cells)} cells x "
                f"{study.get('replications')} replications, seed {study.get('seed')}, "
                f"{parts.seconds(study.get('duration_s'))} simulated each")
    return (f"{study.get('scenario')} — sweep report", subtitle, [
        ("Results", table), ("Cost", "<p>A sweep keeps the figures of sweep.csv, not the cost; run a cell with "
                                     "<code>sim run</code> to see it.</p>"),
        ("Charts", charts(folder)),
        ("Scenario in brief", parts.scenario_brief(sc, "The scenario of cell 0 (the other cells differ only in "
                                                       "the settings swept).")),
        ("Warnings", parts.warnings_section(scenario_warnings(sc, folder.path))),
        ("Assumptions", parts.assumptions_section(sc))])


def search_sections(folder: ResultsFolder) -> tuple[str, str, list[tuple[str, str]]]:
    """A solve or quota folder: its own report (solve_report.md, quota_report.md) as the table."""
    kind = folder.kind
    data = folder.json(f"{kind}.json")
    report = folder.text(f"{kind}_report.md")
    body = h.markdown(report) if report is not None else "<p>No report in the folder.</p>"
    notes = [str(n) for n in data.get("notes") or []]
    subtitle = (f"{'The smallest setting' if kind == 'solve' else 'The smallest KMS quota'} meeting the objectives "
                f"for {data.get('scenario')}: {data.get('replications')} paired replications per level")
    return (f"{data.get('scenario')} — {kind} report", subtitle, [
        ("Results", body),
        ("Cost", "<p>A search keeps the objectives' figures, not the cost; run the scenario at the answer with "
                 "<code>sim run</code> to see it.</p>"),
        ("Charts", charts(folder)),
        ("Scenario in brief", parts.scenario_brief(None, f"A {kind} folder does not keep the scenario; its name is "
                                                         f"{data.get('scenario')}.")),
        ("Warnings", parts.warnings_section(notes)),
        ("Assumptions", parts.assumptions_section(None))])


def charts(folder: ResultsFolder) -> str:
    order = list(CHART_CAPTIONS)                 # the run's charts in the order `sim run` lists them
    pngs = sorted(folder.charts(), key=lambda p: (order.index(p.stem) if p.stem in order else len(order), p.name))
    if not pngs:
        return "<p>No charts in the folder.</p>"
    return "\n".join(h.image(p, f"{p.name}: {CHART_CAPTIONS.get(p.stem, '')}".rstrip(": ")) for p in pngs)


def _made(manifest: dict) -> str:
    bits = [f"cmek-sim {manifest['version']}" if manifest.get("version") else "",
            f"commit {str(manifest['git_commit'])[:10]}" if manifest.get("git_commit") else "",
            f"started {manifest['started_at']}" if manifest.get("started_at") else ""]
    bits = [b for b in bits if b]
    return f"; {', '.join(bits)}" if bits else ""


def build(folder: ResultsFolder) -> str:
    """The page of a results folder."""
    if folder.kind not in KINDS:
        raise ReportError(f"{folder.path}: a {folder.kind} folder; report takes a run, sweep, solve or quota folder")
    make = {"run": run_sections, "sweep": sweep_sections}.get(folder.kind, search_sections)
    title, subtitle, sections = make(folder)
    body = [f"<h2>{h.esc(name)}</h2>\n{html}" for name, html in sections]
    return REPORT_MARK + "\n" + h.page(title, body, subtitle)


def target(folder: ResultsFolder, out: str | None) -> Path:
    """Where the page goes; an existing file is replaced only when it is an earlier report."""
    path = Path(out) if out else folder.path / "report.html"
    if path.is_dir():
        raise ReportError(f"{path}: is a folder; --out names the page to write, e.g. {path / 'report.html'}")
    if path.exists() and not h.begins_with(path, REPORT_MARK):
        raise ReportError(f"{path}: exists and is not an earlier report, so it will not be replaced; "
                          "choose another --out")
    return path


def main(args) -> int:
    try:
        folder = ResultsFolder(args.folder)
        path = target(folder, args.out)
        page = build(folder)
        h.write_file_atomically(path, page)
    except (ResultsFolderError, ReportError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"report: cannot write the page: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0
