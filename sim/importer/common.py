"""What both service forms share: the imported service record, problem lines and value parsing.

A leaf of the importer: it knows Cloud Run's rules (key names, revision names, whole shutdown hours) and
turns Kubernetes quantities ("1000m", "512Mi") and API durations ("300s") into scenario values.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from sim.model.revisions import is_valid_revision_name
from sim.scenario.constants import KEY_NAME_RE
from sim.units import InputError, parse_memory, show_value

# Cloud Run's defaults where the file says nothing (documented in the README and the output's comments).
DEFAULTS = {"min_instances": 0, "max_instances": 100, "concurrency": 80, "request_timeout": 300,
            "cpu": 1, "memory": "512Mi", "revocation_action": "prevent-new", "startup_cpu_boost": False,
            "billing": "request"}
# containerConcurrency 0 means "no limit" in Knative; Cloud Run's largest setting is 1000.
UNLIMITED_CONCURRENCY = 1000
_DURATION_RE = re.compile(r"(?P<n>[0-9]+(\.[0-9]+)?)s?")   # "300s", or seconds quoted as Kubernetes YAML does: "300"
# Cloud Run needs concurrency 1 below 1 vCPU per instance (cloud.google.com/run/docs/configuring/services/cpu).
SMALL_CPU_CONCURRENCY = 1
# What a deployed file often holds instead of a value: ${VAR}, $VAR, %VAR%, <VAR>, or a bare REGION / PROJECT_ID.
_PLACEHOLDER_RE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|%[^%/]+%|<[^<>/]+>|(?<![A-Za-z0-9_-])"
                             r"(?=[A-Z0-9_]*[A-Z])[A-Z][A-Z0-9_]*(?![A-Za-z0-9_-])")


@dataclass
class Imported:
    """One service read from one document: scenario keys, and what the comments must say."""
    document: int                       # 1-based document number in the file
    form: str                           # "v1 (serving.knative.dev/v1)" or "v2 (run.googleapis.com/v2)"
    name: str | None = None
    region: str | None = None
    project_number: str | None = None
    project_id: str | None = None
    project_id_from: str = ""           # where the project id was read
    key_name: str | None = None
    settings: dict = field(default_factory=dict)     # scenario service keys read from the file
    defaulted: list = field(default_factory=list)    # scenario service keys left at Cloud Run's default
    unknown: list = field(default_factory=list)      # annotations and fields ignored
    notes: list = field(default_factory=list)        # one-line comments about choices made
    not_modelled: list = field(default_factory=list) # settings the file has that the simulator does not model
    warnings: list = field(default_factory=list)     # stderr lines: the file says what Cloud Run would not do
    paths: dict = field(default_factory=dict)        # scenario service key -> the file's field it came from


def present(where: dict, key: str) -> bool:
    """A key with a value: `key: null` is the same as no key, for every field (YAML writes absent as null)."""
    return where.get(key) is not None


def placeholder(value) -> str | None:
    """The placeholder in a value (`${REGION}`, `PROJECT_ID`, `%KEY%`), or None for a real value."""
    match = _PLACEHOLDER_RE.search(value) if isinstance(value, str) else None
    return match[0] if match else None


class Problems:
    """Problem lines `FILE: document N: path: reason`, all collected before anything is written."""

    def __init__(self, file: str):
        self.file = file
        self.lines: list[str] = []

    def add(self, document: int | None, path: str, reason: str) -> None:
        where = f"document {document}: " if document is not None else ""
        self.lines.append(f"{self.file}: {where}{path}: {reason}")


def _scalar_text(value) -> str:
    """A number's or a text's characters; "" for anything else (a list is never turned into text whole)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return ""
    return str(value).strip()


def mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def whole_number(value, path: str, doc: int, problems: Problems, *, minimum: int = 0) -> int | None:
    """An integer from a number or a numeric string (annotations are strings), else a problem."""
    text = _scalar_text(value)
    if re.fullmatch(r"[0-9]{1,18}", text) and int(text) >= minimum:   # 18 digits: int() never refuses it
        return int(text)
    problems.add(doc, path, f"must be a whole number >= {minimum}, got {show_value(value)}")
    return None


