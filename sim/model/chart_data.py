"""What the charts need from the model, as rows of result files: the quota in force over time
(quota_in_force.csv) and the faults as windows (fault_windows.csv).

The charts read these files and never re-derive model logic from the scenario.
"""
from __future__ import annotations

from ..scenario import fault_windows


# -- quota in force -----------------------------------------------------------------------------------------
def quota_in_force_rows(world) -> list[dict]:
    """One row per quota pool and stretch of constant quota and soft headroom, covering [0, duration].
    `soft_headroom` is the multiple of the quota a soft-enforced pool serves at best (1: hard)."""
    duration = float(world.scenario.duration)
    rows = []
    for pool in world.pools.values():
        busy = [p for w in pool.headroom.busy for p in (w.start, w.end)] if pool.soft else []
        cuts = sorted({0.0, duration, *(p for p in (*pool.limits.breakpoints(), *busy) if 0.0 < p < duration)})
        level = pool.name.rsplit("/", 1)[-1]
        enforcement = "per-second" if pool.window_s == 1.0 else "per-minute"
        mine: list[dict] = []
        for start, end in zip(cuts, cuts[1:]):
            rpm = pool.limits.at(start)
            headroom = pool.headroom.at(start) if pool.soft else 1.0
            if mine and (mine[-1]["requests_per_minute"], mine[-1]["soft_headroom"]) == (rpm, headroom):
                mine[-1]["end_s"] = end
                continue
            mine.append({"pool": pool.name, "level": level, "enforcement": enforcement, "start_s": start,
                         "end_s": end, "requests_per_minute": rpm,
                         "admitted_per_window": pool.admitted_per_window_at(start),
                         "window_s": pool.window_s, "soft_headroom": headroom})
        rows.extend(mine)
    return rows


# -- fault windows ------------------------------------------------------------------------------------------
def fault_window_rows(scenario, fault_log=()) -> list[dict]:
    """The scenario's faults as windows (the registry's `fault_windows`: durations, or state changes until
    they are undone; end_s None for an instant), the faults the run could not apply marked "(no effect)"."""
    not_applied = [(e.t, e.kind, e.target) for e in fault_log if not e.applied]
    return [{"number": w.number, "kind": w.kind, "target": w.target, "start_s": w.start, "end_s": w.end,
             "label": w.label}
            for w in fault_windows(scenario.faults, scenario.duration, not_applied)]
