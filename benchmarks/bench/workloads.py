"""The workloads' constants: what each case simulates (see benchmarks/README.md)."""
from __future__ import annotations

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1]          # benchmarks/
ROOT = BENCH_DIR.parent                                  # the tree being measured
RESULTS = BENCH_DIR / "RESULTS.md"
RUN_PY = BENCH_DIR / "run.py"                            # the entry point a child is started through

# SimFaaS's reference workload, case (b) (Mahmoudi & Khazaei, SimFaaS, 2021): Poisson 0.9 req/s, exponential
# warm service with mean 2.016 s, cold requests 2.163 s = 2.016 s + 0.147 s of start, expiry after 600 s.
PR_RATE, PR_SERVICE_MEAN, PR_START_MEAN, PR_EXPIRY = 0.9, 2.016, 0.147, 600.0
HEAVY_SERVICE_MEAN, HEAVY_SERVICE_CV, HEAVY_RATE = 0.120, 1.0, 1000.0
FLOOR_SLOTS = 80 * 20                   # concurrency 80 x 20 instances: never the bottleneck at 1000 req/s
POOL_UTILIZATION = 0.7
PR_INTERVAL = 1e4                       # timeseries_interval of per-request.yaml: batches are made of its bins

# The sweep case: heavy.yaml's arrival rate in 4 cells, 2 replications each (8 units, no fault-free twin).
SWEEP_RATES = (600.0, 800.0, 1000.0, 1200.0)
SWEEP_REPLICATIONS = 2

# The kernel group (issue 21): each case runs with kernel=python and kernel=compiled in the same rounds.
KERNELS = ("python", "compiled")
PLAIN_RATES = (1000.0, 3000.0, 10000.0)
PLAIN_REQUESTS = 1_800_000              # per case (full run): ~1-3 M requests, enough to dwarf the setup
KERNEL_QUICK_SHARE = 0.1                # --quick: a tenth of the requests
PLANNER_PARAM = "services[api].min_instances"
PLANNER_SLO = "requests.failed_fraction<=0.01"
PLANNER_WORKERS = 2
PLANNER_REPLICATIONS = 5                # --quick: 2 (the fewest that state a confidence)
# --quick shortens the planner's 45 minutes to 5, with the outage scaled into them (1 min in, 3 min long).
PLANNER_QUICK_UPDATES = {"duration": 300.0, "warmup": 30.0, "faults.0.at": 60.0, "faults.0.duration": 180.0,
                         "services.0.traffic.rate": [[0.0, 300.0], [70.0, 300.0], [100.0, 3000.0],
                                                     [300.0, 3000.0]]}
