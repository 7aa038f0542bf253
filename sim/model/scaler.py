"""The autoscaler loop of one service and the signals its policy reads.

Every `interval` the policy (autoscaler.py) turns the signals into a desired instance count, clamped to
[min_instances, max_instances]. Missing instances come from parked (warm) ones first, then from new starts
(less those backing off after a failed start: start_backoff.py); surplus ones are parked, if the policy
scales in that way.

A warm start (`warm_start: true`) begins the run as if the service had already served its initial rate for
a whole window: the desired count is the policy's steady answer at that rate, and the windows the policy
averages hold that demand before t = 0, so its first decisions do not scale the warm instances in.
"""
from __future__ import annotations

from collections import deque

from .autoscaler import Signals, steady_demand


class Scaler:
    def __init__(self, env, spec, policy, requests, pool):
        self.env = env
        self.spec = spec
        self.policy = policy
        self.requests = requests
        self.pool = pool
        self.desired = spec.min_instances
        self._snapshots: deque = deque([(0.0, 0.0, 0.0)])   # (t, demand area, CPU area) over the window

    def warm_start(self, rate: float) -> int:
        """The instances wanted at a steady `rate` (requests per second), clamped to [min, max]; the desired
        count and the windows are set as if that demand had lasted a window before t = 0."""
        spec = self.spec
        concurrency, cpu = steady_demand(spec, rate)          # Little's law; none of the vCPUs saturated
        wanted = self.policy.steady_desired(concurrency, cpu)
        self.desired = min(spec.max_instances, max(spec.min_instances, wanted))
        w = spec.autoscaling.window
        self._snapshots = deque([(-w, -concurrency * w, -cpu * w), (0.0, 0.0, 0.0)])
        return self.desired

    def at_least(self, n: int) -> None:
        """An on-demand start raised the live count: the desired count follows it."""
        if n > self.desired:
            self.desired = n

    def signals(self, now: float) -> Signals:
        req = self.requests
        instant = req.demand
        ready = self.pool.serving
        if not self.policy.reads_windows:            # the present demand only: no windows to keep
            return Signals(instant, instant, req.cpu_in_use, instant, ready)
        a = self.spec.autoscaling
        snaps = self._snapshots
        snaps.append((now, req.demand_area, req.cpu_area))
        while len(snaps) > 2 and snaps[1][0] <= now - a.window + 1e-9:
            snaps.popleft()

        def average(span: float, index: int) -> float:
            for t, *areas in reversed(snaps):
                if t <= now - span + 1e-9:
                    break
            if now - t <= 0:
                return float(req.demand) if index == 0 else req.cpu_in_use
            return (snaps[-1][1 + index] - areas[index]) / (now - t)

        return Signals(stable_concurrency=average(a.window, 0),
                       panic_concurrency=average(a.window * a.panic_window_percentage / 100.0, 0),
                       cpu=average(a.window, 1),
                       instant_concurrency=instant, ready=ready)

    def loop(self):
        spec, env, pool, requests = self.spec, self.env, self.pool, self.requests
        while True:
            now = env.now
            requests.touch(now)
            decided = self.policy.decide(now, self.signals(now))
            self.desired = min(spec.max_instances, max(spec.min_instances, decided))
            available = pool.live - len(pool.parked)     # starting or serving
            if self.desired > available:
                pool.start_missing(now, self.desired - available - pool.unpark(self.desired - available))
                if requests.pending:
                    requests.dispatch_pending(now)
            else:
                pool.backoff.keep_at_most(0)             # nothing missing: no slot waits any more
                if self.policy.parks_surplus and available > self.desired:
                    pool.park(available - self.desired)
            pool.update_capacity(now)
            yield env.timeout(spec.autoscaling.interval)
