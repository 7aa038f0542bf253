"""Azure Functions 2019 trace day files (`invocations_per_function_md.anon.dNN.csv`) into (time s, rps) steps.

The layout: a header `HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440`, then one row per function with its
invocation count for each minute of the day. A real day file has tens of thousands of rows (~150 MB), so it is
read streaming: lines in batches of BATCH_ROWS, the counts of a batch parsed by numpy's C reader
(`np.loadtxt`), and only each function's total kept (pass 1); pass 2 keeps the counts of the picked functions
only. Memory stays at a few batches plus one total per function, whatever the file's size. A batch the fast
path cannot take (quoted cells, a bad count, a short row) is read again by the csv module, which names the
line and minute at fault.

Selection: `trigger` (default `http`, `any` for all; compared without case) keeps the functions whose Trigger
column matches, then `top: N` sums the N busiest (by total count over all the files, ties in file order);
`function: PREFIX` picks one function by its HashFunction (trigger `any` unless given). A list of day files is
one replay of consecutive days (minute 1440 is the next day's 00:00); a function missing from a day counts 0 for
that day's minutes (the public trace drops functions not invoked that day).
"""

from __future__ import annotations

import csv
import heapq
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.scenario.trace_rows import count_cell, open_trace
from sim.units import InputError

AZURE_COLUMNS = ("HashOwner", "HashApp", "HashFunction", "Trigger")
DAY_MINUTES = 1440
BATCH_ROWS = 512          # ~6 MB of float counts per batch: small against the 500 MB budget, large for numpy
DEFAULT_TRIGGER = "http"  # Cloud Run serves HTTP; queue- and timer-triggered functions are not its traffic
ANY_TRIGGER = "any"
_DAY_NAME = re.compile(r"(?:^|[._-])d(\d{1,3})(?=[._-])", re.IGNORECASE)   # `...anon.d03.csv` -> 3

Points = tuple[tuple[float, float], ...]
Key = tuple[str, str, str]     # (HashOwner, HashApp, HashFunction): a function's identity across day files


@dataclass(frozen=True)
class Picked:
    """A function a replay sums: its hashes, trigger, total count and the day files (1-based) it appears in."""
    owner: str
    app: str
    function: str
    trigger: str
    total: float
    days: tuple[int, ...]

    def describe(self, n_days: int) -> str:
        missing = [d for d in range(1, n_days + 1) if d not in self.days]
        note = f", absent on day {', '.join(map(str, missing))} (counted 0)" if missing else ""
        return f"{self.function[:12]} ({self.trigger}, {self.total:,.0f} invocations{note})"

    def as_dict(self) -> dict:
        return {"hash_function": self.function, "hash_app": self.app, "hash_owner": self.owner,
                "trigger": self.trigger, "invocations": self.total, "days": list(self.days)}


# ---------------------------------------------------------------------------------------------------------
# Reading one day file

