"""Remove keepalived from a host: the seed role's manual removal steps, as a deploy.

    pyinfra -y inventory.py uninstall.py

In order, each its own @deploy:

1. hand the host's VIPs to a healthy peer that stays (operations.handover: the checks and
   the drain of the rolling restart), then stop and disable keepalived; an instance whose
   every host is uninstalled in this run goes with the stop (nobody is left to take it);
   when no healthy peer takes a VIP the host is left running and its removal fails;
2. delete VIPs of the host's instances still on an interface (after a crash or kill -9),
   except those of instances with priority 255 (the address owner: its own address);
3. remove the host level: the VRRP firewall rules, the systemd drop-in, the sysctl
   files, needrestart's config snippet and an LVS-DR real server's addresses on lo and
   its unit (operations.host_level.remove; on a host that is only an LVS-DR real server,
   keepalived_lvs_real_server without instances or LVS, this is the only step);
4. purge the package (apt purge) / remove it (dnf remove);
5. remove the config file, conf.d and scripts, then the base dir (default
   /etc/keepalived) if nothing else is in it: a file the deploy did not write is kept;
6. remove the script user, if this deploy created it (its record on the host,
   host_paths.created_user_record) and no process still runs as it; else warn and
   keep it (a user that existed before, or of a host set up by a version of this deploy
   that kept no record).

What to remove comes from the same host data as the deploy (validated first). Running it
again changes nothing. Every command that changes the host runs under the host's deploy
lock (operations.state_files.under_lock), one lock per command: a deploy running at the
same time on the host finishes its step first (or this one fails after the wait, naming
it).
"""

from pyinfra import host, logger, state
from pyinfra.api import QuoteString, StringCommand, deploy, operation
from pyinfra.facts.server import Users
from pyinfra.operations import apt, dnf, systemd

from ..facts.keepalived import CreatedUser, IpAddresses, KeepalivedTree, UserProcesses
from ..host_paths import DRAIN_FILE, STATE_DIR, created_user_record
from ..model.fleet import check_inventory
from ..operations import handover, host_level
from ..operations.state_files import under_lock
from ..operations.system import host_settings, package_manager
from ..render.config import instance_drain

PROTECTED_USERS = {"root"}
WHAT = "uninstall"  # names this deploy in the lock holder's file


@operation()
def addresses_absent(addresses):
    """
    Delete each of ``addresses`` ("address/prefix") from whichever interface has it.

    **Example:**

    .. code:: python

        addresses_absent(name="Delete leftover VIPs", addresses=["192.168.1.100/24"])
    """
    wanted = {address.split("/")[0] for address in addresses}
    present = [(interface, cidr) for interface, cidr in host.get_fact(IpAddresses)
               if cidr.split("/")[0] in wanted]
    if not present:
        host.noop("no VIP left on any interface")
    for interface, cidr in present:
        yield StringCommand("ip", "addr", "del", QuoteString(cidr), "dev",
                            QuoteString(interface))


@operation()
def user_absent_unless_busy(user):
    """
    Remove ``user`` (``userdel``) and the record that this deploy created it, if it did
    (``CreatedUser``) and no process runs as it; else warn and keep it.

    **Example:**

    .. code:: python

        user_absent_unless_busy(name="Remove the script user", user="keepalived_script")
    """
    if user in PROTECTED_USERS:
        host.noop(f"user {user} is never removed")
        return
    if user not in host.get_fact(Users):
        host.noop(f"user {user} does not exist")
        return
    running = host.get_fact(UserProcesses, user=user)
    if running:
        host.log(f"keeping user {user}: process(es) {', '.join(running)} run as it",
                 log_func=logger.warning)
        return
    record = created_user_record(user)
    if not host.get_fact(CreatedUser, user=user):
        host.log(f"keeping user {user}: this deploy did not create it (no {record}: it "
                 "existed before, or a version of this deploy that kept no record made it); "
                 f"remove it yourself (userdel {user}) if nothing else needs it",
                 log_func=logger.warning)
        return
    yield StringCommand("userdel", QuoteString(user), "&&", "rm", "-f", QuoteString(record))


def staying(settings):
    """The Settings of the hosts this run does not uninstall (outside --limit): the only
    ones the host's VIPs may go to."""
    removed = {target.name for target in state.inventory.get_active_hosts()}
    return [peer for name, peer in check_inventory(state.inventory).items()
            if name not in removed and name != settings.host]


