"""Rolling restarts of keepalived: one host at a time, the VIP holders last, each only
after its VIPs went to a healthy peer; and what an interrupted run left behind.

    from pyinfra_keepalived.operations import rolling
    rolling.leftovers(policy=..., drain=...)  # early: policy-rc.d, drain of a dead run
    rolling.restart(settings, peers, wanted)  # last: `wanted()` says whether to restart

pyinfra runs each operation on all hosts before the next one; with `_serial=True` it runs
the operation host by host (in the order of its set of active hosts, not necessarily the
inventory's). First, on every host at once, the live config is tested with the keepalived
installed now, the binary the restart starts (pyinfra_keepalived/operations/live_test.sh): a
rejection on any host stops the rollout before any host restarts. Then two serial
operations make the rollout:

1. the hosts that hold none of their instances' VIPs restart, one after the other, each
   back with every instance BACKUP or MASTER and every check script GOOD before the next
   (holders do nothing yet);
2. the holders, one after the other: each first asks its peers, when its step runs, whether
   one that would take its VIPs is healthy (operations.handover: up, BACKUP, checks GOOD,
   effective priority not pulled down, above the holder's drained one; refused when the
   holder then waited over 2 s for its lock); if none is, the holder is not
   restarted and its step fails naming the peer and what is wrong with it. Else it lowers
   its priority through the drain (a track_file of the config, see
   pyinfra_keepalived.render.config), waits until a peer has taken its VIPs (no reply lost:
   the peer takes over after its Master_Down_Interval, plus its preempt_delay, with
   gratuitous ARPs, then the holder steps down), restarts, and undrains once it is back
   and healthy (its check scripts GOOD). Instances in a sync group or with priority 255
   cannot be drained; their VIPs go with the restart's graceful stop (a priority-0 advert:
   the peer takes over after its skew time, about 0.65 s), and so do drained VIPs no peer
   took when the healthy peer that takes them has nopreempt (it never takes them from a
   drained holder); any other VIP no peer took stops the rollout, the holder undrained and
   not restarted.

The host side is pyinfra_keepalived/operations/restart.sh, under the host's deploy lock. The restart-pending
marker (operations.state_files) says whether a host still owes a restart: written before
the package or daemon options change, removed by the restart once keepalived is back.

A failed step stops the rollout: pyinfra marks a host failed only after every host ran the
operation, so each step first asks whether a test or restart step of this run failed on
another host, and then does nothing. The hosts not restarted keep their marker: the next run
restarts them.
"""

import os
from typing import NamedTuple

from pyinfra import host, state
from pyinfra.api import QuoteString, StringCommand, operation

from ..facts.keepalived import VRRP_DUMP_SCRIPT
from ..host_paths import DRAIN_FILE, LOCK_WAIT_SECONDS, POLICY_RC_D, RESTART_PENDING
from ..model.blocks import Paths
from ..per_run import once_per_run
from ..shipped import shell_script
from . import handover, state_files
from .config_tree import CONFIG_TEST, SAFE_BASE

RESTART_SCRIPT = (state_files.FUNCTIONS + VRRP_DUMP_SCRIPT + handover.HANDOVER_FUNCTIONS
                  + shell_script("operations/restart.sh"))
LIVE_TEST_SCRIPT = SAFE_BASE + CONFIG_TEST + shell_script("operations/live_test.sh")
LIVE_TEST = "Test the live config with the installed keepalived, before any host restarts"
LEFTOVERS_SCRIPT = state_files.FUNCTIONS + shell_script("operations/leftovers.sh")
PASSES = (
    ("first", "Restart keepalived where it holds no VIP (one host at a time)"),
    ("holders", "Hand over the VIPs, then restart keepalived on their holders "
                "(one host at a time)"),
)


@operation()
def restart_step(stage: str, plan: handover.HandoverPlan):
    """
    One host's step of a rolling restart (pyinfra_keepalived/operations/restart.sh, under the deploy lock):
    nothing when no restart is pending; in the ``"first"`` stage nothing either when the
    host holds a VIP of its instances; else hand the VIPs over to a healthy peer (its
    health read now, when the step runs: operations.handover), restart keepalived, wait
    until every instance is BACKUP or MASTER and every check script GOOD, undrain and
    clear the marker. Fails, with keepalived's journal, when no healthy
    peer takes the VIPs (not restarted) or keepalived is not back in time. Meant to run
    with ``_serial=True`` (one host at a time), in stage ``"first"`` then ``"holders"``.

    + stage: ``"first"`` (hosts without a VIP) or ``"holders"``
    + plan: the host's ``HandoverPlan`` (``handover.plan(settings, others)``)

    **Example:**

    .. code:: python

        restart_step(name="Restart keepalived where it holds no VIP", stage="first",
                     plan=handover.plan(settings, peers), _serial=True, _if=wanted)
    """
    # the peers' health, read when the step runs (not when the run was planned); the
    # first stage hands nothing over
    verdict = handover.Verdict()
    if stage == "holders" and state.is_executing:
        verdict = handover.verdict_now(plan)
    yield StringCommand(*state_files.locked(
        RESTART_SCRIPT, f"restart keepalived ({stage} stage)", QuoteString(stage),
        QuoteString(RESTART_PENDING), QuoteString(DRAIN_FILE),
        str(plan.wait), str(plan.drain_wait), QuoteString(host.name),
        QuoteString(" ".join(plan.instances)), QuoteString(" ".join(plan.drain_vips)),
        QuoteString(" ".join(plan.stop_vips)), QuoteString(" ".join(verdict.kept)),
        QuoteString(" ".join(verdict.refused)), QuoteString(verdict.reason),
        wait=plan.lock_wait))


