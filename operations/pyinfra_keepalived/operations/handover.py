"""Handing a holder's VIPs to a healthy peer: the one check and the one host-side handover
that every path taking VIPs off a host shares (the rolling restart, uninstall's stop,
the drill).

    plan = handover.plan(settings, others)    # what the host's VIPs need, from the inventory
    verdict = handover.verdict_now(plan)      # at execute time: the peers' live state

The check is made by the controller, from the peers' own live state (their keepalived's
data dump, read through the KeepalivedStatus fact's script right before the handover: a
serial step runs after the previous host's restart, so a status read when the run
started would be stale). The holder itself cannot tell: in VRRP only the master sends
adverts, so a holder hears nothing from its backups until one of them has taken over.

A peer takes an instance's VIPs when the holder's priority falls below its effective
priority (the drain: to 1; a graceful stop: to 0); of several, the highest. That peer
must be healthy: keepalived up, BACKUP, every check script the instance tracks GOOD,
its effective priority the one it has while all it tracks is well (its priority plus the
positive weights of its scripts and interfaces, as the inventory gives them:
model.tracking; no tracked script, interface or process pulls it down). When it is not,
or there is no such peer, the instance's VIPs are refused: a host holding one stays as
it is and its step fails, naming the peer and what is wrong with it.

The host side is handover.sh (`hand_over`), under the caller's deploy lock. The verdict
is read before the lock is had: when the host waited more than 2 s for it (another run
held it, and may have restarted a peer), hand_over refuses, nothing changed.
"""

import ipaddress
import math
from dataclasses import dataclass

from pyinfra import host, state
from pyinfra.api import QuoteString, StringCommand, operation
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.systemd import SystemdStatus

from ..facts.keepalived import (
    STATUS_SCRIPT,
    VRRP_DUMP_SCRIPT,
    KeepalivedStatus,
    VrrpStatus,
)
from ..host_paths import DRAIN_FILE, SERVICE
from ..model.tracking import first_verdict_seconds, healthy_priority, raised_by
from ..render import config as render
from ..shipped import shell_script
from . import state_files

HANDOVER_FUNCTIONS = state_files.CLOCK_FUNCTIONS + shell_script("operations/handover.sh")
DRAINED = 1  # an instance's priority under the drain (-253, keepalived clamps at 1)
STOPPED = 0  # the priority of a graceful stop's last advert
BACK_SECONDS = 10  # beyond 3 x advert_int, for keepalived to be back after a restart
TAKEOVER_SECONDS = 3  # beyond 4 x advert_int, for a peer to take the drained VIPs
UNREACHABLE = "UNREACHABLE"  # a peer whose state could not be read


@dataclass(frozen=True)
class Peer:
    """One peer's live view of one instance."""

    host: str
    state: str  # MASTER, BACKUP, FAULT, ..., STOPPED, NOT LOADED, UNREACHABLE
    priority: int | None = None
    effective_priority: int | None = None
    failing_scripts: tuple = ()  # of those the instance tracks
    nopreempt: bool = False  # configured (the inventory): it never preempts a drained holder
    raised: int = 0  # configured: what its tracked items add to its priority while all is
    # well (model.tracking.raised_by)


@dataclass(frozen=True)
class Configured:
    """What the inventory says of one host's instance: what its live state is judged by."""

    host: str
    nopreempt: bool = False  # it never preempts a drained holder
    raised: int = 0  # what its tracked items add to its priority while all is well
    tracked: tuple = ()  # the check scripts (vrrp names) the instance tracks


@dataclass(frozen=True)
class Handover:
    """One instance whose VIPs a host hands over: to which peers, and how."""

    instance: str
    vips: tuple  # addresses, as `ip -o addr` shows them
    drainable: bool  # False: sync group or priority 255, only a graceful stop moves them
    peers: tuple  # Configured of each other host configured with it


@dataclass(frozen=True)
class HandoverPlan:
    """What the host side (restart.sh, stop.sh) needs to know about one host."""

    instances: tuple  # names of the host's instances: each must be back BACKUP or MASTER
    drain_vips: tuple  # addresses the drain hands over
    stop_vips: tuple  # addresses only the graceful stop hands over (sync group, 255)
    wait: int  # seconds keepalived gets to be back, its checks GOOD
    drain_wait: int  # seconds a peer gets to take the drained VIPs
    lock_wait: int  # seconds to wait for another run's lock on the host
    handovers: tuple = ()  # Handover of each instance a peer shares


