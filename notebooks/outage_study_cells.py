"""The cells of notebooks/outage_study.ipynb (written by build_notebooks.py, which owns SETUP and the writer).

The notebook drives the study commands exactly as a planner types them (`sim sweep`, `sim solve`,
`sim sensitivity` through `sim.cli.main`), so what it shows is what those commands write.
"""
from __future__ import annotations

from nbformat.v4 import new_code_cell, new_markdown_cell


def outage_study_cells(setup: str, parameters_cell) -> list:
    return [
        new_markdown_cell("""\
# How many minimum instances ride out an EKM outage?

A Cloud Run service whose image key lives in an external key manager (Cloud EKM) cannot start an instance
while the EKM is unreachable: with a *retryable* error (here `UNREACHABLE_NETWORK`) Cloud Run keeps retrying
the start decrypts, so no new instance becomes ready until the EKM is back. Whatever traffic arrives during
the outage is served by the instances already running, and `min_instances` decides how many those are.

From one scenario (`scenarios/ekm-outage-min-instances.yaml` unless you pass your own with
`python -m sim notebook outage_study --scenario FILE`) this notebook

1. **sweeps** the outage length against `min_instances` and draws the share of failed requests as a heat
   map (`sim sweep`);
2. **solves** for the smallest `min_instances` that keeps failed requests under 1% through the outage, with
   confidence over paired replications (`sim solve`);
3. asks how much that answer rests on the model's own **assumptions** (`sim sensitivity`, a tornado chart).

Every cell, level and arm runs the same replications on the same random streams (common random numbers), so
differences come from the settings, not the luck of the draw. It takes a few minutes on 2 cores."""),
        parameters_cell('''\
scenario = "../scenarios/ekm-outage-min-instances.yaml"   # relative to this folder, or absolute
duration = None             # e.g. "40m": overrides the scenario's duration (it must cover the outage)
service = None              # the service to study (None: the scenario's first)
outage = 0                  # the index of the outage fault in the scenario's faults (time order)
outage_lengths = "10m,20m,30m"
min_instances = "1,3,5,8"
slo = None                  # None: failed requests under 1% (written in the next cell)
replications = 2            # paired replications per cell, level and arm
workers = 2                 # local processes; the results do not depend on it
max_hours = 24              # each study refuses work estimated above this many hours (sim notebook sets it)
yes = False                 # True: run even above max_hours (sim notebook --yes sets it)
kernel = "auto"             # the request path: auto, python or compiled (sim notebook --kernel); same results'''),
        new_code_cell(setup.format(prefix="outage-study") + '''
import csv, json
import matplotlib.pyplot as plt
import numpy as np
from sim.cli import main as sim
from sim.scenario import load_scenario

SCENARIO = str(Path(scenario).resolve())
SLO = slo or "requests.failed_fraction<=0.01"
sc = load_scenario(SCENARIO, {"duration": duration} if duration else None)
SERVICE = service or sc.services[0].name
FAULT = sc.faults[outage]
COMMON = ["--replications", str(replications), "--workers", str(workers), "--quiet", "--max-hours", str(max_hours),
          *(["--yes"] if yes else []), "--kernel", kernel]
if duration:
    COMMON += ["--duration", str(duration)]
print(f"{sc.name}: service {SERVICE}; fault {outage}: {FAULT.kind} at {FAULT.at:g} s for {FAULT.duration:g} s")'''),
        new_markdown_cell("""\
## 1. Outage length against minimum instances

`sim sweep` runs every combination of the outage lengths and the `min_instances` values. The heat map shows
the mean share of the service's requests that failed (429 after the pending timeout, 504, or lost at
shutdown) over the replications; `sweep_summary.csv` also holds each cell's 95% interval."""),
        new_code_cell('''\
sweep_out = OUT / "sweep"
status = sim(["sweep", SCENARIO, "--set", f"faults[{outage}].duration={outage_lengths}",
              "--set", f"services[{SERVICE}].min_instances={min_instances}",
              "--metric", "requests.failed_fraction", "--out", str(sweep_out), *COMMON])
assert status == 0, status

with open(sweep_out / "sweep_summary.csv", newline="") as f:
    rows = list(csv.DictReader(f))
lengths, mins = outage_lengths.split(","), min_instances.split(",")
column = f"{SERVICE}.requests.failed_fraction.mean"
grid = np.array([[float(next(r[column] for r in rows if r[f"faults[{outage}].duration"] == L
                                  and r[f"services[{SERVICE}].min_instances"] == m))
                  for L in lengths] for m in mins])

fig, ax = plt.subplots(figsize=(6.5, 4))
image = ax.imshow(grid * 100, cmap="Reds", origin="lower", aspect="auto", vmin=0)
ax.set_xticks(range(len(lengths)), lengths)
ax.set_yticks(range(len(mins)), mins)
ax.set_xlabel("EKM outage length")
ax.set_ylabel("min_instances")
for (i, j), v in np.ndenumerate(grid):
    ax.text(j, i, f"{v:.1%}", ha="center", va="center", color="white" if v > grid.max() / 2 else "black")
fig.colorbar(image, ax=ax, label="failed requests (%)")
ax.set_title(f"{sc.name}: failed requests of {SERVICE}")
plt.show()'''),
        new_markdown_cell("""\
## 2. The smallest `min_instances` that meets the objective

`sim solve` brackets and bisects the setting on paired replications (whole numbers for a count). A level
*meets* the objective when the one-sided 95% upper bound of the mean failed share is under the threshold
in the scenario as written (its own outage length). The report lists every level it ran, and checks 80% of
the answer as evidence that a smaller value would not do."""),
        new_code_cell('''\
solve_out = OUT / "solve"
status = sim(["solve", SCENARIO, "--param", f"services[{SERVICE}].min_instances", "--slo", SLO,
              "--service", SERVICE, "--out", str(solve_out), *COMMON])
assert status == 0, status
answer = json.loads((solve_out / "solve.json").read_text())
print(f"recommended min_instances: {answer['recommended']}")
display(Image(filename=str(solve_out / "solve_curve.png")))
display(Markdown((solve_out / "solve_report.md").read_text()))'''),
        new_markdown_cell("""\
## 3. How much the answer rests on the model's assumptions

Some inputs have no public source (the README's assumptions table): start phases, KMS and EKM latency, retry
policy, service time... `sim sensitivity` runs the scenario with each applicable assumption at its low and at
its high plausible value, on paired replications, and ranks them by how much they move the failed share. A
long bar means the answer depends on that guess: measure it for your service before trusting the figure."""),
        new_code_cell('''\
sens_out = OUT / "sensitivity"
status = sim(["sensitivity", SCENARIO, "--metric", "requests.failed_fraction", "--out", str(sens_out), *COMMON])
assert status == 0, status
display(Image(filename=str(sens_out / "sensitivity.png")))
with open(sens_out / "sensitivity.csv", newline="") as f:
    ranked = [r for r in csv.DictReader(f) if r["service"] == SERVICE]
lines = ["| assumption | low | high | change of the failed share (high - low) |", "|---|---|---|---:|"]
lines += [f"| {r['assumption']} | {r['low']} | {r['high']} | {float(r['change']):+.2%} |" for r in ranked[:6]]
display(Markdown("\\n".join(lines)))'''),
        new_markdown_cell("""\
## What to take away

- The heat map shows how the need grows with the outage: with too few instances running when the EKM goes
  away, the share of failed requests grows with every minute of outage at peak.
- The solve gives the smallest `min_instances` that holds the objective through the scenario's outage, and
  the report shows the level below it failing.
- The tornado chart names the assumptions the answer is most sensitive to; those are the inputs worth
  measuring on the real service (Cloud Monitoring gives service time and start latency) before the figure
  goes to a reviewer."""),
    ]
