"""Hostile input gets one line and exit status 2, never a traceback or a hang (issue 18, points 7-10, 17-19).

Each case runs the real command in a subprocess on real files (a FIFO, /dev/zero, a sparse file, a YAML
bomb) or against a real listener on 127.0.0.1 started here (an HTTP server, a silent socket, random bytes),
every wait bounded by a timeout, every listener closed after.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

from sim import safe_yaml
from sim.scenario.traces import load_trace

TIMEOUT_S = 60          # a hang fails the test instead of the suite
SCENARIO = """name: s
duration: 10m
replications: 2
services:
  - name: api
    encryption_key: null
    service_time: {service_time}
    traffic: {traffic}
"""


def sim(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S, stdin=subprocess.DEVNULL)


def refused(proc: subprocess.CompletedProcess, lines: int = 1) -> list[str]:
    """The problem lines of a clean refusal: exit 2, no traceback, `lines` lines on stderr."""
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 2, proc.stderr[-2000:]
    problems = [line for line in proc.stderr.splitlines() if not line.startswith("warning")]
    assert len(problems) == lines, proc.stderr
    return problems


def scenario(folder: Path, name: str, service_time="100ms", traffic="{rate: 2}", extra="") -> Path:
    path = folder / name
    path.write_text(SCENARIO.format(service_time=service_time, traffic=traffic) + extra, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------------------
# 7, 17, 18: files that are not what they claim

def test_validate_refuses_non_regular_oversized_and_foreign_files(tmp_path):
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with open(tmp_path / "huge.yaml", "wb") as f:        # sparse: no disk used, 17 MiB to a reader
        f.truncate(17 * 2 ** 20)
    (tmp_path / "passwd.txt").write_text("root:x:0:0:hunter2:/root:/bin/bash\n", encoding="utf-8")
    (tmp_path / "three.csv").write_text("time,rps,time\n0,1,5\n60,2,7\n", encoding="utf-8")
    files = {
        "fifo.yaml": "is not a regular file",
        "/dev/zero": "is not a regular file",
        "huge.yaml": "larger than the 16 MiB",
        scenario(tmp_path, "emp-fifo.yaml", "{dist: empirical, file: fifo.yaml}").name: "is not a regular file",
        scenario(tmp_path, "emp-zero.yaml", "{dist: empirical, file: /dev/zero}").name: "is not a regular file",
        scenario(tmp_path, "emp-passwd.yaml", "{dist: empirical, file: passwd.txt}").name: "line 1: not a duration",
        scenario(tmp_path, "trace3.yaml", traffic="{trace: three.csv}").name: "names the column time 2 times",
        scenario(tmp_path, "trace-fifo.yaml", traffic="{trace: fifo.yaml}").name: "is not a regular file",
        scenario(tmp_path, "digits.yaml", traffic="{rate: " + "9" * 5000 + "}").name: "a number of 5,000 digits",
        scenario(tmp_path, "loop.yaml", traffic="&t {rate: *t}").name: "inside the value it names",
    }
    proc = sim("validate", *files, cwd=tmp_path)
    problems = refused(proc, lines=len(files))
    for (file, reason), line in zip(files.items(), problems):
        assert line.startswith(file) and reason in line, line
    assert "hunter2" not in proc.stderr                 # a file of another kind is never echoed


def test_import_refuses_a_fifo_and_a_device(tmp_path):
    fifo = tmp_path / "svc.yaml"
    os.mkfifo(fifo)
    for file in (fifo, "/dev/zero"):
        [line] = refused(sim("import-service", file, cwd=tmp_path))
        assert line == f"{file}: is not a regular file (a device, a pipe or a socket): give a file"


# ---------------------------------------------------------------------------------------------------------
# 8: YAML bombs and deep nesting

def bomb(levels: int = 9) -> str:
    text = 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for i in range(1, levels + 1):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n"
    return text


def test_a_yaml_bomb_is_refused_at_once(tmp_path):
    (tmp_path / "bomb.yaml").write_text(bomb() + "name: *a9\n", encoding="utf-8")
    [line] = refused(sim("validate", "bomb.yaml", cwd=tmp_path))
    assert "more than 1,000,000 values once aliases are expanded" in line
    export = (ROOT / "examples/gcloud/checkout-service.yaml").read_text(encoding="utf-8")
    (tmp_path / "svc.yaml").write_text(bomb() + export.replace("containerConcurrency: 120",
                                                               "containerConcurrency: *a9"), encoding="utf-8")
    [line] = refused(sim("import-service", "svc.yaml", cwd=tmp_path))
    assert "more than 1,000,000 values once aliases are expanded" in line


def test_a_message_shows_a_bounded_part_of_a_huge_value(tmp_path):
    export = (ROOT / "examples/gcloud/checkout-service.yaml").read_text(encoding="utf-8")
    huge = "[" + ", ".join(["12345"] * 20_000) + "]"
    (tmp_path / "svc.yaml").write_text(export.replace("containerConcurrency: 120", f"containerConcurrency: {huge}"),
                                       encoding="utf-8")
    [line] = refused(sim("import-service", "svc.yaml", cwd=tmp_path))
    assert "containerConcurrency: must be a whole number" in line and len(line) < 300, len(line)
    scenario(tmp_path, "s.yaml", traffic=f"{{rate: {huge}}}")
    [line] = refused(sim("validate", "s.yaml", cwd=tmp_path))
    assert "services[0].traffic.rate" in line and len(line) < 300, len(line)


def test_deep_nesting_in_an_import_is_one_line(tmp_path):
    (tmp_path / "deep.yaml").write_text("[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    [line] = refused(sim("import-service", "deep.yaml", cwd=tmp_path))
    assert line.endswith("nested more than 100 levels deep")


def test_the_guarded_loader_bounds_aliases_recursion_and_depth():
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * (safe_yaml.MAX_ALIASES + 1)) + "]\n"
    with pytest.raises(safe_yaml.LimitError, match="aliases"):
        safe_yaml.load(many)
    with pytest.raises(safe_yaml.LimitError, match="recursive"):
        safe_yaml.load("a: &a [1, *a]\n")
    deepest = safe_yaml.load("[" * safe_yaml.MAX_DEPTH + "]" * safe_yaml.MAX_DEPTH)
    for _ in range(safe_yaml.MAX_DEPTH - 1):
        deepest = deepest[0]
    assert deepest == []
    with pytest.raises(safe_yaml.LimitError, match="nested"):
        safe_yaml.load("[" * (safe_yaml.MAX_DEPTH + 1) + "]" * (safe_yaml.MAX_DEPTH + 1))
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key 'a'"):
        safe_yaml.load("a: 1\na: 2\n")
    defaults = "base: &base {cpu: 1, memory: 512Mi}\nsvc: {<<: *base, cpu: 2}\n"   # merge keys still work
    assert safe_yaml.load(defaults)["svc"] == {"cpu": 2, "memory": "512Mi"}


# ---------------------------------------------------------------------------------------------------------
# 18: numbers as people write them; duplicate keys in an import

@pytest.mark.parametrize("text, value", [("1e3", 1000.0), ("1.0e12", 1e12), ("2E-3", 0.002), ("-1.5e+2", -150.0),
                                         ("1e3s", "1e3s"), ("e3", "e3"), ("1_000", 1000)])
def test_exponents_are_numbers(text, value):
    assert safe_yaml.load(f"x: {text}\n")["x"] == value


def test_a_rate_written_with_an_exponent_validates(tmp_path):
    scenario(tmp_path, "e.yaml", traffic="{rate: 1.0e1}")
    proc = sim("validate", "e.yaml", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "e.yaml: ok", proc.stderr


def test_import_refuses_a_duplicate_key(tmp_path):
    export = (ROOT / "examples/gcloud/checkout-service.yaml").read_text(encoding="utf-8")
    (tmp_path / "svc.yaml").write_text(export.replace("metadata:\n", "metadata:\n  name: other\n", 1),
                                       encoding="utf-8")
    [line] = refused(sim("import-service", "svc.yaml", cwd=tmp_path))
    assert "duplicate key 'name'" in line


# ---------------------------------------------------------------------------------------------------------
# 9: import -o onto a folder

def test_import_onto_a_fifo_is_refused_even_with_force(tmp_path):
    os.mkfifo(tmp_path / "out.yaml")
    export = ROOT / "examples/gcloud/checkout-service.yaml"
    [line] = refused(sim("import-service", export, "-o", "out.yaml", "--force", cwd=tmp_path))
    assert line == "out.yaml: is not a regular file; -o names the scenario file to write"
    assert (tmp_path / "out.yaml").is_fifo()


def test_import_refuses_an_infinite_shutdown_delay(tmp_path):
    export = (ROOT / "examples/gcloud/checkout-service.yaml").read_text(encoding="utf-8")
    (tmp_path / "svc.yaml").write_text(export.replace("encryption-key-shutdown-hours: '6'",
                                                      "encryption-key-shutdown-hours: .inf"), encoding="utf-8")
    [line] = refused(sim("import-service", "svc.yaml", cwd=tmp_path))
    assert "must be a whole number of hours" in line and line.endswith("got inf")


def test_import_onto_a_folder_is_refused_even_with_force(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine", encoding="utf-8")
    export = ROOT / "examples/gcloud/checkout-service.yaml"
    [line] = refused(sim("import-service", export, "-o", "out", "--force", cwd=tmp_path))
    assert line == "out: is a folder; -o names the scenario file to write"
    assert (tmp_path / "out" / "keep.txt").read_text(encoding="utf-8") == "mine"


# ---------------------------------------------------------------------------------------------------------
# 10: --scheduler at something that is not a Dask scheduler

class Listener:
    """A TCP listener on 127.0.0.1 that answers like an HTTP server, sends random bytes, or stays silent."""

    def __init__(self, kind: str):
        self.kind, self.sock, self.conns = kind, socket.socket(), []
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return                                   # closed
            self.conns.append(conn)
            try:
                if self.kind == "http":
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                elif self.kind == "garbage":
                    conn.sendall(bytes(range(256)) * 64)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def listener(request):
    server = Listener(request.param)
    yield server
    server.close()


@pytest.mark.parametrize("listener", ["http", "garbage"], indirect=True)
def test_a_scheduler_that_is_not_dask_is_one_line(listener, tmp_path):
    pytest.importorskip("distributed")
    scenario(tmp_path, "ok.yaml")
    [line] = refused(sim("run", "ok.yaml", "--scheduler", listener.address, "--out", "r", cwd=tmp_path))
    assert line.startswith(f"the Dask scheduler at {listener.address}: what answers is not a Dask scheduler")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("listener", ["silent"], indirect=True)
def test_a_silent_listener_is_given_up_on_in_time(listener):
    pytest.importorskip("distributed")
    from sim.study.cluster import check_scheduler
    from sim.study.errors import StudyError
    with pytest.raises(StudyError, match=r"no answer within 1 s \(is it a Dask scheduler\?\)"):
        check_scheduler(listener.address, timeout=1.0)


@pytest.mark.parametrize("address, reason", [("tcp://127.0.0.1:notaport", "invalid literal"),
                                             ("bogus://x", "unknown address scheme"),
                                             ("tcp://127.0.0.1:99999", "the port must be 1 to 65535")])
def test_a_bad_scheduler_address_is_one_line_at_once(tmp_path, address, reason):
    pytest.importorskip("distributed")
    scenario(tmp_path, "ok.yaml")
    proc = sim("sweep", "ok.yaml", "--set", "services[0].min_instances=1,2", "--scheduler", address, cwd=tmp_path)
    [line] = refused(proc)
    assert line.startswith(f"--scheduler {address}: not a scheduler address (") and reason in line
    assert "Client" not in proc.stderr


def test_the_estimate_on_dask_counts_the_cluster_threads(capsys):
    from types import SimpleNamespace

    from sim.estimate import check_work
    from sim.scenario import load_scenario
    sc = load_scenario(ROOT / "scenarios/steady.yaml", {"duration": "10m"})
    for threads, said in ((8, "on the Dask cluster's 8 worker threads"), (0, "(it has none yet)")):
        args = SimpleNamespace(scheduler="tcp://10.0.0.5:8786", dask_threads=threads, max_hours=1e9, yes=False)
        assert check_work([sc], 16, args, workers=1) is None
        assert said in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------
# 18: studies that could not mean what they say

def test_a_sweep_refuses_two_spellings_of_one_value(tmp_path):
    scenario(tmp_path, "f.yaml", extra="faults:\n  - {kind: kms-outage, at: 60, duration: 1m}\n")
    proc = sim("sweep", "f.yaml", "--set", "services[0].min_instances=1,1.0", "--set", "faults[0].at=60,1m,2m",
               "--out", "sw", cwd=tmp_path)
    assert refused(proc, lines=2) == [
        "--set services[0].min_instances: 1 and 1.0 are the same value (1): give each value once",
        "--set faults[0].at: 60 and 1m are the same value (60): give each value once"]
    assert not (tmp_path / "sw").exists()


def test_solve_refuses_the_seed(tmp_path):
    scenario(tmp_path, "ok.yaml")
    [line] = refused(sim("solve", "ok.yaml", "--param", "seed", "--slo", "latency_s.p99<=1", "--out", "so",
                         cwd=tmp_path))
    assert line.startswith("error: --param seed: the seed picks the random draws")


def test_sensitivity_refuses_one_replication(tmp_path):
    scenario(tmp_path, "ok.yaml")
    [line] = refused(sim("sensitivity", "ok.yaml", "--replications", "1", "--out", "se", cwd=tmp_path))
    assert line == "error: --replications 1: the interval of a change needs at least 2 paired replications"


# ---------------------------------------------------------------------------------------------------------
# 19: a trace is read streaming

def test_a_trace_is_read_without_holding_its_rows(tmp_path):
    """Peak memory while reading stays near the points kept (~120 bytes a row); holding every row's
    cells as well, as a whole-file read does, costs about three times that."""
    rows = 30_000
    path = tmp_path / "t.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write("time,rps\n")
        f.writelines(f"{i},{i % 997 / 10}\n" for i in range(rows))
    tracemalloc.start()
    try:
        points = load_trace(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(points) == rows and points[-1] == (rows - 1.0, (rows - 1) % 997 / 10)
    assert peak / rows < 200, f"{peak / rows:.0f} bytes a row"
