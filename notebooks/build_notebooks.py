"""Writes the notebooks of this folder (without outputs): `python notebooks/build_notebooks.py`.

The notebooks are thin: they call the Python API (sim.scenario, sim.runner, sim.results, sim.quota) and the
charts in sim.plots. They find the repository through paths relative to this folder, and the test suite
executes them (tests/test_notebooks.py). Each has a first code cell tagged `parameters` (papermill's
convention) with at least `scenario`, a scenario file or None, and `duration`, which overrides its duration:
`python -m sim notebook NAME --scenario FILE` runs it with a planner's own scenario (sim/notebook.py).
"""
from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = '''\
import sys, tempfile
from pathlib import Path

ROOT = Path("..").resolve()          # this notebook lives in notebooks/
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))    # runs without the editable install too

from IPython.display import Image, Markdown, display
from sim import plots
from sim.results import write_results
from sim.runner import run

_scratch = tempfile.TemporaryDirectory(prefix="{prefix}-")   # removed when the kernel stops
OUT = Path(_scratch.name)                                      # results folders of this notebook


def show(folder, *charts):
    """Draw the named charts of a results folder (timeline, cold_start, kms, capacity_loss) and show them."""
    for chart in charts:
        display(Image(filename=str(plots.save(plots.FIGURES[chart](folder), Path(folder) / f"{{chart}}.png"))))
'''


def parameters_cell(source: str):
    """The cell papermill replaces (`sim notebook` passes `scenario`, and `duration` when given)."""
    return new_code_cell(source, metadata={"tags": ["parameters"]})


