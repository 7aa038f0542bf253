"""The command line: `validate`, `schema`, and the argument handling of `run` (exit 2, no traceback)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

REFERENCE = Path(__file__).parent / "data" / "scenario-reference.yaml"
BAD = "name: bad\nservices:\n  - name: checkout\n    concurrency: 0\n    bogus: 1\n"


def cli(*args, cwd=None):
    """`python -m sim ARGS` in a separate process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_validate_ok():
    done = cli("validate", REFERENCE)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{REFERENCE}: ok\n"


def test_validate_bad_file(tmp_path):
    (tmp_path / "scenario.yaml").write_text(BAD)
    done = cli("validate", "scenario.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert done.stderr.splitlines() == [
        "scenario.yaml: services[0].concurrency: must be between 1 and 1000, got 0",
        "scenario.yaml: services[0].bogus: unknown key",
    ]


@pytest.mark.parametrize("name, text, expected", [
    ("syntax.yaml", "name: x\nservices: [{name: a}\n", "syntax.yaml: line 3: invalid YAML"),
    ("list.yaml", "- 1\n", "list.yaml: a scenario must be a mapping"),
    ("trace.yaml", "name: x\nservices: [{name: a, traffic: {trace: t.csv}}]\n",
     "trace.yaml: services[0].traffic.trace: file not found: t.csv"),
    ("missing.yaml", None, "missing.yaml: file not found"),
])
def test_validate_file_problems(tmp_path, name, text, expected):
    if text is not None:
        (tmp_path / name).write_text(text)
    done = cli("validate", name, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(expected)


def test_validate_several_files(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(BAD)
    status = main(["validate", str(REFERENCE), str(tmp_path / "bad.yaml"), str(REFERENCE)])
    out, err = capsys.readouterr()
    assert status == 2
    assert out.splitlines() == [f"{REFERENCE}: ok", f"{REFERENCE}: ok"]
    assert len(err.splitlines()) == 2 and all(line.startswith(str(tmp_path / "bad.yaml")) for line in err.splitlines())


def test_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "object" and "services" in schema["required"]


def test_run_with_a_bad_file_exits_2_before_running(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(BAD)
    assert main(["run", str(tmp_path / "bad.yaml"), "--seed", "3", "--duration", "10m"]) == 2
    assert "services[0].concurrency: must be between 1 and 1000, got 0" in capsys.readouterr().err


def test_run_overrides_reach_the_scenario(monkeypatch):
    import types

    seen = {}
    fake = types.ModuleType("sim.runner")
    fake.run_cli = lambda scenario, args: seen.update(scenario=scenario, args=args) or 0
    monkeypatch.setitem(sys.modules, "sim.runner", fake)
    assert main(["run", str(REFERENCE), "--seed", "7", "--replications", "3", "--duration", "30m",
                 "--workers", "2", "--no-plots", "--quiet", "--out", "somewhere"]) == 0
    scenario, args = seen["scenario"], seen["args"]
    assert (scenario.seed, scenario.replications, scenario.duration) == (7, 3, 1800.0)
    assert args.out == "somewhere" and args.workers == 2 and args.no_plots and args.quiet and not args.no_baseline


def test_run_override_that_breaks_the_scenario(capsys):
    assert main(["run", str(REFERENCE), "--duration", "20m"]) == 2  # faults at 20m, 25m now after the end
    assert "faults[0].at: fault at or after the end of the run" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    [], ["validate"], ["frobnicate"], ["run"], ["run", "x.yaml", "--seed", "x"], ["run", "x.yaml", "--seed", "-1"],
    ["run", "x.yaml", "--replications", "0"], ["run", "x.yaml", "--colour"],
])
def test_argument_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err


def test_argument_error_in_a_process():
    done = cli("run", "x.yaml", "--seed", "x")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "argument --seed: must be a whole number, got 'x'" in done.stderr
