"""Let VRRP from keepalived's peers through the host firewall (nftables, iptables or
firewalld), and take it out again.

The work is done by vrrp_firewall.sh (next to this file), the same script on every host:
it finds the active firewall itself, and its `status` is part of the one host fact
(facts.host_level), so a host that is already open costs no extra round trip.
A copy is installed as FIREWALL_COMMAND for the keepalived.service drop-in, which runs
`add --peers-file FILE` before each start, FILE the peers file of the LIVE config tree
(render.firewall: it goes live with the config it belongs to, in the same swap): the
rules come back after a reboot or a ruleset reload, for the peers of the config
keepalived loads, and a start never deletes a rule.

A change of peers goes in two steps, so that no peer's adverts are dropped while the
cluster changes over: `allow_vrrp` (before the config) only adds the rules that are
missing, `prune_vrrp` (once the new config is live) deletes the rules no longer wanted.
A run that dies in between leaves rules that accept more, never fewer (a start then adds
the live config's peers, deleting nothing); the next run's probe sees them ("stale") and
prunes them.
"""

import os
from dataclasses import dataclass

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation

from ..facts.host_level import FIREWALL_SCRIPT, KeepalivedHostLevel
from ..host_paths import CURRENT, FIREWALL_COMMAND
from ..render.firewall import peers_path
from .uploads import sha256, upload

FIREWALL_SCRIPT_SHA256 = sha256(FIREWALL_SCRIPT)


@dataclass(frozen=True)
class FirewallWork:
    """allow_vrrp's part of the host-level work (operations.host_level_work): let the
    peers' VRRP in, before the config step."""
    rules: tuple[str, ...]  # the firewall script's arguments (render.firewall.firewall_rules)
    script: bool  # install the script the drop-in runs (missing, or another version)
    add: bool  # add the rules that are missing (the probe said "missing")


def is_managed(host_level, host_state):
    """On when forced, or (auto) when the host fact found an active firewall."""
    return host_level.firewall == "on" or (
        host_level.firewall == "auto" and host_state.firewall != "none")


def script_command(action, rules=()):
    """The firewall script run inline, as `sh -c SCRIPT vrrp-firewall ACTION ...`."""
    return StringCommand("sh", "-c", QuoteString(FIREWALL_SCRIPT), "vrrp-firewall", action,
                         *rules)


def live_peers_path(paths):
    """The config tree's peers file read through BASE/.current, the live generation's
    link: never a prepared one that is not live yet (operations.cluster_commit)."""
    return f"{paths.base_dir}/{CURRENT}/{os.path.relpath(peers_path(paths), paths.base_dir)}"


def installed_command(paths):
    """The command line of the installed copy, for ExecStartPre=: the live config's peers
    (`paths`: the tree's Paths; validated: letters, digits and _ . - / only)."""
    return " ".join([FIREWALL_COMMAND, "add", "--peers-file", live_peers_path(paths)])


@operation()
def allow_vrrp(work: FirewallWork):
    """
    Add the firewall rules that are missing (none is deleted: see ``prune_vrrp``), and
    install the script the keepalived.service drop-in runs before each start, where it is
    missing or another version.

    + work: what to change (``host_level_work.allow_vrrp_work(rules, host_state)``, the
      rules from ``render.firewall.firewall_rules(settings)``: protocols, then peers, e.g.
      ``("112", "4,,10.0.0.2,10.0.0.1")``; the host state asked with the same rules)

    **Example:**

    .. code:: python

        allow_vrrp(name="Let VRRP from the peers through the firewall",
                   work=host_level_work.allow_vrrp_work(("112", "4,eth0,,224.0.0.18"),
                                                        probe.host_state))
    """
    if work.script:
        yield from upload(FIREWALL_COMMAND, FIREWALL_SCRIPT, "755")
    if work.add:
        yield script_command("add", work.rules)


@operation()
def prune_vrrp(rules: tuple[str, ...]):
    """
    Delete the firewall rules of ours that ``rules`` no longer asks for, and add any
    missing. Run only once the config that no longer needs them is live on this host
    (the drop-in's start hook adds, never deletes), where the probe found any
    (``host_level_work.prune_vrrp_work``).

    + rules: from ``render.firewall.firewall_rules(settings)``

    **Example:**

    .. code:: python

        prune_vrrp(name="Close the firewall to former peers",
                   rules=("112", "4,eth0,,224.0.0.18"))
    """
    yield script_command("prune", rules)


@operation()
def remove_vrrp_rule():
    """
    Delete every firewall rule ``allow_vrrp`` added (nftables, iptables, firewalld) and the
    installed script. For the uninstall deploy; nothing happens on a host without the script.

    **Example:**

    .. code:: python

        remove_vrrp_rule(name="Close the firewall to VRRP again")
    """
    host_state = host.get_fact(KeepalivedHostLevel, firewall_status="", files=[FIREWALL_COMMAND],
                            read=[], sysctls=[])
    if FIREWALL_COMMAND not in host_state.sha256:
        host.noop("no VRRP firewall rule of this deploy")
        return
    yield script_command("remove")
    yield StringCommand("rm", "-f", FIREWALL_COMMAND)
