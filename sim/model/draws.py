"""Batched draws: numpy is fast per array and slow per scalar, so hot-path draws come in blocks.

A block is drawn from the same stream in the same order every time, so results stay reproducible.
"""
from __future__ import annotations

BLOCK = 1024


class Batched:
    __slots__ = ("_fill", "_buf", "_i")

    def __init__(self, fill):
        self._fill = fill            # fill(n) -> numpy array of n draws
        self._buf: list = []
        self._i = 0

    def block(self):
        """The next block of BLOCK draws, whole (the compiled request path takes them so), as __call__ would
        have handed them on one by one."""
        return self._fill(BLOCK)

    def __call__(self) -> float:
        if self._i == len(self._buf):
            self._buf = self._fill(BLOCK).tolist()
            self._i = 0
        v = self._buf[self._i]
        self._i += 1
        return v


def batched_dist(dist, rng) -> Batched:
    return Batched(lambda n: dist.sample_many(rng, n))
