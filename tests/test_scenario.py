"""The scenario schema: the reference file, defaults, round trips, updates, and one clear line per problem."""

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.dists import Constant, Empirical, LogNormal
from sim.scenario import (
    FAULT_KINDS, NON_RETRYABLE_EKM_DOMAINS, RETRYABLE_EKM_DOMAINS, DeployFault, EkmOutage, KeyFault,
    QuotaChange, Scenario, ScenarioError, load_scenario, scenario_from_dict, scenario_json_schema, with_updates,
)

DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "scenario-reference.yaml"


def reference_mapping() -> dict:
    return yaml.safe_load(REFERENCE.read_text())


def problems(tmp_path, monkeypatch, content) -> list[str]:
    """The problem lines for a scenario written to scenario.yaml (a mapping is dumped as YAML)."""
    monkeypatch.chdir(tmp_path)
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    Path("scenario.yaml").write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario("scenario.yaml")
    lines = info.value.problems
    assert lines and all(line.startswith("scenario.yaml: ") and "\n" not in line for line in lines)
    assert str(info.value) == "\n".join(lines)
    return lines


def mutated(**changes) -> dict:
    """The reference mapping with dotted paths set (a value of DELETE removes the key)."""
    data = reference_mapping()
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            last = int(last)
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


DELETE = object()


# --------------------------------------------------------------------------------------------------------
# The reference file and defaults.

def test_reference_file_is_the_shared_one():
    shared = Path(__file__).parents[2] / "shared" / "scenario-reference.yaml"
    if shared.exists():
        assert shared.read_text() == REFERENCE.read_text(), "tests/data copy is out of date"


def test_reference_loads():
    s = load_scenario(REFERENCE)
    assert s.name == "reference" and s.duration == 3600.0 and s.warmup == 0.0 and s.seed == 1
    assert s.timeseries_interval == 10.0 and s.start_time == "2026-01-01T00:00:00Z"
    assert s.project.service_agent == "service-123456789012@serverless-robot-prod.iam.gserviceaccount.com"
    assert s.kms.latency == LogNormal.from_median_p99(0.008, 0.040)
    assert s.kms.quota.hsm_requests_per_minute == 30000 and s.kms.quota.enforcement == "per-second"
    assert s.kms.ekm.timeout == 0.150 and s.kms.retry.max_backoff == 32.0 and s.kms.retry.jitter == 0.2
    assert (s.kms.quota.background_rps.hsm, s.kms.quota.background_rps.external) == (0, 0)
    key = s.keys[0]
    assert (key.id, key.protection, key.project, key.location) == ("images", "hsm", "acme-sec", "us-central1")
    assert key.destroy_scheduled_duration == 30 * 86400
    svc = s.services[0]
    assert svc.name == "checkout" and svc.encryption_key == "images" and svc.memory == 512.0
    assert svc.shutdown_after == 3600.0 and svc.idle_retention == 900.0 and svc.pending_timeout == "auto"
    assert svc.service_time == LogNormal.from_mean_cv(0.12, 1.0)
    assert svc.startup.container_start == Constant(0.2)
    assert svc.autoscaling.window == 60.0 and svc.autoscaling.max_scale_up_rate == 1000
    assert svc.traffic.rate == 50.0 and svc.traffic.trace is None and svc.traffic.trace_points is None
    assert [(f.at, f.kind) for f in s.faults] == [(1200.0, "key-disable"), (1500.0, "key-enable")]
    assert all(isinstance(f, KeyFault) for f in s.faults)
    assert s.source_path == REFERENCE.resolve() and s.base_dir == DATA.resolve()


def test_defaults_are_the_reference_values():
    minimal = scenario_from_dict({"name": "reference", "services": [{"name": "checkout"}]})
    ref = load_scenario(REFERENCE)
    assert minimal.kms == ref.kms and minimal.project == ref.project
    assert minimal.services[0] == ref.services[0].model_copy(update={"encryption_key": None})
    for field in ("duration", "warmup", "seed", "replications", "timeseries_interval", "start_time"):
        assert getattr(minimal, field) == getattr(ref, field)
    assert minimal.keys == () and minimal.faults == ()


