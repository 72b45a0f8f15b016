"""Rolling restarts and the install that restarts nothing (operations.rolling, the package
operation of pyinfra_keepalived.operations.system): each decision, through pyinfra's ``@fake`` connector
(see tests/test_commands.py), and the host-side scripts (pyinfra_keepalived/operations/package.sh,
leftovers.sh, the first steps of restart.sh) run by a real shell in a temporary directory.
What a real cluster sees (pings, journal, VIP) is in tests/e2e/test_rolling_restart.py.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest
from pyinfra.api import QuoteString

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.operations import rolling, state_files
from pyinfra_keepalived.operations import system as host_ops
from pyinfra_keepalived.shipped import shell_script

from .fakeclock import fake_clock
from .fakehosts import (
    APT_REFRESH,
    CONVERGED_STATE,
    DNF,
    RESTART_STEPS,
    apt_install,
    deploy,
    file_read,
    make_state,
    op_commands,
    operation_names,
    readable,
    up_to_date_probes,
)
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

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("recorder")]

FIRST, HOLDERS = (f"Keepalived | {title}" for _, title in rolling.PASSES)


# -- 1. no distro restart during the install --

def test_apt_install_runs_under_our_policy_rc_d_and_the_lock(recorder):
    for host in deploy(upgrade_state()):
        commands = op_commands(host, recorder)
        words = package_words(commands)
        assert words["policy"] == "/usr/sbin/policy-rc.d"
        assert words["install"] == apt_install("keepalived=1:2.2.7-1+b2")
        assert words["refresh"] == APT_REFRESH and words["max_age"] == "3600"
        assert words["reload"] == "if-needed" and words["useradd"] == ""
        assert state_files.LOCK_SCRIPT in shlex.split(commands[0])[2]


def test_dnf_install_has_no_policy_rc_d_but_systemd_offline(recorder):
    state = make_state("rocky")
    for host in deploy(state):
        words = package_words(op_commands(host, recorder))
        assert words["policy"] == "" and words["install"] == f"{DNF} keepalived"
        # (SYSTEMD_OFFLINE keeps rpm from reloading systemd: the command does it)
        assert words["refresh"] == "" and words["reload"] == "always"


@pytest.mark.parametrize("running", [True, False])
def test_marker_written_before_the_install_only_when_keepalived_runs(running, recorder):
    for host in deploy(upgrade_state(running=running)):
        commands = readable(op_commands(host, recorder))
        words = package_words(commands)
        assert words["running"] == ("yes" if running else "no")
        assert words["marker"] == host_paths.RESTART_PENDING
        # running: restarted by the rolling restart; stopped: the start reads it all
        assert (RESTART_STEPS == commands[-3:]) == running
    fresh = make_state("debian")
    for host in deploy(fresh):
        assert package_words(op_commands(host, recorder))["running"] == "no"


@pytest.mark.parametrize("age, refreshed", [(None, True), (7200, True), (300, False)])
def test_package_lists_refreshed_first_only_when_older_than_the_limit(age, refreshed,
                                                                      tmp_path):
    """apt's lists never refreshed (no stamp) or older than max_age: the refresh runs
    first and touches the stamp; refreshed five minutes ago: installed from them."""
    stamp = tmp_path / "stamp"
    if age is not None:
        stamp.touch()
        os.utime(stamp, (time.time() - age, time.time() - age))
    result = run_package_script(tmp_path, "no", "echo installed",
                                refresh="echo refreshed")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-2:] == ["refreshed", "installed"] if refreshed else lines == ["installed"]
    assert time.time() - stamp.stat().st_mtime < (60 if refreshed else age + 60)


def test_failed_refresh_installs_nothing(tmp_path):
    result = run_package_script(tmp_path, "no", "echo installed", refresh="false")
    assert result.returncode != 0 and "installed" not in result.stdout
    assert not (tmp_path / "stamp").exists()


@pytest.mark.parametrize("answer, exists, ok", [
    (0, True, True),  # created
    (9, True, True),  # another run created it meanwhile
    (9, False, False),  # "exists", but a group of that name blocked it: no user
    (1, False, False)])
def test_script_user_created_before_the_install(answer, exists, ok, tmp_path):
    """useradd runs first (system.create_user's command); it is done when the user exists
    after it, else the command stops before the install."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in [("useradd", f"echo useradd; exit {answer}"),
                       ("getent", f"exit {0 if exists else 2}")]:
        (bin_dir / name).write_text(f"#!/bin/sh\n{text}\n")
        (bin_dir / name).chmod(0o755)
    record = tmp_path / "created-user.keepalived_script"
    create = host_ops.create_user("keepalived_script", "c", "/nonexistent", "/usr/sbin/nologin",
                                  record=str(record))
    result = run_package_script(tmp_path, "no", "echo installed", useradd=create)
    assert (result.returncode == 0) == ok, result.stderr
    assert result.stdout.startswith("useradd")
    assert ("installed" in result.stdout) == ok
    # recorded only by the run whose useradd made it: uninstall removes only such a user
    assert record.exists() == (answer == 0)


