"""Let VRRP through the host firewall (nftables, iptables or firewalld), and take it out again.

The work is done by vrrp_firewall.sh (next to this file), the same script on every host:
it finds the active firewall itself, and its `status` is part of the one host fact
(facts.host_level), so a host that is already open costs no extra round trip.
A copy is installed as FIREWALL_COMMAND for the keepalived.service drop-in, which runs
`allow` before each start: the rule comes back after a reboot or a ruleset reload.
"""

import shlex

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation

from ..facts.host_level import FIREWALL_COMMAND, FIREWALL_SCRIPT, KeepalivedHostLevel
from .uploads import sha256, upload

FIREWALL_SCRIPT_SHA256 = sha256(FIREWALL_SCRIPT)


def is_managed(host_level, host_state):
    """On when forced, or (auto) when the host fact found an active firewall."""
    return host_level.firewall == "on" or (
        host_level.firewall == "auto" and host_state.firewall != "none")


def script_command(action, protocols=()):
    """The firewall script run inline, as `sh -c SCRIPT vrrp-firewall ACTION ...`."""
    return StringCommand("sh", "-c", QuoteString(FIREWALL_SCRIPT), "vrrp-firewall", action,
                         *protocols)


def installed_command(protocols):
    """The command line of the installed copy, for ExecStartPre=."""
    return " ".join([FIREWALL_COMMAND, "allow", *map(shlex.quote, protocols)])


@operation()
def allow_vrrp(protocols, host_state):
    """
    Let ``protocols`` through the active firewall, and install the script the
    keepalived.service drop-in runs before each start.

    + protocols: from ``facts.host_level.vrrp_protocols(settings)``, e.g. ``("112",)`` or ``("112", "51")``
    + host_state: the host's ``KeepalivedHostLevel`` (asked with the same protocols)

    **Example:**

    .. code:: python

        allow_vrrp(name="Let VRRP through the firewall", protocols=("112",),
                   host_state=probe.host_state)
    """
    script_ok = host_state.sha256.get(FIREWALL_COMMAND) == FIREWALL_SCRIPT_SHA256
    if not script_ok:
        yield from upload(FIREWALL_COMMAND, FIREWALL_SCRIPT, "755")
    if not host_state.firewall_ok:
        yield script_command("allow", protocols)
    if host_state.firewall_ok and script_ok:
        host.noop(f"VRRP already allowed ({host_state.firewall})")


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
