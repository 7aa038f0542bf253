"""The scenario: everything a run needs, read from a YAML file and checked before anything runs.

The schema follows `scenario-reference.yaml` key for key (attribute names are the YAML keys). Every value
is resolved once: durations become float seconds, memory float MiB, distributions `Dist` objects, a trace
file its (time, rps) points. The result is frozen; sweeps derive variants with `with_updates`.

A bad file never produces a traceback: `ScenarioError.problems` holds one line per problem, all at once,
each as `FILE: key.path[i].key: reason`.

This package is the public entry point. Its modules import one way only, each just those above it:
    constants  names, patterns and texts shared by several modules (a leaf)
    types      field types (numbers, durations, memory, distributions, rates, traces) and their checks
    faults     the fault kinds, one class each, and their registry FAULT_CLASSES; fault_windows for charts
    checks     checks across parts of the raw mapping (ids, references, times)
    models     the models, in the order of the reference file, and their JSON Schema
    reference  the reference file's comments (descriptions), parsed (a leaf but for YAML)
    format_doc each key's description and default: the JSON Schema `sim schema` prints, and the markdown
               page docs/scenario-format.md (`sim schema --markdown`)
    errors     ScenarioError, and every problem as one line
    io         YAML reading, overrides, load_scenario / scenario_from_dict / with_updates
    warnings   scenarios that validate but cannot mean what they say: a registry of checks, one line each
It needs neither the model nor SimPy, SciPy or matplotlib (`sim validate` and `sim schema` stay light).
"""

from sim.scenario.constants import NON_RETRYABLE_EKM_DOMAINS, RETRYABLE_EKM_DOMAINS
from sim.scenario.errors import ScenarioError
from sim.scenario.faults import (
    FAULT_CLASSES, FAULT_KINDS, CrossContext, DeployFault, EkmLatency, EkmOutage, Fault, FaultBase, FaultWindow,
    IamFault, IamGrant, IamRevoke, KeyDestroy, KeyDisable, KeyEnable, KeyFault, KeyRestore, KeyScheduleDestroy,
    KmsBackgroundLoad, KmsOutage, QuotaChange, fault_windows,
)
from sim.scenario.io import load_scenario, scenario_from_dict, with_updates
from sim.scenario.models import (
    Autoscaling, DailyPattern, Ekm, Key, KeyOperations, Kms, Project, Quota, Retry, Scenario, Service, Startup,
    Traffic,
)
from sim.scenario.format_doc import scenario_json_schema, scenario_markdown
from sim.scenario.traces import load_azure, load_monitoring, load_trace, read_trace
from sim.scenario.warnings import load_with_warnings, scenario_warnings

__all__ = [
    "Scenario", "Project", "Kms", "Quota", "Ekm", "Retry", "Key", "Service", "Startup", "KeyOperations",
    "Autoscaling", "Traffic", "DailyPattern", "Fault", "KeyFault", "EkmOutage", "EkmLatency", "KmsOutage",
    "QuotaChange", "KmsBackgroundLoad", "IamFault", "DeployFault", "FAULT_KINDS",
    "RETRYABLE_EKM_DOMAINS", "NON_RETRYABLE_EKM_DOMAINS", "ScenarioError",
    "load_scenario", "scenario_from_dict", "with_updates", "scenario_json_schema", "scenario_markdown", "load_trace",
    "load_azure", "load_monitoring", "read_trace", "load_with_warnings", "scenario_warnings",
    # the fault registry
    "FAULT_CLASSES", "FaultBase", "CrossContext", "FaultWindow", "fault_windows",
    "KeyDisable", "KeyEnable", "KeyScheduleDestroy", "KeyRestore", "KeyDestroy", "IamRevoke", "IamGrant",
]
