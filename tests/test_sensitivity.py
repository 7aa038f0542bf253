"""`sim sensitivity` (issue 10, point 6): every assumption maps to scenario settings, the ones that cannot
matter are skipped, arms are paired, the ranking and the paired interval on a tiny scenario, identical files
with 1 and 2 workers, and a bad metric refused in one line."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from scipy import stats

from conftest import KEY_NAME, deep_merge, make_scenario
from sim.assumptions import ASSUMPTIONS, SETTINGS, WHEN
from sim.cli import main
from sim.scenario import scenario_from_dict
from sim.study.sensitivity import check_metric, paired_change
from sim.study.sensitivity_arms import build_arms, holds, with_setting

# A software key (no quota), constant start phases 4 x 0.25 s and a constant KMS latency of 10 ms: every cold
# start takes exactly 1 s + decrypts x 10 ms, so only what changes a start's own path moves the metric.
TINY = make_scenario(
    service={"encryption_key": "k", "max_instances": 20, "idle_retention": "5s",
             "traffic": {"rate": [[0, 2], [20, 12], [25, 2], [40, 12], [45, 2]]}},
    keys=[{"id": "k", "name": KEY_NAME, "protection": "software"}], duration="60s", replications=3)
METRIC = "cold_starts.latency_s.mean"


def lognormal_mean(median: float, p99: float) -> float:
    sigma = math.log(p99 / median) / stats.norm.ppf(0.99)
    return median * math.exp(sigma ** 2 / 2)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """The tiny scenario's study with 1 and with 2 workers (two folders)."""
    root = tmp_path_factory.mktemp("sensitivity")
    path = root / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    for workers in (1, 2):
        assert main(["sensitivity", str(path), "--metric", METRIC, "--workers", str(workers), "--quiet",
                     "--out", str(root / f"w{workers}")]) == 0
    return root


def test_every_assumption_has_settings_that_change_a_full_scenario():
    """Each assumption's low and high settings name real keys: applied to a scenario where every condition
    holds, they validate and the arm differs from the scenario (unless the value is the scenario's own)."""
    from conftest import base_service
    services = [base_service(encryption_key="x", startup_cpu_boost=True, revocation_action="shut-down",
                             min_instances=1),
                base_service(name="hsm", encryption_key="h")]        # a soft HSM pool: the headroom applies
    data = make_scenario(services=services, duration="10m",
                         keys=[{"id": "x", "name": KEY_NAME, "protection": "external"},
                               {"id": "h", "name": KEY_NAME.replace("/images", "/hsm"), "protection": "hsm"}],
                         faults=[{"at": "1m", "kind": "key-disable", "key": "x"},
                                 {"at": "2m", "kind": "ekm-outage", "duration": "1m", "error": "TLS_CERT"}])
    sc = scenario_from_dict(data)
    assert set(SETTINGS) == {a.parameter for a in ASSUMPTIONS}
    for a in ASSUMPTIONS:
        s = SETTINGS[a.parameter]
        assert s.when in WHEN and s.low.keys() == s.high.keys()
        if s.when == "never":
            assert not s.paths and a.low == a.high, a.parameter     # text only
            continue
        assert holds(sc, s.when), a.parameter
        low, high = with_setting(sc, s.low), with_setting(sc, s.high)
        assert low != high, a.parameter


def test_prices_are_varied_only_for_a_cost_metric():
    sc = scenario_from_dict(TINY)
    priced = {"pricing.request_based", "pricing.instance_based", "pricing.kms_per_10k_operations",
              "services[].billing", "pricing.billing_rounding"}
    assert priced <= set(build_arms(sc, "cost.total_usd").pairs)
    assert not priced & set(build_arms(sc, "requests.failed_fraction").pairs)
    # Idle rates only where an idle minimum instance is billed: min_instances > 0, request-based billing.
    idle = "pricing.request_based.idle_*"
    assert idle not in build_arms(sc, "cost.total_usd").pairs
    kept = scenario_from_dict(deep_merge(TINY, {"services": [{**TINY["services"][0], "min_instances": 1}]}))
    assert idle in build_arms(kept, "cost.total_usd").pairs
    assert idle not in build_arms(kept, "requests.failed_fraction").pairs
    by_instance = deep_merge(TINY, {"services": [{**TINY["services"][0], "min_instances": 1, "billing": "instance"}]})
    assert idle not in build_arms(scenario_from_dict(by_instance), "cost.total_usd").pairs