@dataclass(frozen=True)
class Verdict:
    """The peers' answer: drained VIPs the stop may hand over (the healthy taker has
    nopreempt), VIPs refused (no healthy taker) and why."""

    kept: tuple = ()
    refused: tuple = ()
    reason: str = ""


def address(vip):
    """"192.168.1.100/24" -> "192.168.1.100", as `ip -o addr` shows it (IPv6 compressed)."""
    return str(ipaddress.ip_interface(vip.address).ip)


def configured(settings, name):
    """The Configured of instance `name` on the host of `settings` (Settings), or None."""
    for instance in settings.instances:
        if instance.name == name:
            return Configured(settings.host, instance.nopreempt,
                              raised_by(instance, settings.scripts,
                                        settings.track_processes, settings.bfd_instances),
                              tuple(instance.track_scripts))
    return None


def move_seconds(advert_int, preempt_delay=0):
    """Seconds a peer gets to take an instance's VIPs once the holder's priority fell:
    its Master_Down_Interval (under 4 x advert_int), TAKEOVER_SECONDS, its preempt_delay."""
    return math.ceil(4 * advert_int + TAKEOVER_SECONDS + preempt_delay)


def plan(settings, others):
    """The HandoverPlan of the host `settings` (Settings), whose peers' Settings are
    `others`. VIPs of an instance no other host has are left out: there is nobody to
    hand them to."""
    drain, stop, handovers = [], [], []
    for instance in settings.instances:
        peers = tuple(config for peer in others
                      for config in [configured(peer, instance.name)] if config)
        if not peers:
            continue
        vips = tuple(address(vip) for vip in instance.virtual_ipaddresses)
        drainable = render.drainable(settings, instance)
        (drain if drainable else stop).extend(vips)
        handovers.append(Handover(instance.name, vips, drainable, peers))
    advert = max([instance.advert_int for instance in settings.instances], default=1)
    # a restart is done (and a drained host undrained) only once its checks are GOOD
    checks = max([first_verdict_seconds(instance, settings.scripts)
                  for instance in settings.instances], default=0)
    # a peer with preempt_delay waits that long before it takes over from a drained holder
    delay = max([mine.preempt_delay or 0 for peer in others for mine in peer.instances
                 if any(mine.name == handover.instance for handover in handovers)], default=0)
    return HandoverPlan(instances=tuple(instance.name for instance in settings.instances),
                        drain_vips=tuple(drain), stop_vips=tuple(stop),
                        wait=math.ceil(3 * advert + BACK_SECONDS + checks),
                        drain_wait=move_seconds(advert, delay),
                        lock_wait=settings.host_level.lock_wait, handovers=tuple(handovers))


def problem(peer):
    """Why `peer` (Peer) cannot be trusted to hold an instance's VIPs, or None."""
    if peer.state == UNREACHABLE:
        return "its state could not be read"
    if peer.state == "STOPPED":
        return "keepalived is not running"
    if peer.state != "BACKUP":
        return f"state {peer.state}"
    if peer.failing_scripts:
        return f"check script(s) failing: {', '.join(peer.failing_scripts)}"
    healthy = healthy_priority(peer.priority or 0, peer.raised)
    if (peer.effective_priority or 0) < healthy:
        expected = (f"priority {healthy}" if healthy == peer.priority else
                    f"{healthy} (priority {peer.priority} plus its tracked items' weights)")
        return f"effective priority {peer.effective_priority} < {expected}"
    return None


def taker(instance, peers, below):
    """(the Peer that takes `instance`'s VIPs when the holder's priority falls to `below`,
    None) when that peer is healthy; else (None, why). The taker is the BACKUP with the
    highest effective priority above `below`; on a tie, every one of them must be healthy
    (VRRP then picks by address)."""
    able = [peer for peer in peers
            if peer.state == "BACKUP" and (peer.effective_priority or 0) > below]
    if not able:
        found = "; ".join(f"{peer.host}: {problem(peer) or 'priority too low'}"
                          for peer in peers) or "no other host is configured with it"
        return None, f"no healthy peer can take {instance} ({found})"
    top = max(peer.effective_priority for peer in able)
    first = [peer for peer in able if peer.effective_priority == top]
    sick = [f"{peer.host}: {problem(peer)}" for peer in first if problem(peer)]
    if sick:
        return None, (f"the peer that would take {instance} is not healthy: "
                      + "; ".join(sick))
    return first[0], None