def test_marker_not_written_when_the_user_or_the_refresh_fails(tmp_path):
    """A running host: the restart-pending marker is written right before the install,
    so a failure before it leaves nothing to restart for."""
    for given in ({"useradd": "false"}, {"refresh": "false"}):
        result = run_package_script(tmp_path, "yes", "echo installed", **given)
        assert result.returncode != 0
        assert not (tmp_path / "state" / "restart-pending").exists()
    assert run_package_script(tmp_path, "yes", "true").returncode == 0
    assert (tmp_path / "state" / "restart-pending").exists()


@pytest.mark.parametrize("reload, need, reloaded", [
    ("always", "no", True), ("if-needed", "yes", True), ("if-needed", "no", False),
    ("", "yes", False)])
def test_units_reloaded_after_the_install_as_asked(reload, need, reloaded, tmp_path):
    (tmp_path / "need-reload").write_text(need + "\n")
    result = run_package_script(tmp_path, "no", "true", reload=reload)
    assert result.returncode == 0, result.stderr
    assert ("daemon-reload" in systemctl_calls(tmp_path)) == reloaded


def test_no_reload_when_the_install_failed(tmp_path):
    (tmp_path / "need-reload").write_text("yes\n")
    result = run_package_script(tmp_path, "no", "false", reload="always")
    assert result.returncode != 0 and systemctl_calls(tmp_path) == []


def policy_answers(policy):
    """A COMMAND for package.sh: how the policy-rc.d answers, as invoke-rc.d and
    deb-systemd-invoke ask it, for keepalived and for another service."""
    return " ; ".join(f"{policy} {args} >/dev/null; echo {name}=$?" for name, args in [
        ("invoke", "keepalived restart"), ("systemd", "keepalived.service restart"),
        ("quiet", "--quiet keepalived start"), ("other", "ssh restart")])


