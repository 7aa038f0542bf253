"""The scenario: everything a run needs, read from a YAML file and checked before anything runs.

The schema follows `scenario-reference.yaml` key for key (attribute names are the YAML keys). Every value
is resolved once: durations become float seconds, memory float MiB, distributions `Dist` objects, a trace
file its (time, rps) points. The result is frozen; sweeps derive variants with `with_updates`.

A bad file never produces a traceback: `ScenarioError.problems` holds one line per problem, all at once,
each as `FILE: key.path[i].key: reason`.

This module is the public entry point. The format lives in small modules, each importing only those above
it (save Scenario's own cross check, which imports scenario_checks and scenario_errors when it runs):
    scenario_types   field types (numbers, durations, memory, distributions, rates, traces) and their checks
    scenario_faults  the fault kinds
    scenario_models  the models, in the order of the reference file, and their JSON Schema
    scenario_checks  checks across parts of the raw mapping (ids, references, times)
    scenario_errors  ScenarioError, and every problem as one line
    scenario_io      YAML reading, overrides, load_scenario / scenario_from_dict / with_updates
"""

from sim.scenario_errors import ScenarioError
from sim.scenario_faults import (
    FAULT_KINDS, NON_RETRYABLE_EKM_DOMAINS, RETRYABLE_EKM_DOMAINS, DeployFault, EkmLatency, EkmOutage, Fault,
    IamFault, KeyFault, KmsBackgroundLoad, KmsOutage, QuotaChange,
)
from sim.scenario_io import load_scenario, scenario_from_dict, with_updates
from sim.scenario_models import (
    Autoscaling, DailyPattern, Ekm, Key, KeyOperations, Kms, Project, Quota, Retry, Scenario, Service, Startup,
    Traffic, scenario_json_schema,
)
from sim.scenario_types import load_trace

__all__ = [
    "Scenario", "Project", "Kms", "Quota", "Ekm", "Retry", "Key", "Service", "Startup", "KeyOperations",
    "Autoscaling", "Traffic", "DailyPattern", "Fault", "KeyFault", "EkmOutage", "EkmLatency", "KmsOutage",
    "QuotaChange", "KmsBackgroundLoad", "IamFault", "DeployFault", "FAULT_KINDS",
    "RETRYABLE_EKM_DOMAINS", "NON_RETRYABLE_EKM_DOMAINS", "ScenarioError",
    "load_scenario", "scenario_from_dict", "with_updates", "scenario_json_schema", "load_trace",
]
