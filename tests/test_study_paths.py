"""Setting paths (sim/study/paths.py): every form of the syntax, values with units, and one-line errors."""
from __future__ import annotations

import pytest

from sim.scenario import ScenarioError, scenario_from_dict
from sim.study.paths import apply_setting, current_value, dotted_path, parse_value
from tests.conftest import KEY_NAME, base_service, make_scenario

OTHER_KEY = KEY_NAME.replace("images", "media")


@pytest.fixture(scope="module")
def scenario():
    data = make_scenario(
        services=[base_service(name="checkout", encryption_key="images"), base_service(name="api")],
        keys=[{"id": "images", "name": KEY_NAME, "protection": "hsm"},
              {"id": "media", "name": OTHER_KEY, "protection": "hsm"}],
        duration="1h",
        faults=[{"at": "10m", "kind": "kms-outage", "duration": "1m"},
                {"at": "20m", "kind": "key-disable", "key": "images"},
                {"at": "30m", "kind": "ekm-outage", "duration": "5m", "error": "UNREACHABLE_NETWORK"}])
    data["keys"][1]["protection"] = "external"
    return scenario_from_dict(data)


@pytest.mark.parametrize("path, dotted", [
    ("services.0.max_instances", "services.0.max_instances"),
    ("services[0].max_instances", "services.0.max_instances"),
    ("services[1].max_instances", "services.1.max_instances"),
    ("services[checkout].concurrency", "services.0.concurrency"),
    ("services[api].concurrency", "services.1.concurrency"),
    ("keys[media].protection", "keys.1.protection"),
    ("faults[2].duration", "faults.2.duration"),
    ("kms.quota.hsm_requests_per_minute", "kms.quota.hsm_requests_per_minute"),
    ("duration", "duration"),
    ("services[api].autoscaling.failed_start_backoff.max", "services.1.autoscaling.failed_start_backoff.max"),
    ("services[api].service_time", "services.1.service_time"),            # a distribution is one setting
    ("kms.quota.background_rps", "kms.quota.background_rps"),               # a number or a mapping
    ("services[api].traffic.daily_pattern.amplitude", "services.1.traffic.daily_pattern.amplitude"),  # optional
    ("faults[2].key", "faults.2.key"),                                      # optional key of that fault kind
])
def test_every_form_names_its_setting(scenario, path, dotted):
    assert dotted_path(scenario, path) == dotted


def test_current_value_is_the_resolved_one(scenario):
    assert current_value(scenario, "faults[2].duration") == 300.0
    assert current_value(scenario, "services[api].traffic.daily_pattern.amplitude") is None
    assert current_value(scenario, "keys[media].protection") == "external"


@pytest.mark.parametrize("text, value", [("30m", "30m"), ("150ms", "150ms"), ("5", 5), ("2.5", 2.5),
                                         ("1e3", 1000.0), ("true", True), ("hsm", "hsm"), ("null", None),
                                         ("[[0, 5], [1h, 9]]", [[0, 5], ["1h", 9]])])
def test_values_are_yaml_scalars_and_units_stay_text(text, value):
    assert parse_value(text) == value and type(parse_value(text)) is type(value)


def test_apply_setting_checks_and_converts(scenario):
    longer = apply_setting(scenario, "faults[2].duration", "20m")
    assert longer.faults[2].duration == 1200.0 and scenario.faults[2].duration == 300.0
    assert apply_setting(scenario, "services[api].concurrency", 7).service("api").concurrency == 7
    assert apply_setting(scenario, "keys[media].protection", "hsm").key("media").protection == "hsm"
    with pytest.raises(ScenarioError) as err:
        apply_setting(scenario, "services[checkout].min_instances", -1)
    assert "services[0].min_instances" in err.value.problems[0]


@pytest.mark.parametrize("path, expected", [
    ("services[chekout].concurrency", "services has no item named 'chekout'; did you mean 'checkout'? "
                                      "(services: checkout, api)"),
    ("services[7].concurrency", "services has no item 7"),
    ("services[-1].concurrency", "services has no item -1"),
    ("keys[image].protection", "keys has no item named 'image'; did you mean 'images'?"),
    ("faults[disable].at", "the items of faults have no name or id; choose one by index"),
    ("faults[3].duration", "faults has no item 3"),
    ("kms.quata.hsm_requests_per_minute", "kms has no key 'quata'; did you mean 'quota'?"),
    ("services[0].max_instance", "has no key 'max_instance'; did you mean 'max_instances'?"),
    ("faults[1].duration", "faults[1] has no key 'duration'"),              # a key-disable has none
    ("kms.quota", "kms.quota is a section; name one of its keys"),
    ("services", "services is a list of items"),
    ("services[api]", "services[1] is a whole item"),
    ("keys[images]", "keys[0] is a whole item"),
    ("services.x.concurrency", "services is a list; choose an item"),
    ("duration.x", "duration is a single value"),
    ("duration[0]", "duration is not a list"),
    ("services..concurrency", "malformed path"),
    ("services[0]concurrency", "malformed path"),
    ("", "empty path"),
])
def test_a_bad_path_is_one_line_naming_it_and_what_exists(scenario, path, expected):
    with pytest.raises(ScenarioError) as err:
        dotted_path(scenario, path)
    assert len(err.value.problems) == 1 and "\n" not in err.value.problems[0]
    assert expected in err.value.problems[0]
    assert err.value.problems[0].startswith(path or "empty path")
