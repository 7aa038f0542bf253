"""The Python side of the compiled request path: RequestPath's interface (requests.py) on the kernel's arrays.

The pool, scaler and service talk to a `CompiledRequestPath` exactly as to a `RequestPath`; the instances are
`KernelInstance`s whose request-path fields (in_flight, routable, the billing and idle times) live in the
kernel's per-slot arrays, and the router the pool adds and removes instances through is `KernelRouter`.
`CompiledRequestPath.advance(bound)` runs the kernel up to SimPy's next event and answers its codes
(run.py calls it); at the end, `end_figures` copies what the kernel recorded into the recorder's objects, so
the summary reads what it always reads.
"""
from __future__ import annotations

import math

import numpy as np

from ..draws import BLOCK
from ..requests import WarmupMark
from . import entry as K
from . import layout as L
from .instances import KernelBillingClock


class KernelRouter:
    """The pool's view of the kernel's router: add and remove instances."""

    def __init__(self, path):
        self.path = path

    def add(self, inst) -> None:
        path = self.path
        path.SI[L.INST_SEQ, inst.slot] = inst.seq
        path.ensure_newest_heap()
        K.router_add(path.st, inst.slot)

    def remove(self, inst) -> None:
        K.router_remove(self.path.st, inst.slot)


class CompiledRequestPath(WarmupMark):
    def __init__(self, env, spec, recorder, draw_service_time, arrivals, pending_timeout: float, event_ids,
                 keeps_idle: bool, duration: float):
        self.env = env
        self.recorder = recorder
        self.spec = spec
        self._draw_service_time = draw_service_time   # a Batched: its blocks fill the kernel's buffer
        self._arrivals = arrivals                    # traffic.arrival_blocks
        self.starts_on_demand = False
        self.pool = None
        self.router = KernelRouter(self)
        self.slot_inst: list = []
        self._free_slots: list[int] = []
        self._scalars(spec, recorder, pending_timeout, keeps_idle)
        b = recorder.billing
        recorder.billing = KernelBillingClock(self, b.warmup, b.rounding, b.min_instances,
                                              "container" if b.from_container else "request")
        self._structures(spec, shared=bool(self.I[L.SHARED]))
        self._recording(recorder, duration)
        self.EID = event_ids.cell
        self._grow_requests(1024)
        self._grow_slots(8)
        self._pack()

    def _scalars(self, spec, recorder, pending_timeout: float, keeps_idle: bool) -> None:
        """F and I: the service's settings and the request path's counts (layout.py names them)."""
        c, cpr, cpu = spec.concurrency, spec.cpu_per_request, spec.cpu
        over = [n for n in range(1, c + 1) if n * cpr > cpu]       # as requests.py: CPU saturation from over[0]
        F = self.F = np.zeros(L.N_F)
        I = self.I = np.zeros(L.N_I, dtype=np.int64)
        F[L.PENDING_TIMEOUT] = pending_timeout
        F[L.REQUEST_TIMEOUT] = spec.request_timeout
        F[L.WARMUP] = recorder.warmup
        F[L.INV_INTERVAL] = recorder.arrivals.inv_interval
        F[L.LOG_GAMMA] = recorder.latency.sketch.log_gamma
        sat = recorder.saturated
        F[L.SAT_LEVEL], F[L.SAT_LAST], F[L.SAT_AREA], F[L.SAT_PEAK], F[L.SAT_START] = (
            sat.level, sat.last_t, sat.area, sat.peak, sat.start)
        F[L.ROUNDING] = recorder.billing.rounding
        F[L.CPR], F[L.CPU] = cpr, cpu
        I[L.C] = c
        I[L.SAT_FROM] = over[0] if over else 0
        I[L.SHARED] = bool(over) and spec.cpu_model == "shared"
        I[L.NEWEST_FIRST] = spec.routing == "newest-first"
        I[L.BILLING_MIN] = recorder.billing.min_instances
        I[L.KEEPS_IDLE] = keeps_idle
        I[L.LOWEST] = c
        I[L.CODE_SLOT] = -1

    def _structures(self, spec, shared: bool) -> None:
        """Instance slots (none yet: they grow), requests, the pending queue, the event heap, the routers."""
        c, cpr, cpu = spec.concurrency, spec.cpu_per_request, spec.cpu
        self.SF = np.zeros((L.N_SF, 0))
        self.SI = np.zeros((L.N_SI, 0), dtype=np.int64)
        self.IREQ = np.zeros((0, c), dtype=np.int64)
        ph, dl = (2 * c, 4 * c) if shared else (1, 1)  # room for stale entries; compacted when full
        self.PHV = np.zeros((0, ph))
        self.PHS = np.zeros((0, ph), dtype=np.int64)
        self.PHR = np.zeros((0, ph), dtype=np.int64)
        self.DL = np.zeros((0, dl), dtype=np.int64)
        self.RF = np.zeros((L.N_RF, 0))
        self.RI = np.zeros((L.N_RI, 0), dtype=np.int64)
        self.RFREE = np.zeros(0, dtype=np.int64)
        self.PQ = np.zeros(64, dtype=np.int64)
        self.HT = np.zeros(1024)
        self.HI = np.zeros((1024, L.N_HI), dtype=np.int64)   # an event's fields side by side
        self.BH = np.full((2, c), -1, dtype=np.int64)
        self.NH = np.zeros((3, 64), dtype=np.int64)
        # requests.py's _cpu_step and _rate
        self.CS = np.array([0.0] + [min(n * cpr, cpu) - min((n - 1) * cpr, cpu) for n in range(1, c + 1)])
        self.RT = np.array([1.0] + [1.0 if n * cpr <= cpu else cpu / (n * cpr) for n in range(1, c + 1)])
        self.AB = np.zeros(BLOCK)
        self.SB = np.zeros(BLOCK)
        self.SCR = np.zeros(6 * c + 1, dtype=np.int64)   # scratch: processor sharing's lists (heap + deadlines)
        self.TT = np.zeros(256)                          # billing: where busy spans' rounding ends (a heap)
        self.TI = np.zeros((256, 2), dtype=np.int64)

    def _recording(self, recorder, duration: float) -> None:
        """The request counters, the sketches (latency, pending time, the windows'), the window spans."""
        I = self.I
        n_cols = len(recorder.arrivals.bins)
        seconds = len(recorder.arrivals.by_second)
        self.CNT = np.zeros((5, n_cols), dtype=np.int64)
        self.BYS = np.zeros((5, seconds), dtype=np.int64)
        self.TOT = np.zeros(5, dtype=np.int64)
        wl = recorder.window_latency
        spans = wl.spans
        minutes = int(math.ceil(duration / 60.0)) + 1 if wl.minutes is not None else 0
        I[L.WIN_ACTIVE] = wl.active
        I[L.N_SPANS] = len(spans)
        I[L.MINUTES_FROM] = L.SK_SPANS + len(spans) if wl.minutes is not None else -1
        self.WSP = np.array([[a for a, *_ in spans], [b for _a, b, *_ in spans]], dtype=np.float64).reshape(2, -1)
        # Sketch buckets: ceil(log(x) / log(gamma)) for 1e-9 < x <= the run's length (no latency is longer)
        lg = self.F[L.LOG_GAMMA]
        low = math.ceil(math.log(1e-9) / lg) - 2
        high = math.ceil(math.log(max(duration, 1.0) * 2.0) / lg) + 2
        I[L.SK_OFFSET] = -low
        n_sk = L.SK_SPANS + len(spans) + minutes
        self.SK = np.zeros((n_sk, high - low + 1), dtype=np.int64)
        self.SKF = np.zeros((n_sk, 3))
        self.SKF[:, L.SKF_MIN] = math.inf
        self.SKF[:, L.SKF_MAX] = -math.inf
        self.SKI = np.zeros((n_sk, 2), dtype=np.int64)

    def arrays(self) -> tuple:
        """The kernel's arrays, in the order of its accessors (arrays.the_F, the_I, ... the_SCR)."""
        return (self.F, self.I, self.SF, self.SI, self.IREQ, self.PHV, self.PHS, self.PHR, self.RF, self.RI,
                self.RFREE, self.PQ, self.HT, self.HI, self.BH, self.NH, self.CS, self.DL, self.RT, self.AB,
                self.SB, self.CNT, self.BYS, self.TOT, self.SK, self.SKF, self.SKI, self.WSP, self.EID, self.TT,
                self.TI, self.SCR)

    def _pack(self) -> None:
        """The kernel's state: (data address, rows, columns) of each array. The arrays stay attributes of
        this object, which keeps them alive while the kernel uses their memory; after any of them is
        replaced (grown), _pack runs again."""
        cells = []
        for a in self.arrays():
            assert a.flags.c_contiguous and a.dtype in (np.float64, np.int64)
            cells += [a.ctypes.data, a.shape[0], a.shape[1] if a.ndim == 2 else 1]
        self.st = np.array(cells, dtype=np.int64)

    # -- growing the arrays (the kernel asks with GROW, or Python before it calls in) -----------------------
    def _grow_slots(self, n: int) -> None:
        old = self.SF.shape[1]
        self.SF = _widen(self.SF, n, axis=1)
        self.SI = _widen(self.SI, n, axis=1)
        for name in ("IREQ", "PHV", "PHS", "PHR", "DL"):
            setattr(self, name, _widen(getattr(self, name), n, axis=0))
        self.SF[L.PS_AT, old:] = math.inf
        self._free_slots.extend(range(n - 1, old - 1, -1))
        self.slot_inst.extend([None] * (n - old))

    def _grow_requests(self, n: int) -> None:
        old = self.RF.shape[1]
        self.RF = _widen(self.RF, n, axis=1)
        self.RI = _widen(self.RI, n, axis=1)
        self.RI[L.R_INST, old:] = -1
        free = self.I[L.FREE_N]
        rfree = np.zeros(n, dtype=np.int64)
        rfree[:free] = self.RFREE[:free]
        rfree[free:free + n - old] = np.arange(n - 1, old - 1, -1)
        self.RFREE = rfree
        self.I[L.FREE_N] = free + n - old

    def _grow_queue(self) -> None:
        n, head, cap = self.I[L.PQ_N], self.I[L.PQ_HEAD], self.PQ.shape[0]
        pq = np.zeros(2 * cap, dtype=np.int64)
        pq[:n] = np.roll(self.PQ, -head)[:n]
        self.PQ = pq
        self.I[L.PQ_HEAD] = 0

    def _grow_heap(self) -> None:
        n = self.HT.shape[0]
        self.HT = _widen(self.HT, 2 * n, axis=0)
        self.HI = _widen(self.HI, 2 * n, axis=0)

    def margin(self) -> int:
        """Room the event heap keeps for one event: each free slot may start a request (a completion or a
        processor-sharing event each), plus an arrival and a reaper."""
        return 4 + 2 * self.SF.shape[1] * self.spec.concurrency

    def make_room(self) -> None:
        I = self.I
        changed = False
        while I[L.HEAP_N] + self.margin() > self.HT.shape[0]:
            self._grow_heap()
            changed = True
        if I[L.FREE_N] < 2:
            self._grow_requests(2 * self.RF.shape[1])
            changed = True
        if I[L.PQ_N] + 2 > self.PQ.shape[0]:
            self._grow_queue()
            changed = True
        if I[L.TAILS_N] + 2 > self.TT.shape[0]:
            self.TT = _widen(self.TT, 2 * self.TT.shape[0], axis=0)
            self.TI = _widen(self.TI, 2 * self.TI.shape[0], axis=0)
            changed = True
        if changed:
            self._pack()

    def ensure_newest_heap(self) -> None:
        if self.I[L.NH_N] + 1 > self.NH.shape[1]:
            self.NH = _widen(self.NH, 2 * self.NH.shape[1], axis=1)
            self._pack()

    def take_slot(self, inst, id_: int) -> int:
        if not self._free_slots:
            self._grow_slots(2 * self.SF.shape[1])
            self._pack()
        s = self._free_slots.pop()
        self.SF[:, s] = 0.0
        self.SF[L.PS_AT, s] = math.inf
        gen = self.SI[L.PS_GEN, s]                    # grows across the slot's instances: stale events stay void
        self.SI[:, s] = 0
        self.SI[L.PS_GEN, s] = gen + 1
        self.SI[L.INST_ID, s] = id_
        self.SI[L.PREV, s] = self.SI[L.NEXT, s] = -1
        self.slot_inst[s] = inst
        return s

    def give_back_slot(self, s: int) -> None:
        self.slot_inst[s] = None
        self._free_slots.append(s)

    # -- RequestPath's interface -------------------------------------------------------------------------------
    def start(self) -> None:
        self._refill()
        if self.I[L.ARR_I] < self.I[L.ARR_N]:
            first = self.AB[self.I[L.ARR_I]]
            self.I[L.ARR_I] += 1
            self.make_room()
            K.push_event(self.st, self.env.now + first, L.EV_ARRIVAL, 0, 0)

    @property
    def pending(self):
        return range(int(self.I[L.PQ_N]))             # len() and truth, as the deque's

    @property
    def in_flight(self) -> int:
        return int(self.I[L.IN_FLIGHT])

    @property
    def saturated(self) -> int:
        return int(self.I[L.SATURATED])

    @property
    def cpu_in_use(self) -> float:
        return float(self.F[L.CPU_IN_USE])

    @property
    def demand_area(self) -> float:
        return float(self.F[L.DEMAND_AREA])

    @property
    def cpu_area(self) -> float:
        return float(self.F[L.CPU_AREA])

    @property
    def demand(self) -> int:
        return int(self.I[L.IN_FLIGHT] + self.I[L.PQ_N])

    def touch(self, now: float) -> None:
        K.touch(self.st, now)

    def set_pending_timeout(self, seconds: float) -> None:
        self.F[L.PENDING_TIMEOUT] = seconds
        self.I[L.DEADLINES_MAY_FALL] = 1

    def dispatch_pending(self, now: float) -> None:
        self.make_room()
        K.dispatch(self.st, now)

    def fail_requests_of(self, inst, now: float) -> None:
        K.fail_requests_of(self.st, inst.slot, now)

    def instance_stopped(self, inst) -> None:
        inst.freeze()

    # -- running the kernel ------------------------------------------------------------------------------------
    def head(self):
        """(time, event id) of the kernel's next event, or None."""
        heap = (self.HT[0], self.HI[0, L.H_EID]) if self.I[L.HEAP_N] else None
        arrival = (self.F[L.ARR_T], self.I[L.ARR_EID]) if self.I[L.ARR_PENDING] else None
        if heap is None or arrival is None:
            return heap or arrival
        return min(heap, arrival)

    def advance(self, bound_t: float, bound_p: int, bound_e: int) -> None:
        """Process the kernel's events before (bound_t, bound_p, bound_e), answering its codes; returns when it
        reached the bound or after a code whose answer may have scheduled SimPy events (the caller looks
        again at SimPy's queue)."""
        pool = self.pool
        self.I[L.ON_DEMAND] = self.starts_on_demand
        self.I[L.ON_DEMAND_COVER] = pool.n_starting * self.spec.concurrency
        self.I[L.MAY_START] = bool(pool.parked) or pool.live < self.spec.max_instances
        self._answer(K.run(self.st, bound_t, bound_p, bound_e, self.margin()))

    def _answer(self, code: int) -> None:
        """Do what the kernel asked. ON_IDLE and ON_DEMAND_START end their event; REFILL and GROW come before
        one: the next run() goes on from there."""
        if code == L.REFILL:
            self._refill()
        elif code == L.GROW:
            self.make_room()
        elif code != L.DONE:
            now = float(self.F[L.NOW])
            self.env._now = now                        # the control plane runs at the kernel's time
            if code == L.ON_IDLE:
                self.pool.on_idle(self.slot_inst[self.I[L.CODE_SLOT]], now)
            else:                                      # ON_DEMAND_START
                self.pool.start_on_demand(now, int(self.I[L.PQ_N]))

    def _refill(self) -> None:
        """The next block of arrival times (traffic.arrival_blocks), the next block of service times."""
        I = self.I
        if I[L.ARR_I] == I[L.ARR_N] and not I[L.ARR_DONE]:
            block = next(self._arrivals, None)
            while block is not None and len(block) == 0:
                block = next(self._arrivals, None)
            if block is None:
                I[L.ARR_DONE] = 1
                I[L.ARR_I], I[L.ARR_N] = 0, 0
            else:
                if len(block) > len(self.AB):
                    self.AB = np.zeros(len(block))
                    self._pack()
                self.AB[:len(block)] = block
                I[L.ARR_I], I[L.ARR_N] = 0, len(block)
        if I[L.ST_I] == I[L.ST_N]:
            self.SB[:] = self._draw_service_time.block()
            I[L.ST_I], I[L.ST_N] = 0, BLOCK

    # -- end of run --------------------------------------------------------------------------------------------
    def end_figures(self, t_end: float, warmup: float, instances) -> dict:
        self.touch(t_end)
        self._copy_back()
        span = max(t_end - warmup, 1e-12)
        return {"in_flight_at_end": int(K.requests_in_system_since(self.st, warmup)),
                "mean_in_system": (self.demand_area - self._demand_area_at_warmup) / span}

    def _copy_back(self) -> None:
        """What the kernel recorded, into the recorder's objects (the summary reads those)."""
        rec = self.recorder
        for i, name in enumerate(("arrivals", "served", "failed_429", "failed_504", "failed_shutdown")):
            counter = getattr(rec, name)
            counter.bins = self.CNT[i].tolist()
            counter.by_second = self.BYS[i].tolist()
            counter.total = int(self.TOT[i])
        self._sketch_into(L.SK_LATENCY, rec.latency.sketch)
        self._sketch_into(L.SK_PENDING, rec.pending_time.sketch)
        wl = rec.window_latency
        for i, (_a, _b, _name, sketch) in enumerate(wl.spans):
            self._sketch_into(L.SK_SPANS + i, sketch)
        if wl.minutes is not None:
            first = int(self.I[L.MINUTES_FROM])
            for m in range(self.SK.shape[0] - first):
                if self.SKI[first + m, L.SKI_COUNT]:
                    wl.minutes[m] = self._sketch_into(first + m, type(rec.latency.sketch)())
        sat = rec.saturated
        sat.level, sat.last_t, sat.area = int(self.F[L.SAT_LEVEL]), float(self.F[L.SAT_LAST]), float(self.F[L.SAT_AREA])
        peak = float(self.F[L.SAT_PEAK])
        sat.peak = peak if math.isinf(peak) else int(peak)

    def _sketch_into(self, k: int, sketch):
        offset = int(self.I[L.SK_OFFSET])
        buckets = {int(b) - offset: int(self.SK[k, b]) for b in np.nonzero(self.SK[k])[0]}
        sketch.load(int(self.SKI[k, L.SKI_COUNT]), float(self.SKF[k, L.SKF_TOTAL]), float(self.SKF[k, L.SKF_MIN]),
                    float(self.SKF[k, L.SKF_MAX]), int(self.SKI[k, L.SKI_ZEROS]), buckets)
        return sketch


def _widen(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """`a` with its `axis` widened to n (zeros after the old contents)."""
    shape = list(a.shape)
    shape[axis] = n
    out = np.zeros(shape, dtype=a.dtype)
    index = [slice(None)] * a.ndim
    index[axis] = slice(0, a.shape[axis])
    out[tuple(index)] = a
    return out
