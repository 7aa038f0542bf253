"""Issue 19 point 9: sensitivity around what the planner measured. --relative varies the inputs the scenario
states around their own value; --only / --exclude choose the assumptions; names are never cut off."""
from __future__ import annotations

import json

import pytest
import yaml

from conftest import make_scenario
from sim.assumptions import SETTINGS
from sim.cli import main
from sim.scenario import scenario_from_dict
from sim.study.sensitivity import table
from sim.study.sensitivity_arms import build_arms
from sim.study.sensitivity_choice import ChoiceError, chosen, parse_relative, scaled

# The file states service_time (mean 0.5 s) and cpu_per_request (0.2), not autoscaling.interval
STATED = make_scenario(service={"cpu_per_request": 0.2, "service_time": {"dist": "lognormal", "mean": "0.5s",
                                                                          "cv": 0.5}},
                       duration="40s", replications=2)


def test_parse_relative_and_choice():
    assert parse_relative(["20%"]) == {"*": 0.2}
    assert parse_relative(["cpu_per_request=30%", "0.1"]) == {"services[].cpu_per_request": 0.3, "*": 0.1}
    for bad in (["120%"], ["x%"], ["nothing_like_this=5%"]):
        with pytest.raises(ChoiceError):
            parse_relative(bad)
    assert chosen(["service_time,cpu_per_request"], None) == {"services[].service_time",
                                                              "services[].cpu_per_request"}
    assert "kms.latency" not in chosen(None, ["kms.latency"]) and "kms.ekm.latency" in chosen(None, ["kms.latency"])


def test_scaled_keeps_shapes_and_whole_numbers():
    assert scaled({"dist": "lognormal", "mean": 0.5, "cv": 2.0}, 1.2) == {"dist": "lognormal", "mean": 0.6,
                                                                          "cv": 2.0}
    assert scaled({"dist": "lognormal", "median": 1.0, "p99": 5.0}, 0.8) == {"dist": "lognormal", "median": 0.8,
                                                                             "p99": 4.0}
    assert scaled(2, 1.3) == 3 and scaled(1, 0.8) == 1 and scaled("auto", 1.2) is None
    assert scaled({"initial_backoff": 1.0, "multiplier": 2.0, "jitter": 0.2}, 2) == {
        "initial_backoff": 2.0, "multiplier": 2.0, "jitter": 0.2}


def test_relative_arms_scale_what_the_scenario_states_and_only_that():
    sc = scenario_from_dict(STATED)
    names = {"services[].service_time", "services[].cpu_per_request", "services[].autoscaling.interval"}
    arms = build_arms(sc, "requests.failed_fraction", raw=STATED, relative={"*": 0.2}, chosen=names)
    assert set(arms.pairs) == names
    assert set(arms.relative) == {"services[].service_time", "services[].cpu_per_request"}   # not the interval
    lo, hi = arms.pairs["services[].service_time"]
    assert arms.cells[lo].services[0].service_time.mean == pytest.approx(0.4)
    assert arms.cells[hi].services[0].service_time.mean == pytest.approx(0.6)
    assert arms.cells[hi].services[0].service_time.to_spec()["cv"] == pytest.approx(0.5)
    lo, hi = arms.pairs["services[].cpu_per_request"]
    assert arms.cells[lo].services[0].cpu_per_request == pytest.approx(0.16)
    lo, hi = arms.pairs["services[].autoscaling.interval"]          # its plausible range, 2 to 5 s
    assert arms.cells[hi].services[0].autoscaling.interval == 5
    # one assumption by name, stated or not
    arms = build_arms(sc, "requests.failed_fraction", raw=STATED, relative={"services[].idle_retention": 0.5},
                      chosen={"services[].idle_retention"})
    lo, hi = arms.pairs["services[].idle_retention"]
    assert arms.cells[lo].services[0].idle_retention == 30 and arms.cells[hi].services[0].idle_retention == 90


def test_cli_relative_only_and_labels_not_cut(tmp_path, capsys):
    path = tmp_path / "stated.yaml"
    path.write_text(yaml.safe_dump(STATED))
    assert main(["sensitivity", str(path), "--metric", "latency_s.mean", "--relative", "20%", "--only",
                 "service_time", "--only", "key_operations.validation_interval", "--out", str(tmp_path / "o")]) == 0
    data = json.loads((tmp_path / "o" / "sensitivity.json").read_text())
    rows = {r["assumption"]: r for r in data["rows"]}
    assert set(rows) == {"services[].service_time"}                 # the key one cannot matter: skipped
    row = rows["services[].service_time"]
    assert row["range"] == "relative" and row["low"] == "-20% of the scenario's"
    assert row["metric_low"] < row["metric_centre"] < row["metric_high"]
    assert data["settings"]["services[].service_time"]["relative"] is True
    long = dict(row, assumption="services[].key_operations.validation_interval")
    assert "services[].key_operations.validation_interval" in table(dict(data, rows=[long]))
    from sim.plots.tornado import tornado_figure
    fig = tornado_figure(dict(data, rows=[long]))
    labels = [t.get_text().replace("\n", "") for t in fig.axes[0].get_yticklabels()]
    assert any("services[].key_operations.validation_interval" in label for label in labels), labels


def test_a_bad_name_is_one_line_exit_2(tmp_path, capsys):
    path = tmp_path / "stated.yaml"
    path.write_text(yaml.safe_dump(STATED))
    assert main(["sensitivity", str(path), "--only", "no_such_thing", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'no_such_thing' names no assumption" in err[0]
    assert not (tmp_path / "o").exists()


# 40/s x 0.5 s of work / 4 at a time = 5 instances; service time 20% shorter or longer: 4 or 6
OVERLOAD = {"name": "overload", "duration": "2m", "seed": 7,
            "services": [{"name": "api", "concurrency": 4, "min_instances": 1, "max_instances": 3,
                          "service_time": {"dist": "lognormal", "mean": "0.5s", "cv": 0.5}, "traffic": {"rate": 40}}]}


def test_solve_follows_the_answer_through_each_arm(tmp_path):
    path = tmp_path / "overload.yaml"
    path.write_text(yaml.safe_dump(OVERLOAD))
    assert main(["sensitivity", str(path), "--metric", "requests.failed_fraction", "--relative", "20%", "--only",
                 "service_time", "--solve", "services.0.max_instances", "--slo", "requests.failed_fraction<=0.01",
                 "--replications", "2", "--quiet", "--out", str(tmp_path / "o")]) == 0
    solve = json.loads((tmp_path / "o" / "sensitivity.json").read_text())["solve"]
    assert solve["param"] == "services.0.max_instances" and solve["answer"] == 5
    assert solve["rows"] == [{"assumption": "services[].service_time", "answer_low": 4, "answer_centre": 5,
                              "answer_high": 6}]


@pytest.mark.parametrize("args, words", [
    (["--slo", "requests.failed_fraction<=0.01"], "--slo needs --solve PATH"),
    (["--solve", "services.0.max_instances"], "give the objectives with --slo"),
    (["--solve", "services.0.nothing", "--slo", "requests.failed_fraction<=0.01"], "services.0.nothing"),
])
def test_solve_options_are_checked_first(tmp_path, capsys, args, words):
    path = tmp_path / "overload.yaml"
    path.write_text(yaml.safe_dump(OVERLOAD))
    assert main(["sensitivity", str(path), *args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "o").exists()
