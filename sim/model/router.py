"""Routers: which ready instance with a free concurrency slot takes a request.

Every operation is O(1) (or O(log n) for newest-first), whatever the number of instances, because the
router keeps the instances with a free slot in structures updated on each slot change instead of scanning.

- least-loaded: fewest requests in flight; ties go to the instance that most recently reached that level,
  which packs load onto few instances and lets surplus ones go idle and be scaled in.
- newest-first: the most recently started instance with a free slot (Lambda-style, as SimFaaS).
- random: uniformly among instances with a free slot, from the service's routing stream.
"""
from __future__ import annotations

import heapq


class LeastLoadedRouter:
    def __init__(self, concurrency: int):
        self.c = concurrency
        self.buckets: list[dict] = [dict() for _ in range(concurrency)]  # in_flight -> instances (ordered)
        self.lowest = concurrency

    def add(self, inst) -> None:
        if inst.in_flight < self.c:
            self.buckets[inst.in_flight][inst] = None
            if inst.in_flight < self.lowest:
                self.lowest = inst.in_flight

    def remove(self, inst) -> None:
        if inst.in_flight < self.c:
            self.buckets[inst.in_flight].pop(inst, None)

    def acquire(self):
        buckets, k = self.buckets, self.lowest
        while k < self.c and not buckets[k]:
            k += 1
        self.lowest = k
        if k == self.c:
            return None
        bucket = buckets[k]
        inst = next(reversed(bucket))
        del bucket[inst]
        inst.in_flight = k + 1
        if k + 1 < self.c:
            buckets[k + 1][inst] = None
        return inst

    def release(self, inst) -> None:
        n = inst.in_flight
        inst.in_flight = n - 1
        if not inst.routable:
            return
        if n < self.c:
            del self.buckets[n][inst]
        self.buckets[n - 1][inst] = None
        if n - 1 < self.lowest:
            self.lowest = n - 1


class NewestFirstRouter:
    def __init__(self, concurrency: int):
        self.c = concurrency
        self.heap: list = []          # (-ready sequence, instance), lazily cleaned

    def add(self, inst) -> None:
        if inst.in_flight < self.c and not inst.in_heap:
            inst.in_heap = True
            heapq.heappush(self.heap, (-inst.seq, inst.id, inst))

    def remove(self, inst) -> None:
        pass                          # entries of removed instances are dropped when they surface

    def acquire(self):
        heap = self.heap
        while heap:
            inst = heap[0][2]
            if inst.routable and inst.in_flight < self.c:
                inst.in_flight += 1
                if inst.in_flight == self.c:
                    heapq.heappop(heap)
                    inst.in_heap = False
                return inst
            heapq.heappop(heap)
            inst.in_heap = False
        return None

    def release(self, inst) -> None:
        inst.in_flight -= 1
        if inst.routable:
            self.add(inst)


class RandomRouter:
    def __init__(self, concurrency: int, rng):
        self.c = concurrency
        self.rng = rng
        self.free: list = []          # instances with a free slot
        self.pos: dict = {}           # instance -> index in `free`

    def add(self, inst) -> None:
        if inst.in_flight < self.c and inst not in self.pos:
            self.pos[inst] = len(self.free)
            self.free.append(inst)

    def remove(self, inst) -> None:
        i = self.pos.pop(inst, None)
        if i is None:
            return
        last = self.free.pop()
        if last is not inst:
            self.free[i] = last
            self.pos[last] = i

    def acquire(self):
        if not self.free:
            return None
        inst = self.free[int(self.rng.integers(len(self.free)))]
        inst.in_flight += 1
        if inst.in_flight == self.c:
            self.remove(inst)
        return inst

    def release(self, inst) -> None:
        inst.in_flight -= 1
        if inst.routable:
            self.add(inst)


def make_router(routing: str, concurrency: int, rng):
    if routing == "least-loaded":
        return LeastLoadedRouter(concurrency)
    if routing == "newest-first":
        return NewestFirstRouter(concurrency)
    return RandomRouter(concurrency, rng)
