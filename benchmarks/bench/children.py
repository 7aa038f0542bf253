"""What a child subprocess runs, and starting one from the parent.

Every case runs in a fresh `python benchmarks/run.py --child SPEC` (SPEC: JSON with a `kind`), so its peak
memory is its own and no case warms the caches of the next. The child prints one `RESULT {json}` line:
the measurement, `{"skip": why}` when the case cannot run on this tree, or `{"error": why}`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from .commands import child_cli_run, child_cli_solve
from .floor import child_floor
from .ours import child_ours, child_profile, child_sweep
from .simfaas import child_simfaas
from .workloads import ROOT, RUN_PY

CHILDREN = {"ours": child_ours, "floor": child_floor, "simfaas": child_simfaas, "profile": child_profile,
            "sweep": child_sweep, "cli-run": child_cli_run, "cli-solve": child_cli_solve}


def child_main(spec_json: str) -> int:
    """The child's side: run the spec, print its RESULT line."""
    spec = json.loads(spec_json)
    print("RESULT " + json.dumps(CHILDREN[spec["kind"]](spec)), flush=True)
    return 0


def run_child(spec: dict, timeout: float | None = None) -> dict:
    """The parent's side: one child for `spec`; its RESULT, or an error (exit status, last lines, time-out)."""
    timeout = timeout or spec.get("timeout", 3600.0)
    cmd = [sys.executable, str(RUN_PY), "--child", json.dumps(spec)]
    try:
        # The child imports this tree's sim, not an installed copy (a git worktree would measure another tree).
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
