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
from ..operations import host_level, host_level_work, rolling, shared_keys
from ..operations.cluster_commit import (
    commit_together,
    nothing_to_change,
    start_refused,
)
from ..operations.config_tree import config_tree
from ..operations.lvs import IPVSADM, ipvs_present, ipvsadm_package
from ..operations.plan import plan_host
from ..operations.system import (
    keepalived_package,
    package_manager,
    service_running,
    system_user,
)
from ..operations.uploads import stale_uploads_absent
from ..render import config as render
from ..render.script_data import check_inventory
from . import verify


def script_user(plan):
    """The system user check scripts run as, where the plan found none. It must exist
    before keepalived loads a config that names it: with enable_script_security
    keepalived drops every script. (Where the package step runs, it creates the user in
    its own command: `package`.)"""
    if plan.script_user is not None:
        system_user(name=f"Create the {plan.script_user.user} system user",
                    **plan.script_user._asdict())


def package(settings, manager, plan, bare=False, also=()):
    """Install keepalived from the distro where the plan says so (`plan.package`); in the
    same command, on a host that lacks them, create the script user and reload systemd's
    units (a command fewer for each: each costs every host a round trip). `bare`: the
    package command alone (the bench's package floor, bench/only_package.py); `also`:
    other packages for the same command. Returns the operation (did_change: restart), or
    None when it was not added."""
    if not plan.package:
        return None
    user = None if bare else plan.script_user
    return keepalived_package(
        name=f"Install keepalived ({manager})"
        + (f", create the {user.user} system user" if user is not None else ""),
        manager=manager, version=settings.package_version, active=plan.running,
        cache_seconds=APT_CACHE_SECONDS, proxy=settings.package_proxy,
        lock_wait=settings.host_level.lock_wait, script_user=user, unit_reload=not bare,
        also=also,
    )


def config(settings, files, plan, tree, start=()):
    """Directories, check scripts and config files (`files`), validated before they go
    live, and keepalived reloaded in the same locked step (pyinfra_keepalived/operations/transaction.sh);
    `start`: the commands that enable and start keepalived where it is not, run right
    after in the same command (the plan's `start`). Only called where the plan has config
    work (`plan.config`); `tree`: the host's tree as probed (for --diff).
    A change the peers of an instance must agree on (VIPs, auth, VRID, ...: the plan's
    `agreement`) goes live on all of them together instead, in two steps
    (operations.cluster_commit)."""
    name = "Validate and install the keepalived config" + (
        (", enable keepalived" if plan.running else ", start keepalived")
        if start else "")
    if plan.agreement:  # (the two steps come before the one-command step: a peer that
        # starts keepalived there starts it once the running hosts have committed)
        return commit_together(settings, files, plan.agreement,
                               check_inventory(state.inventory), then=start, work=plan.tree,
                               tree=tree)
    return config_tree(
        name=name,
        files=files,
        paths=settings.paths,
        work=plan.tree,
        tree=tree,
        reload_pending=plan.reload_pending,
        lock_wait=settings.host_level.lock_wait,
        then=start,
        # (a start waits for the peers' commits: not beside a peer that kept the old
        # agreement; where keepalived runs, `start` only enables it: nothing to ask)
        then_refused=None if plan.running else (
            lambda: start_refused(check_inventory(state.inventory))),
    )


def service(settings, plan, installed, options, started=False):
    """Keep keepalived enabled and running (`started`: the config step's command did
    that); restart it, one host at a time (a rolling restart, operations.rolling), when
    the package (`installed`: None when not added) or its daemon options (`options`, read
    only at start; None when not managed) changed in this run, or a restart is still
    pending from an earlier one. A config change never restarts: the config transaction
    reloads (SIGHUP, keeps VIPs). Returns the steps it added (OperationMeta: the start,
    the restarts)."""
    def restart_needed():
        return (plan.restart_pending or (installed is not None and installed.did_change())
                or (options is not None and options.did_change()))

    steps = []
    if plan.start and not started:
        steps.append(service_running(
            name="Enable and start keepalived", service=SERVICE, steps=plan.start,
            refused=None if plan.running else (  # (running: an enable, no start)
                lambda: start_refused(check_inventory(state.inventory)))))
    # A restart or reload only when keepalived was running when probed (started in this
    # run, it loads the new config and options anyway), and only added when this run may
    # change what it reacts to: a run with nothing to change adds no operation here (each
    # operation costs pyinfra a few milliseconds per host, on every run).
    if not plan.running:
        return steps
    if (plan.restart_pending or installed is not None
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


@deploy("Keepalived")
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
    plan = plan_host(settings, files, probe, manager)  # what this host needs, decided once
    # first, a refusal: nothing changes (it records no plan: the peers of a change they
    # must agree on do not commit it)
    if plan.ipvs_refusal:
        ipvs_present(name="Check that the kernel has IPVS (the config has LVS)",
                     refusal=plan.ipvs_refusal)
        return
    if plan.dump_conf_refusal:
        host_level.own_options_safe(
            name="Check that keepalived's own options do not dump the config (password)",
            refusal=plan.dump_conf_refusal)
        return
    if plan.leftovers:
        rolling.leftovers(name="Clear what an interrupted run left (policy-rc.d, drain)",
                          policy=plan.leftovers.policy, drain=plan.leftovers.drain,
                          lock_wait=settings.host_level.lock_wait)
    if plan.stale_uploads:  # (no operation at all on a host without any)
        stale_uploads_absent(name="Remove upload directories of broken-off runs",
                             directories=plan.stale_uploads)
    host_level.prepare(plan.host_level)
    # ipvsadm where the host has LVS and lacks it: in the keepalived install's command
    # when that runs (a round trip fewer), else on its own
    installed = package(settings, manager, plan, also=(IPVSADM,) if plan.ipvsadm else ())
    if plan.ipvsadm and not plan.package:
        ipvsadm_package(name="Install ipvsadm (the config has LVS)", manager=manager,
                        proxy=settings.package_proxy, lock_wait=settings.host_level.lock_wait)
    if not plan.package:
        script_user(plan)
    options = host_level.options(plan.host_level, settings.host_level.lock_wait)
    # keepalived's start in the config step's command (a round trip fewer), except after a
    # commit: every host commits in that step at once, so a start there could run beside a
    # peer whose commit fails (it keeps the old agreement); the service step asks first
    start = plan.start if plan.config and (plan.running or not plan.agreement) else ()
    configured = config(settings, files, plan, probe.tree, start) if plan.config else None
    nothing_to_change()  # (unless config() planned a prepare; not after a failed probe)
    service_steps = service(settings, plan, installed, options, started=bool(start))
    host_level.prune(plan.host_level)
    shared_keys.shared_keys(settings, probe)  # keepalived_ssh_host_keys: "shared" only
    # last: wait until each VRRP instance this run changed has one MASTER (deploys.verify)
    verify.after_changes(settings, [installed, options, configured, *service_steps])
