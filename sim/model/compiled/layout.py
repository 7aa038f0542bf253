"""Where the compiled request path keeps its state: named rows and cells of a few numpy arrays.

The kernel (kernel.py) and its Python side (path.py) share these arrays; nothing else does. Each name is an
index: `F[LAST]` is a float scalar, `SI[IN_FLIGHT, slot]` an instance's requests in flight, and so on.
"""
from __future__ import annotations

# F: float scalars
(LAST, DEMAND_AREA, CPU_AREA, CPU_IN_USE, PENDING_TIMEOUT, REQUEST_TIMEOUT, WARMUP, INV_INTERVAL, LOG_GAMMA,
 SAT_LEVEL, SAT_LAST, SAT_AREA, SAT_PEAK, SAT_START, BUSY_S, ROUNDING, NOW, CPR, CPU, ARR_T, IDLE_MIN_S,
 BILL_SINCE, N_F) = range(23)

# I: int scalars
(IN_FLIGHT, SATURATED, SEQ, REAPER_ARMED, DEADLINES_MAY_FALL, LOWEST, PQ_HEAD, PQ_N, HEAP_N, NH_N,
 ARR_I, ARR_N, ARR_DONE, ST_I, ST_N, FREE_N, CODE_SLOT, C, SAT_FROM, SHARED,
 NEWEST_FIRST, BILLING_MIN, KEEPS_IDLE, ON_DEMAND, ON_DEMAND_COVER, MAY_START, WIN_ACTIVE, N_SPANS,
 MINUTES_FROM, SK_OFFSET, ARR_PENDING, ARR_EID, BILL_READY, BILL_BUSY, TAILS_N, N_I) = range(36)

# SF: float rows per instance slot
PS_V, PS_T, PS_AT, BUSY_SINCE, BILLED_UNTIL, IDLE_SINCE, N_SF = range(7)

# SI: int rows per instance slot
(S_IN_FLIGHT, ROUTABLE, PS_ON, PS_GEN, NREQ, IDLE_TIMER_ARMED, INST_ID, INST_SEQ, IN_HEAP, PREV, NEXT,
 IN_BUCKET, PH_N, DL_HEAD, DL_N, BILLING_BUSY, N_SI) = range(17)

# RF: float rows per request slot; RI: int rows
ARRIVAL, SERVICE, START, DEADLINE, N_RF = range(5)
R_INST, R_GEN, R_POS, R_ALIVE, N_RI = range(5)

# HI: int columns of the event heap, one row per event (HT holds the times)
H_EID, H_KIND, H_A, H_B, N_HI = range(5)
EV_ARRIVAL, EV_COMPLETE, EV_REAP, EV_DUE = range(4)

# The request counters (rows of CNT, BYS, TOT), in recorder.BY_ARRIVAL's order
ARRIVED, SERVED, FAILED_429, FAILED_504, FAILED_SHUTDOWN = range(5)

# Sketches (rows of SK, SKF, SKI): latency, pending time, then one per window span, then one per minute
SK_LATENCY, SK_PENDING, SK_SPANS = 0, 1, 2
SKF_TOTAL, SKF_MIN, SKF_MAX = range(3)
SKI_COUNT, SKI_ZEROS = range(2)

# The billing tails heap (TT: when a busy span's rounding ends; TI: the instance's id and slot)
TI_ID, TI_SLOT = range(2)

# What the kernel hands back to Python (codes returned by run)
DONE, ON_IDLE, ON_DEMAND_START, REFILL, GROW = range(5)
INF = float("inf")
