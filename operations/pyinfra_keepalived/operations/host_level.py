"""Host-level deploys around keepalived.conf: firewall, sysctl, systemd drop-in,
needrestart's config snippet, options.

    from pyinfra_keepalived.operations import host_level
    host_level.prepare(settings, probe.host_state)  # before the package
    options = host_level.options(settings, "apt", probe.host_state, active=True)  # after it
    host_level.prune(settings, probe.host_state)  # after the config and the service

All four read one fact (facts.host_level), once per host, so a run that changes
nothing costs one round trip here. `remove(...)` undoes them for the uninstall deploy.
"""

import ipaddress
import re

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
    OPTIONS_FILES,
    SYSCTL_FILE,
    VMAC_SYSCTL_FILE,
)
from ..render import host_level as render_host
from ..render.firewall import firewall_rules
from ..render.host_level import NONLOCAL_BIND
from ..shipped import shell_script
from . import state_files
from .firewall import (
    allow_vrrp,
    installed_command,
    is_managed,
    prune_vrrp,
    remove_vrrp_rule,
)
from .needed import if_needed
from .state_files import under_lock
from .uploads import install, private_dir, send, sha256, upload

# A sysctl name as the kernel spells it (net.ipv4.conf.eth0.rp_filter, or with slashes):
# what the sysctl file read from the host may hand to `sysctl -w` as root.
SYSCTL_KEY_RE = re.compile(r"[a-z0-9_]+(?:[./][A-Za-z0-9_-]+)+")


def sysctl_keys(lines, path):
    """The keys a sysctl.d file (its `lines`, read from the host) sets; a key that is not a
    sysctl name is left out, with a warning naming the file (the text is the host's: it
    never reaches a shell)."""
    keys = []
    for line in lines:
        if "=" not in line or line.lstrip().startswith(("#", ";")):
            continue
        key = line.split("=")[0].strip().removeprefix("-")
        if SYSCTL_KEY_RE.fullmatch(key):
            keys.append(key)
        else:
            host.log(f"{path}: {key!r} is not a sysctl name (e.g. net.ipv4.ip_nonlocal_bind): "
                     "not reset", logger.warning)
    return keys


def read_host_state(protocols, options_path=None):
    """The one fact of this module, read on its own (the uninstall deploy)."""
    return host.get_fact(KeepalivedHostLevel,
                         **state_arguments(protocols, [options_path] if options_path else []))


@operation()
def nonlocal_bind(families, host_state):
    """
    Persist ``ip_nonlocal_bind = 1`` for ``families`` in /etc/sysctl.d and apply it; with no
    families, remove the file and set back to 0 what it had set.

    **Example:**

    .. code:: python

        nonlocal_bind(name="Let services bind the VIP", families=("ipv4",),
                      host_state=probe.host_state)
    """
    wanted = [NONLOCAL_BIND[family] for family in families]
    had = sysctl_keys(host_state.lines.get(SYSCTL_FILE, []), SYSCTL_FILE)
    content = render_host.sysctl_file(families)
    if wanted and host_state.sha256.get(SYSCTL_FILE) != sha256(content):
        yield from upload(SYSCTL_FILE, content, "644", then=("sysctl", "-q", "-p", SYSCTL_FILE))
    elif wanted and any(host_state.sysctl.get(key) != "1" for key in wanted):
        yield StringCommand("sysctl", "-q", "-p", SYSCTL_FILE)
    elif not wanted and SYSCTL_FILE in host_state.sha256:
        yield StringCommand("rm", "-f", SYSCTL_FILE)
    dropped = [key for key in had if key not in wanted]
    if dropped:
        yield StringCommand("sysctl", "-q", "-w", *[QuoteString(f"{key}=0") for key in dropped])


SYSCTL_APPLY = shell_script("operations/sysctl_apply.sh")


