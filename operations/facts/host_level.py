"""The one pyinfra fact the host-level operations read (operations.host_level, .firewall).

Everything those operations compare against comes back in a single round trip per host,
so that a run that changes nothing stays fast.
"""

import shlex
from dataclasses import dataclass, field

from pyinfra.api import FactBase


@dataclass(frozen=True)
class HostState:
    firewall: str = "none"  # the active firewall: firewalld, iptables, nftables or none
    firewall_ok: bool = True  # it lets the requested protocols through (rules of ours)
    sha256: dict = field(default_factory=dict)  # {path: digest} of the files that exist
    unit: str = ""  # `systemctl is-enabled keepalived.service`: enabled, masked, ...
    sysctl: dict = field(default_factory=dict)  # {key: running value}
    lines: dict = field(default_factory=dict)  # {path: [lines]} of the files asked to read


SYSCTL_DIR = "/proc/sys/"


def sysctl_path(key):
    """net.ipv4.ip_nonlocal_bind -> /proc/sys/net/ipv4/ip_nonlocal_bind"""
    return SYSCTL_DIR + key.replace(".", "/")


def sysctl_key(path):
    """The inverse of sysctl_path (for keys whose parts hold no dot, as those asked here)."""
    return path[len(SYSCTL_DIR):].replace("/", ".")


class KeepalivedHostState(FactBase):
    """
    Firewall, files, unit state and sysctl values around keepalived, in one round trip.

    + firewall_status: the shell command that prints "BACKEND ok|missing"
      (``firewall.status_command(protocols)``), or ``""`` to skip the firewall probe
    + files: paths whose sha256 is wanted (missing files are left out)
    + read: absolute paths (without ':') whose lines are wanted (small files only)
    + sysctls: keys whose running value is wanted
    + unit: also read ``systemctl is-enabled keepalived.service``

    .. code:: python

        host.get_fact(KeepalivedHostState, firewall_status=status_command(("112",)),
                      files=["/etc/default/keepalived"], read=[],
                      sysctls=["net.ipv4.ip_nonlocal_bind"])
    """

    def command(self, firewall_status, files, read, sysctls, unit=True):
        parts = [": keepalived-host-state"]
        if firewall_status:
            parts.append(f"printf 'firewall '; {firewall_status}")
        if files:
            parts.append("sha256sum " + " ".join(map(shlex.quote, files)) + " 2>/dev/null")
        if unit:  # (operations.probe reads the unit state itself, with the service's)
            parts.append("printf 'unit %s\\n' \"$(systemctl is-enabled keepalived.service "
                         "2>/dev/null)\"")
        # One grep reads every file asked for and every sysctl value, a line each as
        # PATH:LINE (a process for each would cost more than the reading); -a: every line,
        # whatever bytes it holds (as text, not "binary file matches").
        paths = [*read, *map(sysctl_path, sysctls)]
        for path in paths:
            if not path.startswith("/") or ":" in path:
                raise ValueError(f"{path!r}: an absolute path without ':' is needed here")
        if paths:
            parts.append("grep -aH '' " + " ".join(map(shlex.quote, paths)) + " 2>/dev/null")
        return "; ".join(parts) + "; true"

    def default(self):
        return HostState()

    def process(self, output):
        firewall, firewall_ok, sha256, unit, sysctl, lines = "none", True, {}, "", {}, {}
        for line in output:
            word, _, rest = line.partition(" ")
            if word == "firewall":
                firewall, _, status = rest.partition(" ")
                firewall_ok = status == "ok"
            elif word == "unit":
                unit = rest.strip()
            elif line.startswith(SYSCTL_DIR):  # grep's PATH:VALUE of a sysctl
                path, _, value = line.partition(":")
                sysctl[sysctl_key(path)] = value.strip()
            elif line.startswith("/"):  # grep's PATH:LINE of a file asked for
                path, _, text = line.partition(":")
                lines.setdefault(path, []).append(text)
            elif len(word) == 64 and rest.strip():
                sha256[rest.strip()] = word
        return HostState(firewall=firewall, firewall_ok=firewall_ok, sha256=sha256, unit=unit,
                         sysctl=sysctl, lines=lines)
