"""The files of a compare folder: compare.json, compare.md, compare.html (self-contained: the chart
embedded, no paths) and compare.png (the timelines overlaid). Both texts are made from the same rows."""
from __future__ import annotations

import json
from pathlib import Path

from . import html_page as h

GROUP_TITLES = {"kms": "KMS, the services' own calls"}


def number(v) -> str:
    if v is None:
        return "-"
    if v != 0 and abs(v) < 1e-3:
        return f"{v:.3g}"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def signed(v) -> str:
    return "-" if v is None else ("+" if v > 0 else "") + number(v)


def change_text(d: dict | None) -> str:
    """`+12.5 [+3.1, +21.9]`: the change and its interval (no interval from one replication)."""
    if d is None or d["change"] is None:
        return "-"
    if d["low"] is None:
        return f"{signed(d['change'])} (no interval: one replication)"
    return f"{signed(d['change'])} [{signed(d['low'])}, {signed(d['high'])}]"


def differs(d: dict | None) -> str:
    """Whether the interval leaves out 0: the sources differ in this figure at the stated confidence."""
    if d is None or d["low"] is None:
        return "-"
    return "yes" if d["low"] > 0 or d["high"] < 0 else "no"


def pairing_lines(data: dict) -> list[str]:
    first = data["sources"][0]
    lines = []
    for s, paired in zip(data["sources"][1:], data["paired"]):
        if paired:
            n = min(first["replications"], s["replications"])
            lines.append(f"{s['label']} vs {first['label']}: the same seed ({s['seed']}), so replications 0 to "
                         f"{n - 1} share their random streams: paired Student-t intervals over {n} pairs.")
        else:
            why = (f"seeds {first['seed']} and {s['seed']}" if first["seed"] != s["seed"]
                   else "fewer than 2 replications")
            lines.append(f"{s['label']} vs {first['label']}: {why}, so the runs are not paired: Welch intervals "
                         "of the difference of the means.")
    return lines


def tables(data: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) per service and for KMS: the means, then each source's change from the first."""
    labels = [s["label"] for s in data["sources"]]
    pct = f"{data['confidence']:.0%}"
    header = ["figure", *labels]
    for other in labels[1:]:
        header += [f"{other} − {labels[0]} [{pct}]", "differs"]
    out, current = [], None
    for row in data["rows"]:
        if row["group"] != current:
            current = row["group"]
            out.append((GROUP_TITLES.get(current, f"service {current}"), header, []))
        cells = [row["figure"], *(number(m) for m in row["means"])]
        for d in row["differences"]:
            cells += [change_text(d), differs(d)]
        out[-1][2].append(cells)
    return out


def sources_table(data: dict):
    header = ["source", "what", "seed", "replications", "simulated", "timelines"]
    rows = [[s["label"], s["what"], s["seed"], s["replications"],
             "-" if s["duration_s"] is None else f"{s['duration_s'] / 60:g} min", "yes" if s["timelines"] else
             "no (a sweep keeps figures only)"] for s in data["sources"]]
    return header, rows


def markdown(data: dict) -> str:
    labels = [s["label"] for s in data["sources"]]
    lines = [f"# Comparison: {', '.join(labels)}", "",
             "Means over each source's replications; each later source against the first.", ""]
    header, rows = sources_table(data)
    lines += _md_table(header, rows) + [""]
    lines += [f"- {line}" for line in pairing_lines(data)] + [""]
    for title, header, rows in tables(data):
        lines += [f"## {title}", ""] + _md_table(header, rows) + [""]
    lines += ["## Timelines", "", TIMELINE_NOTE, "", "![timelines](compare.png)", ""]
    return "\n".join(lines)


TIMELINE_NOTE = ("Replication 0 of each run, overlaid: instances ready, the failed share of arrivals, the p99 "
                 "of cold starts (start requested to ready, by the bin they became ready in; a run records no "
                 "request latency per bin) and the services' KMS operations per second.")


def _md_table(header, rows) -> list[str]:
    def cell(v):
        return str(v).replace("|", "\\|")
    return ["| " + " | ".join(cell(c) for c in header) + " |", "|" + "---|" * len(header)] + \
        ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]


def html(data: dict, chart: Path) -> str:
    labels = [s["label"] for s in data["sources"]]
    header, rows = sources_table(data)
    sections = ["<h2>Sources</h2>", h.table(header, rows, text_columns=2),
                "<ul>" + "".join(f"<li>{h.esc(line)}</li>" for line in pairing_lines(data)) + "</ul>"]
    for title, header, rows in tables(data):
        sections += [f"<h2>{h.esc(title)}</h2>", h.table(header, rows)]
    sections += ["<h2>Timelines</h2>", f"<p>{h.esc(TIMELINE_NOTE)}</p>", h.image(chart, "timelines overlaid")]
    return h.page(f"Comparison: {', '.join(labels)}", sections,
                  "Means over each source's replications; each later source against the first. Made by cmek-sim.")


def write_compare(data: dict, sources, folder: Path) -> None:
    """compare.json, compare.png, compare.md and compare.html into `folder` (a temporary folder)."""
    from .plots import save
    from .plots.compare_timeline import compare_figure
    (folder / "compare.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    chart = save(compare_figure([(s.label, s.folder) for s in sources]), folder / "compare.png")
    (folder / "compare.md").write_text(markdown(data), encoding="utf-8")
    (folder / "compare.html").write_text(html(data, chart), encoding="utf-8")
