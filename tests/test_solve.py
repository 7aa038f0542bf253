"""`sim solve`: the generic solver on a steady overload with a known answer, its refusals, its files; the shared
search; `requests.failed_fraction`; and the quota solver's exact short-cut."""
from __future__ import annotations

import json

import pytest
import yaml

from sim.cli import main
from sim.scenario import scenario_from_dict
from sim.slo import parse_slo
from sim.study.search import Search, Unreachable, snap
from sim.study.solve import SolveError, Solver, Unmet
from sim.summary_schema import failed_fraction

# 40 requests/s, 0.5 s of work each, 4 at a time per instance: each instance serves 8/s, so 40/8 = 5 instances
# carry the load (utilisation 1 at 5); with fewer, the excess (1 - 8n/40) waits past the pending timeout (429).
RATE, SERVICE_S, CONCURRENCY = 40, 0.5, 4
NEEDED = RATE * SERVICE_S / CONCURRENCY
OVERLOAD = {"name": "overload", "duration": "2m", "seed": 7,
            "services": [{"name": "api", "concurrency": CONCURRENCY, "min_instances": 1, "max_instances": 3,
                          "service_time": {"dist": "lognormal", "mean": f"{SERVICE_S}s", "cv": 0.5},
                          "traffic": {"rate": RATE}}]}
SLO = "requests.failed_fraction<=0.01"
PARAM = "services.0.max_instances"


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    from sim.study.solve_cli import write_solve
    solver = Solver(scenario_from_dict(OVERLOAD), PARAM, [parse_slo(SLO)], replications=3)
    result = solver.solve()
    return solver, result, write_solve(result, tmp_path_factory.mktemp("solve") / "overload-solve")


def test_answer_is_near_the_theory_and_the_level_below_fails(solved):
    solver, result, _ = solved
    rec = result.recommended
    assert isinstance(rec, int) and NEEDED <= rec <= NEEDED + 2
    assert result.levels[rec].met and not result.levels[rec - 1].met
    # below the need the failed fraction is about the excess load, 1 - 8n/40 (less the warm start's slack)
    frac = result.levels[rec - 1].rows[0]["mean"]
    excess = 1 - (rec - 1) * CONCURRENCY / SERVICE_S / RATE
    assert excess * 0.5 <= frac <= excess * 1.2
    assert result.at_80_percent == 4 and not result.levels[4].met