def test_policy_rc_d_denies_keepalived_only_during_the_install(tmp_path):
    policy = tmp_path / "policy-rc.d"
    result = run_package_script(tmp_path, "yes", policy_answers(policy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["invoke=101", "systemd=101", "quiet=101", "other=0"]
    assert not policy.exists()  # removed when the install ended
    marker = (tmp_path / "state" / "restart-pending").read_text()
    assert marker.startswith("since ") and marker.endswith(" UTC: package\n")


def test_policy_rc_d_removed_when_the_install_fails_and_no_marker_when_stopped(tmp_path):
    result = run_package_script(tmp_path, "no", "false")
    assert result.returncode != 0
    assert not (tmp_path / "policy-rc.d").exists()
    assert not (tmp_path / "state" / "restart-pending").exists()


def test_policy_rc_d_removed_when_the_run_is_terminated(tmp_path):
    policy = tmp_path / "policy-rc.d"
    words = state_files.locked(host_ops.PACKAGE_SCRIPT, "test", "no", str(tmp_path / "m"),
                               str(policy), str(tmp_path / "stamp"), "3600", "''", "''", "''",
                               QuoteString("sleep 30"))
    # as a Ctrl-C or a lost SSH link does it: the whole process group
    process = subprocess.Popen(shlex.split(in_tmp(tmp_path, words)), start_new_session=True)
    deadline = time.monotonic() + 5
    while not policy.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert policy.exists()
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=10)
    assert not policy.exists()


def test_operators_policy_rc_d_that_denies_keepalived_is_left_alone(tmp_path):
    """The install runs under it (one that would let keepalived restart refuses the
    install: tests/test_package_restarts.py)."""
    policy = tmp_path / "policy-rc.d"
    policy.write_text(OPERATORS_POLICY)
    policy.chmod(0o755)
    result = run_package_script(tmp_path, "no", policy_answers(policy))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["invoke=101", "systemd=101", "quiet=0", "other=0"]
    assert policy.read_text() == OPERATORS_POLICY


# an operator's policy-rc.d that denies keepalived (and nothing else)
OPERATORS_POLICY = ("#!/bin/sh\ncase $1 in keepalived|keepalived.service) exit 101 ;; esac\n"
                    "exit 0\n")


def test_our_policy_rc_d_expires_with_the_installing_shell(tmp_path):
    """A SIGKILLed install leaves the file: it denies nothing once that shell is gone,
    and the next install replaces it (it is ours)."""
    policy = tmp_path / "policy-rc.d"
    result = run_package_script(tmp_path, "no", f"cp {policy} {tmp_path}/left")
    left = tmp_path / "left"
    assert state_files.POLICY_TAG in left.read_text().splitlines()
    answer = subprocess.run([str(left), "keepalived", "restart"])
    assert answer.returncode == 0  # its shell is gone
    left.rename(policy)
    result = run_package_script(tmp_path, "no", policy_answers(policy))
    assert result.stdout.split()[0] == "invoke=101" and not policy.exists()


# -- leftovers of a dead run --

def leftover_probes(drain=None, policy=False, pending=False):
    lines = list(CONVERGED_STATE)
    if drain is not None:
        lines += file_read(host_paths.DRAIN_FILE, [drain])
    if policy:
        lines += file_read(host_paths.POLICY_RC_D, ["#!/bin/sh", state_files.POLICY_TAG])
    if pending:
        lines += file_read(host_paths.RESTART_PENDING, [MARKER_LINE])
    return converged_probes(lines)


def converged_probes(lines, **given):
    """Up-to-date running hosts whose host state (files read with it) is `lines`."""
    probes = up_to_date_probes(make_state("rocky"), **given)
    return {name: {**probe, "state": lines} for name, probe in probes.items()}


LEFTOVERS = "Keepalived | Clear what an interrupted run left (policy-rc.d, drain)"


@pytest.mark.parametrize("drain, policy, pending, added", [
    (None, False, False, False),  # nothing left
    ("-253", False, False, True),  # drained, no restart pending: undrain
])
def test_leftovers_cleared_only_when_left(drain, policy, pending, added, recorder):
    """The deploy adds the step where the probe found something left; what counts as
    left is table-tested (tests/test_operations_table.py: test_left_behind)."""
    state = make_state("rocky", probes=leftover_probes(drain, policy, pending))
    for host in deploy(state):
        assert (LEFTOVERS in operation_names(state, host)) == added


def test_leftovers_script(tmp_path):
    policy, drain = tmp_path / "policy-rc.d", tmp_path / "drain"
    policy.write_text(f"#!/bin/sh\n{state_files.POLICY_TAG}\n")
    drain.write_text("-253\n")
    result = run_leftovers(tmp_path, str(policy), str(drain))
    assert result.returncode == 0 and not policy.exists()
    assert drain.read_text() == "0\n"
    # an operator's policy-rc.d stays; a drain stays while a restart is pending
    policy.write_text("#!/bin/sh\nexit 101\n")
    drain.write_text("-253\n")
    (tmp_path / "marker").write_text(MARKER_LINE)
    run_leftovers(tmp_path, str(policy), str(drain))
    assert policy.exists() and drain.read_text() == "-253\n"


# -- 2. rolling restart --

def test_two_serial_restart_steps_after_everything_else(recorder):
    state = upgrade_state()
    for host in deploy(state):
        names = operation_names(state, host)
        assert names[-2:] == [FIRST, HOLDERS]
    for op_hash in state.get_op_order()[-2:]:
        assert state.op_meta[op_hash].global_arguments["_serial"] is True


def test_restart_step_tells_the_host_its_instances_and_vips(recorder):
    """...and, in the holders' stage, the peers' verdict read when the step runs: here
    the fake peer answers nothing (no keepalived runs there): its VIP is refused."""
    state = upgrade_state()
    for host in deploy(state):
        peer = next(other.name for other in state.inventory if other is not host)
        steps = [c for c in op_commands(host, recorder) if "restart keepalived (" in c]
        # 3 x advert_int + 10 + check_ssh's interval 2 x rise 2 (its checks GOOD again)
        head = [host_paths.RESTART_PENDING, host_paths.DRAIN_FILE, "17", "7", host.name,
                "VI_1", "192.168.1.100", ""]
        assert [shlex.split(step)[8:] for step in steps] == [
            ["first", *head, "", "", ""],
            ["holders", *head, "", "192.168.1.100",
             f"no healthy peer can take VI_1 ({peer}: keepalived is not running)"]]


def test_no_restart_when_nothing_is_pending(recorder):
    state = make_state("debian", probes=up_to_date_probes(make_state("debian")))
    for host in deploy(state):
        assert not {FIRST, HOLDERS} & set(operation_names(state, host))


def test_restart_pending_from_an_earlier_run_restarts(recorder):
    """Nothing to change in this run, but the probe found the marker: the rolling
    restart runs (the earlier run died before it)."""
    lines = [*CONVERGED_STATE, *file_read(host_paths.RESTART_PENDING, [MARKER_LINE])]
    state = make_state("rocky", probes=converged_probes(lines))
    for host in deploy(state):
        assert readable(op_commands(host, recorder)) == RESTART_STEPS


def test_stopped_keepalived_with_a_pending_restart_is_started_and_the_marker_cleared(
        recorder):
    lines = [*CONVERGED_STATE, *file_read(host_paths.RESTART_PENDING, [MARKER_LINE])]
    probes = converged_probes(lines, service=("inactive", "enabled"))
    state = make_state("rocky", probes=probes)
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            f"systemctl start keepalived.service && rm -f {host_paths.RESTART_PENDING}"]


