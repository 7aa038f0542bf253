"""What the charts show (issue 13, point 5), checked on the artists against the result files: the timeline's
offered load and failure share, desired drawn on top of ready; the KMS chart's failed operations per gRPC
code and its per-second panel as the busiest second of each window; no capacity-loss chart without a
twin; the quota curve's legend off the data and its band not below zero."""
from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import yaml
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection

from sim import plots
from sim.plots.kms import peak_window, window_max
from sim.plots.timeline import failure_shares, percent
from sim.results import read_csv, write_results
from sim.runner import run
from sim.scenario import scenario_from_dict

KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"
CODES = ("RESOURCE_EXHAUSTED", "UNAVAILABLE", "FAILED_PRECONDITION", "PERMISSION_DENIED")


def _data(name: str = "contents") -> dict:
    """A burst over a tight HSM quota shared with background load (RESOURCE_EXHAUSTED), the key disabled
    for a while (FAILED_PRECONDITION, and 429s as requests wait), its IAM binding revoked for a while
    (PERMISSION_DENIED), and a KMS outage (UNAVAILABLE)."""
    service = {"name": "web", "concurrency": 10, "min_instances": 1, "max_instances": 60, "encryption_key": "k",
               "service_time": {"dist": "lognormal", "mean": "1s", "cv": 0.5},
               "key_operations": {"validation_interval": "5s"},
               "pending_timeout": "5s",     # requests that wait out the disabled key fail with 429
               "traffic": {"rate": [[0, 5], [40, 5], [50, 80], [240, 80]]}}
    return {"name": name, "duration": "4m", "seed": 3, "services": [service],
            "keys": [{"id": "k", "name": KEY, "protection": "hsm"}],
            # hard: the tight quota refuses what it would serve on the soft headroom (the 2026 default)
            "kms": {"quota": {"hsm_requests_per_minute": 240, "background_rps": 3, "hsm_enforcement": "hard"}},
            "faults": [{"at": "60s", "kind": "key-disable", "key": "k"}, {"at": "90s", "kind": "key-enable", "key": "k"},
                       {"at": "120s", "kind": "iam-revoke", "key": "k"}, {"at": "140s", "kind": "iam-grant", "key": "k"},
                       {"at": "160s", "kind": "kms-outage", "duration": "15s"}]}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_results(run(scenario_from_dict(_data()), replications=1), tmp_path_factory.mktemp("cc") / "r",
                         plots=False)


def _axes(fig, words: str):
    found = [ax for ax in fig.axes if words in ax.get_title()]
    assert found, (words, [ax.get_title() for ax in fig.axes])
    return found[0]


def _line(ax, label_start: str):
    found = [line for line in ax.get_lines() if line.get_label().startswith(label_start)]
    assert len(found) == 1, (label_start, [line.get_label() for line in ax.get_lines()])
    return found[0]


def _series(folder) -> dict[str, np.ndarray]:
    rows = read_csv(folder / "timeseries.csv")
    return {k: np.array([r[k] for r in rows], float) for k in rows[0] if k != "service"}


# -- timeline -------------------------------------------------------------------------------------------
def test_timeline_shows_the_offered_load_from_the_arrivals(folder):
    c, interval = _series(folder), 10.0
    ax = _axes(plots.timeline_figure(folder), "offered load")
    arriving = _line(ax, "arriving")
    assert np.array_equal(np.asarray(arriving.get_ydata())[:-1], c["arrivals"] / interval)
    assert c["arrivals"].max() / interval >= 60                 # the burst: 80 requests per second
    served = _line(ax, "served")
    assert np.array_equal(np.asarray(served.get_ydata())[:-1], c["served"] / interval)
    assert ax.get_ylabel() == "requests/s"


def test_timeline_shows_failures_as_a_share_of_arrivals(folder):
    c = _series(folder)
    assert c["failed_429"].sum() > 0
    shares = failure_shares(c)
    with_arrivals = c["arrivals"] > 0
    assert np.allclose(shares["failed_429"][with_arrivals], 100 * c["failed_429"][with_arrivals]
                       / c["arrivals"][with_arrivals])
    assert np.isnan(shares["failed_429"][~with_arrivals]).all()
    ax = _axes(plots.timeline_figure(folder), "% of arrivals")
    assert ax.yaxis.get_major_formatter().func is percent and percent(25.0) == "25%" and percent(0.5) == "0.5%"
    fills = [coll for coll in ax.collections if isinstance(coll, PolyCollection)
             and coll.get_label().startswith("429")]
    assert len(fills) == 1 and fills[0].get_label().endswith(f": {c['failed_429'].sum():,.0f}")
    stacked = sum(np.nan_to_num(s) for col, s in shares.items() if c[col].any())
    assert ax.dataLim.y1 == pytest.approx(stacked.max())      # the top of the stack is the total share
    overall = 100 * (c["failed_429"] + c["failed_504"] + c["failed_shutdown"]).sum() / c["arrivals"].sum()
    assert f"({overall:.2g}% over the run)" in ax.get_title()


