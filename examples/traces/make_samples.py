"""Writes the sample traffic traces of this folder; seeded, so every run writes the same bytes.

    python examples/traces/make_samples.py [OUTDIR]

- azure-functions-sample.csv: the Azure Functions 2019 trace layout (HashOwner,HashApp,HashFunction,Trigger,
  1..1440), five made-up functions with a daily shape (quiet at night, a peak in the afternoon).
- cloud-monitoring-request-count.csv: a Cloud Monitoring export of run.googleapis.com/request_count
  (timestamp,value), 60-second alignment over three hours, a morning ramp.
- rps.csv: the plain `time,rps` form.
Nothing here is downloaded: the hashes are made up from the seeded generator.
"""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

SEED = 20191
MINUTES = 1440


def _hash(rng) -> str:
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, 32))


def azure_rows(rng) -> list[list[str]]:
    minute = np.arange(MINUTES)
    daily = 1.0 + 0.8 * np.cos(2 * np.pi * (minute - 15 * 60) / MINUTES)      # peak at 15:00
    rows = []
    # (mean invocations per minute, trigger): one busy HTTP function, the rest smaller
    for mean, trigger in [(1800, "http"), (600, "http"), (240, "queue"), (60, "timer"), (12, "event")]:
        owner, app, function = _hash(rng), _hash(rng), _hash(rng)
        if trigger == "timer":
            counts = np.where(minute % 5 == 0, mean * 5, 0)                      # every five minutes
        else:
            counts = rng.poisson(mean * daily * rng.lognormal(0.0, 0.1, MINUTES))
        rows.append([owner, app, function, trigger, *map(str, counts.tolist())])
    return rows


def monitoring_rows(rng) -> list[list[str]]:
    start = datetime(2026, 11, 30, 7, 0, tzinfo=timezone.utc)
    rows = []
    for i in range(180):                                                          # three hours, 60 s each
        rps = 20.0 + 180.0 / (1.0 + np.exp(-(i - 75) / 6.0))                      # 20 -> 200 req/s around 08:15
        stamp = (start + timedelta(minutes=i + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")  # stamped at the interval end
        rows.append([stamp, str(int(rng.poisson(rps * 60)))])
    return rows


def write(outdir: Path) -> list[Path]:
    rng = np.random.default_rng(SEED)
    files = {
        "azure-functions-sample.csv": [["HashOwner", "HashApp", "HashFunction", "Trigger",
                                        *map(str, range(1, MINUTES + 1))], *azure_rows(rng)],
        "cloud-monitoring-request-count.csv": [["timestamp", "value"], *monitoring_rows(rng)],
        "rps.csv": [["time", "rps"], ["0", "20"], ["10m", "60"], ["12m", "200"], ["20m", "80"], ["30m", "20"]],
    }
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in files.items():
        path = outdir / name
        path.write_text("".join(",".join(row) + "\n" for row in rows), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent):
        print(p)
