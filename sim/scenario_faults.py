"""Scenario faults: what happens to keys, the EKM, KMS, quota, IAM and deployments at a time `at`.

`Fault` is the union the `faults` list holds, told apart by `kind`; `FAULT_KINDS` names every kind.
"""

from __future__ import annotations

import typing
from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from sim.scenario_types import DistType, Number, Seconds, Text, _Model
from sim.units import InputError

RETRYABLE_EKM_DOMAINS = frozenset(
    {"TIMEOUT", "UNREACHABLE_NETWORK", "OVERLOADED_EKM", "EXTERNAL_RESOURCE_EXHAUSTED", "REQUEST_CANCELLED"})
NON_RETRYABLE_EKM_DOMAINS = frozenset(
    {"EXTERNAL_PERMISSION_DENIED", "EXTERNAL_NOT_FOUND", "EXTERNAL_KEY_URI_INVALID", "TLS_CERT",
     "EXTERNAL_SERVER_ERROR", "DECRYPTION_FAILED"})
EkmDomain = Literal[
    "TIMEOUT", "UNREACHABLE_NETWORK", "OVERLOADED_EKM", "EXTERNAL_RESOURCE_EXHAUSTED", "REQUEST_CANCELLED",
    "EXTERNAL_PERMISSION_DENIED", "EXTERNAL_NOT_FOUND", "EXTERNAL_KEY_URI_INVALID", "TLS_CERT",
    "EXTERNAL_SERVER_ERROR", "DECRYPTION_FAILED",
]


# ---------------------------------------------------------------------------------------------------------
# Faults: data applied at `at`; the model gives each kind a small process.

class _Fault(_Model):
    at: Seconds(ge=0)


class KeyFault(_Fault):
    """A change of the key version's state."""

    kind: Literal["key-disable", "key-enable", "key-schedule-destroy", "key-restore", "key-destroy"]
    key: Text


class EkmOutage(_Fault):
    """The external key manager answers with an error domain for `duration` (key None: every external key)."""

    kind: Literal["ekm-outage"]
    duration: Seconds(gt=0)
    error: EkmDomain
    key: Union[Text, None] = None

    @property
    def retryable(self) -> bool:
        return self.error in RETRYABLE_EKM_DOMAINS


class EkmLatency(_Fault):
    """The external key manager answers with another latency for `duration`."""

    kind: Literal["ekm-latency"]
    duration: Seconds(gt=0)
    latency: DistType
    key: Union[Text, None] = None


class KmsOutage(_Fault):
    """Cloud KMS itself answers UNAVAILABLE (retryable) for `duration`."""

    kind: Literal["kms-outage"]
    duration: Seconds(gt=0)


class QuotaChange(_Fault):
    """New quota limits, for `duration` (None: for the rest of the run)."""

    kind: Literal["quota-change"]
    hsm_requests_per_minute: Union[Number(gt=0), None] = None
    external_requests_per_minute: Union[Number(gt=0), None] = None
    duration: Union[Seconds(gt=0), None] = None

    @model_validator(mode="after")
    def _some_quota(self):
        if self.hsm_requests_per_minute is None and self.external_requests_per_minute is None:
            raise InputError("needs hsm_requests_per_minute or external_requests_per_minute (or both)")
        return self


class KmsBackgroundLoad(_Fault):
    """Extra Poisson consumers of the same KMS quota for `duration`."""

    kind: Literal["kms-background-load"]
    duration: Seconds(gt=0)
    rps: Number(ge=0)


class IamFault(_Fault):
    """The service agent loses (revoke) or regains (grant) the encrypter/decrypter role."""

    kind: Literal["iam-revoke", "iam-grant"]
    service: Text


class DeployFault(_Fault):
    """A new revision of `service`. encryption_key omitted: keep the current key; null: Google-managed."""

    kind: Literal["deploy"]
    service: Text
    encryption_key: Union[Text, None] = None

    @property
    def keep_current_key(self) -> bool:
        """True when the fault does not say which key the new revision uses."""
        return "encryption_key" not in self.model_fields_set


Fault = Annotated[
    Union[KeyFault, EkmOutage, EkmLatency, KmsOutage, QuotaChange, KmsBackgroundLoad, IamFault, DeployFault],
    Field(discriminator="kind")]
_FAULT_CLASSES = {kind: cls for cls in typing.get_args(typing.get_args(Fault)[0])
                  for kind in typing.get_args(cls.model_fields["kind"].annotation)}
FAULT_KINDS = tuple(_FAULT_CLASSES)
