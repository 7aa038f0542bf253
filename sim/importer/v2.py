"""The v2 form: a Cloud Run Admin API v2 `Service` (REST, or `gcloud run services describe` of a v2 resource):
`name: projects/P/locations/L/services/S` and a `template` with `scaling`, `encryptionKey`, ..."""
from __future__ import annotations

import re

from sim.importer.common import (
    Imported, Problems, check_key, check_revision, check_small_cpu, combine_scaling, describe_not_modelled,
    instance_size, mapping, present, revocation_action, seconds_value, set_or_default, shutdown_hours,
    sort_out_annotations, whole_number,
)
from sim.units import show_value

_NAME_RE = re.compile(r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/services/(?P<service>[^/]+)")
# template fields this importer reads or that do not change the model (ignored without a mention)
TEMPLATE_KNOWN = {"scaling", "encryptionKey", "encryptionKeyRevocationAction", "encryptionKeyShutdownDuration",
                  "maxInstanceRequestConcurrency", "timeout", "containers", "revision", "serviceAccount",
                  "labels", "annotations", "volumes", "nodeSelector"}
# template fields the simulator does not model, described in a comment when the file sets them
TEMPLATE_NOT_MODELLED = ("executionEnvironment", "sessionAffinity", "vpcAccess", "healthCheckDisabled",
                         "gpuZonalRedundancyDisabled")


def is_v2(doc: dict) -> bool:
    return "template" in doc and "apiVersion" not in doc


def read_v2(doc: dict, number: int, problems: Problems) -> Imported:
    item = Imported(document=number, form="v2 (Cloud Run Admin API v2)")
    full = doc.get("name")
    item.paths.update({"name": "name", "region": "name", "project": "name", "key": "template.encryptionKey"})
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
    sort_out_annotations(item, mapping(doc.get("annotations")), "annotations")
    sort_out_annotations(item, mapping(template.get("annotations")), "template.annotations")
    item.unknown += [f"template.{k}" for k in sorted(template)
                     if k not in TEMPLATE_KNOWN and k not in TEMPLATE_NOT_MODELLED]
    item.not_modelled += [f"template.{k} {template[k]!s}: {describe_not_modelled(k) or 'not modelled'}"
                          for k in TEMPLATE_NOT_MODELLED if present(template, k)]
    # the service-level `scaling` and the template's (revision-level) `scaling`, combined by Cloud Run's rule
    levels = {"scaling": mapping(doc.get("scaling")), "template.scaling": mapping(template.get("scaling"))}
    for key, field, minimum in (("min_instances", "minInstanceCount", 0), ("max_instances", "maxInstanceCount", 1)):
        service, revision = (whole_number(at[field], f"{path}.{field}", number, problems, minimum=minimum)
                             if present(at, field) else None for path, at in levels.items())
        combine_scaling(item, key, service, revision, f"scaling.{field}", f"template.scaling.{field}")
    if present(template, "encryptionKey"):
        check_key(item, template["encryptionKey"], "template.encryptionKey", problems)
    set_or_default(item, "revocation_action", revocation_action(
        template.get("encryptionKeyRevocationAction"), "template.encryptionKeyRevocationAction", number, problems))
    if present(template, "encryptionKeyShutdownDuration"):
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
    containers = template.get("containers")
    instance_size(item, containers, "template.containers", number, problems,
                  lambda c: mapping(mapping(c.get("resources")).get("limits")))
    containers = [c for c in containers if isinstance(c, dict)] if isinstance(containers, list) else []
    serving = next((i for i, c in enumerate(containers) if c.get("ports")), 0)
    resources = mapping(containers[serving].get("resources")) if containers else {}
    path = f"template.containers[{serving}].resources"
    idle = resources.get("cpuIdle")   # false: CPU always allocated, which is instance-based billing
    if idle is not None and not isinstance(idle, bool):
        problems.add(number, f"{path}.cpuIdle", f"must be true or false, got {show_value(idle)}")
    elif idle is not None:
        item.settings["billing"] = "request" if idle else "instance"
        item.notes.append(f"billing {item.settings['billing']}: {path}.cpuIdle {str(idle).lower()}")
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
            item.paths["project"] = item.project_id_from
    check_small_cpu(item, "template.maxInstanceRequestConcurrency")
    return item
