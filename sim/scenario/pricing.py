"""The `pricing:` section: list prices in USD that a run's `cost` figures are priced with.

Defaults are the published list prices (Cloud Run, Tier 1 regions; Cloud KMS), looked up on 2026-12-01; the
README's assumptions table gives each with its source. Free tiers are ignored (they are per billing
account and month, not per service or run). A planner with negotiated or other-region prices overrides
them; a negative price is refused.
"""
from __future__ import annotations

from sim.scenario.types import Number, StrictModel

Price = Number(ge=0)


class RequestBased(StrictModel):
    """Cloud Run with request-based billing (the default): instance time while starting or serving."""
    vcpu_second: Price = 0.000024
    gib_second: Price = 0.0000025
    per_million_requests: Price = 0.40


class InstanceBased(StrictModel):
    """Cloud Run with instance-based billing: the whole lifetime of each instance, no per-request fee."""
    vcpu_second: Price = 0.000018
    gib_second: Price = 0.000002
    per_million_requests: Price = 0.0


class KmsOperationPrices(StrictModel):
    """Cloud KMS cryptographic operations, USD per 10,000, by the key's protection level (AES-256 keys)."""
    software: Price = 0.03
    hsm: Price = 0.03
    external: Price = 0.03


class Pricing(StrictModel):
    request_based: RequestBased = RequestBased()
    instance_based: InstanceBased = InstanceBased()
    kms_per_10k_operations: KmsOperationPrices = KmsOperationPrices()
