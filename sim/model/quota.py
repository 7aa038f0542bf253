"""KMS request quotas: one pool per (key project, protection level), enforced in fixed windows.

Docs: quotas are per project and region, shown per minute and enforced per second; excess requests get
RESOURCE_EXHAUSTED and consume nothing. `per-second` admits rpm/60 requests per 1 s window on average: each
window's allowance is the whole part of rpm/60 plus the fraction carried over from earlier windows (rpm
read at the window's start; allowance unused in a window is not carried), so never more than ceil(rpm/60)
in one window, and a quota below 60/min still admits one request every 60/rpm seconds. The carry starts
just below 1, so the first window admits ceil(rpm/60). `per-minute` admits at most floor(rpm) in each 60 s
window. Windows are aligned to the start of the run.

Other consumers of the same pool (Cloud SQL, Cloud Storage CMEK...) arrive as a Poisson process; each pool
has its own background (kms.quota.background_rps per protection level, and the kms-background-load faults
on that pool). Their arrival times
are drawn one window at a time, for every window in order, from the pool's own stream; they are merged
with the services' requests lazily, so background load costs no simulation events.

Soft enforcement (HSM pools since 2026-02-16, `kms.quota.hsm_enforcement: soft`): a request over the quota
is still served while the region has spare capacity, modelled as a headroom h (`kms.quota.soft_headroom`,
an assumption; `kms-region-busy` faults lower it for a while): a window serves up to floor((h - 1) x its
quota) requests over the quota (its quota: rpm/60 per second, floor(rpm) per minute; h read at the
request), then refuses. A hard pool (EKM always, HSM when hard) has no headroom, so h = 1 and nothing is
served over the quota: exactly the rule before 2026-02-16. Requests served over the quota are admitted
(they count in the admitted figures and peaks) and are also counted apart, as `served_over_quota_*`.
"""
from __future__ import annotations

import math

import numpy as np

from .recording import SecondCounts


