"""Trace formats for `traffic.trace`: hand-written files in the shapes the formats use, the arrival rate each
replays (checked against the trace's own totals), one problem line per bad input, the sample generator,
and the round trip through the resolved scenario."""
from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
import yaml

from conftest import ROOT, make_scenario
from sim.model.traffic import RateProfile, arrival_times
from sim.scenario import ScenarioError, load_azure, load_monitoring, scenario_from_dict, scenario_json_schema

AZURE_HEADER = "HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(i) for i in range(1, 1441))
OWNER = "a" * 64


def azure_file(tmp_path, functions: dict[str, list[int]], name="azure.csv"):
    """An Azure Functions 2019 trace file: one row per function, 1440 per-minute counts."""
    lines = [AZURE_HEADER]
    for i, (h, counts) in enumerate(functions.items()):
        lines.append(f"{OWNER},{'b' * 63}{i},{h},http," + ",".join(map(str, counts)))
    (tmp_path / name).write_text("\n".join(lines) + "\n")
    return name


def day(pattern) -> list[int]:
    return [pattern(m) for m in range(1440)]


H1, H2, H3 = "1f" + "0" * 62, "2e" + "0" * 62, "2d" + "1" * 62


def traffic(tmp_path, trace, arrivals="poisson"):
    data = make_scenario(service={"traffic": {"arrivals": arrivals, "rate": None, "trace": trace}}, duration="1d")
    return scenario_from_dict(data, base_dir=tmp_path).services[0].traffic


def arrivals_of(tr, horizon: float, seed: int = 5) -> np.ndarray:
    gen = arrival_times(RateProfile(tr), tr.arrivals, np.random.default_rng(seed), horizon)
    return np.fromiter(gen, float)


def problems(tmp_path, trace) -> list[str]:
    data = make_scenario(service={"traffic": {"rate": None, "trace": trace}})
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(data, "s.yaml", base_dir=tmp_path)
    return str(exc.value).splitlines()


def within_poisson(n: int, mean: float) -> bool:
    return abs(n - mean) < 4 * math.sqrt(mean)


# --- azure -------------------------------------------------------------------------------------------------

def test_azure_one_function_by_hash_prefix(tmp_path):
    counts = day(lambda m: 60 * (1 + m % 3))
    name = azure_file(tmp_path, {H1: counts, H2: day(lambda m: 1)})
    points = load_azure(tmp_path / name, function="1f")
    assert len(points) == 1441 and points[-1] == (86400.0, 0.0)
    assert points[:3] == ((0.0, 1.0), (60.0, 2.0), (120.0, 3.0))
    assert sum(r * 60 for _, r in points) == pytest.approx(sum(counts))


def test_azure_top_n_sums_the_busiest_and_takes_a_window(tmp_path):
    name = azure_file(tmp_path, {H1: day(lambda m: 6), H2: day(lambda m: 120), H3: day(lambda m: 60)})
    points = load_azure(tmp_path / name, top=2, scale=0.5, start_minute=10, minutes=3)
    assert points == ((0.0, 1.5), (60.0, 1.5), (120.0, 1.5), (180.0, 0.0))   # (120 + 60) / 60 * 0.5
    assert load_azure(tmp_path / name)[0] == (0.0, 2.0)                        # top 1 by default


def test_azure_replays_its_counts_poisson(tmp_path):
    counts = day(lambda m: 300 if 60 <= m < 120 else (30 if m < 180 else 0))
    name = azure_file(tmp_path, {H1: counts})
    tr = traffic(tmp_path, {"file": name, "format": "azure", "function": H1, "minutes": 180})
    t = arrivals_of(tr, 3 * 3600.0)
    total = sum(counts[:180])
    assert within_poisson(len(t), total)
    per_hour = np.histogram(t, bins=[0, 3600, 7200, 10800])[0]
    for n, expected in zip(per_hour, [30 * 60, 300 * 60, 30 * 60]):
        assert within_poisson(n, expected)
    assert not np.any(arrivals_of(tr, 86400.0) >= 10800)                      # nothing after the window


def test_azure_replays_its_counts_deterministic(tmp_path):
    counts = day(lambda m: 120 if m < 30 else 0)
    tr = traffic(tmp_path, {"file": azure_file(tmp_path, {H1: counts}), "format": "azure", "top": 1},
                 arrivals="deterministic")
    assert len(arrivals_of(tr, 86400.0)) == sum(counts)


# --- monitoring --------------------------------------------------------------------------------------------

MONITORING = """timestamp,value
2026-11-30T08:01:00Z,600
2026-11-30T08:02:00Z,1200
2026-11-30T08:03:00Z,1800
2026-11-30T08:05:00Z,600
"""


def test_monitoring_rates_from_the_interval(tmp_path):
    (tmp_path / "m.csv").write_text(MONITORING)
    points = load_monitoring(tmp_path / "m.csv", scale=2)
    # 60-second alignment; the missing 08:04 interval is zero
    assert points == ((0.0, 20.0), (60.0, 40.0), (120.0, 60.0), (180.0, 0.0), (240.0, 20.0), (300.0, 0.0))