def decide(handovers, peers):
    """The Verdict for `handovers` (Handover) from `peers` ({instance: [Peer]})."""
    kept, refused, reasons = [], [], []
    for handover in handovers:
        below = DRAINED if handover.drainable else STOPPED
        chosen, why = taker(handover.instance, peers.get(handover.instance, []), below)
        if chosen is None:
            refused += handover.vips
            reasons.append(why)
        elif handover.drainable and chosen.nopreempt:
            kept += handover.vips
    return Verdict(tuple(kept), tuple(refused), "; ".join(reasons))


def peer(config, status, instance):
    """The Peer of `instance` on the host `config` (Configured) describes, from its
    VrrpStatus (None: unreachable); of the host's failing check scripts, only those the
    instance tracks count."""
    host, nopreempt = config.host, config.nopreempt
    if status is None:
        return Peer(host, UNREACHABLE, nopreempt=nopreempt)
    if not status.running:
        return Peer(host, "STOPPED", nopreempt=nopreempt)
    seen = status.instances.get(instance)
    if seen is None:
        return Peer(host, "NOT LOADED", nopreempt=nopreempt)
    failing = tuple(name for name in status.failing_scripts if name in config.tracked)
    return Peer(host, seen.state, seen.priority, seen.effective_priority, failing, nopreempt,
                config.raised)


def run_on(target, command, label=None):
    """Run a shell command (text or a StringCommand) on `target`, any host of the
    inventory (also one outside --limit), with its own connector settings (sudo, ...);
    its stdout lines. DeployError naming `label` (default: the command) when it fails."""
    arguments, _ = pop_global_arguments(state, target, {})
    connector_arguments = {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS
                           if key in arguments}
    if not isinstance(command, StringCommand):
        command = StringCommand(command)
    if not target.connected:
        target.connect(reason="to read its keepalived state", raise_exceptions=True)
    ok, output = target.run_shell_command(command, **connector_arguments)
    if not ok:
        raise DeployError(f"{target.name}: {label or repr(str(command))} failed: "
                          f"{output.stderr}")
    return output.stdout_lines


def live_status(name):
    """The VrrpStatus of inventory host `name` read now, or None when it cannot be read."""
    target = state.inventory.get_host(name)
    try:
        lines = run_on(target, STATUS_SCRIPT, label="read keepalived's status")
    except Exception:  # unreachable, sudo refused, ...: a peer nobody can vouch for
        return None
    return KeepalivedStatus().process(lines) if lines else VrrpStatus(False, {})


def verdict_now(the_plan):
    """The Verdict of `the_plan` from its peers' state read now (each peer once)."""
    statuses = {}
    for handover in the_plan.handovers:
        for config in handover.peers:
            if config.host not in statuses:
                statuses[config.host] = live_status(config.host)
    return decide(the_plan.handovers, {
        handover.instance: [peer(config, statuses[config.host], handover.instance)
                            for config in handover.peers]
        for handover in the_plan.handovers})


STOP_SCRIPT = (state_files.FUNCTIONS + VRRP_DUMP_SCRIPT + HANDOVER_FUNCTIONS
               + shell_script("operations/stop.sh"))


@operation()
def stopped(plan: HandoverPlan, what: str):
    """
    Stop keepalived (when it runs), its VIPs first handed to a healthy peer: the peers'
    health read when the operation runs, then handover.sh's ``hand_over`` and the stop
    in one command under the deploy lock (stop.sh). Fails, keepalived running and the
    host undrained, when no healthy peer takes them.

    + plan: the host's ``HandoverPlan`` (``plan(settings, others)``; an instance no host
      of ``others`` has goes with the stop)
    + what: what this run does, for a second run's lock message

    **Example:**

    .. code:: python

        stopped(name="Hand over the VIPs, stop keepalived", plan=plan(settings, others),
                what="uninstall: stop keepalived")
    """
    if not host.get_fact(SystemdStatus, services=[SERVICE]).get(SERVICE):
        host.noop("keepalived is not running")
        return
    verdict = verdict_now(plan) if state.is_executing else Verdict()
    yield StringCommand(*state_files.locked(
        STOP_SCRIPT, what, QuoteString(host.name), QuoteString(DRAIN_FILE),
        str(plan.drain_wait), QuoteString(" ".join(plan.drain_vips)),
        QuoteString(" ".join(plan.stop_vips)), QuoteString(" ".join(verdict.kept)),
        QuoteString(" ".join(verdict.refused)), QuoteString(verdict.reason),
        wait=plan.lock_wait))
