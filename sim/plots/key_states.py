"""The key's state over the run, for the timeline's key strip: usable, disabled, scheduled for destruction or
destroyed, and why (the fault that did it, or the external key manager).

Read from fault_events.csv (the state changes as applied, the EKM's own disabling and the scheduled destruction
included), replayed through the key-state transitions of cloud.google.com/kms/docs/key-states. These are the
states Cloud KMS holds; a change to unusable is seen by key operations `kms.disable_propagation` later."""
from __future__ import annotations

from dataclasses import dataclass

import yaml

from .folder import Folder

USABLE, DISABLED, DESTROY_SCHEDULED, DESTROYED = "usable", "disabled", "scheduled for destruction", "destroyed"
STATE_COLOURS = {USABLE: "tab:green", DISABLED: "tab:red", DESTROY_SCHEDULED: "tab:purple", DESTROYED: "black"}
# fault_events.csv kind -> (the state it leads to, why, in words)
TRANSITIONS = {
    "key-disable": (DISABLED, "key-disable"),
    "key-disabled-by-ekm": (DISABLED, "the EKM disabled it: EXTERNAL_PERMISSION_DENIED"),
    "key-enable": (USABLE, "key-enable"),
    "key-schedule-destroy": (DESTROY_SCHEDULED, "key-schedule-destroy"),
    "key-restore": (DISABLED, "key-restore (restored as disabled)"),
    "key-destroy": (DESTROYED, "key-destroy"),
    "key-destroyed": (DESTROYED, "its scheduled destruction"),
}


@dataclass
class KeySpan:
    start: float
    end: float
    state: str
    why: str            # "" for the state the key started in


def used_keys(folder: Folder) -> list[str]:
    """Ids of the keys a service or a deploy uses, in the scenario's key order."""
    scenario = yaml.safe_load((folder.path / "scenario.resolved.yaml").read_text())
    used = {s.get("encryption_key") for s in scenario.get("services", [])}
    used |= {f.get("encryption_key") for f in scenario.get("faults") or [] if f.get("kind") == "deploy"}
    return [k["id"] for k in scenario.get("keys") or [] if k["id"] in used]


def key_spans(folder: Folder) -> dict[str, list[KeySpan]]:
    """key id -> its states over [0, duration], for the used keys whose state changed ({} when none did)."""
    events: dict[str, list[tuple[float, str]]] = {}
    for row in folder.rows("fault_events.csv"):
        if row["kind"] in TRANSITIONS and row["applied"]:
            events.setdefault(str(row["target"]), []).append((float(row["time_s"]), str(row["kind"])))
    out = {}
    for key in used_keys(folder):
        if key not in events:
            continue
        spans = [KeySpan(0.0, folder.duration, USABLE, "")]
        for t, kind in sorted(events[key], key=lambda e: e[0]):
            state, why = TRANSITIONS[kind]
            if state == spans[-1].state:
                continue
            spans[-1].end = t
            spans.append(KeySpan(t, folder.duration, state, why))
        out[key] = [s for s in spans if s.end > s.start or s is spans[-1]]
    return out


def key_strip(ax, spans: dict[str, list[KeySpan]], tx) -> None:
    """A thin axes above a time column: per key a bar coloured by state, each change labelled with why."""
    for lane, (key, key_spans_) in enumerate(spans.items()):
        y = len(spans) - 1 - lane
        for span in key_spans_:
            x0, x1 = tx(span.start), tx(span.end)
            ax.barh(y, x1 - x0, left=x0, height=0.7, color=STATE_COLOURS[span.state],
                    alpha=0.25 if span.state == USABLE else 0.55, lw=0)
            if span.state != USABLE:
                to_end = " (to the end of the run)" if span is key_spans_[-1] else ""
                colour = "white" if span.state == DESTROYED else "black"
                ax.text(x0, y, f" {span.state}: {span.why}{to_end}", va="center", ha="left", fontsize=8,
                        color=colour, clip_on=True)
    ax.set_ylim(-0.6, len(spans) - 0.4)
    ax.set_xlim(0, tx.end)
    ax.set_yticks(range(len(spans)), [f"key {k}" for k in reversed(spans)], fontsize=8)
    ax.tick_params(axis="x", labelbottom=False, length=0)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)


def key_legend_handles(spans: dict[str, list[KeySpan]]) -> list:
    from matplotlib.patches import Patch
    seen = [USABLE] + [s.state for ks in spans.values() for s in ks if s.state != USABLE]
    return [Patch(color=STATE_COLOURS[state], alpha=0.25 if state == USABLE else 0.55, label=f"key {state}")
            for state in dict.fromkeys(seen)]