def test_scenario_is_frozen():
    s = load_scenario(REFERENCE)
    with pytest.raises(Exception):
        s.duration = 5
    with pytest.raises(Exception):
        s.services[0].concurrency = 5


# --------------------------------------------------------------------------------------------------------
# Round trips and updates.

FULL = """
name: full.test_1
duration: 2h
warmup: 5m
start_time: 2026-03-01T12:00:00Z
project: {number: 42}
keys:
  - {id: hsm, name: projects/acme-sec/locations/us-central1/keyRings/r/cryptoKeys/a}
  - {id: ext, name: projects/acme-prod/locations/us-central1/keyRings/r/cryptoKeys/b, protection: external}
services:
  - name: api
    encryption_key: ext
    memory: 1Gi
    pending_timeout: 30s
    service_time: {dist: empirical, file: samples.txt}
    traffic: {trace: traces/api.csv, arrivals: deterministic}
  - name: web
    encryption_key: hsm
    traffic: {rate: [[0, 20], [30m, 20], [32m, 800]], daily_pattern: {amplitude: 0.4, peak_at: 14h}}
    autoscaling: {policy: knative}
faults:
  - {at: 40m, kind: deploy, service: web}
  - {at: 30m, kind: deploy, service: web, encryption_key: null}
  - {at: 30m, kind: ekm-outage, duration: 10m, error: UNREACHABLE_NETWORK, key: ext}
  - {at: 31m, kind: ekm-latency, duration: 10m, latency: {dist: lognormal, median: 140ms, p99: 600ms}}
  - {at: 1m, kind: quota-change, hsm_requests_per_minute: 600}
  - {at: 1m, kind: kms-background-load, duration: 5m, rps: 400}
  - {at: 1m, kind: kms-background-load, duration: 5m, rps: 40, pool: external, project: acme-prod}
  - {at: 1m, kind: kms-outage, duration: 5m}
  - {at: 2m, kind: iam-revoke, key: ext}
  - {at: 3m, kind: iam-grant, key: ext}
  - {at: 4m, kind: key-schedule-destroy, key: hsm}
"""


@pytest.fixture
def full(tmp_path):
    (tmp_path / "traces").mkdir()
    (tmp_path / "traces" / "api.csv").write_text("time,rps\n0,5\n90s,12.5\n2m,0\n")
    (tmp_path / "samples.txt").write_text("0.1\n0.2\n350ms\n")
    (tmp_path / "full.yaml").write_text(FULL)
    return load_scenario(tmp_path / "full.yaml")


def test_full_scenario(full):
    assert full.project.number == "42" and full.start_time == "2026-03-01T12:00:00Z"
    api, web = full.services
    assert api.memory == 1024.0 and api.pending_timeout == 30.0
    assert api.service_time == Empirical([0.1, 0.2, 0.35])
    assert api.traffic.rate is None and api.traffic.trace_points == ((0.0, 5.0), (90.0, 12.5), (120.0, 0.0))
    assert Path(api.traffic.trace).is_absolute()
    assert web.traffic.rate == ((0.0, 20.0), (1800.0, 20.0), (1920.0, 800.0))
    assert web.traffic.daily_pattern.peak_at == 14 * 3600
    assert [f.at for f in full.faults] == sorted(f.at for f in full.faults)
    deploys = [f for f in full.faults if isinstance(f, DeployFault)]
    assert [(f.at, f.keep_current_key, f.encryption_key) for f in deploys] == [(1800, False, None), (2400, True, None)]
    outage = next(f for f in full.faults if isinstance(f, EkmOutage))
    assert outage.retryable and outage.key == "ext"
    quota = next(f for f in full.faults if isinstance(f, QuotaChange))
    assert quota.external_requests_per_minute is None and quota.duration is None
    assert full.key("ext").protection == "external" and full.service("web").autoscaling.policy == "knative"
    loads = [f for f in full.faults if f.kind == "kms-background-load"]
    assert [(f.pool, f.project) for f in loads] == [("hsm", None), ("external", "acme-prod")]
    assert [f.key for f in full.faults if f.kind.startswith("iam-")] == ["ext", "ext"]


