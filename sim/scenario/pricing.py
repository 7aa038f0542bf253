"""The `pricing:` section: list prices in USD that a run's `cost` figures are priced with.

Defaults are the published list prices (Cloud Run, Tier 1 regions; Cloud KMS), looked up on 2026-12-01 (the
idle minimum-instance rates on 2026-12-05); the
README's assumptions table gives each with its source. Free tiers are ignored (they are per billing
account and month, not per service or run). A planner with negotiated or other-region prices overrides
them; a negative price is refused.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.scenario.types import Number, Seconds, StrictModel

Price = Number(ge=0)


class RequestBased(StrictModel):
    """Cloud Run with request-based billing (the default): instance time while starting or serving, and idle
    minimum instances at the idle rate."""
    vcpu_second: Price = Field(0.000024, description="USD per vCPU-second of billable instance time")
    gib_second: Price = Field(0.0000025, description="USD per GiB-second of billable instance memory")
    per_million_requests: Price = Field(0.40, description="USD per million requests")
    idle_vcpu_second: Price = Field(0.0000025, description=(
        "USD per vCPU-second of an idle minimum instance (the instances up to min_instances that serve no "
        "request; idle instances above min_instances are not billed)"))
    idle_gib_second: Price = Field(0.0000025, description="USD per GiB-second of an idle minimum instance")


class InstanceBased(StrictModel):
    """Cloud Run with instance-based billing: the whole lifetime of each instance, no per-request fee."""
    vcpu_second: Price = Field(0.000018, description="USD per vCPU-second of billable instance time")
    gib_second: Price = Field(0.000002, description="USD per GiB-second of billable instance memory")
    per_million_requests: Price = Field(0.0, description="USD per million requests")


class KmsOperationPrices(StrictModel):
    """Cloud KMS cryptographic operations, USD per 10,000, by the key's protection level (AES-256 keys)."""
    software: Price = Field(0.03, description="USD per 10,000 operations on a software key")
    hsm: Price = Field(0.03, description="USD per 10,000 operations on an HSM key")
    external: Price = Field(0.03, description="USD per 10,000 operations on an external (EKM) key")


class Pricing(StrictModel):
    """List prices in USD for the `cost` section of each service's summary (defaults: published list prices,
    Tier 1 regions, looked up 2026-12-01; override with your own)."""
    request_based: RequestBased = RequestBased()
    instance_based: InstanceBased = InstanceBased()
    kms_per_10k_operations: KmsOperationPrices = KmsOperationPrices()
    billing_rounding: Seconds(ge=0, le=60) = Field(0.1, description=(
        "request-based billing: each busy span of an instance is rounded up to a multiple of this (Cloud Run "
        "rounds up to the nearest 100 ms; rounding each span is our reading; 0: unrounded)"))
    billed_start: Literal["container", "request"] = Field("container", description=(
        "request-based billing: where an instance's billed start begins: container (when its container starts, "
        "after scheduling, the image fetch and the key operations that decrypt it: no container runs before; "
        "our reading of 'billed when they start') or request (the start request: every second an instance "
        "waits on a slow or unreachable key is billed)"))
