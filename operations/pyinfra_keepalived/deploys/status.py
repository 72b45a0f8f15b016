"""Cluster status: who is MASTER of each VRRP instance, and what is wrong across hosts.

    pyinfra inventory.py status.py

Each host answers one ``KeepalivedStatus`` fact (one round trip) and the ``SshHostKeys``
fact known_hosts.py reads (its public host keys). The statuses of all hosts are fetched
once per run, by whichever host's deploy code asks first, so the cross-host checks (split
brain, no master, host keys that differ between an instance's holders) see every host.
The pure functions here (`rows`, `problems`, `table`, `host_key_lines`) take plain values
and are unit tested. Everything goes through pyinfra's logger (stderr), so stdout stays
pyinfra's own (pure JSON with `--json`).
"""

import base64
import hashlib
import sys
import time
from dataclasses import dataclass

from pyinfra import logger, state

from ..facts.keepalived import KeepalivedStatus
from ..facts.ssh_host_keys import SshHostKeys
from ..model.fleet import check_inventory
from ..model.peers import holders, settle_seconds
from ..per_run import once_per_run


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
    # seconds the instance may take to elect a MASTER after a start, reload or restart
    # (model.peers.settle_seconds); None: not known
    settles_in: float | None = None


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
    result, settle = [], {}
    for host, status in statuses.items():
        for instance in settings[host].instances:
            if instance.name not in settle:
                settle[instance.name] = settle_seconds(settings, instance.name)
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
                settles_in=settle[instance.name],
            ))
    return result


def by_instance(all_rows):
    """{instance name: [Row]}, instances and hosts in the order first seen."""
    grouped = {}
    for row in all_rows:
        grouped.setdefault(row.instance, []).append(row)
    return grouped


def electing_since(group):
    """Seconds since the last transition of an instance whose hosts (`group`, its rows)
    are all BACKUP (or INIT) within their first Master_Down_Interval after a start,
    reload or restart: it has no MASTER yet because it is still electing one. None
    otherwise (a MASTER, another state, or times not known)."""
    ages = [row.now - row.last_transition for row in group
            if row.state in ("BACKUP", "INIT") and row.now is not None
            and row.last_transition is not None and row.settles_in is not None
            and row.now - row.last_transition < row.settles_in]
    return max(ages) if len(ages) == len(group) and group else None


def electing(all_rows):
    """Lines naming each instance that is still electing its MASTER (`electing_since`)."""
    return [f"ELECTING: {instance} (started {_age(age)} ago; every host BACKUP within its "
            f"first Master_Down_Interval)"
            for instance, group in by_instance(all_rows).items()
            for age in [electing_since(group)] if age is not None]


def problems(all_rows, electing_ok=False, partial=()):
    """Lines naming each split brain (two MASTERs, or a VIP on two hosts) and each
    instance without a MASTER, except (`electing_ok`) one still electing it (see
    `electing_since`) and one in `partial` (instances with a host not read: its MASTER
    may be there). Empty when every instance has exactly one."""
    found = []
    for instance, group in by_instance(all_rows).items():
        if electing_ok and electing_since(group) is not None:
            continue
        masters = [row.host for row in group if row.state == "MASTER"]
        holders = [row.host for row in group if row.holds]
        if len(masters) > 1:
            found.append(f"SPLIT BRAIN: {instance} is MASTER on {len(masters)} hosts: "
                         f"{', '.join(masters)}")
        elif len(holders) > 1:
            found.append(f"SPLIT BRAIN: {instance}'s VIPs are on {len(holders)} hosts: "
                         f"{', '.join(holders)}")
        if not masters and instance not in partial:
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


