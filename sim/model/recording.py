"""The three ways a room records, so every figure is counted the same way.

- `Counter`: events per time-series bin (the whole run) and a warm-up-aware total (the summary): an event
  counts in the total when the thing it belongs to began at or after `warmup` (a request by its arrival,
  a start by its request time). `ArrivalCounter` (requests) also counts per second of arrival, for windows.
- levels: `metrics.TimeWeighted` (areas and peaks from `warmup` on) and sampled gauges (`Gauges`).
- tallies: `metrics.QuantileSketch` fed through `Tally`, warm-up aware like `Counter`.
- `SecondCounts`: sparse counts per simulated second, with their peaks per second and per minute.

Nothing here grows with the number of requests.
"""
from __future__ import annotations

import math

from ..metrics import QuantileSketch


def n_bins(duration: float, interval: float) -> int:
    """Time-series bins of a run (plus one spare, allocated by the recorders, for events at `duration`)."""
    return math.ceil(duration / interval - 1e-9)


class Counter:
    """Events per bin, and how many of them count for the summary (begun at or after warmup)."""
    __slots__ = ("bins", "total", "inv_interval", "warmup")

    def __init__(self, bins: int, interval: float, warmup: float):
        self.bins = [0] * (bins + 1)
        self.total = 0
        self.inv_interval = 1.0 / interval
        self.warmup = warmup

    def add(self, t: float, begun: float) -> None:
        self.bins[int(t * self.inv_interval)] += 1
        if begun >= self.warmup:
            self.total += 1


class ArrivalCounter(Counter):
    """A request counter that also counts by whole second of the request's arrival (`begun`), so a window's
    figure (model/windows.py) is an exact sum of seconds."""
    __slots__ = ("by_second",)

    def __init__(self, bins: int, interval: float, warmup: float, seconds: int):
        super().__init__(bins, interval, warmup)
        self.by_second = [0] * seconds

    def add(self, t: float, begun: float) -> None:
        self.bins[int(t * self.inv_interval)] += 1
        self.by_second[int(begun)] += 1
        if begun >= self.warmup:
            self.total += 1


class Tally:
    """A streaming distribution of values whose subject began at or after warmup."""
    __slots__ = ("sketch", "warmup")

    def __init__(self, warmup: float):
        self.sketch = QuantileSketch()
        self.warmup = warmup

    def add(self, begun: float, value: float) -> None:
        if begun >= self.warmup:
            self.sketch.add(value)

    def summary(self, with_max: bool = False) -> dict:
        return self.sketch.summary(with_max=with_max)


class Gauges:
    """Levels sampled at the end of each bin (the time series' level columns)."""

    def __init__(self, names, bins: int):
        self.columns = {name: [0] * (bins + 1) for name in names}

    def sample(self, b: int, values: dict) -> None:
        for name, v in values.items():
            self.columns[name][b] = v


class SecondCounts:
    """Counts per whole simulated second (sparse), with peaks per second and per minute."""
    __slots__ = ("counts",)

    def __init__(self):
        self.counts: dict[int, int] = {}

    def add(self, second: int, n: int = 1) -> None:
        self.counts[second] = self.counts.get(second, 0) + n

    def items(self):
        return self.counts.items()

    def peak_per_second(self) -> int:
        return max(self.counts.values(), default=0)

    def peak_per_minute(self) -> int:
        per_minute: dict[int, int] = {}
        for sec, n in self.counts.items():
            per_minute[sec // 60] = per_minute.get(sec // 60, 0) + n
        return max(per_minute.values(), default=0)