def test_solve_json_report_and_curve(solved):
    _, result, out = solved
    q = json.loads((out / "solve.json").read_text())
    for key in ("recommended", "param", "slo", "confidence", "replications", "levels", "levels_run",
                "levels_skipped", "at_80_percent", "assumption", "current"):
        assert key in q, key
    assert q["param"] == PARAM and q["recommended"] == result.recommended and q["kind"] == "integer"
    assert q["levels_run"] == len(q["levels"]) and q["levels_skipped"] == 0
    values = [lv["value"] for lv in q["levels"]]
    assert values == sorted(values) and all(isinstance(v, int) for v in values)
    assert {"mean", "low", "high", "met", "bound"} <= set(q["levels"][0]["metrics"][0])
    report = (out / "solve_report.md").read_text()
    assert f"= {result.recommended}**" in report and "80% check" in report and f"| {PARAM} |" in report
    head = (out / "solve_curve.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(head[16:20], "big") >= 1000


# -- the search on its own: integer snapping, floats, the cap -----------------------------------------------
def test_search_snaps_to_whole_numbers_and_finds_the_threshold():
    asked = []
    search = Search(lambda v: asked.append(v) or v >= 37, step=1, floor=0)
    search.met(3)
    assert search.smallest() == 37
    assert all(isinstance(v, int) for v in asked) and 36 in asked
    assert snap(36.2, 1) == 37 and snap(61, 60) == 120 and snap(0.3, 0, floor=0.5) == 0.5


def test_search_on_numbers_stops_within_the_resolution():
    search = Search(lambda v: v >= 2.345, step=0, floor=0.0)
    search.met(1.0)
    answer = search.smallest()
    assert 2.345 <= answer <= 2.345 * 1.04


def test_search_halves_to_the_floor_when_everything_meets():
    search = Search(lambda v: True, step=1, floor=2)
    search.met(10)
    assert search.smallest() == 2


def test_search_raises_unreachable_at_the_cap():
    search = Search(lambda v: v >= 100, step=1, floor=0, cap=20)
    search.met(3)
    with pytest.raises(Unreachable) as err:
        search.smallest(20)
    assert err.value.args[0] == 20


# -- the command line --------------------------------------------------------------------------------------
@pytest.fixture()
def overload_file(tmp_path):
    path = tmp_path / "overload.yaml"
    path.write_text(yaml.safe_dump(OVERLOAD))
    return path


def test_bad_param_path_is_one_line_exit_2(overload_file, tmp_path, capsys):
    assert main(["solve", str(overload_file), "--param", "services.0.max_instancez", "--slo", SLO,
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "max_instancez" in err
    assert not (tmp_path / "o").exists()


def test_non_numeric_setting_and_unknown_service_are_refused(overload_file, tmp_path, capsys):
    assert main(["solve", str(overload_file), "--param", "services.0.name", "--slo", SLO]) == 2
    assert "not a number" in capsys.readouterr().err
    assert main(["solve", str(overload_file), "--param", PARAM, "--slo", SLO, "--service", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nope" in err


def test_slo_unmet_at_high_is_one_line_exit_1(overload_file, tmp_path, capsys):
    assert main(["solve", str(overload_file), "--param", PARAM, "--slo", SLO, "--replications", "2",
                 "--low", "1", "--high", "3", "--duration", "1m", "--out", str(tmp_path / "o")]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(err) == 1 and "high bound" in err[0] and "=3" in err[0]
    assert not (tmp_path / "o").exists()


def test_bounds_are_checked(overload_file):
    sc = scenario_from_dict(OVERLOAD)
    with pytest.raises(SolveError, match="below --low"):
        Solver(sc, PARAM, [parse_slo(SLO)], low="6", high="4")
    with pytest.raises(SolveError, match="whole number"):
        Solver(sc, PARAM, [parse_slo(SLO)], low="2.5")
    assert Solver(sc, PARAM, [parse_slo(SLO)]).low == 1          # max_instances must be at least 1


# -- requests.failed_fraction ------------------------------------------------------------------------------
def test_failed_fraction_counts_429_504_and_shutdown_over_arrived():
    assert failed_fraction({"arrived": 200, "failed_429": 3, "failed_504": 1, "failed_shutdown": 6}) == 0.05
    assert failed_fraction({"arrived": 0, "failed_429": 0, "failed_504": 0, "failed_shutdown": 0}) == 0.0


def test_failed_fraction_in_a_run_summary(solved):
    _, result, _ = solved
    rows = result.levels[result.recommended - 1].rows
    assert all(0 < v < 1 for v in rows[0]["values"])


# -- the quota solver's short-cut is exact -------------------------------------------------------------------
def test_a_quota_at_the_peak_demand_gives_the_unlimited_runs():
    from sim import quota
    from test_quota_solver import SLO as QSLO, TINY
    solver = quota.Solver(scenario_from_dict(TINY), [parse_slo(QSLO)], replications=2)
    unlimited, demand = solver.peak_demand()
    ceiling = int(demand["peak_per_second_max"] * 60)
    run = solver._summary(ceiling)["runs"]
    free = solver._summary(quota.UNLIMITED_RPM)["runs"]
    assert [r["services"] for r in run] == [r["services"] for r in free]
    assert [r["kms"]["resource_exhausted"] for r in run] == [0, 0]
    below = solver._summary(ceiling - 60)["runs"]                 # one request per second less does refuse
    assert sum(r["kms"]["resource_exhausted"] for r in below) > 0


def test_quota_json_counts_levels_run_and_short_cut(tmp_path):
    from sim import quota
    from test_quota_solver import SLO as QSLO, TINY
    result = quota.Solver(scenario_from_dict(TINY), [parse_slo(QSLO)], replications=2).solve()
    q = result.to_json()
    short = [lv for lv in q["levels"] if lv["short_cut"]]
    assert short and q["levels_skipped"] == len(short) and q["levels_run"] == len(q["levels"]) - len(short) + 1
    assert all(lv["wall_seconds"] == 0 and lv["met"] for lv in short)
    assert "short-cut" in quota.report_markdown(q)


def test_service_restricts_the_slos_to_one_service():
    two = {**OVERLOAD, "duration": "1m", "services": OVERLOAD["services"] + [
        {"name": "quiet", "concurrency": 4, "min_instances": 1, "max_instances": 1,
         "service_time": {"dist": "lognormal", "mean": "2s", "cv": 0.5}, "traffic": {"rate": 5}}]}
    slos = [parse_slo(SLO)]
    both = Solver(scenario_from_dict(two), PARAM, slos, replications=2).evaluate(6)
    api = Solver(scenario_from_dict(two), PARAM, slos, service="api", replications=2).evaluate(6)
    assert {r["service"] for r in both.rows} == {"api", "quiet"} and not both.met    # quiet: 10 s of work per s
    assert {r["service"] for r in api.rows} == {"api"} and api.met
