"""The v1 form: a Knative `serving.knative.dev/v1` Service as `gcloud run services describe --format export`
writes it."""
from __future__ import annotations

from sim.importer.common import (
    UNLIMITED_CONCURRENCY, Imported, Problems, check_key, check_revision, check_small_cpu, combine_scaling,
    instance_size, mapping, present, revocation_action, seconds_value, set_or_default,
    shutdown_hours, sort_out_annotations, whole_number,
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
THROTTLING = "run.googleapis.com/cpu-throttling"
# the service level (the Service's own metadata), which Google recommends over the revision level
SERVICE_MIN = "run.googleapis.com/minScale"
SERVICE_MAX = "run.googleapis.com/maxScale"
KNOWN = {KEY, ACTION, HOURS, BOOST, MIN_SCALE, MAX_SCALE, THROTTLING}
SERVICE_KNOWN = {SERVICE_MIN, SERVICE_MAX}
# spec.template.spec fields read above or that change nothing modelled (others are listed as ignored)
SPEC_KNOWN = {"containerConcurrency", "timeoutSeconds", "containers", "serviceAccountName", "volumes",
              "imagePullSecrets", "enableServiceLinks"}


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
    item.paths.update({"name": "metadata.name", "region": f"metadata.labels.{LOCATION_LABEL}",
                       "project": "metadata.namespace", "key": f"spec.template.metadata.annotations.{KEY}"})
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
    service_notes = mapping(meta.get("annotations"))
    sort_out_annotations(item, notes, where, KNOWN)
    sort_out_annotations(item, service_notes, "metadata.annotations", SERVICE_KNOWN)

    def get(key, parse, *args, at=notes, path=where, **kw):
        return parse(at[key], f"{path}.{key}", number, problems, *args, **kw) if present(at, key) else None

    def service(key, parse, *args, **kw):
        return get(key, parse, *args, at=service_notes, path="metadata.annotations", **kw)

    combine_scaling(item, "min_instances", service(SERVICE_MIN, whole_number), get(MIN_SCALE, whole_number),
                    f"metadata.annotations.{SERVICE_MIN}", f"{where}.{MIN_SCALE}")
    combine_scaling(item, "max_instances", service(SERVICE_MAX, whole_number, minimum=1),
                    get(MAX_SCALE, whole_number, minimum=1),
                    f"metadata.annotations.{SERVICE_MAX}", f"{where}.{MAX_SCALE}")
    if present(notes, THROTTLING):   # "false": CPU always allocated, which is instance-based billing
        throttled = str(notes[THROTTLING]).strip().lower()
        if throttled not in ("true", "false"):
            problems.add(number, f"{where}.{THROTTLING}", f"must be true or false, got {show_value(notes[THROTTLING])}")
        else:
            item.settings["billing"] = "request" if throttled == "true" else "instance"
            item.notes.append(f"billing {item.settings['billing']}: {THROTTLING} {throttled}")
    if present(notes, KEY):
        check_key(item, notes[KEY], f"{where}.{KEY}", problems)
    set_or_default(item, "revocation_action",
                   revocation_action(notes.get(ACTION), f"{where}.{ACTION}", number, problems))
    if present(notes, HOURS):
        item.settings["shutdown_after"] = shutdown_hours(notes[HOURS], f"{where}.{HOURS}", number, problems)
    else:
        item.defaulted.append("shutdown_after")
    if present(notes, BOOST):
        boost = str(notes[BOOST]).strip().lower()
        if boost not in ("true", "false"):
            problems.add(number, f"{where}.{BOOST}", f"must be true or false, got {show_value(notes[BOOST])}")
        item.settings["startup_cpu_boost"] = boost == "true"
    else:
        item.defaulted.append("startup_cpu_boost")
    concurrency = None
    if present(tspec, "containerConcurrency"):
        concurrency = whole_number(tspec["containerConcurrency"], "spec.template.spec.containerConcurrency",
                                   number, problems)
        if concurrency == 0:
            concurrency = UNLIMITED_CONCURRENCY
            item.notes.append("containerConcurrency 0 (Knative: no limit) -> 1000, Cloud Run's largest setting")
    set_or_default(item, "concurrency", concurrency)
    timeout = tspec.get("timeoutSeconds")
    set_or_default(item, "request_timeout", None if timeout is None else
                   seconds_value(timeout, "spec.template.spec.timeoutSeconds", number, problems))
    instance_size(item, tspec.get("containers"), "spec.template.spec.containers", number, problems,
                  lambda c: mapping(mapping(c.get("resources")).get("limits")))
    check_small_cpu(item, "spec.template.spec.containerConcurrency")
    item.unknown += [f"spec.template.spec.{k}" for k in sorted(tspec) if k not in SPEC_KNOWN and k != "nodeSelector"]
    if present(tspec, "nodeSelector"):
        item.not_modelled.append(f"spec.template.spec.nodeSelector {tspec['nodeSelector']}: the accelerator (GPU); "
                                 "no GPU is modelled, nor its cost")
    routes = mapping(doc.get("spec")).get("traffic")
    if isinstance(routes, list) and len(routes) > 1:   # the simulator has one revision per service
        item.notes.append(f"spec.traffic splits the traffic among {len(routes)} routes; the scenario has one "
                          "revision with all of it")
    account = tspec.get("serviceAccountName")
    if isinstance(account, str) and account.endswith(".iam.gserviceaccount.com") and "@" in account:
        project = account.split("@", 1)[1].split(".", 1)[0]
        if not item.project_id and not project.isdigit() and project != "developer":
            item.project_id, item.project_id_from = project, "spec.template.spec.serviceAccountName"
            item.paths["project"] = item.project_id_from
    return item
