"""`sim validate`, `sim schema` and `sim import-service` need only the scenario format: neither SimPy, SciPy nor matplotlib is loaded."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("simpy", "scipy", "matplotlib")

# Runs the command line in-process, then reports which heavy packages it imported (on stderr, last line).
WRAPPER = """
import sys
from sim.cli import main
try:
    status = main(sys.argv[1:])
finally:
    print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))), file=sys.stderr)
sys.exit(status)
"""


def run_cli(*args: str) -> subprocess.CompletedProcess:
    code = f"import json\nHEAVY = {HEAVY!r}\n" + WRAPPER
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args", [("validate", "scenarios/steady.yaml"), ("schema",), ("schema", "--markdown"),
                                  ("import-service", "examples/gcloud/checkout-service.yaml")])
def test_light_commands_load_no_heavy_package(args):
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_importtime_agrees():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "sim", "validate", "scenarios/steady.yaml"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "steady.yaml: ok" in done.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "sim" in imported and not imported & set(HEAVY)


def test_quota_help_still_works():
    done = subprocess.run([sys.executable, "-m", "sim", "quota", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--slo EXPR" in done.stdout and "--protection {hsm,external}" in done.stdout


def test_the_public_api_still_imports():
    code = ("import sys; from sim import load_scenario, ScenarioError, scenario_from_dict, with_updates; "
            "assert 'simpy' not in sys.modules; from sim import run, sweep, RunResult; import sim; "
            "assert 'simpy' in sys.modules and sim.run is run and set(sim.__all__) <= set(dir(sim))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