def test_background_rps_per_pool_and_a_plain_number_means_hsm():
    plain = scenario_from_dict({"name": "b", "services": [{"name": "a"}], "kms": {"quota": {"background_rps": 7}}})
    assert (plain.kms.quota.background_rps.hsm, plain.kms.quota.background_rps.external) == (7, 0)
    both = scenario_from_dict({"name": "b", "services": [{"name": "a"}],
                               "kms": {"quota": {"background_rps": {"external": 2.5}}}})
    assert (both.kms.quota.background_rps.hsm, both.kms.quota.background_rps.external) == (0, 2.5)
    assert scenario_from_dict(plain.to_resolved_dict()) == plain


def test_round_trip_is_equal(full, tmp_path):
    resolved = full.to_resolved_dict()
    json.dumps(resolved)  # plain data only
    assert scenario_from_dict(resolved) == full
    assert hash(scenario_from_dict(resolved)) == hash(full)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "resolved.yaml").write_text(yaml.safe_dump(resolved))
    assert load_scenario(tmp_path / "elsewhere" / "resolved.yaml") == full  # absolute paths, inline values
    assert "trace_points" not in resolved["services"][0]["traffic"]
    assert resolved["services"][1]["traffic"]["rate"] == [[0.0, 20.0], [1800.0, 20.0], [1920.0, 800.0]]
    deploys = [f for f in resolved["faults"] if f["kind"] == "deploy"]
    assert deploys == [{"at": 1800.0, "kind": "deploy", "service": "web", "encryption_key": None},
                       {"at": 2400.0, "kind": "deploy", "service": "web"}]


def test_reference_round_trip():
    s = load_scenario(REFERENCE)
    assert scenario_from_dict(s.to_resolved_dict()) == s
    assert scenario_from_dict(s.to_resolved_dict()).to_resolved_dict() == s.to_resolved_dict()


def test_overrides(tmp_path):
    s = load_scenario(REFERENCE, {"seed": 3, "duration": "30m", "kms.quota.hsm_requests_per_minute": 600,
                                  "services.0.max_instances": 5, "services.0.traffic.daily_pattern.amplitude": 0.5,
                                  "services.0.traffic.daily_pattern.peak_at": "2h"})
    assert (s.seed, s.duration, s.kms.quota.hsm_requests_per_minute) == (3, 1800.0, 600.0)
    assert s.services[0].max_instances == 5 and s.services[0].traffic.daily_pattern.peak_at == 7200.0
    with pytest.raises(ScenarioError) as info:
        load_scenario(REFERENCE, {"services.4.max_instances": 5, "duration": "10m"})
    assert any("override services.4.max_instances: services has no item 4" in p for p in info.value.problems)


def test_overrides_are_validated():
    with pytest.raises(ScenarioError) as info:
        load_scenario(REFERENCE, {"duration": "20m"})  # the faults at 20m and 25m now fall after the end
    assert any(p.endswith("faults[0].at: fault at or after the end of the run (at 20m, duration 20m)")
               for p in info.value.problems)


def test_with_updates(full):
    changed = with_updates(full, {"seed": 9, "services.1.max_instances": 7, "services.0.traffic.rate": 10})
    assert changed.seed == 9 and changed.services[1].max_instances == 7
    assert changed.services[0].traffic.rate == 10.0 and changed.services[0].traffic.trace is None
    assert full.seed == 1 and full.services[1].max_instances == 100  # the original is unchanged
    assert changed.source_path == full.source_path and changed.base_dir == full.base_dir
    assert with_updates(full, {}) == full
    with pytest.raises(ScenarioError) as info:
        with_updates(full, {"services.1.concurrency": 0})
    assert info.value.problems == [f"{full.source_path}: services[1].concurrency: must be between 1 and 1000, got 0"]