class QuotaPool:
    def __init__(self, name: str, limit_schedule, enforcement: str, background, rng: np.random.Generator,
                 horizon: float, headroom=None):
        self.name = name                      # e.g. "acme-sec/hsm"
        self.horizon = horizon
        self.limits = limit_schedule          # QuotaSchedule: requests per minute over time
        self.window_s = 1.0 if enforcement == "per-second" else 60.0
        self.background = background          # BackgroundLoad
        self.headroom = headroom              # HeadroomSchedule (soft enforcement) or None (hard)
        self.rng = rng
        self._window = -1                     # index of the window being filled
        self._used = 0
        self._allowance = 0                   # per-second: requests the open window admits
        self._carry = 1.0 - 1e-6              # per-second: the fraction of a request carried over
        self._per_second = 0.0                # per-second: rpm/60 at the open window's start
        self._over = 0                        # requests served over the quota in the open window
        self._bg_times: list[float] = []
        self._bg_next = 0
        # Figures for the summary and charts.
        self.admitted_services = 0
        self.rejected_services = 0
        self.admitted_background = 0
        self.rejected_background = 0
        self.served_over_quota_services = 0          # admitted over the quota (soft enforcement)
        self.served_over_quota_background = 0
        self.peak_admitted_per_window = 0
        self.admitted_by_second = SecondCounts()     # services + background, for the peaks
        self.background_by_second = SecondCounts()   # requested background requests (admitted or not)
        self.background_rejected_by_second = SecondCounts()   # refused background requests
        self.services_by_second = SecondCounts()     # the services' requests that met the quota check
        self.background_over_by_second = SecondCounts()   # background requests served over the quota

    def limit_at(self, t: float) -> int:
        """Requests the window holding t admits in all (t must be in the open window for per-second)."""
        if self.window_s == 1.0:
            return self._allowance
        return math.floor(self.limits.at(t) + 1e-9)

    def admitted_per_window_at(self, t: float) -> float:
        """What a window at t admits on average: rpm/60 under per-second enforcement (the fraction is
        carried over), floor(rpm) under per-minute."""
        rpm = self.limits.at(t)
        return rpm / 60.0 if self.window_s == 1.0 else float(math.floor(rpm + 1e-9))

    @property
    def soft(self) -> bool:
        return self.headroom is not None

    def over_quota_allowance(self, t: float) -> int:
        """Requests the window holding t may serve over its quota: floor((h - 1) x the window's quota)."""
        if self.headroom is None:
            return 0
        h = self.headroom.at(t)
        if h <= 1.0:
            return 0
        quota = self._per_second if self.window_s == 1.0 else math.floor(self.limits.at(t) + 1e-9)
        return math.floor((h - 1.0) * quota + 1e-9)

    def try_acquire(self, t: float) -> str | None:
        """One service request at time t: "quota" (admitted within the quota), "over" (admitted over it,
        soft enforcement) or None (refused: RESOURCE_EXHAUSTED); counted."""
        self._advance(t)
        self.services_by_second.add(int(t))
        admitted = self._admission(t)
        if admitted is None:
            self.rejected_services += 1
            return None
        self.admitted_services += 1
        if admitted == "over":
            self.served_over_quota_services += 1
        return admitted

    def finish(self, t_end: float) -> None:
        """Draw and apply the background load up to the end of the run."""
        self._advance(min(t_end, self.horizon) - 1e-9)
        self._drain_background(math.inf)
        self._close_window()

    # -- internals -------------------------------------------------------------------------------------
    def _admission(self, t: float) -> str | None:
        """Admit one request at t if the quota, or else the soft headroom, has room (and count it)."""
        if self._used < self.limit_at(t):
            self._used += 1
            admitted = "quota"
        elif self._over < self.over_quota_allowance(t):
            self._over += 1
            admitted = "over"
        else:
            return None
        self.admitted_by_second.add(int(t))
        return admitted

    def _advance(self, t: float) -> None:
        """Bring the pool to time t: close earlier windows and apply background requests up to t."""
        w = int(t // self.window_s)
        while self._window < w:
            if self._window >= 0:
                self._drain_background(math.inf)
                self._close_window()
            self._window += 1
            self._open_window(self._window)
        self._drain_background(t)

    def _open_window(self, w: int) -> None:
        self._used = self._over = 0
        if self.window_s == 1.0:
            per_second = self._per_second = self.limits.at(float(w)) / 60.0
            credit = self._carry + per_second
            self._allowance = min(math.floor(credit + 1e-9), math.ceil(per_second - 1e-9))
            self._carry = min(max(credit - self._allowance, 0.0), 1.0 - 1e-6)
        a, b = w * self.window_s, min((w + 1) * self.window_s, self.horizon)
        times = []
        for s, e, rate in self.background.pieces(a, b):
            if rate > 0:
                n = self.rng.poisson(rate * (e - s))
                times.extend(self.rng.uniform(s, e, n))
        times.sort()
        self._bg_times = times
        self._bg_next = 0

    def _drain_background(self, t: float) -> None:
        times = self._bg_times
        while self._bg_next < len(times) and times[self._bg_next] <= t:
            bt = times[self._bg_next]
            self._bg_next += 1
            self.background_by_second.add(int(bt))
            admitted = self._admission(bt)
            if admitted is not None:
                self.admitted_background += 1
                if admitted == "over":
                    self.served_over_quota_background += 1
                    self.background_over_by_second.add(int(bt))
            else:
                self.rejected_background += 1
                self.background_rejected_by_second.add(int(bt))

    def _close_window(self) -> None:
        self.peak_admitted_per_window = max(self.peak_admitted_per_window, self._used + self._over)

    def summary(self) -> dict:
        requested = self.requested_by_second()
        return {
            "enforcement": "per-second" if self.window_s == 1.0 else "per-minute",
            "requests_per_minute": self.limits.base,
            "admitted_services": self.admitted_services,
            "rejected_services": self.rejected_services,
            "admitted_background": self.admitted_background,
            "rejected_background": self.rejected_background,
            "quota_enforcement": "soft" if self.soft else "hard",
            "soft_headroom": self.headroom.base if self.soft else 1.0,
            "served_over_quota_services": self.served_over_quota_services,
            "served_over_quota_background": self.served_over_quota_background,
            "peak_admitted_per_second": self.admitted_by_second.peak_per_second(),
            "peak_admitted_per_minute": self.admitted_by_second.peak_per_minute(),
            "peak_requested_per_second": requested.peak_per_second(),
            "peak_requested_per_minute": requested.peak_per_minute(),
        }

    def requested_by_second(self) -> SecondCounts:
        """Every request that met the pool's quota, admitted or refused: the services' and the background."""
        out = SecondCounts()
        for counts in (self.services_by_second, self.background_by_second):
            for sec, n in counts.items():
                out.add(sec, n)
        return out
