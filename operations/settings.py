"""Typed settings: one class per keepalived.conf block, as keepalived.conf(5) names them.

These classes only hold values. Turning host data into them, with every check, is done
in one place: `operations.validate`. Rendering them into files is `operations.render`.
"""

from dataclasses import dataclass, field

DEFAULT_BASE_DIR = "/etc/keepalived"
DEFAULT_SCRIPT_USER = "keepalived_script"


@dataclass(frozen=True)
class GlobalDefs:
    """`global_defs { ... }`. `options` holds the operator's extra keywords, in order."""

    script_user: str = DEFAULT_SCRIPT_USER
    enable_script_security: bool = True
    options: tuple = ()  # ((keyword, value), ...); value True renders the bare keyword


@dataclass(frozen=True)
class VrrpScript:
    """`vrrp_script NAME { ... }` plus the check script file it runs."""

    name: str  # file name in the scripts dir, e.g. check_ssh.sh
    vrrp_name: str  # the name instances track, e.g. check_ssh
    template: str
    path: str  # absolute path of the script on the host
    interval: float = 2
    weight: int | None = None  # None: keepalived's 0, a failing check means FAULT
    fall: int = 2
    rise: int = 2
    timeout: float | None = None
    user: str = DEFAULT_SCRIPT_USER
    template_vars: tuple = ()  # ((key, value), ...): the other keys, for the template
    content: str = ""  # the rendered script


@dataclass(frozen=True)
class VrrpInstance:
    """`vrrp_instance NAME { ... }`."""

    name: str
    interface: str
    virtual_router_id: int
    priority: int
    virtual_ipaddresses: tuple  # ("192.168.1.100/24", ...)
    state: str = "MASTER"
    advert_int: float = 1
    auth_type: str | None = None  # PASS or AH
    auth_pass: str | None = None
    track_scripts: tuple = ()  # vrrp_names of VrrpScript


@dataclass(frozen=True)
class Paths:
    base_dir: str = DEFAULT_BASE_DIR
    config_file: str = DEFAULT_BASE_DIR + "/keepalived.conf"
    config_dir: str = DEFAULT_BASE_DIR + "/conf.d"
    scripts_dir: str = DEFAULT_BASE_DIR + "/scripts"


@dataclass(frozen=True)
class HostLevel:
    """What the deploy does on the host around keepalived.conf (see operations.host_level)."""

    firewall: str = "auto"  # "auto": open VRRP in the firewall that is active; "on"; "off"
    nonlocal_bind: tuple = ()  # families whose ip_nonlocal_bind is set: ("ipv4", "ipv6")
    restart: str = "on-failure"  # systemd Restart= of keepalived.service
    restart_sec: float = 5  # systemd RestartSec=
    daemon_options: tuple | None = None  # keepalived's command line; None: packaged file kept


@dataclass(frozen=True)
class Settings:
    """Everything the deploy needs for one host."""

    host: str
    paths: Paths = field(default_factory=Paths)
    global_defs: GlobalDefs = field(default_factory=GlobalDefs)
    scripts: tuple = ()  # VrrpScript, ...
    instances: tuple = ()  # VrrpInstance, ...
    package_version: str | None = None
    host_level: HostLevel = field(default_factory=HostLevel)