def test_rollout_stops_after_a_failed_step(recorder):
    """host-01's first step fails: no restart step runs on host-02 after it (pyinfra
    marks failed hosts only once every host ran the operation: the step asks itself)."""
    probes = up_to_date_probes(make_state("debian", group_data=PIN), "1:2.2.7-1")
    failing = {"@fake/host-01": {"'restart keepalived (first stage)'": {
        "success": False, "stderr": "host-01: keepalived not back"}}}
    state = make_state("debian", probes=probes, group_data=PIN, responses=failing)
    hosts = deploy(state)
    first_hash = state.get_op_order()[-2]
    first, second = (state.get_op_data_for_host(host, first_hash).operation_meta
                     for host in hosts)
    assert first.did_error()
    steps = readable(op_commands(hosts[1], recorder))
    assert RESTART_STEPS[2] not in steps  # no holder step after a failure
    # host-02's first step ran only if pyinfra happened to take it before host-01
    assert (RESTART_STEPS[1] in steps) == second.did_change()
    assert state.get_results_for_host(hosts[1]).error_ops == 0


def test_stopped_asks_about_other_hosts_only():
    class Meta:
        def __init__(self, complete, success):
            self.complete, self.success = complete, success

        def is_complete(self):
            return self.complete

        def did_succeed(self):
            return self.success

    steps = {"a": [Meta(True, False)], "b": [Meta(True, True), Meta(False, None)]}
    assert rolling.stopped(steps, "b") and not rolling.stopped(steps, "a")