def test_equality_ignores_where_it_came_from():
    data = reference_mapping()
    assert scenario_from_dict(data, source="a") == load_scenario(REFERENCE)
    assert scenario_from_dict(data) != scenario_from_dict({**data, "seed": 2})


def test_cross_project_key_is_fine():
    data = mutated(keys__0__name="projects/other/locations/us-central1/keyRings/r/cryptoKeys/k")
    assert scenario_from_dict(data).keys[0].project == "other"


def test_ekm_domains():
    assert len(RETRYABLE_EKM_DOMAINS) == 5 and len(NON_RETRYABLE_EKM_DOMAINS) == 6
    assert not RETRYABLE_EKM_DOMAINS & NON_RETRYABLE_EKM_DOMAINS
    assert len(FAULT_KINDS) == 14          # issue 17 added kms-region-busy


def test_json_schema_accepts_the_reference():
    schema = scenario_json_schema()
    json.dumps(schema)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(reference_mapping(), schema)
    service = schema["$defs"]["Service"]["properties"]
    assert {"type": "string"} in [{"type": s.get("type")} for s in service["request_timeout"]["anyOf"]]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mutated(services__0__concurrency=0), schema)


# --------------------------------------------------------------------------------------------------------
# One clear line per problem, with the key's path.

BAD = [
    (dict(services__0__concurrency=0), "services[0].concurrency: must be between 1 and 1000, got 0"),
    (dict(services__0__concurency=5), "services[0].concurency: unknown key (did you mean 'concurrency'?)"),
    (dict(kms__quota__bogus=1), "kms.quota.bogus: unknown key"),
    (dict(colour="red"), "colour: unknown key"),
    (dict(name=DELETE), "name: missing required key"),
    (dict(services=DELETE), "services: missing required key"),
    (dict(services=[]), "services: must have at least 1 item"),
    (dict(services__0__concurrency="many"), "services[0].concurrency: must be a whole number, got 'many'"),
    (dict(services__0__concurrency=2.5), "services[0].concurrency: must be a whole number, got 2.5"),
    (dict(services__0__startup_cpu_boost="yes please"), "services[0].startup_cpu_boost: must be true or false"),
    (dict(seed="one"), "seed: must be a whole number, got 'one'"),
    (dict(kms="fast"), "kms: must be a mapping (key: value), got 'fast'"),
    (dict(keys="images"), "keys: must be a list, got 'images'"),
    (dict(duration="-5m"), "duration: must not be negative, got '-5m'"),
    (dict(duration=0), "duration: must be greater than 0s, got 0s"),
    (dict(duration="an hour"), "duration: must be a duration such as 30s, 150ms, 15m or 1h30m, got 'an hour'"),
    (dict(warmup="2h"), "warmup: must be less than duration (1h), got 2h"),
    (dict(services__0__request_timeout="2h"), "services[0].request_timeout: must be greater than 0s and at most 1h, got 2h"),
    (dict(services__0__cpu=0), "services[0].cpu: must be greater than 0 and at most 8, got 0"),
    (dict(services__0__memory="lots"), "services[0].memory: must be a memory size such as 512Mi or 2Gi"),
    (dict(services__0__min_instances=5, services__0__max_instances=2),
     "services[0].min_instances: must not exceed max_instances (2), got 5"),
    (dict(services__0__routing="fastest"),
     "services[0].routing: must be one of least-loaded, newest-first, random, got 'fastest'"),
    (dict(services__0__name="Checkout"), "services[0].name: must be a Cloud Run service name"),
    (dict(services__0__service_time={"dist": "weibull", "k": 2}),
     "services[0].service_time.dist: unknown distribution 'weibull'; valid: constant, empirical, exponential, "
     "gamma, lognormal, uniform"),
    (dict(services__0__service_time={"dist": "lognormal", "median": "1s"}),
     "services[0].service_time: lognormal needs either median and p99, or mean and cv, or mu and sigma, got median"),
    (dict(kms__latency={"dist": "lognormal", "median": "8ms", "p99": "4ms"}),
     "kms.latency.p99: must be greater than the median (8ms), got 4ms"),
    (dict(services__0__service_time={"dist": "gamma", "mean": "1s", "cv": 0}),
     "services[0].service_time.cv: must be greater than 0, got 0"),
    (dict(services__0__startup__app_init={"dist": "exponential", "mean": "1s", "sd": 1}),
     "services[0].startup.app_init.sd: unexpected parameter for exponential"),
    (dict(services__0__service_time={"dist": "empirical", "file": "nope.csv"}),
     "services[0].service_time.file: file not found"),
    (dict(services__0__traffic__trace="nope.csv"), "services[0].traffic.trace: file not found: nope.csv"),
    (dict(services__0__traffic__rate=[[0, 5], [60, -1]]), "services[0].traffic.rate[1]: must be at least 0, got -1"),
    (dict(services__0__traffic__rate=[[10, 5]]), "services[0].traffic.rate[0]: the first point must be at time 0"),
    (dict(services__0__traffic__rate=[[0, 5], [0, 6]]), "services[0].traffic.rate[1]: times must increase"),
    (dict(services__0__traffic__rate="lots"), "services[0].traffic.rate: must be requests per second or a list"),
    (dict(services__0__traffic__rate=None), "services[0].traffic: needs `rate` or `trace`"),
    (dict(services__0__encryption_key="imgs"), "services[0].encryption_key: unknown key id 'imgs' (keys: images)"),
    (dict(keys__0__name="projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"),
     "keys[0].name: location 'europe-west1' must equal the services' region (project.region 'us-central1')"),
    (dict(keys__0__name="images"), "keys[0].name: must be a key resource name"),
    (dict(keys__0__protection="cloud"), "keys[0].protection: must be one of software, hsm, external, external-vpc"),
    (dict(keys__0__destroy_scheduled_duration="1h"),
     "keys[0].destroy_scheduled_duration: must be between 1d and 120d, got 1h"),
    (dict(project__number="12ab"), "project.number: must be a project number (digits only), got '12ab'"),
    (dict(name="my run"), "name: must be usable as a folder name"),
    (dict(start_time="yesterday"), "start_time: must be an RFC 3339 time"),
    (dict(faults__0__at="2h"), "faults[0].at: fault at or after the end of the run (at 2h, duration 1h)"),
    (dict(faults__0__key="nokey"), "faults[0].key: unknown key id 'nokey' (keys: images)"),
    (dict(faults__0__kind="key-melt"), "faults[0].kind: unknown fault kind 'key-melt'; valid: key-disable"),
    (dict(faults__0__kind=DELETE), "faults[0].kind: missing required key"),
    (dict(faults__0__key=DELETE), "faults[0].key: missing required key"),
    (dict(faults__0__colour=1), "faults[0].colour: unknown key"),
    (dict(faults__0={"at": "1m", "kind": "ekm-outage", "duration": "1m", "error": "OOPS"}),
     "faults[0].error: must be one of TIMEOUT, UNREACHABLE_NETWORK"),
    (dict(faults__0={"at": "1m", "kind": "ekm-outage", "duration": "1m", "error": "TIMEOUT", "key": "images"}),
     "faults[0].key: key 'images' has protection hsm; ekm-outage needs an external or external-vpc key"),
    (dict(faults__0={"at": "1m", "kind": "iam-revoke", "key": "cart"}),
     "faults[0].key: unknown key id 'cart' (keys: images)"),
    (dict(faults__0={"at": "1m", "kind": "kms-background-load", "duration": "1m", "rps": 1, "project": "acme"}),
     "faults[0].project: unknown key project 'acme' (key projects: acme-sec)"),
    (dict(faults__0={"at": "1m", "kind": "kms-background-load", "duration": "1m", "rps": 1, "pool": "ekm"}),
     "faults[0].pool: must be one of hsm, external, got 'ekm'"),
    (dict(kms__quota__background_rps=-2), "kms.quota.background_rps: must be at least 0, got -2"),
    (dict(kms__quota__background_rps="lots"),
     "kms.quota.background_rps: must be requests per second (the HSM pool) or {hsm: N, external: M}, got 'lots'"),
    (dict(kms__quota__background_rps={"hsm": 1, "ekm": 2}), "kms.quota.background_rps.ekm: unknown key"),
    (dict(faults__0={"at": "1m", "kind": "iam-revoke", "service": "checkout"}),
     "faults[0].service: iam-revoke takes key: (the service agent's role is granted on a key, for every service "
     "of the project); write key: images"),
    (dict(faults__0={"at": "1m", "kind": "iam-grant", "service": "cart"}),
     "faults[0].service: iam-grant takes key: (the service agent's role is granted on a key, for every service "
     "of the project); write key: <the service's key id>"),
    (dict(faults__0={"at": "1m", "kind": "deploy", "service": "checkout", "encryption_key": "new"}),
     "faults[0].encryption_key: unknown key id 'new' (keys: images)"),
    (dict(faults__0={"at": "1m", "kind": "quota-change"}),
     "faults[0]: needs hsm_requests_per_minute or external_requests_per_minute (or both)"),
    (dict(faults__0={"at": "1m", "kind": "kms-outage", "duration": 0}),
     "faults[0].duration: must be greater than 0s, got 0s"),
    (dict(kms__retry__max_backoff="500ms"), "kms.retry.max_backoff: must be at least initial_backoff (1s), got 500ms"),
    (dict(keys__1={"id": "images", "name": "projects/p/locations/us-central1/keyRings/r/cryptoKeys/k2"}),
     "keys[1].id: duplicate key id 'images'"),
    (dict(services__1={"name": "checkout"}), "services[1].name: duplicate service name 'checkout'"),
]


