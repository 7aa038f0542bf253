"""Named random streams.

Every source of randomness has its own numpy Generator, derived from (seed, replication, stream index,
owner index) through SeedSequence spawn keys. A change in one part of the model (a fault, another
autoscaler) therefore never shifts the draws of another part: the same seed gives the same arrivals, which
makes paired comparisons (a run and its fault-free twin) low-variance.

STREAMS is only ever appended to: reordering it would change every result for a given seed.
"""
from __future__ import annotations

import numpy as np

STREAMS = (
    "arrivals",          # inter-arrival times and thinning draws, per service
    "service_times",     # request service times, per service
    "startup",           # cold-start phase durations, per service
    "kms_latency",       # Cloud KMS operation latency, per service
    "ekm_latency",       # external key manager round trip, per service
    "retry_jitter",      # backoff jitter on retryable key errors, per service
    "routing",           # the `random` router, per service
    "background_kms",    # other consumers of a KMS quota, per quota pool
    "revision_names",    # the random suffix of revision names, per service
    "start_backoff",     # jitter of the failed-start back-off of each slot, per service
)


def stream(seed: int, replication: int, name: str, owner: int = 0) -> np.random.Generator:
    """The generator for stream `name` of `owner` (a service or quota pool index) in one replication."""
    index = STREAMS.index(name)
    seq = np.random.SeedSequence(seed, spawn_key=(replication, index, owner))
    return np.random.Generator(np.random.PCG64(seq))