def quota_notebook():
    cells = [
        new_markdown_cell("""\
# Justifying a Cloud KMS quota increase

A Cloud Run service whose image is protected by a customer-managed key (CMEK) makes key operations on every
instance start: two Decrypt calls before the container can start, plus a validation encrypt/decrypt every few
minutes. With an **HSM** (or external) key these operations count against the Cloud KMS quota of the key's
project, enforced per second. When a traffic spike starts many instances at once, the starts can exceed the
quota: KMS answers `RESOURCE_EXHAUSTED`, those instance starts fail, and the service is short of capacity
exactly when it needs it.

**The 2026 rules.** Since 2026-02-16 Cloud KMS *soft*-enforces HSM quotas: a request over the quota is still
served "if the system can serve the request" (https://cloud.google.com/kms/quotas), that is while the region
has spare capacity; requests on external (Cloud EKM) keys stay *hard*-enforced. **What is guaranteed is the
quota; service over it is best effort.** The simulator serves a soft HSM pool up to `kms.quota.soft_headroom`
times its quota (an assumption, 1.5 by default, plausible 1 to 3), and a `kms-region-busy` fault takes that
headroom away while the region is busy. So this notebook asks for the quota at which the objective holds with
nothing served over it (the solver runs a soft pool as hard-enforced: the figure to ask for), and shows what
the current quota gives with the assumed headroom as a figure not to plan on.

This notebook takes a scenario (by default `scenarios/kms-quota-burst.yaml`; `python -m sim notebook
quota_increase_justification --scenario FILE` runs it on yours) and

1. runs it at the **current quota** and shows what happens (charts from `sim.plots`);
2. finds the **smallest quota** at which no instance start fails on quota without any request served over
   it, with 95% confidence over paired replications (`sim.quota.solve`), and, for a soft HSM pool, what the
   current quota gives with the assumed headroom;
3. shows the evidence (the quota curve and the report a reviewer reads);
4. re-runs the scenario at the **recommended quota** to check the failures are gone.

It runs in a couple of minutes."""),
        parameters_cell('''\
scenario = "../scenarios/kms-quota-burst.yaml"   # the scenario file (relative to this folder, or absolute)
duration = None          # e.g. "10m": overrides the scenario's duration (None: as the file says)
slos = None              # None: no instance start may fail on quota (in any replication)
replications = 5         # paired replications per quota level (as `python -m sim quota` by default)
confidence = 0.95
workers = 2              # processes; the results do not depend on it
kernel = "auto"          # the request path: auto, python or compiled (sim notebook --kernel); same results'''),
        new_code_cell(SETUP.format(prefix="quota-notebook") + '''
from sim.quota import quota_field, solve, write_quota
from sim.report import summary_table
from sim.scenario import load_scenario, with_updates

SCENARIO = Path(scenario)
SLOS = list(slos or ["instance_starts_failed.quota_exceeded<=0"])   # written here: papermill reads no "=" in a value
REPLICATIONS, CONFIDENCE, WORKERS = int(replications), float(confidence), int(workers)'''),
        new_code_cell('''\
sc = load_scenario(SCENARIO, {"duration": duration} if duration else None)
quota = sc.kms.quota
print(f"{sc.name}: {sc.description}\\n")
print(f"simulated time {sc.duration / 60:g} min; quota enforced {quota.enforcement}: "
      f"HSM {quota.hsm_requests_per_minute:,.0f}/min ({quota.hsm_enforcement}"
      + (f", served up to {quota.soft_headroom:g}x while the region has spare capacity" if quota.hsm_enforcement == "soft"
         else "") + f"), external {quota.external_requests_per_minute:,.0f}/min (hard), "
      f"background {quota.background_rps.hsm:g} requests/s (HSM pool), "
      f"{quota.background_rps.external:g} requests/s (external pool)")
for key in sc.keys:
    print(f"key {key.id}: {key.protection}  {key.name}")
for s in sc.services:
    print(f"service {s.name}: key {s.encryption_key}, {s.key_operations.decrypts_per_start} decrypts per start, "
          f"max {s.max_instances} instances, concurrency {s.concurrency}")'''),
        new_markdown_cell("""\
## 1. At the current quota

One run of the scenario as it is. In `kms.png` the per-minute panel stacks the key operations requested,
admitted or not (instance starts, validation checks, background consumers of the same quota), and draws what
the quota admitted in all as a line; the per-second panel draws the busiest second of each window (all
requests shaded, the services' as a line). The dashed line is the quota, the red crosses are the services'
operations refused with `RESOURCE_EXHAUSTED` (other gRPC codes get their own markers) and the orange dots
the refused background requests. Each refused Decrypt fails an instance start (`quota_exceeded`, counted in
the cold-start chart's title); the autoscaler asks again at its next decision, so in the timeline the ready
instances lag behind the desired ones (dashed) while the burst lasts. Under soft enforcement the pool also
admits requests over the quota while the assumed headroom lasts: the printed `KMS pool` line counts them
(`served over quota`), and `kms_usage.csv` per second. They are the region's spare capacity, not the quota."""),
        new_code_cell('''\
current = run(sc, replications=REPLICATIONS, workers=WORKERS, baseline=False, kernel=kernel)
folder = write_results(current, OUT / "current", plots=False)
print(summary_table(current.summary))
show(folder, "kms", "timeline", "cold_start")'''),
        new_markdown_cell("""\
## 2. The smallest quota that meets the objective

The solver runs the same replications (same random streams) at each quota level it tries, so the levels
differ only by the quota. It starts from the current quota and the unconstrained peak demand, simulated (the most
operations per second an unconstrained run requests), brackets the answer by doubling or halving, bisects
to about 3%, rounds up to a tidy number and runs that again. A level *meets* the objective when every
replication has no start failed on quota (for `<= 0` objectives on counts; other objectives use the
one-sided 95% confidence bound of the mean). A soft HSM pool is run hard-enforced in this search: the answer
is the quota at which the objective holds even when the region has no spare capacity, so no request depends on
best-effort service. The current quota is then run once more with the assumed headroom; the report's section
"Soft enforcement" gives both figures."""),
        new_code_cell('''\
answer = solve(sc, SLOS, replications=REPLICATIONS, confidence=CONFIDENCE, workers=WORKERS, kernel=kernel,
               progress=lambda line: print(line, flush=True))
quota_folder = write_quota(answer, OUT / f"{sc.name}-quota")
print(f"\\nrecommended: {answer.recommended:,}/min   current: {answer.current:,}/min   "
      f"unconstrained peak demand, simulated: {answer.lower_bound:,}/min")
if answer.current_with_headroom is not None:     # a soft HSM pool: the recommendation is the guaranteed figure
    best_effort = answer.current_with_headroom
    print(f"soft enforcement: at the current quota with the assumed headroom {answer.soft_headroom:g}x the "
          f"objective is {'met' if best_effort.met else 'not met'}, "
          f"{best_effort.kms['served_over_quota_mean']:,.1f} requests per run served over the quota (best effort)")
display(Image(filename=str(quota_folder / "quota_curve.png")))'''),
        new_markdown_cell("""\
The curve shows the objective's metric (mean over replications, with its one-sided confidence band) at every
quota level the solver ran; filled points meet the objective, hollow ones do not. The report below is what an
analyst pastes into the quota-increase request: the recommendation, where the peak demand comes from, and the
evidence at the current quota, at the recommendation and at 80% of it."""),
        new_code_cell('''display(Markdown((quota_folder / "quota_report.md").read_text()))'''),
        new_code_cell('''\
# What to ask for, and where the peak comes from: every sentence computed from the figures above
from sim.quota.narrative import peak_split, request_header
display(Markdown("### The request\\n\\n" + request_header(sc, answer.protection, answer.current, answer.recommended)
                 + "\\n\\n" + peak_split(answer.demand)))'''),
        new_markdown_cell("""\
## 3. Check: the same scenario at the recommended quota

The same replications at the recommended quota; what changes for users, and what does not, is computed
below from the two runs' figures. Both runs use the scenario's enforcement (soft for HSM by default), so the
last column says how much was still served over the quota: at the recommendation that is room to spare, not
a dependency."""),
        new_code_cell('''\
raised = run(with_updates(sc, {quota_field(answer.protection): answer.recommended}),
             replications=REPLICATIONS, workers=WORKERS, baseline=False, kernel=kernel)
raised_folder = write_results(raised, OUT / "recommended", plots=False)
show(raised_folder, "kms", "timeline")

def row(label, result):
    agg = result.summary["aggregate"]
    failed = sum(s["instance_starts_failed"]["quota_exceeded"]["mean"] for s in agg["services"].values())
    r429 = sum(s["requests"]["failed_429"]["mean"] for s in agg["services"].values())
    short = max(s["capacity"]["shortfall_fraction"]["mean"] for s in agg["services"].values())
    over = sum(p[k]["mean"] for p in agg["kms"]["quota_pools"].values()
               for k in ("served_over_quota_services", "served_over_quota_background"))
    return (f"| {label} | {agg['kms']['resource_exhausted']['mean']:,.1f} | {failed:,.1f} | {r429:,.1f} | "
            f"{short:.1%} | {over:,.1f} |")

display(Markdown("\\n".join([
    "| quota | RESOURCE_EXHAUSTED | starts failed on quota | 429 responses | capacity shortfall | served over quota |",
    "|---|---:|---:|---:|---:|---:|",
    row(f"current {answer.current:,}/min", current),
    row(f"recommended {answer.recommended:,}/min", raised),
]) + f"\\n\\n(means over {REPLICATIONS} replications)"))'''),
        new_code_cell('''\
# The verdict, derived from the figures: a change smaller than the replications' spread is "unchanged"
from sim.quota.narrative import compare, impact
display(Markdown(" ".join(compare(impact(current.summary), impact(raised.summary),
                                  f"the current {answer.current:,}/min", f"the recommended {answer.recommended:,}/min"))))'''),
    ]
    return cells


