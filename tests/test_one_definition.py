"""Issue 19 point 6: the table and the charts agree. The cold-start chart counts as the summary does (from the
warm-up on) and says how many there were in all; the warm-up is shaded; `sim run`'s progress line is drawn
only on a terminal."""
from __future__ import annotations

import io

from sim.plots.cold_start import cold_start_figure
from sim.plots.timeline import timeline_figure
from sim.results import read_csv, write_results
from sim.runner import run, run_progress
from sim.scenario import scenario_from_dict

DATA = {"name": "warm", "duration": "6m", "warmup": "2m", "seed": 2, "replications": 1,
        "services": [{"name": "api", "concurrency": 10, "max_instances": 50,
                      "service_time": {"dist": "lognormal", "mean": "200ms", "cv": 1},
                      "traffic": {"rate": [[0, 20], [180, 20], [240, 60]]}}]}


def test_cold_start_chart_counts_as_the_summary_and_shades_the_warmup(tmp_path):
    out = write_results(run(scenario_from_dict(DATA), replications=1), tmp_path / "r", plots=False)
    rows = [r for r in read_csv(out / "instances.csv") if r["requested_at"] is not None and r["ready_at"] is not None]
    import json
    summary = json.loads((out / "summary.json").read_text())
    counted = summary["runs"][0]["services"]["api"]["cold_starts"]["count"]
    assert len(rows) > counted > 0                     # the warm-up's burst is in the file, not in the summary
    fig = cold_start_figure(out)
    titles = [ax.get_title() for ax in fig.axes]
    assert f"api: {counted} cold starts after the warm-up (summary), {len(rows)} in all" in titles, titles
    for figure in (fig, timeline_figure(out)):
        assert "the warm-up (120 s)" in figure._suptitle.get_text()
        greys = [p for ax in figure.axes for p in ax.patches
                 if p.get_facecolor()[:3] == (0.55, 0.55, 0.55) and p.get_x() == 0]
        assert greys, "no warm-up shading"


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_run_progress_only_on_a_terminal():
    assert run_progress("x", io.StringIO()) is None                 # a pipe or a log file: nothing
    assert run_progress("x", _Terminal(), enabled=False) is None    # --quiet
    stream = _Terminal()
    bar = run_progress("x", stream)
    bar.started -= 10                                               # a run that has taken long enough
    bar(0.5)
    bar.close()
    assert stream.getvalue() == "\r  simulating x:  50%\n"
