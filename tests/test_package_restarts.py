"""Issue 20, items 4 and 7: nothing but the rolling restart restarts keepalived, and it
starts no binary into a config that binary never tested.

- the package step holds off needrestart (NEEDRESTART_SUSPEND) as well as the package's
  maintainer scripts (our policy-rc.d), and refuses, before it changes anything, under an
  operator's policy-rc.d that would let the package restart keepalived
  (pyinfra_keepalived/operations/package.sh, in a real shell with a fake apt that runs
  the maintainer scripts' and needrestart's restarts as the real ones decide them);
- before the restart steps, every host tests its live config with the keepalived
  installed now (pyinfra_keepalived/operations/live_test.sh, against the real
  `keepalived -t`); a rejection on any host runs no restart step anywhere.
The same on docker test hosts, with Debian's needrestart: tests/e2e/test_package_restarts.py.
"""

import os
import shlex
import signal
import subprocess
import time

import pytest
from pyinfra.api import QuoteString

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.operations import rolling, state_files
from pyinfra_keepalived.operations import system as host_ops

from .fakehosts import (
    RESTART_STEPS,
    deploy,
    make_state,
    op_commands,
    operation_names,
    readable,
    up_to_date_probes,
)
from .gate import NEEDS_KEEPALIVED, rendered, run_transaction, write_tree
from .rollouts import (
    MARKER_LINE,
    PIN,
    in_tmp,
    package_words,
    run_leftovers,
    run_package_script,
    systemctl_calls,
    upgrade_state,
)

pytestmark = pytest.mark.unit

LIVE_TEST = f"Keepalived | {rolling.LIVE_TEST}"


# -- the package command --

@pytest.mark.parametrize("distro", ["debian", "ubuntu", "rocky"])
def test_install_runs_with_needrestart_suspended(distro, recorder):
    for host in deploy(upgrade_state(distro)):
        install = package_words(op_commands(host, recorder))["install"]
        assert install.startswith("NEEDRESTART_SUSPEND=1 "), install


# A fake apt-get for package.sh's COMMAND: what apt does about keepalived's service during
# an upgrade, as the real programs decide it. dpkg runs the postinst, whose
# deb-systemd-invoke asks policy-rc.d (if executable) and restarts unless it exits 101;
# then apt runs DPkg::Post-Invoke, needrestart's apt-pinvoke, which restarts what runs an
# old binary unless NEEDRESTART_SUSPEND is set (needrestart 3.6, Debian 12). Restarts go to
# the fake systemctl, which logs them.
FAKE_APT = """#!/bin/sh
echo "apt-get $*"
if [ -x {policy} ] && {{ {policy} keepalived.service restart; [ $? -eq 101 ]; }}; then
  echo "{policy} returned 101, not running 'restart keepalived.service'"
else
  systemctl restart keepalived.service
fi
if [ -n "$NEEDRESTART_SUSPEND" ]; then
  echo "packages have been installed but needrestart is suspended"
else
  systemctl restart keepalived.service
fi
"""


def fake_apt(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "apt-get").write_text(FAKE_APT.format(policy=tmp_path / "policy-rc.d"))
    (bin_dir / "apt-get").chmod(0o755)


@pytest.mark.parametrize("install, restarts", [
    (f"{host_ops.APT_INSTALL} keepalived", 0),  # the deploy's
    # the same without the suspension: the fake's needrestart restarts (the test can fail)
    (f"{host_ops.APT_INSTALL.replace('NEEDRESTART_SUSPEND=1 ', '')} keepalived", 1),
])
def test_the_install_restarts_keepalived_nowhere(install, restarts, tmp_path):
    fake_apt(tmp_path)
    result = run_package_script(tmp_path, "yes", install)
    assert result.returncode == 0, result.stderr
    assert systemctl_calls(tmp_path).count("restart keepalived.service") == restarts
    assert "returned 101, not running 'restart keepalived.service'" in result.stdout
    assert ("needrestart is suspended" in result.stdout) == (restarts == 0)
    assert (tmp_path / "state" / "restart-pending").exists()  # the rolling restart's


