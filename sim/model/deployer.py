"""Revisions and deploys of one service.

A deploy makes a new revision; with a key, its deploy encrypt must succeed (retryable errors are retried),
else the deploy fails and the old revision stays. On success, old-revision instances are replaced one for
one (see InstancePool.replace_old_revisions).
"""
from __future__ import annotations

from .kms import REASON_DEPLOY
from .revisions import Revision, revision_name


class Deployer:
    def __init__(self, env, name: str, key, rng_names):
        self.env = env
        self.name = name
        self.rng_names = rng_names
        self.revision = Revision(revision_name(name, 1, rng_names), 1, key)
        self.counts = {"succeeded": 0, "failed": 0}
        self.pool = None                              # InstancePool, wired by the service
        self.key_access = None                        # KeyAccess
        self.on_new_revision = None                   # callback(revision) after a successful deploy

    def deploy(self, key):
        """SimPy process: a new revision on `key` (None: Google-managed encryption)."""
        number = self.revision.number + 1
        if key is not None:
            result = yield from self.key_access.call_with_retry(key, "Encrypt", REASON_DEPLOY)
            if not result.ok:
                self.counts["failed"] += 1
                self.key_access.log_error(self.env.now, result, key)
                return
        self.counts["succeeded"] += 1
        self.revision = Revision(revision_name(self.name, number, self.rng_names), number, key)
        if self.on_new_revision is not None:
            self.on_new_revision(self.revision)
        self.pool.replace_old_revisions(self.env.now)
