"""Rolling restarts of keepalived: one host at a time, the VIP holders last, each only
after its VIPs went to a healthy peer; and what an interrupted run left behind.

    from pyinfra_keepalived.operations import rolling
    rolling.clear_leftovers(probe)            # early: policy-rc.d, drain of a dead run
    rolling.restart(settings, peers, wanted)  # last: `wanted()` says whether to restart

pyinfra runs each operation on all hosts before the next one; with `_serial=True` it runs
the operation host by host (in the order of its set of active hosts, not necessarily the
inventory's). Two such operations make the rollout:

1. the hosts that hold none of their instances' VIPs restart, one after the other, each
   back with every instance BACKUP or MASTER before the next (holders do nothing yet);
2. the holders, one after the other: each lowers its priority through the drain (a
   track_file of the config, see pyinfra_keepalived.render.config), waits until a peer has taken its
   VIPs (no reply lost: the peer takes over after its Master_Down_Interval with
   gratuitous ARPs, then the holder steps down), restarts, and undrains once it is back.
   Instances in a sync group or with priority 255 cannot be drained; their VIPs go with
   the restart's graceful stop (a priority-0 advert: the peer takes over after its skew
   time, about 0.65 s), and so do drained VIPs no peer took in time when a peer has
   nopreempt (it never takes them); without nopreempt such a holder is not restarted: its
   step fails (no healthy peer took the VIPs) and the rollout stops.

The host side is pyinfra_keepalived/operations/restart.sh, under the host's deploy lock. The restart-pending
marker (operations.state_files) says whether a host still owes a restart: written before
the package or daemon options change, removed by the restart once keepalived is back.

A failed step stops the rollout: pyinfra marks a host failed only after every host ran the
operation, so each step first asks whether a restart step of this run failed on another
host, and then does nothing. The hosts not restarted keep their marker: the next run
restarts them.
"""

import ipaddress
import math
from dataclasses import dataclass

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation

from ..facts.keepalived import VRRP_DUMP_SCRIPT
from ..per_run import once_per_run
from ..render import config as render
from ..shipped import shell_script
from . import state_files

RESTART_SCRIPT = state_files.FUNCTIONS + VRRP_DUMP_SCRIPT + shell_script("operations/restart.sh")
LEFTOVERS_SCRIPT = state_files.FUNCTIONS + shell_script("operations/leftovers.sh")
PASSES = (
    ("first", "Restart keepalived where it holds no VIP (one host at a time)"),
    ("holders", "Hand over the VIPs, then restart keepalived on their holders "
                "(one host at a time)"),
)
BACK_SECONDS = 10  # beyond 3 x advert_int, for keepalived to be back after a restart
TAKEOVER_SECONDS = 3  # beyond 4 x advert_int, for a peer to take the drained VIPs


@dataclass(frozen=True)
class RestartPlan:
    """What restart.sh needs to know about one host."""

    instances: tuple  # names of the host's instances: each must be back BACKUP or MASTER
    drain_vips: tuple  # addresses the drain hands over
    stop_vips: tuple  # addresses only the graceful stop hands over (sync group, 255)
    wait: int  # seconds keepalived gets to be back
    drain_wait: int  # seconds a peer gets to take the drained VIPs
    lock_wait: int  # seconds to wait for another run's lock on the host
    # a peer with nopreempt never takes drained VIPs: then (only then) the graceful stop
    # hands them over when the drain did not; otherwise the step fails, nothing restarted
    stop_if_kept: bool = False


def _address(vip):
    """"192.168.1.100/24" -> "192.168.1.100", as `ip -o addr` shows it (IPv6 compressed)."""
    return str(ipaddress.ip_interface(vip.address).ip)


