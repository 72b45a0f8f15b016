"""The user, package and service operations of the deploy, given what the host plan
(operations.plan, from the host probe) decided; and what every deploy asks first: this
host's validated settings, its package manager.

pyinfra's server.user, apt.packages and systemd.service would each read facts of their
own; these are added only where the host's plan, worked out once from the `HostProbe`
(facts.probe), says there is work, and send the same commands those operations send.
"""

import shlex
from typing import NamedTuple

from pyinfra import host, state
from pyinfra.api import QuoteString, StringCommand, operation
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.server import LinuxDistribution

from ..host_paths import (
    APT_CACHE_SECONDS,
    APT_STAMP,
    LOCK_WAIT_SECONDS,
    POLICY_RC_D,
    RESTART_PENDING,
    created_user_record,
)
from ..model.fleet import check_inventory
from ..shipped import shell_script
from . import state_files

APT_FAMILY = {"debian", "ubuntu"}
DNF_FAMILY = {"rhel", "fedora", "centos", "rocky", "almalinux", "ol"}

# Without recommends: keepalived's (ipvsadm) serve LVS, installed on its own where a host
# has LVS (operations.lvs), and with those of its libraries (perl, libicu,
# shared-mime-info) they would double what a host downloads and unpacks.
# NEEDRESTART_SUSPEND: needrestart (Ubuntu servers ship it, Debian has it), which apt runs
# after dpkg (DPkg::Post-Invoke: /usr/lib/needrestart/apt-pinvoke) and which restarts the
# services whose binary or libraries changed itself, with `systemctl restart` (not through
# invoke-rc.d: no policy-rc.d stops it), on every host the install runs on at once. Set,
# apt-pinvoke only says "needrestart is suspended" (needrestart 3.6, Debian 12).
NO_RESTARTER = "NEEDRESTART_SUSPEND=1"
APT_INSTALL = (f'{NO_RESTARTER} DEBIAN_FRONTEND=noninteractive apt-get -y '
               '--no-install-recommends '
               '-o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" install')
# Package descriptions in other files (Translation-*) are not needed to install: skipping
# them makes a first refresh about three times faster. The gzip lists, where a repository
# has them (Debian's and Ubuntu's do), cost a third more to download than the xz ones but
# a third less CPU to unpack: on a small host that is the slower part (bookworm's main
# list: 12 MB gz, 8.8 MB xz; a first refresh 0.8 s instead of 1.1 s of CPU).
APT_UPDATE = ("apt-get update -o Acquire::Languages=none "
              "-o Acquire::CompressionTypes::Order::=gz")
# The install runs under the deploy lock, with the restart-pending marker written first
# when keepalived runs, and (apt) a policy-rc.d of ours that keeps the package's
# maintainer scripts from restarting keepalived (or refused under an operator's that does
# not): the deploy restarts it, host by host.
PACKAGE_SCRIPT = state_files.FUNCTIONS + shell_script("operations/package.sh")
# dnf: rpm's systemd scriptlets (systemd-update-helper) restart no unit with this set
# (needrestart's too, should a hook run it there).
DNF_INSTALL = f"{NO_RESTARTER} SYSTEMD_OFFLINE=1 dnf install -y"
# Unit file states (`systemctl show -p UnitFileState`) that need no `systemctl enable`.
ENABLED = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"}


def host_settings():
    """This host's validated Settings (validating the whole inventory on the first call)."""
    return check_inventory(state.inventory)[host.name]


def package_manager(os_release=None):
    """"apt" or "dnf" for the distro /etc/os-release names (read from the host when not
    given), or a DeployError that names it."""
    if os_release is None:
        os_release = (host.get_fact(LinuxDistribution) or {}).get("release_meta", {})
    family = {os_release.get("ID", "")} | set(os_release.get("ID_LIKE", "").split())
    if family & APT_FAMILY:
        return "apt"
    if family & DNF_FAMILY:
        return "dnf"
    raise DeployError(
        f"{host.name}: unsupported distro {os_release.get('ID') or 'unknown'!r} "
        f"(ID_LIKE {os_release.get('ID_LIKE', '')!r}); supported: Debian/Ubuntu (apt), "
        "RHEL/Rocky/Alma/Fedora (dnf)")


