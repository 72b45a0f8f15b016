"""The host side of LVS (model.lvs): a kernel without IPVS refused before anything
changes, and ipvsadm installed where a host has LVS.

keepalived 2.2.7 with any virtual_server on a kernel without IPVS logs `IPVS: Can't
initialize ipvs`, its checker child exits FATAL and the whole daemon terminates, VRRP
included: every VIP of the host is lost. `keepalived -t` passes such a config. So the
probe (facts/ipvs.sh) loads ip_vs and reads /proc/net/ip_vs, and a host whose kernel has
none fails at the first step of the run (`ipvs_present`), its running keepalived, config
and VIPs untouched. A host that fails before it prepared is what stops the peers of a
change they must agree on from committing it alone (operations.cluster_commit).
"""

import shlex

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation

from ..host_paths import APT_CACHE_SECONDS, APT_STAMP, LOCK_WAIT_SECONDS
from . import state_files
from .system import APT_INSTALL, APT_UPDATE, DNF_INSTALL, PACKAGE_SCRIPT

IPVSADM = "ipvsadm"


def ipvs_refusal(host_name, lvs_used, ipvs):
    """Why this host must not take its config (None: it may): it has LVS (`lvs_used`) and
    its kernel showed no IPVS (`ipvs`: the probe's answer, None when not asked)."""
    if not lvs_used or ipvs:
        return None
    return (f"{host_name}: this host's kernel has no IPVS (after modprobe ip_vs there is no "
            "/proc/net/ip_vs): keepalived with a virtual server would terminate here, VRRP "
            "included, and every VIP of this host would be lost (keepalived -t does not "
            "catch it). Nothing was changed on this host (a keepalived running there keeps "
            "its config and VIPs). Use a kernel with IPVS (CONFIG_IP_VS, the ip_vs module), or remove "
            "keepalived_virtual_servers, keepalived_virtual_server_groups and "
            "keepalived_lvs_* from this host's data (and LVS blocks from its "
            "keepalived_include_files and global_defs' extra_lines)")


@operation()
def ipvs_present(refusal: str | None):
    """
    Fail the host, changing nothing, when its config has LVS and its kernel no IPVS; add
    it before any other step.

    + refusal: why the host must not take its config (``ipvs_refusal``: the host plan's
      ``ipvs_refusal``), or None: the kernel has IPVS, or the config no LVS

    **Example:**

    .. code:: python

        ipvs_present(name="Check that the kernel has IPVS",
                     refusal=ipvs_refusal(host.name, settings.ipvs_needed, probe.ipvs))
    """
    if refusal is None:
        host.noop("the kernel has IPVS, or the config no LVS")
        return
    yield StringCommand(*state_files.refusal(refusal))


@operation()
def ipvsadm_package(manager: str, proxy: str | None = None,
                    cache_seconds: int = APT_CACHE_SECONDS,
                    lock_wait: int = LOCK_WAIT_SECONDS):
    """
    Install ipvsadm (IPVS's command line: what an operator reads the virtual servers with)
    under the deploy lock; added where the host plan says so (``HostPlan.ipvsadm``: the
    config has LVS, the probe found no ipvsadm) and no keepalived install of the run takes
    it along in its own command.
    It never touches keepalived: no restart marker, the package's own scripts start no
    keepalived.

    + manager: ``"apt"`` or ``"dnf"``
    + proxy: an HTTP proxy for the download only
    + cache_seconds: apt's lists older than this are refreshed first
    + lock_wait: seconds to wait for another run's lock on the host

    **Example:**

    .. code:: python

        ipvsadm_package(name="Install ipvsadm", manager="apt")
    """
    refresh = ""
    if manager == "apt":
        via = f" -o Acquire::http::Proxy={shlex.quote(proxy)}" if proxy else ""
        install, refresh = f"{APT_INSTALL}{via} {IPVSADM}", f"{APT_UPDATE}{via}"
    else:
        via = f" --setopt=proxy={shlex.quote(proxy)}" if proxy else ""
        install = f"{DNF_INSTALL}{via} {IPVSADM}"
    # package.sh: not running (no marker), no policy, no user, no unit reload
    yield StringCommand(*state_files.locked(
        PACKAGE_SCRIPT, "install ipvsadm", "no", QuoteString(""), QuoteString(""),
        QuoteString(APT_STAMP), str(cache_seconds), QuoteString(refresh), QuoteString(""),
        QuoteString(""), QuoteString(install), wait=lock_wait))
