"""Host-level deploys around keepalived.conf: firewall, sysctl, systemd drop-in,
needrestart's config snippet, options.

    from pyinfra_keepalived.operations import host_level, host_level_work
    work = host_level_work.work(settings, probe.host_state, "apt", active=True)
    host_level.prepare(work)  # before the package
    options = host_level.options(work)  # after it
    host_level.prune(work)  # after the config and the service

What each host needs is decided once, from the settings and one fact (facts.host_level,
read once per host: a run that changes nothing costs one round trip here), into a
HostLevelWork (operations.host_level_work); each operation takes its part and is added
only where that part has work. `remove(...)` undoes them for the uninstall deploy.
"""

from pyinfra import host, logger
from pyinfra.api import QuoteString, StringCommand, deploy, operation

from ..facts.host_level import (
    KeepalivedHostLevel,
    state_arguments,
)
from ..host_paths import (
    DR_SYSCTL_FILE,
    DR_UNIT,
    DR_UNIT_NAME,
    DROPIN,
    LOCK_WAIT_SECONDS,
    NEEDRESTART_CONF,
    SYSCTL_FILE,
    VMAC_SYSCTL_FILE,
)
from ..shipped import shell_script
from . import host_level_work, state_files
from .firewall import (
    allow_vrrp,
    prune_vrrp,
    remove_vrrp_rule,
)
from .state_files import under_lock
from .uploads import install, private_dir, send, upload


def read_host_state(protocols, options_path=None):
    """The one fact of this module, read on its own (the uninstall deploy)."""
    return host.get_fact(KeepalivedHostLevel,
                         **state_arguments(protocols, [options_path] if options_path else []))


@operation()
def own_options_safe(refusal: str | None):
    """
    Fail the host, changing nothing, when its own options file (keepalived_daemon_options
    unset) has keepalived dump its config (-d, --dump-conf) and the config holds a
    password; add it before any other step.

    + refusal: why the host must not take its config (``host_level_work.dump_conf_refusal``:
      the host plan's ``dump_conf_refusal``), or None: it may

    **Example:**

    .. code:: python

        own_options_safe(name="Check that keepalived's own options do not dump the config",
                         refusal=dump_conf_refusal(settings, probe.host_state, "apt"))
    """
    if refusal is None:
        host.noop("keepalived's own options do not dump a config with a password")
        return
    yield StringCommand(*state_files.refusal(refusal))


@operation()
def nonlocal_bind(work: host_level_work.NonlocalBindWork):
    """
    Persist ``ip_nonlocal_bind = 1`` for the families wanted in /etc/sysctl.d and apply
    it; with none wanted, remove the file and set back to 0 what it had set. A key of the
    host's file that is no sysctl name is never sent, with a warning naming the file.

    + work: what to change (``host_level_work.nonlocal_bind_work(families, host_state)``,
      families ``"ipv4"``, ``"ipv6"``)

    **Example:**

    .. code:: python

        nonlocal_bind(name="Let services bind the VIP",
                      work=host_level_work.nonlocal_bind_work(("ipv4",), probe.host_state))
    """
    for key in work.ignored:
        host.log(f"{SYSCTL_FILE}: {key!r} is not a sysctl name (e.g. "
                 "net.ipv4.ip_nonlocal_bind): not reset", logger.warning)
    if work.content is not None:
        yield from upload(SYSCTL_FILE, work.content, "644",
                          then=("sysctl", "-q", "-p", SYSCTL_FILE))
    elif work.apply:
        yield StringCommand("sysctl", "-q", "-p", SYSCTL_FILE)
    elif work.remove:
        yield StringCommand("rm", "-f", SYSCTL_FILE)
    if work.reset:
        yield StringCommand("sysctl", "-q", "-w", *[QuoteString(f"{key}=0")
                                                    for key in work.reset])


SYSCTL_APPLY = shell_script("operations/sysctl_apply.sh")


