"""Windows of a run: the spans of time a windowed figure (`METRIC@WINDOW`) is counted over.

    fault[I]         the I-th fault window of the scenario (0-based, in time order: the rows of
                     fault_windows.csv, number I + 1): a fault with a duration, or a state change until the
                     fault that undoes it (or the end of the run); an instant fault (a deploy) is empty
    fault[I]+D       the same, with a recovery tail of D after it (e.g. fault[0]+10m), cut at the run's end
    A..B             an explicit interval of the run, e.g. 30m..60m (B at most the duration)
    peak-hour        the 60 minutes starting on a whole minute with the most arrivals (the earliest such);
                     the whole run when it is shorter than an hour. Known only after the run: it is found
                     from the exact arrivals per second (not from timeseries.csv's bins)

Window figures are exact counts of the requests that ARRIVED in [start, end) (a request belongs to the
window of its arrival, like the whole-run figures), with the window's bounds on whole seconds (start rounded
down, end up: the per-second counters the recorder keeps are what makes every window exact and the hot path
cheap). The warmup does not apply inside a window: a window is its own span. Every fault's window is in
every summary; the others when a command names them or the scenario's `windows` lists them.

A leaf module (parsing and resolving only): no simpy.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .units import InputError, format_duration, parse_duration

PEAK_HOUR = "peak-hour"
EXAMPLES = "fault[0], fault[0]+10m, 30m..60m or peak-hour"
_FAULT_RE = re.compile(r"^fault\[(\d+)\](?:\+(.+))?$")


class WindowError(ValueError):
    """A bad window; the message is one line (without the option it came from)."""


@dataclass(frozen=True)
class Window:
    kind: str                    # "fault", "interval" or "peak-hour"
    index: int | None = None     # fault[index]
    tail: float = 0.0            # fault[index]+tail, seconds
    start: float | None = None   # interval A..B, seconds
    end: float | None = None
    text: str = ""               # as written, without spaces

    @property
    def name(self) -> str:
        """The key of the summary's `windows` section and the name in CSV columns and reports: the window as
        written (without spaces), so `30m..60m` stays `30m..60m`; a tail of 0 is the fault window itself."""
        if self.kind == "fault" and not self.tail:
            return f"fault[{self.index}]"
        return self.text


def _duration(text: str, what: str) -> float:
    try:
        return parse_duration(text.strip())
    except InputError as exc:
        raise WindowError(f"{what} {text.strip()!r} {exc}") from None


def parse_window(text: str) -> Window:
    """The window of `text` (see the module text), or WindowError."""
    t = "".join((text or "").split())
    if t == PEAK_HOUR:
        return Window(PEAK_HOUR, text=t)
    m = _FAULT_RE.match(t)
    if m:
        tail = _duration(m.group(2), "the recovery tail") if m.group(2) is not None else 0.0
        return Window("fault", index=int(m.group(1)), tail=tail, text=t)
    if ".." in t:
        a, b = t.split("..", 1)
        start, end = _duration(a, "the start"), _duration(b, "the end")
        if end <= start:
            raise WindowError(f"window {t!r}: the end must be after the start")
        return Window("interval", start=start, end=end, text=t)
    raise WindowError(f"window {t!r}: expected one of {EXAMPLES}")


def window_names(texts) -> list[str]:
    return [parse_window(t).name for t in texts]


def fault_spans(scenario) -> list[tuple[float, float]]:
    """(start, end) of each fault window of the scenario, in order (an instant one: start == end)."""
    from .scenario.faults import fault_windows
    return [(w.start, w.start if w.end is None else w.end) for w in fault_windows(scenario.faults, scenario.duration)]


def check_window(window: Window, scenario) -> None:
    """WindowError unless the window exists in the scenario (its fault, its interval inside the run)."""
    if window.kind == "fault":
        n = len(fault_spans(scenario))
        if window.index >= n:
            have = "no fault window" if n == 0 else f"{n} fault window{'s' if n > 1 else ''} " \
                f"(fault[0]{f'..fault[{n - 1}]' if n > 1 else ''})"
            raise WindowError(f"window {window.name!r}: {scenario.name} has {have}")
    elif window.kind == "interval" and window.end > scenario.duration + 1e-9:
        raise WindowError(f"window {window.name!r}: ends after the run ({format_duration(scenario.duration)})")


def windows_problem(scenario) -> str | None:
    """The first problem of the scenario's `windows` list, as one line (None: none)."""
    for text in scenario.windows:
        try:
            check_window(parse_window(text), scenario)
        except WindowError as exc:
            return f"windows: {exc}"
    return None


def with_windows(scenario, names):
    """The scenario with these windows added to its `windows` (a fault's own window is always there);
    WindowError (one line) when one does not exist in it."""
    from .scenario import with_updates
    wanted = []
    for name in names:
        w = parse_window(name)
        check_window(w, scenario)
        if not (w.kind == "fault" and not w.tail) and w.name not in scenario.windows + tuple(wanted):
            wanted.append(w.name)
    return with_updates(scenario, {"windows": [*scenario.windows, *wanted]}) if wanted else scenario


def aligned(start: float, end: float, duration: float) -> tuple[int, int]:
    """A span's whole seconds [floor(start), ceil(end)), inside the run."""
    last = math.ceil(duration - 1e-9)
    return max(0, min(last, math.floor(start + 1e-9))), max(0, min(last, math.ceil(end - 1e-9)))


def resolved_spans(scenario) -> dict[str, tuple[int, int]]:
    """Every window known before the run, name -> whole-second span: each fault's, then the scenario's
    `windows` (peak-hour aside, found after the run)."""
    spans = {f"fault[{i}]": aligned(a, b, scenario.duration) for i, (a, b) in enumerate(fault_spans(scenario))}
    faults = fault_spans(scenario)
    for text in getattr(scenario, "windows", ()):
        w = parse_window(text)
        if w.kind == "fault" and w.index < len(faults):
            a, b = faults[w.index]
            spans[w.name] = aligned(a, min(b + w.tail, scenario.duration), scenario.duration)
        elif w.kind == "interval":
            spans[w.name] = aligned(w.start, w.end, scenario.duration)
    return spans


def wants_peak_hour(scenario) -> bool:
    return any(parse_window(t).kind == PEAK_HOUR for t in getattr(scenario, "windows", ()))


def peak_hour(arrived_by_second: list[int], duration: float) -> tuple[int, int]:
    """The whole-second span of the busiest hour: 3600 s starting on a whole minute, most arrivals, earliest."""
    last = math.ceil(duration - 1e-9)
    if last <= 3600:
        return 0, last
    per_minute = [sum(arrived_by_second[m * 60:(m + 1) * 60]) for m in range(math.ceil(last / 60))]
    best, best_start = -1, 0
    for m in range(0, max(1, (last - 3600) // 60 + 1)):
        n = sum(per_minute[m:m + 60])
        if n > best:
            best, best_start = n, m * 60
    return best_start, best_start + 3600