@operation()
def vmac_sysctls(interfaces, host_state):
    """
    Persist arp_ignore = 1, arp_filter = 1 and arp_announce = 2 for ``interfaces`` (those
    under a VRRP virtual MAC: render.host_level.vmac_interfaces, VMAC_PARENT_SYSCTLS) in
    /etc/sysctl.d and apply them where /proc/sys can be written (not in a container);
    with no interfaces, remove the file (the running values stay until the next boot:
    keepalived restores the arp_ignore and arp_filter it found when it removes its
    macvlan).

    + interfaces: the interface names
    + host_state: the host's ``HostLevelState`` (the file's sha256)

    **Example:**

    .. code:: python

        vmac_sysctls(name="sysctl for VRRP virtual MACs", interfaces=("eth0",),
                     host_state=probe.host_state)
    """
    content = render_host.vmac_sysctl_file(interfaces)
    if interfaces and host_state.sha256.get(VMAC_SYSCTL_FILE) != sha256(content):
        yield from upload(VMAC_SYSCTL_FILE, content, "644", then=(
            "sh", "-c", QuoteString(SYSCTL_APPLY), "sysctl-apply", VMAC_SYSCTL_FILE))
    elif not interfaces and VMAC_SYSCTL_FILE in host_state.sha256:
        yield StringCommand("rm", "-f", VMAC_SYSCTL_FILE)


LVS_DR = shell_script("operations/lvs_dr.sh")


def lo_addresses(addresses):
    """The ADDRESS/PREFIX entries of `addresses` (read from the host: lo's, or a unit's
    lines) that are addresses, normalised; anything else is left out (the text is the
    host's: only a validated address reaches a command)."""
    valid = []
    for address in addresses:
        try:
            valid.append(str(ipaddress.ip_interface(address)))
        except ValueError:
            continue
    return valid


@operation()
def dr_real_server(vips, host_state):
    """
    Make this host an LVS direct-routing real server of ``vips``: the ARP sysctls
    (render.host_level.DR_SYSCTLS) in /etc/sysctl.d, applied where /proc/sys can be
    written, then the virtual addresses on lo (/32, /128) through a systemd oneshot unit
    that puts them there again at each boot; the unit is started only once the running
    sysctls keep the host from answering ARP for them (lvs_dr.sh). An address the unit
    had put there and ``vips`` no longer has is taken off lo first. With no ``vips``: every
    address of the unit is taken off lo, and the unit and the sysctl file removed (the
    running sysctl values stay until the next boot).

    + vips: the virtual addresses (model.lvs_dr derives them from the directors' data)
    + host_state: the host's ``HostLevelState`` (the files' sha256, the unit's lines, lo)

    **Example:**

    .. code:: python

        dr_real_server(name="LVS-DR real server", vips=("192.0.2.10",),
                       host_state=probe.host_state)
    """
    wanted = [render_host.host_prefix(vip) for vip in vips]
    unit = render_host.dr_unit(vips)
    sysctls = render_host.dr_sysctl_file()
    on_lo = lo_addresses(host_state.lo)
    # first the addresses dropped (only the unit on the host names them: a run that died
    # after writing the new unit would leave them on lo for good)
    dropped = [address for address in lo_addresses(render_host.dr_unit_addresses(
        host_state.lines.get(DR_UNIT, []))) if address not in wanted and address in on_lo]
    for address in dropped:
        yield StringCommand("ip", "addr", "del", address, "dev", "lo")
    if vips:
        if host_state.sha256.get(DR_SYSCTL_FILE) != sha256(sysctls):
            yield from upload(DR_SYSCTL_FILE, sysctls, "644", then=(
                "sh", "-c", QuoteString(SYSCTL_APPLY), "sysctl-apply", DR_SYSCTL_FILE))
        start = ("sh", "-c", QuoteString(LVS_DR), "lvs-dr", DR_UNIT_NAME)
        if host_state.sha256.get(DR_UNIT) != sha256(unit):
            yield from upload(DR_UNIT, unit, "644", then=start)
        elif any(address not in on_lo for address in wanted):
            yield StringCommand(*start)
    if not vips and DR_UNIT in host_state.sha256:
        yield StringCommand("systemctl", "disable", "--quiet", DR_UNIT_NAME, ";",
                            "rm", "-f", DR_UNIT, "&&", "systemctl", "daemon-reload")
    if not vips and DR_SYSCTL_FILE in host_state.sha256:
        yield StringCommand("rm", "-f", DR_SYSCTL_FILE)


