"""`sim report FOLDER`: one self-contained HTML page per run, sweep, solve and quota folder: valid HTML,
every chart of the folder embedded as a data URI, no path of this machine, no code; written atomically,
replacing only an earlier report."""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_scenario
from sim import cli
from sim.html_page import markdown, no_paths
from sim.plots import write_charts
from sim.results import write_results
from sim.runner import run
from sim.scenario import scenario_from_dict

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}
PRIVATE = "/home/alice/capacity/notes.txt"       # a path of "this machine" written into the description


class Checker(HTMLParser):
    """Strict enough for our pages: a doctype, every element closed in order, one html/head/body/title."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.counts, self.problems, self.doctype, self.images = [], {}, [], False, []

    def handle_decl(self, decl):
        self.doctype = decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if tag == "img":
            self.images.append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def check_page(page: str, folder: Path, tmp_path: Path) -> None:
    checker = Checker()
    checker.feed(page)
    checker.close()
    assert checker.doctype and not checker.problems and not checker.stack, (checker.problems, checker.stack)
    assert all(checker.counts.get(t) == 1 for t in ("html", "head", "body", "title"))
    pngs = sorted(p.name for p in folder.glob("*.png"))
    assert pngs and len(checker.images) == len(pngs)                     # every chart, each once
    for img in checker.images:
        assert img["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    for local in (str(tmp_path), str(ROOT), str(Path.home()), "/tmp/", "/home/", "/root/", PRIVATE):
        assert local not in text, local
    assert "<script" not in text and "Traceback" not in text and not re.search(r"\w+\.py\b", text)


def _scenario(**top) -> dict:
    settings = {"name": "ticket", "duration": "120s", "replications": 2, "timeseries_interval": "5s",
                "description": f"A short run for a ticket; notes in {PRIVATE}.",
                "faults": [{"at": "40s", "kind": "key-disable", "key": "k"},
                           {"at": "70s", "kind": "key-enable", "key": "k"}]}
    return make_scenario(service={"encryption_key": "k", "concurrency": 2,
                                  "traffic": {"arrivals": "poisson", "rate": 4}}, **{**settings, **top})


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    return write_results(run(scenario_from_dict(_scenario())), tmp_path_factory.mktemp("rep") / "run",
                         plots=write_charts)


def test_a_run_report_has_the_table_charts_scenario_assumptions_and_cost(run_folder, tmp_path):
    assert cli.main(["report", str(run_folder)]) == 0
    page = (run_folder / "report.html").read_text()
    check_page(page, run_folder, run_folder.parent)
    for section in ("Results", "Cost", "Charts", "Scenario in brief", "Warnings", "Assumptions"):
        assert f"<h2>{section}</h2>" in page
    assert "capacity shortfall" in page and "per month at this traffic" in page and "$" in page and "key-disable" in page
    assert "kms.disable_propagation" in page and "notes.txt" in page      # the file's name, not its path
    assert "timeline.png" in page and "capacity_loss.png" in page


def test_the_report_says_the_scenarios_warnings(tmp_path):
    # A fault on a key no service uses validates, with a warning (sim/scenario/warnings.py).
    data = make_scenario(name="warned", duration="60s", faults=[{"at": "30s", "kind": "key-disable", "key": "k"}])
    folder = write_results(run(scenario_from_dict(data)), tmp_path / "w", plots=False)
    assert cli.main(["report", str(folder), "--out", str(tmp_path / "page.html")]) == 0
    page = (tmp_path / "page.html").read_text()
    assert re.search(r'<div class="warn">scenario: faults\[0\][^<]*no service', page), page[-3000:]
    assert "one replication" in page


@pytest.mark.parametrize("kind", ["sweep", "solve", "quota"])
def test_study_folders_get_a_report(kind, tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(_scenario(duration="60s", faults=[])))
    out = tmp_path / kind
    args = {"sweep": ["--set", "services[svc].concurrency=1,2"],
            "solve": ["--param", "services[svc].max_instances", "--slo", "requests.failed_fraction<=0.5",
                      "--low", "1", "--high", "2"],
            "quota": ["--slo", "cold_starts.latency_s.p99<=60"]}[kind]
    quiet = [] if kind == "quota" else ["--quiet"]
    assert cli.main([kind, str(scenario), *args, "--replications", "2", "--out", str(out), "--yes", *quiet]) == 0
    assert cli.main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    check_page(page, out, tmp_path)
    assert f"ticket — {kind} report" in page and "<table>" in page


def test_an_earlier_report_is_replaced_other_files_are_not(run_folder, tmp_path, capsys):
    mine = tmp_path / "mine.html"
    mine.write_text("my own page")
    assert cli.main(["report", str(run_folder), "--out", str(mine)]) == 2
    assert mine.read_text() == "my own page"
    assert "will not be replaced" in capsys.readouterr().err
    page = tmp_path / "page.html"
    assert cli.main(["report", str(run_folder), "--out", str(page)]) == 0
    assert cli.main(["report", str(run_folder), "--out", str(page)]) == 0       # its own earlier page
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.html", "page.html"]   # no temporary file left


def test_what_is_not_a_results_folder_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "notes").mkdir()
    for folder in (tmp_path / "absent", tmp_path / "notes"):
        assert cli.main(["report", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such folder" in err[0] and "not a results folder" in err[1]


def test_no_paths_keeps_key_names_and_links():
    text = ("read /tmp/pytest-1/run/summary.json and C:\\Users\\bob\\x.yaml; key projects/p/locations/l/keyRings/r/"
            "cryptoKeys/k; see https://cloud.google.com/run/docs/securing/cmek")
    assert no_paths(text) == ("read summary.json and x.yaml; key projects/p/locations/l/keyRings/r/cryptoKeys/k; "
                              "see https://cloud.google.com/run/docs/securing/cmek")


def test_markdown_subset():
    html = markdown("# Title\n\nSome **bold** and `code`.\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert html == ("<p>Some <strong>bold</strong> and <code>code</code>.</p>\n<ul><li>one</li><li>two</li></ul>\n"
                    '<table><thead><tr><th class="text">a</th><th>b</th></tr></thead><tbody><tr>'
                    '<td class="text">1</td><td>2</td></tr></tbody></table>')
