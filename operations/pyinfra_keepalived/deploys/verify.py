"""The deploy's last step: the instances a run touched have settled, one MASTER each.

    verify.after_changes(settings, [installed, options, configured, *service_steps])

keepalived starts every instance below priority 255 as BACKUP and elects a MASTER only
after its Master_Down_Interval, so a deploy that returns as soon as its commands did says
nothing about the VIPs. After the last change of a run, for every instance whose hosts
the run touched (changed their config, reloaded, started or restarted keepalived), this
step waits until exactly one host holds all of its VIPs and the others are BACKUP,
reading each host's status through the one-command status fact (facts.keepalived,
KeepalivedStatus), as status.py does. It waits at most the instance's settle time
(model.peers.settle_seconds: its Master_Down_Interval from its timers and priorities, its
checks' first verdict, its preempt_delay) plus `keepalived_verify_wait`, on a monotonic
clock; then the run fails naming the instance, its hosts and their states.

pyinfra runs each operation on every host before the next: when the step runs, every
host has finished its changes. The step is one operation, added only on hosts that may
change keepalived and run only on those that did (`_if`); the first of them reads the
whole cluster for every touched instance, once per run (per_run.once_per_run), and each
host fails if an instance it touched did not settle. A run that changes nothing adds no
operation here (each costs a few milliseconds per host on every run).
"""

import time

import gevent
from pyinfra import host, logger, state
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import python

from ..facts.keepalived import KeepalivedStatus
from ..model.fleet import check_inventory
from ..model.peers import settle_seconds
from ..per_run import once_per_run
from .status import by_instance, problems, rows

POLL_SECONDS = 0.5


def verdict(group, preempting=frozenset(), partial=False):
    """(settled, text) for one instance from its rows (`group`, status.Row of each host
    read): settled when exactly one host is MASTER and holds all of its VIPs, no other
    host holds any, the others are BACKUP, and no BACKUP of `preempting` (the hosts whose
    instance preempts) has a higher effective priority than the MASTER (it is about to
    take over). `partial`: some hosts of the instance were not read (outside --limit): no
    MASTER among those read is then no verdict, and settled means no split brain and
    every host read MASTER or BACKUP. `text` names the instance, and unless settled,
    what is wrong and every host's state."""
    name = group[0].instance
    states = ", ".join(f"{row.host} {row.state}"
                       + (f" holding {', '.join(row.holds)}" if row.holds else "")
                       for row in group)
    found = problems(group, partial={name} if partial else ())
    if found:
        return False, f"{'; '.join(found)} [{states}]"
    masters = [row for row in group if row.state == "MASTER"]
    others = [row for row in group if row.state != "MASTER"]
    if partial and not masters:
        if all(row.state == "BACKUP" and not row.holds for row in others):
            return True, f"{name}: {states} (no MASTER among the hosts of this run)"
        return False, f"NOT SETTLED: {name}: not every host BACKUP [{states}]"
    master = masters[0]
    if set(master.holds) != set(master.vips) or any(row.holds for row in others):
        return False, f"VIPS ON THE WRONG HOST: {name}: MASTER {master.host} holds " \
                      f"{', '.join(master.holds) or 'none'} of {', '.join(master.vips)} [{states}]"
    if any(row.state != "BACKUP" for row in others):
        return False, f"NO STANDBY: {name}: not every other host BACKUP [{states}]"
    higher = [row.host for row in others if row.host in preempting
              and (row.effective_priority or 0) > (master.effective_priority or 0)]
    if higher:
        return False, f"NOT SETTLED: {name}: MASTER {master.host} has a lower priority " \
                      f"than {', '.join(higher)}, which will take over [{states}]"
    return True, f"{name}: {states}"


def touched(settings, changed_hosts):
    """Names of the instances of `changed_hosts`, in inventory order (`settings`:
    {host: Settings})."""
    return list(dict.fromkeys(instance.name for name, host_settings in settings.items()
                              if name in changed_hosts for instance in host_settings.instances))


