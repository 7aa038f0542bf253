"""The v2 form: a Cloud Run Admin API v2 `Service` (REST, or `gcloud run services describe` of a v2 resource):
`name: projects/P/locations/L/services/S` and a `template` with `scaling`, `encryptionKey`, ..."""
from __future__ import annotations

import re

from sim.importer.common import (
    Imported, Problems, check_key, check_revision, cpu_value, mapping, revocation_action, seconds_value,
    set_or_default, shutdown_hours, whole_number,
)
from sim.units import show_value

_NAME_RE = re.compile(r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/services/(?P<service>[^/]+)")
# template fields this importer reads or that do not change the model (ignored without a mention)
TEMPLATE_KNOWN = {"scaling", "encryptionKey", "encryptionKeyRevocationAction", "encryptionKeyShutdownDuration",
                  "maxInstanceRequestConcurrency", "timeout", "containers", "revision", "serviceAccount",
                  "labels", "annotations", "executionEnvironment", "vpcAccess", "volumes",
                  "sessionAffinity", "healthCheckDisabled", "nodeSelector", "gpuZonalRedundancyDisabled"}


def is_v2(doc: dict) -> bool:
    return "template" in doc and "apiVersion" not in doc


def read_v2(doc: dict, number: int, problems: Problems) -> Imported:
    item = Imported(document=number, form="v2 (Cloud Run Admin API v2)")
    full = doc.get("name")
    match = _NAME_RE.fullmatch(full) if isinstance(full, str) else None
    if match:
        item.name, item.region = match["service"], match["location"]
        if match["project"].isdigit():
            item.project_number = match["project"]
        else:
            item.project_id = match["project"]
    elif isinstance(full, str) and full:
        item.name = full
    else:
        problems.add(number, "name", "missing: the service's name is required")
    template = mapping(doc.get("template"))
    check_revision(item, template.get("revision"), "template.revision", problems)
    item.unknown = [f"annotations.{k}" for k in sorted(mapping(doc.get("annotations")))]
    item.unknown += [f"template.annotations.{k}" for k in sorted(mapping(template.get("annotations")))]
    item.unknown += [f"template.{k}" for k in sorted(template) if k not in TEMPLATE_KNOWN]
    # the template's scaling wins; the service-level `scaling` (minInstanceCount, maxInstanceCount) fills gaps
    scaling = {**mapping(doc.get("scaling")), **mapping(template.get("scaling"))}
    origin = {k: ("template.scaling." if k in mapping(template.get("scaling")) else "scaling.") + k
              for k in scaling}
    set_or_default(item, "min_instances", whole_number(scaling["minInstanceCount"], origin["minInstanceCount"],
                                                       number, problems) if "minInstanceCount" in scaling else None)
    set_or_default(item, "max_instances", whole_number(scaling["maxInstanceCount"], origin["maxInstanceCount"],
                                                       number, problems, minimum=1)
                   if "maxInstanceCount" in scaling else None)
    if "encryptionKey" in template:
        check_key(item, template["encryptionKey"], "template.encryptionKey", problems)
    set_or_default(item, "revocation_action", revocation_action(
        template.get("encryptionKeyRevocationAction"), "template.encryptionKeyRevocationAction", number, problems))
    if "encryptionKeyShutdownDuration" in template:
        path = "template.encryptionKeyShutdownDuration"
        seconds = seconds_value(template["encryptionKeyShutdownDuration"], path, number, problems)
        if seconds is not None:
            item.settings["shutdown_after"] = shutdown_hours(seconds / 3600, path, number, problems)
    else:
        item.defaulted.append("shutdown_after")
    concurrency = template.get("maxInstanceRequestConcurrency")
    set_or_default(item, "concurrency", None if concurrency is None else whole_number(
        concurrency, "template.maxInstanceRequestConcurrency", number, problems, minimum=1))
    timeout = template.get("timeout")
    set_or_default(item, "request_timeout", None if timeout is None else
                   seconds_value(timeout, "template.timeout", number, problems))
    containers = template.get("containers") or [{}]
    resources = mapping(mapping(containers[0] if isinstance(containers, list) else {}).get("resources"))
    limits = mapping(resources.get("limits"))
    path = "template.containers[0].resources"
    set_or_default(item, "cpu", cpu_value(limits["cpu"], f"{path}.limits.cpu", number, problems)
                   if "cpu" in limits else None)
    set_or_default(item, "memory", str(limits["memory"]) if "memory" in limits else None)
    boost = resources.get("startupCpuBoost")
    if boost is not None and not isinstance(boost, bool):
        problems.add(number, f"{path}.startupCpuBoost", f"must be true or false, got {show_value(boost)}")
        boost = None
    set_or_default(item, "startup_cpu_boost", boost)
    account = template.get("serviceAccount")
    if isinstance(account, str) and "@" in account and account.endswith(".iam.gserviceaccount.com"):
        project = account.split("@", 1)[1].split(".", 1)[0]
        if not item.project_id and not project.isdigit() and project != "developer":
            item.project_id, item.project_id_from = project, "template.serviceAccount"
    return item
