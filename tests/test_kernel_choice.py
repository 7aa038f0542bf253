"""`--kernel auto | python | compiled` (issue 21): the choice resolved, refused before any work where it cannot
run, carried as an argument from every simulating command down to World (in worker processes too), reported,
kept out of a stored unit's identity, and a speed of its own in the work estimate."""
from __future__ import annotations

import argparse
import json
import sys
import types

import pytest
import yaml

from conftest import make_scenario
from sim import estimate, kernel as kernel_cli
from sim.cli import main
from sim.model import kernel_choice
from sim.model.kernel_choice import KernelUnavailable, resolve
from sim.scenario import scenario_from_dict

NO_NUMBA = "numba does not load here (ModuleNotFoundError: No module named 'numba')"


def scenario(routing: str = "least-loaded", **top):
    return scenario_from_dict(make_scenario(service={"routing": routing, "traffic": {"rate": 2}}, duration="10s",
                                            **top))


@pytest.fixture
def numba_loads(monkeypatch):
    """As if numba and the compiled kernel loaded here (whatever this machine has)."""
    monkeypatch.setattr(kernel_choice, "numba_problem", lambda: None)
    monkeypatch.setattr(kernel_choice, "numba_version", lambda: "9.9.9")


@pytest.fixture
def numba_missing(monkeypatch):
    monkeypatch.setattr(kernel_choice, "numba_problem", lambda: NO_NUMBA)


@pytest.fixture
def fake_compiled(monkeypatch, numba_loads):
    """A stand-in `sim.model.compiled` whose warm_up counts its calls (the real one is the lead's)."""
    calls = []

    def warm_up():
        calls.append(1)
        return len(calls) > 1          # the first compiles; a later one says it loaded from numba's cache
    module = types.ModuleType("sim.model.compiled")
    module.warm_up = warm_up
    monkeypatch.setitem(sys.modules, "sim.model.compiled", module)
    import sim.model
    monkeypatch.setattr(sim.model, "compiled", module, raising=False)
    kernel_choice.warm_up_report.cache_clear()
    monkeypatch.setattr(kernel_cli, "_said", False)
    yield calls
    kernel_choice.warm_up_report.cache_clear()


# -- resolve ------------------------------------------------------------------------------------------------
def test_python_is_always_python(numba_missing):
    assert resolve("python", scenario()) == "python"
    assert resolve("python", scenario("random")) == "python"


def test_auto_and_compiled_where_numba_loads(numba_loads):
    assert resolve("auto", scenario()) == "compiled"
    assert resolve("compiled", scenario()) == "compiled"


def test_auto_falls_back_and_compiled_is_refused_without_numba(numba_missing):
    assert resolve("auto", scenario()) == "python"
    with pytest.raises(KernelUnavailable, match="--kernel compiled: numba does not load"):
        resolve("compiled", scenario())


def test_random_routing_runs_on_python(numba_loads):
    assert resolve("auto", scenario("random")) == "python"
    with pytest.raises(KernelUnavailable, match="routing: random"):
        resolve("compiled", scenario("random"))


def test_an_unknown_choice_is_refused():
    with pytest.raises(KernelUnavailable, match="--kernel must be one of"):
        resolve("fast", scenario())


# -- the commands refuse before any work --------------------------------------------------------------------
def write(tmp_path, routing="least-loaded"):
    data = make_scenario(service={"routing": routing, "encryption_key": "k", "traffic": {"rate": 2}},
                         duration="10s", replications=2)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def commands(path, out):
    return {
        "run": ["run", path, "--out", out],
        "sweep": ["sweep", path, "--set", "services[svc].min_instances=0,1", "--out", out],
        "solve": ["solve", path, "--param", "services[svc].min_instances", "--slo",
                  "requests.failed_fraction<=0.5", "--out", out],
        "quota": ["quota", path, "--slo", "instance_starts_failed.quota_exceeded<=0", "--out", out],
        "sensitivity": ["sensitivity", path, "--only", "service_time", "--out", out],
    }


@pytest.fixture
def no_simulation(monkeypatch):
    import sim.runner

    def refuse(*args, **kwargs):
        raise AssertionError("simulated despite the refusal")
    monkeypatch.setattr(sim.runner, "World", refuse)