def restart_plan(settings, others):
    """The RestartPlan of the host `settings` (Settings), whose peers' Settings are
    `others`. VIPs of an instance no other host has are left out: there is nobody to
    hand them to, so the host restarts with the hosts that hold nothing."""
    shared = {instance.name for peer in others for instance in peer.instances}
    nopreempt = any(instance.nopreempt for peer in others for instance in peer.instances
                    if instance.name in shared)
    drain, stop = [], []
    for instance in settings.instances:
        if instance.name in shared:
            vips = [_address(vip) for vip in instance.virtual_ipaddresses]
            (drain if render.drainable(settings, instance) else stop).extend(vips)
    advert = max([instance.advert_int for instance in settings.instances], default=1)
    return RestartPlan(instances=tuple(instance.name for instance in settings.instances),
                       drain_vips=tuple(drain), stop_vips=tuple(stop),
                       wait=math.ceil(3 * advert + BACK_SECONDS),
                       drain_wait=math.ceil(4 * advert + TAKEOVER_SECONDS),
                       lock_wait=settings.host_level.lock_wait, stop_if_kept=nopreempt)


@operation()
def restart_step(stage: str, plan: RestartPlan):
    """
    One host's step of a rolling restart (pyinfra_keepalived/operations/restart.sh, under the deploy lock):
    nothing when no restart is pending; in the ``"first"`` stage nothing either when the
    host holds a VIP of its instances; else hand the VIPs over, restart keepalived, wait
    until every instance is BACKUP or MASTER, clear the marker and undrain. Fails, with
    keepalived's journal, when keepalived is not back in time. Meant to run with
    ``_serial=True`` (one host at a time), in stage ``"first"`` then ``"holders"``.

    + stage: ``"first"`` (hosts without a VIP) or ``"holders"``
    + plan: the host's ``RestartPlan`` (``restart_plan(settings, others)``)

    **Example:**

    .. code:: python

        restart_step(name="Restart keepalived where it holds no VIP", stage="first",
                     plan=restart_plan(settings, peers), _serial=True, _if=wanted)
    """
    yield StringCommand(*state_files.locked(
        RESTART_SCRIPT, f"restart keepalived ({stage} stage)", QuoteString(stage),
        QuoteString(state_files.RESTART_PENDING), QuoteString(state_files.DRAIN_FILE),
        str(plan.wait), str(plan.drain_wait), QuoteString(host.name),
        QuoteString(" ".join(plan.instances)), QuoteString(" ".join(plan.drain_vips)),
        QuoteString(" ".join(plan.stop_vips)), "yes" if plan.stop_if_kept else "no",
        wait=plan.lock_wait))


def stopped(steps, name):
    """Whether a restart step in `steps` ({host name: [OperationMeta]}) already failed on
    a host other than `name`."""
    return any(meta.is_complete() and not meta.did_succeed()
               for other, metas in steps.items() if other != name for meta in metas)


def restart(settings, others, wanted):
    """Add this host's two restart steps (serial). `others`: the peers' Settings;
    `wanted()`, asked when the step runs: whether this host's keepalived must restart.
    A step runs only while no restart step of this run failed on another host. Returns
    the steps' OperationMeta."""
    # the restart steps added in this run: {host name: [OperationMeta, ...]}
    steps = once_per_run("restart steps", dict)
    mine = steps.setdefault(host.name, [])
    plan = restart_plan(settings, others)

    def go(name=host.name):
        return wanted() and not stopped(steps, name)

    for stage, title in PASSES:
        mine.append(restart_step(name=title, stage=stage, plan=plan, _serial=True, _if=go))
    return mine


@operation()
def leftovers(policy: bool, drain: bool, lock_wait: int = state_files.LOCK_WAIT_SECONDS):
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
        QuoteString(state_files.POLICY_RC_D if policy else ""),
        QuoteString(state_files.DRAIN_FILE if drain else ""),
        QuoteString(state_files.RESTART_PENDING), wait=lock_wait))


def drained(value):
    """Whether the drain file's first line (None: no file) lowers priorities."""
    return value is not None and value.strip() not in ("", "0")


def clear_leftovers(probe, lock_wait=state_files.LOCK_WAIT_SECONDS):
    """Add the leftovers operation when the probe (`probe`) saw our policy-rc.d, or a drain
    with no restart pending (a pending restart undrains the host when it is back)."""
    ours = state_files.POLICY_TAG in [line.strip() for line in
                                      probe.host_state.lines.get(state_files.POLICY_RC_D, [])]
    drain = drained(probe.drain) and probe.restart_pending is None
    if ours or drain:
        leftovers(name="Clear what an interrupted run left (policy-rc.d, drain)",
                  policy=ours, drain=drain, lock_wait=lock_wait)
