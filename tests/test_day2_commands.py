"""What uninstall.py, the drill and backup.py send, via pyinfra's ``@fake`` connector (as in
test_commands.py; the fake hosts are tests/fakehosts.py's, the recorder fixture
tests/conftest.py's): uninstall per distro family (dnf has no test host here); every
command that changes a host holds the deploy lock; backup's archive is only ever readable
by the login user."""

import logging
import os
import shlex
import signal
import subprocess
import time
from types import SimpleNamespace

import pytest
from pyinfra import logger as pyinfra_logger
from pyinfra.api import QuoteString, StringCommand
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import DeployError, PyinfraError
from pyinfra.api.operations import run_ops
from pyinfra.connectors.fake import FakeConnector

from pyinfra_keepalived.deploys import backup as backup_module
from pyinfra_keepalived.deploys import drill as drill_module
from pyinfra_keepalived.deploys.backup import backup
from pyinfra_keepalived.deploys.uninstall import uninstall
from pyinfra_keepalived.facts.keepalived import InstanceStatus, VrrpStatus
from pyinfra_keepalived.host_paths import (
    DRAIN_FILE,
    DROPIN,
    FIREWALL_COMMAND,
    SYSCTL_FILE,
)
from pyinfra_keepalived.model.validate import read_host
from pyinfra_keepalived.operations import handover
from pyinfra_keepalived.operations.firewall import FIREWALL_SCRIPT
from pyinfra_keepalived.operations.state_files import locked
from pyinfra_keepalived.render import host_level as render_host
from testhosts.polling import wait_for
from tests.fakeclock import fake_clock
from tests.fakehosts import (
    DNF_DISTROS,
    DROPIN_CONTENT,
    GROUP_DATA,
    HOSTS,
    SCRIPT_USER_ENTRY,
    _named,
    host_state,
    locked_command,
    make_state,
    op_commands,
    unlocked,
)
from tests.seed import SEED_HOSTS

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("recorder")]

LEFTOVER_VIP = "2: eth0    inet 192.168.1.100/24 scope global secondary eth0\\   valid_lft"
# KeepalivedTree's answer: the base dir, conf.d, scripts and the config file exist
TREE = [f"directory|755|root|root|/etc/keepalived{leaf}" for leaf in ("", "/conf.d", "/scripts")]
TREE += ["regular file|644|root|root|/etc/keepalived/keepalived.conf",
         f"{'0' * 64}  /etc/keepalived/keepalived.conf"]
HAND_OVER = "uninstall: hand over and stop keepalived"


def hand_over_and_stop(host, lock_wait=120):
    """uninstall's first command on `host` when no host that stays shares its instances:
    stop.sh with nothing to hand over (the peers' verdict empty)."""
    return str(StringCommand(*locked(
        handover.STOP_SCRIPT, HAND_OVER, QuoteString(host), QuoteString(DRAIN_FILE), "7",
        *[QuoteString("")] * 5, wait=lock_wait)))


STOP = [locked_command(command, "uninstall: stop keepalived") for command in
        ("systemctl stop keepalived.service", "systemctl disable keepalived.service")]
DELETE_VIP = locked_command("ip addr del 192.168.1.100/24 dev eth0",
                            "uninstall: delete leftover VIPs")
REMOVE_TREE = [locked_command(command, "uninstall: remove /etc/keepalived") for command in (
    "rm -rf /etc/keepalived/keepalived.conf /etc/keepalived/conf.d "
    "/etc/keepalived/scripts /etc/keepalived/.current /etc/keepalived/.previous "
    "/etc/keepalived/.generations /etc/keepalived/.staging /var/lib/pyinfra-keepalived "
    "/run/pyinfra-keepalived.drain /run/pyinfra-keepalived.drain.VI_1",
    "rmdir /etc/keepalived 2>/dev/null || echo 'kept /etc/keepalived: it holds files this "
    "deploy did not write'")]
RECORD = "/var/lib/pyinfra-keepalived.created-user.keepalived_script"  # the deploy made it
USERDEL = locked_command(f"userdel keepalived_script && rm -f {RECORD}",
                         "uninstall: remove user keepalived_script")
