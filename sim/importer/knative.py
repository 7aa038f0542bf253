"""The v1 form: a Knative `serving.knative.dev/v1` Service as `gcloud run services describe --format export`
writes it."""
from __future__ import annotations

from sim.importer.common import (
    UNLIMITED_CONCURRENCY, Imported, Problems, check_key, check_revision, cpu_value, mapping, revocation_action,
    seconds_value, set_or_default, shutdown_hours, whole_number,
)
from sim.units import show_value

API_VERSION = "serving.knative.dev/v1"
LOCATION_LABEL = "cloud.googleapis.com/location"
KEY = "run.googleapis.com/encryption-key"
ACTION = "run.googleapis.com/post-key-revocation-action-type"
HOURS = "run.googleapis.com/encryption-key-shutdown-hours"
BOOST = "run.googleapis.com/startup-cpu-boost"
MIN_SCALE = "autoscaling.knative.dev/minScale"
MAX_SCALE = "autoscaling.knative.dev/maxScale"
KNOWN = {KEY, ACTION, HOURS, BOOST, MIN_SCALE, MAX_SCALE}


def is_v1(doc: dict) -> bool:
    return "apiVersion" in doc or "kind" in doc


def read_v1(doc: dict, number: int, problems: Problems) -> Imported | None:
    """The service of one v1 document, or None (with a problem) when it is not a Service."""
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != "Service":
        problems.add(number, "kind", f"not a Cloud Run Service: apiVersion {show_value(doc.get('apiVersion'))}, kind "
                                     f"{show_value(doc.get('kind'))} (expected {API_VERSION}, Service)")
        return None
    item = Imported(document=number, form=f"v1 ({API_VERSION})")
    meta = mapping(doc.get("metadata"))
    item.name = meta.get("name")
    if not isinstance(item.name, str) or not item.name:
        problems.add(number, "metadata.name", "missing: the service's name is required")
        item.name = None
    region = mapping(meta.get("labels")).get(LOCATION_LABEL)
    item.region = region if isinstance(region, str) else None
    namespace = meta.get("namespace")
    if namespace is not None:
        if str(namespace).isdigit():
            item.project_number = str(namespace)
        else:
            item.project_id = str(namespace)
    template = mapping(mapping(doc.get("spec")).get("template"))
    tmeta, tspec = mapping(template.get("metadata")), mapping(template.get("spec"))
    check_revision(item, tmeta.get("name"), "spec.template.metadata.name", problems)
    notes = mapping(tmeta.get("annotations"))
    where = "spec.template.metadata.annotations"
    item.unknown = [f"{where}.{k}" for k in sorted(notes) if k not in KNOWN]
    item.unknown += [f"metadata.annotations.{k}" for k in sorted(mapping(meta.get("annotations")))]

    def get(key, parse, *args, **kw):
        return parse(notes[key], f"{where}.{key}", number, problems, *args, **kw) if key in notes else None

    set_or_default(item, "min_instances", get(MIN_SCALE, whole_number))
    set_or_default(item, "max_instances", get(MAX_SCALE, whole_number, minimum=1))
    if KEY in notes:
        check_key(item, notes[KEY], f"{where}.{KEY}", problems)
    set_or_default(item, "revocation_action",
                   revocation_action(notes.get(ACTION), f"{where}.{ACTION}", number, problems))
    if HOURS in notes:
        item.settings["shutdown_after"] = shutdown_hours(notes[HOURS], f"{where}.{HOURS}", number, problems)
    else:
        item.defaulted.append("shutdown_after")
    if BOOST in notes:
        boost = str(notes[BOOST]).strip().lower()
        if boost not in ("true", "false"):
            problems.add(number, f"{where}.{BOOST}", f"must be true or false, got {show_value(notes[BOOST])}")
        item.settings["startup_cpu_boost"] = boost == "true"
    else:
        item.defaulted.append("startup_cpu_boost")
    concurrency = None
    if "containerConcurrency" in tspec:
        concurrency = whole_number(tspec["containerConcurrency"], "spec.template.spec.containerConcurrency",
                                   number, problems)
        if concurrency == 0:
            concurrency = UNLIMITED_CONCURRENCY
            item.notes.append("containerConcurrency 0 (Knative: no limit) -> 1000, Cloud Run's largest setting")
    set_or_default(item, "concurrency", concurrency)
    timeout = tspec.get("timeoutSeconds")
    set_or_default(item, "request_timeout", None if timeout is None else
                   seconds_value(timeout, "spec.template.spec.timeoutSeconds", number, problems))
    containers = tspec.get("containers") or [{}]
    limits = mapping(mapping(mapping(containers[0] if isinstance(containers, list) else {}).get("resources"))
                     .get("limits"))
    path = "spec.template.spec.containers[0].resources.limits"
    set_or_default(item, "cpu", cpu_value(limits["cpu"], f"{path}.cpu", number, problems)
                   if "cpu" in limits else None)
    set_or_default(item, "memory", str(limits["memory"]) if "memory" in limits else None)
    account = tspec.get("serviceAccountName")
    if isinstance(account, str) and account.endswith(".iam.gserviceaccount.com") and "@" in account:
        project = account.split("@", 1)[1].split(".", 1)[0]
        if not item.project_id and not project.isdigit() and project != "developer":
            item.project_id, item.project_id_from = project, "spec.template.spec.serviceAccountName"
    return item