@operation()
def live_test(paths: Paths, lock_wait: int = LOCK_WAIT_SECONDS):
    """
    Test the live config with the keepalived installed now (``keepalived -t``, as the
    config transaction tests a new tree), before a restart starts that binary: after a
    package upgrade it never read this config. Nothing when no restart is pending. A
    rejection fails the host with keepalived's own messages; the restart stays pending.
    Runs on every host at once, before the restart steps (which then do nothing on any
    host: ``restart``).

    + paths: the host's ``Paths`` (the live tree: ``base_dir``/.current)
    + lock_wait: seconds to wait for another run's lock on the host

    **Example:**

    .. code:: python

        live_test(name="Test the live config", paths=settings.paths)
    """
    yield StringCommand(*state_files.locked(
        LIVE_TEST_SCRIPT, "test the live config before a restart", QuoteString(paths.base_dir),
        QuoteString(os.path.relpath(paths.config_file, paths.base_dir)),
        QuoteString(RESTART_PENDING), QuoteString(host.name), wait=lock_wait))


def stopped(steps, name):
    """Whether a restart step in `steps` ({host name: [OperationMeta]}) already failed on
    a host other than `name`."""
    return any(meta.is_complete() and not meta.did_succeed()
               for other, metas in steps.items() if other != name for meta in metas)


def restart(settings, others, wanted):
    """Add this host's test of the live config (all hosts at once), then its two restart
    steps (serial). `others`: the peers' Settings; `wanted()`, asked when the step runs:
    whether this host's keepalived must restart. A step runs only while no test or
    restart step of this run failed on another host. Returns the steps' OperationMeta."""
    # the restart steps added in this run: {host name: [OperationMeta, ...]}
    steps = once_per_run("restart steps", dict)
    mine = steps.setdefault(host.name, [])
    plan = handover.plan(settings, others)

    def go(name=host.name):
        return wanted() and not stopped(steps, name)

    mine.append(live_test(name=LIVE_TEST, paths=settings.paths, lock_wait=plan.lock_wait,
                          _if=go))
    for stage, title in PASSES:
        mine.append(restart_step(name=title, stage=stage, plan=plan, _serial=True, _if=go))
    return mine


@operation()
def leftovers(policy: bool, drain: bool, lock_wait: int = LOCK_WAIT_SECONDS):
    """
    Undo what an interrupted run left on the host (pyinfra_keepalived/operations/leftovers.sh, under the deploy
    lock, so never what a live run does): our policy-rc.d (``policy``), and a drain
    (``drain``) that no pending restart will undo (set back to 0).

    **Example:**

    .. code:: python

        leftovers(name="Clear what an interrupted run left", policy=False, drain=True)
    """
    yield StringCommand(*state_files.locked(
        LEFTOVERS_SCRIPT, "clear what an interrupted run left",
        QuoteString(POLICY_RC_D if policy else ""),
        QuoteString(DRAIN_FILE if drain else ""),
        QuoteString(RESTART_PENDING), wait=lock_wait))


class LeftBehind(NamedTuple):
    """What an interrupted run left on a host, for the leftovers step to undo."""
    policy: bool  # our policy-rc.d
    drain: bool  # a drain that no pending restart will undo

    def __bool__(self):
        return self.policy or self.drain


def drained(value):
    """Whether the drain file's first line (None: no file) lowers priorities."""
    return value is not None and value.strip() not in ("", "0")


def left_behind(probe):
    """LeftBehind: what the probe (`probe`) found an interrupted run left: our
    policy-rc.d, and a drain with no restart pending (a pending restart undrains the host
    when it is back)."""
    ours = state_files.POLICY_TAG in [line.strip() for line in
                                      probe.host_state.lines.get(POLICY_RC_D, [])]
    return LeftBehind(ours, drained(probe.drain) and probe.restart_pending is None)
