"""Cloud KMS and Cloud EKM as the services see them: one call = one key operation.

A call is decided when it reaches KMS, in the order a request meets the checks: Cloud KMS reachable
(`kms-outage` -> UNAVAILABLE, retryable), the quota of the key's project and protection level (software
keys use none; a rejected request consumes nothing), the service agent's IAM permission, the key version's
state, and for external keys the external key manager (outages by error domain, latency against the 150 ms
timeout). Latencies are drawn for every call, whatever its outcome, so that faults do not shift the draws
of later calls.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..scenario.constants import RETRYABLE_EKM_DOMAINS
from .keys import FAILURE_BY_STATE, KeyState
from .schedule import active, windows


GRPC_CODES = {0: "OK", 4: "DEADLINE_EXCEEDED", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
              9: "FAILED_PRECONDITION", 14: "UNAVAILABLE"}

# Reason strings Cloud Run records in the audit log (exact, typo included; DOMAIN.md section 1).
REASON_START_LAYER = "Decrypting CMEK-encrypted layer during container clone start."
REASON_START_DEK = ("Decrypting an existing encrypted data-encryption-key, under the same "
                    "customer-managed-encryption-key, to be used to encrypt container contents.")
REASON_DEPLOY = "Encrypting a newly created data-encryption-key w/ the customer-managed-encryption-key."
REASON_VALIDATE_ENCRYPT = ("Performing an encrypt operation on dummy data to check the "
                           "customer-managed-encryption-key status and access.")
REASON_VALIDATE_DECRYPT = ("Performing an decrypt operation on dummy data to check the "
                           "customer-managed-encryption-key status and access.")
START_REASONS = (REASON_START_LAYER, REASON_START_DEK)
# kms_usage.csv columns the services' operations are counted in: starts, validation, deploy.
USAGE_CATEGORY = {REASON_START_LAYER: 0, REASON_START_DEK: 0, REASON_VALIDATE_ENCRYPT: 1,
                  REASON_VALIDATE_DECRYPT: 1, REASON_DEPLOY: 2}


@dataclass(frozen=True, slots=True)
class KeyOpResult:
    code: int                 # gRPC code, 0 for OK
    message: str              # status message as KMS would return it
    retryable: bool
    failure: str | None       # the summary's instance_starts_failed name, for errors that fail a start
    latency: float
    domain: str | None = None  # EKM error domain, when the external key manager answered with one

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def status(self) -> str:
        return GRPC_CODES[self.code]


class Kms:
    def __init__(self, env, scenario, keys: dict, pools: dict, stats):
        self.env = env
        self.keys = keys                  # key id -> KeyVersion
        self.pools = pools                # (key project, "hsm" | "external") -> QuotaPool
        self.stats = stats                # KmsStats
        self.latency = scenario.kms.latency
        self.ekm_latency = scenario.kms.ekm.latency
        self.ekm_timeout = scenario.kms.ekm.timeout
        self.kms_outages = windows(scenario.faults, "kms-outage")
        self.ekm_outages = windows(scenario.faults, "ekm-outage")
        self.ekm_latency_changes = windows(scenario.faults, "ekm-latency")

    def pool_for(self, key):
        if key.protection == "software":
            return None
        return self.pools[(key.spec.project, "hsm" if key.protection == "hsm" else "external")]

    def call(self, caller, key, method: str, reason: str):
        """SimPy sub-process: one key operation by service `caller`; returns its KeyOpResult."""
        result = self.decide(caller, key, self.env.now)
        pool = self.pool_for(key)
        self.stats.record(self.env.now, caller, key, method, reason, result, pool.name if pool else "software")
        yield self.env.timeout(result.latency)
        return result

    def decide(self, caller, key, t: float) -> KeyOpResult:
        kms_latency = self.latency.sample(caller.rng_kms)
        ekm_latency = None
        if key.is_external:
            changed = active(self.ekm_latency_changes, t, key.id)
            ekm_latency = (changed.latency if changed else self.ekm_latency).sample(caller.rng_ekm)

        if active(self.kms_outages, t) is not None:
            return KeyOpResult(14, "The service is currently unavailable.", True, None, kms_latency)
        pool = self.pool_for(key)
        if pool is not None and not pool.try_acquire(t):
            return KeyOpResult(8, f"Quota exceeded for quota metric of {pool.name} requests in region.",
                               False, "quota_exceeded", kms_latency)
        if not caller.iam_granted:
            return KeyOpResult(7, f"Permission 'cloudkms.cryptoKeyVersions.useToDecrypt' denied on "
                                  f"resource '{key.name}' (or it may not exist).",
                               False, "permission_denied", kms_latency)
        state = key.state_at(t)
        if state is not KeyState.ENABLED:
            return KeyOpResult(9, f"{key.version_name} is not enabled, current state is: {state.value}.",
                               False, FAILURE_BY_STATE[state], kms_latency)
        if ekm_latency is None:
            return KeyOpResult(0, "", False, None, kms_latency)

        outage = active(self.ekm_outages, t, key.id)
        if outage is not None:
            domain = outage.error
            retryable = domain in RETRYABLE_EKM_DOMAINS
            if domain == "EXTERNAL_PERMISSION_DENIED":
                key.set_state(KeyState.DISABLED, t)   # EKM disables the key version on this error (docs)
            return KeyOpResult(9, f"The external key manager returned an error. Error domain: {domain}.",
                               retryable, None if retryable else "ekm_non_retryable",
                               kms_latency + min(ekm_latency, self.ekm_timeout), domain)
        if ekm_latency > self.ekm_timeout:
            return KeyOpResult(9, "The external key manager did not respond in time. Error domain: TIMEOUT.",
                               True, None, kms_latency + self.ekm_timeout, "TIMEOUT")
        return KeyOpResult(0, "", False, None, kms_latency + ekm_latency)


class KmsStats:
    """Every key operation of the services: counts, peaks, and the audit records of the run."""

    def __init__(self, keep_audit: bool, warmup: float):
        self.keep_audit = keep_audit
        self.warmup = warmup                # counts start here; the audit log keeps every operation
        self.audit: list[tuple] = []        # (t, service, method, key name, code, message, reason)
        self.operations = 0
        self.by_reason: dict[str, int] = {}
        self.by_code: dict[str, int] = {}
        self.by_second: dict[int, int] = {}
        self.usage: dict[tuple[str, int], list[int]] = {}   # (pool, second) -> per-category counts

    def record(self, t, caller, key, method, reason, result: KeyOpResult, pool: str) -> None:
        caller.recorder.kms_operation(t, result.code)
        if self.keep_audit:
            self.audit.append((t, caller.name, method, key.name, result.code, result.message, reason))
        sec = int(t)
        counts = self.usage.setdefault((pool, sec), [0, 0, 0, 0])
        counts[USAGE_CATEGORY[reason]] += 1
        if result.code == 8:
            counts[3] += 1
        if t < self.warmup:
            return
        self.operations += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        if result.code:
            self.by_code[result.status] = self.by_code.get(result.status, 0) + 1
        self.by_second[sec] = self.by_second.get(sec, 0) + 1

    def summary(self, pools: dict) -> dict:
        per_minute: dict[int, int] = {}
        for sec, n in self.by_second.items():
            per_minute[sec // 60] = per_minute.get(sec // 60, 0) + n
        return {
            "operations": self.operations,
            "operations_by_reason": dict(sorted(self.by_reason.items())),
            "peak_per_second": max(self.by_second.values(), default=0),
            "peak_per_minute": max(per_minute.values(), default=0),
            "resource_exhausted": self.by_code.get("RESOURCE_EXHAUSTED", 0),
            "errors_by_code": dict(sorted(self.by_code.items())),
            "quota_pools": {pool.name: pool.summary() for pool in pools.values()},
        }
