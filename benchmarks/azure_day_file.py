"""Memory and time of reading a real-size Azure Functions 2019 day file (issue 20, point 9).

    python benchmarks/azure_day_file.py write DIR [--functions 40000]   # a synthetic day file, then:
    /usr/bin/time -v python benchmarks/azure_day_file.py read DIR/invocations_per_function_md.anon.d01.csv

The file has the public trace's shape (HashOwner,HashApp,HashFunction,Trigger,1,...,1440; hex hashes, mostly
small counts, a few busy functions, about half http-triggered) but synthetic numbers: nothing is copied from the
real trace. It is written to DIR (a temporary folder: it is ~150 MB, never commit it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

SEED = 2019
MINUTES = 1440
TRIGGERS = ("http", "queue", "timer", "event", "orchestration", "storage", "others")
TRIGGER_SHARE = (0.5, 0.15, 0.15, 0.08, 0.05, 0.04, 0.03)
NAME = "invocations_per_function_md.anon.d01.csv"


def write(folder: Path, functions: int) -> Path:
    rng = np.random.default_rng(SEED)
    path = folder / NAME
    with open(path, "w") as out:
        out.write("HashOwner,HashApp,HashFunction,Trigger," + ",".join(map(str, range(1, MINUTES + 1))) + "\n")
        for start in range(0, functions, 1000):
            n = min(1000, functions - start)
            hashes = rng.integers(0, 256, (n, 3, 32), dtype=np.uint8)
            triggers = rng.choice(len(TRIGGERS), n, p=TRIGGER_SHARE)
            means = rng.lognormal(-3.0, 2.5, n)           # invocations per minute: most rare, a few busy
            counts = rng.poisson(means[:, None] * np.ones(MINUTES))
            for i in range(n):
                head = ",".join(hashes[i, j].tobytes().hex() for j in range(3))
                out.write(f"{head},{TRIGGERS[triggers[i]]}," + ",".join(map(str, counts[i].tolist())) + "\n")
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("folder", type=Path)
    w.add_argument("--functions", type=int, default=40000)
    r = sub.add_parser("read")
    r.add_argument("files", nargs="+")
    r.add_argument("--top", type=int, default=1)
    r.add_argument("--trigger", default=None)
    args = parser.parse_args(argv)
    if args.command == "write":
        path = write(args.folder, args.functions)
        print(f"{path}: {path.stat().st_size / 1e6:.0f} MB")
        return 0
    from sim.scenario import load_azure

    t0 = time.perf_counter()
    options = {"top": args.top} if args.trigger is None else {"top": args.top, "trigger": args.trigger}
    points = load_azure(args.files if len(args.files) > 1 else args.files[0], **options)
    print(f"{len(points)} steps, peak {max(r for _, r in points):.1f} req/s, "
          f"read in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
