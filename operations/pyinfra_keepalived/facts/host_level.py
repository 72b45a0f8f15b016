"""The one pyinfra fact the host-level operations read (operations.host_level, .firewall),
and the files and firewall state it reads.

Everything those operations compare against comes back in a single round trip per host,
so that a run that changes nothing stays fast.
"""

import re
import shlex
from dataclasses import dataclass, field

from pyinfra.api import FactBase

from ..host_paths import (
    DR_SYSCTL_FILE,
    DR_UNIT,
    DROPIN,
    FIREWALL_COMMAND,
    NEEDRESTART_CONF,
    OPTIONS_FILES,
    SYSCTL_FILE,
    VMAC_SYSCTL_FILE,
)
from ..render.host_level import NONLOCAL_BIND
from ..shipped import shell_script, with_variables

# The firewall script (pyinfra_keepalived/operations/vrrp_firewall.sh: operations.firewall runs its `add`,
# `prune` and `remove`, this fact its `status`; a copy is installed as FIREWALL_COMMAND).
FIREWALL_SCRIPT = shell_script("operations/vrrp_firewall.sh")
# One argument of the firewall script after its action: a protocol number, or a peer
# "FAMILY,INTERFACE,SOURCE,DESTINATION" (as vrrp_firewall.sh checks them)
RULE_ARGUMENT_RE = re.compile(r"[0-9]+|[46],[A-Za-z0-9_.@-]*,[0-9a-f.:]*,[0-9a-f.:]*")


# True where the firewall script's `status` could find a firewall: firewall-cmd or iptables
# on PATH, or nft with a chain on the input hook (what the script looks for, in a superset:
# iptables-nft's INPUT counts here). Only builtins unless nft is the one tool there (then
# one `nft list chains`).
FIREWALL_FOUND = (
    "command -v firewall-cmd >/dev/null 2>&1 || command -v iptables >/dev/null 2>&1 || "
    "{ command -v nft >/dev/null 2>&1 && "
    "case $(nft list chains 2>/dev/null) in *'hook input'*) ;; *) false ;; esac; }"
)


def status_command(rules):
    """The shell text of the firewall script's `status` for `rules` (render.firewall.firewall_rules):
    prints "BACKEND ok|missing|stale|missing+stale". The script (a shell of its own, about 6 ms of a
    host's CPU on every probe) runs only where FIREWALL_FOUND: elsewhere its answer is
    "none ok", printed without it."""
    status = " ".join(["sh", "-c", shlex.quote(FIREWALL_SCRIPT), "vrrp-firewall", "status",
                       *map(shlex.quote, rules)])
    if not all(RULE_ARGUMENT_RE.fullmatch(rule) for rule in rules):
        return status  # (the script's own refusal, as it words it)
    return f"if {FIREWALL_FOUND}; then {status}; else echo 'none ok'; fi"


# The lines of keepalived's options files (host_paths.OPTIONS_FILES) that set its options
# (DAEMON_ARGS=..., KEEPALIVED_OPTIONS=...: model.host_level.option_words reads them), as
# grep -E reads it
OPTIONS_ASSIGNMENT = (r"^[[:space:]]*(export[[:space:]]+)?("
                      + "|".join(variable for _, variable in OPTIONS_FILES.values())
                      + r")[[:space:]]*=")


def state_arguments(rules, options_paths=()):
    """The arguments of KeepalivedHostLevel for the host-level operations: firewall status
    for `rules` (firewall_rules), and the files they manage; of the options files
    (`options_paths`), also the lines that set keepalived's options. (The probe reads it
    with everything else.)"""
    return {"firewall_status": status_command(rules) if rules else "",
            "files": [FIREWALL_COMMAND, DROPIN, SYSCTL_FILE, NEEDRESTART_CONF, VMAC_SYSCTL_FILE,
                      DR_SYSCTL_FILE, DR_UNIT, *options_paths],
            "read": [SYSCTL_FILE, DR_UNIT], "sysctls": list(NONLOCAL_BIND.values()),
            "lo": True, "assigned": list(options_paths)}


