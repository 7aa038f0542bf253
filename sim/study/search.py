"""The search shared by `sim solve` and `sim quota`: the smallest level of a setting that meets the SLOs.

It assumes the SLOs are monotone in the setting (more is better: if a level meets them, every larger level
does). `evaluate(level) -> met` runs (or reuses) a level; the caller caches, so asking twice costs nothing.
Levels are snapped to the setting's step (`step` > 0: multiples of it, e.g. 1 for instance counts, 60 for
a per-second quota in requests per minute; `step` 0: any number, bisected to `resolution` of the bracket's top).

1. bracket: from the levels already tried, the smallest that met is the top; below it the largest that failed
   is the bottom. With no level met, double from the largest tried (towards `ceiling` first, never above
   `cap`) until one meets; with nothing failed below the top, halve towards `floor` until one fails.
2. bisect until the bracket is one step (or `resolution` of its top) wide; the top is the answer.
"""
from __future__ import annotations

import math
from collections.abc import Callable

MAX_DOUBLINGS = 12
RESOLUTION = 0.03            # stop bisecting when the bracket is within 3% of its top


class Unreachable(Exception):
    """No level up to the cap (or within MAX_DOUBLINGS) meets the SLOs; args[0] is the last level tried."""


def snap(level: float, step: float, floor: float = 0) -> float:
    """`level` rounded up to a multiple of `step` (step 0: unchanged), not below `floor`."""
    if step:
        snapped = int(math.ceil(level / step - 1e-9)) * step
        level = int(snapped) if float(step).is_integer() else snapped
    return max(floor, level)


class Search:
    def __init__(self, evaluate: Callable[[float], bool], *, step: float, floor: float,
                 cap: float | None = None, resolution: float = RESOLUTION):
        self.evaluate = evaluate
        self.step = step
        self.floor = floor
        self.cap = cap
        self.resolution = resolution
        self.tried: dict[float, bool] = {}

    def met(self, level: float) -> bool:
        if level not in self.tried:
            self.tried[level] = bool(self.evaluate(level))
        return self.tried[level]

    def _snap(self, level: float) -> float:
        return snap(level, self.step, self.floor)

    def _up(self, q: float, ceiling: float | None) -> float:
        nxt = self._snap(2 * q if q > 0 else max(self.step, 1))
        if ceiling is not None and q < ceiling:
            nxt = min(nxt, ceiling)
        return nxt if self.cap is None else min(nxt, self.cap)

    def bracket(self, ceiling: float | None = None) -> tuple[float | None, float]:
        """(lo, hi): hi the smallest level found to meet, lo the largest that failed below it (None: even
        `floor` meets, or halving found no failure)."""
        met = [q for q, ok in self.tried.items() if ok]
        if not met:
            q = max(self.tried) if self.tried else self.floor
            for _ in range(MAX_DOUBLINGS):
                nxt = self._up(q, ceiling)
                if nxt <= q:                     # at the cap and still failing
                    raise Unreachable(q)
                q = nxt
                if self.met(q):
                    break
            else:
                raise Unreachable(q)
            met = [q]
        hi = min(met)
        below = [q for q, ok in self.tried.items() if not ok and q < hi]
        if below:
            return max(below), hi
        q = hi
        for _ in range(64 if self.step else MAX_DOUBLINGS):   # floats never reach a floor of 0 by halving
            if q <= self.floor:
                break
            nxt = self._snap(q / 2)
            if nxt >= q:                         # the step is coarser than half: one step down
                nxt = max(self.floor, q - self.step)
                if nxt >= q:
                    break
            if not self.met(nxt):
                return nxt, hi
            hi = q = nxt
        return None, hi

    def bisect(self, lo: float | None, hi: float) -> float:
        """The smallest level found to meet, the bracket narrowed to one step or `resolution` of its top."""
        if lo is None:
            return hi
        while hi - lo > max(self.step, self.resolution * hi):
            mid = self._snap((lo + hi) / 2)
            if mid >= hi or mid <= lo:
                break
            if self.met(mid):
                hi = mid
            else:
                lo = mid
        return hi

    def smallest(self, ceiling: float | None = None) -> float:
        return self.bisect(*self.bracket(ceiling))
