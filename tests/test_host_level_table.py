"""The host level tested as data: what each host needs, settings and the host-level fact in,
HostLevelWork out (operations.host_level_work.work, pure); then each operation, its part of
the work in, commands out (`op._inner`, with no deploy around it)."""

import shlex
from dataclasses import replace

import pytest
from pyinfra.api import FileUploadCommand

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.facts.host_level import HostLevelState
from pyinfra_keepalived.host_paths import (
    DR_SYSCTL_FILE,
    DR_UNIT,
    DR_UNIT_NAME,
    DROPIN,
    FIREWALL_COMMAND,
    NEEDRESTART_CONF,
    SYSCTL_FILE,
    VMAC_SYSCTL_FILE,
)
from pyinfra_keepalived.operations import firewall, host_level, state_files
from pyinfra_keepalived.operations.firewall import (
    FIREWALL_SCRIPT,
    FirewallWork,
    installed_command,
)
from pyinfra_keepalived.operations.host_level_work import (
    DropinWork,
    FileWork,
    HostLevelWork,
    NonlocalBindWork,
    OptionsWork,
    RealServerWork,
    work,
)
from pyinfra_keepalived.operations.uploads import sha256
from pyinfra_keepalived.render import host_level as render_host
from pyinfra_keepalived.render.firewall import firewall_rules

from .fakehosts import CLEANUP, TEMP, file_sent
from .hostdata import assert_valid, host_01

pytestmark = pytest.mark.unit

SETTINGS = assert_valid(host_01())  # VI_1: multicast on eth0
RULES = firewall_rules(SETTINGS)
DROPIN_TEXT = render_host.service_dropin(SETTINGS.host_level, installed_command(SETTINGS.paths))
PLAIN_DROPIN = render_host.service_dropin(SETTINGS.host_level)  # (no firewall start hook)
NEEDRESTART = render_host.needrestart_conf()
NONE = HostLevelWork(allow_vrrp=None, nonlocal_bind=None, vmac_sysctls=None,
                     dr_real_server=None, service_dropin=None, needrestart_held=None,
                     daemon_options=None, prune_vrrp=None)
VIP = "192.0.2.10"
OPTIONS = ("--log-detail",)
APT_OPTIONS = render_host.options_file("DAEMON_ARGS", OPTIONS)
OPTIONS_FILE = "/etc/default/keepalived"


def host(firewall="nftables", status="ok", files=None, drop=(), **fields):
    """A host's HostLevelState: as the deploy leaves it for SETTINGS (nftables active, the
    script, the drop-in with its start hook, needrestart's snippet), but for the firewall
    `status`, the `files` {path: content} added or changed, those in `drop` missing, and
    the other `fields`."""
    contents = {FIREWALL_COMMAND: FIREWALL_SCRIPT, DROPIN: DROPIN_TEXT,
                NEEDRESTART_CONF: NEEDRESTART, **(files or {})}
    return HostLevelState(
        firewall=firewall, firewall_ok=status == "ok",
        firewall_missing=status not in ("ok", "stale"),
        firewall_stale="stale" in status.split("+"),
        sha256={path: sha256(text) for path, text in contents.items() if path not in drop},
        **fields)


def level(settings=SETTINGS, **changes):
    """`settings` with its host level changed."""
    return replace(settings, host_level=replace(settings.host_level, **changes))


# -- the work: settings and the host's state in, HostLevelWork out --

