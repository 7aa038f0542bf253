"""The metrics of a run summary, declared: every per-service path, with its unit and meaning.

summary.json holds, per replication, `runs[i]["services"][name]` (the paths of SERVICE_METRICS, and under
`windows`, per window, those of WINDOW_METRICS) and
`runs[i]["kms"]["quota_pools"][pool]` (POOL_METRICS). SLOs (`sim quota --slo`, sim.slo) name service paths;
they are checked against this declaration, not against a run. tests/test_summary_schema.py checks that a
real run's summary has exactly these paths, so the declaration cannot drift from the recorder.

A leaf module: no simpy, scipy or matplotlib.
"""
from __future__ import annotations

# path -> (unit, meaning). Figures exclude the warmup unless said otherwise; percentiles are null when empty.
SERVICE_METRICS: dict[str, tuple[str, str]] = {
    "requests.arrived": ("requests", "requests that arrived after the warmup"),
    "requests.served": ("requests", "requests answered successfully"),
    "requests.failed_429": ("requests", "requests failed with 429 (no instance within the pending timeout)"),
    "requests.failed_504": ("requests", "requests failed with 504 (request timeout on an instance)"),
    "requests.failed_shutdown": ("requests", "requests failed because their instance was shut down"),
    "requests.failed_fraction": ("fraction", "failed (429 + 504 + shutdown) over arrived; 0 when none arrived"),
    "requests.in_flight_at_end": ("requests", "requests pending or being served at the end of the run"),
    "requests.throughput_per_s": ("requests/s", "requests served per second"),
    "requests.mean_in_system": ("requests", "time-average of requests in flight plus pending"),
    "latency_s.mean": ("s", "mean request latency, arrival to answer"),
    "latency_s.p50": ("s", "median request latency"),
    "latency_s.p95": ("s", "95th percentile of request latency"),
    "latency_s.p99": ("s", "99th percentile of request latency"),
    "pending_s.mean": ("s", "mean time a request waits for a slot"),
    "pending_s.p50": ("s", "median time a request waits for a slot"),
    "pending_s.p95": ("s", "95th percentile of the time a request waits for a slot"),
    "pending_s.p99": ("s", "99th percentile of the time a request waits for a slot"),
    "cold_starts.count": ("starts", "instance starts that became ready"),
    "cold_starts.latency_s.mean": ("s", "mean cold start, start requested to ready"),
    "cold_starts.latency_s.p50": ("s", "median cold start"),
    "cold_starts.latency_s.p95": ("s", "95th percentile of cold starts"),
    "cold_starts.latency_s.p99": ("s", "99th percentile of cold starts"),
    "cold_starts.latency_s.max": ("s", "longest cold start"),
    "cold_starts.kms_wait_s.mean": ("s", "mean time a start spends on key operations (incl. retries)"),
    "cold_starts.kms_wait_s.p50": ("s", "median time a start spends on key operations"),
    "cold_starts.kms_wait_s.p95": ("s", "95th percentile of the time a start spends on key operations"),
    "cold_starts.kms_wait_s.p99": ("s", "99th percentile of the time a start spends on key operations"),
    "cold_starts.kms_wait_s.max": ("s", "longest time a start spent on key operations"),
    "instance_starts_failed.key_disabled": ("starts", "starts failed: key version disabled"),
    "instance_starts_failed.key_destroyed": ("starts", "starts failed: key version destroyed"),
    "instance_starts_failed.key_destroy_scheduled": ("starts", "starts failed: key version scheduled for destruction"),
    "instance_starts_failed.quota_exceeded": ("starts", "starts failed: KMS quota exceeded (RESOURCE_EXHAUSTED)"),
    "instance_starts_failed.permission_denied": ("starts", "starts failed: the service agent lacks the key role"),
    "instance_starts_failed.ekm_non_retryable": ("starts", "starts failed: non-retryable external key manager error"),
    "instances.mean_ready": ("instances", "time-average of ready instances"),
    "instances.peak_ready": ("instances", "most ready instances at once"),
    "instances.shut_down_by_key_revocation": ("instances", "ready instances shut down because the key became unusable"),
    "instances.starts_aborted_by_revocation": ("instances", "starting instances stopped by the revocation countdown"),
    "capacity.desired_instance_s": ("instance·s", "integral of the desired instances over time"),
    "capacity.ready_instance_s": ("instance·s", "integral of the ready instances over time"),
    "capacity.shortfall_instance_s": ("instance·s", "integral of max(0, desired - ready) over time"),
    "capacity.shortfall_fraction": ("fraction", "shortfall_instance_s / desired_instance_s (0 when nothing desired)"),
    "cpu.saturated_instance_s": ("instance·s", "integral of the ready instances whose CPU demand (requests x "
                                 "cpu_per_request) exceeds their vCPUs"),
    "deploys.succeeded": ("deploys", "deploys that created a serving revision"),
    "deploys.failed": ("deploys", "deploys that failed (key unusable)"),
    "pending_timeout_s": ("s", "the pending timeout in force at the end of the run (a setting, or resolved "
                               "from auto)"),
    "pending_timeout_max_s": ("s", "the longest pending timeout in force during the run (auto with the "
                                   "observed basis follows the starts)"),
    "capacity_loss.ready_instance_s": ("instance·s", "ready instance-seconds below the twin (null: no twin)"),
    "capacity_loss.extra_failed_requests": ("requests", "failed requests minus the twin's (null: no twin)"),
    "capacity_loss.extra_cold_start_p99_s": ("s", "cold-start p99 minus the twin's (null: no twin or no starts)"),
    "cost.billable_instance_s": ("instance·s", "billable instance time: request-based, starting or serving >= 1 "
                                 "request (busy spans rounded up to 100 ms); instance-based, start to stop"),
    "cost.vcpu_seconds": ("vCPU·s", "billable instance time x cpu"),
    "cost.gib_seconds": ("GiB·s", "billable instance time x memory"),
    "cost.idle_min_instance_s": ("instance·s", "request-based: idle instances kept by min_instances, billed at "
                                 "the idle rate: min(ready, min_instances) - min(busy, min_instances) over time "
                                 "(0 under instance-based billing)"),
    "cost.idle_vcpu_seconds": ("vCPU·s", "idle_min_instance_s x cpu"),
    "cost.idle_gib_seconds": ("GiB·s", "idle_min_instance_s x memory"),
    "cost.requests": ("requests", "requests billed (every arrival after the warmup)"),
    "cost.kms_operations.software": ("operations", "successful key operations on software keys"),
    "cost.kms_operations.hsm": ("operations", "successful key operations on HSM keys"),
    "cost.kms_operations.external": ("operations", "successful key operations on external keys (EKM, incl. VPC)"),
    "cost.usd.cpu": ("USD", "vcpu_seconds x pricing's vcpu_second of the service's billing"),
    "cost.usd.memory": ("USD", "gib_seconds x pricing's gib_second of the service's billing"),
    "cost.usd.idle_cpu": ("USD", "idle_vcpu_seconds x pricing.request_based.idle_vcpu_second"),
    "cost.usd.idle_memory": ("USD", "idle_gib_seconds x pricing.request_based.idle_gib_second"),
    "cost.usd.requests": ("USD", "requests / 1e6 x pricing's per_million_requests of the service's billing"),
    "cost.usd.kms": ("USD", "key operations / 1e4 x pricing.kms_per_10k_operations by protection level"),
    "cost.usd.total": ("USD", "cpu + memory + idle_cpu + idle_memory + requests + kms"),
    "cost.total_usd": ("USD", "the run's cost of the service (= usd.total; free tiers ignored)"),
    "cost.usd_per_month": ("USD", "total_usd scaled to 30 days (720 h) of the simulated span after the warmup, "
                           "at the scenario's traffic"),
}