def cpu_value(value, path: str, doc: int, problems: Problems) -> float | int | None:
    """vCPUs from a Kubernetes quantity: "1", "2", "0.5", "1000m"."""
    text = _scalar_text(value)
    match = re.fullmatch(r"([0-9]+(\.[0-9]+)?)(m?)", text)
    if not match:
        problems.add(doc, path, f"must be a CPU quantity such as 1, 2 or 1000m, got {show_value(value)}")
        return None
    number = float(match[1]) / (1000 if match[3] else 1)
    return int(number) if number == int(number) else number


def seconds_value(value, path: str, doc: int, problems: Problems) -> float | int | None:
    """Seconds from an API duration ("300s", "3600s"), a number of seconds, or one quoted ("600")."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DURATION_RE.fullmatch(_scalar_text(value))
    if not match:
        problems.add(doc, path, f"must be a duration in seconds such as \"300s\", got {show_value(value)}")
        return None
    number = float(match["n"])
    return int(number) if number == int(number) else number


def shutdown_hours(hours, path: str, doc: int, problems: Problems) -> str | None:
    """Cloud Run counts the shutdown delay in whole hours: "1", 24, 3600s are fine; 1.5 hours is not."""
    try:
        number = float(hours)
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number) or number < 0 or number != int(number):
        problems.add(doc, path, f"must be a whole number of hours (Cloud Run counts the shutdown delay in "
                                f"hours), got {show_value(hours)}")
        return None
    return f"{int(number)}h"


# The revocation action as each form spells it: the v1 annotation's values (prevent-new | shut-down) and the v2
# API's enum names (PREVENT_NEW | SHUTDOWN), accepted in either place; the enum's UNSPECIFIED means the default.
REVOCATION_ACTIONS = {"prevent-new": "prevent-new", "shut-down": "shut-down",
                      "PREVENT_NEW": "prevent-new", "SHUTDOWN": "shut-down"}
UNSPECIFIED_ACTION = "ENCRYPTION_KEY_REVOCATION_ACTION_UNSPECIFIED"


def revocation_action(value, path: str, doc: int, problems: Problems) -> str | None:
    """The scenario's revocation_action from either spelling; None (Cloud Run's default) when absent or
    unspecified; a problem otherwise."""
    if value is None or value == UNSPECIFIED_ACTION:
        return None
    if value in REVOCATION_ACTIONS:
        return REVOCATION_ACTIONS[value]
    problems.add(doc, path, f"must be prevent-new or shut-down (v2: PREVENT_NEW or SHUTDOWN), got {show_value(value)}")
    return None


def check_key(item: Imported, name, path: str, problems: Problems) -> None:
    """The key must be a Cloud KMS key name in the service's region."""
    if not isinstance(name, str) or not KEY_NAME_RE.fullmatch(name):
        if placeholder(name):
            problems.add(item.document, path, f"holds the placeholder {show_value(placeholder(name))}: fill in the "
                                              f"key name, got {show_value(name)}")
            return
        problems.add(item.document, path, "must be a key name of the form projects/P/locations/L/keyRings/R/"
                                          f"cryptoKeys/K, got {show_value(name)}")
        return
    item.key_name = name
    location = KEY_NAME_RE.fullmatch(name)["location"]
    if item.region and location != item.region:
        problems.add(item.document, path, f"key location {show_value(location)} differs from the service's region "
                                          f"{show_value(item.region)} (Cloud Run needs a key in the service's region)")


def check_revision(item: Imported, revision, path: str, problems: Problems) -> None:
    """A revision name: the service name and "-", then lowercase letters, digits and "-", <= 63 characters."""
    if revision is None or not item.name:
        return
    if not isinstance(revision, str) or not is_valid_revision_name(revision, item.name):
        shown = repr(revision[:100]) if isinstance(revision, str) else show_value(revision)   # the length matters
        problems.add(item.document, path,
                     f"revision name {shown} breaks Cloud Run's rules: it must start with "
                     f"{show_value(item.name + '-')}, hold only lowercase letters, digits and '-', not end with '-' "
                     "and be at most 63 characters")


def set_or_default(item: Imported, key: str, value) -> None:
    if value is None:
        item.defaulted.append(key)
    else:
        item.settings[key] = value