@pytest.mark.parametrize("settings, state, arguments, expected", [
    (SETTINGS, host(), {}, {}),
    # firewall
    (SETTINGS, host(status="missing"), {},
     {"allow_vrrp": FirewallWork(rules=RULES, script=False, add=True)}),
    (SETTINGS, host(drop=(FIREWALL_COMMAND,)), {},
     {"allow_vrrp": FirewallWork(rules=RULES, script=True, add=False)}),
    (SETTINGS, host(status="stale"), {}, {"prune_vrrp": RULES}),
    (SETTINGS, host(status="missing+stale"), {},
     {"allow_vrrp": FirewallWork(rules=RULES, script=False, add=True), "prune_vrrp": RULES}),
    # no active firewall, "auto": left alone, the drop-in without the start hook
    (SETTINGS, host("none", files={DROPIN: PLAIN_DROPIN}, drop=(FIREWALL_COMMAND,)), {}, {}),
    (level(firewall="off"), host(status="missing"), {},
     {"service_dropin": DropinWork(unmask=False, content=PLAIN_DROPIN, reload=True)}),
    # ip_nonlocal_bind
    (level(nonlocal_bind=("ipv4",)), host(), {},
     {"nonlocal_bind": NonlocalBindWork(content=render_host.sysctl_file(("ipv4",)),
                                        apply=False, remove=False, reset=(), ignored=())}),
    (level(nonlocal_bind=("ipv4",)),
     host(files={SYSCTL_FILE: render_host.sysctl_file(("ipv4",))},
          sysctl={"net.ipv4.ip_nonlocal_bind": "0"}), {},
     {"nonlocal_bind": NonlocalBindWork(content=None, apply=True, remove=False, reset=(),
                                        ignored=())}),
    (level(nonlocal_bind=("ipv4",)),
     host(files={SYSCTL_FILE: render_host.sysctl_file(("ipv4",))},
          sysctl={"net.ipv4.ip_nonlocal_bind": "1"}), {}, {}),
    # ipv6 no longer wanted: the new file, and ipv6's value back to 0
    (level(nonlocal_bind=("ipv4",)),
     host(files={SYSCTL_FILE: render_host.sysctl_file(("ipv4", "ipv6"))},
          lines={SYSCTL_FILE: render_host.sysctl_file(("ipv4", "ipv6")).splitlines()}), {},
     {"nonlocal_bind": NonlocalBindWork(content=render_host.sysctl_file(("ipv4",)),
                                        apply=False, remove=False,
                                        reset=("net.ipv6.ip_nonlocal_bind",), ignored=())}),
    # none wanted: the file goes; a key of the host's file that is no sysctl name is left out
    (SETTINGS,
     host(files={SYSCTL_FILE: "x"},
          lines={SYSCTL_FILE: ["net.ipv4.ip_nonlocal_bind = 1", "$(reboot) = 1"]}), {},
     {"nonlocal_bind": NonlocalBindWork(content=None, apply=False, remove=True,
                                        reset=("net.ipv4.ip_nonlocal_bind",),
                                        ignored=("$(reboot)",))}),
    # sysctls under VRRP virtual MACs
    (assert_valid(host_01(use_vmac=True)), host(), {},
     {"vmac_sysctls": FileWork(content=render_host.vmac_sysctl_file(("eth0",)),
                               remove=False)}),
    (assert_valid(host_01(use_vmac=True)),
     host(files={VMAC_SYSCTL_FILE: render_host.vmac_sysctl_file(("eth0",))}), {}, {}),
    (SETTINGS, host(files={VMAC_SYSCTL_FILE: "x"}), {},
     {"vmac_sysctls": FileWork(content=None, remove=True)}),
    # the drop-in
    (SETTINGS, host(files={DROPIN: "[Service]\nRestart=no\n"}), {},
     {"service_dropin": DropinWork(unmask=False, content=DROPIN_TEXT, reload=True)}),
    (SETTINGS, host(files={DROPIN: "[Service]\nRestart=no\n"}), {"daemon_reload": False},
     {"service_dropin": DropinWork(unmask=False, content=DROPIN_TEXT, reload=False)}),
    (SETTINGS, host(), {"reload_needed": True},
     {"service_dropin": DropinWork(unmask=False, content=None, reload=True)}),
    (SETTINGS, host(), {"reload_needed": True, "daemon_reload": False}, {}),
    (SETTINGS, host(unit="masked"), {},
     {"service_dropin": DropinWork(unmask=True, content=None, reload=False)}),
    # needrestart's snippet
    (SETTINGS, host(drop=(NEEDRESTART_CONF,)), {},
     {"needrestart_held": FileWork(content=NEEDRESTART, remove=False)}),
    # daemon options: changed, keepalived running (the restart-pending marker) or not
    (level(daemon_options=OPTIONS), host(), {"manager": "apt", "active": True},
     {"daemon_options": OptionsWork(path=OPTIONS_FILE, content=APT_OPTIONS,
                                    mark_restart=True)}),
    (level(daemon_options=OPTIONS), host(files={OPTIONS_FILE: "DAEMON_ARGS=-D\n"}),
     {"manager": "apt", "active": False},
     {"daemon_options": OptionsWork(path=OPTIONS_FILE, content=APT_OPTIONS,
                                    mark_restart=False)}),
    (level(daemon_options=OPTIONS), host(files={OPTIONS_FILE: APT_OPTIONS}),
     {"manager": "apt", "active": True}, {}),
    (level(daemon_options=OPTIONS), host(), {}, {}),  # (no package manager: no keepalived)
    (SETTINGS, host(files={OPTIONS_FILE: "DAEMON_ARGS=-D\n"}), {"manager": "apt"}, {}),
    # an LVS-DR real server
    (replace(SETTINGS, dr_vips=(VIP,)), host(), {},
     {"dr_real_server": RealServerWork(drop=(), sysctls=render_host.dr_sysctl_file(),
                                       unit=render_host.dr_unit((VIP,)), start=False,
                                       remove_unit=False, remove_sysctls=False)}),
    (replace(SETTINGS, dr_vips=(VIP,)),
     host(files={DR_SYSCTL_FILE: render_host.dr_sysctl_file(),
                 DR_UNIT: render_host.dr_unit((VIP,))}, lo=("127.0.0.1/8", f"{VIP}/32")),
     {}, {}),
    (replace(SETTINGS, dr_vips=(VIP,)),  # (the address taken off lo by hand)
     host(files={DR_SYSCTL_FILE: render_host.dr_sysctl_file(),
                 DR_UNIT: render_host.dr_unit((VIP,))}, lo=("127.0.0.1/8",)), {},
     {"dr_real_server": RealServerWork(drop=(), sysctls=None, unit=None, start=True,
                                       remove_unit=False, remove_sysctls=False)}),
    # no longer a real server: its address off lo, the unit and the sysctl file removed
    (SETTINGS, host(files={DR_SYSCTL_FILE: render_host.dr_sysctl_file(),
                           DR_UNIT: render_host.dr_unit((VIP,))},
                    lines={DR_UNIT: render_host.dr_unit((VIP,)).splitlines()},
                    lo=("127.0.0.1/8", f"{VIP}/32")), {},
     {"dr_real_server": RealServerWork(drop=(f"{VIP}/32",), sysctls=None, unit=None,
                                       start=False, remove_unit=True, remove_sysctls=True)}),
], ids=["nothing", "rule-missing", "script-missing", "former-peer", "peer-changed",
        "no-firewall", "firewall-off", "nonlocal-missing", "nonlocal-not-running",
        "nonlocal-in-place", "nonlocal-one-family-less", "nonlocal-to-remove", "vmac",
        "vmac-in-place", "vmac-to-remove", "dropin-differs", "dropin-before-package",
        "reload-needed", "reload-needed-package-reloads", "masked", "needrestart-missing",
        "options-active", "options-inactive", "options-in-place", "options-no-manager",
        "options-unmanaged", "real-server", "real-server-in-place", "real-server-address-gone",
        "real-server-no-longer"])
