"""Trace layouts real exports have (issue 20, points 7 and 8), on hand-written files of their exact shape:
Cloud Monitoring rate and count exports (CSV and the JSON of projects.timeSeries.list), raw points off one
alignment, and Metrics Explorer's "Download CSV". No real data: every sample here is made up."""
from __future__ import annotations

import json

import pytest
import yaml

from conftest import make_scenario
from sim.scenario import scenario_from_dict, scenario_json_schema
from sim.scenario.metrics_explorer import js_date
from test_traces import AT, arrivals_of, problems, traffic, within_poisson


def point(end: str, value, start: str | None = None) -> dict:
    """A TimeSeries point as the API writes it (proto3 JSON: an int64 is a string)."""
    interval = {"endTime": end} if start is None else {"startTime": start, "endTime": end}
    key = "doubleValue" if isinstance(value, float) else "int64Value"
    return {"interval": interval, "value": {key: value if key == "doubleValue" else str(value)}}


def series(revision: str, points: list[dict], kind="DELTA", value_type="INT64") -> dict:
    return {"metric": {"type": "run.googleapis.com/request_count", "labels": {"response_code_class": "2xx"}},
            "resource": {"type": "cloud_run_revision", "labels": {
                "project_id": "example-project", "service_name": "checkout", "revision_name": revision,
                "location": "europe-west1", "configuration_name": "checkout"}},
            "metricKind": kind, "valueType": value_type, "points": points}


def write(tmp_path, name: str, data) -> str:
    (tmp_path / name).write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return name


def one(tmp_path, trace) -> str:
    lines = problems(tmp_path, trace)
    assert len(lines) == 1, lines
    assert lines[0].startswith(AT), lines[0]
    return lines[0]


# --- point 7: rates and counts -----------------------------------------------------------------------------

# ALIGN_RATE over 60 s: GAUGE DOUBLE points, requests per second, newest first as the API lists them.
RATE = [series("checkout-00007-abc", [point("2026-11-30T08:03:00Z", 20.0, "2026-11-30T08:03:00Z"),
                                      point("2026-11-30T08:02:00Z", 20.0, "2026-11-30T08:02:00Z"),
                                      point("2026-11-30T08:01:00Z", 5.5, "2026-11-30T08:01:00Z")],
               kind="GAUGE", value_type="DOUBLE")]


def test_an_align_rate_export_replays_its_rate(tmp_path):
    name = write(tmp_path, "rate.json", RATE)
    tr = traffic(tmp_path, {"file": name, "format": "monitoring", "values": "rate"})
    assert tr.trace_points == ((0.0, 5.5), (60.0, 20.0), (120.0, 20.0), (180.0, 0.0))
    assert within_poisson(len(arrivals_of(tr, 3600.0)), (5.5 + 20 + 20) * 60)   # not 1/60th of it


def test_doubles_without_values_are_refused_not_read_as_counts(tmp_path):
    name = write(tmp_path, "rate.json", RATE)
    line = one(tmp_path, {"file": name, "format": "monitoring"})
    assert ".values: " in line and "doubleValue points are a rate (ALIGN_RATE" in line
    assert "give `values: rate` or `values: count`" in line


def test_an_align_delta_export_sums_revisions_counts_over_the_interval(tmp_path):
    a = series("checkout-00007-abc", [point("2026-11-30T08:02:00Z", 1200, "2026-11-30T08:01:00Z"),
                                      point("2026-11-30T08:01:00Z", 600, "2026-11-30T08:00:00Z")])
    b = series("checkout-00008-def", [point("2026-11-30T08:02:00Z", 60, "2026-11-30T08:01:00Z"),
                                      point("2026-11-30T08:04:00Z", 120, "2026-11-30T08:03:00Z")])
    listed = write(tmp_path, "delta.json", [a, b])                                  # a list of TimeSeries
    response = write(tmp_path, "response.json", {"timeSeries": [a, b], "unit": "1"})   # the API's response
    expected = ((0.0, 10.0), (60.0, 21.0), (120.0, 0.0), (180.0, 2.0), (240.0, 0.0))
    assert traffic(tmp_path, {"file": listed, "format": "monitoring"}).trace_points == expected
    assert traffic(tmp_path, {"file": response, "format": "monitoring"}).trace_points == expected


def test_the_interval_gives_the_period_of_a_single_point(tmp_path):
    name = write(tmp_path, "one.json", [series("r1", [point("2026-11-30T08:05:00Z", 3000,
                                                            "2026-11-30T08:00:00Z")])])
    assert traffic(tmp_path, {"file": name, "format": "monitoring"}).trace_points == ((0.0, 10.0), (300.0, 0.0))


