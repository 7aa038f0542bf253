"""Cloud KMS and Cloud EKM as the services see them: one call = one key operation.

A call is decided when it reaches KMS, in the order a request meets the checks: Cloud KMS reachable
(`kms-outage` -> UNAVAILABLE, retryable), the quota of the key's project and protection level (software
keys use none; a rejected request consumes nothing), then the key-side rule (`Kms.key_refusal`: the
project's service agent's IAM binding on the key, the key version's state, for external keys an external
key manager outage), and for external keys the EKM latency against the 150 ms timeout. The key-side rule is the one
place that says whether a key works: the calls use it, and so does the `key_usable` time-series column.
Latencies are drawn for every call, whatever its outcome, so that faults do not shift the draws of later
calls. A caller is a small `KmsCaller` context (who calls, its random streams), not a service.

The IAM binding lives here, once: the service agent is one per project and its role is granted on the
key (DOMAIN.md section 9), so `revoked_keys` holds the keys whose binding is revoked, for every service of
the project that uses them. Only `World.set_iam(key_id, granted)` (the iam-revoke / iam-grant faults)
changes it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..cost import level_of
from ..scenario.constants import RETRYABLE_EKM_DOMAINS
from .failures import StartFailure
from .keys import FAILURE_BY_STATE, KeyState
from .records import AuditRecord
from .recording import SecondCounts
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
# The kms_usage.csv column each reason's operations are counted in.
USAGE_CATEGORY = {REASON_START_LAYER: "starts", REASON_START_DEK: "starts", REASON_VALIDATE_ENCRYPT: "validation",
                  REASON_VALIDATE_DECRYPT: "validation", REASON_DEPLOY: "deploy"}


@dataclass(frozen=True, slots=True)
class KeyOpResult:
    code: int                 # gRPC code, 0 for OK
    message: str              # status message as KMS would return it
    retryable: bool
    failure: StartFailure | None  # why a start fails on this error (None: retryable or OK)
    latency: float
    domain: str | None = None  # EKM error domain, when the external key manager answered with one
    over_quota: bool = False   # admitted over the quota (a soft-enforced pool's headroom)

    @property
    def ok(self) -> bool:
        return self.code == 0

    @property
    def status(self) -> str:
        return GRPC_CODES[self.code]


@dataclass(slots=True)
class KmsCaller:
    """Who makes a key operation: the service's name and its latency streams."""
    name: str
    rng_kms: object
    rng_ekm: object




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
        self.on_key_disabled = None       # callback(t, key): the EKM disabled a key version (fault_events.csv)
        self.revoked_keys: set[str] = set()   # key ids the project's service agent has lost its role on

    def set_iam(self, key_id: str, granted: bool) -> None:
        """The project's service agent gains or loses cryptoKeyEncrypterDecrypter on the key."""
        if granted:
            self.revoked_keys.discard(key_id)
        else:
            self.revoked_keys.add(key_id)

    def pool_for(self, key):
        if key.protection == "software":
            return None
        return self.pools[(key.spec.project, "hsm" if key.protection == "hsm" else "external")]

    def request(self, caller: KmsCaller, key, method: str, reason: str) -> KeyOpResult:
        """One key operation by `caller`, decided and counted now; it completes `result.latency` later."""
        now = self.env.now
        result = self.decide(caller, key, now, method)
        pool = self.pool_for(key)
        self.stats.record(now, caller.name, key, method, reason, result, pool.name if pool else "software")
        return result

    def key_refusal(self, caller: KmsCaller, key, t: float, method: str = "Decrypt") -> KeyOpResult | None:
        """The key-side rule: IAM (the project's service agent on this key), then the key version's state,
        then an EKM outage (external keys).

        None when the key itself would serve the call. Latency is left at 0: the caller adds its own."""
        if key.id in self.revoked_keys:
            use = "useToEncrypt" if method == "Encrypt" else "useToDecrypt"
            return KeyOpResult(7, f"Permission 'cloudkms.cryptoKeyVersions.{use}' denied on "
                                  f"resource '{key.name}' (or it may not exist).",
                               False, StartFailure.PERMISSION_DENIED, 0.0)
        state = key.state_at(t)
        if state is not KeyState.ENABLED:
            return KeyOpResult(9, f"{key.version_name} is not enabled, current state is: {state.value}.",
                               False, FAILURE_BY_STATE[state], 0.0)
        if key.is_external:
            outage = active(self.ekm_outages, t, key.id)
            if outage is not None:
                domain = outage.error
                retryable = domain in RETRYABLE_EKM_DOMAINS
                return KeyOpResult(9, f"The external key manager returned an error. Error domain: {domain}.",
                                   retryable, None if retryable else StartFailure.EKM_NON_RETRYABLE, 0.0, domain)
        return None

    def key_usable(self, caller: KmsCaller, key, t: float) -> bool:
        """Would a key operation fail for a reason of the key (state, IAM, non-retryable EKM)? (no side effect)"""
        if key is None:
            return True
        refusal = self.key_refusal(caller, key, t)
        return refusal is None or refusal.retryable

    def decide(self, caller: KmsCaller, key, t: float, method: str = "Decrypt") -> KeyOpResult:
        kms_latency = self.latency.sample(caller.rng_kms)
        ekm_latency = None
        if key.is_external:
            changed = active(self.ekm_latency_changes, t, key.id)
            ekm_latency = (changed.latency if changed else self.ekm_latency).sample(caller.rng_ekm)

        if active(self.kms_outages, t) is not None:
            return KeyOpResult(14, "The service is currently unavailable.", True, None, kms_latency)
        pool = self.pool_for(key)
        admitted = pool.try_acquire(t) if pool is not None else "quota"
        if admitted is None:
            return KeyOpResult(8, f"Quota exceeded for quota metric of {pool.name} requests in region.",
                               False, StartFailure.QUOTA_EXCEEDED, kms_latency)
        result = self._after_quota(caller, key, t, method, kms_latency, ekm_latency)
        return replace(result, over_quota=True) if admitted == "over" else result

    def _after_quota(self, caller: KmsCaller, key, t: float, method: str, kms_latency: float,
                     ekm_latency: float | None) -> KeyOpResult:
        """The key-side rule, then the EKM's answer, for a call the quota admitted."""
        refusal = self.key_refusal(caller, key, t, method)
        if refusal is not None:
            if refusal.domain is None:
                return KeyOpResult(refusal.code, refusal.message, False, refusal.failure, kms_latency)
            if refusal.domain == "EXTERNAL_PERMISSION_DENIED" and key.state is not KeyState.DISABLED:
                key.set_state(KeyState.DISABLED, t)   # EKM disables the key version on this error (docs)
                if self.on_key_disabled is not None:
                    self.on_key_disabled(t, key)
            return KeyOpResult(refusal.code, refusal.message, refusal.retryable, refusal.failure,
                               kms_latency + min(ekm_latency, self.ekm_timeout), refusal.domain)
        if ekm_latency is None:
            return KeyOpResult(0, "", False, None, kms_latency)
        if ekm_latency > self.ekm_timeout:
            return KeyOpResult(9, "The external key manager did not respond in time. Error domain: TIMEOUT.",
                               True, None, kms_latency + self.ekm_timeout, "TIMEOUT")
        return KeyOpResult(0, "", False, None, kms_latency + ekm_latency)


