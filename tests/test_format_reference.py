"""The format reference: every key has one description (the reference file's comment, else its model field's
`description`), `sim schema` carries descriptions and defaults, and docs/scenario-format.md is current."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import FAULT_CLASSES, scenario_json_schema, scenario_markdown
from sim.scenario.format_doc import fault_kinds, keys
from sim.scenario.reference import REFERENCE, parse_reference

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenario-format.md"


def test_the_shipped_reference_is_the_shared_one():
    assert REFERENCE.read_bytes() == (ROOT / "tests" / "data" / "scenario-reference.yaml").read_bytes()


def test_every_key_has_exactly_one_description():
    described = {k.path: k for k in keys()}
    assert not [p for p, k in described.items() if not k.description], "keys without a description"
    assert not [p for p, k in described.items() if k.source == "both"], \
        "described in the reference and by Field(description=...): keep one"
    assert not [p for p, k in described.items() if k.source == "docstring" and k.section is None]
    # a reference key from its comment, a key this project added from its field
    assert described["services[].concurrency"].description == "containerConcurrency, 1..1000"
    assert described["services[].concurrency"].source == "reference"
    assert described["services[].cpu_model"].source == "field"
    assert described["services[].autoscaling.failed_start_backoff.max"].source == "field"
    assert described["services[].autoscaling.panic_threshold"].group == "knative policy only (Knative defaults)"


def test_every_fault_kind_and_field_is_described():
    kinds = {f.kind: f for f in fault_kinds()}
    assert set(kinds) == set(FAULT_CLASSES)
    assert not [(f.kind, name) for f in kinds.values() for name, _, text in f.fields if not text]
    assert all(f.description for f in kinds.values())
    assert kinds["ekm-outage"].examples[1] == ("{at: 30m, kind: ekm-outage, duration: 10m, error: "
                                               "EXTERNAL_PERMISSION_DENIED}", "any other domain: not retryable")


def test_defaults_as_written():
    described = {k.path: k for k in keys()}
    assert described["duration"].default == "1h"
    assert described["kms.latency"].default == "{dist: lognormal, median: 8ms, p99: 40ms}"
    assert described["services[].name"].default == "required"
    assert described["services[].encryption_key"].default == "null"     # the reference's `images` is an example
    assert described["services[].traffic.trace"].default == "null"       # commented out in the reference
    assert described["services[].autoscaling.failed_start_backoff.initial"].default == "10s"


def test_the_json_schema_carries_descriptions_and_defaults():
    schema = scenario_json_schema()
    assert schema["properties"]["duration"]["description"] == "simulated time"
    assert schema["properties"]["duration"]["default"] == 3600.0
    service = schema["$defs"]["Service"]["properties"]
    assert service["cpu_model"]["default"] == "shared" and service["cpu_model"]["description"].startswith("shared:")
    assert schema["$defs"]["EkmOutage"]["properties"]["error"]["description"]
    for name, node in [("Scenario", schema), *schema["$defs"].items()]:
        for prop, body in node.get("properties", {}).items():
            assert body.get("description"), f"{name}.{prop} has no description"


def test_schema_command_prints_both(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == scenario_json_schema()
    assert main(["schema", "--markdown"]) == 0
    assert capsys.readouterr().out == scenario_markdown()


def test_the_committed_page_is_current():
    """After a change of the reference, a model field or its description: python -m sim schema --markdown >
    docs/scenario-format.md"""
    assert DOC.read_text(encoding="utf-8") == scenario_markdown(), \
        "docs/scenario-format.md is stale: python -m sim schema --markdown > docs/scenario-format.md"


def test_the_page_has_a_row_per_key():
    page = scenario_markdown()
    for key in keys():
        assert f"| `{key.name}` |" in page, key.path
    assert "\\*cos(2\\*pi\\*" in page            # amplitude*cos(2*pi*...) is not emphasis


PARSER_CASE = """\
# Header line
#
# More header
name: x                 # the name
limits:                 # the limits
  # A note on the limits
  # in two lines.
  low: 1                # lowest,
                        #   continued
                        # and more
  # high: 9             # commented out
                        #   with its continuation
  # group of the next two:
  a: 1
  b: 2
items:
  - id: one             # an item's id
    size: 3
faults:
  - {at: 1m, kind: k}   # first
  # - {at: 2m, kind: k} # second,
  #                     #   continued
"""


def test_the_comment_parser():
    ref = parse_reference(PARSER_CASE)
    entries = ref.entries
    assert ref.header == ["Header line", "", "More header"]
    assert entries["name"].text == "the name" and entries["name"].value == "x"
    assert entries["limits"].notes == ["A note on the limits in two lines."]
    assert entries["limits.low"].text == "lowest, continued and more"
    assert entries["limits.high"].commented and entries["limits.high"].text == "commented out with its continuation"
    assert entries["limits.a"].group == entries["limits.b"].group == "group of the next two"
    assert entries["items[].id"].text == "an item's id" and entries["items[].size"].text == ""
    assert ref.examples["k"] == [("{at: 1m, kind: k}", "first"), ("{at: 2m, kind: k}", "second, continued")]


@pytest.mark.parametrize("path", ["services[].traffic.rate", "kms.quota.enforcement", "kms.quota.background_rps"])
def test_continued_comments_are_whole(path):
    text = {k.path: k for k in keys()}[path].description
    assert text.endswith(("20]]", "60 s window", "means the HSM pool")), text