def test_work(settings, state, arguments, expected):
    assert work(settings, state, **arguments) == replace(NONE, **expected)


# -- the operations: their part of the work in, commands out --

@pytest.fixture
def fixed_upload_dir(monkeypatch):
    """Uploads go through one private directory named TEMP (the real one is named from
    pyinfra's host)."""
    for module in ("uploads", "host_level"):
        monkeypatch.setattr(f"pyinfra_keepalived.operations.{module}.private_dir",
                            lambda: TEMP)


@pytest.fixture
def host_log(monkeypatch):
    """What an operation logs through pyinfra's host (`host.log`), as (message, level)."""
    logged = []

    class Host:
        def log(self, message, log_func=None):
            logged.append((message, log_func.__name__ if log_func else "info"))

    monkeypatch.setattr(host_level, "host", Host())
    return logged


def sent(commands):
    """What an operation sends, as text (an upload as `upload DEST`)."""
    return [f"upload {command.dest}" if isinstance(command, FileUploadCommand)
            else command.get_raw_value() for command in commands]


APPLY_VMAC = (f"sh -c {shlex.quote(host_level.SYSCTL_APPLY)} sysctl-apply "
              f"{VMAC_SYSCTL_FILE}")
START_DR = f"sh -c {shlex.quote(host_level.LVS_DR)} lvs-dr {DR_UNIT_NAME}"
ADD = f"sh -c {shlex.quote(FIREWALL_SCRIPT)} vrrp-firewall add {' '.join(RULES)}"


