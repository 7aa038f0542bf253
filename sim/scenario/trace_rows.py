"""What the trace readers share (traces.py, metrics_explorer.py, monitoring_json.py); a leaf: CSV rows read
streaming from a user's file, count and timestamp cells, and steps from per-end-time totals on one
alignment."""
from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path

from sim.units import InputError, format_duration, show_value
from sim.userfile import TRACE_LIMIT, UserFileError, open_user_file

Points = tuple[tuple[float, float], ...]


def open_trace(path: Path, binary: bool = False):
    """A trace file opened for reading: a regular file (not a FIFO or a device) within TRACE_LIMIT, else one
    InputError naming it."""
    try:
        if binary:
            return open_user_file(path, TRACE_LIMIT, binary=True)
        return open_user_file(path, TRACE_LIMIT, encoding="utf-8-sig", newline="")
    except UserFileError as exc:
        raise InputError(f"file not found: {path}" if str(exc) == "file not found" else f"{path}: {exc}") from None


def read_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of the non-blank rows, read streaming (a trace may have millions); the first is
    the header (open_trace says which files are read)."""
    with open_trace(path) as handle:
        reader = csv.reader(handle)
        empty = True
        try:
            for n, row in enumerate(reader, start=1):
                if row and (row[0].strip() or any(cell.strip() for cell in row)):   # the first cell decides most
                    empty = False
                    yield n, row
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read {path}: {exc}") from None
    if empty:
        raise InputError(f"{path} is empty")


def header(rows: Iterator[tuple[int, list[str]]]) -> tuple[int, list[str]]:
    return next(rows)       # read_rows raises "is empty" rather than end without a row


def count_cell(cell: str) -> float:
    """A non-negative count (whole in the Azure trace; a Monitoring value may be a float)."""
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InputError(f"must be a number at least 0, got {show_value(cell.strip())}")
    return value


def timestamp(cell: str) -> datetime:
    text = cell.strip()
    try:
        stamp = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" and text else text)
    except ValueError:
        stamp = None
    if stamp is None or stamp.tzinfo is None:
        raise InputError(f"timestamp must be RFC 3339 (e.g. 2026-11-30T08:00:00Z), got {show_value(text)}")
    return stamp


# How to export counts on one alignment, said when points cannot be replayed as they are.
ALIGN_HINT = ("export with ALIGN_DELTA on one alignment period: the API's projects.timeSeries.list with "
              "aggregation.perSeriesAligner=ALIGN_DELTA and aggregation.alignmentPeriod=60s (or ALIGN_RATE, "
              "then `values: rate`)")


def steps(path: Path, totals: Mapping[datetime, float], lines: Mapping[datetime, int], values: str,
           scale: float, period: float | None = None) -> Points:
    """Steps from per-end-time totals on one alignment: a count v is v/P req/s over its interval, a rate is v;
    the alignment period P is given (the points' own intervals) or the smallest gap between end times."""
    stamps = sorted(totals)
    if period is None and len(stamps) < 2:
        raise InputError(f"{path}: needs at least two timestamps (the interval comes from consecutive ones)")
    t0 = stamps[0]
    offsets = [(s - t0).total_seconds() for s in stamps]
    if period is None:
        period = min(b - a for a, b in zip(offsets, offsets[1:]))
    points: list[tuple[float, float]] = []
    for stamp, t in zip(stamps, offsets):
        periods = t / period
        if abs(periods - round(periods)) > 1e-6:
            where = f"{path} line {lines[stamp]}" if stamp in lines else str(path)
            raise InputError(f"{where}: {stamp.isoformat()} is not on the "
                             f"{format_duration(period)} alignment of the first timestamp: {ALIGN_HINT}")
        if points and t > points[-1][0] + period + 1e-9:
            points.append((points[-1][0] + period, 0.0))      # a missing interval: no requests
        rate = totals[stamp] if values == "rate" else totals[stamp] / period
        points.append((t, rate * scale))
    return tuple(points + [(offsets[-1] + period, 0.0)])
