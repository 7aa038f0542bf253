"""A few seconds of a tiny world that takes every kind of path through the kernel (plain, processor
sharing, both routers, a queue with 429s, idle-minimum billing), so that warm_up compiles or loads all
of it at once."""
from __future__ import annotations

EXERCISE = {
    "name": "kernel-warm-up", "duration": 20, "seed": 1, "replications": 1,
    "services": [
        {"name": "shared", "concurrency": 8, "cpu": 1, "cpu_per_request": 0.5, "max_instances": 2,
         "min_instances": 1, "pending_timeout": "1s",
         "service_time": {"dist": "exponential", "mean": 0.2}, "traffic": {"arrivals": "poisson", "rate": 60}},
        {"name": "newest", "concurrency": 1, "routing": "newest-first", "max_instances": 5,
         "service_time": {"dist": "exponential", "mean": 0.1}, "traffic": {"arrivals": "deterministic", "rate": 5}},
    ],
}


def exercise() -> None:
    from ...scenario import scenario_from_dict
    from ..world import World
    World(scenario_from_dict(EXERCISE, "<kernel warm-up>"), 0, keep_logs=False, kernel="compiled").run()
