"""What `validate` returns for a host: its Settings, holding the validated keepalived
blocks (`model.keys`: one class per block, declared once) and the host's own settings
(paths, host level) that are no keepalived block.

These classes only hold values. Turning host data into them, with every check, is done
in one place: `model.validate`. Rendering them into files is `render`'s.
"""

from dataclasses import dataclass, field

from .keys import (
    BASE_DIR,
    SCRIPT_USER,
    GlobalDefs,
    NotifyScript,
    SyncGroup,
    VrrpInstance,
    VrrpScript,
)
from .shared_keys import SharedKeys


@dataclass(frozen=True)
class Paths:
    base_dir: str = BASE_DIR
    config_file: str = BASE_DIR + "/keepalived.conf"
    config_dir: str = BASE_DIR + "/conf.d"
    scripts_dir: str = BASE_DIR + "/scripts"


@dataclass(frozen=True)
class HostLevel:
    """What the deploy does on the host around keepalived.conf (see operations.host_level)."""

    firewall: str = "auto"  # "auto": open VRRP in the firewall that is active; "on"; "off"
    nonlocal_bind: tuple[str, ...] = ()  # families whose ip_nonlocal_bind is set: ipv4, ipv6
    restart: str = "on-failure"  # systemd Restart= of keepalived.service
    restart_sec: float = 5  # systemd RestartSec=
    daemon_options: tuple[str, ...] | None = None  # keepalived's options; None: packaged kept
    lock_wait: int = 120  # seconds to wait for another run's lock on the host (0-3600)
    verify: bool = True  # after a change, wait for one MASTER per touched instance
    verify_wait: float = 10  # seconds beyond Master_Down_Interval the verification waits
    # an agreement change may go live although a peer is not in the run (split brain risk)
    commit_without_peers: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the deploy needs for one host."""

    host: str
    paths: Paths = field(default_factory=Paths)
    global_defs: GlobalDefs = field(default_factory=lambda: GlobalDefs(script_user=SCRIPT_USER))
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