TOUR_SETUP = '''
from sim.scenario import load_scenario, scenario_from_dict
from sim.units import parse_duration

HSM_KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"
EKM_KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images-ekm"
findings = []   # one row per section, for the table at the end

# With a scenario, its first service (settings and traffic), kms section, project and seed replace the
# built-in ones; the key is the tour's own (HSM, or external for the EKM faults).
BASE = load_scenario(scenario, {"duration": duration} if duration else None).to_resolved_dict() if scenario else None
RUN_S = BASE["duration"] if BASE else parse_duration(duration or "10m")
SERVICE = BASE["services"][0]["name"] if BASE else "checkout"


def t(minute):
    """Minute `minute` of the 10-minute tour, scaled to the run's length (the same minute in a 10-minute run)."""
    return f"{minute / 10 * RUN_S:g}s"


def tour(name, faults, protection="hsm", service=None, kms=None):
    """A run of RUN_S seconds (10 minutes: 10 requests/s, then a climb to 150/s between 3 and 4 min that needs
    new instances), on one service whose image uses a CMEK key; `faults` happen during the climb (with a
    scenario: during its traffic). Returns (result, folder)."""
    if BASE:
        svc = {**BASE["services"][0], "encryption_key": "images", **(service or {})}
        extra = {"project": BASE["project"], "seed": BASE["seed"],
                 "kms": {**BASE["kms"], **{k: {**BASE["kms"][k], **v} for k, v in (kms or {}).items()}}}
    else:
        svc = {"name": SERVICE, "encryption_key": "images", "concurrency": 10, "min_instances": 1,
               "service_time": {"dist": "lognormal", "mean": "300ms", "cv": 1.0},
               "traffic": {"rate": [[0, 10], ["3m", 10], ["4m", 150], ["10m", 150]]}, **(service or {})}
        extra = {"seed": 7, "kms": kms or {}}
    key = {"id": "images", "name": HSM_KEY if protection == "hsm" else EKM_KEY, "protection": protection}
    data = {"name": name, "duration": RUN_S, **extra, "keys": [key], "services": [svc], "faults": faults}
    result = run(scenario_from_dict(data, base_dir=ROOT), kernel=kernel)   # with its fault-free twin, same streams
    folder = write_results(result, OUT / name, plots=False)
    s = result.summary["runs"][0]["services"][svc["name"]]
    failed = ", ".join(f"{n:,} {why}" for why, n in s["instance_starts_failed"].items() if n) or "none"
    loss = s["capacity_loss"]
    p99 = s["cold_starts"]["latency_s"]["p99"]
    findings.append((name, s["cold_starts"]["count"], p99, failed, s["requests"]["failed_429"],
                     s["instances"]["shut_down_by_key_revocation"], loss["ready_instance_s"],
                     loss["extra_failed_requests"]))
    print(f"{name}: {s['cold_starts']['count']} cold starts (p99 {p99:.1f} s, "
          f"{loss['extra_cold_start_p99_s']:+.1f} s against the twin); starts failed: {failed}; "
          f"{s['requests']['failed_429']:,} requests failed with 429; "
          f"{s['instances']['shut_down_by_key_revocation']} instances shut down by key revocation; "
          f"capacity lost {loss['ready_instance_s']:,.0f} instance-seconds")
    return result, folder
'''

