"""What Python calls in the kernel: each entry takes the state array from Python and hands the kernel's
functions its reference-count-free view (arrays.unowned), once per call."""
from __future__ import annotations

from numba import njit

from .arrays import unowned
from .billing import advance as _bill_advance
from .billing import busy_ended as _busy_ended
from .billing import busy_started as _busy_started
from .billing import not_busy as _not_busy
from .events import push_event as _push_event
from .kernel import dispatch as _dispatch
from .kernel import fail_requests_of as _fail_requests_of
from .kernel import requests_in_system_since as _requests_in_system_since
from .kernel import run as _run
from .recording import touch as _touch
from .routing import router_add as _router_add
from .routing import router_remove as _router_remove


@njit(cache=True)
def run(st, bound_t, bound_p, bound_e, margin):
    return _run(unowned(st), bound_t, bound_p, bound_e, margin)


@njit(cache=True)
def dispatch(st, now):
    _dispatch(unowned(st), now)


@njit(cache=True)
def touch(st, now):
    _touch(unowned(st), now)


@njit(cache=True)
def push_event(st, t, kind, a, b):
    _push_event(unowned(st), t, kind, a, b)


@njit(cache=True)
def router_add(st, s):
    _router_add(unowned(st), s)


@njit(cache=True)
def router_remove(st, s):
    _router_remove(unowned(st), s)


@njit(cache=True)
def fail_requests_of(st, s, now):
    _fail_requests_of(unowned(st), s, now)


@njit(cache=True)
def requests_in_system_since(st, warmup):
    return _requests_in_system_since(unowned(st), warmup)


@njit(cache=True)
def busy_started(st, s, now):
    _busy_started(unowned(st), s, now)


@njit(cache=True)
def busy_ended(st, s, now, rounded):
    _busy_ended(unowned(st), s, now, rounded)


@njit(cache=True)
def bill_advance(st, now):
    _bill_advance(unowned(st), now)


@njit(cache=True)
def not_busy(st, s):
    _not_busy(unowned(st), s)
