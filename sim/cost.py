"""A service's `cost` section: its billable instance time, requests and key operations, priced.

Pure arithmetic on what the model recorded (a leaf: no simpy). Instance time is billed by the service's
`billing` setting (model/billing.py says what each counts); vCPU-seconds and GiB-seconds are that time
times the service's `cpu` and `memory`; under request-based billing the idle minimum instances
(model/billing.py) are priced apart, at the idle rate (`idle_*` figures; 0 under instance-based billing,
which bills the whole lifetime already); every request that arrived counts (429s included: an upper bound);
key operations are the service's successful cryptographic operations by the key's protection level.
Prices come from the scenario's `pricing:` section (defaults: list prices; free tiers ignored; key
versions' monthly fees left out: they belong to the key, not to a run of a service). `usd_per_month` scales
the run's cost to 30 days (720 h) at the scenario's traffic: as if the simulated span, faults included,
repeated for a month (what lets a solve or sweep report put a level's cost beside its capacity).
"""
from __future__ import annotations

LEVELS = ("software", "hsm", "external")
MONTH_S = 30 * 86_400       # a month of 30 days (720 h), the usual unit of a cloud bill


def level_of(protection: str) -> str:
    """The KMS price level of a key's protection level (external-vpc is priced as external)."""
    return "external" if protection.startswith("external") else protection


def service_cost(spec, pricing, billable_s: dict, requests: int, kms_operations: dict, span_s: float) -> dict:
    """billable_s: {"request": s, "instance": s, "idle_min": s} (model/billing.py); kms_operations: {level: count};
    span_s: the simulated time the figures cover (after the warmup), to scale the cost to a month."""
    by_request = spec.billing == "request"
    plan = pricing.request_based if by_request else pricing.instance_based
    instance_s = billable_s[spec.billing]
    idle_s = billable_s.get("idle_min", 0.0) if by_request else 0.0
    gib = spec.memory / 1024.0
    vcpu_s, gib_s = instance_s * spec.cpu, instance_s * gib
    idle_vcpu_s, idle_gib_s = idle_s * spec.cpu, idle_s * gib
    ops = {level: int(kms_operations.get(level, 0)) for level in LEVELS}
    usd = {"cpu": vcpu_s * plan.vcpu_second,
           "memory": gib_s * plan.gib_second,
           "idle_cpu": idle_vcpu_s * pricing.request_based.idle_vcpu_second if by_request else 0.0,
           "idle_memory": idle_gib_s * pricing.request_based.idle_gib_second if by_request else 0.0,
           "requests": requests / 1e6 * plan.per_million_requests,
           "kms": sum(ops[level] / 1e4 * getattr(pricing.kms_per_10k_operations, level) for level in LEVELS)}
    usd["total"] = usd["cpu"] + usd["memory"] + usd["idle_cpu"] + usd["idle_memory"] + usd["requests"] + usd["kms"]
    return {"billable_instance_s": instance_s, "vcpu_seconds": vcpu_s, "gib_seconds": gib_s,
            "idle_min_instance_s": idle_s, "idle_vcpu_seconds": idle_vcpu_s, "idle_gib_seconds": idle_gib_s,
            "requests": requests, "kms_operations": ops, "usd": usd, "total_usd": usd["total"],
            "usd_per_month": usd["total"] * MONTH_S / span_s if span_s > 0 else 0.0}