# -- restart.sh, its first decisions, in a real shell (ip and systemctl stubbed) --

# keepalived as restart.sh's functions see it (`scripts`: each check script's status):
# every instance of the host BACKUP
KEEPALIVED_RUNS = """vrrp_pid() { echo 42; }
vrrp_dump() { printf '%s\\n' ' VRRP Instance = VI_1' '   State = BACKUP' {scripts} |
  grep -E "$2"; }
"""


def run_restart(tmp_path, stage, holds, drain_wait="7", kept="", wait="13", refused="",
                reason="", scripts=None, clock=None):
    """restart.sh in a real shell (ip, systemctl, journalctl stubbed); `scripts`
    ({name: status}): keepalived runs, as its data dump shows it; `clock`: a fake clock's
    environment (tests/fakeclock.py)."""
    script = rolling.RESTART_SCRIPT
    if scripts is not None:
        body = shell_script("operations/restart.sh")
        shown = " ".join(f"' VRRP Script = {name}' '   Status = {status}'"
                         for name, status in scripts.items())
        script = script.replace(body, KEEPALIVED_RUNS.replace("{scripts}", shown) + body)
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    address = "192.168.1.100/24" if holds else "192.168.1.7/24"
    (stubs / "ip").write_text(f"#!/bin/sh\necho '2: eth0    inet {address} scope global'\n")
    (stubs / "systemctl").write_text(f"#!/bin/sh\necho \"$*\" >> {tmp_path}/systemctl\n")
    (stubs / "journalctl").write_text("#!/bin/sh\necho '(journal)'\n")
    for stub in ("ip", "systemctl", "journalctl"):
        os.chmod(stubs / stub, 0o755)
    environment = {**os.environ, **(clock or {})}
    environment["PATH"] = f"{stubs}:{environment['PATH']}"
    return subprocess.run(
        ["sh", "-c", script, "restart", stage, str(tmp_path / "marker"),
         str(tmp_path / "drain"), wait, drain_wait, "h1", "VI_1", "192.168.1.100", "",
         kept, refused, reason],
        capture_output=True, text=True, env=environment, timeout=60)


def test_restart_script_without_marker_does_nothing(tmp_path):
    result = run_restart(tmp_path, "holders", holds=True)
    assert result.returncode == 0 and "no restart pending" in result.stdout
    assert not (tmp_path / "systemctl").exists() and not (tmp_path / "drain").exists()


def test_restart_script_first_stage_leaves_a_holder_alone(tmp_path):
    (tmp_path / "marker").write_text(MARKER_LINE)
    result = run_restart(tmp_path, "first", holds=True)
    assert result.returncode == 0 and "h1 holds 192.168.1.100" in result.stdout
    assert not (tmp_path / "systemctl").exists() and not (tmp_path / "drain").exists()
    assert (tmp_path / "marker").exists()


def test_our_policy_rc_d_denies_nothing_once_the_lock_is_free(tmp_path):
    """A pid can be reused after a kill: a left policy-rc.d whose pid runs again (here:
    this test's own) still denies nothing, since no deploy holds the host's lock."""
    policy = tmp_path / "policy-rc.d"
    run_package_script(tmp_path, "no", f"cp {policy} {tmp_path}/left")
    left = tmp_path / "left"
    text = re.sub(r"/proc/\d+", f"/proc/{os.getpid()}", left.read_text())
    left.write_text(text)
    assert subprocess.run([str(left), "keepalived", "restart"]).returncode == 0


def test_restart_script_holder_whose_vip_nobody_takes_is_not_restarted(tmp_path):
    """No peer takes the drained VIP (none up, or none healthy): restarting would leave it
    on no host. The step fails, undrained, keepalived not restarted, still pending."""
    (tmp_path / "marker").write_text(MARKER_LINE)
    result = run_restart(tmp_path, "holders", holds=True, drain_wait="1")
    assert result.returncode != 0
    assert "no peer took 192.168.1.100 within 1 s of the drain" in result.stderr
    assert "keepalived was NOT restarted" in result.stderr
    called = tmp_path / "systemctl"
    assert not called.exists() or "restart" not in called.read_text().split()
    assert (tmp_path / "drain").read_text() == "0\n" and (tmp_path / "marker").exists()