PACKAGE_FACTS = {"rpm": "rpm --queryformat", "dpkg": "dpkg -l"}  # command substrings


def installed_host(package_fact, busy_user=False, host_level=False, recorded=True):
    """Responses of a host with keepalived installed (`package_fact`: {"rpm": line} or
    {"dpkg": line}), enabled and running, a leftover VIP, the config tree and the script
    user (with a process of its own if `busy_user`; created by the deploy, as its record
    says, if `recorded`), and with `host_level` the firewall
    script, the drop-in and the sysctl file. The uninstall deploy reads pyinfra's own
    facts, not the probe."""
    sysctl = render_host.sysctl_file(("ipv4",))
    return {
        **({": keepalived-host-state": host_state(
            files={FIREWALL_COMMAND: FIREWALL_SCRIPT, DROPIN: DROPIN_CONTENT, SYSCTL_FILE: sysctl},
            sysctl_lines=sysctl.splitlines())} if host_level else {}),
        **{PACKAGE_FACTS[kind]: [line] for kind, line in package_fact.items()},
        "--property SubState keepalived.service": ["Id=keepalived.service", "SubState=running"],
        "--property UnitFileState keepalived.service": ["Id=keepalived.service",
                                                        "UnitFileState=enabled"],
        # Users fact
        "cut -d: -f1": [f"{SCRIPT_USER_ENTRY}|keepalived_script|keepalived_script||!"],
        "ip -o addr show": [LEFTOVER_VIP],
        "stat -L -c '%F|%a|%U|%G|%n' /etc/keepalived ": TREE,
        "uid=$(id -u keepalived_script": ["4242"] if busy_user else [],
        "command -v userdel": "/usr/sbin/userdel",
        f"[ -e {RECORD} ]": ["created"] if recorded else [],
    }


def uninstall_commands(distro, package_fact, recorder, host_data=None, group_data=None,
                       **kwargs):
    state = make_state(distro, responses={name: installed_host(package_fact, **kwargs)
                                          for name in HOSTS},
                       host_data=host_data, group_data=group_data)
    add_deploy(state, uninstall)
    run_ops(state)
    return {host.name: op_commands(host, recorder) for host in state.inventory}


@pytest.mark.parametrize("distro", DNF_DISTROS)
def test_rhel_family_uninstall_in_order(distro, recorder):
    commands = uninstall_commands(distro, {"rpm": "keepalived 2.2.8-3.el9"}, recorder)
    for host in HOSTS:
        assert commands[host] == [
            hand_over_and_stop(host), *STOP, DELETE_VIP,
            locked_command("dnf remove -y keepalived", "uninstall: remove keepalived"),
            *REMOVE_TREE, USERDEL]


def test_debian_uninstall_purges(recorder):
    commands = uninstall_commands("debian", {"dpkg": "ii  keepalived  1:2.2.7-1+b2  amd64"},
                                  recorder)
    purge = [unlocked(c) for c in commands["@fake/host-01"] if "apt-get" in c]
    assert len(purge) == 1 and purge[0][1] == "uninstall: purge keepalived"
    assert "purge" in purge[0][0].split() and purge[0][0].endswith("keepalived")


def test_every_uninstall_command_takes_the_lock(recorder):
    """Debian and Rocky, with the host level's firewall rule, drop-in, sysctl file and
    needrestart snippet in place too: no command that changes the host runs without the lock."""
    for distro, package in (("debian", {"dpkg": "ii  keepalived  1:2.2.7-1+b2  amd64"}),
                            ("rocky", {"rpm": "keepalived 2.2.8-3.el9"})):
        commands = uninstall_commands(distro, package, recorder,
                                      host_level=True)["@fake/host-01"]
        assert commands[0] == hand_over_and_stop("@fake/host-01")
        whats = [unlocked(command)[1] for command in commands[1:]]  # each takes the lock
        assert whats == [
            "uninstall: stop keepalived", "uninstall: stop keepalived",
            "uninstall: delete leftover VIPs", *["uninstall: remove the host level"] * 7,
            f"uninstall: {'purge' if distro == 'debian' else 'remove'} keepalived",
            *["uninstall: remove /etc/keepalived"] * 2,
            "uninstall: remove user keepalived_script"]


