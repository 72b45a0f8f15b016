"""A failover drill: move one instance's VIPs to its backup and back, and time both.

    pyinfra -y inventory.py drill.py --data drill_instance=VI_1

The drill lowers the instance's own drain on its MASTER (a track_file only that instance
tracks, see pyinfra_keepalived.render.config): the backup takes the instance's VIPs after
its Master_Down_Interval with no reply lost, and nothing else moves (keepalived keeps
running; the master's other instances stay where they are). It waits until the VIPs left
the master, lifts the drain and waits until they are back (preempt), timing both on the
host's monotonic clock. An instance the drain cannot move alone (in a sync group, or the
address owner with priority 255) is refused.

The host side (drill.sh) runs detached as a transient systemd service under the host's
deploy lock, started and waited for by drill_start.sh: a drill whose controller dies (a
cancelled CI job, a dropped SSH link) still ends on the host, and any end of the service
(a signal, its time limit) lifts the drain: the host repairs it, not the controller.

Before anything is touched it refuses, naming the reason, when the cluster is not
healthy: split brain or no master, or a backup whose keepalived is not running, is not
in BACKUP state (FAULT), has a failing check script or a lowered effective priority
(operations.handover, the checks every handover makes), or when there is no backup.
The hosts' state is read when the run is planned (a refusal then runs no operation) and
read again, and judged again, right before the drill starts; the host refuses it too
when it waited more than 2 s for its deploy lock (another run held the host meanwhile).
"""

from dataclasses import dataclass, replace

from pyinfra import host, logger, state
from pyinfra.api import QuoteString, StringCommand, deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import python

from ..facts.keepalived import VRRP_DUMP_SCRIPT
from ..host_paths import LOCK_FILE, LOCK_HOLDER, LOCK_WAIT_SECONDS, RUN_DIR
from ..model.fleet import check_inventory
from ..operations import handover
from ..operations.state_files import FUNCTIONS, LOCK_SCRIPT
from ..render.config import drainable, instance_drain
from ..shipped import shell_script
from .status import by_instance, cluster_status, problems, rows

START_SCRIPT = shell_script("deploys/drill_start.sh")
BODY_SCRIPT = (LOCK_SCRIPT + FUNCTIONS + VRRP_DUMP_SCRIPT + handover.HANDOVER_FUNCTIONS
               + shell_script("deploys/drill.sh"))


class DrillRefused(DeployError):
    pass


@dataclass(frozen=True)
class Plan:
    instance: str
    master: str
    backup: str  # the host expected to take over: the highest effective priority
    vips: tuple
    timeout: int  # seconds to wait for each move
    lock_wait: int = LOCK_WAIT_SECONDS  # seconds the drill waits for the host's lock


def plan(instance, all_rows, peers, advert_int=1, preempt_delay=0):
    """The drill for `instance` from the status rows of every host and the handover's
    view of each of its hosts (`peers`: {host: Peer}, handover.peer), or DrillRefused
    naming why it must not run. `preempt_delay`: the longest of the instance's hosts (a
    move waits that long)."""
    groups = by_instance(all_rows)
    if instance not in groups:
        raise DrillRefused(f"drill: no host is configured for instance {instance!r}; "
                           f"known: {', '.join(groups) or 'none'}")
    group = groups[instance]
    found = problems(group)
    if found:
        raise DrillRefused("drill refused: " + "; ".join(found))
    master = next(row for row in group if row.state == "MASTER")
    if set(master.holds) != set(master.vips):
        raise DrillRefused(f"drill refused: {master.host} is MASTER of {instance} but holds "
                           f"{', '.join(master.holds) or 'none'} of {', '.join(master.vips)}")
    backups = [peers[row.host] for row in group if row.host != master.host]
    if not backups:
        raise DrillRefused(f"drill refused: {instance} has no backup (only {master.host})")
    unhealthy = [f"{peer.host}: {reason}" for peer in backups
                 for reason in [handover.problem(peer)] if reason]
    if unhealthy:
        raise DrillRefused(f"drill refused: the backup of {instance} is not healthy: "
                           + "; ".join(unhealthy))
    backup, why = handover.taker(instance, backups, handover.DRAINED)
    if backup is None:
        raise DrillRefused(f"drill refused: {why}")
    return Plan(instance=instance, master=master.host, backup=backup.host,
                vips=master.vips, timeout=handover.move_seconds(advert_int, preempt_delay))