# an operator's policy-rc.d: (its text, executable, what the refusal names or None: used)
OPERATORS = {
    "allows everything": ("exit 0", True, "'POLICY keepalived restart' exits 0"),
    "undefined": ("exit 104", True, "'POLICY keepalived restart' exits 104"),
    "denies the init script only": (
        "[ \"$1\" = keepalived ] && exit 101; exit 0", True,
        "'POLICY keepalived.service restart' exits 0"),
    "denies restarts only": (
        "[ \"$2\" = restart ] && exit 101; exit 0", True,
        "'POLICY keepalived start' exits 0"),
    # invoke-rc.d and deb-systemd-invoke run it only if executable: it denies nothing
    "not executable": ("exit 101", False, "'POLICY keepalived restart' exits 126"),
    "denies everything": ("exit 101", True, None),
    "denies keepalived": (
        "case $1 in keepalived|keepalived.service) exit 101 ;; esac; exit 0", True, None),
}


@pytest.mark.parametrize("case", list(OPERATORS))
def test_operators_policy_rc_d_that_lets_keepalived_restart_refuses_the_install(case,
                                                                                 tmp_path):
    """Refused before anything changes: no user, no refresh, no marker, no install; the
    operator's file stays as it was."""
    text, executable, named = OPERATORS[case]
    policy = tmp_path / "policy-rc.d"
    policy.write_text(f"#!/bin/sh\n{text}\n")
    policy.chmod(0o755 if executable else 0o644)
    result = run_package_script(tmp_path, "yes", "echo installed", refresh="echo refreshed",
                                useradd="echo user created")
    assert policy.read_text() == f"#!/bin/sh\n{text}\n"
    if named is None:
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1] == "installed"
        return
    assert result.returncode == 1
    assert named.replace("POLICY", str(policy)) in result.stderr
    assert "lets the keepalived package restart keepalived" in result.stderr
    assert "Nothing was installed" in result.stderr
    assert result.stdout == ""  # no user, no refresh, no install
    assert not (tmp_path / "state" / "restart-pending").exists()
    assert not (tmp_path / "stamp").exists()


def killed_mid_install(tmp_path):
    """Start package.sh with an install that takes long, and SIGKILL it (the whole process
    group: no trap runs) once our policy-rc.d is in place; returns its path."""
    policy = tmp_path / "policy-rc.d"
    words = state_files.locked(host_ops.PACKAGE_SCRIPT, "test", "yes", str(tmp_path / "m"),
                               str(policy), str(tmp_path / "stamp"), "3600", "''", "''", "''",
                               QuoteString("sleep 30"))
    process = subprocess.Popen(shlex.split(in_tmp(tmp_path, words)), start_new_session=True)
    deadline = time.monotonic() + 5
    while not policy.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    return policy


def test_install_killed_midway_leaves_a_policy_rc_d_that_denies_nothing_and_is_cleared(
        tmp_path):
    """The run dies mid-install: our policy-rc.d is left, denies nothing once its shell is
    gone, and is neither taken for an operator's (the next install is not refused, and
    replaces it) nor kept by the next run's leftovers step."""
    policy = killed_mid_install(tmp_path)
    assert state_files.POLICY_TAG in policy.read_text().splitlines()
    assert subprocess.run([str(policy), "keepalived.service", "restart"]).returncode == 0
    again = run_package_script(tmp_path, "yes", "echo installed")
    assert again.returncode == 0 and "installed" in again.stdout, again.stderr
    assert not policy.exists()
    assert killed_mid_install(tmp_path).exists()
    assert run_leftovers(tmp_path, str(policy), "").returncode == 0
    assert not policy.exists()


# -- a dropped SSH link mid-install --

# A fake install for package.sh's COMMAND: it says it started, waits for the test's "go"
# (the link dropped meanwhile), writes progress to stdout and stderr as apt and dpkg do,
# then records that it ran to its end and what policy-rc.d answered for a restart of
# keepalived at that moment ("absent": no policy-rc.d left to ask).
FAKE_LONG_INSTALL = """#!/bin/sh
touch {tmp}/started
while [ ! -e {tmp}/go ]; do sleep 0.05; done
i=0
while [ $i -lt 2000 ]; do
  echo "Unpacking keepalived ($i)"; echo "progress $i" >&2; i=$((i + 1))
done
if [ -x {policy} ]; then {policy} keepalived restart; echo $? > {tmp}/installed
else echo absent > {tmp}/installed; fi
"""


