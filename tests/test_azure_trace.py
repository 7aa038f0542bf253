"""Azure Functions 2019 day files (issue 20, point 9): trigger selection, the picked functions in the output,
a streaming reader of bounded memory, and multi-day replays across midnight. Samples written here, in the
public layout (HashOwner,HashApp,HashFunction,Trigger,1,...,1440); no real trace file is copied."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest
import yaml

from conftest import make_scenario
from sim.cli import main
from sim.scenario import ScenarioError, load_azure, scenario_from_dict
from sim.scenario import azure_trace
from sim.scenario.azure_trace import azure_replay

HEADER = "HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(i) for i in range(1, 1441))
AT = "s.yaml: services[0].traffic.trace"


def fn(i: int) -> str:
    return f"{i:02x}" + "c" * 62


def write_day(path, rows: list[tuple[str, str, list[int]]], owner="a" * 64):
    """rows: (HashFunction, Trigger, 1440 counts); HashApp from the function so that keys are stable."""
    lines = [HEADER] + [f"{owner},{'b' * 62}{h[:2]},{h},{trig}," + ",".join(map(str, counts))
                        for h, trig, counts in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def flat(n: int) -> list[int]:
    return [n] * 1440


def trace_of(tmp_path, trace):
    data = make_scenario(service={"traffic": {"rate": None, "trace": trace}}, duration="1d")
    return scenario_from_dict(data, base_dir=tmp_path).services[0].traffic.trace


def problem(tmp_path, trace) -> str:
    data = make_scenario(service={"traffic": {"rate": None, "trace": trace}})
    with pytest.raises(ScenarioError) as exc:
        scenario_from_dict(data, "s.yaml", base_dir=tmp_path)
    lines = str(exc.value).splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# --- trigger ---------------------------------------------------------------------------------------------

@pytest.fixture
def mixed(tmp_path):
    """The busiest function is queue-triggered (Cloud Run would not serve it); the busiest http one is third."""
    return write_day(tmp_path / "day.csv", [(fn(1), "queue", flat(600)), (fn(2), "timer", flat(300)),
                                            (fn(3), "http", flat(120)), (fn(4), "http", flat(60))])


def test_top_picks_among_http_functions_by_default(mixed):
    assert load_azure(mixed, top=1)[0] == (0.0, 2.0)                       # 120/min, not the queue's 600
    assert load_azure(mixed, top=2)[0] == (0.0, 3.0)                       # 120 + 60 per minute
    assert load_azure(mixed, top=1, trigger="any")[0] == (0.0, 10.0)       # the queue function
    assert load_azure(mixed, top=1, trigger="TIMER")[0] == (0.0, 5.0)      # compared without case


def test_function_by_hash_takes_any_trigger_unless_given(tmp_path, mixed):
    assert load_azure(mixed, function=fn(2)[:4])[0] == (0.0, 5.0)
    line = problem(tmp_path, {"file": "day.csv", "format": "azure", "function": fn(2)[:4], "trigger": "http"})
    assert line.startswith(AT + ".function: no HashFunction in"), line


def test_an_unknown_trigger_or_too_few_is_one_line(tmp_path, mixed):
    line = problem(tmp_path, {"file": "day.csv", "format": "azure", "trigger": "blob"})
    assert line == (AT + ".trigger: no function in " + str(mixed) +
                    " has trigger 'blob' (found: http, queue, timer; `any` takes all)")
    line = problem(tmp_path, {"file": "day.csv", "format": "azure", "top": 3})
    assert line == AT + f".top: is 3 but {mixed} has 2 functions with trigger http"
    line = problem(tmp_path, {"file": "day.csv", "format": "azure", "trigger": ""})
    assert line.startswith(AT + ".trigger: must be a Trigger value"), line


def test_the_picked_functions_are_named(tmp_path, mixed):
    trace = trace_of(tmp_path, {"file": "day.csv", "format": "azure", "top": 2})
    assert [p.function for p in trace.picked] == [fn(3), fn(4)]
    assert trace.picked_line() == (f"top 2 of trigger http: {fn(3)[:12]} (http, 172,800 invocations); "
                                   f"{fn(4)[:12]} (http, 86,400 invocations)")


def test_sim_run_prints_and_records_the_picked_function(tmp_path, mixed, capsys):
    data = make_scenario(service={"traffic": {"rate": None, "trace": {"file": str(mixed), "format": "azure"}}},
                         duration="2m")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--replications", "1", "--no-plots", "--no-baseline"]) == 0
    assert f"svc: trace top 1 of trigger http: {fn(3)[:12]} (http, 172,800 invocations)" \
        in capsys.readouterr().out.splitlines()
    manifest = json.loads((out / "manifest.json").read_text())
    [picked] = manifest["trace_functions"]["svc"]
    assert picked["hash_function"] == fn(3) and picked["trigger"] == "http" and picked["invocations"] == 172800


# --- streaming -------------------------------------------------------------------------------------------

def big_day(path, functions: int, seed: int = 3):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.lognormal(0.0, 1.5, functions)[:, None] * np.ones(1440))
    with open(path, "w") as out:
        out.write(HEADER + "\n")
        for i in range(functions):
            out.write(f"{'a' * 64},{'b' * 64},{i:064x},{'http' if i % 2 else 'queue'},"
                      + ",".join(map(str, counts[i].tolist())) + "\n")
    return counts


def peak_bytes(path) -> tuple[int, tuple]:
    tracemalloc.start()
    try:
        points = load_azure(path, top=3)
        return tracemalloc.get_traced_memory()[1], points
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file(tmp_path, monkeypatch):
    """Four times the rows, about the same peak: only a batch or two and the totals are held (the old reader
    kept every cell as a Python float: ~18 MB for the small file here and four times that for the large one)."""
    monkeypatch.setattr(azure_trace, "BATCH_ROWS", 50)       # many batches in a small file
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    big_day(small, 400)
    counts = big_day(large, 1600)
    peak_small, _ = peak_bytes(small)
    peak_large, points = peak_bytes(large)
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)
    assert peak_large < 10e6, peak_large
    http = np.arange(1600) % 2 == 1                                      # the right answer, from the counts
    busiest = np.argsort(-np.where(http, counts.sum(axis=1), -1), kind="stable")[:3]
    assert [r for _, r in points[:-1]] == pytest.approx((counts[busiest].sum(axis=0) / 60).tolist())


def test_a_bad_count_after_the_first_batch_names_its_line(tmp_path):
    rows = [(f"{i:064x}", "http", flat(1)) for i in range(700)]
    rows[599] = (rows[599][0], "http", [1, 1, "x"] + [1] * 1437)
    path = write_day(tmp_path / "bad.csv", rows)
    line = problem(tmp_path, {"file": "bad.csv", "format": "azure"})
    assert line == AT + f": {path} line 601: minute 3: count must be a number at least 0, got 'x'"


def test_quoted_cells_read_as_plain_ones(tmp_path):
    plain = write_day(tmp_path / "plain.csv", [(fn(1), "http", list(range(1440))), (fn(2), "http", flat(5))])
    text = plain.read_text().splitlines()
    quoted = tmp_path / "quoted.csv"
    quoted.write_text("\n".join([text[0]] + [",".join(f'"{c}"' for c in line.split(",")) for line in text[1:]]))
    assert load_azure(quoted, top=2) == load_azure(plain, top=2)


# --- several days ----------------------------------------------------------------------------------------

@pytest.fixture
def two_days(tmp_path):
    ramp = list(range(1440))
    d1 = write_day(tmp_path / "invocations_per_function_md.anon.d01.csv",
                   [(fn(1), "http", ramp), (fn(2), "http", flat(2000))])
    d2 = write_day(tmp_path / "invocations_per_function_md.anon.d02.csv",     # fn(2) not invoked on day 2
                   [(fn(3), "http", flat(7)), (fn(1), "http", [10000 + m for m in range(1440)])])
    return d1, d2


def test_a_window_crosses_midnight_into_the_next_file(tmp_path, two_days):
    trace = trace_of(tmp_path, {"file": [p.name for p in two_days], "format": "azure",
                                "start_minute": 1435, "minutes": 10})
    rates = [round(r * 60) for _, r in trace.points]
    assert rates == [1435, 1436, 1437, 1438, 1439, 10000, 10001, 10002, 10003, 10004, 0]
    assert [p.function for p in trace.picked] == [fn(1)] and trace.picked[0].days == (1, 2)
    assert trace.spec()["file"] == [str(p) for p in two_days]


def test_a_function_missing_from_a_day_counts_zero_that_day(two_days):
    points, picked = azure_replay(list(two_days), function=fn(2)[:6], start_minute=1438, minutes=4)
    assert [round(r * 60) for _, r in points] == [2000, 2000, 0, 0, 0]
    assert picked[0].days == (1,) and "absent on day 2 (counted 0)" in picked[0].describe(2)


def test_the_busiest_is_counted_over_all_days(two_days):
    # day 1 alone: fn(2) (2,880,000) beats fn(1) (1,036,080); with day 2 fn(1) has 1,036,080 + 15,436,080
    assert azure_replay([two_days[0]], top=1)[1][0].function == fn(2)
    assert azure_replay(list(two_days), top=1)[1][0].function == fn(1)


def test_a_mismatched_list_is_one_line(tmp_path, two_days):
    d1, d2 = (p.name for p in two_days)
    d3 = write_day(tmp_path / "invocations_per_function_md.anon.d03.csv", [(fn(1), "http", flat(1))]).name
    half = tmp_path / "half.d02.csv"
    half.write_text(",".join(HEADER.split(",")[:4 + 720]) + "\n" + ",".join(["o", "a", fn(1), "http"] + ["1"] * 720))
    cases = [
        ({"file": [d1, d3]}, ".file[1]: invocations_per_function_md.anon.d03.csv (day 3) does not follow "
                             "invocations_per_function_md.anon.d01.csv (day 1): list consecutive days in order"),
        ({"file": [d2, d1]}, ".file[1]: invocations_per_function_md.anon.d01.csv (day 1) does not follow"),
        ({"file": [d1, d1]}, f".file[1]: {tmp_path / d1} is listed twice"),
        ({"file": ["half.d02.csv", d3]}, f".file[0]: {half} has 720 minutes; every day file but the last needs 1440"),
        ({"file": [d1, "nope.csv"]}, ".file[1]: file not found: nope.csv"),
        ({"file": []}, ".file: must be a path or a non-empty list of day files"),
        ({"file": [d1, d2], "format": "csv"}, ".file: a list of files is for format azure (day files), not csv"),
        ({"file": [d1, d2], "start_minute": 2880}, ".start_minute: must be a whole number between 0 and 2879"),
        ({"file": [d1, d2], "minutes": 2000, "start_minute": 1000},
         ".minutes: start_minute 1000 + minutes 2000 is beyond the 2880 minutes of the 2 day files"),
    ]
    for trace, expected in cases:
        line = problem(tmp_path, {"format": "azure", **trace})
        assert line.startswith(AT + expected), (trace, line)
    # a short day is fine last: the replay ends with it
    assert load_azure([tmp_path / d1, half], function=fn(1))[-2:] == ((60.0 * 2159, 1 / 60), (60.0 * 2160, 0.0))
