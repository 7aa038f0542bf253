"""The run loop of a world whose request paths are compiled: SimPy's own loop (Environment.run), with the
kernels' events merged in by (time, priority, event id), the key SimPy orders its queue by.

Each kernel runs up to the head of SimPy's queue (or of another service's kernel), then SimPy takes one step.
All kernel events have SimPy's NORMAL priority and draw their ids from SimPy's counter, so the order of
every event is the order the Python request path would have given them.
"""
from __future__ import annotations

from simpy.core import StopSimulation
from simpy.events import URGENT, Event


def run_until(env, at: float, paths) -> None:
    """env.run(until=at), with the compiled request paths' events in their places."""
    until = Event(env)                                # as Environment.run: stop before regular events at `at`
    until._ok = True
    until._value = None
    env.schedule(until, URGENT, at - env.now)
    until.callbacks.append(StopSimulation.callback)
    queue = env._queue
    try:
        while True:
            t, p, e = queue[0][:3]
            first, first_key, second_key = None, (t, p, e), (t, p, e)
            for path in paths:                        # the kernel with the earliest event, if before SimPy's
                head = path.head()
                if head is None:
                    continue
                key = (head[0], 1, head[1])
                if key < first_key:
                    first, second_key, first_key = path, first_key, key
                elif key < second_key:
                    second_key = key
            if first is None:
                env.step()
            else:
                first.advance(*second_key)
    except StopSimulation:
        pass