def start_long_install(tmp_path, **pipes):
    """package.sh (as run_package_script runs it) with FAKE_LONG_INSTALL as its install,
    started in its own session and returned once the install started."""
    (tmp_path / "long-install").write_text(FAKE_LONG_INSTALL.format(
        tmp=tmp_path, policy=tmp_path / "policy-rc.d"))
    (tmp_path / "long-install").chmod(0o755)
    words = state_files.locked(host_ops.PACKAGE_SCRIPT, "test", "yes",
                               str(tmp_path / "state" / "restart-pending"),
                               str(tmp_path / "policy-rc.d"), str(tmp_path / "stamp"), "3600",
                               "''", "''", "''", QuoteString(str(tmp_path / "long-install")))
    (tmp_path / "tmp").mkdir()
    process = subprocess.Popen(shlex.split(in_tmp(tmp_path, words)), start_new_session=True,
                               stdin=subprocess.DEVNULL, **pipes,
                               env={**os.environ, "TMPDIR": str(tmp_path / "tmp")})
    deadline = time.monotonic() + 10
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return process


def install_ends(tmp_path, process):
    """Let the started install go on; the script's exit status once it ended."""
    (tmp_path / "go").touch()
    return process.wait(timeout=60)


def test_install_runs_to_its_end_with_the_policy_when_the_output_is_gone(tmp_path):
    """The link drops (the controller dies) mid-install: the script's output pipes have
    no reader. The install must not die of SIGPIPE on its progress: it runs to its end,
    with keepalived's restart denied throughout, and the marker stays for the next run."""
    process = start_long_install(tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    process.stderr.close()
    output = list((tmp_path / "tmp").iterdir())  # the install's output, meanwhile
    modes = [path.stat().st_mode & 0o777 for path in output]
    returncode = install_ends(tmp_path, process)
    assert (tmp_path / "installed").read_text() == "101\n"  # ended, keepalived denied
    assert returncode == 0  # the lost output changed nothing
    assert (tmp_path / "state" / "restart-pending").exists()
    assert not (tmp_path / "policy-rc.d").exists()
    assert modes == [0o600]  # private, and removed on exit
    assert not any(path.exists() for path in output)


@pytest.mark.parametrize("group", [True, False], ids=["session", "shell"])
def test_install_runs_to_its_end_with_the_policy_after_a_hangup(group, tmp_path):
    """SIGHUP mid-install (a pty's hangup reaches the whole session, `group`; or the
    shell alone): the install runs to its end, keepalived's restart denied throughout."""
    process = start_long_install(tmp_path, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    (os.killpg if group else os.kill)(process.pid, signal.SIGHUP)
    returncode = install_ends(tmp_path, process)
    assert (tmp_path / "installed").read_text() == "101\n"
    assert returncode == 0  # and the step ran to its end (no exit 129 after the install)
    assert (tmp_path / "state" / "restart-pending").exists()
    assert not (tmp_path / "policy-rc.d").exists()


def test_install_ignores_hangups_and_gets_sigpipe_as_usual(tmp_path):
    """The install inherits the ignored SIGHUP, not the shell's ignored SIGPIPE (a
    maintainer script's `yes | head` must end as it does under apt run by hand)."""
    result = run_package_script(tmp_path, "yes", "grep SigIgn /proc/self/status")
    assert result.returncode == 0, result.stderr
    ignored = int(result.stdout.split()[-1], 16)
    assert ignored & 1 << signal.SIGHUP - 1 and not ignored & 1 << signal.SIGPIPE - 1


def test_a_failing_install_s_message_reaches_the_operator(tmp_path):
    """The install's output is printed once it ended: apt's error on stderr, the exit
    status apt's."""
    result = run_package_script(
        tmp_path, "yes", "echo Reading package lists...; "
        "echo 'E: Unable to locate package keepalivd' >&2; (exit 100)")
    assert result.returncode == 100
    assert "E: Unable to locate package keepalivd" in result.stderr
    assert "Reading package lists..." in result.stdout + result.stderr
    assert not (tmp_path / "policy-rc.d").exists()


# -- the live config, tested with the installed keepalived before any host restarts --

def test_live_test_runs_on_every_host_before_the_restart_steps(recorder):
    state = upgrade_state()
    for host in deploy(state):
        names = operation_names(state, host)
        assert names.index(LIVE_TEST) == len(names) - 3  # right before the two steps
        commands = op_commands(host, recorder)
        assert readable(commands)[-3:] == RESTART_STEPS
        assert shlex.split(commands[-3])[-4:] == [
            "/etc/keepalived", "keepalived.conf", host_paths.RESTART_PENDING, host.name]
    test_hash = state.get_op_order()[-3]
    assert not state.op_meta[test_hash].global_arguments["_serial"]  # all hosts at once


def test_no_live_test_without_a_restart(recorder):
    state = make_state("debian", probes=up_to_date_probes(make_state("debian")))
    for host in deploy(state):
        assert LIVE_TEST not in operation_names(state, host)


def test_rejected_live_config_restarts_no_host(recorder):
    """host-02's installed keepalived rejects its live config: no restart step runs on any
    host, and host-02 fails with keepalived's message."""
    probes = up_to_date_probes(make_state("debian", group_data=PIN), "1:2.2.7-1")
    rejecting = {"@fake/host-02": {"'test the live config before a restart'": {
        "success": False, "stderr": "host-02: Keepalived v2.2.8 rejects the live config"}}}
    state = make_state("debian", probes=probes, group_data=PIN, responses=rejecting)
    hosts = deploy(state)
    test_hash = state.get_op_order()[-3]
    tested = [state.get_op_data_for_host(host, test_hash).operation_meta for host in hosts]
    assert tested[1].did_error() and not tested[0].did_error()
    # host-01 tested only if pyinfra happened to take it before host-02 failed
    assert (RESTART_STEPS[0] in readable(op_commands(hosts[0], recorder))) == \
        tested[0].did_change()
    for host in hosts:
        assert not set(RESTART_STEPS[1:]) & set(readable(op_commands(host, recorder))), \
            host.name


# live_test.sh in a real shell, against the real keepalived -t

def run_live_test(base, marker):
    """live_test.sh under the lock (its files beside `base`), as the deploy sends it."""
    words = state_files.locked(rolling.LIVE_TEST_SCRIPT, "test", str(base), "keepalived.conf",
                               str(marker), "host-01", wait=5)
    return subprocess.run(["sh", "-c", in_tmp(base.parent, words)], capture_output=True,
                          text=True)


@pytest.fixture
def live_tree(trees):
    """A live tree as the transaction leaves it (.current), its scripts run as `nobody`
    (2.2.7's -t then exits 143: the test must still decide), and a pending restart."""
    base, stage = trees
    write_tree(stage, rendered(base))
    assert run_transaction(stage, base).returncode == 0
    marker = base.parent / "restart-pending"
    marker.write_text(MARKER_LINE + "\n")
    return base, marker


@NEEDS_KEEPALIVED
def test_live_test_accepts_the_live_config(live_tree):
    base, marker = live_tree
    result = run_live_test(base, marker)
    assert result.returncode == 0, result.stderr
    assert "host-01: Keepalived v" in result.stdout and "accepts the live config" in result.stdout
    assert not list((base / ".generations").glob(".check-*"))  # its copy removed
    assert marker.exists()  # the restart clears it, not the test


@NEEDS_KEEPALIVED
def test_live_test_rejects_with_keepalived_s_message(live_tree):
    """A live config the installed keepalived rejects (here: a VRID it refuses)."""
    base, marker = live_tree
    instances = base / ".current" / "conf.d" / "20-vrrp_instances.conf"
    instances.write_text(instances.read_text().replace("virtual_router_id 51",
                                                       "virtual_router_id 300"))
    result = run_live_test(base, marker)
    assert result.returncode == 5, result.stderr
    assert "rejects the live config (keepalived -t, exit 5)" in result.stderr
    assert "keepalived was NOT restarted on any host" in result.stderr
    assert "VRID '300' not valid" in result.stderr
    assert ".check-live" not in result.stderr and "Terminated" not in result.stderr
    assert marker.exists()
    assert not list((base / ".generations").glob(".check-*"))


def test_live_test_without_a_pending_restart_tests_nothing(tmp_path):
    base = tmp_path / "live"
    base.mkdir()
    result = run_live_test(base, tmp_path / "restart-pending")
    assert result.returncode == 0 and "no restart pending" in result.stdout
