"""What one host needs from a run: its `HostPlan`, worked out once, before any operation.

The deploy (deploys.install) reads the host's probe (facts.probe) in one round trip, then
`plan_host` decides from the settings, the rendered config files and that probe
everything the host needs: each decision once, in one place, with no I/O and no
operation added (table-tested: tests/test_operations_table.py). The deploy adds an
operation only where its part of the plan says there is work, and gives it that part:

    plan = plan_host(settings, files, probe, manager)
    if plan.config:
        config_tree(name=..., files=files, paths=settings.paths, work=plan.tree, ...)

Only for what the probe tells; what an earlier operation of the same run changes is
asked when the later one runs (`_if`: a restart after a package upgrade).
"""

from dataclasses import dataclass

from ..facts.probe import HostProbe
from ..host_paths import SERVICE
from ..model.blocks import Settings
from ..render.config import ManagedFile
from .cluster_commit import agreement_changes
from .config_tree import TreeWork, tree_work
from .host_level_work import HostLevelWork, dump_conf_refusal
from .host_level_work import work as host_level_work
from .lvs import ipvs_refusal
from .rolling import LeftBehind, left_behind
from .system import SystemUser, package_wanted, start_steps

SCRIPT_USER_COMMENT = "Keepalived health check script user"


@dataclass(frozen=True)
class HostPlan:
    """What one host needs from this run (`plan_host`)."""
    # why the host must not take its config (LVS on a kernel without IPVS; the run stops
    # there on this host), or None
    ipvs_refusal: str | None
    # why the host must not take its config (its own options file dumps the config, which
    # holds a password: host_level_work.dump_conf_refusal; the run stops there), or None
    dump_conf_refusal: str | None
    leftovers: LeftBehind  # what an interrupted run left, for the leftovers step to undo
    stale_uploads: tuple[str, ...]  # upload dirs of broken-off runs, to remove
    package: bool  # keepalived is installed or changed (absent, or not the pinned version)
    ipvsadm: bool  # ipvsadm is installed (the config has LVS and the host has none)
    script_user: SystemUser | None  # the user check scripts run as, to create; None: exists
    tree: TreeWork  # what the config tree lacks (false: up to date)
    reload_pending: str | None  # an earlier run made files live and died before the reload
    agreement: tuple[str, ...]  # instances whose change goes live on all peers together
    start: tuple[str, ...]  # commands that enable and start keepalived (): it runs, enabled
    running: bool  # keepalived ran when probed (a restart or reload concerns it)
    restart_pending: bool  # an earlier run left a restart owed (operations.state_files)
    # the host level: firewall, sysctls, drop-in, needrestart, daemon options, DR real
    # server (operations.host_level_work; each part None when it has nothing to do)
    host_level: HostLevelWork

    @property
    def config(self) -> bool:
        """Whether the config step has work: the tree, or a pending reload."""
        return bool(self.tree) or self.reload_pending is not None


def script_user(settings: Settings) -> SystemUser:
    """useradd's arguments for the system user check scripts run as."""
    return SystemUser(settings.global_defs.script_user, SCRIPT_USER_COMMENT, "/nonexistent",
                      "/usr/sbin/nologin")


def plan_host(settings: Settings, files: dict[str, ManagedFile], probe: HostProbe,
              manager: str) -> HostPlan:
    """The HostPlan of a host with these validated `settings`, rendered config `files`
    ({path: ManagedFile}) and `probe` (its HostProbe), whose package manager is
    `manager` ("apt" or "dnf")."""
    package = package_wanted(probe, settings.package_version, manager)
    return HostPlan(
        ipvs_refusal=ipvs_refusal(settings.host, settings.ipvs_needed, probe.ipvs),
        dump_conf_refusal=dump_conf_refusal(settings, probe.host_state, manager),
        leftovers=left_behind(probe),
        stale_uploads=tuple(probe.stale_uploads),
        package=package,
        ipvsadm=probe.ipvsadm is False,
        script_user=script_user(settings) if probe.user is None else None,
        tree=tree_work(files, settings.paths, probe.tree),
        reload_pending=probe.reload_pending,
        agreement=tuple(agreement_changes(settings, files, probe.tree)),
        start=start_steps(SERVICE, probe),
        running=probe.service_active,
        restart_pending=probe.restart_pending is not None,
        # (the package step, when it runs, reloads systemd's units after the install)
        host_level=host_level_work(settings, probe.host_state, manager,
                                   active=probe.service_active, daemon_reload=not package,
                                   reload_needed=probe.unit_reload_needed),
    )