@pytest.mark.parametrize("changes, expected", BAD, ids=[e.split(":")[0] for _, e in BAD])
def test_bad_input_gives_one_clear_line(tmp_path, monkeypatch, changes, expected):
    data = reference_mapping()
    for dotted, value in changes.items():  # list items beyond the end are appended
        *parents, last = dotted.split("__")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list) and int(last) == len(node):
            node.append(value)
        elif value is DELETE:
            del node[int(last) if isinstance(node, list) else last]
        else:
            node[int(last) if isinstance(node, list) else last] = value
    lines = problems(tmp_path, monkeypatch, data)
    assert any(line.startswith("scenario.yaml: " + expected) for line in lines), lines
    assert len(lines) == 1, lines


@pytest.mark.parametrize("text, expected", [
    ("name: x\nservices:\n  - name: a\n   concurrency: 3\n", "scenario.yaml: line 4: invalid YAML"),
    ("name: x\nservices: [{name: a}\n", "scenario.yaml: line 3: invalid YAML"),
    ("name: x\nname: y\nservices: [{name: a}]\n", "scenario.yaml: line 2: duplicate key 'name'"),
    ("- name: x\n", "scenario.yaml: a scenario must be a mapping (key: value) with at least `name` and `services`; "
                    "this one is a list"),
    ("just text\n", "this one is a single text"),
    ("", "this one is empty"),
])
def test_file_level_problems(tmp_path, monkeypatch, text, expected):
    lines = problems(tmp_path, monkeypatch, text)
    assert len(lines) == 1 and lines[0].startswith("scenario.yaml: ") and expected in lines[0], lines


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("nope.yaml")
    assert info.value.problems == ["nope.yaml: file not found"]