def _memory_mib(value, path: str, doc: int, problems: Problems) -> float | None:
    """MiB from a Kubernetes quantity: "512Mi", "2Gi", "1G"; a bare number is bytes, as Kubernetes reads it."""
    text = _scalar_text(value)
    try:
        mib = parse_memory(text) / 2**20 if re.fullmatch(r"[0-9]+", text) else parse_memory(text)
    except InputError:
        problems.add(doc, path, f"must be a memory quantity such as 512Mi or 2Gi, got {show_value(value)}")
        return None
    return mib


def _memory_text(mib: float) -> str:
    if mib == int(mib) and int(mib) % 1024 == 0:
        return f"{int(mib) // 1024}Gi"
    return f"{int(mib)}Mi" if mib == int(mib) else f"{mib:g}Mi"


def _number_text(x: float) -> str:
    return f"{x:g}"


def instance_size(item: Imported, containers, path: str, doc: int, problems: Problems,
                  limits_of) -> None:
    """cpu and memory of the instance: the sum over its containers, sidecars included (Cloud Run's limits are
    per container; cloud.google.com/run/docs/configuring/services/cpu and .../memory-limits). A container
    without a limit counts Cloud Run's default (1 vCPU, 512Mi). `limits_of(container)` -> its limits mapping."""
    containers = [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []
    for i, container in enumerate(containers):   # limits beyond CPU and memory: a GPU, ephemeral storage
        limits = limits_of(container)
        item.not_modelled += [f"{path}[{i}].resources.limits.{k} {limits[k]}: not modelled (nor its cost)"
                              for k in sorted(limits) if k not in ("cpu", "memory")]
    if len(containers) <= 1:   # one container: what it says, else Cloud Run's default (said in a comment)
        limits, where = (limits_of(containers[0]) if containers else {}), f"{path}[0].resources.limits"
        set_or_default(item, "cpu", cpu_value(limits["cpu"], f"{where}.cpu", doc, problems)
                       if present(limits, "cpu") else None)
        memory = _memory_mib(limits["memory"], f"{where}.memory", doc, problems) if present(limits, "memory") \
            else None
        set_or_default(item, "memory", None if memory is None else _memory_text(memory))
        return
    parts = []
    for i, container in enumerate(containers):
        limits, where = limits_of(container), f"{path}[{i}].resources.limits"
        cpu = cpu_value(limits["cpu"], f"{where}.cpu", doc, problems) if present(limits, "cpu") else None
        memory = _memory_mib(limits["memory"], f"{where}.memory", doc, problems) if present(limits, "memory") \
            else None
        parts.append((container, cpu if cpu is not None else DEFAULTS["cpu"],
                      memory if memory is not None else parse_memory(DEFAULTS["memory"]),
                      present(limits, "cpu"), present(limits, "memory")))
    cpu = sum(p[1] for p in parts)
    memory = sum(p[2] for p in parts)
    item.paths.update({"cpu": f"{path}[*].resources.limits.cpu (summed)",
                       "memory": f"{path}[*].resources.limits.memory (summed)"})
    item.settings["cpu"] = int(cpu) if cpu == int(cpu) else round(cpu, 6)
    item.settings["memory"] = _memory_text(memory)
    if len(parts) > 1:   # say which container serves and what the sidecars add, with the split
        serving = next((i for i, p in enumerate(parts) if p[0].get("ports")), 0)
        split = []
        for i, (container, c, m, has_cpu, has_memory) in enumerate(parts):
            name = container.get("name") or f"containers[{i}]"
            role = "serves (has the port)" if i == serving else "sidecar"
            default = "" if has_cpu and has_memory else ", Cloud Run's default for what it leaves out"
            split.append(f"{name} {_number_text(c)} vCPU / {_memory_text(m)}: {role}{default}")
        item.notes.append(f"cpu and memory are the sum over {len(parts)} containers (Cloud Run's limits are per "
                          "container; the instance has their sum): " + "; ".join(split))


# Settings a service file often has that change nothing the simulator models: what each is, for the comment.
NOT_MODELLED = {
    "execution-environment": "the sandbox generation (gen1/gen2); the simulator has one start model",
    "executionEnvironment": "the sandbox generation (gen1/gen2); the simulator has one start model",
    "sessionAffinity": "sticky sessions; the simulator routes each request to any free instance",
    "sessionaffinity": "sticky sessions; the simulator routes each request to any free instance",
    "vpc-access-connector": "a VPC connector; no network is modelled",
    "vpc-access-egress": "VPC egress; no network is modelled",
    "network-interfaces": "Direct VPC egress; no network is modelled",
    "vpcAccess": "VPC access; no network is modelled",
    "cloudsql-instances": "Cloud SQL connections; the simulator has no database",
    "ingress": "who may call the service; the traffic is given in the scenario",
    "ingress-status": "who may call the service; the traffic is given in the scenario",
    "launch-stage": "the API's launch stage",
    "secrets": "Secret Manager volumes; not modelled",
    "gpu-zonal-redundancy-disabled": "GPU zonal redundancy; no GPU is modelled",
    "container-dependencies": "the containers' start order; the instance starts as one",
    "health-check-disabled": "health checks; not modelled",
    "binary-authorization": "Binary Authorization at deploy; not modelled",
    "client-name": "the tool that deployed it",
    "client-version": "the tool that deployed it",
    "operation-id": "the last operation's id",
}


def describe_not_modelled(key: str) -> str | None:
    """What a setting is (for the comment), by its last name segment; None for one the importer does not know."""
    return NOT_MODELLED.get(key.rsplit("/", 1)[-1])


def sort_out_annotations(item: Imported, annotations: dict, where: str, known=()) -> None:
    """Annotations the importer does not read: described when they are settings the simulator does not model,
    listed as unknown otherwise."""
    for key in sorted(annotations):
        if key in known:
            continue
        what = describe_not_modelled(key)
        if what:
            item.not_modelled.append(f"{where}.{key} {annotations[key]!s}: {what}")
        else:
            item.unknown.append(f"{where}.{key}")


def check_small_cpu(item: Imported, concurrency_path: str) -> None:
    """Below 1 vCPU Cloud Run needs concurrency 1 and request-based billing: its default when the file says
    nothing, a warning when the file says otherwise (the value is kept: a what-if)."""
    cpu = item.settings.get("cpu")
    if cpu is None or cpu >= 1:
        return
    concurrency = item.settings.get("concurrency")
    if concurrency is None:
        item.defaulted.remove("concurrency")
        item.settings["concurrency"] = SMALL_CPU_CONCURRENCY
        item.notes.append(f"concurrency 1: Cloud Run's rule below 1 vCPU (cpu {cpu}), not its default of 80")
    elif concurrency > 1:
        item.warnings.append(f"{concurrency_path}: concurrency {concurrency} with cpu {cpu}: Cloud Run needs "
                             "concurrency 1 below 1 vCPU; imported as written, as a what-if")
    if item.settings.get("billing") == "instance":
        item.warnings.append(f"billing: instance-based billing with cpu {cpu}: Cloud Run needs 1 vCPU or more "
                             "for it; imported as written, as a what-if")


def combine_scaling(item: Imported, key: str, service, revision, service_path: str, revision_path: str) -> None:
    """min_instances / max_instances from the service level and the revision level (each already parsed, None
    when absent). The imported service is one revision with all the traffic, so the service-level minimum
    applies to it whole (Cloud Run divides it among the revisions that take traffic, by their share); where
    both are set, each level keeps its own minimum running, so the larger minimum holds, and the service-level
    maximum caps the service, so the smaller maximum holds (cloud.google.com/run/docs/configuring/min-instances,
    .../max-instances)."""
    if service is None or revision is None:
        set_or_default(item, key, service if revision is None else revision)
        if service is not None:
            item.notes.append(f"{key} {service} from the service level ({service_path})")
        return
    value = max(service, revision) if key == "min_instances" else min(service, revision)
    item.settings[key] = value
    rule = "the larger minimum holds" if key == "min_instances" else "the smaller maximum holds"
    item.notes.append(f"{key} {value}: service level {service} ({service_path}) and revision level {revision} "
                      f"({revision_path}); {rule}")
