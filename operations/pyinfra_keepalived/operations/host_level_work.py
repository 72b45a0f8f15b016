"""What the host level (operations.host_level, .firewall) has to change on a host, decided
once per host from the settings and the host-level fact, into one HostLevelWork.

    work = host_level_work.work(settings, probe.host_state, "apt", active=True)
    work.nonlocal_bind   # None: nothing to change; else what to change

Pure functions: no pyinfra call, no host read, nothing added. Each operation of the host
level takes its part (`host_level.nonlocal_bind(work=work.nonlocal_bind)`) and only
turns it into commands; an operation is added only where its part is not None. The
uninstall deploy asks the same functions what removing takes (`nonlocal_bind_work((),
host_state)`, ...).
"""

import ipaddress
import re
from dataclasses import dataclass

from ..facts.host_level import HostLevelState
from ..host_paths import (
    DR_SYSCTL_FILE,
    DR_UNIT,
    DROPIN,
    FIREWALL_COMMAND,
    NEEDRESTART_CONF,
    OPTIONS_FILES,
    SYSCTL_FILE,
    VMAC_SYSCTL_FILE,
)
from ..model.host_level import dumps_config, option_words, password_holders
from ..render import host_level as render_host
from ..render.firewall import firewall_rules
from ..render.host_level import NONLOCAL_BIND
from .firewall import (
    FIREWALL_SCRIPT_SHA256,
    FirewallWork,
    installed_command,
    is_managed,
)
from .uploads import sha256

# A sysctl name as the kernel spells it (net.ipv4.conf.eth0.rp_filter, or with slashes):
# what the sysctl file read from the host may hand to `sysctl -w` as root.
SYSCTL_KEY_RE = re.compile(r"[a-z0-9_]+(?:[./][A-Za-z0-9_-]+)+")


@dataclass(frozen=True)
class NonlocalBindWork:
    """nonlocal_bind's part: the ip_nonlocal_bind sysctl file and running values."""
    content: str | None  # write the file with this text, then apply it (sysctl -p)
    apply: bool  # the file is in place, a running value is not 1: apply it again
    remove: bool  # no family wanted, the file is there: remove it
    reset: tuple[str, ...]  # keys the host's file set and no longer wanted: set back to 0
    ignored: tuple[str, ...]  # keys of the host's file that are no sysctl name: not reset


@dataclass(frozen=True)
class FileWork:
    """A managed file's part (vmac_sysctls, needrestart_held): write it, or remove it."""
    content: str | None  # write the file with this text
    remove: bool  # not wanted and there: remove it


@dataclass(frozen=True)
class RealServerWork:
    """dr_real_server's part: an LVS-DR real server's ARP sysctls and addresses on lo."""
    drop: tuple[str, ...]  # ADDRESS/PREFIX on lo the unit had put there, no longer wanted
    sysctls: str | None  # write the ARP sysctl file with this text, then apply it
    unit: str | None  # write the unit with this text, then start it (lvs_dr.sh)
    start: bool  # the unit is in place, a wanted address is not on lo: start it again
    remove_unit: bool  # no VIP wanted, the unit is there: disable and remove it
    remove_sysctls: bool  # no VIP wanted, the sysctl file is there: remove it


@dataclass(frozen=True)
class DropinWork:
    """service_dropin's part: keepalived.service's drop-in and systemd's view of it."""
    unmask: bool  # the unit is masked: unmask it
    content: str | None  # write the drop-in with this text
    reload: bool  # systemctl daemon-reload (after the drop-in, when written)


@dataclass(frozen=True)
class OptionsWork:
    """daemon_options' part: keepalived's command-line options file."""
    path: str  # the options file (host_paths.OPTIONS_FILES)
    content: str  # its text (render.host_level.options_file)
    mark_restart: bool  # keepalived runs: write the restart-pending marker with it


@dataclass(frozen=True)
class HostLevelWork:
    """What the host level changes on one host: for each operation its part, None where
    it has nothing to do (it is then not added)."""
    allow_vrrp: FirewallWork | None  # rules to add, the script to install (operations.firewall)
    nonlocal_bind: NonlocalBindWork | None  # the ip_nonlocal_bind sysctl
    vmac_sysctls: FileWork | None  # the sysctl file under VRRP virtual MACs
    dr_real_server: RealServerWork | None  # LVS-DR real server: ARP sysctls, lo addresses
    service_dropin: DropinWork | None  # keepalived.service's drop-in, unmask, reload
    needrestart_held: FileWork | None  # needrestart's snippet
    daemon_options: OptionsWork | None  # the options file (None too when not managed)
    prune_vrrp: tuple[str, ...] | None  # the rules to keep; former peers' rules go