def test_timeline_draws_desired_on_top_of_ready(tmp_path):
    data = {"name": "steady", "duration": "2m", "seed": 1,
            "services": [{"name": "web", "min_instances": 3, "service_time": "200ms", "traffic": {"rate": 2}}]}
    folder = write_results(run(scenario_from_dict(data), replications=1), tmp_path / "r", plots=False)
    c = _series(folder)
    assert (c["instances_desired"] == c["instances_ready"]).all()    # equal throughout: the case at stake
    ax = _axes(plots.timeline_figure(folder), ": instances")
    desired, ready = _line(ax, "desired"), _line(ax, "ready")
    assert np.array_equal(np.asarray(desired.get_ydata())[:-1], c["instances_desired"])
    assert desired.get_zorder() > ready.get_zorder()
    assert desired.get_linestyle() == "--" and desired.get_color() != ready.get_color()
    assert desired.get_linewidth() < ready.get_linewidth()           # the ready line shows around the dashes


# -- kms ------------------------------------------------------------------------------------------------
def _per_second(folder, column_sum) -> np.ndarray:
    out = np.zeros(240)
    for r in read_csv(folder / "kms_usage.csv"):
        out[r["second"]] += column_sum(r)
    return out


def test_kms_chart_marks_failed_operations_per_grpc_code(folder):
    rows = read_csv(folder / "kms_usage.csv")
    fig = plots.kms_figure(folder)
    minute = _axes(fig, "per minute")
    for column, code, *_ in plots.kms.FAILURES:
        total = sum(r[column] for r in rows)
        assert total > 0, code                                  # every code happens in this run
        marks = _line(minute, code)
        assert marks.get_linestyle() == "None" and marks.get_label().startswith(f"{code} (")
        assert marks.get_label().endswith(f": {total:,.0f} failed")
        per_minute = np.add.reduceat(_per_second(folder, lambda r, c=column: r[c]), np.arange(0, 240, 60))
        assert np.array_equal(np.asarray(marks.get_ydata()), per_minute[per_minute > 0])
        assert _line(_axes(fig, "per second"), code)             # both panels
    labels = [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert all(any(label.startswith(code) for label in labels) for code in CODES)


def test_kms_per_second_panel_draws_the_busiest_second_of_each_window(folder):
    services = _per_second(folder, lambda r: r["starts"] + r["validation"] + r["deploy"])
    window = peak_window(240.0)
    assert window == 2 and peak_window(25 * 60) == 10 and peak_window(8 * 3600) == 60
    ax = _axes(plots.kms_figure(folder), "per second")
    assert f"busiest second in each {window} s" in ax.get_title()
    line = _line(ax, "requested by the services")
    assert np.array_equal(np.asarray(line.get_ydata())[:-1], window_max(services, window))
    assert len(line.get_ydata()) - 1 == math.ceil(240 / window)
    # The parameter: every second, and a wider window.
    assert "every second" in _axes(plots.kms_figure(folder, peak_window_s=1), "per second").get_title()
    wide = _line(_axes(plots.kms_figure(folder, peak_window_s=30), "per second"), "requested by the services")
    assert np.array_equal(np.asarray(wide.get_ydata())[:-1], window_max(services, 30))
    assert window_max(np.array([1, 5, 2, 0, 7]), 2).tolist() == [5, 2, 7]


# -- capacity loss ----------------------------------------------------------------------------------------
def test_no_capacity_loss_chart_without_a_twin(tmp_path):
    data = _data("untwinned")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(data))
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(scenario), "--out", str(tmp_path / "out"),
                           "--no-baseline"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "charts not written: capacity_loss.png (run with --no-baseline: no fault-free twin to compare with)" \
        in proc.stdout
    assert not (tmp_path / "out" / "capacity_loss.png").exists() and (tmp_path / "out" / "timeline.png").exists()
    # The figure function draws a note saying why, and nothing else.
    fig = plots.capacity_loss_figure(tmp_path / "out")
    assert all(not ax.get_lines() and not ax.collections for ax in fig.axes)
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "run with --no-baseline" in texts