@dataclass(frozen=True)
class HostLevelState:
    firewall: str = "none"  # the active firewall: firewalld, iptables, nftables or none
    firewall_ok: bool = True  # it holds exactly the rules of ours asked for
    firewall_missing: bool = False  # some rule asked for is not there
    firewall_stale: bool = False  # other rules of ours are there too (a former peer's)
    sha256: dict = field(default_factory=dict)  # {path: digest} of the files that exist
    unit: str = ""  # `systemctl is-enabled keepalived.service`: enabled, masked, ...
    sysctl: dict = field(default_factory=dict)  # {key: running value}
    lines: dict = field(default_factory=dict)  # {path: [lines]} of the files asked to read
    lo: tuple = ()  # lo's addresses (ADDRESS/PREFIX), when asked for


SYSCTL_DIR = "/proc/sys/"


def sysctl_path(key):
    """net.ipv4.ip_nonlocal_bind -> /proc/sys/net/ipv4/ip_nonlocal_bind"""
    return SYSCTL_DIR + key.replace(".", "/")


def sysctl_key(path):
    """The inverse of sysctl_path (for keys whose parts hold no dot, as those asked here)."""
    return path[len(SYSCTL_DIR):].replace("/", ".")


def digest_path(line):
    """The path of a line of sha256sum's ("SHA256  PATH"); None for a line of another kind
    (a tree entry, a link, a salted digest of the probe: "|" splits their fields)."""
    sha256, _, path = line.partition(" ")
    return path.strip() if "|" not in line and len(sha256) == 64 and path.strip() else None


class KeepalivedHostLevel(FactBase[HostLevelState]):
    """
    Firewall, files, unit state and sysctl values around keepalived, in one round trip.

    + firewall_status: the shell command that prints "BACKEND ok|missing|stale|missing+stale"
      (``status_command(rules)``), or ``""`` to skip the firewall probe
    + files: paths whose sha256 is wanted (missing files are left out)
    + read: absolute paths (without ':') whose lines are wanted (small files only)
    + assigned: absolute paths (without ':') of which only the lines that set keepalived's
      options are wanted (``OPTIONS_ASSIGNMENT``: the options files)
    + sysctls: keys whose running value is wanted
    + unit: also read ``systemctl is-enabled keepalived.service``
    + lo: also read lo's addresses

    .. code:: python

        host.get_fact(KeepalivedHostLevel, firewall_status=status_command(("112", "4,eth0,,224.0.0.18")),
                      files=["/etc/default/keepalived"], read=[],
                      sysctls=["net.ipv4.ip_nonlocal_bind"])
    """

    def command(self, firewall_status, files, read, sysctls, unit=True, lo=False,
                assigned=()):
        paths = [*read, *map(sysctl_path, sysctls)]
        for path in (*paths, *assigned):
            if not path.startswith("/") or ":" in path:
                raise ValueError(f"{path!r}: an absolute path without ':' is needed here")
        # (pyinfra_keepalived.facts.probe reads the unit state itself, with the service's: unit=False)
        return with_variables(shell_script("facts/host_level.sh"),
                              firewall_status=firewall_status,
                              hashed=" ".join(map(shlex.quote, files)),
                              unit="yes" if unit else "no", lo="yes" if lo else "no",
                              grepped=" ".join(map(shlex.quote, paths)),
                              assigned=" ".join(map(shlex.quote, assigned)),
                              assignment=OPTIONS_ASSIGNMENT)

    def default(self):
        return HostLevelState()

    def process(self, output):
        firewall, status, sha256, unit, sysctl, lines, lo = "none", "ok", {}, "", {}, {}, ()
        for line in output:
            word, _, rest = line.partition(" ")
            if word == "firewall":
                firewall, _, status = rest.partition(" ")
            elif word == "unit":
                unit = rest.strip()
            elif word == "lo":  # "lo STATE ADDRESS/PREFIX ..."
                lo = tuple(rest.split()[1:])
            elif line.startswith(SYSCTL_DIR):  # grep's PATH:VALUE of a sysctl
                path, _, value = line.partition(":")
                sysctl[sysctl_key(path)] = value.strip()
            elif line.startswith("/"):  # grep's PATH:LINE of a file asked for
                path, _, text = line.partition(":")
                lines.setdefault(path, []).append(text)
            elif path := digest_path(line):
                sha256[path] = word
        return HostLevelState(firewall=firewall, firewall_ok=status == "ok",
                              firewall_missing=status not in ("ok", "stale"),
                              firewall_stale="stale" in status.split("+"), sha256=sha256,
                              unit=unit, sysctl=sysctl, lines=lines, lo=lo)
