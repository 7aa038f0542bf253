"""The assumptions of the model: one entry per row of the README's "Assumptions" table, with the default
and a low and a high plausible value, each with a one-line reason. The sensitivity study reads this.

A leaf module (no simulation imports). `parameter` is the README's first column (without the backticks);
`path` is the dotted scenario key when the row is one plain key (`services[]` = every service), else None.
Durations are in seconds; a distribution is described by its median and p99 in seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Assumption:
    parameter: str          # as the README's assumptions table names it
    path: str | None        # the scenario key it sets, when it is one plain key
    default: Any
    low: Any
    high: Any
    reason: str             # why the range is plausible, in one line


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption("kms.latency", None, {"median": 0.008, "p99": 0.040},
               {"median": 0.004, "p99": 0.015}, {"median": 0.020, "p99": 0.150},
               "in-region Cloud KMS calls are single-digit ms typically; tails of 100+ ms are reported under load"),
    Assumption("kms.ekm.latency", None, {"median": 0.035, "p99": 0.120},
               {"median": 0.010, "p99": 0.040}, {"median": 0.080, "p99": 0.150},
               "a co-located partner answers in ~10 ms; EKM's own 150 ms timeout bounds what a working EKM takes"),
    Assumption("kms.quota.external_requests_per_minute", "kms.quota.external_requests_per_minute", 6000.0,
               600.0, 60000.0, "no published EKM default; projects report quotas from hundreds to tens of "
               "thousands per minute"),
    Assumption("kms.quota.soft_headroom", "kms.quota.soft_headroom", 1.5, 1.0, 3.0,
               "docs (2026-02-16): soft-enforced HSM requests are served over quota 'if the system can serve "
               "the request', how far is unpublished; 1 = no spare capacity (hard), 3 = a quiet region"),
    Assumption("kms.disable_propagation", "kms.disable_propagation", 0.0, 0.0, 3600.0,
               "docs: usually within a minute, rarely hours; 0 is the optimistic bound"),
    Assumption("kms.retry", "kms.retry",
               {"initial_backoff": 1.0, "multiplier": 2.0, "max_backoff": 32.0, "jitter": 0.2},
               {"initial_backoff": 0.1, "multiplier": 1.5, "max_backoff": 10.0, "jitter": 0.0},
               {"initial_backoff": 2.0, "multiplier": 2.0, "max_backoff": 64.0, "jitter": 0.5},
               "Google client libraries' retry defaults range from 100 ms up to about 1 s initial, 10-64 s cap"),
    Assumption("services[].shutdown_after", "services[].shutdown_after", 3600.0, 3600.0, 86400.0,
               "the API takes whole hours, at least 1; a day is a plausible upper choice"),
    Assumption("services[].startup.*", None,
               {"schedule": (0.3, 1.5), "image_fetch": (0.8, 4.0), "container_start": 0.2, "app_init": (1.0, 5.0)},
               {"schedule": (0.1, 0.5), "image_fetch": (0.3, 1.5), "container_start": 0.1, "app_init": (0.1, 0.5)},
               {"schedule": (1.0, 5.0), "image_fetch": (3.0, 20.0), "container_start": 0.5, "app_init": (5.0, 30.0)},
               "cold starts from sub-second (small Go images) to tens of seconds (large JVM/ML images) are reported"),
    Assumption("services[].startup_cpu_boost_factor", "services[].startup_cpu_boost_factor", 0.5, 0.3, 1.0,
               "Google reports up to ~50% faster Java startup; some workloads gain nothing"),
    Assumption("services[].key_operations.decrypts_per_start", "services[].key_operations.decrypts_per_start",
               2, 1, 4, "the audit log shows two start reasons; one per start or one per image layer are readings too"),
    Assumption("services[].key_operations.validation_interval", "services[].key_operations.validation_interval",
               300.0, 60.0, 3600.0, "unpublished; a check between every minute and every hour keeps it cheap"),
    Assumption("services[].service_time", None, {"mean": 0.120, "cv": 1.0}, {"mean": 0.020, "cv": 0.5},
               {"mean": 2.0, "cv": 3.0}, "workload-specific: from cache hits to slow API backends"),
    Assumption("services[].cpu_per_request", "services[].cpu_per_request", 0.25, 0.05, 1.0,
               "I/O-bound requests use little CPU, CPU-bound ones a whole vCPU"),
    Assumption("services[].autoscaling.interval", "services[].autoscaling.interval", 2.0, 2.0, 5.0,
               "Knative ticks every 2 s; older Cloud Run docs say every 5 s"),
    Assumption("services[].autoscaling.failed_start_backoff", "services[].autoscaling.failed_start_backoff",
               {"initial": 10.0, "max": 300.0}, {"initial": 2.0, "max": 60.0}, {"initial": 10.0, "max": 600.0},
               "Kubernetes' back-off is 10 s to 5 min; a platform could retry at its decision tick, or wait longer"),
    Assumption("services[].autoscaling.failed_start_backoff.jitter",
               "services[].autoscaling.failed_start_backoff.jitter", 0.1, 0.0, 0.5,
               "ours: none keeps a wave's retries together, +/-50% spreads them over twice the wait"),
    Assumption("services[].autoscaling.max_failed_start_backoff", "services[].autoscaling.max_failed_start_backoff",
               0.0, 0.0, 300.0, "an older knob, 0 = unused; when set it is a cap like failed_start_backoff.max"),
    Assumption("services[].idle_retention", "services[].idle_retention", 900.0, 300.0, 900.0,
               "secondary sources quote up to 15 min; instances may be reclaimed sooner"),
    Assumption("services[].pending_timeout: auto", "services[].pending_timeout", "auto", 10.0, 60.0,
               "docs: max(10 s, 3.5 x average startup); startups of ~3 to ~17 s give 10 to 60 s"),
    Assumption("services[].pending_timeout_basis", "services[].pending_timeout_basis", "observed", "analytic",
               "observed", "the docs' average startup is the platform's observation; the analytic mean of the "
               "start path ignores slow key operations"),
    Assumption("start_time", "start_time", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
               "2026-01-01T00:00:00Z", "only log timestamps: no effect on results"),
    Assumption("quota admission", None, "per-second, rpm/60 on average", "per-second, rpm/60 on average",
               "per-minute, rpm per 60 s window", "docs: shown per minute, enforced per second; a per-minute "
               "window is the burstiest reading"),
    Assumption("pricing.request_based", "pricing.request_based",
               {"vcpu_second": 0.000024, "gib_second": 0.0000025, "per_million_requests": 0.40},
               {"vcpu_second": 0.0000199, "gib_second": 0.0000021, "per_million_requests": 0.40},
               {"vcpu_second": 0.0000336, "gib_second": 0.0000035, "per_million_requests": 0.40},
               "list price, Tier 1 (cloud.google.com/run/pricing, 2026-12-01); committed use discounts to Tier 2"),
    Assumption("pricing.request_based.idle_*", None,
               {"idle_vcpu_second": 0.0000025, "idle_gib_second": 0.0000025},
               {"idle_vcpu_second": 0.0000021, "idle_gib_second": 0.0000021},
               {"idle_vcpu_second": 0.0000035, "idle_gib_second": 0.0000035},
               "list price of idle minimum instances, Tier 1 (cloud.google.com/run/pricing, 2026-12-05); "
               "committed use discounts to Tier 2"),
    Assumption("pricing.instance_based", "pricing.instance_based",
               {"vcpu_second": 0.000018, "gib_second": 0.000002, "per_million_requests": 0.0},
               {"vcpu_second": 0.0000149, "gib_second": 0.0000017, "per_million_requests": 0.0},
               {"vcpu_second": 0.0000252, "gib_second": 0.0000028, "per_million_requests": 0.0},
               "list price, Tier 1 (the GiB-second price is an assumption); committed use discounts to Tier 2"),
    Assumption("pricing.kms_per_10k_operations", "pricing.kms_per_10k_operations",
               {"software": 0.03, "hsm": 0.03, "external": 0.03}, {"software": 0.03, "hsm": 0.03, "external": 0.03},
               {"software": 0.03, "hsm": 0.15, "external": 0.03},
               "list price (cloud.google.com/kms/pricing, 2026-12-01); HSM RSA 3072+/EC keys cost $0.15"),
    Assumption("services[].billing", "services[].billing", "request", "request", "instance",
               "Cloud Run's default is request-based billing; instance-based is the other setting"),
    Assumption("pricing.billing_rounding", "pricing.billing_rounding", 0.1, 0.0, 0.1,
               "docs: rounded up to the nearest 100 ms; per busy span of an instance is our reading"),
    Assumption("pricing.billed_start", "pricing.billed_start", "container", "container", "request",
               "docs: billed 'when they start'; no container runs while the image is fetched and decrypted"),
    Assumption("EKM error text in `run_errors.jsonl`", None, "our own wording", "our own wording",
               "our own wording", "text only: no effect on results"),
)

BY_PARAMETER: dict[str, Assumption] = {a.parameter: a for a in ASSUMPTIONS}


def plausible_range(parameter: str) -> tuple[Any, Any]:
    """(low, high) of one assumption, by its README name."""
    a = BY_PARAMETER[parameter]
    return a.low, a.high


# -- what a sensitivity study sets ---------------------------------------------------------------------------
# Each assumption as scenario settings: path -> value in the scenario format, at its low and at its high
# value (`services[]` = every service), and when it can change results at all (a condition of the scenario,
# named here and tested in sim/study/sensitivity_arms.py). "never": text only, nothing to run.
WHEN = {
    "always": "",
    "key": "no service uses a key, so no key operation happens",
    "external": "no service uses an external key",
    "quota": "no service uses an HSM or external key, so no KMS quota applies",
    "soft": "no service uses an HSM key under soft enforcement (kms.quota.hsm_enforcement: soft)",
    "key-fault": "no fault disables, schedules for destruction or destroys a key",
    "revocation": "no fault can start the revocation countdown (key state, IAM or EKM outage)",
    "retry": "no retryable key error can happen (no external key, no kms-outage)",
    "failed-starts": "no start can fail (no KMS quota, no key, IAM or EKM fault)",
    "boost": "no service has startup_cpu_boost",
    "idle": "every service uses the knative policy, which does not use idle_retention",
    "cost": "prices and billing change only the cost figures, and the metric is not one",
    "idle-cost": "idle rates change only the cost of idle minimum instances: the metric is not a cost figure, "
                 "or no service has min_instances with request-based billing",
    "never": "no effect on results (text only)",
}


@dataclass(frozen=True)
class Setting:
    low: dict[str, Any]      # scenario path -> value at the assumption's low value
    high: dict[str, Any]
    when: str                # a key of WHEN

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self.low)


def _lognormal(median_p99) -> dict:
    median, p99 = (median_p99["median"], median_p99["p99"]) if isinstance(median_p99, dict) else median_p99
    return {"dist": "lognormal", "median": median, "p99": p99}


def _startup(phases: dict) -> dict:
    return {f"services[].startup.{phase}": (_lognormal(v) if isinstance(v, tuple) else v)
            for phase, v in phases.items()}


def _service_time(v: dict) -> dict:
    return {"services[].service_time": {"dist": "lognormal", "mean": v["mean"], "cv": v["cv"]}}


_SPECIAL = {   # the assumptions that are not one plain key, or whose values need a scenario form
    "kms.latency": (lambda v: {"kms.latency": _lognormal(v)}, "key"),
    "kms.ekm.latency": (lambda v: {"kms.ekm.latency": _lognormal(v)}, "external"),
    "services[].startup.*": (_startup, "always"),
    "services[].service_time": (_service_time, "always"),
    "quota admission": (lambda v: {"kms.quota.enforcement": "per-minute" if "per-minute" in v else "per-second"},
                        "quota"),
    "pricing.request_based.idle_*": (lambda v: {f"pricing.request_based.{k}": x for k, x in v.items()},
                                     "idle-cost"),
}
_WHEN = {
    "kms.quota.external_requests_per_minute": "external", "kms.quota.soft_headroom": "soft",
    "kms.disable_propagation": "key-fault",
    "kms.retry": "retry", "services[].shutdown_after": "revocation", "services[].startup_cpu_boost_factor": "boost",
    "services[].key_operations.decrypts_per_start": "key", "services[].key_operations.validation_interval": "key",
    "services[].autoscaling.failed_start_backoff": "failed-starts",
    "services[].autoscaling.max_failed_start_backoff": "failed-starts",
    "services[].autoscaling.failed_start_backoff.jitter": "failed-starts", "services[].idle_retention": "idle",
    "pricing.request_based": "cost", "pricing.instance_based": "cost", "pricing.kms_per_10k_operations": "cost",
    "services[].billing": "cost", "pricing.billing_rounding": "cost", "pricing.billed_start": "cost",
    "start_time": "never", "EKM error text in `run_errors.jsonl`": "never",
}


def setting(parameter: str) -> Setting:
    """The scenario settings of one assumption at its low and high values (KeyError for an unknown name)."""
    a = BY_PARAMETER[parameter]
    if parameter in _SPECIAL:
        to_paths, when = _SPECIAL[parameter]
        return Setting(to_paths(a.low), to_paths(a.high), when)
    when = _WHEN.get(parameter, "always")
    if a.path is None or when == "never":
        return Setting({}, {}, "never")
    return Setting({a.path: a.low}, {a.path: a.high}, when)


SETTINGS: dict[str, Setting] = {a.parameter: setting(a.parameter) for a in ASSUMPTIONS}
