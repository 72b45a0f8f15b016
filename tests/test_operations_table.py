"""Operations tested as pyinfra tests its own: table cases, arguments and facts in,
commands out (the operation's generator, `op._inner`, called with no deploy around it),
and the decisions that add them: facts in, arguments out."""

import os
import shlex
import socket
from dataclasses import replace

import pytest
from pyinfra.api import FileUploadCommand

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.facts.host_level import HostLevelState
from pyinfra_keepalived.facts.keepalived import KeepalivedTree, TreeEntry
from pyinfra_keepalived.facts.probe import HostProbe
from pyinfra_keepalived.operations import (
    config_tree,
    handover,
    lvs,
    plan,
    rolling,
    state_files,
    system,
)
from pyinfra_keepalived.render import config as render

from .fakehosts import APT_REFRESH, CREATE_USER, DNF, apt_install, package, tree_lines
from .hostdata import assert_valid, host_01

pytestmark = pytest.mark.unit

OURS = ["#!/bin/sh", state_files.POLICY_TAG]
MARKER = "2026-12-01T00:00:00Z package upgrade"
LVS = {"ip": "192.168.1.100", "port": 80, "real_servers": [{"ip": "192.168.1.11", "port": 80}]}


def words(commands):
    """The words each command (a StringCommand) runs, after `sh -c SCRIPT`."""
    return [shlex.split(command.get_raw_value())[3:] for command in commands]


def locked_words(wait, what, *args):
    """The words of a command under the deploy lock (state_files.locked)."""
    return ["pyinfra-keepalived", host_paths.LOCK_FILE, host_paths.LOCK_HOLDER, str(wait),
            what, *args]


# -- leftovers: the probe in, what is undone out; then its command --

@pytest.mark.parametrize("policy_rc_d, drain, pending, left", [
    (None, None, None, (False, False)),  # nothing left
    (None, "0", None, (False, False)),  # undrained
    (None, "-253", None, (False, True)),  # drained, no restart pending: undrain
    (None, "-253", MARKER, (False, False)),  # a restart still pending undrains it
    (OURS, None, None, (True, False)),  # our policy-rc.d
    (["#!/bin/sh", "exit 101"], None, None, (False, False)),  # the operator's: kept
    (OURS, " -10 ", None, (True, True)),
], ids=["nothing", "undrained", "drained", "drained-pending", "policy", "operators-policy",
        "both"])
def test_left_behind(policy_rc_d, drain, pending, left):
    lines = {} if policy_rc_d is None else {host_paths.POLICY_RC_D: policy_rc_d}
    probe = HostProbe(host_state=HostLevelState(lines=lines), drain=drain,
                      restart_pending=pending)
    assert rolling.left_behind(probe) == left


@pytest.mark.parametrize("policy, drain, lock_wait, expected", [
    (True, False, 120, [host_paths.POLICY_RC_D, ""]),
    (False, True, 5, ["", host_paths.DRAIN_FILE]),
    (True, True, 0, [host_paths.POLICY_RC_D, host_paths.DRAIN_FILE]),
])
def test_leftovers_commands(policy, drain, lock_wait, expected):
    commands = rolling.leftovers._inner(policy=policy, drain=drain, lock_wait=lock_wait)
    assert words(commands) == [locked_words(
        lock_wait, "clear what an interrupted run left", *expected,
        host_paths.RESTART_PENDING)]


# -- the host plan: settings, files and probe in, HostPlan out --

SETTINGS = assert_valid(host_01())
FILES = render.config_files(SETTINGS)
CONVERGED_TREE = KeepalivedTree().process(tree_lines(FILES))
INSTANCES_FILE = render.instances_path(SETTINGS.paths)
AGREEMENT_FILE = render.agreement_path(SETTINGS.paths, "VI_1")
CHECK_SCRIPT = f"{SETTINGS.paths.scripts_dir}/check_ssh.sh"
RUNNING = {"service_active": True, "service_enabled": "enabled"}
# a running host, its package, script user and config tree as the deploy leaves them
CONVERGED = HostProbe(package_version="1:2.2.7-1+b2", user={"comment": "c", "home": "/",
                                                            "shell": "/bin/false"},
                      tree=CONVERGED_TREE, **RUNNING)
# its plan: nothing to do
NOTHING = plan.HostPlan(
    ipvs_refusal=None, dump_conf_refusal=None, leftovers=rolling.LeftBehind(False, False),
    stale_uploads=(), package=False, ipvsadm=False, script_user=None, tree=config_tree.TreeWork(),
    reload_pending=None, agreement=(), start=(), running=True, restart_pending=False,
    host_level=None)  # (its host level: tests/test_host_level_table.py; the wiring below)
START = ("{ systemctl is-enabled --quiet keepalived.service || "
         "systemctl enable keepalived.service; }", "systemctl start keepalived.service")
