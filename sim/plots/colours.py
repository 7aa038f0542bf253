"""Colours of the fault kinds in every chart (shading, fault strip, key)."""
from __future__ import annotations

FAULT_COLOURS = {"key-disable": "tab:red", "key-schedule-destroy": "darkred", "key-destroy": "black",
                 "key-restore": "tab:pink",
                 "ekm-outage": "tab:orange", "ekm-latency": "gold", "kms-outage": "tab:purple",
                 "quota-change": "tab:blue", "kms-background-load": "tab:cyan", "iam-revoke": "tab:brown",
                 "deploy": "tab:green"}
OTHER = "tab:olive"


def fault_colour(kind: str) -> str:
    return FAULT_COLOURS.get(kind, OTHER)
