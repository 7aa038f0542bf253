"""Figures and SLOs over windows (issue 19, point 1): `METRIC@WINDOW` parsed in one place (sim/slo.py,
sim/windows.py), exact window figures in every summary (a fault's window, its recovery tail, an interval, the
busiest hour), and the commands that name them (solve, quota, sweep, sensitivity) with one-line refusals."""
from __future__ import annotations

import csv
import json

import pytest
import yaml

from conftest import KEY_NAME
from sim.cli import main
from sim.runner import run
from sim.scenario import ScenarioError, scenario_from_dict
from sim.slo import SloError, assess, parse_metric, parse_slo
from sim.study.solve import Solver
from sim.summary_schema import failed_requests
from sim.windows import WindowError, parse_window, peak_hour, with_windows

# An external key whose EKM is unreachable from 30 s to 90 s: no instance can start then, while traffic
# climbs from 5/s to 40/s at 40-50 s (0.4 s each, 4 at a time: 4 busy instances), so requests fail (429)
# during the outage, and far fewer after it.
OUTAGE = {"name": "outage", "duration": "3m", "seed": 5, "timeseries_interval": "10s",
          "kms": {"latency": "10ms", "ekm": {"latency": "30ms", "timeout": "150ms"}},
          "keys": [{"id": "k", "name": KEY_NAME, "protection": "external"}],
          "services": [{"name": "api", "encryption_key": "k", "concurrency": 4, "min_instances": 1,
                        "max_instances": 10, "idle_retention": "30s",
                        "service_time": {"dist": "lognormal", "mean": "400ms", "cv": 1.0},
                        "traffic": {"rate": [[0, 5], [40, 5], [50, 40], [180, 40]]}}],
          "faults": [{"at": "30s", "kind": "ekm-outage", "duration": "1m", "error": "UNREACHABLE_NETWORK"}]}


def summary_of(data: dict, windows=(), replications: int = 1) -> dict:
    scenario = with_windows(scenario_from_dict(data), windows)
    return run(scenario, replications=replications, baseline=False).summary


@pytest.fixture(scope="module")
def outage():
    """One run of OUTAGE with every kind of window, and its whole-run service summary."""
    s = summary_of(OUTAGE, ["fault[0]+30s", "0s..3m", "0s..30s", "30s..3m", "peak-hour"])
    return s["runs"][0]["services"]["api"]


# -- the syntax -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, name", [
    ("fault[0]", "fault", "fault[0]"), ("fault[2]+10m", "fault", "fault[2]+10m"), ("fault[1]+0s", "fault", "fault[1]"),
    ("30m..60m", "interval", "30m..60m"), (" 30m .. 1h ", "interval", "30m..1h"), ("peak-hour", "peak-hour", "peak-hour"),
])
def test_window_forms_and_their_names(text, kind, name):
    w = parse_window(text)
    assert (w.kind, w.name) == (kind, name)


def test_a_slo_and_a_metric_name_their_window():
    slo = parse_slo("requests.failed_fraction@fault[0]+10m<=0.01", known=True)
    assert (slo.path, slo.window, slo.op, slo.threshold) == (("requests", "failed_fraction"), "fault[0]+10m", "<=", 0.01)
    assert slo.metric == "requests.failed_fraction@fault[0]+10m" and str(slo) == slo.text
    assert parse_slo("latency_s.p99 @ peak-hour < 2").window == "peak-hour"
    assert parse_slo("requests.failed_fraction<=0.01").window is None
    assert parse_metric("capacity.shortfall_fraction@30m..60m") == (("capacity", "shortfall_fraction"), "30m..60m")