UPLOAD = "/var/tmp/keepalived-deploy.0123456789ab"


def tree_with(content_of):
    """CONVERGED_TREE with the files of `content_of` ({path: content}) holding that."""
    return KeepalivedTree().process(tree_lines(FILES, content_of=content_of))


@pytest.mark.parametrize("data, probe, manager, expected", [
    ({}, {}, "apt", {}),
    ({}, {"tree": tree_with({CHECK_SCRIPT: "#!/bin/sh\nexit 1\n"})}, "apt",
     {"tree": config_tree.TreeWork(changed=(FILES[CHECK_SCRIPT],))}),
    # the instances' file too, and what the peers compare: they commit it together
    ({}, {"tree": tree_with({INSTANCES_FILE: "old", AGREEMENT_FILE: "old"})}, "apt",
     {"tree": config_tree.TreeWork(changed=(FILES[INSTANCES_FILE], FILES[AGREEMENT_FILE])),
      "agreement": ("VI_1",)}),
    # also where keepalived does not run: the run starts it on the new agreement only
    # with its running peers' commit (never beside a peer that failed to prepare)
    ({}, {"tree": tree_with({AGREEMENT_FILE: "old"}), "service_active": False}, "apt",
     {"tree": config_tree.TreeWork(changed=(FILES[AGREEMENT_FILE],)), "running": False,
      "start": START[1:], "agreement": ("VI_1",)}),
    ({}, {"tree": {**CONVERGED_TREE, f"{SETTINGS.paths.config_dir}/old.conf": TreeEntry(
        "regular file", "644", "root", "root")}}, "apt",
     {"tree": config_tree.TreeWork(stale=(f"{SETTINGS.paths.config_dir}/old.conf",))}),
    ({}, {"reload_pending": MARKER}, "apt", {"reload_pending": MARKER}),
    # the package: absent; a pin not installed (apt: exactly; dnf: VERSION-RELEASE too)
    ({}, {"package_version": None}, "apt", {"package": True}),
    ({"keepalived_package_version": "1:2.2.8-1"}, {}, "apt", {"package": True}),
    ({"keepalived_package_version": "1:2.2.7-1+b2"}, {}, "apt", {}),
    ({"keepalived_package_version": "2.2.8"}, {"package_version": "2.2.8-1.el9"}, "dnf", {}),
    ({"keepalived_package_version": "2.2.8"}, {"package_version": "2.2.7-1.el9"}, "dnf",
     {"package": True}),
    ({}, {"ipvsadm": False}, "apt", {"ipvsadm": True}),  # LVS, no ipvsadm
    ({}, {"user": None}, "apt", {"script_user": system.SystemUser(
        "keepalived_script", "Keepalived health check script user", "/nonexistent",
        "/usr/sbin/nologin")}),
    ({}, {"restart_pending": MARKER}, "apt", {"restart_pending": True}),
    # stopped and disabled, a restart pending: the start clears it
    ({}, {"service_active": False, "service_enabled": "disabled",
          "restart_pending": MARKER}, "apt",
     {"running": False, "restart_pending": True,
      "start": (*START, f"rm -f {host_paths.RESTART_PENDING}")}),
    # drained by a run that died, no restart pending to undrain it
    ({}, {"drain": "-253"}, "apt", {"leftovers": rolling.LeftBehind(False, True)}),
    ({}, {"stale_uploads": (UPLOAD,)}, "apt", {"stale_uploads": (UPLOAD,)}),
    ({"keepalived_virtual_servers": [LVS]}, {"ipvs": False, "ipvsadm": False}, "apt",
     {"ipvs_refusal": lvs.ipvs_refusal("host-01", True, False), "ipvsadm": True}),
    ({"keepalived_virtual_servers": [LVS]}, {"ipvs": True, "ipvsadm": True}, "apt", {}),
], ids=["nothing", "tree-changed", "agreement-change", "agreement-stopped", "stale-file",
        "reload-pending", "package-missing", "package-upgrade", "package-pinned",
        "dnf-pinned-release", "dnf-upgrade", "ipvsadm", "user-missing", "restart-pending",
        "start", "drained", "stale-uploads", "ipvs-refused", "ipvs"])
def test_plan_host(data, probe, manager, expected):
    settings = assert_valid({**host_01(), **data}) if data else SETTINGS
    files = render.config_files(settings)
    tree = probe.pop("tree", CONVERGED_TREE) if probe else CONVERGED_TREE
    if data.get("keepalived_virtual_servers"):  # (LVS adds no file of its own here)
        tree = KeepalivedTree().process(tree_lines(files))
    host_plan = plan.plan_host(settings, files, replace(CONVERGED, tree=tree, **probe),
                               manager)
    assert replace(host_plan, host_level=None) == replace(NOTHING, **expected)
    assert host_plan.config == bool(expected.get("tree") or expected.get("reload_pending"))


