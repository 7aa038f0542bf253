"""sim/estimate.py: the work estimate (rate integrals in closed form), the speed of this machine, and the
refusal of work above --max-hours before anything simulates (issue 10, point 8)."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import make_scenario
from sim import estimate
from sim.cli import main
from sim.model.traffic import RateProfile, arrival_times
from sim.scenario import scenario_from_dict

DAY = 86400.0


def traffic_of(traffic: dict, duration="1h", base_dir=None):
    sc = scenario_from_dict(make_scenario(service={"traffic": traffic}, duration=duration), "<t>", base_dir)
    return sc.services[0].traffic, sc.duration


def numeric_integral(traffic, duration: float, step: float = 0.5) -> float:
    """The model's own rate profile integrated on a fine grid (trapezoids): an independent check."""
    profile = RateProfile(traffic)
    t = np.arange(0.0, duration + step / 2, step)
    r = np.array([profile.rate(x) for x in t])
    return float(np.sum((r[1:] + r[:-1]) / 2) * step)


def test_constant_rate():
    traffic, duration = traffic_of({"rate": 50})
    assert estimate.rate_integral(traffic, duration) == pytest.approx(50 * 3600, rel=1e-12)


def test_spike_is_a_sum_of_trapezoids():
    rate = [[0, 20], ["30m", 20], ["32m", 400], ["50m", 400], ["55m", 20]]
    traffic, duration = traffic_of({"rate": rate}, "90m")
    closed = 20 * 1800 + (20 + 400) / 2 * 120 + 400 * 1080 + (400 + 20) / 2 * 300 + 20 * 2100
    assert estimate.rate_integral(traffic, duration) == pytest.approx(closed, rel=1e-12)
    assert estimate.rate_integral(traffic, duration) == pytest.approx(numeric_integral(traffic, duration), rel=1e-6)


def test_daily_pattern_closed_form():
    traffic, duration = traffic_of({"rate": 100, "daily_pattern": {"amplitude": 0.5, "peak_at": "14h"}}, "7h")
    w = 2 * math.pi / DAY
    closed = 100 * 7 * 3600 + 100 * 0.5 * (math.sin(w * (7 * 3600 - 14 * 3600)) - math.sin(-w * 14 * 3600)) / w
    assert estimate.rate_integral(traffic, duration) == pytest.approx(closed, rel=1e-12)
    whole_day, _ = traffic_of({"rate": 100, "daily_pattern": {"amplitude": 0.9, "peak_at": "3h"}}, "1d")
    assert estimate.rate_integral(whole_day, DAY) == pytest.approx(100 * DAY, rel=1e-12)   # the cosine cancels


def test_spike_times_daily_pattern_against_the_model_profile():
    rate = [[0, 5], ["2h", 80], ["3h", 80], ["5h", 10]]
    traffic, duration = traffic_of({"rate": rate, "daily_pattern": {"amplitude": 0.7, "peak_at": "4h"}}, "6h")
    assert estimate.rate_integral(traffic, duration) == pytest.approx(numeric_integral(traffic, duration), rel=1e-6)


def test_trace_steps(tmp_path):
    (tmp_path / "t.csv").write_text("time,rps\n60,10\n5m,40\n20m,0\n30m,7\n")
    traffic, duration = traffic_of({"trace": "t.csv", "rate": None}, "40m", tmp_path)
    closed = 10 * 240 + 40 * 900 + 0 + 7 * 600        # 0 before the first row; the last row to the end
    assert estimate.rate_integral(traffic, duration) == pytest.approx(closed, rel=1e-12)
    short, _ = traffic_of({"trace": "t.csv", "rate": None}, "10m", tmp_path)
    assert estimate.rate_integral(short, 600.0) == pytest.approx(10 * 240 + 40 * 300, rel=1e-12)


def test_poisson_arrivals_count_is_the_integral():
    """The arrivals the model draws (a fixed seed) fall within 4 standard deviations of the integral."""
    rate = [[0, 10], ["5m", 60], ["10m", 60], ["15m", 0]]
    traffic, duration = traffic_of({"rate": rate, "daily_pattern": {"amplitude": 0.3, "peak_at": "0s"}}, "20m")
    expected = estimate.rate_integral(traffic, duration)
    n = sum(1 for _ in arrival_times(RateProfile(traffic), "poisson", np.random.default_rng(5), duration))
    assert abs(n - expected) < 4 * math.sqrt(expected), (n, expected)


def test_scenario_work_counts_twins_replications_and_cells():
    plain = scenario_from_dict(make_scenario(service={"traffic": {"rate": 10}}, duration="100s"))
    faulty = scenario_from_dict(make_scenario(service={"traffic": {"rate": 10}, "encryption_key": "k"},
                                              duration="100s", faults=[{"at": "10s", "kind": "key-disable", "key": "k"}]))
    assert estimate.scenario_requests(plain) == pytest.approx(1000)
    assert estimate.scenario_requests(faulty) == pytest.approx(2000)              # and its fault-free twin
    assert estimate.scenario_requests(faulty, baseline=False) == pytest.approx(1000)
    work = estimate.estimate([plain, faulty], 3, workers=2, rate=500.0)
    assert work.requests == pytest.approx(3 * 3000)
    assert work.wall_seconds == pytest.approx(9000 / 500 / 2) and work.workers == 2
    one_unit = estimate.estimate([plain], 1, workers=4, rate=500.0)
    assert one_unit.workers == 1 and one_unit.wall_seconds == pytest.approx(2.0)  # one unit: one worker