@operation()
def vmac_sysctls(work: host_level_work.FileWork):
    """
    Persist arp_ignore = 1, arp_filter = 1 and arp_announce = 2 for the interfaces under
    a VRRP virtual MAC (render.host_level.vmac_interfaces, VMAC_PARENT_SYSCTLS) in
    /etc/sysctl.d and apply them where /proc/sys can be written (not in a container);
    with no such interface, remove the file (the running values stay until the next boot:
    keepalived restores the arp_ignore and arp_filter it found when it removes its
    macvlan).

    + work: what to change (``host_level_work.vmac_sysctls_work(interfaces, host_state)``)

    **Example:**

    .. code:: python

        vmac_sysctls(name="sysctl for VRRP virtual MACs",
                     work=host_level_work.vmac_sysctls_work(("eth0",), probe.host_state))
    """
    if work.content is not None:
        yield from upload(VMAC_SYSCTL_FILE, work.content, "644", then=(
            "sh", "-c", QuoteString(SYSCTL_APPLY), "sysctl-apply", VMAC_SYSCTL_FILE))
    elif work.remove:
        yield StringCommand("rm", "-f", VMAC_SYSCTL_FILE)


LVS_DR = shell_script("operations/lvs_dr.sh")


@operation()
def dr_real_server(work: host_level_work.RealServerWork):
    """
    Make this host an LVS direct-routing real server of its virtual addresses: the ARP
    sysctls (render.host_level.DR_SYSCTLS) in /etc/sysctl.d, applied where /proc/sys can
    be written, then the virtual addresses on lo (/32, /128) through a systemd oneshot
    unit that puts them there again at each boot; the unit is started only once the
    running sysctls keep the host from answering ARP for them (lvs_dr.sh). An address the
    unit had put there and that is no longer wanted is taken off lo first. With no
    virtual address: every address of the unit is taken off lo, and the unit and the
    sysctl file removed (the running sysctl values stay until the next boot).

    + work: what to change (``host_level_work.real_server_work(vips, host_state)``, the
      virtual addresses from model.lvs_dr)

    **Example:**

    .. code:: python

        dr_real_server(name="LVS-DR real server",
                       work=host_level_work.real_server_work(("192.0.2.10",), probe.host_state))
    """
    for address in work.drop:
        yield StringCommand("ip", "addr", "del", address, "dev", "lo")
    if work.sysctls is not None:
        yield from upload(DR_SYSCTL_FILE, work.sysctls, "644", then=(
            "sh", "-c", QuoteString(SYSCTL_APPLY), "sysctl-apply", DR_SYSCTL_FILE))
    start = ("sh", "-c", QuoteString(LVS_DR), "lvs-dr", DR_UNIT_NAME)
    if work.unit is not None:
        yield from upload(DR_UNIT, work.unit, "644", then=start)
    elif work.start:
        yield StringCommand(*start)
    if work.remove_unit:
        yield StringCommand("systemctl", "disable", "--quiet", DR_UNIT_NAME, ";",
                            "rm", "-f", DR_UNIT, "&&", "systemctl", "daemon-reload")
    if work.remove_sysctls:
        yield StringCommand("rm", "-f", DR_SYSCTL_FILE)


@operation()
def service_dropin(work: host_level_work.DropinWork):
    """
    Put the keepalived.service drop-in in place, and unmask the unit when it is masked.
    systemd reloads its units when the drop-in changed, or when it says a reload is
    needed (a run that died between writing and reloading, or a change by hand), so that
    what is on disk is what it runs; not when the package step of the same run follows
    and reloads (a fresh host: the unit is not there yet, a reload now would cost the
    host a second one for nothing).

    + work: what to change (``host_level_work.dropin_work(content, host_state,
      daemon_reload, reload_needed)``, the content from render.host_level.service_dropin,
      reload_needed systemd's NeedDaemonReload for keepalived.service, from the probe)

    **Example:**

    .. code:: python

        service_dropin(name="keepalived.service drop-in", work=host_level_work.dropin_work(
            render_host.service_dropin(settings.host_level), probe.host_state,
            daemon_reload=True, reload_needed=probe.unit_reload_needed))
    """
    if work.unmask:
        yield StringCommand("systemctl", "unmask", "keepalived.service")
    reload = ("systemctl", "daemon-reload") if work.reload else ()
    if work.content is not None:
        yield from upload(DROPIN, work.content, "644", make_dir=True, then=reload)
    elif reload:
        yield StringCommand(*reload)