def plan_from(instance, settings, statuses):
    """`plan` of `instance` from the inventory (`settings`: {host: Settings}) and the
    hosts' VrrpStatus (`statuses`: {host: VrrpStatus, None when it could not be read}),
    refused too when the master cannot drain it alone; with the master's lock_wait."""
    unread = [name for name, status in statuses.items() if status is None]
    if unread:
        raise DrillRefused(f"drill refused: the state of {', '.join(unread)} could not be read")
    hosts = [name for name in statuses
             if any(i.name == instance for i in settings[name].instances)]
    peers = {name: handover.peer(handover.configured(settings[name], instance),
                                 statuses[name], instance) for name in hosts}
    ours = [i for s in settings.values() for i in s.instances if i.name == instance]
    the_plan = plan(instance, rows(settings, statuses), peers,
                    advert_int=ours[0].advert_int if ours else 1,
                    preempt_delay=max([i.preempt_delay or 0 for i in ours], default=0))
    mine = settings[the_plan.master]
    if not any(drainable(mine, i) for i in mine.instances if i.name == instance):
        raise DrillRefused(f"drill refused: {instance} on {the_plan.master} is in a sync group "
                           "or has priority 255: the drain cannot move it alone")
    return replace(the_plan, lock_wait=mine.host_level.lock_wait)


def drill_command(drill: Plan) -> StringCommand:
    """drill_start.sh on the master: drill.sh as a transient service under the host's
    deploy lock, detached from the SSH session, waited for."""
    unit = f"pyinfra-keepalived-drill-{drill.instance}"
    _, drain = instance_drain(drill.instance)
    result = f"{RUN_DIR}/{unit}.result"
    addresses = " ".join(vip.split("/")[0] for vip in drill.vips)
    return StringCommand(
        "sh", "-c", QuoteString(START_SCRIPT), "drill-start", QuoteString(unit),
        QuoteString(BODY_SCRIPT), str(drill.lock_wait + 2 * drill.timeout + 30),
        QuoteString(drain), QuoteString(result),
        # drill.sh's, after lock.sh's own four
        QuoteString(LOCK_FILE), QuoteString(LOCK_HOLDER), str(drill.lock_wait),
        QuoteString(f"drill {drill.instance}"), QuoteString(result), QuoteString(drain),
        str(drill.timeout), QuoteString(addresses))


def drill_now(instance, settings):
    """Read the state of `instance`'s hosts now, plan (or refuse: `plan_from`) and run
    the drill (`run_drill`)."""
    hosts = [name for name, s in settings.items() if any(i.name == instance for i in s.instances)]
    run_drill(plan_from(instance, settings, {name: handover.live_status(name) for name in hosts}))


def run_drill(drill):
    """Run the drill on the master (drill_command) and log the two times it measured."""
    master = state.inventory.get_host(drill.master)
    lines = handover.run_on(master, drill_command(drill), label="the drill")
    took = dict(line.split(" ", 1) for line in lines if line.startswith("fail"))

    def line(move, key):
        seconds = took.get(key, "none")
        shown = f"{seconds} s" if seconds != "none" else f"NOT within {drill.timeout} s"
        return f"drill {drill.instance}: {move}: {shown}"

    report = [line(f"failover {drill.master} -> {drill.backup}", "failover"),
              line(f"failback {drill.backup} -> {drill.master}", "failback")]
    for text in report:  # (pyinfra's logger, on stderr: stdout stays pyinfra's, --json too)
        logger.info(text)
    if "none" in [took.get("failover", "none"), took.get("failback", "none")]:
        raise DeployError("; ".join(report))


@deploy("Keepalived failover drill")
def drill(instance=None):
    """Refuse or plan (from every host's status), then run the drill from the master,
    planned again from the hosts' state read then.
    `instance` may be left out when the inventory has only one."""
    settings = check_inventory(state.inventory)
    configured = {i.name: i for s in settings.values() for i in s.instances}
    if instance is None and len(configured) == 1:
        instance = next(iter(configured))
    if instance is None:
        raise DeployError("drill: name the instance, e.g. --data drill_instance=VI_1; "
                          f"configured: {', '.join(configured) or 'none'}")
    statuses, _ = cluster_status()
    the_plan = plan_from(instance, settings, statuses)  # a refusal here runs nothing
    if host.name != the_plan.master:
        return
    python.call(
        name=f"Fail {instance} over to {the_plan.backup} and back, timed",
        function=drill_now, instance=instance, settings=settings,
    )