def sysctl_keys(lines):
    """The keys a sysctl.d file (its `lines`, read from the host) sets, and those that are
    no sysctl name (the text is the host's: only a sysctl name reaches a command)."""
    keys, ignored = [], []
    for line in lines:
        if "=" not in line or line.lstrip().startswith(("#", ";")):
            continue
        key = line.split("=")[0].strip().removeprefix("-")
        (keys if SYSCTL_KEY_RE.fullmatch(key) else ignored).append(key)
    return tuple(keys), tuple(ignored)


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


def differs(host_state, path, content):
    """Whether `path` on the host is missing or holds other than `content`."""
    return host_state.sha256.get(path) != sha256(content)


def managed_rules(settings, host_state):
    """The firewall script's arguments (render.firewall.firewall_rules) where the deploy
    manages the host's firewall, else ()."""
    rules = firewall_rules(settings)
    return rules if rules and is_managed(settings.host_level, host_state) else ()


def allow_vrrp_work(rules, host_state: HostLevelState):
    """allow_vrrp's part for `rules` (managed_rules; () leaves the firewall alone)."""
    script = host_state.sha256.get(FIREWALL_COMMAND) != FIREWALL_SCRIPT_SHA256
    if not rules or not (script or host_state.firewall_missing):
        return None
    return FirewallWork(rules=rules, script=script, add=host_state.firewall_missing)


def prune_vrrp_work(rules, host_state: HostLevelState):
    """prune_vrrp's part: `rules` when the probe found a former peer's rule of ours."""
    return rules if rules and host_state.firewall_stale else None


def nonlocal_bind_work(families, host_state: HostLevelState):
    """nonlocal_bind's part: ip_nonlocal_bind = 1 for `families` ("ipv4", "ipv6"), persisted
    and running; with no families, the file removed and what it had set back to 0."""
    wanted = [NONLOCAL_BIND[family] for family in families]
    had, ignored = sysctl_keys(host_state.lines.get(SYSCTL_FILE, []))
    content = render_host.sysctl_file(families)
    write = bool(wanted) and differs(host_state, SYSCTL_FILE, content)
    apply = bool(wanted) and not write and any(host_state.sysctl.get(key) != "1"
                                               for key in wanted)
    remove = not wanted and SYSCTL_FILE in host_state.sha256
    reset = tuple(key for key in had if key not in wanted)
    if not (write or apply or remove or reset):
        return None
    return NonlocalBindWork(content=content if write else None, apply=apply, remove=remove,
                            reset=reset, ignored=ignored)


def file_work(path, content, host_state: HostLevelState):
    """A managed file's part: `content` written where it differs; None (not wanted)
    removed where it is there."""
    if content is not None and differs(host_state, path, content):
        return FileWork(content=content, remove=False)
    if content is None and path in host_state.sha256:
        return FileWork(content=None, remove=True)
    return None


def vmac_sysctls_work(interfaces, host_state: HostLevelState):
    """vmac_sysctls' part: the ARP sysctls under VRRP virtual MACs on `interfaces`
    (render.host_level.vmac_interfaces); none: the file removed."""
    content = render_host.vmac_sysctl_file(interfaces) if interfaces else None
    return file_work(VMAC_SYSCTL_FILE, content, host_state)


def needrestart_work(present, host_state: HostLevelState):
    """needrestart_held's part: its snippet in place (`present`) or removed."""
    content = render_host.needrestart_conf() if present else None
    return file_work(NEEDRESTART_CONF, content, host_state)


def real_server_work(vips, host_state: HostLevelState):
    """dr_real_server's part: this host an LVS-DR real server of `vips` (model.lvs_dr);
    none: every address of the unit off lo, the unit and the sysctl file removed."""
    wanted = [render_host.host_prefix(vip) for vip in vips]
    on_lo = lo_addresses(host_state.lo)
    # (only the unit on the host names them: a run that died after writing the new unit
    # would leave them on lo for good)
    drop = tuple(address for address in lo_addresses(render_host.dr_unit_addresses(
        host_state.lines.get(DR_UNIT, []))) if address not in wanted and address in on_lo)
    sysctls = unit = None
    start = False
    if vips:
        if differs(host_state, DR_SYSCTL_FILE, render_host.dr_sysctl_file()):
            sysctls = render_host.dr_sysctl_file()
        if differs(host_state, DR_UNIT, render_host.dr_unit(vips)):
            unit = render_host.dr_unit(vips)
        else:
            start = any(address not in on_lo for address in wanted)
    remove_unit = not vips and DR_UNIT in host_state.sha256
    remove_sysctls = not vips and DR_SYSCTL_FILE in host_state.sha256
    if not (drop or sysctls or unit or start or remove_unit or remove_sysctls):
        return None
    return RealServerWork(drop=drop, sysctls=sysctls, unit=unit, start=start,
                          remove_unit=remove_unit, remove_sysctls=remove_sysctls)


