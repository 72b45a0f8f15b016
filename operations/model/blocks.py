"""Typed settings: one class per keepalived.conf block, as keepalived.conf(5) names them.

These classes only hold values. Turning host data into them, with every check, is done
in one place: `model.validate`, keys as `model.keys` declares them. Rendering them into
files is `render`'s.
"""

from dataclasses import dataclass, field

from .shared_keys import SharedKeys

DEFAULT_BASE_DIR = "/etc/keepalived"
DEFAULT_SCRIPT_USER = "keepalived_script"


@dataclass(frozen=True)
class GlobalDefs:
    """`global_defs { ... }`. `options` holds the operator's extra keywords, in order."""

    script_user: str = DEFAULT_SCRIPT_USER
    enable_script_security: bool = True
    options: tuple[tuple[str, object], ...] = ()  # (keyword, value); True: the bare keyword
    extra_lines: tuple[str, ...] = ()  # raw lines, not validated (keepalived -t checks them)

    @property
    def vrrp_version(self):
        return dict(self.options).get("vrrp_version", 2)


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
    template_vars: tuple[tuple[str, object], ...] = ()  # the other keys, for the template
    extra_lines: tuple[str, ...] = ()  # raw lines, not validated (keepalived -t checks them)

    def template_variables(self):
        """What the script's template sees: its own keys, and the vars given for it."""
        fields = {key: value for key, value in self.__dict__.items()
                  if key not in ("template_vars", "extra_lines")}
        return {**fields, **{k: v for k, v in self.template_vars if v is not None}}


@dataclass(frozen=True)
class NotifyScript:
    """A notify script file in the scripts dir, named by instances' notify_* keys."""

    name: str  # file name in the scripts dir, e.g. record_state.sh
    path: str  # absolute path of the script on the host
    template: str | None = None  # rendered by render.config.script_content
    content: str | None = None  # the script's text, when given instead of a template
    template_vars: tuple[tuple[str, object], ...] = ()  # for the template

    def template_variables(self):
        """What the script's template sees: its name and path, and the vars given for it."""
        return {"name": self.name, "path": self.path, **dict(self.template_vars)}


@dataclass(frozen=True, order=True)
class VirtualIp:
    """One line of `virtual_ipaddress { }` (or `virtual_ipaddress_excluded { }`)."""

    address: str  # "192.168.1.100/24", as written (no prefix: keepalived's default)
    dev: str | None = None
    label: str | None = None
    scope: str | None = None

    def __str__(self):
        options = [f"{key} {getattr(self, key)}" for key in ("dev", "label", "scope")
                   if getattr(self, key) is not None]
        return " ".join([self.address, *options])


@dataclass(frozen=True)
class VirtualRoute:
    """One line of `virtual_routes { }`."""

    to: str  # "192.168.2.0/24" or "default"
    dev: str  # defaults to the instance's interface (keepalived tracks no route without)
    via: str | None = None
    src: str | None = None
    metric: int | None = None
    table: str | None = None
    scope: str | None = None

    def __str__(self):
        options = [f"{key} {getattr(self, key)}" for key in
                   ("src", "via", "dev", "scope", "table", "metric")
                   if getattr(self, key) is not None]
        return " ".join([self.to, *options])


@dataclass(frozen=True)
class TrackInterface:
    """One line of `track_interface { }`."""

    interface: str
    weight: int | None = None  # None: a down interface puts the instance in FAULT

    def __str__(self):
        return self.interface if self.weight is None else f"{self.interface} weight {self.weight}"


@dataclass(frozen=True)
class VrrpInstance:
    """`vrrp_instance NAME { ... }`."""

    name: str
    interface: str
    virtual_router_id: int
    priority: int
    virtual_ipaddresses: tuple[VirtualIp, ...]
    state: str = "MASTER"
    advert_int: float = 1
    auth_type: str | None = None  # PASS or AH
    auth_pass: str | None = field(default=None, repr=False)  # a secret: not in repr()
    track_scripts: tuple[str, ...] = ()  # vrrp_names of VrrpScript
    version: int | None = None  # VRRP version set on the instance (None: global_defs' / 2)
    effective_version: int = 2  # what keepalived uses: version, vrrp_version, 3 for IPv6
    native_ipv6: bool = False
    nopreempt: bool = False
    preempt_delay: float | None = None
    garp_master_delay: int | None = None
    garp_master_refresh: int | None = None
    unicast_src_ip: str | None = None
    unicast_peers: tuple[str, ...] | None = None  # peer addresses; None: multicast
    # unicast_peers "inventory": peers.derive_unicast_peers fills unicast_peers in
    peers_from_inventory: bool = False
    track_interfaces: tuple[TrackInterface, ...] = ()
    virtual_ipaddresses_excluded: tuple[VirtualIp, ...] = ()
    virtual_routes: tuple[VirtualRoute, ...] = ()
    notify: tuple[tuple[str, str], ...] = ()  # e.g. ("notify_master", "/etc/.../s.sh MASTER")
    extra_lines: tuple[str, ...] = ()  # raw lines, not validated (keepalived -t checks them)

    @property
    def family(self):
        """4 or 6: the address family of the VIPs, and of the VRRP adverts."""
        return 6 if ":" in self.virtual_ipaddresses[0].address else 4


@dataclass(frozen=True)
class SyncGroup:
    """`vrrp_sync_group NAME { group { ... } }`: instances that change state together."""

    name: str
    instances: tuple[str, ...]  # instance names


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
    nonlocal_bind: tuple[str, ...] = ()  # families whose ip_nonlocal_bind is set: ipv4, ipv6
    restart: str = "on-failure"  # systemd Restart= of keepalived.service
    restart_sec: float = 5  # systemd RestartSec=
    daemon_options: tuple[str, ...] | None = None  # keepalived's options; None: packaged kept
    lock_wait: int = 120  # seconds to wait for another run's lock on the host (0-3600)


@dataclass(frozen=True)
class Settings:
    """Everything the deploy needs for one host."""

    host: str
    paths: Paths = field(default_factory=Paths)
    global_defs: GlobalDefs = field(default_factory=GlobalDefs)
    scripts: tuple[VrrpScript, ...] = ()
    instances: tuple[VrrpInstance, ...] = ()
    notify_scripts: tuple[NotifyScript, ...] = ()
    sync_groups: tuple[SyncGroup, ...] = ()
    package_version: str | None = None
    package_proxy: str | None = None  # HTTP proxy for the package manager, e.g. an apt cache
    host_level: HostLevel = field(default_factory=HostLevel)
    # with keepalived_ssh_host_keys "shared"; None: per-host
    ssh_host_keys: SharedKeys | None = field(default=None, repr=False)
    ssh_port: int = 22  # keepalived_ssh_port: SSH clients' port through the VIPs