@operation()
def daemon_options(work: host_level_work.OptionsWork, lock_wait: int = LOCK_WAIT_SECONDS):
    """
    Write keepalived's command-line options to their file (``variable="..."``).
    keepalived reads them only when it starts: when it runs, the same command first
    writes the restart-pending marker, and the deploy restarts it host by host.

    + work: what to write (``host_level_work.options_work(path, variable, options,
      host_state, active)``: the options file and the variable the packaged unit reads,
      the options, and ``active``, keepalived running when the host was probed)
    + lock_wait: seconds to wait for another run's lock on the host (the marker and the
      file are written under it: a restart in progress cannot clear a marker it did not
      restart for)

    **Example:**

    .. code:: python

        daemon_options(name="keepalived options", work=host_level_work.options_work(
            "/etc/default/keepalived", "DAEMON_ARGS", ("--log-detail",), probe.host_state,
            active=probe.service_active))
    """
    directory = private_dir()
    yield from send(directory, [work.content])
    steps = [*([state_files.mark_restart("options")] if work.mark_restart else []),
             install(directory, 0, work.path, "644")]
    yield StringCommand(*state_files.locked_install(
        directory, steps, "write keepalived's daemon options", lock_wait))


@operation()
def needrestart_held(work: host_level_work.FileWork):
    """
    Keep needrestart from restarting keepalived: its config snippet NEEDRESTART_CONF
    (render.host_level.needrestart_conf), written where its content differs, whether
    needrestart is installed or not (needrestart reads it from the moment it is
    installed); or remove the snippet, and its directories where that leaves them empty
    (needrestart not installed: the deploy made them).

    + work: what to change (``host_level_work.needrestart_work(present, host_state)``,
      ``present`` False to remove it: the uninstall deploy)

    **Example:**

    .. code:: python

        needrestart_held(name="needrestart leaves keepalived to the deploy",
                         work=host_level_work.needrestart_work(True, probe.host_state))
    """
    if work.content is not None:
        yield from upload(NEEDRESTART_CONF, work.content, "644", make_dir=True)
    elif work.remove:
        directory = NEEDRESTART_CONF.rsplit("/", 1)[0]
        yield StringCommand("rm", "-f", QuoteString(NEEDRESTART_CONF), "&&",
                            "rmdir", "--ignore-fail-on-non-empty", QuoteString(directory),
                            QuoteString(directory.rsplit("/", 1)[0]))


def prepare(work: host_level_work.HostLevelWork):
    """Firewall, sysctl, the systemd drop-in and needrestart's config snippet: before the
    package step (none of them needs the package; a fresh host's drop-in is then loaded
    with the unit the package brings: the work's drop-in part then has no reload, the
    package step reloads; needrestart is held off before any package step replaces
    keepalived's binary, so that a run that stops before the restart leaves no restart to
    the next apt run), the config and the start. `work`: the host's HostLevelWork
    (host_level_work.work); each operation is added only where its part has work."""
    if work.allow_vrrp:
        allow_vrrp(name="Let VRRP from the peers through the host firewall",
                   work=work.allow_vrrp)
    if work.nonlocal_bind:
        nonlocal_bind(name="sysctl ip_nonlocal_bind", work=work.nonlocal_bind)
    if work.vmac_sysctls:
        vmac_sysctls(name="sysctl arp_ignore, arp_filter, arp_announce under VRRP virtual "
                     "MACs", work=work.vmac_sysctls)
    real_server(work)
    # (the drop-in's start hook reads the live config's peers file: the same drop-in for
    # any peers, and a start before the config step lets in the peers of the config
    # keepalived then loads, the one still live)
    if work.service_dropin:
        service_dropin(name="keepalived.service drop-in (restart on failure, after "
                       "network-online)", work=work.service_dropin)
    if work.needrestart_held:
        needrestart_held(name="needrestart leaves keepalived's restart to the deploy",
                         work=work.needrestart_held)