def test_busy_script_user_is_kept(recorder):
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  busy_user=True)
    assert USERDEL not in commands["@fake/host-01"]
    assert all(command in commands["@fake/host-01"] for command in REMOVE_TREE)


def test_script_user_the_deploy_did_not_create_is_kept(recorder, caplog):
    """No record that the deploy created it: it existed before (an account the operator
    named, `nobody`), or a version of the deploy that kept no record made it. Kept, and
    said so; everything else goes."""
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  recorded=False)
    for host in HOSTS:
        assert not any("userdel" in command for command in commands[host])
        assert all(command in commands[host] for command in REMOVE_TREE)
    assert "keeping user keepalived_script: this deploy did not create it (no " \
        f"{RECORD}: it existed before" in caplog.text


def test_address_owners_vip_is_its_own_address_and_stays(recorder):
    untracked = [{key: value for key, value in instance.items() if key != "track_scripts"}
                 for instance in GROUP_DATA["keepalived_vrrp_instances"]]
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  host_data={"@fake/host-01": {"keepalived_priority": 255}},
                                  group_data={"keepalived_vrrp_instances": untracked})
    assert not any("ip addr del" in c for c in commands["@fake/host-01"])
    assert DELETE_VIP in commands["@fake/host-02"]


def test_uninstall_waits_keepalived_lock_wait_for_the_lock(recorder):
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  group_data={"keepalived_lock_wait": 5})["@fake/host-01"]
    assert commands[0] == hand_over_and_stop("@fake/host-01", lock_wait=5)
    assert all("/pyinfra-keepalived/holder 5 " in command for command in commands)


# -- the deploy lock, taken for real --

STUB_SYSTEMCTL = """#!/bin/sh
# notes whether the deploy lock is held while it runs
if flock -n "$LOCK" true; then echo "free $*"; else echo "held $*"; fi >> "$LOG"
"""


def run_as_sent(command, tmp_path, wait=None):
    """Run `command` (as sent to a host) by a real sh, with the lock and holder files in
    `tmp_path` (`wait`: seconds instead of LOCK_WAIT_SECONDS) and a stub systemctl first
    on PATH that logs to tmp_path/log whether the lock was held while it ran."""
    command = command.replace("/run/pyinfra-keepalived/", f"{tmp_path}/pyinfra-keepalived.")
    if wait is not None:
        command = command.replace("pyinfra-keepalived.holder 120 ",
                                  f"pyinfra-keepalived.holder {wait} ")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "systemctl").write_text(STUB_SYSTEMCTL)
    (bin_dir / "systemctl").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "LOCK": str(tmp_path / "pyinfra-keepalived.lock"), "LOG": str(tmp_path / "log")}
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env,
                          timeout=30)


def test_uninstall_stop_runs_while_holding_the_lock(recorder, tmp_path):
    stop = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"},
                              recorder)["@fake/host-01"][0]
    result = run_as_sent(stop, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "log").read_text() == "held stop keepalived.service\n"
    holder = (tmp_path / "pyinfra-keepalived.holder").read_text()
    assert holder.endswith(f": {HAND_OVER}\n"), holder


def test_uninstall_stop_waits_for_another_holder_then_fails_naming_it(recorder, tmp_path):
    stop = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"},
                              recorder)["@fake/host-01"][0]
    lock = tmp_path / "pyinfra-keepalived.lock"
    (tmp_path / "pyinfra-keepalived.holder").write_text("pid 42, login user ops: deploy\n")
    other = subprocess.Popen(["flock", str(lock), "sleep", "30"])
    try:
        deadline = time.monotonic() + 5  # until the other run holds the lock
        while subprocess.run(["flock", "-n", str(lock), "true"]).returncode == 0:
            assert time.monotonic() < deadline, "the other holder did not take the lock"
            time.sleep(0.02)
        result = run_as_sent(stop, tmp_path, wait=1)
    finally:
        other.kill()
        other.wait()
    assert result.returncode == 75
    assert "another keepalived deploy holds the lock" in result.stderr
    assert "pid 42, login user ops: deploy" in result.stderr
    assert not (tmp_path / "log").exists(), "systemctl ran without the lock"