def read_statuses(hosts):
    """{host name: VrrpStatus or the exception reading it raised}, read in parallel."""
    jobs = {target.name: gevent.spawn(target.get_fact, KeepalivedStatus) for target in hosts}
    gevent.joinall(list(jobs.values()))
    return {name: job.value if job.successful() else job.exception
            for name, job in jobs.items()}


def settle(settings, names, margin, read=read_statuses, clock=time.monotonic,
           sleep=gevent.sleep):
    """{instance: (settled, text, seconds)} for each of `names`: polled until settled or
    past its settle time plus `margin` (seconds, from the start of this call). Reads the
    hosts of the run (`read`: status by host) configured for the instances still open."""
    active = {target.name: target for target in state.inventory.get_active_hosts()}
    limits = {name: settle_seconds(settings, name) + margin for name in names}
    configured = {name: [host_name for host_name, host_settings in settings.items()
                         if any(i.name == name for i in host_settings.instances)]
                  for name in names}
    preempting = {name: frozenset(host_name for host_name, host_settings in settings.items()
                                  for i in host_settings.instances
                                  if i.name == name and not i.nopreempt)
                  for name in names}
    results, start = {}, clock()
    while True:
        open_names = [name for name in names if name not in results]
        if not open_names:
            return results
        wanted = {host_name for name in open_names for host_name in configured[name]}
        answers = read([active[name] for name in active if name in wanted])
        failed = {name: error for name, error in answers.items()
                  if isinstance(error, BaseException)}
        statuses = {name: answers[name] for name in settings  # (inventory order)
                    if name in answers and name not in failed}
        groups = by_instance(rows({name: settings[name] for name in statuses}, statuses))
        elapsed = clock() - start
        for name in open_names:
            unreadable = [host_name for host_name in configured[name] if host_name in failed]
            if unreadable:
                results[name] = (False, f"{name}: status not read from "
                                 + "; ".join(f"{h}: {failed[h]}" for h in unreadable), elapsed)
                continue
            if name not in groups:  # (its hosts of this run failed an earlier step)
                results[name] = (True, f"{name}: no host of this run left to read", elapsed)
                continue
            ok, text = verdict(groups[name], preempting[name],
                               partial=len(groups[name]) < len(configured[name]))
            if ok or elapsed > limits[name]:
                results[name] = (ok, text if ok else f"{text}: not settled within "
                                 f"{limits[name]:.1f} s", elapsed)
        if len(results) < len(names):
            sleep(POLL_SECONDS)


def verify_step(host_name, changes):
    """The step's function (python.call): fail when an instance of `host_name` that this
    run touched did not settle. `changes`: {host: callable, whether it changed}."""
    settings = check_inventory(state.inventory)

    def run_once():
        names = touched(settings, {name for name, changed in changes.items() if changed()})
        margin = max(settings[name].host_level.verify_wait for name in changes)
        results = settle(settings, names, margin)
        for name, (ok, text, seconds) in results.items():
            if ok:
                logger.info(f"keepalived settled after {seconds:.1f} s: {text}")
        return results

    results = once_per_run("cluster verification", run_once)
    failed = [text for instance in settings[host_name].instances
              for ok, text, _ in [results.get(instance.name, (True, "", 0))] if not ok]
    if failed:
        raise DeployError("keepalived did not settle: " + "; ".join(failed))


def after_changes(settings, steps):
    """Add the verification as this host's last step when any of `steps` (the
    OperationMeta of the steps that change keepalived: package, options, config, start,
    restart) was added and verification is on; it runs only if one of them changed."""
    steps = [step for step in steps if step is not None]  # (None: a step not added)
    if not steps or not settings.host_level.verify or not settings.instances:
        return
    changes = once_per_run("verification changes", dict)

    def changed(steps=steps):
        return any(step.is_complete() and step.did_change() for step in steps)

    changes[host.name] = changed
    python.call(name="Wait until each changed VRRP instance has one MASTER holding its VIPs",
                function=verify_step, host_name=host.name, changes=changes, _if=changed)