@pytest.mark.usefixtures("fixed_upload_dir", "host_log")
@pytest.mark.parametrize("operation, part, expected", [
    (firewall.allow_vrrp, FirewallWork(rules=RULES, script=True, add=True),
     [*file_sent(FIREWALL_COMMAND, "755"), ADD]),
    (firewall.allow_vrrp, FirewallWork(rules=RULES, script=False, add=True), [ADD]),
    (firewall.allow_vrrp, FirewallWork(rules=RULES, script=True, add=False),
     file_sent(FIREWALL_COMMAND, "755")),
    (host_level.nonlocal_bind,
     NonlocalBindWork(content="net.ipv4.ip_nonlocal_bind = 1\n", apply=False, remove=False,
                      reset=("net.ipv6.ip_nonlocal_bind",), ignored=()),
     [*file_sent(SYSCTL_FILE, "644", then=f"sysctl -q -p {SYSCTL_FILE}"),
      "sysctl -q -w net.ipv6.ip_nonlocal_bind=0"]),
    (host_level.nonlocal_bind,
     NonlocalBindWork(content=None, apply=True, remove=False, reset=(), ignored=()),
     [f"sysctl -q -p {SYSCTL_FILE}"]),
    (host_level.nonlocal_bind,
     NonlocalBindWork(content=None, apply=False, remove=True,
                      reset=("net.ipv4.ip_nonlocal_bind", "net.ipv6.ip_nonlocal_bind"),
                      ignored=()),
     [f"rm -f {SYSCTL_FILE}",
      "sysctl -q -w net.ipv4.ip_nonlocal_bind=0 net.ipv6.ip_nonlocal_bind=0"]),
    (host_level.vmac_sysctls, FileWork(content="x\n", remove=False),
     file_sent(VMAC_SYSCTL_FILE, "644", then=APPLY_VMAC)),
    (host_level.vmac_sysctls, FileWork(content=None, remove=True),
     [f"rm -f {VMAC_SYSCTL_FILE}"]),
    (host_level.dr_real_server,
     RealServerWork(drop=("192.168.1.99/32",), sysctls="x\n", unit="y\n", start=False,
                    remove_unit=False, remove_sysctls=False),
     ["ip addr del 192.168.1.99/32 dev lo",
      *file_sent(DR_SYSCTL_FILE, "644", then=(f"sh -c {shlex.quote(host_level.SYSCTL_APPLY)}"
                                              f" sysctl-apply {DR_SYSCTL_FILE}")),
      *file_sent(DR_UNIT, "644", then=START_DR)]),
    (host_level.dr_real_server,
     RealServerWork(drop=(), sysctls=None, unit=None, start=True, remove_unit=False,
                    remove_sysctls=False), [START_DR]),
    (host_level.dr_real_server,
     RealServerWork(drop=(), sysctls=None, unit=None, start=False, remove_unit=True,
                    remove_sysctls=True),
     [f"systemctl disable --quiet {DR_UNIT_NAME} ; rm -f {DR_UNIT} && systemctl daemon-reload",
      f"rm -f {DR_SYSCTL_FILE}"]),
    (host_level.service_dropin, DropinWork(unmask=True, content="x\n", reload=True),
     ["systemctl unmask keepalived.service",
      *file_sent(DROPIN, "644", make_dir=True, then="systemctl daemon-reload")]),
    (host_level.service_dropin, DropinWork(unmask=False, content="x\n", reload=False),
     file_sent(DROPIN, "644", make_dir=True)),
    (host_level.service_dropin, DropinWork(unmask=False, content=None, reload=True),
     ["systemctl daemon-reload"]),
    (host_level.needrestart_held, FileWork(content="x\n", remove=False),
     file_sent(NEEDRESTART_CONF, "644", make_dir=True)),
    (host_level.needrestart_held, FileWork(content=None, remove=True),
     [f"rm -f {NEEDRESTART_CONF} && rmdir --ignore-fail-on-non-empty /etc/needrestart/conf.d "
      "/etc/needrestart"]),
], ids=["firewall-script-and-add", "firewall-add", "firewall-script", "nonlocal-write-reset",
        "nonlocal-apply", "nonlocal-remove", "vmac-write", "vmac-remove", "dr-changed",
        "dr-start", "dr-removed", "dropin-all", "dropin-no-reload", "dropin-reload",
        "needrestart-write", "needrestart-remove"])