@deploy("Stop keepalived")
def stop_service(settings):
    handover.stopped(name="Hand the VIPs to a healthy peer, stop keepalived",
                     plan=handover.plan(settings, staying(settings)),
                     what=f"{WHAT}: hand over and stop keepalived")
    under_lock(name="Stop and disable keepalived", what=f"{WHAT}: stop keepalived",
               lock_wait=settings.host_level.lock_wait, inner=systemd.service._inner,
               service="keepalived", running=False, enabled=False)


@deploy("Delete leftover VIPs")
def delete_vips(settings):
    """Priority 255 means this host owns the address (it is the host's own): kept."""
    under_lock(
        name="Delete VIPs of this host's instances still on an interface",
        what=f"{WHAT}: delete leftover VIPs", lock_wait=settings.host_level.lock_wait,
        inner=addresses_absent._inner,
        addresses=[vip.address for instance in settings.instances if instance.priority != 255
                   for vip in (*instance.virtual_ipaddresses,
                               *instance.virtual_ipaddresses_excluded)],
    )


@deploy("Remove the keepalived package")
def remove_package(settings):
    lock_wait = settings.host_level.lock_wait
    if package_manager() == "apt":
        under_lock(name="Purge keepalived (apt)", what=f"{WHAT}: purge keepalived",
                   lock_wait=lock_wait, inner=apt.packages._inner, packages=["keepalived"],
                   present=False, purge=True)
    else:
        under_lock(name="Remove keepalived (dnf)", what=f"{WHAT}: remove keepalived",
                   lock_wait=lock_wait, inner=dnf.packages._inner, packages=["keepalived"],
                   present=False)


@deploy("Remove the keepalived config")
def remove_config(settings):
    paths = settings.paths
    under_lock(name=f"Remove the keepalived config from {paths.base_dir}",
               what=f"{WHAT}: remove {paths.base_dir}", lock_wait=settings.host_level.lock_wait,
               inner=config_tree_absent._inner, paths=paths,
               instances=[instance.name for instance in settings.instances])


@operation()
def config_tree_absent(paths, instances=()):
    """
    Remove what the deploy wrote: the config file, the conf.d and scripts dirs (links),
    the generations of the tree behind them; then the base dir, if nothing else is left in it (a file the deploy did
    not write is kept, and so is the dir that holds it).

    **Example:**

    .. code:: python

        config_tree_absent(name="Remove the keepalived config", paths=settings.paths)
    """
    tree = host.get_fact(KeepalivedTree, config_file=paths.config_file,
                         dirs=[paths.base_dir, paths.scripts_dir, paths.config_dir])
    if paths.base_dir not in tree:
        host.noop(f"{paths.base_dir} does not exist")
        return
    managed = [paths.config_file, paths.config_dir, paths.scripts_dir]
    if not any(path in tree for path in managed):
        host.noop(f"{paths.base_dir} holds nothing of this deploy")
        return
    # the links, then the generations they point into (pyinfra_keepalived/operations/transaction.sh), and
    # the staging dir of earlier versions of this deploy
    leftovers = [f"{paths.base_dir}/{name}"
                 for name in (".current", ".previous", ".generations", ".staging")]
    # and what the deploy keeps about its own work: markers, the drains (of the host, and
    # of each of its `instances`)
    leftovers += [STATE_DIR, DRAIN_FILE, *(instance_drain(name)[1] for name in instances)]
    yield StringCommand("rm", "-rf", *[QuoteString(path) for path in [*managed, *leftovers]])
    yield StringCommand("rmdir", QuoteString(paths.base_dir), "2>/dev/null", "||", "echo",
                        QuoteString(f"kept {paths.base_dir}: it holds files this deploy "
                                    "did not write"))


@deploy("Remove the script user")
def remove_script_user(settings):
    user = settings.global_defs.script_user
    under_lock(name=f"Remove user {user} unless a process runs as it",
               what=f"{WHAT}: remove user {user}", lock_wait=settings.host_level.lock_wait,
               inner=user_absent_unless_busy._inner, user=user)


@deploy("Uninstall keepalived")
def uninstall():
    """Every removal step, in order (see the module docstring)."""
    settings = host_settings()
    if settings.real_server_only:  # (no keepalived was installed: deploys.install)
        host_level.remove(settings.host_level.lock_wait)
        return
    stop_service(settings)
    delete_vips(settings)
    host_level.remove(settings.host_level.lock_wait)
    remove_package(settings)
    remove_config(settings)
    remove_script_user(settings)