def real_server(work: host_level_work.HostLevelWork):
    """The LVS-DR real server's addresses on lo and ARP sysctls (dr_real_server), where
    the host is one or was one and they are not as wanted."""
    if work.dr_real_server:
        dr_real_server(name="LVS-DR real server: ARP sysctls, virtual addresses on lo",
                       work=work.dr_real_server)


def prune(work: host_level_work.HostLevelWork):
    """After the config and the service steps: the firewall rules of ours that the live
    config no longer needs (a former peer's) are deleted, where the probe found any.
    (Before then both peer lists' adverts are let in: see operations.firewall. Only here:
    a host whose config step failed keeps them, as its old config may still be live.)"""
    if work.prune_vrrp:
        prune_vrrp(name="Close the host firewall to former VRRP peers",
                   rules=work.prune_vrrp)


def options(work: host_level_work.HostLevelWork, lock_wait=LOCK_WAIT_SECONDS):
    """keepalived's daemon options, after the package step (the options file is the
    package's: written before a fresh install, dnf would set the package's aside as
    .rpmnew, dpkg ask). A change of the options where keepalived ran when probed leaves
    the restart-pending marker, written with them. Returns the daemon-options operation
    (did_change: keepalived must restart), or None when they are not managed or already
    as wanted."""
    if not work.daemon_options:
        return None
    return daemon_options(name=f"keepalived options ({work.daemon_options.path})",
                          work=work.daemon_options, lock_wait=lock_wait)


@deploy("Keepalived host removal")
def remove(lock_wait=LOCK_WAIT_SECONDS):
    """For the uninstall deploy: firewall rules, the drop-in, the sysctl files and
    needrestart's config snippet go, each
    command under the host's deploy lock (waiting up to `lock_wait` seconds for it)."""
    what = "uninstall: remove the host level"
    under_lock(name="Remove the VRRP firewall rules", what=what, lock_wait=lock_wait,
               inner=remove_vrrp_rule._inner)
    host_state = read_host_state(())
    # (each added only where there is something to remove: host_level_work)
    if work := host_level_work.nonlocal_bind_work((), host_state):
        under_lock(name="Remove the ip_nonlocal_bind setting", what=what,
                   lock_wait=lock_wait, inner=nonlocal_bind._inner, work=work)
    if work := host_level_work.vmac_sysctls_work((), host_state):
        under_lock(name="Remove the VRRP virtual MAC sysctl file", what=what,
                   lock_wait=lock_wait, inner=vmac_sysctls._inner, work=work)
    if work := host_level_work.real_server_work((), host_state):
        under_lock(name="Remove the LVS-DR real server's addresses on lo and its sysctl file",
                   what=what, lock_wait=lock_wait, inner=dr_real_server._inner, work=work)
    under_lock(name="Remove the keepalived.service drop-in", what=what, lock_wait=lock_wait,
               inner=remove_dropin._inner, host_state=host_state)
    if work := host_level_work.needrestart_work(False, host_state):
        under_lock(name="Remove needrestart's keepalived snippet", what=what,
                   lock_wait=lock_wait, inner=needrestart_held._inner, work=work)


@operation()
def remove_dropin(host_state):
    """
    Remove the keepalived.service drop-in of this deploy, then daemon-reload.

    **Example:**

    .. code:: python

        remove_dropin(name="Remove the keepalived.service drop-in",
                      host_state=probe.host_state)
    """
    if DROPIN not in host_state.sha256:
        host.noop("no keepalived.service drop-in")
        return
    yield StringCommand("rm", "-f", QuoteString(DROPIN))
    yield StringCommand("systemctl", "daemon-reload")