# The figures of one window: runs[i]["services"][name]["windows"][window][path] (sim/windows.py: the windows;
# `METRIC@WINDOW` in an SLO or --metric names them). Requests are counted by arrival in [start_s, end_s),
# the warmup does not apply. Other service figures have no per-window value (parse refuses them).
WINDOW_METRICS: dict[str, tuple[str, str]] = {
    "start_s": ("s", "the window's start, on a whole second"),
    "end_s": ("s", "the window's end (excluded), on a whole second"),
    "requests.arrived": ("requests", "requests that arrived in the window"),
    "requests.served": ("requests", "requests of the window answered successfully"),
    "requests.failed_429": ("requests", "requests of the window failed with 429"),
    "requests.failed_504": ("requests", "requests of the window failed with 504"),
    "requests.failed_shutdown": ("requests", "requests of the window failed by a shutdown of their instance"),
    "requests.failed": ("requests", "failed_429 + failed_504 + failed_shutdown of the window"),
    "requests.failed_fraction": ("fraction", "failed over arrived in the window; 0 when none arrived"),
    "latency_s.mean": ("s", "mean latency of the window's requests that were served"),
    "latency_s.p50": ("s", "median latency of the window's served requests"),
    "latency_s.p95": ("s", "95th percentile of the latency of the window's served requests"),
    "latency_s.p99": ("s", "99th percentile of the latency of the window's served requests"),
    "capacity.desired_instance_s": ("instance·s", "integral of the desired instances over the window"),
    "capacity.shortfall_instance_s": ("instance·s", "integral of max(0, desired - ready) over the window"),
    "capacity.shortfall_fraction": ("fraction", "shortfall over desired instance-seconds in the window "
                                    "(0 when nothing desired)"),
}

