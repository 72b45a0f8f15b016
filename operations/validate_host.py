"""Host-level data (firewall, sysctl, systemd drop-in, daemon options) -> HostLevel.

Called by `validate.read_host`; the same rules as there: errors name the key, the value
and what is allowed.
"""

import re

from .problems import did_you_mean
from .settings import HostLevel

# Host data keys of this module and their defaults (registered in validate.DATA_KEYS).
DATA_KEYS = {
    "keepalived_firewall": "auto",  # auto | true | false
    "keepalived_nonlocal_bind": False,  # false | true | [ipv4, ipv6]
    "keepalived_systemd_restart": "on-failure",  # Restart= of keepalived.service
    "keepalived_systemd_restart_sec": 5,  # RestartSec=
    "keepalived_daemon_options": None,  # [--log-detail, ...]; None keeps the packaged file
    "keepalived_lock_wait": 120,  # seconds a run waits for another run's host lock
}

FIREWALL = {"auto": "auto", True: "on", False: "off"}
FAMILIES = ("ipv4", "ipv6")
RESTART = ("no", "on-failure", "on-abnormal", "always")

# keepalived 2.2 command-line options (long form) an operator may set, and whether each
# takes a value (--log-facility=local0).
DAEMON_OPTIONS = {
    "--vrrp": False, "--check": False, "--no_bfd": False, "--all": False,
    "--log-console": False, "--log-detail": False, "--log-facility": True,
    "--no-syslog": False, "--umask": True, "--release-vips": False,
    "--dont-release-vrrp": False, "--dont-release-ipvs": False, "--dont-respawn": False,
    "--dump-conf": False, "--address-monitoring": False, "--snmp": False,
    "--snmp-agent-socket": True, "--core-dump": False, "--core-dump-pattern": True,
    "--config-id": True, "--namespace": True,
}
# Options the deploy or the service unit owns, with the reason they are refused.
REFUSED_OPTIONS = {
    "--use-file": "the deploy validates and promotes keepalived_config_file; set that instead",
    "--dont-fork": "the packaged unit decides it (Debian's passes it already)",
    "--pid": "the packaged unit expects the default pid files",
    "--vrrp_pid": "the packaged unit expects the default pid files",
    "--checkers_pid": "the packaged unit expects the default pid files",
    "--bfd_pid": "the packaged unit expects the default pid files",
    "--config-test": "not a daemon option: the deploy runs keepalived -t itself",
    "--genhash": "not a daemon option", "--signum": "not a daemon option",
    "--version": "not a daemon option", "--help": "not a daemon option",
    "--all-config": "the deploy's keepalived -t gate already checks every included file",
}
SHORT_OPTIONS = {
    "-P": "--vrrp", "-C": "--check", "-B": "--no_bfd", "-l": "--log-console",
    "-D": "--log-detail", "-S": "--log-facility", "-G": "--no-syslog", "-u": "--umask",
    "-X": "--release-vips", "-V": "--dont-release-vrrp", "-I": "--dont-release-ipvs",
    "-R": "--dont-respawn", "-d": "--dump-conf", "-a": "--address-monitoring",
    "-x": "--snmp", "-A": "--snmp-agent-socket", "-m": "--core-dump",
    "-M": "--core-dump-pattern", "-i": "--config-id", "-s": "--namespace",
    "-f": "--use-file", "-n": "--dont-fork", "-p": "--pid", "-r": "--vrrp_pid",
    "-c": "--checkers_pid", "-b": "--bfd_pid", "-t": "--config-test", "-T": "--genhash",
    "-v": "--version", "-h": "--help", "-e": "--all-config",
}
OPTION_VALUE_RE = re.compile(r"[A-Za-z0-9_./:%@+-]+")  # used with fullmatch


def read_firewall(problems, value):
    if isinstance(value, (bool, str)) and value in FIREWALL:
        return FIREWALL[value]
    problems.error("keepalived_firewall", value, "must be auto (open VRRP when a firewall is "
                   "active), true (always manage it) or false (leave the firewall alone)")
    return None


def read_nonlocal_bind(problems, value):
    from .validate import read_list

    if isinstance(value, bool):
        return FAMILIES if value else ()
    families = []
    for i, family in enumerate(read_list(problems, "keepalived_nonlocal_bind", value)):
        if family not in FAMILIES:
            problems.error(f"keepalived_nonlocal_bind[{i}]", family,
                           f"must be one of {', '.join(FAMILIES)}{did_you_mean(family, FAMILIES)}")
        elif family not in families:
            families.append(family)
    return tuple(f for f in FAMILIES if f in families)


def read_option(problems, key, option):
    """One keepalived command-line option, in long form, or None after an error."""
    if not isinstance(option, str):
        problems.error(key, option, "must be a keepalived option, e.g. --log-detail")
        return None
    name, equals, value = option.partition("=")
    if name in SHORT_OPTIONS:
        problems.error(key, option, f"write the long form {SHORT_OPTIONS[name]} "
                       "(the options file is easier to read that way)")
        return None
    if name in REFUSED_OPTIONS:
        problems.error(key, option, f"not allowed: {REFUSED_OPTIONS[name]}")
        return None
    if name not in DAEMON_OPTIONS:
        problems.error(key, option, f"unknown keepalived option{did_you_mean(name, DAEMON_OPTIONS)}"
                       f"; allowed: {', '.join(DAEMON_OPTIONS)}")
        return None
    if DAEMON_OPTIONS[name] and not (equals and OPTION_VALUE_RE.fullmatch(value)):
        problems.error(key, option, f"{name} takes a value without spaces or quotes: "
                       f"{name}=VALUE")
        return None
    if not DAEMON_OPTIONS[name] and equals:
        problems.error(key, option, f"{name} takes no value")
        return None
    return option


def read_daemon_options(problems, value):
    from .validate import read_list

    if value is None:
        return None
    options = [read_option(problems, f"keepalived_daemon_options[{i}]", option)
               for i, option in enumerate(read_list(problems, "keepalived_daemon_options",
                                                    value))]
    names = [option.partition("=")[0] for option in options if option]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.error("keepalived_daemon_options", value, f"lists {name} twice")
    return tuple(options) if None not in options else None


def read_host_level(problems, data):
    """HostLevel from the host's data (defaults from DATA_KEYS)."""
    from .validate import read_choice, read_int, read_seconds

    def get(key):
        return data.get(key, DATA_KEYS[key])

    restart = get("keepalived_systemd_restart")
    if restart is False:  # YAML reads a bare `no` as false
        restart = "no"
    restart = read_choice(problems, "keepalived_systemd_restart", restart, RESTART)
    restart_sec = read_seconds(problems, "keepalived_systemd_restart_sec",
                               get("keepalived_systemd_restart_sec"), 0.001, 3600, 3)
    return HostLevel(
        firewall=read_firewall(problems, get("keepalived_firewall")),
        nonlocal_bind=read_nonlocal_bind(problems, get("keepalived_nonlocal_bind")),
        restart=restart,
        restart_sec=restart_sec,
        daemon_options=read_daemon_options(problems, get("keepalived_daemon_options")),
        lock_wait=read_int(problems, "keepalived_lock_wait", get("keepalived_lock_wait"),
                           0, 3600),
    )