def test_conditions_follow_the_scenario():
    software = scenario_from_dict(TINY)
    assert holds(software, "key") and not holds(software, "quota") and not holds(software, "external")
    assert not holds(software, "key-fault") and not holds(software, "retry") and not holds(software, "boost")
    plain = scenario_from_dict(make_scenario())                  # Google-managed encryption: no key at all
    assert not holds(plain, "key") and holds(plain, "always") and not holds(plain, "never")
    hsm = scenario_from_dict(make_scenario(service={"encryption_key": "k"}))
    assert holds(hsm, "quota") and holds(hsm, "failed-starts") and not holds(hsm, "external")
    assert holds(hsm, "soft") and not holds(software, "soft")       # the headroom: soft HSM pools only
    hard = scenario_from_dict(make_scenario(service={"encryption_key": "k"}, kms={"quota": {"hsm_enforcement": "hard"}}))
    assert not holds(hard, "soft")
    assert SETTINGS["kms.quota.soft_headroom"].low == {"kms.quota.soft_headroom": 1.0}
    assert SETTINGS["kms.quota.soft_headroom"].high == {"kms.quota.soft_headroom": 3.0}


def test_arms_are_deduplicated_and_paired(tmp_path):
    arms = build_arms(scenario_from_dict(TINY))
    skipped = {s["assumption"] for s in arms.skipped}
    assert {"kms.ekm.latency", "quota admission", "kms.retry", "start_time"} <= skipped
    # autoscaling.interval's low (2 s) is the scenario's own: that arm is the centre, run once
    assert arms.pairs["services[].autoscaling.interval"][0] == 0
    fingerprints = [json.dumps(c.to_resolved_dict(), sort_keys=True) for c in arms.cells]
    assert len(set(fingerprints)) == len(fingerprints)
    assert {c.seed for c in arms.cells} == {TINY["seed"]}      # same seed in every arm: paired streams


def test_ranking_and_paired_interval(tiny_runs):
    data = json.loads((tiny_runs / "w1" / "sensitivity.json").read_text())
    rows = data["rows"]
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    changes = [abs(r["change"]) for r in rows]
    assert changes == sorted(changes, reverse=True)
    # cold starts: phases (startup.*: seconds) >> 2 decrypts x KMS latency (~0.05 s) > 3 more decrypts x 10 ms
    assert [r["assumption"] for r in rows[:3]] == ["services[].startup.*", "kms.latency",
                                                   "services[].key_operations.decrypts_per_start"]
    decrypts = rows[2]
    assert decrypts["change"] == pytest.approx(0.03, abs=1e-9)                  # 1 s + 4 x 10 ms - (1 s + 10 ms)
    assert decrypts["interval_low"] == pytest.approx(0.03, abs=1e-9) == decrypts["interval_high"]
    assert all(abs(r["change"]) < 1e-9 for r in rows[3:])                       # nothing else is on a start's path
    # kms.latency: the paired t interval of the replications' differences, and it covers the theory (2 decrypts)
    kms = rows[1]
    diffs = np.array(kms["values_high"]) - np.array(kms["values_low"])
    half = stats.t.ppf(0.975, len(diffs) - 1) * diffs.std(ddof=1) / math.sqrt(len(diffs))
    assert kms["change"] == pytest.approx(diffs.mean()) and kms["interval_high"] == pytest.approx(diffs.mean() + half)
    assert kms["pairs"] == data["replications"] == 3
    theory = 2 * (lognormal_mean(0.020, 0.150) - lognormal_mean(0.004, 0.015))
    assert kms["interval_low"] <= theory <= kms["interval_high"], (theory, kms)
    centre = data["centre"]["svc"]
    assert centre == pytest.approx(1.02)
    assert kms["metric_centre"] == centre and decrypts["metric_low"] == pytest.approx(1.01)