@pytest.mark.parametrize("text, words", [
    ("cold_starts.count@fault[0]<=1", "cold_starts.count has no per-window figure; over a window there are: "),
    ("requests.failed_fraction@fault[x]<=0.01", "expected one of fault[0], fault[0]+10m, 30m..60m or peak-hour"),
    ("requests.failed_fraction@60m..30m<=0.01", "the end must be after the start"),
    ("requests.failed_fraction@fault[0]+soon<=0.01", "the recovery tail 'soon' must be a duration"),
    ("latency_s.p99@fault[0]<=two", "'two' is not a number"),
])
def test_bad_windowed_slos_are_one_line(text, words):
    with pytest.raises(SloError) as exc:
        parse_slo(text, known=True)
    assert words in str(exc.value) and "\n" not in str(exc.value)


def test_a_window_the_scenario_lacks_is_refused_in_one_line():
    sc = scenario_from_dict(OUTAGE)
    with pytest.raises(WindowError, match=r"^window 'fault\[1\]': outage has 1 fault window \(fault\[0\]\)$"):
        with_windows(sc, ["fault[1]"])
    with pytest.raises(WindowError, match="ends after the run"):
        with_windows(sc, ["2m..4m"])
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict({**OUTAGE, "windows": ["fault[3]"]})
    assert len(exc.value.problems) == 1 and "fault[3]" in exc.value.problems[0]


# -- the figures ------------------------------------------------------------------------------------------
def test_every_fault_has_its_window_and_the_others_are_as_asked(outage):
    w = outage["windows"]
    assert list(w) == ["fault[0]", "fault[0]+30s", "0s..3m", "0s..30s", "30s..3m", "peak-hour"]
    assert (w["fault[0]"]["start_s"], w["fault[0]"]["end_s"]) == (30, 90)
    assert (w["fault[0]+30s"]["start_s"], w["fault[0]+30s"]["end_s"]) == (30, 120)
    assert (w["peak-hour"]["start_s"], w["peak-hour"]["end_s"]) == (0, 180)     # a run under an hour: all of it
    assert list(summary_of({**OUTAGE, "faults": []})["runs"][0]["services"]["api"]["windows"]) == []


def test_a_window_over_the_whole_run_equals_the_whole_run_figures(outage):
    """No warmup: the window 0s..3m counts exactly the whole run's requests, and its sketch holds exactly the
    whole run's latencies (so the percentiles are equal, not close)."""
    w = outage["windows"]["0s..3m"]
    for k in ("arrived", "served", "failed_429", "failed_504", "failed_shutdown", "failed_fraction"):
        assert w["requests"][k] == outage["requests"][k], k
    assert w["requests"]["failed"] == failed_requests(outage["requests"]) > 0
    assert w["latency_s"] == {k: outage["latency_s"][k] for k in ("mean", "p50", "p95", "p99")}
    assert w["capacity"]["shortfall_instance_s"] == pytest.approx(outage["capacity"]["shortfall_instance_s"])
    assert w["capacity"]["desired_instance_s"] == pytest.approx(outage["capacity"]["desired_instance_s"])
    assert w["capacity"]["shortfall_fraction"] == pytest.approx(outage["capacity"]["shortfall_fraction"])
    peak = outage["windows"]["peak-hour"]            # merged per-minute sketches: the same values, summed
    assert peak["requests"] == w["requests"] and peak["capacity"] == w["capacity"]     # in another order
    assert peak["latency_s"] == pytest.approx(w["latency_s"], rel=1e-12)
    assert {k: peak["latency_s"][k] for k in ("p50", "p95", "p99")} == {k: w["latency_s"][k] for k in ("p50", "p95", "p99")}


def test_adjacent_windows_add_up(outage):
    """Counts are by arrival second, so 0s..30s and 30s..3m split the run's requests exactly."""
    a, b, whole = (outage["windows"][n] for n in ("0s..30s", "30s..3m", "0s..3m"))
    for k in ("arrived", "served", "failed_429", "failed_504", "failed_shutdown", "failed"):
        assert a["requests"][k] + b["requests"][k] == whole["requests"][k], k
    assert a["capacity"]["shortfall_instance_s"] + b["capacity"]["shortfall_instance_s"] == \
        pytest.approx(whole["capacity"]["shortfall_instance_s"])


