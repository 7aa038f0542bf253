"""`sim run` and `sim quota` take `--duration` alike: it overrides the file's duration before the checks, so
the file's warmup and fault times must fit in it (one line each, exit 2)."""
from __future__ import annotations

import pytest

import sim.quota.cli
import sim.runner
from sim.cli import main

SCENARIO = """\
name: short
duration: 1h
warmup: {warmup}
keys:
  - {{id: k, name: projects/p/locations/us-central1/keyRings/r/cryptoKeys/k, protection: hsm}}
services:
  - {{name: web, encryption_key: k, traffic: {{rate: 5}}}}
faults:
  - {{at: 20m, kind: key-disable, key: k}}
"""


@pytest.fixture
def seen(monkeypatch):
    """The scenario each command would have run (the run and the solver are replaced by a recorder)."""
    scenarios = []

    def run_cli(scenario, args):
        scenarios.append(scenario)
        return 0

    class Solver:
        def __init__(self, scenario, *args, **kwargs):
            scenarios.append(scenario)
            raise sim.quota.cli.QuotaError("stopped by the test")

    monkeypatch.setattr(sim.runner, "run_cli", run_cli)
    monkeypatch.setattr(sim.quota.cli, "Solver", Solver)
    return scenarios


COMMANDS = {"run": ["run"], "quota": ["quota", "--slo", "requests.failed_429<=0"]}


@pytest.mark.parametrize("command", COMMANDS)
def test_duration_overrides_the_file(command, seen, tmp_path):
    path = tmp_path / "short.yaml"
    path.write_text(SCENARIO.format(warmup="1m"))
    main([*COMMANDS[command], str(path), "--duration", "1h30m", "--out", str(tmp_path / "out")])
    assert [s.duration for s in seen] == [5400.0]
    assert seen[0].warmup == 60.0


@pytest.mark.parametrize("command", COMMANDS)
def test_duration_too_short_for_the_warmup_or_a_fault(command, seen, tmp_path, capsys):
    path = tmp_path / "short.yaml"
    path.write_text(SCENARIO.format(warmup="15m"))
    status = main([*COMMANDS[command], str(path), "--duration", "10m", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert status == 2 and not seen
    assert err == [f"{path}: warmup: must be less than duration (10m), got 15m",
                   f"{path}: faults[0].at: fault at or after the end of the run (at 20m, duration 10m)"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_duration_is_one_line(command, seen, tmp_path, capsys):
    path = tmp_path / "short.yaml"
    path.write_text(SCENARIO.format(warmup="0s"))
    status = main([*COMMANDS[command], str(path), "--duration", "ten minutes"])
    assert status == 2 and not seen
    assert capsys.readouterr().err == f"{path}: duration: must be a duration such as 30s, 150ms, 15m or 1h30m, " \
                                      "got 'ten minutes'\n"
