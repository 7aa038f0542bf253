"""One progress bar on stderr for a study: units done / total, rate and time left, redrawn in place.

Drawn only when the stream is a terminal (a log file or a pipe gets nothing). Units read back from the resume
store count as done but not in the rate, so the time left reflects the work still to run.
"""
from __future__ import annotations

import sys
import time

REDRAW_S = 0.2                               # at most five redraws a second (store hits can come by thousands)
WIDTH = 24


class Progress:
    def __init__(self, total: int | None, *, enabled: bool = True, stream=None, label: str = "units"):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and is_terminal(self.stream)
        self.total, self.label = total, label
        self.done = self.ran = 0
        self.started = time.monotonic()
        self.drawn_at = None
        self.open = False

    def advance(self, ran: bool = True) -> None:
        """One more unit finished (`ran`: computed now, not read from the store)."""
        self.done += 1
        self.ran += ran
        now = time.monotonic()
        if self.enabled and (self.drawn_at is None or now - self.drawn_at >= REDRAW_S or self.done == self.total):
            self.drawn_at = now
            self.stream.write("\r" + self.line(now - self.started))
            self.stream.flush()
            self.open = True

    def line(self, elapsed: float) -> str:
        per_min = self.ran / elapsed * 60.0 if elapsed > 0 and self.ran else None
        rate = "-" if per_min is None else f"{per_min:.3g}/min"
        if self.total:
            filled = int(WIDTH * self.done / self.total)
            left = self.total - self.done
            eta = "-" if per_min is None else _clock(left / per_min * 60.0)
            return (f"  [{'#' * filled}{'.' * (WIDTH - filled)}] {self.done}/{self.total} {self.label}"
                    f"  {rate}  {eta} left ")
        return f"  {self.done} {self.label}  {rate} "

    def close(self) -> None:
        """End the bar's line (once), so what is printed next starts on its own line."""
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
