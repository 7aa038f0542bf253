"""The run summary, assembled in one place from what each part of the model contributes.

A service's summary is its recorder's sections, the request path's end-of-run figures, the deployer's
counts, the pending timeout in force, and `capacity_loss`, which only the runner can fill (it needs the
fault-free twin; None leaves it null). The key order here is the order summary.json shows.
"""
from __future__ import annotations

from ..summary_schema import failed_fraction

CAPACITY_LOSS_NULL = {"ready_instance_s": None, "extra_failed_requests": None, "extra_cold_start_p99_s": None}


def service_summary(sections: dict, capacity_loss: dict | None) -> dict:
    """sections: the recorder's (requests, latency_s, ..., windows: model/windows.py) plus `in_flight_at_end`,
    `mean_in_system`, `deploys`, `pending_timeout_s`, `pending_timeout_max_s` and `cost` (sim/cost.py)."""
    r = sections["requests"]
    requests = {k: r[k] for k in ("arrived", "served", "failed_429", "failed_504", "failed_shutdown")}
    requests["failed_fraction"] = failed_fraction(requests)
    requests.update(in_flight_at_end=sections["in_flight_at_end"], throughput_per_s=r["throughput_per_s"],
                    mean_in_system=sections["mean_in_system"])
    return {
        "requests": requests,
        **{k: sections[k] for k in ("latency_s", "pending_s", "cold_starts", "instance_starts_failed",
                                    "instances", "capacity", "cpu", "deploys", "pending_timeout_s",
                                    "pending_timeout_max_s")},
        "capacity_loss": dict(capacity_loss) if capacity_loss is not None else dict(CAPACITY_LOSS_NULL),
        "cost": sections["cost"],
        "windows": sections["windows"],
    }


def run_summary(service_sections: dict, kms: dict, capacity_loss: dict | None = None) -> dict:
    """{"services": {name: service summary}, "kms": ...}; capacity_loss: {name: section} or None."""
    return {"services": {name: service_summary(s, None if capacity_loss is None else capacity_loss[name])
                         for name, s in service_sections.items()},
            "kms": kms}