def fingerprint(key):
    """OpenSSH's SHA256 fingerprint of a public key's base64 (as `ssh-keygen -l` shows)."""
    digest = hashlib.sha256(base64.b64decode(key)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _short(key_type):
    """ed25519, rsa, ecdsa from ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256"""
    return key_type.removeprefix("ssh-").split("-")[0]


def host_key_lines(settings, keys, current=None):
    """Per instance with two holders or more, what an SSH client of its VIPs sees on a
    failover: the same host keys everywhere (no change), or which key types differ and
    who refuses a client that trusted the VIP through `current`'s host ({instance: host},
    default the first holder), with each holder's fingerprints (public keys only).
    `settings`: {host: Settings}; `keys`: {host: [(type, base64)]} (SshHostKeys) for the
    hosts asked (others are left out, as with --limit)."""
    lines = []
    for name, (_, hosts) in holders(settings).items():
        hosts = [host for host in hosts if host in keys]
        if len(hosts) < 2:
            continue
        silent = [host for host in hosts if not keys[host]]
        if silent:
            lines.append(f"instance {name}: no SSH host keys read from {', '.join(silent)} "
                         "(is sshd installed?): what a client sees on failover is unknown")
            continue
        by_type = {}  # key type -> {host: base64}
        for host in hosts:
            for key_type, key in keys[host]:
                by_type.setdefault(key_type, {})[host] = key
        differ = sorted((key_type for key_type, found in by_type.items()
                         if len(found) < len(hosts) or len(set(found.values())) > 1),
                        key=_short)
        if not differ:
            shown = ", ".join(f"{_short(key_type)} {fingerprint(key)}"
                              for key_type, key in keys[hosts[0]])
            lines.append(f"instance {name}: holders {', '.join(hosts)} present the same SSH "
                         f"host keys ({shown}): a client sees no change on failover")
            continue
        trusted = (current or {}).get(name)
        trusted = trusted if trusted in hosts else hosts[0]
        others = [host for host in hosts if host != trusted]
        lines.append(
            f"instance {name}: holders {', '.join(hosts)} present different "
            f"{', '.join(map(_short, differ))} keys: a client that trusted the VIP through "
            f"{trusted} is refused by {', '.join(others)} unless its known_hosts lists "
            f"{'both' if len(hosts) == 2 else 'them all'} (run known_hosts.py) or "
            "keepalived_ssh_host_keys: shared")
        lines += [f"  {host} {key_type} {fingerprint(key)}"
                  for host in hosts for key_type, key in keys[host] if key_type in differ]
    return lines


# status.py's exit codes (README, "Cluster status"): monitoring tells a split cluster from
# a host it could not reach. pyinfra's own 1 stays "a host failed" (unreachable, ...).
EXIT_OK = 0  # every instance has one MASTER, or is still electing it
EXIT_UNREACHABLE = 1  # a host could not be read (pyinfra's exit code for a failed host)
EXIT_CLUSTER = 2  # split brain, or an instance without a MASTER among hosts all read


DRY_RUN_NOTE = ("status: dry run, nothing read. A run asks each host's keepalived for its "
                "data dump (a signal to its VRRP process, which writes /tmp/keepalived.data, "
                "read and removed at once), and reads its addresses (ip -o addr show) and "
                "its public SSH host keys")


def dry_run():
    """Whether pyinfra runs with --dry (its command line tells: the CLI keeps it)."""
    return "--dry" in sys.argv[1:]


def unread(settings, statuses):
    """{instance: [host]}: the hosts configured for each instance whose status was not
    read (unreachable, or outside --limit)."""
    return {name: missing for name, (_, hosts) in holders(settings).items()
            for missing in [[host for host in hosts if host not in statuses]] if missing}


def report():
    """Log the status of every host once per run (after all hosts answered), with what an
    SSH client sees on failover; exit EXIT_CLUSTER naming each split brain / missing
    master among instances whose hosts were all read. An instance still electing its
    MASTER is no problem. Under --dry nothing is read: the data dump is a signal to
    keepalived, which writes a file on the host."""
    if dry_run():
        once_per_run("status dry run", lambda: logger.info(DRY_RUN_NOTE))
        return
    statuses, fetched_now = cluster_status()
    if not fetched_now:
        return
    settings = check_inventory(state.inventory)
    all_rows = rows(settings, statuses)
    missing = unread(settings, statuses)
    found = problems(all_rows, electing_ok=True, partial=missing)
    keys = {host.name: host.get_fact(SshHostKeys) for host in state.inventory
            if host.name in statuses and settings[host.name].instances}
    current = {row.instance: row.host for row in all_rows if row.state == "MASTER"}
    logger.info("\n".join(["", *table(all_rows), ""]))
    for line in electing(all_rows):
        logger.info(line)
    for instance, hosts in missing.items():
        logger.warning(f"UNKNOWN: {instance}: not read from {', '.join(hosts)}")
    if not found and not missing:
        logger.info("OK: every instance has exactly one MASTER")
    for line in host_key_lines(settings, keys, current):
        logger.info(line)
    if found:
        logger.error("keepalived status: " + "; ".join(found))
        raise SystemExit(EXIT_CLUSTER)
