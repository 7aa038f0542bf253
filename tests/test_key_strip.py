"""Issue 19 point 4: the timeline draws each key's state (usable, disabled, destroyed, and why) as its own
strip, so an EKM EXTERNAL_PERMISSION_DENIED outage that leaves the key disabled after it ends shows as such."""
from __future__ import annotations

import pytest

from sim.plots.folder import Folder
from sim.plots.key_states import DESTROYED, DISABLED, USABLE, key_spans
from sim.plots.timeline import timeline_figure
from sim.results import write_results
from sim.runner import run
from sim.scenario import scenario_from_dict

EXT = "projects/acme-sec/locations/us-central1/keyRings/ekm/cryptoKeys/orders"
HSM = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"


def _data(faults, key=EXT, protection="external") -> dict:
    return {"name": "keys", "duration": "3m", "seed": 5, "timeseries_interval": "5s",
            "keys": [{"id": "k", "name": key, "protection": protection}],
            "services": [{"name": "web", "encryption_key": "k", "min_instances": 1, "concurrency": 10,
                          "key_operations": {"validation_interval": "10s"},
                          "service_time": {"dist": "lognormal", "mean": "200ms", "cv": 0.5},
                          "traffic": {"rate": 5}}],
            "faults": faults}


def _folder(tmp_path, data):
    return write_results(run(scenario_from_dict(data), replications=1, baseline=False), tmp_path / "r", plots=False)


def test_permission_denied_leaves_the_key_disabled_to_the_end(tmp_path):
    out = _folder(tmp_path, _data([{"at": "30s", "kind": "ekm-outage", "duration": "30s",
                                    "error": "EXTERNAL_PERMISSION_DENIED"}]))
    spans = key_spans(Folder.read(out))["k"]
    assert [s.state for s in spans] == [USABLE, DISABLED]
    assert 30 <= spans[1].start <= 40 and spans[1].end == 180 and "EXTERNAL_PERMISSION_DENIED" in spans[1].why
    fig = timeline_figure(out)
    strips = [ax for ax in fig.axes if [t.get_text() for t in ax.get_yticklabels()] == ["key k"]]
    assert len(strips) == 2                                # above each time column
    texts = [t.get_text() for t in strips[0].texts]
    assert any("disabled: the EKM disabled it: EXTERNAL_PERMISSION_DENIED (to the end of the run)" in t
               for t in texts), texts
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "key usable" in labels and "key disabled" in labels


def test_disable_enable_and_destroy_give_their_spans(tmp_path):
    out = _folder(tmp_path, _data([{"at": "20s", "kind": "key-disable", "key": "k"},
                                   {"at": "60s", "kind": "key-enable", "key": "k"},
                                   {"at": "120s", "kind": "key-destroy", "key": "k"}], HSM, "hsm"))
    spans = key_spans(Folder.read(out))["k"]
    assert [(s.state, s.start, s.end) for s in spans] == [
        (USABLE, 0, 20), (DISABLED, 20, 60), (USABLE, 60, 120), (DESTROYED, 120, 180)]


def test_no_key_strip_when_no_key_changed(tmp_path):
    out = _folder(tmp_path, _data([{"at": "30s", "kind": "ekm-outage", "duration": "30s",
                                    "error": "UNREACHABLE_NETWORK"}]))
    assert key_spans(Folder.read(out)) == {}
    fig = timeline_figure(out)
    assert not [ax for ax in fig.axes if any("key" in t.get_text() for t in ax.get_yticklabels())]
