"""The keepalived deploys: what `deploy.py` runs on each host, in order.

    from operations.keepalived import keepalived
    keepalived()

All host data is validated (every host, and across hosts) before the first operation is
added, so bad data stops the run before any host is touched.
"""

from pyinfra import host, state
from pyinfra.api import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, dnf, server, systemd

from . import host_level, render
from .config_tree import config_tree
from .inventory_check import check_inventory

APT_FAMILY = {"debian", "ubuntu"}
DNF_FAMILY = {"rhel", "fedora", "centos", "rocky", "almalinux", "ol"}
SCRIPT_USER_COMMENT = "Keepalived health check script user"
APT_CACHE_SECONDS = 3600


def host_settings():
    """This host's validated Settings (validating the whole inventory on the first call)."""
    return check_inventory(state.inventory)[host.name]


def package_manager():
    """"apt" or "dnf" for this host's distro, or a DeployError that names it."""
    meta = (host.get_fact(LinuxDistribution) or {}).get("release_meta", {})
    family = {meta.get("ID", "")} | set(meta.get("ID_LIKE", "").split())
    if family & APT_FAMILY:
        return "apt"
    if family & DNF_FAMILY:
        return "dnf"
    raise DeployError(
        f"{host.name}: unsupported distro {meta.get('ID') or 'unknown'!r} "
        f"(ID_LIKE {meta.get('ID_LIKE', '')!r}); supported: Debian/Ubuntu (apt), "
        "RHEL/Rocky/Alma/Fedora (dnf)")


@deploy("Keepalived script user")
def script_user(settings):
    """The system user check scripts run as. It must exist before keepalived loads a
    config that names it: with enable_script_security keepalived drops every script."""
    server.user(
        name=f"Create the {settings.global_defs.script_user} system user",
        user=settings.global_defs.script_user,
        system=True,
        shell="/usr/sbin/nologin",
        home="/nonexistent",
        ensure_home=False,
        comment=SCRIPT_USER_COMMENT,
    )


@deploy("Keepalived package")
def package(settings, manager=None):
    """Install keepalived from the distro (`manager`: "apt"/"dnf", read from the host when
    not given). Returns the operation (did_change: restart)."""
    name = "keepalived"
    if (manager or package_manager()) == "apt":
        if settings.package_version:
            name = f"keepalived={settings.package_version}"
        return apt.packages(
            name="Install keepalived (apt)", packages=[name],
            update=True, cache_time=APT_CACHE_SECONDS,
        )
    if settings.package_version:
        name = f"keepalived-{settings.package_version}"
    return dnf.packages(name="Install keepalived (dnf)", packages=[name])


@deploy("Keepalived config")
def config(settings):
    """Directories, check scripts and config files, validated before they go live.
    Returns the operation (did_change: reload)."""
    return config_tree(
        name="Validate and install the keepalived config",
        files=render.config_files(settings),
        paths=settings.paths,
    )


@deploy("Keepalived service")
def service(installed, configured, options=None):
    """Keep keepalived enabled and running; restart after a package change or a change of
    its daemon options (`options`, read only at start), reload (SIGHUP, keeps VIPs) after a
    config change. A config change never restarts."""
    def restart_needed():
        return installed.did_change() or (options is not None and options.did_change())

    started = systemd.service(
        name="Enable and start keepalived", service="keepalived",
        running=True, enabled=True,
    )
    systemd.service(
        name="Restart keepalived (package or daemon options changed)", service="keepalived",
        restarted=True, _if=lambda: restart_needed() and not started.did_change(),
    )
    systemd.service(
        name="Reload keepalived (config changed)", service="keepalived", reloaded=True,
        _if=lambda: (configured.did_change() and not restart_needed()
                     and not started.did_change()),
    )


@deploy("Keepalived")
def keepalived():
    """Everything, in order: user, package, host level (firewall, sysctl, systemd drop-in,
    daemon options), config (validated), service."""
    settings = host_settings()
    script_user(settings)
    manager = package_manager()
    installed = package(settings, manager)
    options = host_level.prepare(settings, manager)
    configured = config(settings)
    service(installed, configured, options)