SECTIONS = [
    ("key-disable", """\
## key-disable (and key-enable)

The key version is disabled at 3 min, during the climb, and enabled again at 6 min. With the default
`revocation_action: prevent-new`, running instances keep serving, but every new instance start fails its
Decrypt with `FAILED_PRECONDITION` (`key_disabled`): the service stays at the instances it had, requests queue
and fail with 429 until the key is enabled.""",
     '''tour("key-disable", [{"at": t(3), "kind": "key-disable", "key": "images"},
                     {"at": t(6), "kind": "key-enable", "key": "images"}])''', ("timeline", "capacity_loss")),
    ("key-schedule-destroy", """\
## key-schedule-destroy (and key-restore)

Scheduling the key version for destruction makes it unusable at once (`DESTROY_SCHEDULED`). Here the service
uses `revocation_action: shut-down` with `shutdown_after: 1m`: the first failed start starts the countdown,
and a minute later every running instance is shut down. Restoring (to `DISABLED`) and enabling the key at
6 min lets the service start again.""",
     '''tour("key-schedule-destroy",
     [{"at": t(3), "kind": "key-schedule-destroy", "key": "images"},
      {"at": t(6), "kind": "key-restore", "key": "images"}, {"at": t(6), "kind": "key-enable", "key": "images"}],
     service={"revocation_action": "shut-down", "shutdown_after": t(1)})''', ("timeline", "capacity_loss")),
    ("key-destroy", """\
## key-destroy

A destroyed key version never comes back: no instance can start again, and with `shut-down` the running
instances stop after `shutdown_after` (here 2 min). From then on every request fails.""",
     '''tour("key-destroy", [{"at": t(3), "kind": "key-destroy", "key": "images"}],
     service={"revocation_action": "shut-down", "shutdown_after": t(2)})''', ("timeline", "capacity_loss")),
    ("ekm-outage retryable", """\
## ekm-outage, retryable (external key)

With an external key (Cloud EKM), the external key manager is unreachable for 2 minutes
(`UNREACHABLE_NETWORK`, a retryable error domain). Instance starts do not fail: they retry with exponential
backoff and finish after the outage, so cold starts take minutes and the key-operations phase dominates
them.""",
     '''tour("ekm-outage-retryable",
     [{"at": t(3), "kind": "ekm-outage", "duration": t(2), "error": "UNREACHABLE_NETWORK"}],
     protection="external")''', ("cold_start", "capacity_loss")),
    ("ekm-outage non-retryable", """\
## ekm-outage, non-retryable (external key)

`EXTERNAL_NOT_FOUND` is not retryable: starts fail (`ekm_non_retryable`) and, whatever the revocation
action, the shutdown countdown starts (here `shutdown_after: 1m`), so running instances are shut down too.
When the outage ends the service starts again.""",
     '''tour("ekm-outage-non-retryable",
     [{"at": t(3), "kind": "ekm-outage", "duration": t(2), "error": "EXTERNAL_NOT_FOUND"}],
     protection="external", service={"shutdown_after": t(1)})''', ("timeline", "capacity_loss")),
    ("ekm-latency", """\
## ekm-latency (external key)

The external key manager slows down for 3 minutes (median 140 ms, p99 600 ms). Answers slower than the
150 ms EKM timeout fail with the retryable `TIMEOUT` and are retried with backoff: cold starts get slower,
nothing fails outright.""",
     '''tour("ekm-latency",
     [{"at": t(3), "kind": "ekm-latency", "duration": t(3),
       "latency": {"dist": "lognormal", "median": "140ms", "p99": "600ms"}}],
     protection="external")''', ("cold_start",)),
    ("kms-outage", """\
## kms-outage

Cloud KMS itself answers `UNAVAILABLE` for one minute. It is retryable: instance starts wait, retrying
with backoff, and finish after the outage.""",
     '''tour("kms-outage", [{"at": t(3), "kind": "kms-outage", "duration": t(1)}])''',
     ("cold_start", "capacity_loss")),
    ("quota-change", """\
## quota-change

The HSM quota drops to 60 requests per minute (1 per second) for 3 minutes. The climb needs many instance
starts, each with two Decrypt calls; those over the quota get `RESOURCE_EXHAUSTED` and the starts fail
(`quota_exceeded`).""",
     '''tour("quota-change",
     [{"at": t(3), "kind": "quota-change", "hsm_requests_per_minute": 60, "duration": t(3)}])''',
     ("kms", "timeline")),
    ("kms-background-load", """\
## kms-background-load

Other consumers of the same HSM pool (Cloud SQL, Cloud Storage CMEK...) add 12 requests per second for 3
minutes to a 10-per-second quota (`pool: hsm`; `pool: external` would load the external pool instead): they take the whole quota in most seconds, and the climb's Decrypt calls get what is
left. The starts refused with `RESOURCE_EXHAUSTED` fail (`quota_exceeded`); the autoscaler asks again at its
next decision, so the service catches up late rather than not at all.""",
     '''tour("kms-background-load", [{"at": t(3), "kind": "kms-background-load", "duration": t(3), "rps": 12,
                                  "pool": "hsm"}],
     kms={"quota": {"hsm_requests_per_minute": 600}})''', ("kms", "capacity_loss")),
    ("kms-region-busy", """\
## kms-region-busy

Since 2026-02-16 the HSM quota is soft-enforced: requests over it are served while the region has spare
capacity, here up to 1.5 times the 10-per-second quota (`kms.quota.soft_headroom`, an assumption). Other
consumers already use 11 requests per second, more than the quota: the climb's Decrypt calls fit only thanks
to that headroom.
From 3 min the region is busy for 3 minutes: no spare capacity, the quota is enforced as hard, and the starts
over it are refused with `RESOURCE_EXHAUSTED` (`quota_exceeded`). The fault-free twin had the headroom all
along: the difference is what relying on spare capacity costs when it is not there.""",
     '''tour("kms-region-busy", [{"at": t(3), "kind": "kms-region-busy", "duration": t(3)}],
     kms={"quota": {"hsm_requests_per_minute": 600, "background_rps": 11}})''', ("kms", "capacity_loss")),
    ("iam-revoke / iam-grant", """\
## iam-revoke and iam-grant

The project's Cloud Run service agent loses the Encrypter/Decrypter role on the key at 3 min and gets it
back at 6 min (`key: images`: every service of the project using that key is affected). Starts fail with `PERMISSION_DENIED`; with `shut-down` the running instances stop a minute later.""",
     '''tour("iam-revoke-grant", [{"at": t(3), "kind": "iam-revoke", "key": "images"},
                          {"at": t(6), "kind": "iam-grant", "key": "images"}],
     service={"revocation_action": "shut-down", "shutdown_after": t(1)})''', ("timeline", "capacity_loss")),
    ("deploy", """\
## deploy

A new revision at 6 min, on the same key: the deploy makes one Encrypt, then every ready instance of the old
revision is replaced one for one by a new one. The burst of instance starts is a burst of Decrypt calls
(see `kms.png`); capacity is kept because old instances serve until their replacements are ready.""",
     '''tour("deploy", [{"at": t(6), "kind": "deploy", "service": SERVICE}])''', ("timeline", "kms")),
]


