"""The objects the control plane holds whose request-path fields live in the compiled kernel's arrays:
instances (their slot's column), the billing clock's busy seconds, and SimPy's event-id counter."""
from __future__ import annotations

import numpy as np

from ..billing import BillingClock
from ..instance import Instance
from . import entry as K
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
    """BillingClock on the kernel's arrays (billing.py there): the kernel bills busy spans as requests come and
    go; the pool's calls (an instance ready or stopped, the end of the run) come here and go to the same
    sums. The base class's methods run unchanged on top of these primitives."""
    __slots__ = ("_path",)

    def __init__(self, path, warmup, rounding, min_instances, billed_start):
        self._path = path
        super().__init__(warmup, rounding, min_instances, billed_start)

    def _cell(kind, index):       # a property over one of the path's scalar cells (F: float, I: int)
        def get(self):
            return float(self._path.F[index]) if kind == "F" else int(self._path.I[index])

        def put(self, value):
            (self._path.F if kind == "F" else self._path.I)[index] = value
        return property(get, put)

    busy_s = _cell("F", L.BUSY_S)
    idle_min_s = _cell("F", L.IDLE_MIN_S)
    _since = _cell("F", L.BILL_SINCE)
    _ready = _cell("I", L.BILL_READY)
    _busy = _cell("I", L.BILL_BUSY)
    del _cell

    def _advance(self, now: float) -> None:
        K.bill_advance(self._path.st, now)

    def _not_busy(self, inst) -> None:
        K.not_busy(self._path.st, inst.slot)

    def busy_started(self, inst, now: float) -> None:
        K.busy_started(self._path.st, inst.slot, now)

    def busy_ended(self, inst, now: float, rounded: bool = True) -> None:
        self._path.make_room()
        K.busy_ended(self._path.st, inst.slot, now, rounded)
