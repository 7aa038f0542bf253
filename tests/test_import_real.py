"""`import-service` on service files as teams commit them (issue 20, points 1-6): quoted numbers and nulls,
sidecars, billing, service-level scaling, below 1 vCPU, and what is said rather than silent.
Each sample is written here in the shape the issue describes (no real file is copied)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from sim.importer import import_service

ROOT = Path(__file__).resolve().parents[1]
KEY = "projects/acme-sec/locations/europe-west1/keyRings/run/cryptoKeys/api"

V1_HEAD = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: api
  labels:
    cloud.googleapis.com/location: europe-west1
"""


def run(tmp_path, text, **kw):
    path = tmp_path / "service.yaml"
    path.write_text(text)
    return import_service(path, **kw)


def service(result) -> dict:
    assert not result.problems, result.problems
    return yaml.safe_load(result.text)["services"][0]


def cli(tmp_path, text, *args):
    path = tmp_path / "service.yaml"
    path.write_text(text)
    return subprocess.run([sys.executable, "-m", "sim", "import-service", str(path), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


# 1. Quoted integers, and null the same for every field --------------------------------------------------

QUOTED = V1_HEAD + """\
spec:
  template:
    metadata:
      annotations:
        autoscaling.knative.dev/maxScale: '7'
        autoscaling.knative.dev/minScale: null
    spec:
      containerConcurrency: '1'
      timeoutSeconds: '600'
      containers:
      - image: gcr.io/acme/api
        resources:
          limits: {cpu: '2', memory: 1Gi}
"""


def test_quoted_integers_are_the_integers_they_are(tmp_path):
    svc = service(run(tmp_path, QUOTED))
    assert svc["request_timeout"] == 600 and svc["concurrency"] == 1 and svc["max_instances"] == 7


def test_null_is_absent_for_every_field(tmp_path):
    text = QUOTED.replace("containerConcurrency: '1'", "containerConcurrency: null").replace(
        "timeoutSeconds: '600'", "timeoutSeconds: null").replace("{cpu: '2', memory: 1Gi}", "{cpu: null, memory: null}")
    result = run(tmp_path, text)
    svc = service(result)
    assert (svc["concurrency"], svc["request_timeout"], svc["min_instances"], svc["cpu"], svc["memory"]) == \
        (80, 300, 0, 1, "512Mi")
    assert "concurrency: 80   # not in the file: Cloud Run's default" in result.text


def test_a_quoted_word_is_still_refused(tmp_path):
    result = run(tmp_path, QUOTED.replace("timeoutSeconds: '600'", "timeoutSeconds: 'ten'"))
    assert result.problems == [f"{tmp_path / 'service.yaml'}: document 1: spec.template.spec.timeoutSeconds: must be "
                               "a duration in seconds such as \"300s\", got 'ten'"]


# 2. Sidecars: the instance is the sum of its containers -------------------------------------------------

SIDECARS = V1_HEAD + """\
spec:
  template:
    spec:
      containers:
      - name: otel-collector
        image: otel/opentelemetry-collector
        resources:
          limits: {cpu: '1', memory: 3Gi}
      - name: app
        image: gcr.io/acme/api
        ports:
        - containerPort: 8080
        resources:
          limits: {cpu: '2', memory: 2Gi}
      - name: proxy
        image: envoyproxy/envoy
        resources:
          limits: {cpu: 1000m, memory: 3072Mi}
"""


def test_sidecars_add_their_cpu_and_memory(tmp_path):
    result = run(tmp_path, SIDECARS)
    svc = service(result)
    assert svc["cpu"] == 4 and svc["memory"] == "8Gi"          # 2 vCPU / 2 GiB + 2 x (1 vCPU / 3 GiB)
    comment = next(line for line in result.text.splitlines() if "sum over 3 containers" in line)
    assert "app 2 vCPU / 2Gi: serves (has the port)" in comment
    assert "otel-collector 1 vCPU / 3Gi: sidecar" in comment and "proxy 1 vCPU / 3Gi: sidecar" in comment


def test_v2_sidecars_and_a_container_without_limits(tmp_path):
    text = """\
name: projects/acme-prod/locations/europe-west1/services/api
template:
  containers:
  - name: app
    ports: [{containerPort: 8080}]
    resources: {limits: {cpu: '2', memory: 2Gi}}
  - name: agent
"""
    result = run(tmp_path, text)
    svc = service(result)
    assert svc["cpu"] == 3 and svc["memory"] == "2560Mi"       # the agent counts Cloud Run's 1 vCPU / 512Mi
    assert "agent 1 vCPU / 512Mi: sidecar, Cloud Run's default for what it leaves out" in result.text


# 3. Billing, and the settings the simulator does not model ----------------------------------------------

def test_v1_cpu_throttling_false_is_instance_billing(tmp_path):
    text = QUOTED.replace("autoscaling.knative.dev/minScale: null",
                          "run.googleapis.com/cpu-throttling: 'false'\n"
                          "        run.googleapis.com/execution-environment: gen2\n"
                          "        run.googleapis.com/sessionAffinity: 'true'")
    result = run(tmp_path, text)
    assert service(result)["billing"] == "instance"
    ignored = result.text.split("# Ignored", 1)[1] if "# Ignored" in result.text else ""
    assert "execution-environment gen2: the sandbox generation" in result.text
    assert "sessionAffinity true: sticky sessions" in result.text
    assert "execution-environment" not in ignored and "sessionAffinity" not in ignored
    assert service(run(tmp_path, QUOTED.replace("minScale: null", "minScale: null\n"
                                                "        run.googleapis.com/cpu-throttling: 'true'")))[
        "billing"] == "request"


def test_v2_cpu_idle_false_is_instance_billing(tmp_path):
    text = """\
name: projects/acme-prod/locations/europe-west1/services/api
template:
  executionEnvironment: EXECUTION_ENVIRONMENT_GEN2
  sessionAffinity: true
  containers:
  - resources: {cpuIdle: false, limits: {cpu: '1', memory: 512Mi}}
"""
    result = run(tmp_path, text)
    assert service(result)["billing"] == "instance"
    assert "template.executionEnvironment EXECUTION_ENVIRONMENT_GEN2: the sandbox generation" in result.text
    assert "template.sessionAffinity True: sticky sessions" in result.text
    assert service(run(tmp_path, text.replace("cpuIdle: false", "cpuIdle: true")))["billing"] == "request"


# 4. Service-level scaling --------------------------------------------------------------------------------

def service_level_v1(service_notes: str, revision_notes: str) -> str:
    return f"""\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: api
  annotations: {{{service_notes}}}
  labels:
    cloud.googleapis.com/location: europe-west1
spec:
  template:
    metadata:
      annotations: {{{revision_notes}}}
    spec:
      containers:
      - image: gcr.io/acme/api
"""


def test_v1_service_level_min_and_max_are_honoured(tmp_path):
    result = run(tmp_path, service_level_v1("run.googleapis.com/minScale: '3', run.googleapis.com/maxScale: '20'",
                                            ""))
    svc = service(result)
    assert svc["min_instances"] == 3 and svc["max_instances"] == 20
    assert "Ignored" not in result.text or "run.googleapis.com/minScale" not in result.text.split("Ignored")[1]


def test_both_levels_take_the_larger_minimum_and_the_smaller_maximum(tmp_path):
    svc = service(run(tmp_path, service_level_v1(
        "run.googleapis.com/minScale: '3', run.googleapis.com/maxScale: '20'",
        "autoscaling.knative.dev/minScale: '1', autoscaling.knative.dev/maxScale: '50'")))
    assert svc["min_instances"] == 3 and svc["max_instances"] == 20
    svc = service(run(tmp_path, service_level_v1(
        "run.googleapis.com/minScale: '1', run.googleapis.com/maxScale: '60'",
        "autoscaling.knative.dev/minScale: '4', autoscaling.knative.dev/maxScale: '30'")))
    assert svc["min_instances"] == 4 and svc["max_instances"] == 30


def test_v2_service_and_template_scaling_combine_by_the_same_rule(tmp_path):
    text = """\
name: projects/acme-prod/locations/europe-west1/services/api
scaling: {minInstanceCount: 2, maxInstanceCount: 10}
template:
  scaling: {minInstanceCount: 5, maxInstanceCount: 40}
"""
    result = run(tmp_path, text)
    svc = service(result)
    assert svc["min_instances"] == 5 and svc["max_instances"] == 10
    assert "max_instances 10: service level 10 (scaling.maxInstanceCount)" in result.text


# 5. Below 1 vCPU -----------------------------------------------------------------------------------------

def small(concurrency: str = "") -> str:
    return V1_HEAD + f"""\
spec:
  template:
    spec:
{concurrency}      containers:
      - image: gcr.io/acme/api
        resources:
          limits: {{cpu: 750m, memory: 512Mi}}
"""


def test_below_one_vcpu_defaults_to_concurrency_one(tmp_path):
    result = run(tmp_path, small())
    assert service(result)["cpu"] == 0.75 and service(result)["concurrency"] == 1
    assert "concurrency 1: Cloud Run's rule below 1 vCPU" in result.text and not result.warnings


def test_below_one_vcpu_with_concurrency_warns_and_validate_warns(tmp_path):
    result = run(tmp_path, small("      containerConcurrency: 1000\n"))
    assert service(result)["concurrency"] == 1000
    assert result.warnings == [f"warning: {tmp_path / 'service.yaml'}: document 1: spec.template.spec."
                               "containerConcurrency: concurrency 1000 with cpu 0.75: Cloud Run needs concurrency 1 "
                               "below 1 vCPU; imported as written, as a what-if"]
    out = tmp_path / "scenario.yaml"
    out.write_text(result.text)
    check = subprocess.run([sys.executable, "-m", "sim", "validate", str(out)], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0 and "services[0].concurrency: 1000 with cpu 0.75" in check.stderr


# 6. Said, not silent -------------------------------------------------------------------------------------

def test_key_protection_for_a_file_without_a_key_says_so(tmp_path):
    done = cli(tmp_path, QUOTED, "--key-protection", "hsm")
    assert done.returncode == 0 and "name: \"api\"" in done.stdout
    assert done.stderr.strip() == (f"warning: {tmp_path / 'service.yaml'}: --key-protection hsm: the file has no "
                                   "encryption key, so the flag has nothing to act on")
    keyed = QUOTED.replace("minScale: null", f"minScale: null\n        run.googleapis.com/encryption-key: {KEY}")
    assert cli(tmp_path, keyed, "--key-protection", "hsm").stderr == ""


def test_placeholders_in_region_and_project_are_named(tmp_path):
    text = """\
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: api
  namespace: ${PROJECT_ID}
  labels:
    cloud.googleapis.com/location: REGION
spec:
  template:
    spec:
      containers:
      - image: gcr.io/acme/api
"""
    result = run(tmp_path, text)
    assert not result.problems
    assert [line.split(": ")[3] for line in result.warnings] == ["metadata.labels.cloud.googleapis.com/location",
                                                                 "metadata.namespace"]
    assert "the region 'REGION' holds the placeholder 'REGION'" in result.warnings[0]
    assert "the project '${PROJECT_ID}' holds the placeholder '${PROJECT_ID}'" in result.warnings[1]
    assert not run(tmp_path, QUOTED).warnings     # europe-west1, no project: nothing to say


def test_a_placeholder_in_the_key_is_named_by_its_field(tmp_path):
    text = QUOTED.replace("minScale: null", "minScale: null\n        run.googleapis.com/encryption-key: "
                          "projects/%PROJECT%/locations/europe-west1/keyRings/run/cryptoKeys/api")
    [line] = run(tmp_path, text).warnings
    assert "spec.template.metadata.annotations.run.googleapis.com/encryption-key: the key " in line
    assert "holds the placeholder '%PROJECT%'" in line
    # one the key form cannot hold is refused, and the refusal says it is a placeholder
    whole = text.replace("projects/%PROJECT%/locations/europe-west1/keyRings/run/cryptoKeys/api", "${KMS_KEY}")
    [line] = run(tmp_path, whole).problems
    assert "encryption-key: holds the placeholder '${KMS_KEY}': fill in the key name" in line


def test_a_refusal_names_the_files_field_not_the_scenarios(tmp_path):
    [line] = run(tmp_path, QUOTED.replace("name: api", "name: ${SERVICE}")).problems
    assert line.startswith(f"{tmp_path / 'service.yaml'}: document 1: metadata.name: must be a Cloud Run service name")
    assert "services[0]" not in line and "(as a scenario)" not in line
    [line] = run(tmp_path, "name: projects/p/locations/europe-west1/services/Bad_Name\ntemplate: {}\n").problems
    assert ": document 1: name: must be a Cloud Run service name" in line


def test_what_the_simulator_does_not_model_is_said(tmp_path):
    text = QUOTED.replace("{cpu: '2', memory: 1Gi}", "{cpu: '8', memory: 32Gi, nvidia.com/gpu: '1'}") + """\
      nodeSelector:
        run.googleapis.com/accelerator: nvidia-l4
      scaling: {minScale: 1}
  traffic:
  - {percent: 90, revisionName: api-v1}
  - {percent: 10, latestRevision: true}
"""
    result = run(tmp_path, text)
    assert service(result)["cpu"] == 8
    assert "limits.nvidia.com/gpu 1: not modelled (nor its cost)" in result.text
    assert "spec.template.spec.nodeSelector" in result.text and "#   spec.template.spec.scaling" in result.text
    assert "spec.traffic splits the traffic among 2 routes" in result.text


def test_a_sum_over_the_limit_is_refused_by_the_files_fields(tmp_path):
    text = SIDECARS.replace("{cpu: '2', memory: 2Gi}", "{cpu: '8', memory: 2Gi}")      # 8 + 1 + 1 vCPU
    [line] = run(tmp_path, text).problems
    assert ": document 1: spec.template.spec.containers[*].resources.limits.cpu (summed): " in line
    assert line.endswith("got 10")