class DayFile:
    """One day file: its header checked on opening; `batches()` yields (keys, triggers, counts) streaming."""

    def __init__(self, path: Path):
        self.path = path
        with self._open() as handle:
            self.header_line, header = self._header(handle)
        self.width = len(header)
        self.minutes = self.width - len(AZURE_COLUMNS)

    def _open(self):
        return open_trace(self.path)

    def _lines(self, handle) -> Iterator[tuple[int, str]]:
        """(line number, text) of the non-blank lines (a line of commas is blank, as for the csv reader)."""
        try:
            for n, text in enumerate(handle, start=1):
                text = text.rstrip("\r\n")
                if text and (text[0] not in ", \t" or text.replace(",", "").strip()):   # cheap test first
                    yield n, text
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {self.path}: {exc}") from None

    def _header(self, handle) -> tuple[int, list[str]]:
        first = next(self._lines(handle), None)
        if first is None:
            raise InputError(f"{self.path} is empty")
        n, text = first
        header = [cell.strip() for cell in next(csv.reader([text]))]
        minutes = header[len(AZURE_COLUMNS):]
        if tuple(h.lower() for h in header[:len(AZURE_COLUMNS)]) != tuple(c.lower() for c in AZURE_COLUMNS) \
                or not minutes or minutes != [str(i) for i in range(1, len(minutes) + 1)] \
                or len(minutes) > DAY_MINUTES:
            raise InputError(f"{self.path} line {n}: the header must be {','.join(AZURE_COLUMNS)},1,2,...,1440 "
                             "(the Azure Functions 2019 trace layout)")
        return n, header

    def batches(self, wanted: set[Key] | None = None) -> Iterator[tuple[list[Key], list[str], np.ndarray]]:
        """(keys, triggers, counts[rows, minutes]) of BATCH_ROWS rows at a time; with `wanted`, only the rows
        of those functions are parsed (the others are skipped on their first three cells)."""
        any_row = False
        with self._open() as handle:
            lines = self._lines(handle)
            next(lines)                                   # the header, checked on opening
            batch: list[tuple[int, str]] = []
            for n, text in lines:
                any_row = True
                if wanted is not None and tuple(text.split(",", 3)[:3]) not in wanted \
                        and '"' not in text and " " not in text:
                    continue
                batch.append((n, text))
                if len(batch) == BATCH_ROWS:
                    yield self._parse(batch)
                    batch = []
            if batch:
                yield self._parse(batch)
        if not any_row:
            raise InputError(f"{self.path} has a header but no rows")

    def _parse(self, batch: list[tuple[int, str]]) -> tuple[list[Key], list[str], np.ndarray]:
        """The fast path: split off the four text cells, numpy parses the counts; anything odd: `_parse_slow`."""
        heads, tails = [], []
        for _, text in batch:
            parts = text.split(",", 4)
            if len(parts) < 5 or '"' in text:
                return self._parse_slow(batch)
            heads.append(parts)
            tails.append(parts[4])
        try:
            counts = np.loadtxt(tails, delimiter=",", dtype=np.float64, ndmin=2, comments=None)
        except ValueError:
            return self._parse_slow(batch)
        if counts.shape != (len(batch), self.minutes) or not np.isfinite(counts).all() or (counts < 0).any():
            return self._parse_slow(batch)
        keys = [(h[0].strip(), h[1].strip(), h[2].strip()) for h in heads]
        return keys, [h[3].strip() for h in heads], counts

    def _parse_slow(self, batch: list[tuple[int, str]]) -> tuple[list[Key], list[str], np.ndarray]:
        """The csv module, cell by cell: quoted cells are read, a problem names its line (and minute)."""
        keys, triggers, counts = [], [], np.zeros((len(batch), self.minutes))
        for i, (n, text) in enumerate(batch):
            row = next(csv.reader([text]), [])
            if len(row) != self.width:
                raise InputError(f"{self.path} line {n}: {len(row)} columns, the header has {self.width}")
            for minute, cell in enumerate(row[len(AZURE_COLUMNS):], start=1):
                try:
                    counts[i, minute - 1] = count_cell(cell)
                except InputError as exc:
                    raise InputError(f"{self.path} line {n}: minute {minute}: count {exc}") from None
            keys.append((row[0].strip(), row[1].strip(), row[2].strip()))
            triggers.append(row[3].strip())
        return keys, triggers, counts


# ---------------------------------------------------------------------------------------------------------
# A list of day files

def open_days(paths: Sequence[Path]) -> list[DayFile]:
    """The day files of one replay, checked as a list: no file twice, days consecutive when the names carry
    them (`.d01.`, `.d02.`), every day but the last a whole day (the replay's clock crosses midnight)."""
    days = [DayFile(Path(p)) for p in paths]
    key = "file" if len(days) == 1 else None
    for i, day in enumerate(days):
        at = "file" if key else f"file[{i}]"
        if any(day.path == other.path for other in days[:i]):
            raise InputError(f"{day.path} is listed twice (a day replays once)", at)
        if i < len(days) - 1 and day.minutes != DAY_MINUTES:
            raise InputError(f"{day.path} has {day.minutes} minutes; every day file but the last needs "
                             f"{DAY_MINUTES} (the next file starts at the next 00:00)", at)
    numbers = [_DAY_NAME.findall(d.path.name) for d in days]
    if len(days) > 1 and all(numbers):
        for i in range(1, len(days)):
            before, now = int(numbers[i - 1][-1]), int(numbers[i][-1])
            if now != before + 1:
                raise InputError(f"{days[i].path.name} (day {now}) does not follow {days[i - 1].path.name} "
                                 f"(day {before}): list consecutive days in order", f"file[{i}]")
    return days


def _matches(trigger: str | None, value: str) -> bool:
    return trigger is None or trigger.lower() == ANY_TRIGGER or value.lower() == trigger.lower()