class SystemUser(NamedTuple):
    """useradd's arguments for a system user without a home directory."""
    user: str  # the user name
    comment: str  # its GECOS comment
    home: str  # its home (never created)
    shell: str  # its login shell


@operation()
def system_user(user: str, comment: str, home: str, shell: str):
    """
    Create a system user with no home directory; added where the host plan found none
    (``HostPlan.script_user``). A user made meanwhile by another run counts as created;
    an existing user is never changed: it may be an account the operator chose for the
    check scripts.

    + user: the user name
    + comment, home, shell: for useradd

    **Example:**

    .. code:: python

        system_user(name="Create the script user", user="keepalived_script",
                    comment="Keepalived health check script user", home="/nonexistent",
                    shell="/usr/sbin/nologin")
    """
    yield create_user(user, comment, home, shell)


def useradd(user, comment, home, shell):
    """The command that creates a system user without a home directory (a StringCommand)."""
    return StringCommand("useradd", "-d", QuoteString(home), "-s", QuoteString(shell), "-r",
                         "-c", QuoteString(comment), "-M", QuoteString(user))


def create_user(user, comment, home, shell, record=None):
    """Shell text: useradd, then the record that this deploy created the user
    (`record`, default host_paths.created_user_record: uninstall removes no other
    user); it counts as done when the user exists after it (another run made it
    meanwhile, and recorded it; useradd's "exists" exit, 9, also means a group of that
    name blocked it, and then there is no user)."""
    record = created_user_record(user) if record is None else record
    return (f"{useradd(user, comment, home, shell).get_raw_value()} && "
            f"touch {shlex.quote(record)} || getent passwd {shlex.quote(user)} >/dev/null")


def package_wanted(probe, version, manager):
    """Whether the package step installs or changes keepalived on this host (not when the
    installed version is the wanted one)."""
    installed = probe.package_version
    return installed is None or (version is not None
                                 and not _pinned(installed, version, manager))


def _pinned(installed, version, manager):
    """Whether the installed version is the pinned one (apt: exactly; dnf: VERSION or
    VERSION-RELEASE)."""
    if manager == "apt":
        return installed == version
    return installed == version or installed.startswith(f"{version}-")