@pytest.mark.parametrize("command", ["run", "sweep", "solve", "quota", "sensitivity"])
def test_compiled_without_numba_is_one_line_and_exit_2(command, tmp_path, capsys, numba_missing, no_simulation):
    out = tmp_path / "out"
    assert main(commands(write(tmp_path), str(out))[command] + ["--kernel", "compiled"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --kernel compiled: {NO_NUMBA}"]
    assert not out.exists() and not (tmp_path / "out.partial").exists()       # nothing written, nothing left


def test_compiled_with_random_routing_is_refused(tmp_path, capsys, numba_loads, no_simulation):
    assert main(commands(write(tmp_path, "random"), str(tmp_path / "out"))["run"] + ["--kernel", "compiled"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --kernel compiled: routing: random (service svc)")


def test_a_bad_value_is_refused_by_argparse(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", write(tmp_path), "--kernel", "fast"])
    assert exit_.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err


# -- the choice reaches World ---------------------------------------------------------------------------------
@pytest.fixture
def worlds(monkeypatch):
    """The kernel every World of this process was built with."""
    import sim.runner
    seen = []
    real = sim.runner.World

    def recording(*args, **kwargs):
        seen.append(kwargs.get("kernel"))
        return real(*args, **kwargs)
    monkeypatch.setattr(sim.runner, "World", recording)
    return seen


@pytest.mark.parametrize("command", ["run", "sweep", "solve", "quota", "sensitivity"])
def test_every_command_passes_the_choice_to_every_world(command, tmp_path, worlds):
    argv = commands(write(tmp_path), str(tmp_path / "out"))[command] + ["--kernel", "python", "--quiet"]
    if command == "quota":
        argv.remove("--quiet")                   # quota has no --quiet
    assert main(argv) in (0, 1)                  # 1: an unmet objective is an answer too
    assert worlds and set(worlds) == {"python"}


def test_sensitivity_solve_passes_the_choice(tmp_path, worlds):
    argv = commands(write(tmp_path), str(tmp_path / "out"))["sensitivity"] + [
        "--solve", "services[svc].min_instances", "--slo", "requests.failed_fraction<=0.5", "--kernel", "python",
        "--quiet"]
    assert main(argv) == 0 and worlds and set(worlds) == {"python"}


def test_the_choice_reaches_world_in_worker_processes():
    """Passed as it is to each worker, which resolves it: an impossible choice fails there, in World."""
    from sim.runner import run
    from sim.study.engine import run_cells
    with pytest.raises(KernelUnavailable, match="'bogus'"):
        run(scenario(replications=2), workers=2, kernel="bogus")
    with pytest.raises(KernelUnavailable, match="'bogus'"):
        run_cells([scenario(), scenario(seed=2)], 2, baseline=False, workers=2, kernel="bogus")


def test_a_stored_unit_does_not_depend_on_the_kernel():
    from sim.study.store import fingerprint
    from sim.study.units import units_for
    [python], [compiled] = units_for(scenario(), 0, 1, kernel="python"), units_for(scenario(), 0, 1, kernel="compiled")
    assert python.kernel == "python" and compiled.kernel == "compiled"
    assert python.key == compiled.key and fingerprint(python) == fingerprint(compiled)


# -- what is reported ---------------------------------------------------------------------------------------
def test_run_says_the_request_path_and_records_it(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", write(tmp_path), "--out", str(out), "--no-plots", "--kernel", "python"]) == 0
    assert "request path: python (--kernel python)" in capsys.readouterr().out.splitlines()
    assert json.loads((out / "manifest.json").read_text())["kernel"] == "python"
    assert main(["run", write(tmp_path), "--out", str(tmp_path / "quiet"), "--no-plots", "--quiet"]) == 0
    assert "request path" not in capsys.readouterr().out


def test_auto_says_why_it_runs_python(numba_missing):
    assert kernel_cli.request_path_line("auto", scenario()) == f"request path: python (auto: {NO_NUMBA})"


def test_the_compiled_line_names_numba(numba_loads):
    assert kernel_cli.request_path_line("auto", scenario()) == "request path: compiled (numba 9.9.9)"


def test_the_kernel_is_compiled_once_and_said_once(fake_compiled, capsys):
    args = argparse.Namespace(max_hours=24.0, yes=False, scheduler=None, kernel="auto")
    assert estimate.check_work([scenario()] * 3, 2, args) is None
    assert estimate.check_work([scenario()], 2, args) is None
    ready = [line for line in capsys.readouterr().err.splitlines() if line.startswith("compiled kernel ready in ")]
    assert fake_compiled == [1] and len(ready) == 1        # compiled once per process, and said once
    assert kernel_choice.warm_up() == kernel_choice.warm_up() >= 0.0 and ready[0].endswith("later runs)")


def test_a_kernel_from_numbas_cache_goes_unsaid(fake_compiled):
    fake_compiled.append(1)                                # so the fake says: loaded from the cache
    assert kernel_choice.warm_up() >= 0.0 and kernel_cli.ready_line() is None


def test_python_has_no_warm_up(numba_missing):
    kernel_choice.warm_up_report.cache_clear()
    assert kernel_choice.warm_up() is None and kernel_cli.ready_line() is None
    kernel_choice.warm_up_report.cache_clear()


# -- the estimate: a speed per kernel -------------------------------------------------------------------------
@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.delenv(estimate.SPEED_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calibrated = []
    speeds = {"python": 100.0, "compiled": 5000.0}
    monkeypatch.setattr(estimate, "calibrate", lambda kernel="python": calibrated.append(kernel) or speeds[kernel])
    return calibrated


def test_each_kernel_is_calibrated_and_cached_under_its_own_key(cache, tmp_path):
    assert estimate.speed("python") == 100.0 and estimate.speed("compiled") == 5000.0
    assert estimate.speed("compiled") == 5000.0 and cache == ["python", "compiled"]     # cached: once each
    stored = json.loads((tmp_path / "cmek-sim" / "speed.json").read_text())
    assert stored == {estimate.machine_key(): 100, estimate.machine_key() + " | compiled": 5000}


def test_the_estimate_uses_the_speed_of_the_kernel_that_runs(cache):
    sc = scenario()
    python = estimate.estimate([sc], 2)
    compiled = estimate.estimate([sc], 2, kernels=["compiled"])
    both = estimate.estimate([sc, sc], 2, kernels=["python", "compiled"])
    cost = python.work.cost
    assert python.wall_seconds == pytest.approx(cost / 100) and compiled.wall_seconds == pytest.approx(cost / 5000)
    assert both.wall_seconds == pytest.approx(cost / 100 + cost / 5000)


def test_check_work_estimates_with_the_resolved_kernel(cache, fake_compiled):
    args = argparse.Namespace(max_hours=24.0, yes=False, scheduler=None, kernel="auto")
    assert estimate.check_work([scenario()], 1, args, quiet=True) is None
    assert cache == ["compiled"] and estimate._checked["kernel"] == "compiled"
    learned = estimate.learn(now=estimate._checked["started"] + 10.0)
    assert estimate.observed_speeds("compiled") == [round(learned)] and estimate.observed_speeds("python") == []


def test_speed_env_one_figure_or_one_per_kernel(monkeypatch):
    monkeypatch.setattr(estimate, "calibrate", lambda kernel="python": pytest.fail("calibrated"))
    monkeypatch.setenv(estimate.SPEED_ENV, "2000")
    assert estimate.speed("python") == estimate.speed("compiled") == 2000.0
    monkeypatch.setenv(estimate.SPEED_ENV, "python=2000, compiled=90000")
    assert estimate.speed("python") == 2000.0 and estimate.speed("compiled") == 90000.0
    monkeypatch.setenv(estimate.SPEED_ENV, "fortran=5")
    with pytest.raises(ValueError, match="KERNEL=N"):
        estimate.speed("python")


# -- sim notebook hands --kernel to the notebooks ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["fault_tour", "outage_study", "quota_increase_justification"])
def test_every_notebook_takes_the_kernel_and_uses_it(name):
    import nbformat
    import papermill
    from conftest import ROOT
    from sim.notebook import _parameters
    path = ROOT / "notebooks" / f"{name}.ipynb"
    declared = papermill.inspect_notebook(str(path))
    args = argparse.Namespace(name=name, scenario=str(ROOT / "scenarios" / "steady.yaml"), duration=None,
                              parameter=[], max_hours=3.0, yes=False, kernel="python")
    assert _parameters(args, declared)["kernel"] == "python"
    source = "".join(c.source for c in nbformat.read(path, as_version=4).cells if "parameters" not in
                     c.get("metadata", {}).get("tags", []))
    assert "kernel=kernel" in source or '"--kernel", kernel' in source