def test_operation_commands(operation, part, expected):
    assert sent(operation._inner(work=part)) == expected


def test_prune_commands():
    assert sent(firewall.prune_vrrp._inner(rules=RULES)) == [
        f"sh -c {shlex.quote(FIREWALL_SCRIPT)} vrrp-firewall prune {' '.join(RULES)}"]


def test_ignored_sysctl_keys_are_named_in_a_warning(host_log):
    part = NonlocalBindWork(content=None, apply=False, remove=True, reset=(),
                            ignored=("$(reboot)",))
    assert sent(host_level.nonlocal_bind._inner(work=part)) == [f"rm -f {SYSCTL_FILE}"]
    assert host_log == [(f"{SYSCTL_FILE}: '$(reboot)' is not a sysctl name "
                         "(e.g. net.ipv4.ip_nonlocal_bind): not reset", "warning")]


MARKER = shlex.join(["sh", "-c", state_files.FUNCTIONS + 'mark_pending "$@"', "mark-restart",
                     host_paths.RESTART_PENDING, "options"])


@pytest.mark.usefixtures("fixed_upload_dir")
@pytest.mark.parametrize("mark_restart, steps", [
    (True, f"{MARKER} && install -o root -g root -m 644 {TEMP}/0 {OPTIONS_FILE}"),
    (False, f"install -o root -g root -m 644 {TEMP}/0 {OPTIONS_FILE}"),
])
def test_daemon_options_commands(mark_restart, steps):
    """The file (and, where keepalived runs, the restart-pending marker first) in one
    command, under the deploy lock; the upload dir goes outside it."""
    part = OptionsWork(path=OPTIONS_FILE, content=APT_OPTIONS, mark_restart=mark_restart)
    mkdir, upload, command = sent(host_level.daemon_options._inner(work=part, lock_wait=7))
    assert [mkdir, upload] == file_sent(OPTIONS_FILE, "644")[:2]
    cleanup, _, rest = command.partition(" TERM && ")
    assert f"{cleanup} TERM" == CLEANUP
    words = shlex.split(rest)
    assert words[:2] == ["sh", "-c"] and words[3:] == [
        "pyinfra-keepalived", host_paths.LOCK_FILE, host_paths.LOCK_HOLDER, "7",
        "write keepalived's daemon options"]
    assert words[2] == f"{state_files.LOCK_SCRIPT}\n{steps}"
