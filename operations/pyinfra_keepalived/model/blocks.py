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
    HostData,
    NotifyScript,
    SyncGroup,
    VrrpInstance,
    VrrpScript,
    in_base_dir,
)
from .lvs import Lvs, raw_lvs
from .shared_keys import SharedKeys
from .static import StaticBlocks


def _default_path(key):
    return in_base_dir(HostData.default(key), BASE_DIR)


@dataclass(frozen=True)
class Paths:
    """The directories and main file (defaults: HostData's)."""

    base_dir: str = BASE_DIR
    config_file: str = _default_path("keepalived_config_file")
    config_dir: str = _default_path("keepalived_config_dir")
    scripts_dir: str = _default_path("keepalived_check_scripts_dir")

    @property
    def include_dir(self):
        """The operator's config files (keepalived_include_files): inside conf.d, so they
        are part of the same generation as the rest."""
        return f"{self.config_dir}/include"


FIREWALL_MODES = {"auto": "auto", True: "on", False: "off"}  # keepalived_firewall -> mode
NONLOCAL_FAMILIES = ("ipv4", "ipv6")  # keepalived_nonlocal_bind true: both


def nonlocal_families(value):
    """The families of keepalived_nonlocal_bind (true, false or a list), each once, in
    NONLOCAL_FAMILIES' order."""
    if isinstance(value, bool):
        return NONLOCAL_FAMILIES if value else ()
    return tuple(family for family in NONLOCAL_FAMILIES if family in value)


@dataclass(frozen=True)
class HostLevel:
    """What the deploy does on the host around keepalived.conf (see operations.host_level).
    Defaults: HostData's."""

    # "auto": open VRRP in the firewall that is active; "on"; "off"
    firewall: str = FIREWALL_MODES[HostData.default("keepalived_firewall")]
    # families whose ip_nonlocal_bind is set: ipv4, ipv6
    nonlocal_bind: tuple[str, ...] = nonlocal_families(HostData.default("keepalived_nonlocal_bind"))
    restart: str = HostData.default("keepalived_systemd_restart")  # systemd Restart=
    restart_sec: float = HostData.default("keepalived_systemd_restart_sec")  # RestartSec=
    # keepalived's options; None: packaged kept
    daemon_options: tuple[str, ...] | None = HostData.default("keepalived_daemon_options")
    # seconds to wait for another run's lock on the host
    lock_wait: int = HostData.default("keepalived_lock_wait")
    # after a change, wait for one MASTER per touched instance
    verify: bool = HostData.default("keepalived_verify")
    # seconds beyond Master_Down_Interval the verification waits
    verify_wait: float = HostData.default("keepalived_verify_wait")
    # an agreement change may go live although a peer is not in the run (split brain risk)
    commit_without_peers: bool = HostData.default("keepalived_commit_without_peers")

    @classmethod
    def of(cls, data):
        """The host level of `data` (HostData, validated)."""
        return cls(
            firewall=FIREWALL_MODES[data.keepalived_firewall],
            nonlocal_bind=nonlocal_families(data.keepalived_nonlocal_bind),
            restart=data.keepalived_systemd_restart,
            restart_sec=data.keepalived_systemd_restart_sec,
            daemon_options=data.keepalived_daemon_options,
            lock_wait=data.keepalived_lock_wait,
            verify=data.keepalived_verify,
            verify_wait=data.keepalived_verify_wait,
            commit_without_peers=data.keepalived_commit_without_peers,
        )


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
    track_files: tuple = ()  # tracking_blocks.TrackFile: keepalived_track_files
    track_processes: tuple = ()  # tracking_blocks.TrackProcess: keepalived_track_processes
    include_files: tuple = ()  # keepalived_include_files: (model.includes.OperatorFile, ...)
    lvs: Lvs = field(default_factory=Lvs)  # virtual servers, ... (model.lvs)
    static: StaticBlocks = field(default_factory=StaticBlocks)  # static_ipaddress, ...
    # keepalived_lvs_real_server, and the DR virtual addresses derived for it (model.lvs_dr)
    lvs_real_server: str | None = None
    dr_vips: tuple = ()
    bfd_instances: tuple = ()  # model.bfd.BfdInstance: keepalived_bfd_instances

    @property
    def real_server_only(self):
        """A DR real server and nothing else (no instance, no LVS of its own, typed or in
        the operator's files): the deploy runs no keepalived here."""
        return self.lvs_real_server is not None and not self.instances and \
            not self.ipvs_needed and not self.include_files

    @property
    def ipvs_needed(self):
        """keepalived needs IPVS in the host's kernel for this config: it has typed LVS
        blocks, or LVS of the operator's own (global_defs' extra_lines, an include file),
        which takes the whole daemon down on a kernel without IPVS just the same."""
        return (self.lvs.used or raw_lvs(self.global_defs.extra_lines)
                or any(raw_lvs(file.statements) for file in self.include_files))