def test_drill_runs_one_command_on_the_master_and_logs_its_times(monkeypatch, capsys,
                                                                 caplog):
    """The drill is one command on the master (drill_start.sh: the host side runs
    detached); the times it prints go to pyinfra's logger, nothing to stdout (`pyinfra
    --json` prints only JSON there)."""
    master = SimpleNamespace(name="host-01")
    sent = []

    def fake_run(target, command, label=None):
        sent.append((target.name, command))
        return ["failover 3.61", "failback 3.02"]

    monkeypatch.setattr(drill_module, "state", SimpleNamespace(
        inventory=SimpleNamespace(get_host=lambda name: master)))
    monkeypatch.setattr(drill_module.handover, "run_on", fake_run)
    monkeypatch.setattr(pyinfra_logger, "propagate", True)  # (the CLI turns it off)
    drill = drill_module.Plan(instance="VI_1", master="host-01", backup="host-02",
                              vips=("192.168.1.100/24",), timeout=14, lock_wait=7)
    with caplog.at_level(logging.INFO, logger=pyinfra_logger.name):
        drill_module.run_drill(drill)

    assert capsys.readouterr().out == ""
    assert [record.getMessage() for record in caplog.records] == [
        "drill VI_1: failover host-01 -> host-02: 3.61 s",
        "drill VI_1: failback host-02 -> host-01: 3.02 s"]
    [(host, command)] = sent
    words = shlex.split(str(command))
    assert host == "host-01" and words[2] == drill_module.START_SCRIPT
    # unit, body, time limit, the instance's drain, the result; drill.sh's (lock first)
    assert words[4:] == [
        "pyinfra-keepalived-drill-VI_1", drill_module.BODY_SCRIPT, str(7 + 2 * 14 + 30),
        f"{DRAIN_FILE}.VI_1", "/run/pyinfra-keepalived/pyinfra-keepalived-drill-VI_1.result",
        "/run/pyinfra-keepalived/lock", "/run/pyinfra-keepalived/holder", "7", "drill VI_1",
        "/run/pyinfra-keepalived/pyinfra-keepalived-drill-VI_1.result", f"{DRAIN_FILE}.VI_1",
        "14", "192.168.1.100"]


def test_drill_fails_naming_a_move_that_did_not_happen(monkeypatch):
    monkeypatch.setattr(drill_module, "state", SimpleNamespace(
        inventory=SimpleNamespace(get_host=lambda name: SimpleNamespace(name=name))))
    monkeypatch.setattr(drill_module.handover, "run_on",
                        lambda *args, **kwargs: ["failover none", "failback none"])
    with pytest.raises(drill_module.DeployError, match="failover host-01 -> host-02: NOT "
                                                       "within 14 s"):
        drill_module.run_drill(drill_module.Plan(
            instance="VI_1", master="host-01", backup="host-02", vips=("192.168.1.100/24",),
            timeout=14))


