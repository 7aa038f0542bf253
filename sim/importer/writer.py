"""The scenario YAML text for imported services, with comments saying where each value came from."""
from __future__ import annotations

import json

from sim.importer.common import DEFAULTS, Imported
from sim.scenario.constants import KEY_NAME_RE

DEFAULT_REGION = "us-central1"
# What no export holds and every answer rests on: written at the simulator's assumptions, marked TODO.
WORKLOAD_TODO = (
    ("service_time", "{dist: lognormal, mean: 120ms, cv: 1}",
     "not in the export, and every answer rests on it: your mean request time at load "
     "(Cloud Monitoring request_latencies); this is the simulator's assumption"),
    ("cpu_per_request", "0.25",
     "not in the export, and every answer rests on it: vCPUs a request uses while it runs "
     "(README: Estimating cpu_per_request); this is the simulator's assumption"),
)
ORDER = ("revocation_action", "shutdown_after", "concurrency", "cpu", "memory", "min_instances",
         "max_instances", "request_timeout", "startup_cpu_boost", "billing")


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))   # a JSON string is a YAML string


def key_ids(items: list[Imported]) -> dict[str, str]:
    """Key name -> id: the key name's last segment, made unique with -2, -3..."""
    ids: dict[str, str] = {}
    for item in items:
        if item.key_name and item.key_name not in ids:
            base = KEY_NAME_RE.fullmatch(item.key_name)["crypto_key"]
            key_id, n = base, 1
            while key_id in ids.values():
                n += 1
                key_id = f"{base}-{n}"
            ids[item.key_name] = key_id
    return ids


def scenario_text(items: list[Imported], *, source: str, name: str, protection: str,
                  protection_given: bool, trace: str | None) -> str:
    forms = sorted({item.form for item in items})
    region = next((i.region for i in items if i.region), None)
    number = next((i.project_number for i in items if i.project_number), None)
    project_id, project_from = next(((i.project_id, i.project_id_from) for i in items if i.project_id),
                                    (None, ""))
    ids = key_ids(items)
    out = [f"# Imported by `python -m sim import-service` from {source} ({', '.join(forms)}).",
           "# Settings not in the file take Cloud Run's defaults (min 0, max 100 instances, concurrency 80,",
           "# timeout 300s, 1 vCPU, 512Mi, prevent-new, no startup CPU boost, request-based billing; concurrency",
           "# 1 below 1 vCPU); the shutdown delay, when not set, is the simulator's assumption of 1h. Check the",
           "# traffic, then `python -m sim run` this file.",
           f"name: {_value(name)}", "duration: 1h", "project:"]
    if project_id:
        out.append(f"  id: {_value(project_id)}" + (f"   # from {project_from}" if project_from else ""))
    else:
        out.append("  # id: not in the export (left at the simulator's default acme-prod; only used in logs)")
    if number:
        out.append(f"  number: {_value(number)}")
    else:
        out.append("  # number: not in the file (the simulator's default is used)")
    if region:
        out.append(f"  region: {_value(region)}")
    else:
        out.append(f"  region: {_value(DEFAULT_REGION)}   # not in the file: assumed")
    if ids:
        how = "--key-protection" if protection_given else "the default of --key-protection"
        out += ["keys:", f"  # The key's protection level is not in the export: {protection} comes from {how}",
                "  # (software | hsm | external | external-vpc)."]
        for key_name, key_id in ids.items():
            out += [f"  - id: {_value(key_id)}", f"    name: {_value(key_name)}",
                    f"    protection: {protection}   # from --key-protection, not from the file"]
    out.append("services:")
    for item in items:
        out.append(f"  - name: {_value(item.name)}   # document {item.document}: {item.form}")
        key = ids.get(item.key_name) if item.key_name else None
        out.append(f"    encryption_key: {_value(key)}" if key else
                   "    encryption_key: null   # no encryption-key: Google-managed encryption")
        for setting in ORDER:
            if setting in item.settings:
                out.append(f"    {setting}: {_value(item.settings[setting])}")
            elif setting in DEFAULTS:
                out.append(f"    {setting}: {_value(DEFAULTS[setting])}   # not in the file: Cloud Run's default")
        out += [f"    {key}: {value}   # TODO: {why}" for key, value, why in WORKLOAD_TODO]
        for note in item.notes:
            out.append(f"    # {note}")
        if item.not_modelled:
            out.append("    # In the file, not modelled by the simulator:")
            out += [f"    #   {entry}" for entry in item.not_modelled]
        if item.unknown:
            out.append("    # Ignored (not modelled or unknown to the importer):")
            out += [f"    #   {entry}" for entry in item.unknown]
        out.append("    traffic:")
        if trace:
            out.append(f"      trace: {_value(trace)}   # from --traffic")
        else:
            out.append("      rate: 1   # TODO: set the traffic (req/s, a list of [time, rps] points, or "
                       "trace: FILE.csv)")
    return "\n".join(out) + "\n"