def test_restart_script_hands_over_with_the_stop_only_to_a_nopreempt_peer(tmp_path):
    """The healthy peer that takes the VIP has nopreempt (the controller's verdict lists
    it as kept): it never takes drained VIPs; there (only there) the graceful stop hands
    them over, and the restart goes on."""
    (tmp_path / "marker").write_text(MARKER_LINE)
    result = run_restart(tmp_path, "holders", holds=True, drain_wait="1",
                         kept="192.168.1.100", wait="1")
    assert "has nopreempt: the graceful stop hands them over" in result.stdout
    assert "restart keepalived.service" in (tmp_path / "systemctl").read_text()


@pytest.mark.parametrize("stage", ["first", "holders"])
def test_restart_script_holder_of_a_refused_vip_is_left_alone(stage, tmp_path):
    """No healthy peer would take the VIP (the controller's verdict): its holder is not
    drained and not restarted, and the step fails naming why (in the first stage a
    holder waits for the second, as always)."""
    (tmp_path / "marker").write_text(MARKER_LINE)
    reason = "the peer that would take VI_1 is not healthy: h2: check script(s) failing: chk"
    result = run_restart(tmp_path, stage, holds=True, refused="192.168.1.100",
                         reason=reason)
    assert (result.returncode == 0) == (stage == "first"), result.stderr
    if stage == "holders":
        assert f"{reason}; it holds 192.168.1.100; keepalived was NOT restarted" in result.stderr
    assert not (tmp_path / "systemctl").exists() and not (tmp_path / "drain").exists()
    assert (tmp_path / "marker").exists()


def test_restart_script_non_holder_restarts_whatever_its_peers(tmp_path):
    """A refused VIP this host does not hold moves nothing when it restarts."""
    (tmp_path / "marker").write_text(MARKER_LINE)
    run_restart(tmp_path, "first", holds=False, refused="192.168.1.100", reason="r",
                wait="1")
    assert "restart keepalived.service" in (tmp_path / "systemctl").read_text()


@pytest.mark.parametrize("status, restarted", [("GOOD", True), ("INIT", False), ("BAD", False)])
def test_every_restart_waits_for_the_hosts_checks_to_be_good(status, restarted, tmp_path):
    """A host restarted in the first stage (it holds no VIP, nothing drained) is done only
    once its check scripts are GOOD again: the next holder's peers' verdict sees this host
    (an INIT script would refuse its handover). Else the step fails, the restart pending."""
    (tmp_path / "marker").write_text(MARKER_LINE)
    result = run_restart(tmp_path, "first", holds=False, wait="1", scripts={"chk": status},
                         clock=fake_clock(tmp_path))
    assert "restart keepalived.service" in (tmp_path / "systemctl").read_text()
    assert (result.returncode == 0) == restarted, result.stderr
    assert (tmp_path / "marker").exists() != restarted
    if not restarted:
        assert ("keepalived back, but check script(s) chk not GOOD within 1 s, the restart "
                "pending") in result.stderr


@pytest.mark.parametrize("flag", ["--serial", "--no-wait"])
def test_pyinfra_modes_that_break_the_rollout_are_refused(monkeypatch, flag):
    """--no-wait ignores _serial (peers would restart together); --serial runs all of one
    host before the next: refused before any host is touched."""
    from pyinfra.api.exceptions import DeployError

    from pyinfra_keepalived.deploys import install as keepalived
    monkeypatch.setattr(sys, "argv", ["pyinfra", "-y", flag, "inventory.py", "deploy.py"])
    with pytest.raises(DeployError, match=f"{flag} is refused"):
        keepalived.refuse_unsafe_modes()
    monkeypatch.setattr(sys, "argv", ["pyinfra", "-y", "inventory.py", "deploy.py"])
    keepalived.refuse_unsafe_modes()
