"""Quota solver: SLO parsing and its errors, the CLI's refusals, and the search on a tiny burst scenario."""
from __future__ import annotations

import json

import pytest

from sim import quota
from sim.scenario import scenario_from_dict
from sim.slo import SloError, assess, check_path, one_sided_bounds, parse_slo

KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"
TINY = {  # a jump from 5 to 120 requests/s at 60-70 s: a burst of instance starts on an HSM key
    "name": "tiny-burst", "duration": "3m", "seed": 4,
    "kms": {"quota": {"hsm_requests_per_minute": 300, "enforcement": "per-second"}},
    "keys": [{"id": "h", "name": KEY, "protection": "hsm"}],
    "services": [{"name": "api", "encryption_key": "h", "concurrency": 10, "min_instances": 1,
                  "max_instances": 200, "service_time": {"dist": "lognormal", "mean": "1s", "cv": 0.5},
                  "traffic": {"rate": [[0, 5], [60, 5], [70, 120], [180, 120]]}}],
}
SLO = "instance_starts_failed.quota_exceeded<=0"


# -- SLO text ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, path, op, threshold", [
    ("cold_starts.latency_s.p99<=20", ("cold_starts", "latency_s", "p99"), "<=", 20.0),
    ("instance_starts_failed.quota_exceeded<=0", ("instance_starts_failed", "quota_exceeded"), "<=", 0.0),
    (" capacity.shortfall_fraction < 0.01 ", ("capacity", "shortfall_fraction"), "<", 0.01),
    ("requests.served>=1e3", ("requests", "served"), ">=", 1000.0),
    ("requests.failed_429>-1", ("requests", "failed_429"), ">", -1.0),
])
def test_parse_slo(text, path, op, threshold):
    slo = parse_slo(text)
    assert (slo.path, slo.op, slo.threshold) == (path, op, threshold)


@pytest.mark.parametrize("text, words", [
    ("", "expected METRIC[@WINDOW] OP NUMBER"),
    ("cold_starts.latency_s.p99", "expected METRIC[@WINDOW] OP NUMBER"),
    ("cold_starts.latency_s.p99 == 20", "expected METRIC[@WINDOW] OP NUMBER"),
    ("cold_starts.latency_s.p99<=twenty", "'twenty' is not a number"),
    ("cold_starts.latency_s.p99<=20s", "'20s' is not a number"),
    ("cold_starts.latency_s.p99<=inf", "finite"),
    ("<=3", "expected METRIC[@WINDOW] OP NUMBER"),
])
def test_bad_slo_text_is_one_clear_line(text, words):
    with pytest.raises(SloError) as exc:
        parse_slo(text)
    assert words in str(exc.value) and "\n" not in str(exc.value)


SERVICE = {"requests": {"failed_429": 0, "served": 10}, "cold_starts": {"count": 3, "latency_s": {"p99": None}}}


@pytest.mark.parametrize("text, words", [
    ("cold_start.latency_s.p99<=20", "unknown metric 'cold_start' (a service's summary has: requests, cold_starts)"),
    ("cold_starts.latency.p99<=20", "unknown metric 'cold_starts.latency' (cold_starts has: count, latency_s)"),
    ("cold_starts.latency_s<=20", "cold_starts.latency_s is not a number; add one of: p99"),
    ("requests.served.x<=1", "unknown metric 'requests.served.x' (requests.served is already a number)"),
])
def test_unknown_or_non_number_paths(text, words):
    with pytest.raises(SloError) as exc:
        check_path(parse_slo(text), SERVICE)
    assert words in str(exc.value)