def test_speed_env_respected(monkeypatch):
    monkeypatch.setenv(estimate.SPEED_ENV, "2000")
    monkeypatch.setattr(estimate, "calibrate", lambda: pytest.fail("calibrated despite CMEK_SIM_SPEED"))
    sc = scenario_from_dict(make_scenario(service={"traffic": {"rate": 10}}, duration="1000s"))
    assert estimate.estimate([sc], 2).wall_seconds == pytest.approx(20000 / 2000)
    monkeypatch.setenv(estimate.SPEED_ENV, "8000")
    assert estimate.estimate([sc], 2).wall_seconds == pytest.approx(20000 / 8000)


def test_speed_is_calibrated_once_and_cached(monkeypatch, tmp_path):
    monkeypatch.delenv(estimate.SPEED_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []
    monkeypatch.setattr(estimate, "calibrate", lambda: calls.append(1) or 12345.0)
    assert estimate.speed() == 12345.0 and estimate.speed() == 12345.0
    assert calls == [1]
    cached = json.loads((tmp_path / "cmek-sim" / "speed.json").read_text())
    assert cached == {estimate.machine_key(): 12345}


def test_calibration_runs_the_builtin_scenario():
    assert estimate.calibrate() > 0


# -- the commands -------------------------------------------------------------------------------------------
HUGE = """name: huge
duration: 30d
keys:
  - {id: k, name: projects/p/locations/us-central1/keyRings/r/cryptoKeys/k, protection: hsm}
services:
  - name: api
    encryption_key: k
    traffic: {rate: 10000000}
"""
SMALL = """name: small
duration: 1m
services:
  - name: api
    traffic: {rate: 5}
"""


@pytest.fixture
def no_simulation(monkeypatch):
    """The runner and the solver refuse to start: a test fails if anything simulates."""
    monkeypatch.setenv(estimate.SPEED_ENV, "150000")
    started = []
    import sim.quota.solver as solver
    import sim.runner as runner
    monkeypatch.setattr(runner, "run_cli", lambda scenario, args: started.append(scenario.name) or 0)
    monkeypatch.setattr(solver.Solver, "solve", lambda self: pytest.fail("the solver started"))
    return started


@pytest.mark.parametrize("command", [["run"], ["quota", "--slo", "capacity.shortfall_fraction<=0.01"]])
def test_years_of_work_are_refused_in_one_line(tmp_path, capsys, no_simulation, command):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE)
    assert main([command[0], str(path), *command[1:], "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("refused:") and "years" in err[0] and "--yes" in err[0], err
    assert no_simulation == [] and not (tmp_path / "out").exists()


def test_quiet_still_refuses(tmp_path, capsys, no_simulation):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE)
    assert main(["run", str(path), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith("refused:")


def test_yes_runs_past_the_check(tmp_path, capsys, no_simulation):
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE)
    assert main(["run", str(path), "--yes"]) == 0
    assert no_simulation == ["huge"]
    assert capsys.readouterr().err.startswith("estimate: 25.9 T simulated requests, about 5 years on 1 worker")


def test_max_hours_sets_the_limit(tmp_path, capsys, no_simulation):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)               # 300 requests at 150,000/s: 2 ms
    assert main(["run", str(path), "--max-hours", "0.0000001"]) == 2
    assert capsys.readouterr().err.startswith("refused:")
    assert main(["run", str(path)]) == 0 and no_simulation == ["small"]
    assert capsys.readouterr().err.strip() == "estimate: 300 simulated requests, about 1 s on 1 worker"
    assert main(["run", str(path), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_bad_speed_is_one_line(tmp_path, capsys, no_simulation, monkeypatch):
    monkeypatch.setenv(estimate.SPEED_ENV, "fast")
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CMEK_SIM_SPEED" in err[0] and no_simulation == []


def test_a_small_scenario_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(estimate.SPEED_ENV, "150000")
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    assert "estimate: 300 simulated requests" in capsys.readouterr().err
    assert (tmp_path / "out" / "summary.json").exists()


def test_formatting():
    assert estimate.format_count(1.234e6) == "1.2 M" and estimate.format_count(2.59e13) == "25.9 T" and estimate.format_count(2.6e14) == "260 T"
    assert estimate.format_count(999) == "999" and estimate.format_count(12_345) == "12.3 k"
    assert estimate.format_wall(30) == "30 s" and estimate.format_wall(180) == "3 min"
    assert estimate.format_wall(9000) == "2.5 h" and estimate.format_wall(5 * DAY) == "5 days"
    assert estimate.format_wall(820 * 365.25 * DAY) == "820 years"
