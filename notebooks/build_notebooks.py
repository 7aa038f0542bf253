"""Writes the notebooks of this folder (without outputs): `python notebooks/build_notebooks.py`.

The notebooks are thin: they call the Python API (sim.scenario, sim.runner, sim.results, sim.quota) and the
charts in sim.plots. They find the repository through paths relative to this folder, and the test suite
executes them (tests/test_notebooks.py).
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

This notebook takes the scenario `scenarios/kms-quota-burst.yaml` and

1. runs it at the **current quota** and shows what happens (charts from `sim.plots`);
2. finds the **smallest quota** at which no instance start fails on quota, with 95% confidence over paired
   replications (`sim.quota.solve`);
3. shows the evidence (the quota curve and the report a reviewer reads);
4. re-runs the scenario at the **recommended quota** to check the failures are gone.

It runs in a couple of minutes."""),
        new_code_cell(SETUP.format(prefix="quota-notebook") + '''
from sim.quota import quota_field, solve, write_quota
from sim.report import summary_table
from sim.scenario import load_scenario, with_updates

SCENARIO = ROOT / "scenarios" / "kms-quota-burst.yaml"
SLOS = ["instance_starts_failed.quota_exceeded<=0"]   # no start may fail on quota, in any replication
REPLICATIONS = 5    # paired replications per quota level (as `python -m sim quota` by default)
CONFIDENCE = 0.95
WORKERS = 2         # processes; the results do not depend on it'''),
        new_code_cell('''\
sc = load_scenario(SCENARIO)
quota = sc.kms.quota
print(f"{sc.name}: {sc.description}\\n")
print(f"simulated time {sc.duration / 60:g} min; quota enforced {quota.enforcement}: "
      f"HSM {quota.hsm_requests_per_minute:,.0f}/min, external {quota.external_requests_per_minute:,.0f}/min, "
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
instances lag behind the desired ones (dashed) while the burst lasts."""),
        new_code_cell('''\
current = run(sc, replications=REPLICATIONS, workers=WORKERS, baseline=False)
folder = write_results(current, OUT / "current", plots=False)
print(summary_table(current.summary))
show(folder, "kms", "timeline", "cold_start")'''),
        new_markdown_cell("""\
## 2. The smallest quota that meets the objective

The solver runs the same replications (same random streams) at each quota level it tries, so the levels
differ only by the quota. It starts from the current quota and the closed-form peak demand (the most
operations per second an unconstrained run requests), brackets the answer by doubling or halving, bisects
to about 3%, rounds up to a tidy number and runs that again. A level *meets* the objective when every
replication has no start failed on quota (for `<= 0` objectives on counts; other objectives use the
one-sided 95% confidence bound of the mean)."""),
        new_code_cell('''\
answer = solve(sc, SLOS, replications=REPLICATIONS, confidence=CONFIDENCE, workers=WORKERS,
               progress=lambda line: print(line, flush=True))
quota_folder = write_quota(answer, OUT / f"{sc.name}-quota")
print(f"\\nrecommended: {answer.recommended:,}/min   current: {answer.current:,}/min   "
      f"closed-form peak demand: {answer.lower_bound:,}/min")
display(Image(filename=str(quota_folder / "quota_curve.png")))'''),
        new_markdown_cell("""\
The curve shows the objective's metric (mean over replications, with its one-sided confidence band) at every
quota level the solver ran; filled points meet the objective, hollow ones do not. The report below is what an
analyst pastes into the quota-increase request: the recommendation, where the peak demand comes from, and the
evidence at the current quota, at the recommendation and at 80% of it."""),
        new_code_cell('''display(Markdown((quota_folder / "quota_report.md").read_text()))'''),
        new_markdown_cell("""\
## 3. Check: the same scenario at the recommended quota

The quota-exceeded failures should be gone, and with them the capacity shortfall they caused."""),
        new_code_cell('''\
raised = run(with_updates(sc, {quota_field(answer.protection): answer.recommended}),
             replications=REPLICATIONS, workers=WORKERS, baseline=False)
raised_folder = write_results(raised, OUT / "recommended", plots=False)
show(raised_folder, "kms", "timeline")

def row(label, result):
    agg = result.summary["aggregate"]
    failed = sum(s["instance_starts_failed"]["quota_exceeded"]["mean"] for s in agg["services"].values())
    r429 = sum(s["requests"]["failed_429"]["mean"] for s in agg["services"].values())
    short = max(s["capacity"]["shortfall_fraction"]["mean"] for s in agg["services"].values())
    return f"| {label} | {agg['kms']['resource_exhausted']['mean']:,.1f} | {failed:,.1f} | {r429:,.1f} | {short:.1%} |"

display(Markdown("\\n".join([
    "| quota | RESOURCE_EXHAUSTED | starts failed on quota | 429 responses | capacity shortfall |",
    "|---|---:|---:|---:|---:|",
    row(f"current {answer.current:,}/min", current),
    row(f"recommended {answer.recommended:,}/min", raised),
]) + f"\\n\\n(means over {REPLICATIONS} replications)"))'''),
    ]
    return cells


TOUR_SETUP = '''
from sim.scenario import scenario_from_dict

HSM_KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images"
EKM_KEY = "projects/acme-sec/locations/us-central1/keyRings/run/cryptoKeys/images-ekm"
findings = []   # one row per section, for the table at the end


def tour(name, faults, protection="hsm", service=None, kms=None):
    """A 10-minute run: 10 requests/s, then a climb to 150/s between 3 and 4 min that needs new instances,
    on one service whose image uses a CMEK key; `faults` happen during the climb. Returns (result, folder)."""
    svc = {"name": "checkout", "encryption_key": "images", "concurrency": 10, "min_instances": 1,
           "service_time": {"dist": "lognormal", "mean": "300ms", "cv": 1.0},
           "traffic": {"rate": [[0, 10], ["3m", 10], ["4m", 150], ["10m", 150]]}, **(service or {})}
    key = {"id": "images", "name": HSM_KEY if protection == "hsm" else EKM_KEY, "protection": protection}
    data = {"name": name, "duration": "10m", "seed": 7, "kms": kms or {}, "keys": [key], "services": [svc],
            "faults": faults}
    result = run(scenario_from_dict(data))     # with its fault-free twin, on the same random streams
    folder = write_results(result, OUT / name, plots=False)
    s = result.summary["runs"][0]["services"]["checkout"]
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
     '''tour("key-disable", [{"at": "3m", "kind": "key-disable", "key": "images"},
                     {"at": "6m", "kind": "key-enable", "key": "images"}])''', ("timeline", "capacity_loss")),
    ("key-schedule-destroy", """\
## key-schedule-destroy (and key-restore)

Scheduling the key version for destruction makes it unusable at once (`DESTROY_SCHEDULED`). Here the service
uses `revocation_action: shut-down` with `shutdown_after: 1m`: the first failed start starts the countdown,
and a minute later every running instance is shut down. Restoring (to `DISABLED`) and enabling the key at
6 min lets the service start again.""",
     '''tour("key-schedule-destroy",
     [{"at": "3m", "kind": "key-schedule-destroy", "key": "images"},
      {"at": "6m", "kind": "key-restore", "key": "images"}, {"at": "6m", "kind": "key-enable", "key": "images"}],
     service={"revocation_action": "shut-down", "shutdown_after": "1m"})''', ("timeline", "capacity_loss")),
    ("key-destroy", """\
## key-destroy

A destroyed key version never comes back: no instance can start again, and with `shut-down` the running
instances stop after `shutdown_after` (here 2 min). From then on every request fails.""",
     '''tour("key-destroy", [{"at": "3m", "kind": "key-destroy", "key": "images"}],
     service={"revocation_action": "shut-down", "shutdown_after": "2m"})''', ("timeline", "capacity_loss")),
    ("ekm-outage retryable", """\
## ekm-outage, retryable (external key)

With an external key (Cloud EKM), the external key manager is unreachable for 2 minutes
(`UNREACHABLE_NETWORK`, a retryable error domain). Instance starts do not fail: they retry with exponential
backoff and finish after the outage, so cold starts take minutes and the key-operations phase dominates
them.""",
     '''tour("ekm-outage-retryable",
     [{"at": "3m", "kind": "ekm-outage", "duration": "2m", "error": "UNREACHABLE_NETWORK"}],
     protection="external")''', ("cold_start", "capacity_loss")),
    ("ekm-outage non-retryable", """\
## ekm-outage, non-retryable (external key)

`EXTERNAL_NOT_FOUND` is not retryable: starts fail (`ekm_non_retryable`) and, whatever the revocation
action, the shutdown countdown starts (here `shutdown_after: 1m`), so running instances are shut down too.
When the outage ends the service starts again.""",
     '''tour("ekm-outage-non-retryable",
     [{"at": "3m", "kind": "ekm-outage", "duration": "2m", "error": "EXTERNAL_NOT_FOUND"}],
     protection="external", service={"shutdown_after": "1m"})''', ("timeline", "capacity_loss")),
    ("ekm-latency", """\
## ekm-latency (external key)

The external key manager slows down for 3 minutes (median 140 ms, p99 600 ms). Answers slower than the
150 ms EKM timeout fail with the retryable `TIMEOUT` and are retried with backoff: cold starts get slower,
nothing fails outright.""",
     '''tour("ekm-latency",
     [{"at": "3m", "kind": "ekm-latency", "duration": "3m",
       "latency": {"dist": "lognormal", "median": "140ms", "p99": "600ms"}}],
     protection="external")''', ("cold_start",)),
    ("kms-outage", """\
## kms-outage

Cloud KMS itself answers `UNAVAILABLE` for one minute. It is retryable: instance starts wait, retrying
with backoff, and finish after the outage.""",
     '''tour("kms-outage", [{"at": "3m", "kind": "kms-outage", "duration": "1m"}])''',
     ("cold_start", "capacity_loss")),
    ("quota-change", """\
## quota-change

The HSM quota drops to 60 requests per minute (1 per second) for 3 minutes. The climb needs many instance
starts, each with two Decrypt calls; those over the quota get `RESOURCE_EXHAUSTED` and the starts fail
(`quota_exceeded`).""",
     '''tour("quota-change",
     [{"at": "3m", "kind": "quota-change", "hsm_requests_per_minute": 60, "duration": "3m"}])''',
     ("kms", "timeline")),
    ("kms-background-load", """\
## kms-background-load

Other consumers of the same HSM pool (Cloud SQL, Cloud Storage CMEK...) add 12 requests per second for 3
minutes to a 10-per-second quota (`pool: hsm`; `pool: external` would load the external pool instead): they take the whole quota in most seconds, and the climb's Decrypt calls get what is
left. The starts refused with `RESOURCE_EXHAUSTED` fail (`quota_exceeded`); the autoscaler asks again at its
next decision, so the service catches up late rather than not at all.""",
     '''tour("kms-background-load", [{"at": "3m", "kind": "kms-background-load", "duration": "3m", "rps": 12,
                                  "pool": "hsm"}],
     kms={"quota": {"hsm_requests_per_minute": 600}})''', ("kms", "capacity_loss")),
    ("iam-revoke / iam-grant", """\
## iam-revoke and iam-grant

The project's Cloud Run service agent loses the Encrypter/Decrypter role on the key at 3 min and gets it
back at 6 min (`key: images`: every service of the project using that key is affected). Starts fail with `PERMISSION_DENIED`; with `shut-down` the running instances stop a minute later.""",
     '''tour("iam-revoke-grant", [{"at": "3m", "kind": "iam-revoke", "key": "images"},
                          {"at": "6m", "kind": "iam-grant", "key": "images"}],
     service={"revocation_action": "shut-down", "shutdown_after": "1m"})''', ("timeline", "capacity_loss")),
    ("deploy", """\
## deploy

A new revision at 6 min, on the same key: the deploy makes one Encrypt, then every ready instance of the old
revision is replaced one for one by a new one. The burst of instance starts is a burst of Decrypt calls
(see `kms.png`); capacity is kept because old instances serve until their replacements are ready.""",
     '''tour("deploy", [{"at": "6m", "kind": "deploy", "service": "checkout"}])''', ("timeline", "kms")),
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
against the twin and the extra failed requests."""),
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
    for name, cells in (("quota_increase_justification.ipynb", quota_notebook()),
                        ("fault_tour.ipynb", tour_notebook())):
        print(write(name, cells))


if __name__ == "__main__":
    main()