@operation()
def service_dropin(content, host_state, daemon_reload=True, reload_needed=False):
    """
    Put the keepalived.service drop-in in place, and unmask the unit when it is masked.
    systemd reloads its units (``daemon_reload``) when the drop-in changed, or when it
    says a reload is needed (``reload_needed``: a run that died between writing and
    reloading, or a change by hand), so that what is on disk is what it runs.

    + content: the drop-in's text (render.host_level.service_dropin)
    + host_state: the host's ``HostLevelState`` (the drop-in's sha256, the unit state)
    + daemon_reload: False when the package step of the same run follows and reloads
      (a fresh host: the unit is not there yet, a reload now would cost the host a
      second one for nothing)
    + reload_needed: systemd's NeedDaemonReload for keepalived.service, from the probe

    **Example:**

    .. code:: python

        service_dropin(name="keepalived.service drop-in",
                       content=render_host.service_dropin(settings.host_level),
                       host_state=probe.host_state, daemon_reload=True,
                       reload_needed=probe.unit_reload_needed)
    """
    if host_state.unit.startswith("masked"):
        yield StringCommand("systemctl", "unmask", "keepalived.service")
    reload = ("systemctl", "daemon-reload") if daemon_reload else ()
    if host_state.sha256.get(DROPIN) != sha256(content):
        yield from upload(DROPIN, content, "644", make_dir=True, then=reload)
    elif reload_needed and reload:
        yield StringCommand(*reload)


@operation()
def daemon_options(path, variable, options, host_state, active=False,
                   lock_wait=LOCK_WAIT_SECONDS):
    """
    Write keepalived's command-line options to ``path`` (``variable="..."``). keepalived
    reads them only when it starts: when it runs (``active``), the same command first
    writes the restart-pending marker, and the deploy restarts it host by host.

    + path, variable: the options file and the variable the packaged unit reads
    + options: the command-line options, e.g. ``("--log-detail",)``
    + host_state: the host's ``HostLevelState`` (the file's sha256)
    + active: keepalived was running when the host was probed
    + lock_wait: seconds to wait for another run's lock on the host (the marker and the
      file are written under it: a restart in progress cannot clear a marker it did not
      restart for)

    **Example:**

    .. code:: python

        daemon_options(name="keepalived options", path="/etc/default/keepalived",
                       variable="DAEMON_ARGS", options=("--log-detail",),
                       host_state=probe.host_state,
                       active=probe.service_active)
    """
    content = render_host.options_file(variable, options)
    if host_state.sha256.get(path) != sha256(content):
        directory = private_dir()
        yield from send(directory, [content])
        steps = [*([state_files.mark_restart("options")] if active else []),
                 install(directory, 0, path, "644")]
        yield StringCommand(*state_files.locked_install(
            directory, steps, "write keepalived's daemon options", lock_wait))


@operation()
def needrestart_held(host_state, present=True):
    """
    Keep needrestart from restarting keepalived (``present``): its config snippet
    NEEDRESTART_CONF (render.host_level.needrestart_conf), written where its content
    differs, whether needrestart is installed or not (needrestart reads it from the
    moment it is installed); or remove the snippet, and its directories where that
    leaves them empty (needrestart not installed: the deploy made them).

    + host_state: the host's ``HostLevelState`` (the snippet's sha256)
    + present: False to remove it (the uninstall deploy)

    **Example:**

    .. code:: python

        needrestart_held(name="needrestart leaves keepalived to the deploy",
                         host_state=probe.host_state)
    """
    content = render_host.needrestart_conf()
    if present and host_state.sha256.get(NEEDRESTART_CONF) != sha256(content):
        yield from upload(NEEDRESTART_CONF, content, "644", make_dir=True)
    elif not present and NEEDRESTART_CONF in host_state.sha256:
        directory = NEEDRESTART_CONF.rsplit("/", 1)[0]
        yield StringCommand("rm", "-f", QuoteString(NEEDRESTART_CONF), "&&",
                            "rmdir", "--ignore-fail-on-non-empty", QuoteString(directory),
                            QuoteString(directory.rsplit("/", 1)[0]))