def run_drill_body(tmp_path, timeout="3", signal_after=None, moves=True, clock=None):
    """drill.sh (with its lock) in a real shell: a stub `ip` shows the VIP while the
    instance's drain (tmp_path/drain) is 0 or missing, as keepalived would (always, when
    not `moves`); with `signal_after` seconds, the body is sent SIGTERM that long after it
    drained (its service stopped). `clock`: a fake clock's environment (tests/fakeclock.py)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    drain = tmp_path / "drain"
    (bin_dir / "ip").write_text(
        "#!/bin/sh\n"
        f"v=$(cat {drain} 2>/dev/null || echo 0); [ \"$v\" = 0 ] || {'exit 0' if moves else ':'}\n"
        "echo '2: eth0    inet 192.168.1.100/24 scope global secondary eth0'\n")
    (bin_dir / "ip").chmod(0o755)
    env = {**os.environ, **(clock or {})}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    args = [str(tmp_path / "lock"), str(tmp_path / "holder"), "5", "drill VI_1",
            str(tmp_path / "result"), str(drain), timeout, "192.168.1.100"]
    process = subprocess.Popen(["sh", "-c", drill_module.BODY_SCRIPT, "drill", *args],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    if signal_after is not None:
        deadline = time.monotonic() + 5
        while not (drain.exists() and drain.read_text() == "-253\n"):
            assert time.monotonic() < deadline, "the drill never drained"
            time.sleep(0.02)
        time.sleep(signal_after)
        process.terminate()
    process.communicate(timeout=30)
    return process.returncode, drain, tmp_path / "result"


def test_drill_body_drains_the_instance_then_lifts_it_and_times_both(tmp_path):
    code, drain, result = run_drill_body(tmp_path)
    assert code == 0
    lines = result.read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["failover", "failback"]
    assert all(float(line.split()[1]) < 3 for line in lines), lines
    assert drain.read_text() == "0\n"


def test_drill_body_stopped_midway_lifts_the_drain_itself(tmp_path):
    """SIGTERM while drained (its service stopped: a cancelled run, RuntimeMaxSec): the
    host side sets the drain back to 0 on its way out."""
    code, drain, _ = run_drill_body(tmp_path, timeout="30", signal_after=0.3, moves=False)
    assert code != 0
    assert drain.read_text() == "0\n"


@pytest.mark.parametrize("lock_wait, runs", [(1, True), (3, False)])
def test_drill_body_refuses_when_it_waited_for_the_lock(lock_wait, runs, tmp_path):
    """The cluster was judged healthy before the lock was had: when another run held it
    more than 2 s meanwhile, the host refuses the drill, nothing drained."""
    code, drain, result = run_drill_body(tmp_path, clock=fake_clock(tmp_path,
                                                                    flock_wait=lock_wait))
    assert (code == 0) == runs
    assert drain.exists() == runs and result.exists() == runs


def test_drill_reads_and_judges_the_hosts_when_it_runs(monkeypatch):
    """The drill's operation reads every host of the instance again when it runs, and
    plans from that: a backup that went FAULT since the run was planned refuses it."""
    settings = {name: read_host(name, data)[0] for name, data in SEED_HOSTS}
    master = VrrpStatus(True, {"VI_1": InstanceStatus("VI_1", "MASTER", 100, 100)},
                        addresses=frozenset({"192.168.1.100"}))
    read, sent = [], []

    def now(state):
        backup = VrrpStatus(True, {"VI_1": InstanceStatus("VI_1", state, 90, 90)})
        return lambda name: read.append(name) or {"host-01": master, "host-02": backup}[name]

    monkeypatch.setattr(drill_module, "state", SimpleNamespace(
        inventory=SimpleNamespace(get_host=lambda name: SimpleNamespace(name=name))))
    monkeypatch.setattr(drill_module.handover, "run_on", lambda target, command, label=None:
                        sent.append(target.name) or ["failover 3.61", "failback 3.02"])
    monkeypatch.setattr(drill_module.handover, "live_status", now("BACKUP"))
    drill_module.drill_now("VI_1", settings)
    assert (read, sent) == (["host-01", "host-02"], ["host-01"])
    monkeypatch.setattr(drill_module.handover, "live_status", now("FAULT"))
    with pytest.raises(drill_module.DrillRefused, match="host-02: state FAULT"):
        drill_module.drill_now("VI_1", settings)
    assert sent == ["host-01"]


# -- backup.py: the archive is only ever the login user's --

TEMP = "/var/tmp/keepalived-deploy.T"
ARCHIVE = f"{TEMP}/archive.tar.gz"
# (sudo?, what is sent), in order
MAKE_DIR = (False, f"mkdir -m 700 {TEMP}")
# (made under the deploy lock: a config transaction is never half archived)
# (cut short by a signal: the directory goes, archive and all)
ON_SIGNALS = " && ".join(f"trap 'rm -rf {TEMP}; exit {code}' {name}"
                         for name, code in (("HUP", 129), ("INT", 130), ("TERM", 143)))
MAKE_ARCHIVE = (True, locked_command(
    f"{ON_SIGNALS} && umask 077 && tar -czf {ARCHIVE} --dereference --no-wildcards "
    "--exclude=keepalived/.current --exclude=keepalived/.previous "
    "--exclude=keepalived/.generations --exclude=keepalived/.staging -C /etc keepalived && "
    f"chown --reference={TEMP} {ARCHIVE} || {{ rm -rf {TEMP}; false; }}",
    "backup of /etc/keepalived"))
DOWNLOAD = (False, f"download {ARCHIVE}")
REMOVE_DIR = (False, f"rm -rf {TEMP}")


@pytest.fixture
def backup_run(monkeypatch, recorder, tmp_path):
    """Run the backup deploy on the fake hosts, logging in as a sudo user, and return
    ({host: [(sudo?, command or download)]}, the local run directory). `download` is what
    the fake download does (default: writes b"archive" into the local file)."""
    def run(responses=None, download=None):
        sent = {}
        run_shell_command = FakeConnector.run_shell_command

        def recording_run(self, command, *args, **kwargs):
            sent.setdefault(self.host.name, []).append(
                (bool(kwargs.get("_sudo")), _named(command)))
            return run_shell_command(self, command, *args, **kwargs)

        def fake_download(self, remote, local_io, *args, **kwargs):
            sent.setdefault(self.host.name, []).append(
                (bool(kwargs.get("_sudo")), _named(f"download {remote}")))
            return (download or (lambda io: io.write(b"archive") and True))(local_io)

        monkeypatch.setattr(FakeConnector, "run_shell_command", recording_run)
        monkeypatch.setattr(FakeConnector, "get_file", fake_download)
        state = make_state("debian", responses={name: responses or {} for name in HOSTS},
                           host_data={name: {"_sudo": True} for name in HOSTS})
        add_deploy(state, backup, directory=str(tmp_path))
        try:
            run_ops(state)
        except PyinfraError as error:  # every host failed
            assert str(error) == "No hosts remaining!"
        [run_dir] = list(tmp_path.iterdir())
        ops = {name: [(sudo, command) for sudo, command in commands
                      if not command.startswith(("echo '## user'", "cat /etc/*-release"))]
               for name, commands in sent.items()}
        return ops, run_dir, state

    return run


def test_backup_archive_is_made_as_root_and_fetched_without_sudo(backup_run):
    sent, run_dir, _ = backup_run()
    for name in HOSTS:
        assert sent[name] == [MAKE_DIR, MAKE_ARCHIVE, DOWNLOAD, REMOVE_DIR]
        local = run_dir / f"@fake_{name.split('/')[1]}.tar.gz"
        assert local.read_bytes() == b"archive"
        assert oct(local.stat().st_mode & 0o777) == "0o600"
    assert oct(run_dir.stat().st_mode & 0o777) == "0o700"


def test_backup_archive_that_cannot_be_made_is_removed_on_the_host(backup_run):
    sent, run_dir, state = backup_run(responses={"tar -czf": {"success": False}})
    for name in HOSTS:
        # the archive command removes the directory itself; nothing is downloaded
        assert sent[name] == [MAKE_DIR, MAKE_ARCHIVE]
        assert state.get_results_for_host(state.inventory.get_host(name)).error_ops == 1
    assert list(run_dir.iterdir()) == []


@pytest.mark.parametrize("failure", ["returns False", "raises"])
def test_backup_broken_download_still_removes_the_archive_on_the_host(backup_run, failure):
    def broken(local_io):
        local_io.write(b"arch")  # cut off half way
        if failure == "raises":
            raise EOFError("connection lost")
        return False

    sent, run_dir, state = backup_run(download=broken)
    for name in HOSTS:
        assert sent[name] == [MAKE_DIR, MAKE_ARCHIVE, DOWNLOAD, REMOVE_DIR]
        assert state.get_results_for_host(state.inventory.get_host(name)).error_ops == 1
    assert list(run_dir.iterdir()) == []  # no half archive left here either


@pytest.mark.parametrize("signal_name, code", [("HUP", 129), ("TERM", 143)])
def test_backup_archive_cut_short_by_a_signal_goes_under_dash(tmp_path, signal_name, code):
    """The archive command, run by dash, cut short while tar writes (a dropped link sends
    the process group SIGHUP): the login user's directory, with the half archive (auth_pass
    inside), goes; the shell exits with the signal's code. (A whole archive stays for the
    download that follows.)"""
    directory = tmp_path / "keepalived-deploy.x"
    directory.mkdir(mode=0o700)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tar").write_text("#!/bin/sh\necho 'auth_pass s3cr3t' > \"$2\"\nexec sleep 30\n")
    (bin_dir / "tar").chmod(0o755)
    command = StringCommand(*backup_module.archive_command(str(directory), "/etc/keepalived"))
    shell = subprocess.Popen(["dash", "-c", str(command)], start_new_session=True,
                             env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    try:
        assert wait_for(lambda: (directory / "archive.tar.gz").exists()
                        and subprocess.run(["pgrep", "-g", str(shell.pid), "-x", "sleep"],
                                           capture_output=True).returncode == 0, timeout=10)
        os.killpg(shell.pid, getattr(signal, f"SIG{signal_name}"))
        assert shell.wait(timeout=10) == code
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
    assert not directory.exists()


NOBODY = 65534  # (the tests run as root: they can hand a directory to another user)


@pytest.mark.parametrize("make, why", [
    (lambda d: d.chmod(0o1777), "not writable by group or others (mode 1777)"),
    (lambda d: d.chmod(0o775), "not writable by group or others (mode 775)"),
    (lambda d: os.chown(d, NOBODY, -1), f"it is uid {NOBODY}'s"),
])
def test_backup_dir_others_can_change_is_refused(tmp_path, make, why):
    """Run as root with backup_dir where another user can write (or that they own): they
    could plant the run dir or a link in it and read the archives (auth_pass inside)."""
    directory = tmp_path / "backups"
    directory.mkdir(mode=0o700)
    make(directory)
    with pytest.raises(DeployError) as error:
        backup_module.make_run_dir(str(directory), str(directory / "20261124T213000Z"))
    assert str(error.value).startswith(f"backup_dir {directory} is not safe for archives "
                                       "that hold auth_pass: it must be owned by the user")
    assert why in str(error.value)
    assert list(directory.iterdir()) == []


def test_backup_run_dir_is_made_new_never_reused(tmp_path):
    """A run dir that exists (planted, with the stamp guessed) is not reused; a new one
    is 700 even where the directory had to be made."""
    directory = tmp_path / "backups"
    run_dir = backup_module.make_run_dir(str(directory), str(directory / "a"))
    assert oct(os.stat(run_dir).st_mode & 0o777) == "0o700"
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    (directory / "b").mkdir(mode=0o700)
    with pytest.raises(DeployError, match=f"^{directory}/b exists already: each backup run "
                                          "makes its own new directory"):
        backup_module.make_run_dir(str(directory), str(directory / "b"))


def test_backup_archive_never_follows_or_reuses_a_planted_file(tmp_path):
    """The archive is opened O_CREAT|O_EXCL|O_NOFOLLOW: a link planted at its name is not
    followed (root would write the victim's file), nor a file there reused."""
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    (tmp_path / "host-01.tar.gz").symlink_to(victim)
    (tmp_path / "host-02.tar.gz").write_text("planted\n")
    for name in ("host-01.tar.gz", "host-02.tar.gz"):
        with pytest.raises(FileExistsError):
            backup_module.open_private(str(tmp_path / name))
    assert victim.read_text() == "root's file\n"
    with backup_module.open_private(str(tmp_path / "new.tar.gz")) as new:
        new.write(b"archive")
    assert oct((tmp_path / "new.tar.gz").stat().st_mode & 0o777) == "0o600"
