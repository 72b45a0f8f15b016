"""Cluster status: who is MASTER of each VRRP instance, and what is wrong across hosts.

    pyinfra inventory.py status.py

Each host answers one ``KeepalivedStatus`` fact (one round trip). The statuses of all
hosts are fetched once per run, by whichever host's deploy code asks first, so the
cross-host checks (split brain, no master) see every host. The pure functions here
(`rows`, `problems`, `table`) take plain values and are unit tested.
"""

import time
from dataclasses import dataclass

from pyinfra import state
from pyinfra.api.exceptions import DeployError

from ..facts.keepalived import KeepalivedStatus
from ..model.fleet import check_inventory
from ..operations.per_run import once_per_run


@dataclass(frozen=True)
class Row:
    """One host's view of one instance it is configured for."""

    host: str
    instance: str
    state: str  # MASTER, BACKUP, FAULT, ..., STOPPED (no keepalived), NOT LOADED
    priority: int | None
    effective_priority: int | None
    vips: tuple  # configured, from the inventory
    holds: tuple  # the configured VIPs this host has on an interface right now
    last_transition: float | None
    now: float | None
    failing_scripts: tuple = ()


def cluster_status():
    """({host name: VrrpStatus} for every active host, True if this call fetched them).
    Fetched once per run; the second value is True for exactly one caller."""
    fetched = []

    def fetch():
        fetched.append(True)
        active = set(state.inventory.get_active_hosts())
        return {host.name: host.get_fact(KeepalivedStatus)
                for host in state.inventory if host in active}  # inventory order

    return once_per_run("cluster status", fetch), bool(fetched)


def rows(settings, statuses):
    """[Row] for each instance of each host in `statuses` ({name: VrrpStatus}), in
    inventory order; `settings` is {host name: Settings} (what the inventory configures)."""
    result = []
    for host, status in statuses.items():
        for instance in settings[host].instances:
            seen = status.instances.get(instance.name)
            if not status.running:
                state_name = "STOPPED"
            else:
                state_name = seen.state if seen else "NOT LOADED"
            result.append(Row(
                host=host, instance=instance.name, state=state_name,
                priority=seen.priority if seen else None,
                effective_priority=seen.effective_priority if seen else None,
                vips=tuple(vip.address for vip in instance.virtual_ipaddresses),
                holds=tuple(vip.address for vip in instance.virtual_ipaddresses
                            if vip.address.split("/")[0] in status.addresses),
                last_transition=seen.last_transition if seen else None,
                now=status.now, failing_scripts=status.failing_scripts,
            ))
    return result


def by_instance(all_rows):
    """{instance name: [Row]}, instances and hosts in the order first seen."""
    grouped = {}
    for row in all_rows:
        grouped.setdefault(row.instance, []).append(row)
    return grouped


def problems(all_rows):
    """Lines naming each split brain (two MASTERs, or a VIP on two hosts) and each
    instance without a MASTER. Empty when every instance has exactly one."""
    found = []
    for instance, group in by_instance(all_rows).items():
        masters = [row.host for row in group if row.state == "MASTER"]
        holders = [row.host for row in group if row.holds]
        if len(masters) > 1:
            found.append(f"SPLIT BRAIN: {instance} is MASTER on {len(masters)} hosts: "
                         f"{', '.join(masters)}")
        elif len(holders) > 1:
            found.append(f"SPLIT BRAIN: {instance}'s VIPs are on {len(holders)} hosts: "
                         f"{', '.join(holders)}")
        if not masters:
            states = ", ".join(f"{row.host} {row.state}" for row in group)
            found.append(f"NO MASTER: {instance} ({states})")
    return found


def _when(row):
    if row.last_transition is None:
        return "-"
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(row.last_transition))
    if row.now is None:
        return stamp
    return f"{stamp} ({_age(row.now - row.last_transition)} ago)"


def _age(seconds):
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(all_rows):
    """The status as aligned text lines: one per host and instance."""
    header = ("HOST", "INSTANCE", "STATE", "PRIO", "EFFECTIVE", "HOLDS VIP", "LAST TRANSITION")
    lines = [header] + [(
        row.host, row.instance, row.state,
        "-" if row.priority is None else str(row.priority),
        "-" if row.effective_priority is None else str(row.effective_priority),
        ", ".join(row.holds) or "-", _when(row),
    ) for row in all_rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) + "  " + line[-1]
            for line in lines]


def report():
    """Print the status of every host once per run (after all hosts answered); raise a
    DeployError naming each split brain / missing master, so the run exits 1."""
    statuses, fetched_now = cluster_status()
    if not fetched_now:
        return
    all_rows = rows(check_inventory(state.inventory), statuses)
    found = problems(all_rows)
    print("\n".join(["", *table(all_rows), ""]))
    print("\n".join(found) if found else "OK: every instance has exactly one MASTER")
    if found:
        raise DeployError("keepalived status: " + "; ".join(found))