def dropin_work(content, host_state: HostLevelState, daemon_reload=True, reload_needed=False):
    """service_dropin's part: the drop-in `content` (render.host_level.service_dropin) in
    place, the unit unmasked; systemd reloaded (`daemon_reload`: False when the package
    step of the same run reloads) when the drop-in changed or it says it needs one
    (`reload_needed`)."""
    unmask = host_state.unit.startswith("masked")
    write = differs(host_state, DROPIN, content)
    reload = daemon_reload and (write or reload_needed)
    if not (unmask or write or reload):
        return None
    return DropinWork(unmask=unmask, content=content if write else None, reload=reload)


def options_work(path, variable, options, host_state: HostLevelState, active=False):
    """daemon_options' part: `options` written to `path` as `variable="..."` where that
    differs; with the restart-pending marker where keepalived runs (`active`)."""
    content = render_host.options_file(variable, options)
    if not differs(host_state, path, content):
        return None
    return OptionsWork(path=path, content=content, mark_restart=active)


def dump_conf_refusal(settings, host_state: HostLevelState, manager=None):
    """Why this host must not take its config (None: it may): keepalived_daemon_options is
    unset (the deploy leaves the host's options file as it is), the host's options file has
    keepalived dump its config (-d, --dump-conf: model.host_level.dumps_config) and the
    config holds a password, which keepalived would then write to the journal at every
    start and reload. `manager`: "apt" or "dnf" (None: a host without keepalived)."""
    if manager is None or settings.host_level.daemon_options is not None:
        return None
    path, variable = OPTIONS_FILES[manager]
    if not dumps_config(option_words(host_state.lines.get(path, []), variable)):
        return None
    holders = password_holders(settings.global_defs, settings.scripts, settings.instances,
                               settings.include_files)
    if not holders:
        return None
    return (f"{settings.host}: {path} sets -d/--dump-conf in {variable} (this host's own "
            "options: keepalived_daemon_options is unset): keepalived would write its whole "
            f"config, the password included ({', '.join(holders)}), to the journal at every "
            "start and reload. Nothing was changed on this host (a keepalived running there "
            f"keeps its config and VIPs). Remove -d/--dump-conf from {variable} in {path}, "
            "or set keepalived_daemon_options (e.g. ['--log-detail']: the deploy then "
            "writes that file)")


def work(settings, host_state: HostLevelState, manager=None, active=False, daemon_reload=True,
         reload_needed=False) -> HostLevelWork:
    """Everything the host level has to change on this host: `settings` its Settings,
    `host_state` the host-level fact (probe.host_state); `manager` "apt" or "dnf" (None:
    the daemon options are left alone, a host without keepalived); `active`: keepalived
    ran when probed; `daemon_reload`, `reload_needed`: see dropin_work."""
    level = settings.host_level
    rules = managed_rules(settings, host_state)
    # (the drop-in's start hook reads the live config's peers file: the same drop-in for
    # any peers)
    dropin = render_host.service_dropin(level, installed_command(settings.paths)
                                        if rules else None)
    options = None
    if manager is not None and level.daemon_options is not None:
        path, variable = OPTIONS_FILES[manager]
        options = options_work(path, variable, level.daemon_options, host_state, active)
    return HostLevelWork(
        allow_vrrp=allow_vrrp_work(rules, host_state),
        nonlocal_bind=nonlocal_bind_work(level.nonlocal_bind, host_state),
        vmac_sysctls=vmac_sysctls_work(render_host.vmac_interfaces(settings.instances),
                                       host_state),
        dr_real_server=real_server_work(settings.dr_vips, host_state),
        service_dropin=dropin_work(dropin, host_state, daemon_reload, reload_needed),
        needrestart_held=needrestart_work(True, host_state),
        daemon_options=options,
        prune_vrrp=prune_vrrp_work(rules, host_state))
