"""Add an operation only when it has something to do on the host.

Each pyinfra operation costs the controller a few milliseconds per host on every run,
even one that reports "No changes" (pyinfra reads the call site from the whole stack, then
runs it on every host in its own step). The deploy's operations decide from the host's
probe, read once before any operation, so whether one has work is known when it is added:

    sysctl = if_needed(nonlocal_bind, "sysctl ip_nonlocal_bind", families=..., host_state=...)
    sysctl.will_change, sysctl.did_change()   # False, False when it was not added

Only for operations decided from their arguments alone (the probe), not from what an
earlier operation of the same run changes (use `_if` for those). Used by the host level
(operations.host_level) only: the deploy's other operations are added from the host's
plan (operations.plan), which says whether each has work without running it.
"""

from pyinfra.api.operation import OperationMeta
from pyinfra.connectors.util import CommandOutput


def has_work(op, **arguments):
    """Whether operation `op` would send a command: its first command is worked out now,
    as pyinfra does to detect changes (up to that command, nothing more)."""
    return next(iter(op._inner(**arguments)), None) is not None


def _unchanged():
    meta = OperationMeta(None, is_change=False)
    meta.set_complete(True, [], CommandOutput([]))
    return meta


_UNCHANGED = _unchanged()


def unchanged():
    """What an operation that was not added reports: it will not, and did not, change."""
    return _UNCHANGED


def added(meta):
    """Whether `meta` is an operation's that was added (not `unchanged()`)."""
    return meta is not _UNCHANGED


def if_needed(op, name, **arguments):
    """Add operation `op` as `name` when it has work on this host; else nothing is added
    and `unchanged()` is returned (in place of the operation's OperationMeta)."""
    if has_work(op, **arguments):
        return op(name=name, **arguments)
    return unchanged()