def test_raw_points_of_revisions_off_one_alignment_say_how_to_export(tmp_path):
    # raw (ALIGN_NONE) request_count points: each revision writes on its own clock
    a = series("checkout-00007-abc", [point("2026-11-30T08:01:17Z", 30, "2026-11-30T08:00:17Z"),
                                      point("2026-11-30T08:02:17Z", 31, "2026-11-30T08:01:17Z")])
    b = series("checkout-00008-def", [point("2026-11-30T08:01:42Z", 12, "2026-11-30T08:00:42Z")])
    line = one(tmp_path, {"file": write(tmp_path, "raw.json", [a, b]), "format": "monitoring"})
    assert "is not on the 1m alignment" in line and "ALIGN_DELTA" in line
    assert "aggregation.perSeriesAligner=ALIGN_DELTA" in line and "aggregation.alignmentPeriod" in line
    c = series("checkout-00009-ghi", [point("2026-11-30T08:01:00Z", 30, "2026-11-30T08:00:10Z")])
    line = one(tmp_path, {"file": write(tmp_path, "raw2.json", [a, c]), "format": "monitoring"})
    assert "intervals differ (50s, 1m) in 2 series: raw points" in line and "ALIGN_DELTA" in line


@pytest.mark.parametrize("data, expected", [
    ([series("r", [point("2026-11-30T08:01:00Z", 1, "2026-11-30T08:00:00Z"),
                   point("2026-11-30T08:02:00Z", 2.5, "2026-11-30T08:01:00Z")])],
     "mixes int64Value and doubleValue points"),
    ([series("r", [{"interval": {"endTime": "2026-11-30T08:01:00Z"}, "value": {"distributionValue": {}}}])],
     "timeSeries[0].points[0]: the value has distributionValue"),
    ([series("r", [point("2026-11-30T08:01:00Z", -3, "2026-11-30T08:00:00Z")])],
     "int64Value must be a number at least 0, got '-3'"),
    ({"nextPageToken": "x"}, "a JSON export must be a list of TimeSeries"),
    ("[{\"points\": [}", "line 1: not JSON"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
])
def test_a_bad_json_export_is_one_line(tmp_path, data, expected):
    line = one(tmp_path, {"file": write(tmp_path, "m.json", data), "format": "monitoring"})
    assert str(tmp_path / "m.json") in line and expected in line, line


CSV_RATE = """timestamp,double_value
2026-11-30T08:01:00Z,20.0
2026-11-30T08:02:00Z,20.0
"""


def test_a_csv_of_doubles_needs_values_and_int64_is_counts(tmp_path):
    write(tmp_path, "r.csv", CSV_RATE)
    line = one(tmp_path, {"file": "r.csv", "format": "monitoring"})
    assert ".values: " in line and "the column double_value: DOUBLE values are a rate" in line
    assert traffic(tmp_path, {"file": "r.csv", "format": "monitoring", "values": "rate"}).trace_points == (
        (0.0, 20.0), (60.0, 20.0), (120.0, 0.0))
    assert traffic(tmp_path, {"file": "r.csv", "format": "monitoring", "values": "count"}).trace_points == (
        (0.0, 1 / 3), (60.0, 1 / 3), (120.0, 0.0))
    write(tmp_path, "v.csv", "timestamp,value\n2026-11-30T08:01:00Z,1200\n2026-11-30T08:02:00Z,0.333333\n")
    line = one(tmp_path, {"file": "v.csv", "format": "monitoring"})
    assert "v.csv line 3: '0.333333': DOUBLE values are a rate" in line
    write(tmp_path, "i.csv", "timestamp,points.value.int64_value\n2026-11-30T08:01:00Z,1200\n"
                             "2026-11-30T08:02:00Z,600\n")
    assert traffic(tmp_path, {"file": "i.csv", "format": "monitoring"}).trace_points == (
        (0.0, 20.0), (60.0, 10.0), (120.0, 0.0))


def test_values_is_checked(tmp_path):
    write(tmp_path, "r.csv", CSV_RATE)
    assert ".values: must be rate (requests per second) or count" in one(
        tmp_path, {"file": "r.csv", "format": "monitoring", "values": "qps"})


# --- point 8: Metrics Explorer's Download CSV --------------------------------------------------------------

ZONE = "GMT+0100 (Central European Standard Time)"
EXPLORER = f"""TimeSeries ID,checkout-2xx,checkout-5xx,cart-2xx
response_code_class,2xx,5xx,2xx
service_name,checkout,checkout,cart
Sun Mar 02 2025 14:03:00 {ZONE},12.5,0.5,3
Sun Mar 02 2025 14:01:00 {ZONE},10,,1
Sun Mar 02 2025 14:02:00 {ZONE},11.25,0.25,2
"""


def test_a_js_date_is_its_instant():
    stamp = js_date(f"Sun Mar 02 2025 14:01:00 {ZONE}")
    assert stamp.isoformat() == "2025-03-02T14:01:00+01:00"
    assert js_date("Sun Mar 02 2025 13:01:00 GMT+0000").timestamp() == stamp.timestamp()
    assert js_date("response_code_class") is None and js_date("undefined") is None


def test_a_download_sums_every_series_as_a_rate(tmp_path):
    write(tmp_path, "me.csv", EXPLORER)
    tr = traffic(tmp_path, {"file": "me.csv", "format": "metrics-explorer"})
    assert tr.trace_points == ((0.0, 11.0), (60.0, 13.5), (120.0, 16.0), (180.0, 0.0))
    assert within_poisson(len(arrivals_of(tr, 3600.0)), (11 + 13.5 + 16) * 60)


def test_a_download_picks_series_by_label(tmp_path):
    write(tmp_path, "me.csv", EXPLORER)
    pick = {"file": "me.csv", "format": "metrics-explorer"}
    assert traffic(tmp_path, {**pick, "labels": {"response_code_class": "2xx"}}).trace_points == (
        (0.0, 11.0), (60.0, 13.25), (120.0, 15.5), (180.0, 0.0))
    both = traffic(tmp_path, {**pick, "labels": {"response_code_class": "2xx", "service_name": "checkout"}})
    assert both.trace_points == ((0.0, 10.0), (60.0, 11.25), (120.0, 12.5), (180.0, 0.0))
    counts = traffic(tmp_path, {**pick, "values": "count", "labels": {"service_name": "cart"}}, "deterministic")
    assert counts.trace_points == ((0.0, 1 / 60), (60.0, 2 / 60), (120.0, 3 / 60), (180.0, 0.0))
    assert len(arrivals_of(counts, 3600.0)) == 6


def test_a_single_series_download_without_label_rows(tmp_path):
    write(tmp_path, "one.csv", "TimeSeries ID,checkout\n"
                               "Mon Mar 03 2025 09:00:00 GMT-0500 (Eastern Standard Time),4\n"
                               "Mon Mar 03 2025 09:05:00 GMT-0500 (Eastern Standard Time),6\n")
    assert traffic(tmp_path, {"file": "one.csv", "format": "metrics-explorer", "scale": 2}).trace_points == (
        (0.0, 8.0), (300.0, 12.0), (600.0, 0.0))


@pytest.mark.parametrize("text, options, expected", [
    ("time,rps\n0,1\n", {}, "me.csv line 1: a Metrics Explorer download starts with `TimeSeries ID,<series...>`"),
    (EXPLORER, {"labels": {"revision_name": "r1"}},
     ".labels: {d}/me.csv has no label row 'revision_name' (its labels: response_code_class, service_name)"),
    (EXPLORER, {"labels": {"response_code_class": "4xx"}},
     ".labels: no series of {d}/me.csv has response_code_class = '4xx' (with the other labels asked; its "
     "response_code_class values: 2xx, 5xx)"),
    (EXPLORER + "yesterday,1,2,3\n", {}, "me.csv line 7: the time must be a date such as"),
    (EXPLORER + f"Sun Mar 02 2025 14:04:00 {ZONE},1,x,3\n", {},
     "me.csv line 7: series 'checkout-5xx': value must be a number at least 0, got 'x'"),
    (EXPLORER + f"Sun Mar 02 2025 14:04:00 {ZONE},1\n", {}, "me.csv line 7: 2 columns, the TimeSeries ID row has 4"),
    (EXPLORER + f"Sun Mar 02 2025 14:03:25 {ZONE},1,1,1\n", {},
     "me.csv line 6: 2025-03-02T14:02:00+01:00 is not on the 25s alignment"),
    (EXPLORER, {"labels": "2xx"}, ".labels: must be a mapping of label to value"),
    (EXPLORER, {"top": 1}, ".top: unknown option for format metrics-explorer (known: file, format, scale, values, "
                           "labels)"),
])
def test_a_bad_download_is_one_line(tmp_path, text, options, expected):
    write(tmp_path, "me.csv", text)
    line = one(tmp_path, {"file": "me.csv", "format": "metrics-explorer", **options})
    assert expected.replace("{d}", str(tmp_path)) in line, line


def test_labels_round_trip_and_schema(tmp_path):
    write(tmp_path, "me.csv", EXPLORER)
    trace = {"file": "me.csv", "format": "metrics-explorer", "labels": {"response_code_class": "2xx"}}
    scenario = scenario_from_dict(make_scenario(service={"traffic": {"rate": None, "trace": trace}}),
                                  base_dir=tmp_path)
    resolved = scenario.to_resolved_dict()
    assert resolved["services"][0]["traffic"]["trace"]["labels"] == {"response_code_class": "2xx"}
    assert scenario_from_dict(yaml.safe_load(yaml.safe_dump(resolved))) == scenario
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_json_schema()["$defs"]["Traffic"]["properties"]["trace"]
    jsonschema.validate({**trace, "values": "rate"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**trace, "values": "qps"}, schema)


def test_a_download_across_a_clock_change_keeps_its_spacing(tmp_path):
    # the offset is per row: 02:59 CET is 01:59Z, 03:00 CEST (the clock jumped from 02:00) is 01:00Z + 1h
    write(tmp_path, "dst.csv", "TimeSeries ID,checkout\n"
                               "Sun Mar 30 2025 01:59:00 GMT+0100 (Central European Standard Time),1\n"
                               "Sun Mar 30 2025 03:00:00 GMT+0200 (Central European Summer Time),2\n"
                               "Sun Mar 30 2025 03:01:00 GMT+0200 (Central European Summer Time),3\n")
    assert traffic(tmp_path, {"file": "dst.csv", "format": "metrics-explorer"}).trace_points == (
        (0.0, 1.0), (60.0, 2.0), (120.0, 3.0), (180.0, 0.0))