@pytest.mark.parametrize("probe, manager, expected", [
    # the drop-in written on a host with keepalived: systemd reloaded after it
    ({}, "apt", {"reload": True, "options": ("/etc/default/keepalived", True)}),
    # keepalived to install: the package step reloads systemd, not the drop-in's
    ({"package_version": None, "service_active": False}, "apt",
     {"reload": False, "options": ("/etc/default/keepalived", False)}),
    # the daemon options follow the package manager, with a restart owed where it runs
    ({}, "dnf", {"reload": True, "options": ("/etc/sysconfig/keepalived", True)}),
    ({"service_active": False}, "dnf",
     {"reload": True, "options": ("/etc/sysconfig/keepalived", False)}),
], ids=["dropin-reload", "package-reloads", "dnf-options-running", "dnf-options-stopped"])
def test_plan_host_level(probe, manager, expected):
    """The host level's part of the plan, from the same probe: the package decision and
    keepalived's state reach it (operations.host_level_work decides the rest)."""
    settings = assert_valid({**host_01(), "keepalived_daemon_options": ["--log-detail"]})
    host_plan = plan.plan_host(settings, render.config_files(settings),
                               replace(CONVERGED, **probe), manager)
    work = host_plan.host_level
    assert work.service_dropin.reload == expected["reload"]
    options = work.daemon_options
    assert (options and (options.path, options.mark_restart)) == expected["options"]


# -- config_tree: its work in, commands out --

def plain_words(command):
    """The words of a command (a StringCommand), the scripts it runs (`sh -c SCRIPT`)
    named by their first line."""
    said = shlex.split(command.get_raw_value())
    return [word.splitlines()[1] if "\n" in word else word for word in said]


def transaction_words(what, wait, uploaded, *files):
    """The words of transaction.sh's apply under the lock (state_files.locked)."""
    return [*locked_words(wait, f"{what} from {socket.gethostname()}"), "apply",
            "/etc/keepalived", uploaded, "GEN", host_paths.RELOAD_PENDING, "keepalived.conf",
            "0", *files]


def config_tree_commands(monkeypatch, **arguments):
    monkeypatch.setattr(config_tree, "generation_name", lambda: "GEN")
    return list(config_tree.config_tree._inner(files=FILES, paths=SETTINGS.paths,
                                               **arguments))


def test_config_tree_up_to_date_sends_nothing(op_context, monkeypatch):
    assert config_tree_commands(monkeypatch, work=config_tree.TreeWork(),
                                then=START) == []


@pytest.mark.parametrize("then", [(), START])
def test_config_tree_pending_reload_only(op_context, monkeypatch, then):
    commands = config_tree_commands(monkeypatch, work=config_tree.TreeWork(),
                                    reload_pending=MARKER, lock_wait=7, then=then)
    assert len(commands) == 1
    words = shlex.split(commands[0].get_raw_value())
    assert words[:2] == ["sh", "-c"]
    expected = transaction_words("pending reload", 7, "-")
    assert words[3:3 + len(expected)] == expected
    assert words[3 + len(expected):] == [
        word for step in then for word in ("&&", *shlex.split(step))]


@pytest.mark.parametrize("then", [(), START])
def test_config_tree_files_changed_upload_then_one_locked_transaction(op_context, monkeypatch,
                                                                      then):
    work = config_tree.TreeWork(changed=(FILES[CHECK_SCRIPT],))
    commands = config_tree_commands(monkeypatch, work=work, tree=CONVERGED_TREE,
                                    reload_pending=MARKER, lock_wait=7, then=then)
    mkdir, *sent, install = commands
    directory = shlex.split(mkdir.get_raw_value())[-1]
    assert shlex.split(mkdir.get_raw_value()) == ["mkdir", "-m", "700", directory]
    assert directory.startswith("/var/tmp/keepalived-deploy.")
    # every file goes up (the transaction stages the whole tree), as the login user
    assert [type(command) for command in sent] == [FileUploadCommand] * len(FILES)
    assert [command.dest for command in sent] == [f"{directory}/{n}" for n in range(len(FILES))]
    words = plain_words(install)
    assert words.count("sh") == 1  # one locked command (the upload dir removed at its end)
    assert words[:3] == ["trap", f"rm -rf {directory}", "EXIT"]
    at = words.index("pyinfra-keepalived")
    expected = transaction_words("config transaction", 7, directory)
    assert words[at:at + len(expected)] == expected
    rest = words[at + len(expected):]
    assert rest[:4] == ["dir", "scripts", "dir", "conf.d"]
    assert [rest[i + 1:i + 4] for i, word in enumerate(rest) if word == "file"] == [
        [str(number), file.mode, os.path.relpath(file.path, "/etc/keepalived")]
        for number, file in enumerate(FILES.values())]
    links = [word for name in ("scripts", "conf.d", "keepalived.conf")
             for word in ("link", name, f".current/{name}")]
    steps = [word for step in then for word in ("&&", *shlex.split(step))]
    assert rest[len(rest) - len(links) - len(steps):] == [*links, *steps]