def test_monitoring_console_names_several_series_and_newest_first(tmp_path):
    (tmp_path / "m.csv").write_text(
        "response_code_class,Timestamp,request_count\n"
        "2xx,2026-11-30T09:00:00.000+01:00,300\n4xx,2026-11-30T09:00:00.000+01:00,60\n"
        "2xx,2026-11-30T08:59:30.000+01:00,30\n")
    assert load_monitoring(tmp_path / "m.csv") == ((0.0, 1.0), (30.0, 12.0), (60.0, 0.0))


def test_monitoring_replays_its_total(tmp_path):
    (tmp_path / "m.csv").write_text(MONITORING)
    tr = traffic(tmp_path, {"file": "m.csv", "format": "monitoring"})
    assert within_poisson(len(arrivals_of(tr, 86400.0)), 4200)
    det = traffic(tmp_path, {"file": "m.csv", "format": "monitoring"}, arrivals="deterministic")
    assert abs(len(arrivals_of(det, 86400.0)) - 4200) <= 4                  # one per step at most


# --- csv ---------------------------------------------------------------------------------------------------

def test_csv_mapping_is_the_plain_path(tmp_path):
    (tmp_path / "t.csv").write_text("time,rps\n0,10\n1m,0\n")
    plain = traffic(tmp_path, "t.csv")
    mapped = traffic(tmp_path, {"file": "t.csv"})
    assert plain.trace_points == mapped.trace_points == ((0.0, 10.0), (60.0, 0.0))
    assert traffic(tmp_path, {"file": "t.csv", "format": "csv", "scale": 3}).trace_points[0] == (0.0, 30.0)
    assert len(arrivals_of(traffic(tmp_path, "t.csv", "deterministic"), 3600.0)) == 600


# --- bad input ---------------------------------------------------------------------------------------------

AT = "s.yaml: services[0].traffic.trace"


@pytest.mark.parametrize("files, trace, expected", [
    ({"a.csv": "HashOwner,HashApp,Function,Trigger,1\n"}, {"file": "a.csv", "format": "azure"},
     "a.csv line 1: the header must be HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440"),
    ({"a.csv": "HashOwner,HashApp,HashFunction,Trigger,1,3\n"}, {"file": "a.csv", "format": "azure"},
     "a.csv line 1: the header must be"),
    ({"a.csv": "HashOwner,HashApp,HashFunction,Trigger,1,2\n\no,a,f,http,1\n"}, {"file": "a.csv", "format": "azure"},
     "a.csv line 3: 5 columns, the header has 6"),
    ({"a.csv": "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,x\n"}, {"file": "a.csv", "format": "azure"},
     "a.csv line 2: minute 2: count must be a number at least 0, got 'x'"),
    ({"a.csv": "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,-4\n"}, {"file": "a.csv", "format": "azure"},
     "a.csv line 2: minute 2: count must be a number at least 0, got '-4'"),
    ({"a.csv": "HashOwner,HashApp,HashFunction,Trigger,1,2\n"}, {"file": "a.csv", "format": "azure"},
     "a.csv has a header but no rows"),
    ({"a.csv": ""}, {"file": "a.csv", "format": "azure"}, "a.csv is empty"),
    ({"m.csv": "when,value\n"}, {"file": "m.csv", "format": "monitoring"},
     "m.csv line 1: the header must name a timestamp column (timestamp, time, end_time, ...)"),
    ({"m.csv": "timestamp,value\n2026-11-30 08:00:00,5\n"}, {"file": "m.csv", "format": "monitoring"},
     "m.csv line 2: timestamp must be RFC 3339 (e.g. 2026-11-30T08:00:00Z), got '2026-11-30 08:00:00'"),
    ({"m.csv": "timestamp,value\n2026-11-30T08:00:00Z,lots\n"}, {"file": "m.csv", "format": "monitoring"},
     "m.csv line 2: value must be a number at least 0, got 'lots'"),
    ({"m.csv": "timestamp,value\n2026-11-30T08:00:00Z\n"}, {"file": "m.csv", "format": "monitoring"},
     "m.csv line 2: missing a column"),
    ({"m.csv": "timestamp,value\n2026-11-30T08:00:00Z,5\n"}, {"file": "m.csv", "format": "monitoring"},
     "m.csv: needs at least two timestamps"),
    ({"t.csv": "time,rps\n0,1\n0,2\n"}, {"file": "t.csv", "format": "csv"}, "t.csv line 3: times must increase"),
])
def test_a_bad_file_is_one_line_with_its_line_number(tmp_path, files, trace, expected):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    lines = problems(tmp_path, trace)
    assert len(lines) == 1, lines
    assert lines[0].startswith(AT + ": ") and str(tmp_path) in lines[0] and expected in lines[0], lines[0]


