"""A service's figures over windows (sim/windows.py says what a window is): the `windows` summary section.

Counts are exact: the request counters keep, besides their bins, a count per whole second of ARRIVAL
(recording.ArrivalCounter), and a window sums its seconds. Latency needs a sketch per window: one for each
window known before the run (faults, the scenario's `windows`), fed on completion by arrival time, and,
only when peak-hour is asked for, one per arrival minute (mergeable) for the hour found after the run.
Shortfall integrates the (desired, shortfall) steps the recorder keeps over the window.
"""
from __future__ import annotations

from ..metrics import QuantileSketch
from ..summary_schema import failed_fraction
from ..windows import PEAK_HOUR, peak_hour

REQUEST_COUNTS = ("arrived", "served", "failed_429", "failed_504", "failed_shutdown")


class WindowLatency:
    """Latency sketches of the windows known before the run, and per arrival minute for peak-hour."""
    __slots__ = ("spans", "minutes", "active")

    def __init__(self, spans: dict[str, tuple[int, int]], peak: bool):
        self.spans = [(a, b, name, QuantileSketch()) for name, (a, b) in spans.items()]
        self.minutes: dict[int, QuantileSketch] | None = {} if peak else None
        self.active = bool(self.spans) or peak        # the request path skips add() when False

    def add(self, arrival: float, latency: float) -> None:
        for a, b, _name, sketch in self.spans:
            if a <= arrival < b:
                sketch.add(latency)
        if self.minutes is not None:
            m = int(arrival // 60)
            sketch = self.minutes.get(m)
            if sketch is None:
                sketch = self.minutes[m] = QuantileSketch()
            sketch.add(latency)

    def of(self, name: str) -> QuantileSketch:
        return next(s for _a, _b, n, s in self.spans if n == name)

    def over_minutes(self, start: int, end: int) -> QuantileSketch:
        """One sketch of the minutes [start/60, end/60) (peak-hour starts on a whole minute)."""
        out = QuantileSketch()
        for m in range(start // 60, -(-end // 60)):
            if m in self.minutes:
                out.merge(self.minutes[m])
        return out


def step_area(steps: list[tuple[float, float]], start: float, end: float, t_end: float) -> float:
    """Integral over [start, end) of a step function [(t, level), ...] (level held until the next step)."""
    area = 0.0
    for i, (t, level) in enumerate(steps):
        nxt = steps[i + 1][0] if i + 1 < len(steps) else t_end
        lo, hi = max(t, start), min(nxt, end)
        if hi > lo:
            area += level * (hi - lo)
    return area


def window_section(counters: dict, latency: QuantileSketch, capacity_steps: list, start: int, end: int,
                   t_end: float) -> dict:
    """One window's figures. counters: name -> ArrivalCounter; capacity_steps: [(t, desired, shortfall)]."""
    requests = {k: sum(counters[k].by_second[start:end]) for k in REQUEST_COUNTS}
    requests["failed"] = requests["failed_429"] + requests["failed_504"] + requests["failed_shutdown"]
    requests["failed_fraction"] = failed_fraction(requests)
    desired = step_area([(t, d) for t, d, _ in capacity_steps], start, end, t_end)
    shortfall = step_area([(t, s) for t, _, s in capacity_steps], start, end, t_end)
    return {"start_s": start, "end_s": end, "requests": requests, "latency_s": latency.summary(),
            "capacity": {"desired_instance_s": desired, "shortfall_instance_s": shortfall,
                         "shortfall_fraction": shortfall / desired if desired > 0 else 0.0}}


def windows_section(counters: dict, latency: WindowLatency, capacity_steps: list, t_end: float) -> dict:
    """name -> window figures: the windows known before the run, then peak-hour if asked for."""
    out = {name: window_section(counters, sketch, capacity_steps, a, b, t_end)
           for a, b, name, sketch in latency.spans}
    if latency.minutes is not None:
        a, b = peak_hour(counters["arrived"].by_second, t_end)
        out[PEAK_HOUR] = window_section(counters, latency.over_minutes(a, b), capacity_steps, a, b, t_end)
    return out