# -- the package, user and service operations: the plan's part in, commands out --

USER = plan.script_user(SETTINGS)
PROXY = "http://apt-cache:3142"
APT_VIA = f" -o Acquire::http::Proxy={PROXY}"


def raw(commands):
    return [command if isinstance(command, str) else command.get_raw_value()
            for command in commands]


@pytest.mark.parametrize("arguments, expected", [
    ({"manager": "apt", "version": None},
     package(apt_install("keepalived"))),
    ({"manager": "apt", "version": "1:2.2.7-1+b2", "active": True},
     package(apt_install("keepalived=1:2.2.7-1+b2"), running=True)),
    ({"manager": "apt", "version": None, "script_user": USER, "also": ("ipvsadm",)},
     package(apt_install("keepalived ipvsadm"), user=True)),
    ({"manager": "apt", "version": None, "proxy": PROXY, "unit_reload": False},
     package(apt_install("keepalived").replace(" keepalived", f"{APT_VIA} keepalived"),
             reload=False, refresh=APT_REFRESH + APT_VIA)),
    ({"manager": "dnf", "version": None, "script_user": USER},
     package(f"{DNF} keepalived", user=True)),
    ({"manager": "dnf", "version": "2.2.8", "active": True},
     package(f"{DNF} keepalived-2.2.8", running=True)),
], ids=["apt", "apt-pinned-running", "apt-user-ipvsadm", "apt-proxy-bare", "dnf-user",
        "dnf-pinned-running"])
def test_keepalived_package_commands(arguments, expected):
    commands = system.keepalived_package._inner(**{"active": False, **arguments})
    assert raw(commands) == [expected]


def test_system_user_commands():
    assert raw(system.system_user._inner(**USER._asdict())) == [CREATE_USER]


@pytest.mark.parametrize("steps, expected", [
    ((), []),  # running and enabled
    (START[1:], ["systemctl start keepalived.service"]),
    (START, [f"{START[0]} && {START[1]}"]),
])
def test_service_running_commands(op_context, steps, expected):
    assert raw(system.service_running._inner(service="keepalived.service",
                                             steps=steps)) == expected


@pytest.mark.parametrize("manager, install", [
    ("apt", apt_install("ipvsadm")), ("dnf", f"{DNF} ipvsadm")])
def test_ipvsadm_package_commands(manager, install):
    assert raw(lvs.ipvsadm_package._inner(manager=manager)) == [shlex.join([
        "sh", "-c", state_files.LOCK_SCRIPT + "\n" + system.PACKAGE_SCRIPT,
        *locked_words(host_paths.LOCK_WAIT_SECONDS, "install ipvsadm", "no", "", "",
                      host_paths.APT_STAMP, "3600", APT_REFRESH if manager == "apt" else "",
                      "", "", install)])]


@pytest.mark.parametrize("refusal, expected", [
    (None, []),
    ("host-01: no IPVS", [["sh", "-c", state_files.REFUSE_SCRIPT, "-", "host-01: no IPVS"]]),
])
def test_ipvs_present_commands(op_context, refusal, expected):
    assert [shlex.split(command) for command in raw(lvs.ipvs_present._inner(
        refusal=refusal))] == expected


# -- the restart step (rolling): its stage and handover plan in, its command out --

HANDOVER = handover.HandoverPlan(instances=("VI_1", "VI_2"), drain_vips=("192.168.1.100",),
                                 stop_vips=("192.168.2.100",), wait=60, drain_wait=12,
                                 lock_wait=30)


@pytest.mark.parametrize("stage", ["first", "holders"])
def test_restart_step_commands(op_context, stage):
    # (planned, not executing: the holders' verdict is read only when the step runs)
    commands = rolling.restart_step._inner(stage=stage, plan=HANDOVER)
    assert words(commands) == [locked_words(
        30, f"restart keepalived ({stage} stage)", stage, host_paths.RESTART_PENDING,
        host_paths.DRAIN_FILE, "60", "12", "@fake/host-01", "VI_1 VI_2", "192.168.1.100",
        "192.168.2.100", "", "", "")]


def test_live_test_commands(op_context):
    commands = rolling.live_test._inner(paths=SETTINGS.paths, lock_wait=30)
    assert words(commands) == [locked_words(
        30, "test the live config before a restart", "/etc/keepalived", "keepalived.conf",
        host_paths.RESTART_PENDING, "@fake/host-01")]