def test_assumptions_that_cannot_matter_are_skipped(tiny_runs):
    data = json.loads((tiny_runs / "w1" / "sensitivity.json").read_text())
    skipped = {s["assumption"]: s["reason"] for s in data["skipped"]}
    assert "external key" in skipped["kms.ekm.latency"]
    assert "kms.ekm.latency" not in {r["assumption"] for r in data["rows"]}
    csv_text = (tiny_runs / "w1" / "sensitivity.csv").read_text().splitlines()
    assert csv_text[0] == ("assumption,path,low,high,service,metric_low,metric_centre,metric_high,change,"
                           "interval_low,interval_high")
    assert csv_text[1].startswith("services[].startup.*,services[].startup.schedule;")
    assert len(csv_text) == 1 + len(data["rows"])


def test_files_identical_with_one_and_two_workers(tiny_runs):
    for name in ("sensitivity.csv", "sensitivity.json", "sensitivity.png"):
        assert (tiny_runs / "w1" / name).read_bytes() == (tiny_runs / "w2" / name).read_bytes(), name


def test_paired_change_small_cases():
    assert paired_change([1.0, 2.0], [1.0, 2.0]) == {"change": 0.0, "interval_low": 0.0, "interval_high": 0.0,
                                                     "pairs": 2}
    one = paired_change([1.0, None], [3.0, 5.0])               # an empty value drops its pair
    assert one["change"] == 2.0 and one["interval_low"] is None and one["pairs"] == 1
    assert paired_change([None], [None])["change"] is None


@pytest.mark.parametrize("bad", ["capacity.shortfall", "latency_s", "nope.p99", ""])
def test_bad_metric_is_one_line(tmp_path, capsys, bad):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    assert main(["sensitivity", str(path), "--metric", bad, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: --metric {bad!r}"), err
    assert not (tmp_path / "o").exists()


def test_default_metric_is_declared():
    assert check_metric("capacity.shortfall_fraction") == ("capacity", "shortfall_fraction")


def test_years_of_sensitivity_are_refused(tmp_path, capsys, monkeypatch):
    import sim.study.sensitivity as sensitivity
    monkeypatch.setattr(sensitivity, "run_arms", lambda *a, **k: pytest.fail("the study started"))
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump({**TINY, "duration": "30d"}))
    assert main(["sensitivity", str(path), "--max-hours", "0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("refused:")


def test_workers_and_scheduler_pass_through_to_the_engine(tmp_path, monkeypatch):
    import sim.study.cluster as cluster
    import sim.study.engine as engine
    seen = {}

    def fake_run_units(units, **kwargs):
        seen.update(kwargs)
        raise KeyboardInterrupt          # stop there: only the call matters
    monkeypatch.setattr(engine, "run_units", fake_run_units)
    monkeypatch.setattr(cluster, "check_scheduler", lambda address: 2)   # no scheduler answers here
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:1")
    monkeypatch.chdir(tmp_path)          # the default output folder (and its .partial) land here
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    store = tmp_path / "results" / f"{TINY['name']}-sensitivity.partial" / "units"
    assert main(["sensitivity", str(path), "--workers", "2", "--quiet"]) == 130
    assert seen == {"workers": 2, "scheduler": "tcp://127.0.0.1:1", "progress": False, "store": store}
    assert main(["sensitivity", str(path), "--scheduler", "tcp://10.0.0.1:8786", "--resume"]) == 130
    assert seen == {"workers": 1, "scheduler": "tcp://10.0.0.1:8786", "progress": True, "store": store}
