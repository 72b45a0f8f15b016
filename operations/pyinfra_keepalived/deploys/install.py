"""The keepalived deploys: what `deploy.py` runs on each host, in order.

    from pyinfra_keepalived import keepalived
    keepalived()

All host data is validated (every host, and across hosts) before the first operation is
added, so bad data stops the run before any host is touched.
"""

import sys

from pyinfra import host, state
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError

from ..facts.probe import read_probe
from ..facts.programs import usable_programs
from ..host_paths import APT_CACHE_SECONDS, SERVICE
from ..model.keys import data_defaults
from ..operations import host_level, host_level_work, rolling, shared_keys
from ..operations.cluster_commit import (
    agreement_changes,
    commit_together,
    nothing_to_change,
)
from ..operations.config_tree import config_tree, tree_work
from ..operations.lvs import IPVSADM, ipvs_present, ipvs_refusal, ipvsadm_package
from ..operations.needed import if_needed
from ..operations.system import (
    keepalived_package,
    package_manager,
    package_wanted,
    service_running,
    start_steps,
    system_user,
)
from ..operations.uploads import stale_uploads_absent
from ..render import config as render
from ..render.script_data import check_inventory
from . import verify

SCRIPT_USER_COMMENT = "Keepalived health check script user"


def script_user_arguments(settings):
    """useradd's arguments for the system user check scripts run as."""
    return {"user": settings.global_defs.script_user, "comment": SCRIPT_USER_COMMENT,
            "home": "/nonexistent", "shell": "/usr/sbin/nologin"}


def script_user(settings, probe):
    """The system user check scripts run as. It must exist before keepalived loads a
    config that names it: with enable_script_security keepalived drops every script.
    (Where the package step runs, it creates the user in its own command: `package`.)"""
    if_needed(system_user, f"Create the {settings.global_defs.script_user} system user",
              probe=probe, **script_user_arguments(settings))


def package(settings, manager, probe, bare=False, also=()):
    """Install keepalived from the distro; in the same command, on a host that lacks
    them, create the script user and reload systemd's units (a command fewer for each:
    each costs every host a round trip). `bare`: the package command alone (the bench's
    package floor, bench/only_package.py); `also`: other packages for the same command.
    Returns the operation (did_change: restart)."""
    user = None if bare else script_user_arguments(settings)
    return if_needed(
        keepalived_package,
        f"Install keepalived ({manager})"
        + (f", create the {user['user']} system user" if user and probe.user is None else ""),
        manager=manager, version=settings.package_version, probe=probe,
        cache_seconds=APT_CACHE_SECONDS, proxy=settings.package_proxy,
        lock_wait=settings.host_level.lock_wait, script_user=user, unit_reload=not bare,
        also=also,
    )


def config_work(settings, files, probe):
    """Whether the config step has work: the tree is not up to date, or a reload is
    pending (decided here, not by has_work: that would print the diff twice)."""
    return any(tree_work(files, settings.paths, probe.tree)) or probe.reload_pending is not None


def config(settings, files, probe, start=()):
    """Directories, check scripts and config files (`files`), validated before they go
    live, and keepalived reloaded in the same locked step (pyinfra_keepalived/operations/transaction.sh);
    `start`: the commands that enable and start keepalived where it is not, run right
    after in the same command (system.start_steps). Only called with `config_work`.
    A change the peers of an instance must agree on (VIPs, auth, VRID, ...) goes live on
    all of them together instead, in two steps (operations.cluster_commit)."""
    name = "Validate and install the keepalived config" + (
        (", enable keepalived" if probe.service_active else ", start keepalived")
        if start else "")
    changed = agreement_changes(settings, files, probe.tree, probe.service_active)
    if changed:  # (the two steps come before the one-command step: a peer that starts
        # keepalived there starts it once the running hosts have committed)
        return commit_together(settings, files, changed, check_inventory(state.inventory),
                               then=start, tree=probe.tree)
    return config_tree(
        name=name,
        files=files,
        paths=settings.paths,
        tree=probe.tree,
        reload_pending=probe.reload_pending,
        lock_wait=settings.host_level.lock_wait,
        then=start,
    )