def tour_notebook():
    cells = [
        new_markdown_cell("""\
# A tour of the faults

One short run per fault kind, on the same service and traffic: 10 requests/s, then a climb to 150
requests/s between 3 and 4 minutes that needs new instances, so the fault meets a burst of instance starts.
Every run is paired with its **fault-free twin** (the same run without the fault, on the same random
streams), so the capacity loss is the difference the fault makes.

In each section: a line with the figures of the run, then two charts. In the charts, fault windows are
shaded and numbered (the strip above the panels, the key below the chart). `timeline` shows the offered
load, instances, pending requests and failed requests as a share of arrivals; `cold_start` shows cold-start latency percentiles and what the starts
spend their time on; `kms` shows key operations against the quota; `capacity_loss` shows ready instances
against the twin and the extra failed requests.

Times below are written `t(3)`: minute 3 of the 10-minute tour, scaled to the run's length when the
parameters ask for another (`python -m sim notebook fault_tour --scenario FILE` runs the tour on the first
service and the traffic of your scenario)."""),
        parameters_cell('''\
scenario = None     # a scenario file: the tour runs on its first service and traffic (None: the built-in one)
duration = None     # e.g. "5m": length of each run (None: 10 minutes, or the scenario's duration)
kernel = "auto"     # the request path: auto, python or compiled (sim notebook --kernel); same results'''),
        new_code_cell(SETUP.format(prefix="fault-tour") + TOUR_SETUP),
    ]
    for _, text, code, charts in SECTIONS:
        cells.append(new_markdown_cell(text))
        cells.append(new_code_cell(f"result, folder = {code}\nshow(folder, {', '.join(repr(c) for c in charts)})"))
    cells += [
        new_markdown_cell("## All faults side by side\n\nReplication 0 of each run; capacity lost is against its "
                          "fault-free twin."),
        new_code_cell('''\
lines = ["| fault | cold starts | cold start p99 (s) | starts failed | 429 | shut down by revocation | "
         "capacity lost (instance-s) | extra failed requests |", "|---|---:|---:|---|---:|---:|---:|---:|"]
for name, count, p99, failed, r429, shut, lost, extra in findings:
    lines.append(f"| {name} | {count} | {p99:.1f} | {failed} | {r429:,} | {shut} | {lost:,.0f} | {extra:,} |")
display(Markdown("\\n".join(lines)))'''),
    ]
    return cells


def write(name: str, cells) -> Path:
    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:02d}"          # stable ids: rebuilding gives the same file
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    path = HERE / name
    nbformat.write(nb, path)
    return path


def main() -> None:
    from outage_study_cells import outage_study_cells   # a sibling file: this script runs from its folder

    for name, cells in (("quota_increase_justification.ipynb", quota_notebook()),
                        ("fault_tour.ipynb", tour_notebook()),
                        ("outage_study.ipynb", outage_study_cells(SETUP, parameters_cell))):
        print(write(name, cells))


if __name__ == "__main__":
    main()
