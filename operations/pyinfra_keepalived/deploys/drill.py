"""A failover drill: move one instance's VIPs to its backup and back, and time both.

    pyinfra -y inventory.py drill.py --data drill_instance=VI_1

The drill stops keepalived on the instance's MASTER (a graceful stop sends a priority-0
advert, so the backup takes over at once), waits until the backup holds every VIP of the
instance, starts keepalived again and waits until the master has them back (preempt).
Every other instance that host is MASTER of moves with it; the drill names them first.

The stop and the start each run under the host's deploy lock (a deploy on the master
finishes its step first); the lock is not held while the drill waits.

Before anything is touched it refuses, naming the reason, when the cluster is not
healthy: split brain or no master, or a backup whose keepalived is not running, is not
in BACKUP state (FAULT), or has a failing check script, or when there is no backup.
"""

import time
from dataclasses import dataclass, replace

from pyinfra import host, logger, state
from pyinfra.api import StringCommand, deploy
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import python

from ..facts.keepalived import parse_addresses
from ..model.fleet import check_inventory
from ..operations.state_files import LOCK_WAIT_SECONDS, locked
from .status import by_instance, cluster_status, problems, rows

POLL_SECONDS = 0.05


class DrillRefused(DeployError):
    pass


@dataclass(frozen=True)
class Plan:
    instance: str
    master: str
    backup: str  # the host expected to take over: the highest effective priority
    vips: tuple
    also_moving: tuple  # other instances the master host is MASTER of
    timeout: float  # seconds to wait for each move
    lock_wait: int = LOCK_WAIT_SECONDS  # seconds the stop and the start wait for the lock


def plan(instance, all_rows, advert_int=1):
    """The drill for `instance` from the status rows of every host, or DrillRefused
    naming why it must not run."""
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
    backups = [row for row in group if row.host != master.host]
    if not backups:
        raise DrillRefused(f"drill refused: {instance} has no backup (only {master.host})")
    unhealthy = [f"{row.host}: {reason}" for row in backups
                 for reason in [_unhealthy(row)] if reason]
    if unhealthy:
        raise DrillRefused(f"drill refused: the backup of {instance} is not healthy: "
                           + "; ".join(unhealthy))
    backup = max(backups, key=lambda row: row.effective_priority)
    also = tuple(row.instance for row in all_rows
                 if row.host == master.host and row.state == "MASTER" and row.instance != instance)
    return Plan(instance=instance, master=master.host, backup=backup.host, vips=master.vips,
                also_moving=also, timeout=4 * advert_int + 10)


def _unhealthy(row):
    """Why a backup row cannot be trusted to take over, or None."""
    if row.state == "STOPPED":
        return "keepalived is not running"
    if row.state != "BACKUP":
        return f"state {row.state}"
    if row.failing_scripts:
        return f"check script(s) failing: {', '.join(row.failing_scripts)}"
    if row.effective_priority != row.priority:
        return f"effective priority {row.effective_priority} < priority {row.priority}"
    return None


def _run(target, command, label=None):
    """Run a shell command (text or a StringCommand) on another host of the run, with its
    sudo settings; `label` names it in the error (default: the command)."""
    arguments, _ = pop_global_arguments(state, target, {})
    connector_arguments = {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS
                           if key in arguments}
    if not isinstance(command, StringCommand):
        command = StringCommand(command)
    ok, output = target.run_shell_command(command, **connector_arguments)
    if not ok:
        raise DeployError(f"{target.name}: {label or repr(str(command))} failed: "
                          f"{output.stderr}")
    return output.stdout_lines


def keepalived_command(action: str, drill: Plan) -> StringCommand:
    """`systemctl ACTION keepalived` ("stop" or "start") under the host's deploy lock:
    each command takes the lock for itself, none holds it while the drill waits."""
    return StringCommand(*locked(f"systemctl {action} keepalived",
                                 f"drill {drill.instance}: {action} keepalived",
                                 wait=drill.lock_wait))


def _keepalived(target, action: str, drill: Plan):
    """Stop or start keepalived on `target`, holding its deploy lock while systemctl runs."""
    _run(target, keepalived_command(action, drill), label=f"systemctl {action} keepalived")


def _holds(target, vips):
    addresses = parse_addresses(_run(target, "ip -o addr show"))
    return {vip for vip in vips if vip.split("/")[0] in addresses}


def _wait(condition, timeout, start):
    """Seconds from `start` (time.monotonic) until `condition()` is true, or None."""
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(POLL_SECONDS)
    return None


def run_drill(drill):
    """Stop keepalived on the master, time the takeover, start it, time the return."""
    hosts = {h.name: h for h in state.inventory.get_active_hosts()}
    master, backup, vips = hosts[drill.master], hosts[drill.backup], set(drill.vips)
    moved_at = None
    try:
        start = time.monotonic()
        _keepalived(master, "stop", drill)
        moved_at = _wait(lambda: _holds(backup, vips) == vips and not _holds(master, vips),
                         drill.timeout, start)
    finally:  # whatever happened, the master's keepalived runs again
        start = time.monotonic()
        try:
            _keepalived(master, "start", drill)
        except DeployError as error:
            # (another run held the lock too long, say): a start changes no file and
            # reads a whole tree; leaving the master stopped is the worse outcome
            logger.warning(f"{error}; starting keepalived on {master.name} without the lock")
            _run(master, "systemctl start keepalived", label="systemctl start keepalived")
    back_at = _wait(lambda: _holds(master, vips) == vips and not _holds(backup, vips),
                    drill.timeout, start)
    def line(move, seconds):
        took = f"{seconds:.2f} s" if seconds is not None else f"NOT within {drill.timeout:.0f} s"
        return f"drill {drill.instance}: {move}: {took}"

    lines = [line(f"failover {drill.master} -> {drill.backup}", moved_at),
             line(f"failback {drill.backup} -> {drill.master}", back_at)]
    for text in lines:  # (pyinfra's logger, on stderr: stdout stays pyinfra's, --json too)
        logger.info(text)
    if moved_at is None or back_at is None:
        raise DeployError("; ".join(lines))


@deploy("Keepalived failover drill")
def drill(instance=None):
    """Refuse or plan (from every host's status), then run the drill from the master.
    `instance` may be left out when the inventory has only one."""
    settings = check_inventory(state.inventory)
    configured = {i.name: i for s in settings.values() for i in s.instances}
    if instance is None and len(configured) == 1:
        instance = next(iter(configured))
    if instance is None:
        raise DeployError("drill: name the instance, e.g. --data drill_instance=VI_1; "
                          f"configured: {', '.join(configured) or 'none'}")
    statuses, _ = cluster_status()
    the_plan = plan(instance, rows(settings, statuses),
                    advert_int=configured[instance].advert_int if instance in configured else 1)
    if host.name != the_plan.master:
        return
    the_plan = replace(the_plan, lock_wait=settings[the_plan.master].host_level.lock_wait)
    if the_plan.also_moving:
        logger.warning(f"drill: {the_plan.master} is also MASTER of "
                       f"{', '.join(the_plan.also_moving)}; they move with {instance}")
    python.call(
        name=f"Fail {instance} over to {the_plan.backup} and back, timed",
        function=run_drill, drill=the_plan,
    )
