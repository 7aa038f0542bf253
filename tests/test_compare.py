"""`sim compare`: sources read through sim.results, paired intervals where the streams are shared (checked
against the t interval computed here from summary.json), Welch otherwise, sweep cells, the files, and
one line with exit 2 for what cannot be compared."""
from __future__ import annotations

import json
import math
import re

import pytest
import yaml
from scipy import stats

from conftest import make_scenario
from sim import cli
from sim.compare import difference, read_source
from sim.results import write_results
from sim.runner import run
from sim.scenario import scenario_from_dict

REPS = 4


def _scenario(service_time: str, seed: int = 3, name: str = "cmp") -> dict:
    return make_scenario(name=name, duration="120s", seed=seed, replications=REPS, timeseries_interval="5s",
                         service={"encryption_key": "k", "service_time": {"dist": "exponential", "mean": service_time},
                                  "concurrency": 2, "traffic": {"arrivals": "poisson", "rate": 6}})


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("cmp")
    out = {}
    for label, data in (("slow", _scenario("400ms")), ("fast", _scenario("200ms")),
                        ("other-seed", _scenario("400ms", seed=9))):
        out[label] = write_results(run(scenario_from_dict(data)), base / label, plots=False)
    return out


def _runs(folder, path):
    runs = json.loads((folder / "summary.json").read_text())["runs"]
    node = [r["services"]["svc"] for r in runs]
    for part in path.split("."):
        node = [n[part] for n in node]
    return node


def _compare(tmp_path, *sources):
    out = tmp_path / "out"
    assert cli.main(["compare", *map(str, sources), "--out", str(out)]) == 0
    return out, json.loads((out / "compare.json").read_text())


def _row(data, figure, group="svc"):
    return next(r for r in data["rows"] if r["group"] == group and r["figure"] == figure)


def test_same_seed_gives_the_paired_t_interval_of_the_differences(folders, tmp_path):
    out, data = _compare(tmp_path, folders["slow"], folders["fast"])
    assert data["paired"] == [True]
    slow, fast = _runs(folders["slow"], "latency_s.p50"), _runs(folders["fast"], "latency_s.p50")
    diffs = [b - a for a, b in zip(slow, fast)]
    mean = sum(diffs) / REPS
    half = stats.t.ppf(0.975, REPS - 1) * stats.tstd(diffs) / math.sqrt(REPS)
    d = _row(data, "latency_s.p50")["differences"][0]
    assert d["method"] == "paired" and d["n"] == REPS
    assert d["change"] == pytest.approx(mean) and d["low"] == pytest.approx(mean - half)
    assert d["high"] == pytest.approx(mean + half)
    assert d["high"] < 0                      # half the service time: a clearly lower median latency
    # The same arrival streams: the arrivals are equal replication by replication, a zero-width difference.
    arrived = _row(data, "requests.arrived")["differences"][0]
    assert (arrived["change"], arrived["low"], arrived["high"]) == (0, 0, 0)
    md = (out / "compare.md").read_text()
    assert "paired Student-t intervals over 4 pairs" in md and "![timelines](compare.png)" in md


def test_different_seeds_are_not_paired_welch_interval(folders, tmp_path):
    _, data = _compare(tmp_path, folders["slow"], folders["other-seed"])
    assert data["paired"] == [False]
    a, b = _runs(folders["slow"], "requests.arrived"), _runs(folders["other-seed"], "requests.arrived")
    d = _row(data, "requests.arrived")["differences"][0]
    welch = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert d["method"] == "welch" and d["change"] != 0
    assert (d["low"], d["high"]) == (pytest.approx(welch.low), pytest.approx(welch.high))


def test_the_pages_are_self_contained(folders, tmp_path):
    out, _ = _compare(tmp_path, folders["slow"], folders["fast"], folders["other-seed"])
    assert sorted(p.name for p in out.iterdir()) == [".cmek-sim-files.json", "compare.html", "compare.json",
                                                   "compare.md", "compare.png"]
    page = (out / "compare.html").read_text()
    images = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert len(images) == 1 and images[0].startswith("data:image/png;base64,")
    assert str(tmp_path) not in page and "<script" not in page
    assert "fast − slow" in page and "other-seed − slow" in page
    (out / "notes.txt").write_text("the user's own file")
    _compare(tmp_path, folders["slow"], folders["fast"])          # an earlier compare's files are replaced...
    assert (out / "notes.txt").exists() and "other-seed" not in (out / "compare.html").read_text()  # ...only they


def test_a_cell_of_a_sweep_is_a_source(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(_scenario("300ms")))
    sweep = tmp_path / "sweep"
    assert cli.main(["sweep", str(scenario), "--set", "services[svc].concurrency=1,4", "--replications", "2",
                     "--duration", "60s", "--out", str(sweep), "--quiet", "--yes"]) == 0
    one, four = read_source(f"{sweep}#0"), read_source(f"{sweep}#1")
    rows = list(csv_rows(sweep / "sweep.csv"))
    assert one.values["svc", "latency_s.p99"] == [r["svc.latency_s.p99"] for r in rows if r["cell"] == "0"]
    assert "services[svc].concurrency=4" in four.what and four.folder is None
    out, data = _compare(tmp_path, f"{sweep}#0", f"{sweep}#1")
    assert data["paired"] == [True]            # the cells of a sweep share their streams
    assert [s["timelines"] for s in data["sources"]] == [False, False] and (out / "compare.png").exists()


def csv_rows(path):
    import csv
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            yield {k: (float(v) if k != "cell" and v else v) for k, v in row.items()}


def test_what_cannot_be_compared_is_one_line_each_exit_2(folders, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    status = cli.main(["compare", str(folders["slow"]), str(tmp_path / "absent"), f"{folders['fast']}#2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(err) == 2 and "no such folder" in err[0] and "not a sweep" in err[1]
    assert cli.main(["compare", str(folders["slow"])]) == 2
    assert cli.main(["compare", str(folders["slow"]), str(folders["fast"]), "--out", str(tmp_path / "mine")]) == 2
    assert "will not be replaced" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_difference_without_spread_or_pairs():
    assert difference([1.0], [2.0], paired=True) == {"change": 1.0, "low": None, "high": None, "method": "paired",
                                                    "n": 1}
    assert difference([1.0, 1.0], [3.0, 3.0], paired=False)["low"] == 2.0
    assert difference([None, None], [1.0, 2.0], paired=True)["change"] is None