@pytest.mark.parametrize("csv, expected", [
    ("when,rps\n0,1\n", "the header must name the columns time and rps"),
    ("time,rps\n0,1\n1m,x\n", "line 3: rps must be a number"),
    ("time,rps\n1m,1\n30s,1\n", "line 3: times must increase"),
    ("time,rps\n", "has a header but no rows"),
])
def test_bad_trace_file(tmp_path, monkeypatch, csv, expected):
    (tmp_path / "t.csv").write_text(csv)
    lines = problems(tmp_path, monkeypatch, mutated(services__0__traffic__trace="t.csv",
                                                    services__0__traffic__rate=DELETE))
    assert len(lines) == 1 and lines[0].startswith("scenario.yaml: services[0].traffic.trace: ")
    assert expected in lines[0]


def test_rate_and_trace_together(tmp_path, monkeypatch):
    (tmp_path / "t.csv").write_text("time,rps\n0,1\n")
    lines = problems(tmp_path, monkeypatch, mutated(services__0__traffic__trace="t.csv"))
    assert lines == ["scenario.yaml: services[0].traffic: give either `rate` or `trace`, not both"]


def test_several_problems_give_several_lines(tmp_path, monkeypatch):
    data = mutated(services__0__concurrency=0, duration="-1h", kms__quota__enforcement="hourly",
                   services__0__encryption_key="imgs", faults__1__key="gone", services__0__bogus=True)
    lines = problems(tmp_path, monkeypatch, data)
    for path in ("services[0].concurrency:", "duration:", "kms.quota.enforcement:", "services[0].encryption_key:",
                 "faults[1].key:", "services[0].bogus: unknown key"):
        assert any(line.startswith("scenario.yaml: " + path) for line in lines), (path, lines)
    assert len(lines) == 6