@operation()
def keepalived_package(manager: str, version: str | None, active: bool,
                       cache_seconds: int = APT_CACHE_SECONDS, proxy: str | None = None,
                       lock_wait: int = LOCK_WAIT_SECONDS,
                       script_user: SystemUser | None = None, unit_reload: bool = True,
                       also: tuple[str, ...] = ()):
    """
    Install keepalived with apt or dnf, or the pinned ``version``; added where the host
    plan says so (``HostPlan.package``: not installed, or not the pinned version).
    apt's package lists are refreshed first when older than ``cache_seconds`` (the host
    tells, in the same command), and only when something is to be installed (a host that
    has keepalived needs no refresh).
    The package never restarts keepalived itself (apt: a policy-rc.d of ours for the
    duration of the install; dnf: ``SYSTEMD_OFFLINE=1`` for rpm's scriptlets), nor does
    needrestart after it (``NEEDRESTART_SUSPEND=1``); a host whose own policy-rc.d would
    let the package restart keepalived fails the step before anything is installed. When
    keepalived runs, the restart-pending marker is written first and the deploy restarts
    it, one host at a time (operations.rolling).

    + manager: ``"apt"`` or ``"dnf"``
    + version: a pin (``1:2.2.7-1+b2`` for apt, ``2.2.8`` for dnf) or None
    + active: keepalived runs (the probe's ``service_active``): the restart-pending marker
      is written before the install
    + cache_seconds: apt's lists older than this are refreshed first
    + proxy: an HTTP proxy (a fleet's package cache) for these downloads only
    + lock_wait: seconds to wait for another run's lock on the host
    + script_user: the user check scripts run as, to create in the same command (a
      ``SystemUser``: the host plan's ``script_user``, where the probe found none), or None
    + unit_reload: after the install, reload systemd's units where they changed (dnf:
      always), so that the drop-in written before the install is loaded with the unit
    + also: other packages installed in the same command (unpinned), e.g. ipvsadm where
      the host has LVS

    **Example:**

    .. code:: python

        keepalived_package(name="Install keepalived", manager="apt", version=None,
                           active=False, proxy="http://apt-cache:3142")
    """
    # Quoted: a pin is data (validation allows shell characters such as ; and $).
    refresh = ""
    if manager == "apt":
        via = f" -o Acquire::http::Proxy={shlex.quote(proxy)}" if proxy else ""
        # a pin may name an older version than installed: a rollback
        downgrade = " --allow-downgrades" if version else ""
        install = (f"{APT_INSTALL}{via}{downgrade} "
                   + shlex.join([f"keepalived={version}" if version else "keepalived",
                                 *also]))
        # In the same command: each host goes on to unpack while others still download.
        refresh = f"{APT_UPDATE}{via}"
    else:
        via = f" --setopt=proxy={shlex.quote(proxy)}" if proxy else ""
        install = f"{DNF_INSTALL}{via} " + shlex.join([f"keepalived-{version}" if version
                                                       else "keepalived", *also])
    create = create_user(*script_user) if script_user is not None else ""
    reload = "" if not unit_reload else "if-needed" if manager == "apt" else "always"
    yield StringCommand(*state_files.locked(
        PACKAGE_SCRIPT, "install keepalived", "yes" if active else "no",
        QuoteString(RESTART_PENDING),
        QuoteString(POLICY_RC_D if manager == "apt" else ""),
        QuoteString(APT_STAMP), str(cache_seconds), QuoteString(refresh), QuoteString(create),
        QuoteString(reload), QuoteString(install), wait=lock_wait))


@operation()
def service_running(service: str, steps: tuple[str, ...], refused=None):
    """
    Start ``service`` and enable it at boot, where it is not already (one command).

    + service: the systemd unit
    + steps: the shell commands that do it (``start_steps``: the host plan's ``start``),
      each run if the one before succeeded; none: nothing to do
    + refused: a callable asked when the operation runs: None, or why the service must
      not start in this run (cluster_commit.start_refused); the host then fails with it

    **Example:**

    .. code:: python

        service_running(name="Start keepalived", service="keepalived.service",
                        steps=start_steps("keepalived.service", probe))
    """
    if not steps:
        host.noop(f"{service} is running and enabled")
        return
    why = refused() if refused is not None and state.is_executing else None
    if why:
        yield StringCommand(*state_files.refusal(why))
        return
    yield " && ".join(steps)


def start_steps(service, probe):
    """The shell commands (text, each to run if the one before succeeded) that enable
    ``service`` at boot and start it where the probe found it not so; () when it runs
    and is enabled. (service_running sends them; the config step can run them in its
    own command, right after the config it makes live: a round trip fewer.)"""
    steps = []
    if probe.service_enabled not in ENABLED:
        # Asked again on the host: the package, installed since the probe, may have enabled
        # the unit itself (Debian's does), and `systemctl enable` costs 0.2 s of CPU there
        # (update-rc.d, a perl script, for the SysV script the package ships as well).
        steps.append(f"{{ systemctl is-enabled --quiet {service} || "
                     f"systemctl enable {service}; }}")
    if not probe.service_active:
        steps.append(f"systemctl start {service}")
        if probe.restart_pending is not None:  # a start reads what the restart was for
            steps.append(f"rm -f {shlex.quote(RESTART_PENDING)}")
    return tuple(steps)
