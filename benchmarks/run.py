#!/usr/bin/env python
"""Benchmarks: our simulator against the plainest SimPy model (the floor) and against SimFaaS (the peer),
and the compiled request path against the Python one (the kernel group).

    python benchmarks/run.py                 # everything but the planner's solve; writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick         # smaller horizons, one repeat: a smoke run
    python benchmarks/run.py --only pool     # some cases (names or groups, comma-separated or repeated)
    python benchmarks/run.py --only sweep    # the study engine: 1 and 2 local workers, a 2-worker Dask cluster
    python benchmarks/run.py --only kernel   # kernel=python against kernel=compiled, alternated in each round
    python benchmarks/run.py --only solve-planner   # the planner's solve in CPU-minutes (long: only when named)
    python benchmarks/run.py --profile       # cProfile of case (a), top 25 by tottime
    python benchmarks/run.py --profile per-request

Every case runs in a fresh subprocess (``python benchmarks/run.py --child SPEC``), so its peak memory is the
whole process's own high-water mark (VmHWM from /proc/self/status, read by the child at the end) and no case
warms the caches of the next. The wall time is that of the simulation call only (our ``sim.runner.run``,
the floor's ``env.run``, SimFaaS's ``generate_trace``; the whole command for ``sim run`` end to end); imports
and scenario loading are left out. Each case is repeated and the best wall time is reported, since the
machine is shared and noise only ever slows a run.

Only the full run writes RESULTS.md; ``--quick`` and ``--only`` print, and write only with ``--out PATH``.
The harness is the package ``bench/`` beside this file (its ``__init__`` lists the modules).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))     # the bench package beside this file

from bench.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