def test_direct_validation_also_checks_references():
    data = mutated(services__0__encryption_key="imgs")
    with pytest.raises(ValueError, match="unknown key id 'imgs'"):
        Scenario.model_validate(data)


# --------------------------------------------------------------------------------------------------------
# Random damage to a valid scenario: a ScenarioError or a Scenario, never anything else.

def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


_BASE = reference_mapping()
_BASE["faults"] += [
    {"at": "30m", "kind": "deploy", "service": "checkout", "encryption_key": "images"},
    {"at": "30m", "kind": "quota-change", "hsm_requests_per_minute": 600, "duration": "1m"},
]
_PATHS = [p for p in _paths(_BASE) if p]
_JUNK = st.sampled_from([
    -1, 0, -0.5, 1e308, 10**30, 2**63, float("nan"), float("inf"), True, False, None, "", "abc", "-5s", "10q",
    "0", "1h", [], {}, [1, 2], [[0, 1], [0, 2]], {"dist": "lognormal"}, {"dist": "nope"}, {"a": 1},
    "Checkout", "images", "key-disable", "projects/p/locations/x/keyRings/r/cryptoKeys/k", [None], {"": None},
])


@st.composite
def damaged(draw):
    data = copy.deepcopy(_BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS))
        node = data
        try:
            for part in path[:-1]:
                node = node[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[path[-1]] = draw(_JUNK)
            elif action == "delete":
                del node[path[-1]]
            elif isinstance(node, dict):
                node[draw(st.sampled_from(["extra", "Name", "kind", "x_y", 5]))] = draw(_JUNK)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier mutation removed or replaced the path
    return data


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_scenarios_fail_cleanly(data):
    try:
        scenario = scenario_from_dict(data, base_dir=DATA)
    except ScenarioError as exc:
        assert exc.problems and all(line.startswith("<dict>: ") and "\n" not in line for line in exc.problems)
    else:
        assert scenario_from_dict(scenario.to_resolved_dict()) == scenario


def test_scenario_pickles_for_worker_processes(full):
    import pickle

    clone = pickle.loads(pickle.dumps(full))
    assert clone == full and clone.source_path == full.source_path
    assert clone.services[0].traffic.trace_points == full.services[0].traffic.trace_points


def test_the_reference_files_commented_faults_are_accepted():
    """Every commented-out fault example of the reference file parses, with the meaning its comment gives."""
    lines = [line.split("#", 2)[1].strip() for line in REFERENCE.read_text().splitlines()
             if line.strip().startswith("# - {")]
    examples = [yaml.safe_load(line)[0] for line in lines]
    assert len(examples) >= 12
    data = reference_mapping()
    data["faults"] = examples
    s = scenario_from_dict(data)
    kinds = {f.kind: f for f in s.faults}
    assert set(kinds) >= {"kms-background-load", "iam-revoke", "iam-grant", "deploy", "quota-change"}
    load = kinds["kms-background-load"]
    assert (load.pool, load.project, load.rps) == ("hsm", None, 400)
    assert kinds["iam-revoke"].key == kinds["iam-grant"].key == "images"
