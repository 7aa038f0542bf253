"""What the charts need from the model, as rows of result files: the quota in force over time
(quota_in_force.csv) and the faults as windows (fault_windows.csv).

The charts read these files and never re-derive model logic from the scenario.
"""
from __future__ import annotations

# A fault that makes a key unusable lasts until the fault that undoes it (same target), or the end of the run
# (key-restore only brings a scheduled key back to DISABLED: it stays unusable until key-enable).
UNDONE_BY = {"key-disable": ("key-enable",), "key-schedule-destroy": ("key-enable",), "iam-revoke": ("iam-grant",)}
CLOSERS = ("key-enable", "iam-grant")   # drawn as the end of the window they close, not windows of their own


# -- quota in force -----------------------------------------------------------------------------------------
def quota_in_force_rows(world) -> list[dict]:
    """One row per quota pool and stretch of constant quota, covering [0, duration]."""
    duration = float(world.scenario.duration)
    rows = []
    for pool in world.pools.values():
        cuts = sorted({0.0, duration, *(p for p in pool.limits.breakpoints() if 0.0 < p < duration)})
        level = pool.name.rsplit("/", 1)[-1]
        enforcement = "per-second" if pool.window_s == 1.0 else "per-minute"
        mine: list[dict] = []
        for start, end in zip(cuts, cuts[1:]):
            rpm = pool.limits.at(start)
            if mine and mine[-1]["requests_per_minute"] == rpm:
                mine[-1]["end_s"] = end
                continue
            mine.append({"pool": pool.name, "level": level, "enforcement": enforcement, "start_s": start,
                         "end_s": end, "requests_per_minute": rpm, "admitted_per_window": pool.limit_at(start),
                         "window_s": pool.window_s})
        rows.extend(mine)
    return rows


# -- fault windows ------------------------------------------------------------------------------------------
def _target(f) -> str:
    return str(getattr(f, "key", None) or getattr(f, "service", None) or "")


def _describe(f) -> str:
    kind = f.kind
    if kind == "ekm-outage":
        return f"ekm-outage {f.error}" + (f" ({f.key})" if f.key else "")
    if kind == "quota-change":
        parts = [f"{k.split('_')[0]} {getattr(f, k):g}/min"
                 for k in ("hsm_requests_per_minute", "external_requests_per_minute") if getattr(f, k) is not None]
        return "quota-change " + ", ".join(parts)
    if kind == "ekm-latency":
        lat = f.latency.to_spec() if f.latency is not None else {}
        parts = [f"{k} {float(lat[k]) * 1000:g} ms" for k in ("median", "p99", "mean", "value") if k in lat]
        return "ekm-latency" + (f" ({', '.join(parts)})" if parts else "") + (f" ({f.key})" if f.key else "")
    if kind == "kms-background-load":
        return f"kms-background-load +{f.rps:g}/s"
    if kind == "deploy":
        key = "same key" if f.keep_current_key else (f.encryption_key or "Google-managed")
        return f"deploy {f.service} ({key})"
    return f"{kind} {_target(f)}".strip()


def fault_window_rows(scenario, fault_log=()) -> list[dict]:
    """The scenario's faults as windows: durations, or state changes until they are undone (end_s None: an
    instant, e.g. a deploy). `fault_log` (the run's (time, kind, target, applied) records) marks the state
    changes that had no effect."""
    faults = list(scenario.faults)
    duration = float(scenario.duration)
    not_applied = {(round(float(t), 6), kind, str(target)) for t, kind, target, applied in fault_log if not applied}
    rows: list[dict] = []
    for i, f in enumerate(faults):
        kind, at = f.kind, float(f.at)
        if kind in CLOSERS:
            continue
        label = _describe(f)
        end: float | None = None
        if (round(at, 6), kind, _target(f)) in not_applied:
            label += " (no effect)"
        elif getattr(f, "duration", None) is not None:
            end = at + float(f.duration)
        elif kind in UNDONE_BY or kind in ("key-destroy", "quota-change"):
            end = duration
            for g in faults[i + 1:]:
                if g.kind in UNDONE_BY.get(kind, ()) and _target(g) == _target(f) and float(g.at) >= at:
                    end = float(g.at)
                    label += f" until {g.kind}"
                    break
        rows.append({"number": len(rows) + 1, "kind": kind, "target": _target(f), "start_s": at,
                     "end_s": None if end is None else min(end, duration), "label": label})
    return rows
