"""The arms of a sensitivity study: the scenario as is (the centre), and each assumption at its low and at its
high value (sim/assumptions.py SETTINGS), with the assumptions that cannot matter to this scenario skipped.

Arms whose resolved scenario is the same (an assumption's low value equal to the scenario's own value, say)
are one cell: the same scenario on the same streams gives the same results, so it runs once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..assumptions import ASSUMPTIONS, SETTINGS, WHEN
from ..scenario import ScenarioError
from .paths import apply_setting
from .sensitivity_choice import expand, relative_range

STATE_FAULTS = {"key-disable", "key-schedule-destroy", "key-destroy"}
REVOKING_FAULTS = STATE_FAULTS | {"iam-revoke", "ekm-outage"}


def _used_keys(scenario) -> list:
    """The keys the services use, now or after a deploy."""
    ids = {s.encryption_key for s in scenario.services} | {
        getattr(f, "encryption_key", None) for f in scenario.faults if f.kind == "deploy"}
    return [k for k in scenario.keys if k.id in ids]


def holds(scenario, when: str, metric: str = "cost") -> bool:
    """Whether an assumption of condition `when` (a key of assumptions.WHEN) can change this scenario's `metric`
    (a summary path; only "cost" assumptions look at it: prices move nothing but the cost figures)."""
    kinds = {f.kind for f in scenario.faults}
    keys = _used_keys(scenario)
    quota = any(k.protection != "software" for k in keys)
    external = any(k.is_external for k in keys)
    tests = {
        "always": True,
        "key": bool(keys),
        "external": external,
        "quota": quota,
        "soft": scenario.kms.quota.hsm_enforcement == "soft" and any(k.protection == "hsm" for k in keys),
        "key-fault": bool(kinds & STATE_FAULTS),
        "revocation": bool(kinds & REVOKING_FAULTS),
        "retry": external or "kms-outage" in kinds,
        "failed-starts": quota or bool(kinds & REVOKING_FAULTS),
        "boost": any(s.startup_cpu_boost for s in scenario.services),
        "idle": any(s.autoscaling.policy != "knative" for s in scenario.services),
        "cost": metric.split(".")[0] == "cost",
        "idle-cost": metric.split(".")[0] == "cost" and any(
            s.min_instances > 0 and s.billing == "request" for s in scenario.services),
        "never": False,
    }
    return tests[when]


def with_setting(scenario, values: dict):
    """`scenario` with every path of one side of a Setting set (ScenarioError lists the problems)."""
    for path, value in values.items():
        for concrete in expand(scenario, path):
            scenario = apply_setting(scenario, concrete, value)
    return scenario


@dataclass
class Arms:
    cells: list                                              # scenarios to run; cell 0 is the centre
    pairs: dict[str, tuple[int, int]] = field(default_factory=dict)   # assumption -> (low cell, high cell)
    skipped: list[dict] = field(default_factory=list)       # {"assumption", "reason"}
    relative: dict = field(default_factory=dict)            # assumption -> sensitivity_choice.Range, if relative


def build_arms(scenario, metric: str = "cost", *, raw=None, relative: dict | None = None,
               chosen: set | None = None) -> Arms:
    """Every applicable assumption's low and high arm, checked (re-validated) before anything runs.

    `chosen`: the assumptions to consider (None: all); `relative` (sensitivity_choice.parse_relative) with
    `raw`, the file as written: the inputs varied around the scenario's own value."""
    arms = Arms([scenario])
    seen = {_fingerprint(scenario): 0}

    def cell_of(variant) -> int:
        key = _fingerprint(variant)
        if key not in seen:
            seen[key] = len(arms.cells)
            arms.cells.append(variant)
        return seen[key]

    for a in ASSUMPTIONS:
        s = SETTINGS[a.parameter]
        if chosen is not None and a.parameter not in chosen:
            continue
        if not holds(scenario, s.when, metric):
            arms.skipped.append({"assumption": a.parameter, "reason": WHEN[s.when]})
            continue
        try:
            rng = relative_range(scenario, raw, a.parameter, relative) if relative else None
            if rng is not None:
                arms.relative[a.parameter] = rng
            low_values, high_values = (rng.low, rng.high) if rng is not None else (s.low, s.high)
            low, high = with_setting(scenario, low_values), with_setting(scenario, high_values)
        except ScenarioError as exc:                      # a value this scenario's other settings refuse
            arms.skipped.append({"assumption": a.parameter,
                                 "reason": "cannot be set on this scenario: " + "; ".join(exc.problems)})
            continue
        arms.pairs[a.parameter] = (cell_of(low), cell_of(high))
    return arms


def _fingerprint(scenario) -> str:
    return json.dumps(scenario.to_resolved_dict(), sort_keys=True, default=str)
