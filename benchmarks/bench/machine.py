"""The machine and the versions, for the report's header."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from .workloads import ROOT


def machine_info() -> dict:
    from sim.estimate import cpu_model
    cpu = cpu_model("?")
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": ram, "os": platform.platform()}


def versions() -> dict:
    from importlib import metadata
    out = {"python": platform.python_version()}
    for dist in ("cmek-sim", "simpy", "numpy", "scipy", "numba", "simfaas", "pandas"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim"], cwd=ROOT, capture_output=True,
                               text=True)
        if rev.returncode == 0:
            out["git"] = rev.stdout.strip() + (" + uncommitted changes in sim/" if dirty.stdout.strip() else "")
    except OSError:
        pass
    return out
