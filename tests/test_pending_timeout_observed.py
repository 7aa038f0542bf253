"""pending_timeout: auto is max(10 s, 3.5 x the service's average startup time) (Cloud Run's documented
rule). Basis `observed` (the default) averages the current revision's last `pending_timeout_observed_starts`
completed starts, the analytic mean until one completes; basis `analytic` uses the mean of the start phases
plus the key operations. When key trouble makes starts slow, only the observed basis follows."""
from __future__ import annotations

import pytest

from conftest import instance_rows, make_scenario, run_once, service_summary

EXTERNAL = "projects/acme-sec/locations/us-central1/keyRings/ekm/cryptoKeys/ext"


def slow_start_scenario(basis: str, **service) -> dict:
    # Retryable EKM outages at 0-120 s and 300-420 s: a start retries its decrypts until the EKM answers.
    # The min instance starts at 0 and takes about 2 minutes; traffic steps up at 330 s, in the second
    # outage, so the new starts wait for its end, and the requests that pend meanwhile wait for them.
    return make_scenario(
        service={"encryption_key": "x", "pending_timeout": "auto", "pending_timeout_basis": basis,
                 "min_instances": 1, "max_instances": 100, "idle_retention": "15m",
                 "traffic": {"arrivals": "deterministic", "rate": [[0, 1], [329, 1], [330, 60], [900, 60]]},
                 **service},
        keys=[{"id": "x", "name": EXTERNAL, "protection": "external"}],
        kms={"latency": "10ms", "ekm": {"latency": "30ms", "timeout": "150ms"}},
        duration="15m", faults=[{"at": "0s", "kind": "ekm-outage", "duration": "120s", "error": "TIMEOUT"},
                                {"at": "300s", "kind": "ekm-outage", "duration": "120s", "error": "TIMEOUT"}])


def test_observed_basis_follows_slow_starts_and_analytic_does_not():
    observed = service_summary(run_once(slow_start_scenario("observed")))
    analytic = service_summary(run_once(slow_start_scenario("analytic")))
    # Analytic: 4 x 0.25 s of phases + 2 x (10 + 30) ms of decrypts: 1.08 s, so the 10 s floor all along.
    assert analytic["pending_timeout_s"] == analytic["pending_timeout_max_s"] == 10.0
    # Observed: the first start, of about 2 minutes, pushes it to 3.5 x that, far above the floor...
    assert observed["pending_timeout_max_s"] > 3.5 * 100
    # During the second outage requests wait for the slow starts instead of failing with 429.
    assert observed["requests"]["failed_429"] < analytic["requests"]["failed_429"] / 2


@pytest.mark.parametrize("basis", ["observed", "analytic"])
def test_both_bases_agree_when_starts_take_what_their_phases_say(basis):
    # Constant phases of 5 s each and Google-managed encryption: every start takes exactly 20 s.
    phases = {"schedule": "5s", "image_fetch": "5s", "container_start": "5s", "app_init": "5s"}
    data = make_scenario(service={"pending_timeout": "auto", "pending_timeout_basis": basis, "startup": phases},
                         duration="3m")
    s = service_summary(run_once(data))
    assert s["pending_timeout_s"] == s["pending_timeout_max_s"] == pytest.approx(3.5 * 20.0)


@pytest.mark.parametrize("window", [1, 3, 1000])
def test_observed_average_is_over_the_last_n_completed_starts(window):
    result = run_once(slow_start_scenario("observed", pending_timeout_observed_starts=window))
    completed = sorted((r for r in instance_rows(result) if r["ready_at"] is not None),
                       key=lambda r: (r["ready_at"], r["instance"]))
    last = [r["startup_s"] for r in completed[-window:]]
    expected = max(10.0, 3.5 * sum(last) / len(last))
    assert service_summary(result)["pending_timeout_s"] == pytest.approx(expected, rel=1e-12)
