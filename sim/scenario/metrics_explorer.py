"""Metrics Explorer's "Download CSV" (the Cloud console's chart download), read into (time s, rps) steps for
sim.scenario.traces; a leaf beside it.

The layout, as public parsers of real downloads read it:

    TimeSeries ID,<id of series 1>,<id of series 2>,...
    <label name>,<its value for series 1>,<for series 2>,...      (one row per label; any number, or none)
    Sun Mar 02 2025 14:01:00 GMT+0100 (Central European Standard Time),<value 1>,<value 2>,...

a JavaScript date string, then one value per series as the chart shows it: for request_count the chart's
default aligner is a rate per second (`values: count` when the chart was set to a delta or a sum). An empty
cell is a point the series does not have (no requests then). The series are summed; `labels: {name: value}`
keeps only those whose label rows match.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sim.scenario.trace_rows import Points, count_cell, header, read_rows, steps, timestamp
from sim.units import InputError, show_value

FIRST_CELL = "TimeSeries ID"
# `Sun Mar 02 2025 14:01:00 GMT+0100 (Central European Standard Time)`: the zone's name in brackets is
# dropped (it depends on the browser's language); the offset carries the time zone.
JS_DATE = re.compile(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                     r"(\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT([+-]\d{4})(?: \(.*\))?$")


def js_date(cell: str) -> datetime | None:
    """The time of a JavaScript Date string (or an RFC 3339 one), None when the cell is not a date."""
    text = cell.strip()
    match = JS_DATE.match(text)
    if match:
        month, day_, year, hh, mm, ss, zone = match.groups()
        try:
            return datetime.strptime(f"{year} {month} {day_} {hh}:{mm}:{ss} {zone}", "%Y %b %d %H:%M:%S %z")
        except ValueError:
            return None
    try:
        return timestamp(text) if text[:4].isdigit() else None
    except InputError:
        return None


def _chosen(path: Path, ids: list[str], label_rows: dict[str, list[str]], labels: Mapping[str, str] | None,
            header_line: int) -> list[int]:
    """The columns (1-based) of the series kept: all of them, or those whose label rows match `labels`."""
    columns = list(range(1, len(ids) + 1))
    for name, wanted in (labels or {}).items():
        if name not in label_rows:
            known = ", ".join(label_rows) or "none"
            raise InputError(f"{path} has no label row {name!r} (its labels: {known})", "labels")
        row = label_rows[name]
        columns = [c for c in columns if row[c].strip() == wanted]
        if not columns:
            seen = ", ".join(dict.fromkeys(cell.strip() for cell in row[1:]))
            raise InputError(f"no series of {path} has {name} = {wanted!r} (with the other labels asked; "
                             f"its {name} values: {seen})", "labels")
    return columns


def load_metrics_explorer(path: str | Path, scale: float = 1.0, values: str = "rate",
                          labels: Mapping[str, str] | None = None) -> Points:
    """Steps from a Metrics Explorer CSV download: the chosen series summed at each time."""
    path = Path(path)
    rows = read_rows(path)
    header_line, first = header(rows)
    if first[0].strip() != FIRST_CELL or len(first) < 2:
        raise InputError(f"{path} line {header_line}: a Metrics Explorer download starts with "
                         f"`{FIRST_CELL},<series...>` (Download CSV of a chart), got {show_value(first[0].strip())}")
    ids = [cell.strip() for cell in first[1:]]
    width = len(first)
    label_rows: dict[str, list[str]] = {}
    totals: dict[datetime, float] = {}
    lines: dict[datetime, int] = {}
    columns: list[int] | None = None
    for n, row in rows:
        if len(row) != width:
            raise InputError(f"{path} line {n}: {len(row)} columns, the TimeSeries ID row has {width}")
        stamp = js_date(row[0])
        if stamp is None:
            if columns is not None:
                raise InputError(f"{path} line {n}: the time must be a date such as `Sun Mar 02 2025 14:01:00 "
                                 f"GMT+0100 (...)`, got {show_value(row[0].strip())}")
            label_rows[row[0].strip()] = row          # a label row, before the first point
            continue
        if columns is None:
            columns = _chosen(path, ids, label_rows, labels, header_line)
        total = 0.0
        for c in columns:
            if row[c].strip():                        # empty: the series has no point then
                try:
                    total += count_cell(row[c])
                except InputError as exc:
                    raise InputError(f"{path} line {n}: series {ids[c - 1]!r}: value {exc}") from None
        if stamp in totals:
            raise InputError(f"{path} line {n}: the time {row[0].strip()} is also on line {lines[stamp]}")
        totals[stamp] = total
        lines[stamp] = n
    if not totals:
        raise InputError(f"{path} has a header but no rows with a time")
    return steps(path, totals, lines, values, scale)
