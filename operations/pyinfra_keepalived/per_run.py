"""Values worked out once per pyinfra run and shared by every host's deploy code.

pyinfra adds each host's deploy code in a greenlet of its own: the first to ask for a
value computes it (reading a fact of every host, say, which lets other greenlets run:
they wait for it), the others get the same value. A new State (the next run in the same
process, as tests make) starts afresh; a finished State's values go with it. Below the
layers, beside `shipped`: the model's checks of the inventory use it too.

    statuses = once_per_run("cluster status", lambda: {...})
    settings = once_per_run("checked inventory", check, run=inventory)
"""

import weakref

import gevent.lock
from pyinfra.context import ctx_state

_runs = weakref.WeakKeyDictionary()  # run (a State, or an Inventory) -> {key: value}
_lock = gevent.lock.RLock()  # (reentrant: a computation may ask for another key)


def once_per_run(key, compute, run=None):
    """The value of `compute()` for `key` in `run` (default: the current pyinfra State):
    computed by the first caller (the others wait for it), then the same for every caller.
    A computation that raises stores nothing: the next caller computes again."""
    with _lock:
        values = _runs.setdefault(ctx_state.get() if run is None else run, {})
        if key not in values:
            values[key] = compute()
        return values[key]
