"""The printed summary tells the whole KMS story per quota pool: its peak per second and per minute
including other consumers' (background) requests, against its quota, and what it refused; the services'
own peak is printed apart, as such."""
from __future__ import annotations

from pathlib import Path

import pytest

from sim.report import summary_table
from sim.runner import run
from sim.scenario import load_scenario

NOISY = Path(__file__).parents[1] / "scenarios" / "shared-quota-noisy-neighbour.yaml"


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(NOISY), replications=1, baseline=False)


def _peaks(rows):
    """Per pool, the most requests that met the quota in one second and in one minute, from kms_usage.csv:
    requested per reason, background included, less the services' calls a kms-outage answered first."""
    per_s, per_min = {}, {}
    for row in rows:
        n = row["starts"] + row["validation"] + row["deploy"] + row["background"] - row["unavailable"]
        per_s[(row["pool"], row["second"])] = n
        per_min[(row["pool"], row["second"] // 60)] = per_min.get((row["pool"], row["second"] // 60), 0) + n
    return ({p: max(n for (q, _), n in per_s.items() if q == p) for p, _ in per_s},
            {p: max(n for (q, _), n in per_min.items() if q == p) for p, _ in per_min})


def test_the_pool_figures_include_background_and_refusals(result):
    out = result.outputs[0]
    pool = out.summary["kms"]["quota_pools"]["acme-sec/hsm"]
    per_s, per_min = _peaks(out.kms_usage)
    assert pool["peak_requested_per_second"] == per_s["acme-sec/hsm"]
    assert pool["peak_requested_per_minute"] == per_min["acme-sec/hsm"]
    # Well above the quota (10/s) and above the services' own peak: the background counts too. Soft
    # enforcement (default soft_headroom 1.5) admits up to 15/s.
    assert pool["peak_requested_per_second"] > 15 and pool["peak_admitted_per_second"] <= 15
    assert pool["peak_requested_per_minute"] > out.summary["kms"]["peak_per_minute"]
    assert pool["rejected_background"] > 0 and pool["rejected_services"] > 0


def test_the_printed_summary_shows_the_pool_against_its_quota(result):
    text = summary_table(result.summary)
    pool = result.summary["runs"][0]["kms"]["quota_pools"]["acme-sec/hsm"]
    line = next(line for line in text.splitlines() if line.startswith("KMS pool acme-sec/hsm"))
    refused = pool["rejected_services"] + pool["rejected_background"]
    assert f"quota 600/min = 10/s, per-second" in line
    assert f"peak {pool['peak_requested_per_second']:,}/s, {pool['peak_requested_per_minute']:,}/min incl. background" in line
    over = pool["served_over_quota_services"] + pool["served_over_quota_background"]
    assert over > 0 and "quota 600/min = 10/s, per-second, soft, served up to 1.5x)" in line
    assert f"; {over:,} served over quota ({pool['served_over_quota_services']:,} services', " \
           f"{pool['served_over_quota_background']:,} background); {refused:,} refused (RESOURCE_EXHAUSTED: " \
           f"{pool['rejected_services']:,} services', {pool['rejected_background']:,} background)" in line
    assert "KMS, the services' own calls:" in text


def test_the_printed_table_has_a_cost_column(result):
    lines = summary_table(result.summary).splitlines()
    assert lines[0].split()[-1] == "cost"
    for name, row in zip(("checkout", "batch-api"), lines[1:3]):
        total = result.summary["runs"][0]["services"][name]["cost"]["total_usd"]
        # one money format (issue 19 point 6): dollars and cents whatever the amount
        assert row.split()[0] == name and row.split()[-1] == (f"${total:,.2f}" if total >= 0.005 else "<$0.01")


def test_the_services_failed_calls_are_printed_by_code():
    """A key disabled mid-run: its FAILED_PRECONDITION answers are printed with their count, from the summary."""
    sc = load_scenario(Path(__file__).parents[1] / "scenarios" / "key-disabled.yaml", {"duration": "55m"})
    summary = run(sc, replications=1, baseline=False).summary
    codes = summary["aggregate"]["kms"]["errors_by_code"]
    failed = codes["FAILED_PRECONDITION"]["mean"]
    assert failed > 0
    line = next(ln for ln in summary_table(summary).splitlines() if ln.startswith("KMS, the services' own calls"))
    assert f"FAILED_PRECONDITION {failed:,.0f}" in line


# -- issue 19 point 6: one format per figure in the printed table ----------------------------------------------
def test_means_print_as_means_and_money_has_one_format():
    from sim.report import count, money
    assert count({"mean": 0.5}) == "0.5" and count({"mean": 4.0}) == "4" and count(12345.0) == "12,345"
    assert count({"mean": 0.04}) == "0.04" and count({"mean": 2.25}) == "2.2" and count(None) == "-"
    assert money(0.8235) == "$0.82" and money(4.28) == "$4.28" and money(1234.5) == "$1,234.50"
    assert money(0.0004) == "<$0.01" and money(0) == "$0.00"


def test_the_table_says_when_it_leaves_the_warmup_out(result):
    from sim.report import warmup_line
    summary = dict(result.summary, warmup_seconds=300)
    assert "the first 5m are left out" in summary_table(summary)
    assert warmup_line(dict(result.summary, warmup_seconds=0)) is None