def test_confidence_bounds_and_every_replication_rule():
    mean, low, high = one_sided_bounds([1.0, 2.0, 3.0], 0.95)
    assert mean == 2.0 and low < 2.0 < high and high - 2.0 == pytest.approx(2.0 - low)
    assert one_sided_bounds([None, None], 0.95) == (None, None, None)
    runs = lambda values: {"runs": [{"services": {"a": {"m": v}}} for v in values]}
    assert assess([parse_slo("m<=0")], runs([0, 0, 0]), 0.95)[0]
    assert not assess([parse_slo("m<=0")], runs([0, 0, 1]), 0.95)[0]      # one replication breaks a <= 0
    assert assess([parse_slo("m<=10")], runs([5, 6, 7]), 0.95)[0]
    assert not assess([parse_slo("m<=6.5")], runs([5, 6, 7]), 0.95)[0]    # mean 6 but the upper bound is not
    assert not assess([parse_slo("m<=1")], runs([None, None]), 0.95)[0]   # nothing shows that it holds
    assert not assess([parse_slo("m<=1")], runs([0.5, None]), 0.95)[0]
    assert not assess([parse_slo("m>=1")], runs([None, None]), 0.95)[0]


# -- the command line ---------------------------------------------------------------------------------------
def _main(argv) -> int:
    from sim.cli import main
    return main(["quota", *argv])