# kms_usage.csv's column of the services' failed operations per gRPC code (every code `decide` answers
# other than OK: a new one must get a column; RESOURCE_EXHAUSTED is also split per reason in *_rejected).
FAILURE_COLUMNS = {8: "resource_exhausted", 14: "unavailable", 9: "failed_precondition", 7: "permission_denied"}


class UsageCounts:
    """Key operations of the services in one quota pool and second, by kms_usage.csv column: requested
    (admitted or not) per reason, refused by the quota (RESOURCE_EXHAUSTED) per reason, and failed per
    gRPC code in all (`FAILURE_COLUMNS`)."""
    __slots__ = ("starts", "validation", "deploy", "starts_rejected", "validation_rejected", "deploy_rejected",
                 "resource_exhausted", "unavailable", "failed_precondition", "permission_denied",
                 "served_over_quota")

    def __init__(self):
        self.starts = self.validation = self.deploy = self.resource_exhausted = self.unavailable = 0
        self.starts_rejected = self.validation_rejected = self.deploy_rejected = 0
        self.failed_precondition = self.permission_denied = 0
        self.served_over_quota = 0     # admitted over the quota (soft enforcement), whatever came next


class KmsStats:
    """Every key operation of the services: counts, peaks, and the audit records of the run."""

    def __init__(self, keep_audit: bool, warmup: float):
        self.keep_audit = keep_audit
        self.warmup = warmup                # counts start here; the audit log keeps every operation
        self.audit: list[AuditRecord] = []
        self.operations = 0
        self.by_reason: dict[str, int] = {}
        self.by_code: dict[str, int] = {}
        self.by_second = SecondCounts()
        self.usage: dict[tuple[str, int], UsageCounts] = {}   # (pool, second) -> counts
        self.billable: dict[str, dict[str, int]] = {}        # service -> price level (cost.py) -> successful ops

    def record(self, t, service: str, key, method, reason, result: KeyOpResult, pool: str) -> None:
        if self.keep_audit:
            self.audit.append(AuditRecord(t, service, method, key.name, result.code, result.message, reason))
        sec = int(t)
        counts = self.usage.get((pool, sec))
        if counts is None:
            counts = self.usage[(pool, sec)] = UsageCounts()
        category = USAGE_CATEGORY[reason]
        setattr(counts, category, getattr(counts, category) + 1)
        if result.over_quota:
            counts.served_over_quota += 1
        if result.code == 8:                # RESOURCE_EXHAUSTED: refused by the quota, nothing consumed
            counts.resource_exhausted += 1
            rejected = category + "_rejected"
            setattr(counts, rejected, getattr(counts, rejected) + 1)
        elif result.code:                   # UNAVAILABLE (kms-outage, before the quota), FAILED_PRECONDITION
            column = FAILURE_COLUMNS[result.code]   # (key state, EKM), PERMISSION_DENIED (IAM)
            setattr(counts, column, getattr(counts, column) + 1)
        if t < self.warmup:
            return
        self.operations += 1
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        if result.code:
            self.by_code[result.status] = self.by_code.get(result.status, 0) + 1
        else:                               # billed: a successful cryptographic operation (cost.py)
            levels = self.billable.setdefault(service, {})
            level = level_of(key.protection)
            levels[level] = levels.get(level, 0) + 1
        self.by_second.add(sec)

    def summary(self, pools: dict) -> dict:
        return {
            "operations": self.operations,
            "operations_by_reason": dict(sorted(self.by_reason.items())),
            "peak_per_second": self.by_second.peak_per_second(),
            "peak_per_minute": self.by_second.peak_per_minute(),
            "resource_exhausted": self.by_code.get("RESOURCE_EXHAUSTED", 0),
            "errors_by_code": dict(sorted(self.by_code.items())),
            "quota_pools": {pool.name: pool.summary() for pool in pools.values()},
        }
