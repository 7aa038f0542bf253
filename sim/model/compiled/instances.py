"""The objects the control plane holds whose request-path fields live in the compiled kernel's arrays:
instances (their slot's column), the billing clock's busy seconds, and SimPy's event-id counter."""
from __future__ import annotations

import numpy as np

from ..billing import BillingClock
from ..instance import Instance
from . import layout as L


class SharedEventIds:
    """SimPy's event-id counter (env._eid) as one int64 cell the kernel draws from too, so the kernel's
    events and SimPy's are ordered by one sequence, as in the Python path."""
    __slots__ = ("cell",)

    def __init__(self):
        self.cell = np.zeros(1, dtype=np.int64)

    def __next__(self) -> int:
        n = int(self.cell[0])
        self.cell[0] = n + 1
        return n


class KernelInstance(Instance):
    """An Instance whose request-path fields are the kernel's (column `slot` of its per-instance arrays); on
    stop they are frozen into the instance and the slot goes back to the path."""
    __slots__ = ("_path", "slot", "_frozen")

    def __init__(self, path, id_: int, revision, requested_at: float):
        self._path = path
        self._frozen = None
        self.slot = path.take_slot(self, id_)
        super().__init__(id_, revision, requested_at)

    def _f(self, row):
        return float(self._frozen[0][row] if self._frozen else self._path.SF[row, self.slot])

    def _i(self, row):
        return int(self._frozen[1][row] if self._frozen else self._path.SI[row, self.slot])

    def _set_f(self, row, v):
        if self._frozen:
            self._frozen[0][row] = v
        else:
            self._path.SF[row, self.slot] = v

    def _set_i(self, row, v):
        if self._frozen:
            self._frozen[1][row] = v
        else:
            self._path.SI[row, self.slot] = v

    in_flight = property(lambda self: self._i(L.S_IN_FLIGHT), lambda self, v: self._set_i(L.S_IN_FLIGHT, v))
    routable = property(lambda self: bool(self._i(L.ROUTABLE)), lambda self, v: self._set_i(L.ROUTABLE, v))
    busy_since = property(lambda self: self._f(L.BUSY_SINCE), lambda self, v: self._set_f(L.BUSY_SINCE, v))
    billed_until = property(lambda self: self._f(L.BILLED_UNTIL), lambda self, v: self._set_f(L.BILLED_UNTIL, v))
    idle_since = property(lambda self: self._f(L.IDLE_SINCE), lambda self, v: self._set_f(L.IDLE_SINCE, v))
    idle_timer_armed = property(lambda self: bool(self._i(L.IDLE_TIMER_ARMED)),
                                lambda self, v: self._set_i(L.IDLE_TIMER_ARMED, v))
    # `if inst.requests:` (the pool) asks whether requests run on it; the set itself lives in the kernel
    requests = property(lambda self: range(self._i(L.NREQ)), lambda self, v: None)

    def freeze(self) -> None:
        """The instance stopped: keep its last values, give its slot back."""
        self._frozen = (self._path.SF[:, self.slot].copy(), self._path.SI[:, self.slot].copy())
        self._path.give_back_slot(self.slot)


class KernelBillingClock(BillingClock):
    """BillingClock whose busy_s is the kernel's (the kernel bills busy spans itself on its fast path)."""
    __slots__ = ("_F",)

    def __init__(self, F, warmup, rounding, min_instances, billed_start):
        self._F = F
        super().__init__(warmup, rounding, min_instances, billed_start)

    busy_s = property(lambda self: float(self._F[L.BUSY_S]), lambda self, v: self._F.__setitem__(L.BUSY_S, v))