def _write(tmp_path, data, name="s.yaml"):
    import yaml
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("slo, words", [
    ("p99<20", "unknown metric 'p99'"),
    ("cold_starts.latency_s.p99 = 20", "expected METRIC[@WINDOW] OP NUMBER"),
])
def test_cli_refuses_bad_slo_with_exit_2(tmp_path, capsys, slo, words):
    assert _main([str(_write(tmp_path, TINY)), "--slo", slo, "--out", str(tmp_path / "q")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0]
    assert not (tmp_path / "q").exists()


def test_cli_refuses_scenarios_without_a_quota_consuming_key(tmp_path, capsys):
    soft = json.loads(json.dumps(TINY))
    soft["keys"][0]["protection"] = "software"
    assert _main([str(_write(tmp_path, soft)), "--slo", SLO]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no service uses an HSM or external key" in err[0]


def test_protection_follows_the_keys_the_services_use():
    both = json.loads(json.dumps(TINY))
    both["keys"].append({"id": "x", "name": KEY.replace("images", "ext"), "protection": "external"})
    both["services"].append({**both["services"][0], "name": "web", "encryption_key": "x"})
    sc = scenario_from_dict(both)
    with pytest.raises(quota.QuotaError, match="--protection"):
        quota.protection_of(sc)
    assert quota.protection_of(sc, "external") == "external"
    assert quota.quota_field("external") == "kms.quota.external_requests_per_minute"


def test_tidy_values_are_whole_requests_per_second_under_per_second_enforcement():
    first = next(quota.tidy_steps(61_234, 60))
    assert first % 60 == 0 and 61_234 <= first <= 61_234 * 1.03
    assert next(quota.tidy_steps(900, 60)) == 900
    assert next(quota.tidy_steps(123_456, 1)) == 124_000


# -- the solver ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    sc = scenario_from_dict(TINY)
    solver = quota.Solver(sc, [parse_slo(SLO)], replications=3)
    result = solver.solve()
    out = quota.write_quota(result, tmp_path_factory.mktemp("quota") / "tiny-burst-quota")
    return solver, result, out


def test_solver_finds_a_quota_that_holds_and_one_20_percent_lower_that_does_not(solved):
    solver, result, _ = solved
    rec = result.recommended
    assert result.levels[rec].met
    assert not result.levels[result.current].met                      # 300/min is too little for the burst
    lower = max(60, round(0.8 * rec / 60) * 60)
    assert not solver.evaluate(lower).met
    assert result.lower_bound <= rec * 1.5 and result.protection == "hsm"
    # the resolution: a level within ~5% (or one request per second) below the answer fails
    failing_below = [q for q, lv in result.levels.items() if not lv.met and q < rec]
    assert max(failing_below) >= min(rec - 60, rec * 0.95)


def test_solver_writes_json_report_and_curve(solved):
    _, result, out = solved
    q = json.loads((out / "quota.json").read_text())
    for key in ("recommended_requests_per_minute", "current_requests_per_minute", "lower_bound_requests_per_minute",
                "protection", "slo", "confidence", "replications", "levels"):
        assert key in q, key
    assert q["recommended_requests_per_minute"] == result.recommended and q["slo"] == [SLO]
    assert {lv["requests_per_minute"] for lv in q["levels"]} >= {result.recommended, result.current}
    level = q["levels"][0]
    assert {"met", "metrics", "kms"} <= set(level) and {"mean", "low", "high", "met"} <= set(level["metrics"][0])
    report = (out / "quota_report.md").read_text()
    assert f"{result.recommended:,}/min" in report and "Peak demand" in report and "| quota" in report
    head = (out / "quota_curve.png").read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(head[16:20], "big") >= 1000
    assert not list(out.parent.glob(".*tmp*"))                         # written atomically, nothing left over


def test_the_anchor_is_called_what_it_is(solved):
    """The peak demand the search starts from is simulated without a quota limit, not a closed form:
    quota.json names it so (the old key stays as an alias) and the report says so."""
    _, result, out = solved
    q = json.loads((out / "quota.json").read_text())
    assert q["unconstrained_peak_requests_per_minute"] == result.lower_bound == q["lower_bound_requests_per_minute"]
    report = (out / "quota_report.md").read_text()
    assert "closed" not in report.lower() and "unconstrained peak demand (simulated" in report


def test_cli_prints_the_anchor_by_its_name(tmp_path, capsys):
    assert _main([str(_write(tmp_path, TINY)), "--slo", SLO, "--replications", "2", "--out", str(tmp_path / "q")]) == 0
    out = capsys.readouterr().out
    assert "unconstrained peak demand, simulated: " in out and "closed" not in out
    # TINY's HSM pool is soft: the guaranteed figure and the current quota with the headroom (issue 17)
    assert "soft enforcement: " in out and "no request depends on the region's spare capacity" in out
    assert "with the assumed headroom 1.5x" in out


def test_the_report_does_not_show_a_negative_bound_of_a_count(solved):
    """summary/quota.json keep the interval as computed; the report's table stops a count's bound at 0."""
    from sim.quota.report import report_markdown
    _, _, out = solved
    q = json.loads((out / "quota.json").read_text())
    row = q["levels"][0]["metrics"][0]
    row.update(mean=3.0, low=-12.9, high=18.9, values=[0, 0, 9])
    table = [line for line in report_markdown(q).splitlines() if line.startswith("| ") and "[" in line]
    assert any("3 [0, 18.9]" in line for line in table) and not any("-12.9" in line for line in table)


# -- soft enforcement (issue 17) ------------------------------------------------------------------------------
def test_a_soft_pool_gets_the_guaranteed_quota_and_the_current_one_with_headroom(solved):
    """TINY's HSM pool is soft (the default): the search runs it hard, so the recommendation is the quota at
    which no request depends on spare capacity; the current quota is also run with the headroom."""
    solver, result, out = solved
    assert solver.scenario.kms.quota.hsm_enforcement == "hard" and solver.as_given.kms.quota.hsm_enforcement == "soft"
    assert all(lv.kms["served_over_quota_mean"] == 0 for lv in result.levels.values())
    q = json.loads((out / "quota.json").read_text())
    assert q["quota_enforcement"] == "soft" and q["soft_headroom"] == 1.5
    assert q["guaranteed_requests_per_minute"] == q["recommended_requests_per_minute"] == result.recommended
    soft = q["current_with_headroom"]
    assert soft["requests_per_minute"] == result.current == 300
    assert soft["kms"]["served_over_quota_mean"] > 0                  # the burst is served over the quota
    hard = result.levels[result.current].kms
    assert soft["kms"]["resource_exhausted_mean"] < hard["resource_exhausted_mean"]
    report = (out / "quota_report.md").read_text()
    assert "## Soft enforcement: what is guaranteed is the quota" in report
    assert f"{soft['kms']['served_over_quota_mean']:,.3g} requests served over the quota" in report


def test_a_hard_pool_has_no_headroom_figures():
    hard = dict(TINY, kms={"quota": {**TINY["kms"]["quota"], "hsm_enforcement": "hard"}})
    solver = quota.Solver(scenario_from_dict(hard), [parse_slo(SLO)], replications=2)
    assert solver.soft_headroom is None and solver.scenario is solver.as_given