# -- quota curve ------------------------------------------------------------------------------------------
def _quota_folder(tmp_path, levels: int = 30) -> object:
    """A quota.json whose points fill every corner of the axes, and whose lower bounds go below zero."""
    rpm = np.linspace(600, 3000, levels)
    objective = {"slo": "requests.failed_429<=0", "metric": "requests.failed_429", "op": "<=", "threshold": 0.0}
    def metric(k, service, mean):
        return {"slo": objective["slo"], "service": service, "mean": mean, "low": mean - 30.0, "high": mean + 30.0,
                "bound": mean + 30.0, "values": [mean, mean], "empty": 0, "met": mean <= 0}
    rows = []
    for k, q in enumerate(rpm):
        zigzag, up = 100.0 * (k % 2), 100.0 * k / (levels - 1)   # top and bottom at every quota, and across
        rows.append({"requests_per_minute": float(q), "met": bool(k == levels - 1),
                     "metrics": [metric(k, "a", zigzag), metric(k, "b", 100.0 - zigzag), metric(k, "c", up),
                                 metric(k, "d", 100.0 - up), metric(k, "e", 50.0)]})
    q = {"scenario": "synthetic", "protection": "hsm", "enforcement": "per-second", "replications": 2,
         "confidence": 0.95, "objectives": [objective], "levels": rows, "current_requests_per_minute": 600,
         "recommended_requests_per_minute": 3000, "at_80_percent": {"requests_per_minute": 2400, "met": False}}
    (tmp_path / "quota.json").write_text(json.dumps(q))
    return tmp_path


def test_quota_curve_legend_does_not_cover_the_data(tmp_path):
    fig = plots.quota_curve_figure(_quota_folder(tmp_path))
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent(renderer)
    points = np.concatenate([ax.transData.transform(np.column_stack(line.get_data())) for line in ax.get_lines()
                             if len(line.get_xdata()) > 2])    # the data lines and markers, not the threshold
    assert len(points) >= 150
    inside = [(x, y) for x, y in points if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1]
    assert not inside, inside[:5]
    assert not box.overlaps(ax.get_window_extent(renderer))    # off the axes altogether
    assert box.y1 <= ax.get_window_extent(renderer).y0


def test_quota_curve_band_of_a_non_negative_figure_stops_at_zero(tmp_path):
    fig = plots.quota_curve_figure(_quota_folder(tmp_path))
    bands = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert bands
    for band in bands:
        ys = np.concatenate([path.vertices[:, 1] for path in band.get_paths()])
        assert ys.min() >= 0.0                                  # low = mean - 30 < 0 at the zero means


def test_kms_chart_draws_a_soft_pools_ceiling_and_a_hard_pool_none(tmp_path):
    # The fixture's pool is hard: no ceiling. The same scenario soft, with a region-busy window, draws
    # quota x headroom (240/min = 4/s x 2 = 8/s), down to the quota (4/s) while the region is busy.
    ax = _axes(plots.kms_figure(write_results(run(scenario_from_dict(_data()), replications=1),
                                              tmp_path / "hard", plots=False)), "per second")
    assert not [line for line in ax.get_lines() if line.get_label().startswith("soft ceiling")]
    data = _data("soft")
    data["kms"]["quota"].update(hsm_enforcement="soft", soft_headroom=2)
    data["faults"].append({"at": "200s", "kind": "kms-region-busy", "duration": "20s"})
    folder = write_results(run(scenario_from_dict(data), replications=1), tmp_path / "soft", plots=False)
    rows = [r for r in read_csv(folder / "quota_in_force.csv")]
    assert [(r["start_s"], r["end_s"], r["soft_headroom"]) for r in rows] == [(0.0, 200.0, 2.0), (200.0, 220.0, 1.0),
                                                                             (220.0, 240.0, 2.0)]
    ax = _axes(plots.kms_figure(folder), "per second")
    ceiling = _line(ax, "soft ceiling")
    y = np.asarray(ceiling.get_ydata())[:-1]
    assert y[0] == 8.0 and y[205] == 4.0 and y[230] == 8.0