def prepare(settings, host_state, daemon_reload=True, reload_needed=False):
    """Firewall, sysctl, the systemd drop-in and needrestart's config snippet: before the
    package step (none of them needs the package; a fresh host's drop-in is then loaded
    with the unit the package brings: `daemon_reload` False, the package step reloads;
    needrestart is held off before any package step replaces keepalived's binary, so that
    a run that stops before the restart leaves no restart to the next apt run), the config
    and the start. `host_state`: the HostLevelState read with `state_arguments`;
    `reload_needed`: systemd's NeedDaemonReload for keepalived.service (service_dropin)."""
    level = settings.host_level
    rules = managed_rules(settings, host_state)
    # (each added only when it has work: operations.needed)
    if rules:
        if_needed(allow_vrrp, "Let VRRP from the peers through the host firewall",
                  rules=rules, host_state=host_state)
    if_needed(nonlocal_bind, "sysctl ip_nonlocal_bind", families=level.nonlocal_bind,
              host_state=host_state)
    if_needed(vmac_sysctls, "sysctl arp_ignore, arp_filter, arp_announce under VRRP virtual "
              "MACs",
              interfaces=render_host.vmac_interfaces(settings.instances),
              host_state=host_state)
    real_server(settings, host_state)
    # (the drop-in's start hook reads the live config's peers file: the same drop-in for
    # any peers, and a start before the config step lets in the peers of the config
    # keepalived then loads, the one still live)
    if_needed(
        service_dropin, "keepalived.service drop-in (restart on failure, after network-online)",
        content=render_host.service_dropin(
            level, installed_command(settings.paths) if rules else None),
        host_state=host_state, daemon_reload=daemon_reload, reload_needed=reload_needed)
    if_needed(needrestart_held, "needrestart leaves keepalived's restart to the deploy",
              host_state=host_state)


def real_server(settings, host_state):
    """The LVS-DR real server's addresses on lo and ARP sysctls (dr_real_server), where
    the host is one or was one."""
    if_needed(dr_real_server, "LVS-DR real server: ARP sysctls, virtual addresses on lo",
              vips=settings.dr_vips, host_state=host_state)


def managed_rules(settings, host_state):
    """The firewall script's arguments (facts.host_level.firewall_rules) where the deploy
    manages the host's firewall, else ()."""
    rules = firewall_rules(settings)
    return rules if rules and is_managed(settings.host_level, host_state) else ()


def prune(settings, host_state):
    """After the config and the service steps: the firewall rules of ours that the live
    config no longer needs (a former peer's) are deleted, where the probe found any.
    (Before then both peer lists' adverts are let in: see operations.firewall. Only here:
    a host whose config step failed keeps them, as its old config may still be live.)"""
    rules = managed_rules(settings, host_state)
    if rules:
        if_needed(prune_vrrp, "Close the host firewall to former VRRP peers", rules=rules,
                  host_state=host_state)


def options(settings, manager, host_state, active=False):
    """keepalived's daemon options, after the package step (the options file is the
    package's: written before a fresh install, dnf would set the package's aside as
    .rpmnew, dpkg ask). `manager`: "apt" or "dnf"; `active`: keepalived ran when probed
    (a change of its options then leaves the restart-pending marker, written with them).
    Returns the daemon-options operation (did_change: keepalived must restart) or None
    when the options are not managed."""
    level = settings.host_level
    options_path, variable = OPTIONS_FILES[manager]
    if level.daemon_options is None:
        return None
    return if_needed(daemon_options, f"keepalived options ({options_path})", path=options_path,
                     variable=variable, options=level.daemon_options, host_state=host_state,
                     active=active, lock_wait=level.lock_wait)


@deploy("Keepalived host removal")
def remove(lock_wait=LOCK_WAIT_SECONDS):
    """For the uninstall deploy: firewall rules, the drop-in, the sysctl files and
    needrestart's config snippet go, each
    command under the host's deploy lock (waiting up to `lock_wait` seconds for it)."""
    what = "uninstall: remove the host level"
    under_lock(name="Remove the VRRP firewall rules", what=what, lock_wait=lock_wait,
               inner=remove_vrrp_rule._inner)
    host_state = read_host_state(())
    under_lock(name="Remove the ip_nonlocal_bind setting", what=what, lock_wait=lock_wait,
               inner=nonlocal_bind._inner, families=(), host_state=host_state)
    under_lock(name="Remove the VRRP virtual MAC sysctl file", what=what,
               lock_wait=lock_wait, inner=vmac_sysctls._inner, interfaces=(),
               host_state=host_state)
    under_lock(name="Remove the LVS-DR real server's addresses on lo and its sysctl file",
               what=what, lock_wait=lock_wait, inner=dr_real_server._inner, vips=(),
               host_state=host_state)
    under_lock(name="Remove the keepalived.service drop-in", what=what, lock_wait=lock_wait,
               inner=remove_dropin._inner, host_state=host_state)
    under_lock(name="Remove needrestart's keepalived snippet", what=what, lock_wait=lock_wait,
               inner=needrestart_held._inner, host_state=host_state, present=False)


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
