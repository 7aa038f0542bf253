"""A service's access to its keys: KMS calls with retry, the start decrypts, validation checks and the
revocation countdown. (The IAM binding is the project's, on the key: Kms holds it.)

Retryable key errors are retried with backoff and jitter for as long as it takes (the platform's retry).
A non-retryable error starts the shutdown countdown where the revocation rules call for one: always for a
non-retryable EKM error, and for a revoked key (disabled, destroyed, scheduled for destruction, IAM) under
the `shut-down` action. Any successful check of the key cancels the countdown. When it ends, the key is
checked once more (one validation encrypt and decrypt); only if that check fails for a reason of the key
(state, IAM, non-retryable EKM) does every instance of a revision on that key stop. Validation checks
follow the current revision: they run while it has a key.
"""
from __future__ import annotations

from .failures import KEY_FAILURES, KEY_REVOKED, StartFailure
from .instance import InstanceState
from .kms import REASON_VALIDATE_DECRYPT, REASON_VALIDATE_ENCRYPT, START_REASONS, KmsCaller

STOPPED = InstanceState.STOPPED


class KeyAccess:
    def __init__(self, env, spec, kms, caller: KmsCaller, rng_jitter, retry, recorder, log_run_error):
        self.env = env
        self.spec = spec
        self.kms = kms
        self.caller = caller
        self.rng_jitter = rng_jitter
        self.retry = retry                            # the scenario's kms.retry
        self.recorder = recorder
        self._log_run_error = log_run_error           # world.log_run_error(t, service, revision, result, key)
        self.pool = None                              # InstancePool, wired by the service
        self.revisions = None                         # Deployer: the current revision
        self._countdowns: dict[str, object] = {}     # key id -> token of the running shutdown countdown

    # -- the key-side rule ---------------------------------------------------------------------------
    def key_usable(self, key, t: float) -> bool:
        return self.kms.key_usable(self.caller, key, t)

    # -- calls ----------------------------------------------------------------------------------------
    def call(self, key, method: str, reason: str):
        """SimPy sub-process: one key operation; returns its KeyOpResult when the call completes."""
        result = self.kms.request(self.caller, key, method, reason)
        self.recorder.kms_operation(self.env.now, result.code)
        yield self.env.timeout(result.latency)
        return result

    def call_with_retry(self, key, method: str, reason: str, inst=None):
        """Retry retryable errors with backoff and jitter, however long it takes (the platform's retry)."""
        retry = self.retry
        backoff = retry.initial_backoff
        while True:
            result = yield from self.call(key, method, reason)
            if inst is not None:
                inst.key_attempts += 1
                if inst.state is STOPPED:
                    return result
            if result.ok or not result.retryable:
                return result
            jitter = 1.0 + retry.jitter * (2.0 * self.rng_jitter.random() - 1.0)
            yield self.env.timeout(backoff * jitter)
            backoff = min(backoff * retry.multiplier, retry.max_backoff)

    def start_decrypts(self, inst, key):
        """The decrypts of one start; returns None on success or the failing KeyOpResult."""
        for i in range(self.spec.key_operations.decrypts_per_start):
            result = yield from self.call_with_retry(key, "Decrypt", START_REASONS[i % 2], inst)
            if inst.state is STOPPED:
                return None
            if not result.ok:
                self._observe_failure(key, result)
                return result
        self._observe_success(key)
        return None

    def log_error(self, t: float, result, key) -> None:
        self._log_run_error(t, self.spec.name, self.revisions.revision.name, result, key)

    # -- validation checks and the revocation countdown -----------------------------------------------
    def validation_loop(self):
        """Encrypt and decrypt dummy data every validation_interval while the current revision has a key
        (it runs for every service: a deploy can move a service onto a key or off it)."""
        env = self.env
        interval, n = self.spec.key_operations.validation_interval, 0
        while True:
            n += 1                                   # on the n x interval grid: the checks' latency never drifts it
            yield env.timeout(max(0.0, n * interval - env.now))
            key = self.revisions.revision.key
            if key is None:
                continue
            failed = yield from self._check(key)
            if failed is not None:
                self._observe_failure(key, failed)

    def _check(self, key):
        """One validation check (an encrypt, then a decrypt): None when the key answered OK or with a
        retryable error only; else the first non-retryable result (logged as Cloud Run logs it)."""
        results = []
        for method, reason in (("Encrypt", REASON_VALIDATE_ENCRYPT), ("Decrypt", REASON_VALIDATE_DECRYPT)):
            results.append((yield from self.call(key, method, reason)))
        failed = [r for r in results if not r.ok and not r.retryable]
        if failed:
            self.log_error(self.env.now, failed[0], key)
            return failed[0]
        if all(r.ok for r in results):
            self._observe_success(key)
        return None

    def _revokes(self, result) -> bool:
        """Does this failure call for the shutdown countdown (the revocation rules)?"""
        return result.failure == StartFailure.EKM_NON_RETRYABLE or (
            self.spec.revocation_action == "shut-down" and result.failure in KEY_REVOKED)

    def _observe_failure(self, key, result) -> None:
        """Start the shutdown countdown where the revocation rules call for one."""
        if key.id in self._countdowns:
            return
        if self._revokes(result):
            token = object()
            self._countdowns[key.id] = token
            self.env.process(self._countdown(key, token))

    def _observe_success(self, key) -> None:
        self._countdowns.pop(key.id, None)           # the key works again: cancel the countdown

    def _countdown(self, key, token):
        """The waiting period, then one last validation check: shut down only if it fails for a reason of
        the key (state, IAM, non-retryable EKM); an OK, or a retryable or quota error, ends the countdown."""
        yield self.env.timeout(self.spec.shutdown_after)
        if self._countdowns.get(key.id) is not token:
            return
        failed = yield from self._check(key)
        if self._countdowns.get(key.id) is not token:
            return                                   # cancelled meanwhile (by this check or another success)
        del self._countdowns[key.id]
        if failed is not None and failed.failure in KEY_FAILURES:
            self.pool.shut_down_key(key)