def service(settings, installed, options, probe, started=False):
    """Keep keepalived enabled and running (`started`: the config step's command did
    that); restart it, one host at a time (a rolling restart, operations.rolling), when
    the package or its daemon options (`options`, read only at start; None when not
    managed) changed in this run, or a restart is still pending from an earlier one. A
    config change never restarts: the config transaction reloads (SIGHUP, keeps VIPs).
    Returns the steps it added (OperationMeta: the start, the restarts)."""
    def restart_needed():
        return (probe.restart_pending is not None or installed.did_change()
                or (options is not None and options.did_change()))

    steps = []
    if not started:
        steps.append(if_needed(service_running, "Enable and start keepalived",
                               service=SERVICE, probe=probe))
    # A restart or reload only when keepalived was running when probed (started in this
    # run, it loads the new config and options anyway), and only added when this run may
    # change what it reacts to: a run with nothing to change adds no operation here (each
    # operation costs pyinfra a few milliseconds per host, on every run).
    if not probe.service_active:
        return steps
    if (probe.restart_pending is not None or installed.will_change
            or (options is not None and options.will_change)):
        everyone = check_inventory(state.inventory)
        steps += rolling.restart(settings, [peer for name, peer in everyone.items()
                                            if name != host.name], restart_needed)
    return steps


def refuse_unsafe_modes():
    """pyinfra's --serial runs every operation of one host before the next host (a host
    reloads a config its peers do not have yet; a holder hands over to a peer that has not
    run its steps), and --no-wait runs each host's operations without waiting for the
    others and ignores `_serial` (peers restart together): both are refused, before any
    host is touched."""
    # (the pyinfra CLI keeps them to itself; the deploy file runs in a greenlet, out of
    # reach of click's context: its command line tells)
    for name in ("--serial", "--no-wait"):
        if name in sys.argv[1:]:
            raise DeployError(f"{name} is refused: this deploy relies on pyinfra running each "
                              "operation on every host before the next (reloads, one-at-a-"
                              f"time restarts); run it without {name}")


@deploy("Keepalived", data_defaults=data_defaults())
def keepalived():
    """Everything, in order: host level (firewall, sysctl, systemd drop-in), package and
    script user, daemon options, config (validated), service, shared SSH host keys
    (opt-in), then the check that every instance the run changed has settled
    (deploys.verify). What each step compares against is read from the host once,
    before the first step. (The steps are plain functions, not nested deploys: each deploy call
    costs pyinfra about a third of a millisecond per host.)"""
    refuse_unsafe_modes()
    settings = check_inventory(state.inventory)[host.name]  # (its scripts rendered too)
    if settings.real_server_only:  # an LVS-DR real server, no director: no keepalived
        host_level.real_server(host_level_work.work(settings, host_level.read_host_state(())))
        return
    files = render.config_files(settings)
    probe = read_probe(settings, files)
    # the programs of check and notify commands: usable on the host, or the run stops here
    programs = usable_programs(settings, probe.programs)
    if programs:  # (named without a path: rendered as the host resolved them)
        files = render.config_files(settings, programs)
    manager = package_manager(probe.os_release)
    if ipvs_refusal(host.name, settings.ipvs_needed, probe.ipvs):  # first: nothing changes
        # (it records no plan: the peers of a change they must agree on do not commit it)
        ipvs_present(name="Check that the kernel has IPVS (the config has LVS)",
                     lvs_used=settings.ipvs_needed, probe=probe)
        return
    rolling.clear_leftovers(probe, settings.host_level.lock_wait)
    if probe.stale_uploads:  # (no operation at all on a host without any)
        stale_uploads_absent(name="Remove upload directories of broken-off runs",
                             directories=probe.stale_uploads)
    installing = package_wanted(probe, settings.package_version, manager)
    # (the package step, when it runs, reloads systemd's units after the install)
    host_work = host_level_work.work(settings, probe.host_state, manager,
                                     active=probe.service_active,
                                     daemon_reload=not installing,
                                     reload_needed=probe.unit_reload_needed)
    host_level.prepare(host_work)
    # ipvsadm where the host has LVS and lacks it: in the keepalived install's command
    # when that runs (a round trip fewer), else on its own
    lvs_tools = (IPVSADM,) if probe.ipvsadm is False else ()
    installed = package(settings, manager, probe, also=lvs_tools if installing else ())
    if lvs_tools and not installing:
        ipvsadm_package(name="Install ipvsadm (the config has LVS)", manager=manager,
                        probe=probe, proxy=settings.package_proxy,
                        lock_wait=settings.host_level.lock_wait)
    if not installing:
        script_user(settings, probe)
    options = host_level.options(host_work, settings.host_level.lock_wait)
    start = start_steps(SERVICE, probe)
    configuring = config_work(settings, files, probe)
    configured = config(settings, files, probe, start) if configuring else None
    nothing_to_change()  # (unless config() planned a prepare; not after a failed probe)
    service_steps = service(settings, installed, options, probe,
                            started=bool(start) and configuring)
    host_level.prune(host_work)
    shared_keys.shared_keys(settings, probe)  # keepalived_ssh_host_keys: "shared" only
    # last: wait until each VRRP instance this run changed has one MASTER (deploys.verify)
    verify.after_changes(settings, [installed, options, configured, *service_steps])