# The KMS figures of a run with fixed names: runs[i]["kms"][path]. Besides these, "operations_by_reason" and
# "errors_by_code" count operations by audit reason and error code (keys vary), and "quota_pools" holds
# POOL_METRICS per pool.
KMS_METRICS: dict[str, tuple[str, str]] = {
    "operations": ("requests", "the services' key operations (admitted or not)"),
    "peak_per_second": ("requests", "most of the services' key operations in one second"),
    "peak_per_minute": ("requests", "most of the services' key operations in one minute"),
    "resource_exhausted": ("requests", "the services' key operations refused with RESOURCE_EXHAUSTED (quota)"),
}
KMS_GROUPS = ("operations_by_reason", "errors_by_code", "quota_pools")

# The figures of one quota pool: runs[i]["kms"]["quota_pools"]["<project>/<hsm|external>"].
POOL_METRICS: dict[str, tuple[str, str]] = {
    "enforcement": ("text", "per-second or per-minute"),
    "requests_per_minute": ("requests/min", "the base quota (quota-change faults aside)"),
    "admitted_services": ("requests", "the services' key operations admitted (whole run)"),
    "rejected_services": ("requests", "the services' key operations refused, RESOURCE_EXHAUSTED (whole run)"),
    "admitted_background": ("requests", "other consumers' requests admitted (whole run)"),
    "rejected_background": ("requests", "other consumers' requests refused (whole run)"),
    "quota_enforcement": ("text", "soft (HSM since 2026-02-16: served over the quota while the region has "
                          "spare capacity) or hard (EKM always; HSM with hsm_enforcement: hard)"),
    "soft_headroom": ("multiple", "the requests a window serves at most, as a multiple of its quota "
                      "(kms.quota.soft_headroom; 1 for a hard pool)"),
    "served_over_quota_services": ("requests", "the services' key operations admitted over the quota, on the "
                                   "soft headroom (part of admitted_services; whole run)"),
    "served_over_quota_background": ("requests", "other consumers' requests admitted over the quota (part of "
                                     "admitted_background; whole run)"),
    "peak_admitted_per_second": ("requests", "most requests admitted in one second (whole run)"),
    "peak_admitted_per_minute": ("requests", "most requests admitted in one minute (whole run)"),
    "peak_requested_per_second": ("requests", "most requests that met the quota in one second, admitted or "
                                  "refused: the services' and the background (whole run)"),
    "peak_requested_per_minute": ("requests", "most requests that met the quota in one minute, admitted or "
                                  "refused: the services' and the background (whole run)"),
}

FAILED_PARTS = ("failed_429", "failed_504", "failed_shutdown")


def failed_requests(counts):
    """Failed requests = failed_429 + failed_504 + failed_shutdown, of a summary's `requests` (numbers) or of
    time-series columns (arrays); a missing failed_shutdown (older result files) counts as 0."""
    return counts["failed_429"] + counts["failed_504"] + counts.get("failed_shutdown", 0)


def failed_fraction(counts: dict) -> float:
    """Failed requests over arrived requests of a summary's `requests`; 0 when nothing arrived (an SLO
    `failed_fraction<=x` then holds: no request was turned away)."""
    arrived = counts["arrived"]
    return failed_requests(counts) / arrived if arrived else 0.0


def _tree(paths) -> dict:
    """Nested dicts of the dotted paths, leaves None, in declaration order."""
    root: dict = {}
    for path in paths:
        node = root
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = None
    return root


def service_template() -> dict:
    """A service summary's shape (every leaf None) without its windows: what SLO paths are checked against."""
    return _tree(SERVICE_METRICS)


def window_template() -> dict:
    """One window's figures' shape (every leaf None): what `METRIC@WINDOW` paths are checked against."""
    return _tree(WINDOW_METRICS)


def leaf_paths(tree: dict, prefix: str = "") -> list[str]:
    """Dotted paths of the leaves of nested dicts (e.g. of a real service summary)."""
    out = []
    for k, v in tree.items():
        path = f"{prefix}.{k}" if prefix else k
        out.extend(leaf_paths(v, path) if isinstance(v, dict) else [path])
    return out