def test_the_outage_window_is_far_worse_than_the_whole_run(outage):
    """What the planner asks about: the failed share during the outage, not diluted by the calm around it."""
    fault, tail = outage["windows"]["fault[0]"], outage["windows"]["fault[0]+30s"]
    assert fault["requests"]["failed_fraction"] > 1.5 * outage["requests"]["failed_fraction"]
    assert fault["requests"]["failed"] <= tail["requests"]["failed"] <= outage["requests"]["failed_429"] + \
        outage["requests"]["failed_504"] + outage["requests"]["failed_shutdown"]
    assert outage["windows"]["0s..30s"]["requests"]["failed"] == 0       # before the outage nothing fails
    assert fault["capacity"]["shortfall_fraction"] > outage["capacity"]["shortfall_fraction"]


def test_window_arrivals_equal_the_time_series_bins_they_cover(tmp_path):
    """timeseries.csv bins arrivals by arrival time too: over bins 3..8 (30 s to 90 s) they are fault[0]'s."""
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump(OUTAGE))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--replications", "1", "--no-plots", "--no-baseline", "--quiet"]) == 0
    with open(tmp_path / "out" / "timeseries.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["service"] == "api"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    fault = summary["runs"][0]["services"]["api"]["windows"]["fault[0]"]
    assert fault["requests"]["arrived"] == sum(int(r["arrivals"]) for r in rows if 30 <= float(r["time_s"]) < 90)


def test_peak_hour_is_the_busiest_hour_on_whole_minutes():
    per_second = [1] * 7200
    for s in range(1500, 1800):             # a burst in minutes 25..29
        per_second[s] = 10
    assert peak_hour(per_second, 7200) == (0, 3600)      # every hour up to minute 25 holds it: the earliest
    per_second[6000] = 5000                 # a single second late in the run outweighs the burst
    start, end = peak_hour(per_second, 7200)
    assert end - start == 3600 and start % 60 == 0 and start <= 6000 < end and start == 6000 // 60 * 60 - 3540
    assert peak_hour([3] * 100, 100) == (0, 100)


def test_windows_do_not_change_the_whole_run_figures():
    """Windows only add figures: the rest of the summary is bit for bit the same with more windows."""
    plain = summary_of(OUTAGE)["runs"][0]["services"]["api"]
    more = summary_of(OUTAGE, ["peak-hour", "10s..20s"])["runs"][0]["services"]["api"]
    plain.pop("windows"), more.pop("windows")
    assert plain == more


# -- the commands -----------------------------------------------------------------------------------------
def test_assess_reads_the_window():
    summary = summary_of(OUTAGE, replications=2)
    met, rows = assess([parse_slo("requests.failed_fraction@fault[0]<=1e9"),
                        parse_slo("requests.failed_fraction@fault[0]<=0.0001")], summary, 0.95)
    values = [r["services"]["api"]["windows"]["fault[0]"]["requests"]["failed_fraction"] for r in summary["runs"]]
    assert rows[0]["values"] == values and rows[0]["met"] and not rows[1]["met"] and not met


def test_solve_with_a_window_gives_the_answer_and_its_cost(tmp_path):
    """min_instances against the outage window: the answer, every level's cost per month and its failed
    requests over the window, and the one-line comparison in the report."""
    from sim.study.solve_cli import write_solve
    slo = parse_slo("requests.failed_fraction@fault[0]<=0.02", known=True)
    solver = Solver(scenario_from_dict({**OUTAGE, "duration": "2m"}), "services.0.min_instances", [slo],
                    replications=2, high=8)
    assert solver.scenario.windows == ()            # fault[0] is in every summary anyway
    result = solver.solve()
    q = json.loads((write_solve(result, tmp_path / "s") / "solve.json").read_text())
    levels = {lv["value"]: lv for lv in q["levels"]}
    rec = levels[q["recommended"]]
    below = levels[max(v for v in levels if v < q["recommended"])]
    assert rec["met"] and not below["met"]
    assert rec["failed_requests"]["fault[0]"] < below["failed_requests"]["fault[0]"]
    # (not cheaper or dearer by rule: an overloaded level keeps its few instances busy, billed, for longer)
    report = (tmp_path / "s" / "solve_report.md").read_text()
    fewer = below["failed_requests"]["fault[0]"] - rec["failed_requests"]["fault[0]"]
    delta = rec["cost_per_month_usd"] - below["cost_per_month_usd"]
    assert f"{'+' if delta >= 0 else '−'}${abs(delta):,.2f} against {below['value']}, with {fewer:,.0f} fewer " \
           "failed requests per run during `fault[0]` (" in report
    assert "| failed requests (fault[0]) |" in report and "cost per month (vs previous level)" in report


@pytest.mark.parametrize("command", ["solve", "quota"])
def test_solve_and_quota_refuse_a_missing_window_in_one_line(tmp_path, capsys, command):
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump(OUTAGE))
    extra = ["--param", "services.0.min_instances"] if command == "solve" else []
    status = main([command, str(path), *extra, "--slo", "requests.failed_fraction@fault[2]<=0.01",
                   "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 1 and "fault[2]" in err[0] and "1 fault window" in err[0], err
    assert not (tmp_path / "o").exists()


def test_quota_solver_records_the_windows_of_its_slos():
    from sim.quota import Solver as QuotaSolver
    data = {**OUTAGE, "keys": [{"id": "k", "name": KEY_NAME, "protection": "hsm"}], "faults": []}
    solver = QuotaSolver(scenario_from_dict(data), [parse_slo("latency_s.p99@30s..1m<=5")])
    assert solver.scenario.windows == ("30s..1m",)


def test_sweep_metric_over_a_window_and_the_cost_column(tmp_path, capsys):
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump({**OUTAGE, "duration": "2m"}))
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--set", "services[api].min_instances=1,4", "--replications", "2",
                 "--metric", "requests.failed@fault[0]+10s", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert "api.requests.failed@fault[0]+10s (95% interval)" in table and "cost per month (vs previous cell)" in table
    with open(out / "sweep.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {"api.requests.failed@fault[0]+10s", "api.cost.usd_per_month"} <= set(rows[0])
    one, four = (sum(float(r["api.requests.failed@fault[0]+10s"]) for r in rows if r["cell"] == c) for c in "01")
    assert four < one
    assert json.loads((out / "sweep.json").read_text())["metric"] == "requests.failed@fault[0]+10s"


def test_sensitivity_reads_its_metric_over_the_window():
    """The centre of a sensitivity over `METRIC@WINDOW` is the window's figure (no arms: the reading only)."""
    from types import SimpleNamespace
    from sim.study.sensitivity import analyse
    summary = summary_of(OUTAGE, ["fault[0]+30s"], replications=2)
    arms = SimpleNamespace(pairs={}, cells=[None], skipped=[])
    data = analyse(scenario_from_dict(OUTAGE), arms, {0: summary["runs"]}, "latency_s.p99@fault[0]+30s", 2)
    values = [r["services"]["api"]["windows"]["fault[0]+30s"]["latency_s"]["p99"] for r in summary["runs"]]
    assert data["metric"] == "latency_s.p99@fault[0]+30s" and data["centre"]["api"] == pytest.approx(sum(values) / 2)


@pytest.mark.parametrize("command, extra", [
    ("sweep", ["--set", "services[api].min_instances=1,2"]), ("sensitivity", [])])
def test_sweep_and_sensitivity_refuse_a_bad_windowed_metric_in_one_line(tmp_path, capsys, command, extra):
    path = tmp_path / "outage.yaml"
    path.write_text(yaml.safe_dump(OUTAGE))
    for bad, words in (("cold_starts.count@fault[0]", "has no per-window figure"),
                       ("requests.failed@fault[4]", "1 fault window")):
        status = main([command, str(path), *extra, "--metric", bad, "--out", str(tmp_path / "o")])
        err = capsys.readouterr().err.strip().splitlines()
        assert status == 2 and len(err) == 1 and words in err[0], err
        assert not (tmp_path / "o").exists()