def _totals(days: list[DayFile], trigger: str | None) -> dict[Key, list]:
    """Pass 1: key -> [total count, trigger, first seen (order), days present] of the functions `trigger` keeps."""
    totals: dict[Key, list] = {}
    for d, day in enumerate(days, start=1):
        for keys, triggers, counts in day.batches():
            sums = counts.sum(axis=1)
            for key, trig, total in zip(keys, triggers, sums.tolist()):
                if not _matches(trigger, trig):
                    continue
                entry = totals.get(key)
                if entry is None:
                    totals[key] = [total, trig, len(totals), [d]]
                else:
                    entry[0] += total
                    if entry[3][-1] != d:
                        entry[3].append(d)
    return totals


def _pick_function(totals: dict[Key, list], prefix: str, where: str) -> list[Key]:
    keys = [k for k in totals if k[2].startswith(prefix)]
    hashes = list(dict.fromkeys(k[2] for k in keys))
    if not hashes:
        first = list(dict.fromkeys(k[2] for k in totals))
        known = ", ".join(first[:5])
        raise InputError(f"no HashFunction in {where} starts with {prefix!r} "
                         f"(known: {known}{', ...' if len(first) > 5 else ''})", "function")
    if len(hashes) > 1:
        raise InputError(f"{prefix!r} matches {len(hashes)} functions in {where} "
                         f"({', '.join(hashes[:5])}): give more of the hash", "function")
    return keys


def _pick_top(totals: dict[Key, list], top: int, trigger: str, where: str) -> list[Key]:
    if top > len(totals):
        which = "" if trigger.lower() == ANY_TRIGGER else f" with trigger {trigger}"
        raise InputError(f"is {top} but {where} has {len(totals)} function{'' if len(totals) == 1 else 's'}"
                         f"{which}", "top")
    # the N largest totals, ties in the order first seen (as a stable sort of the file would give)
    return heapq.nsmallest(top, totals, key=lambda k: (-totals[k][0], totals[k][2]))


def azure_replay(paths: Sequence[str | Path], function: str | None = None, top: int | None = None,
                 trigger: str | None = None, scale: float = 1.0, start_minute: int = 0,
                 minutes: int | None = None) -> tuple[Points, tuple[Picked, ...]]:
    """Steps of c/60 req/s per minute (c the picked functions' summed count) over the window of the day files
    laid end to end, then 0; and the functions picked."""
    days = open_days([Path(p) for p in paths])
    where = str(days[0].path) if len(days) == 1 else f"the {len(days)} day files"
    if function is not None:
        totals = _totals(days, trigger)
        chosen = _pick_function(totals, function, where)
    else:
        trigger = DEFAULT_TRIGGER if trigger is None else trigger
        totals = _totals(days, trigger)
        if not totals and trigger.lower() != ANY_TRIGGER:
            found = sorted({t for day in days for _, ts, _ in day.batches() for t in ts})
            raise InputError(f"no function in {where} has trigger {trigger!r} (found: {', '.join(found)}; "
                             f"`any` takes all)", "trigger")
        chosen = _pick_top(totals, 1 if top is None else top, trigger, where)

    span = sum(day.minutes for day in days)
    if start_minute >= span:
        raise InputError(f"is {start_minute} but {where} {'has' if len(days) == 1 else 'have'} {span} minutes",
                         "start_minute")
    end = span if minutes is None else start_minute + minutes
    if end > span:
        raise InputError(f"start_minute {start_minute} + minutes {minutes} is beyond the {span} minutes of {where}",
                         "minutes")

    # Pass 2: the counts of the picked functions only, day after day (a day without one of them adds 0).
    wanted = set(chosen)
    counts = np.zeros(span)
    offset = 0
    for day in days:
        for keys, _, rows in day.batches(wanted):
            for key, row in zip(keys, rows):
                if key in wanted:
                    counts[offset:offset + day.minutes] += row
        offset += day.minutes
    window = counts[start_minute:end].tolist()
    points = [(60.0 * i, c / 60.0 * scale) for i, c in enumerate(window)]
    picked = tuple(Picked(k[0], k[1], k[2], totals[k][1], totals[k][0], tuple(totals[k][3])) for k in chosen)
    return tuple(points + [(60.0 * len(window), 0.0)]), picked