def test_the_monitoring_grid_line(tmp_path):
    (tmp_path / "m.csv").write_text("timestamp,value\n2026-11-30T08:00:00Z,5\n2026-11-30T08:01:00Z,5\n"
                                    "2026-11-30T08:01:30Z,5\n2026-11-30T08:02:10Z,5\n")
    [line] = problems(tmp_path, {"file": "m.csv", "format": "monitoring"})
    assert "m.csv line 5: 2026-11-30T08:02:10+00:00 is not on the 30s alignment of the first timestamp" in line


@pytest.mark.parametrize("trace, expected", [
    ({"file": "a.csv", "format": "azure", "function": "ff"},
     ".function: no HashFunction in {d}/a.csv starts with 'ff' (known: " + H1 + ", " + H2 + ", " + H3 + ")"),
    ({"file": "a.csv", "format": "azure", "function": "2"},
     ".function: '2' matches 2 functions in {d}/a.csv (" + H2 + ", " + H3 + "): give more of the hash"),
    ({"file": "a.csv", "format": "azure", "top": 4}, ".top: is 4 but {d}/a.csv has 3 functions"),
    ({"file": "a.csv", "format": "azure", "top": 0}, ".top: must be a whole number at least 1, got 0"),
    ({"file": "a.csv", "format": "azure", "top": 1, "function": H1}, ".top: give either `function` or `top`"),
    ({"file": "a.csv", "format": "azure", "start_minute": 1440}, ".start_minute: must be a whole number between 0"),
    ({"file": "a.csv", "format": "azure", "start_minute": 1400, "minutes": 60},
     ".minutes: start_minute 1400 + minutes 60 is beyond the 1440 minutes of {d}/a.csv"),
    ({"file": "a.csv", "format": "azure", "scale": -1}, ".scale: must be a number greater than 0, got -1"),
    ({"file": "a.csv", "format": "monitoring", "top": 1},
     ".top: unknown option for format monitoring (known: file, format, scale, values)"),
    ({"file": "a.csv", "format": "parquet"}, ".format: must be one of csv, azure, monitoring, metrics-explorer, got 'parquet'"),
    ({"format": "azure"}, ".file: missing required key"),
    ({"file": "nope.csv", "format": "azure"}, ".file: file not found: nope.csv"),
    (42, ": must be the path of a CSV file or {file: PATH, format: ...}, got 42"),
])
def test_a_bad_option_is_one_line(tmp_path, trace, expected):
    azure_file(tmp_path, {H1: day(lambda m: 3), H2: day(lambda m: 2), H3: day(lambda m: 1)}, "a.csv")
    lines = problems(tmp_path, trace)
    assert len(lines) == 1, lines
    assert lines[0].startswith(AT + expected.replace("{d}", str(tmp_path))), lines[0]


# --- round trip, schema, samples -------------------------------------------------------------------------

def test_the_resolved_scenario_loads_back_equal(tmp_path):
    azure_file(tmp_path, {H1: day(lambda m: 3)}, "a.csv")
    data = make_scenario(service={"traffic": {"rate": None, "trace": {
        "file": "a.csv", "format": "azure", "function": "1f", "scale": 2, "start_minute": 5, "minutes": 10}}})
    scenario = scenario_from_dict(data, base_dir=tmp_path)
    resolved = scenario.to_resolved_dict()
    assert resolved["services"][0]["traffic"]["trace"] == {
        "file": str(tmp_path / "a.csv"), "format": "azure", "function": "1f", "scale": 2.0, "start_minute": 5,
        "minutes": 10}
    back = scenario_from_dict(yaml.safe_load(yaml.safe_dump(resolved)))
    assert back == scenario and back.services[0].traffic.trace_points == scenario.services[0].traffic.trace_points
    other = scenario_from_dict(make_scenario(service={"traffic": {"rate": None, "trace": {
        "file": "a.csv", "format": "azure", "function": "1f"}}}), base_dir=tmp_path)
    assert other != scenario


def test_the_schema_takes_a_path_or_a_mapping():
    schema = scenario_json_schema()
    text = yaml.safe_dump(schema)
    assert "start_minute" in text and "monitoring" in text
    jsonschema = pytest.importorskip("jsonschema")
    trace = schema["$defs"]["Traffic"]["properties"]["trace"]
    for good in ["t.csv", {"file": "a.csv", "format": "azure", "top": 2}, None]:
        jsonschema.validate(good, trace)
    for bad in [{"format": "azure"}, {"file": "a.csv", "colour": 1}, 3]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, trace)


def test_the_sample_generator_is_deterministic_and_matches_the_shipped_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "examples/traces/make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first = {p.name: p.read_bytes() for p in module.write(tmp_path / "one")}
    second = {p.name: p.read_bytes() for p in module.write(tmp_path / "two")}
    assert first == second and len(first) == 3
    for name, data in first.items():
        assert (ROOT / "examples/traces" / name).read_bytes() == data, name
    assert len(load_azure(ROOT / "examples/traces/azure-functions-sample.csv")) == 1441
    assert load_monitoring(ROOT / "examples/traces/cloud-monitoring-request-count.csv")[1][0] == 60.0
