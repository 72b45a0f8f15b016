"""Day-2 operations on two test hosts: status, split brain, drill (and its refusal),
backup, leftovers of broken-off uploads, uninstall (host-02's script user is the
operator's, made before the first deploy: uninstall keeps it). The tests run in file
order on one cluster, converged first."""

import ipaddress
import os
import re
import signal
import subprocess
import sys
import tarfile
import time

import pytest

from testhosts.cluster import REPO_DIR
from testhosts.polling import wait_for

from .conftest import VipWatch, pyinfra, totals
from .pings import Pings

pytestmark = pytest.mark.e2e

HOSTS = 2  # the cluster fixture starts this many
NAMES = ("host-01", "host-02")
BLOCK_VRRP = ("nft add table inet day2test && nft add chain inet day2test input "
              "'{ type filter hook input priority 0; }' && "
              "nft add rule inet day2test input ip protocol 112 drop")

SIGNUM_CALLS = "/tmp/keepalived-signum-calls"
SIGNUM_WRAPPER = ("#!/bin/sh\n"  # (systemd starts /usr/sbin/keepalived by its full path)
                  f'echo "$*" >> {SIGNUM_CALLS}\n'
                  'exec /usr/sbin/keepalived "$@"\n')


def status_lines(result):
    """{host: its table line's cells} from the table status.py logs (stderr) first (its
    host-key lines, after the table, also start with a host's name)."""
    lines = {}
    for line in result.stderr.splitlines():
        if line.strip().startswith("host-"):
            lines.setdefault(line.split()[0], line.split())
    return lines


# host-02's script user is an account the operator made before the first deploy: the
# deploy leaves it as it is, and uninstall keeps it (it removes only a user it created)
OPERATORS_USER = "useradd -r -M -d /nonexistent -s /usr/sbin/nologin keepalived_script"


def test_converge(cluster):
    code, output = cluster.run("host-02", OPERATORS_USER)
    assert code == 0, output
    result = pyinfra(cluster.inventory_path, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None


def test_status_shows_the_master_holding_the_vip_and_the_backup(cluster):
    result = pyinfra(cluster.inventory_path, "-y", deploy="status.py")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = status_lines(result)
    assert lines["host-01"][:6] == ["host-01", "VI_1", "MASTER", "100", "100", cluster.vip()]
    assert lines["host-02"][:6] == ["host-02", "VI_1", "BACKUP", "90", "90", "-"]
    assert re.search(r"UTC \(\d+[smh] ago\)", " ".join(lines["host-01"]))
    assert "OK: every instance has exactly one MASTER" in result.stderr
    for host in NAMES:  # the dump (it holds auth_pass) is not left behind
        assert cluster.run(host, "ls /tmp/keepalived.data")[0] != 0


def test_status_flags_split_brain_when_vrrp_is_blocked(cluster):
    code, output = cluster.run("host-02", BLOCK_VRRP)
    assert code == 0, output
    try:
        assert wait_for(lambda: cluster.holders() == list(NAMES), timeout=10) is not None
        result = pyinfra(cluster.inventory_path, "-y", deploy="status.py")
    finally:
        cluster.run("host-02", "nft delete table inet day2test")

    assert result.returncode == 2  # a split cluster: not 1, a host not reached
    assert "SPLIT BRAIN: VI_1 is MASTER on 2 hosts: host-01, host-02" in result.stderr
    assert [cells[2] for cells in status_lines(result).values()] == ["MASTER", "MASTER"]
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=10) is not None


def test_status_exits_1_for_a_host_it_cannot_reach(cluster, tmp_path):
    """A host whose SSH port refuses: exit 1 (pyinfra's, a host failed), not the split
    cluster's 2; its instance is UNKNOWN, not NO MASTER."""
    inventory = cluster.derived_inventory(str(tmp_path / "inventory.py"), lambda data: data)
    text = open(inventory).read()
    address = cluster.address("host-02")
    assert f"'ssh_hostname': '{address}'," in text
    open(inventory, "w").write(text.replace(f"'ssh_hostname': '{address}',",
                                            f"'ssh_hostname': '{address}', 'ssh_port': 1,"))
    result = pyinfra(inventory, "-y", deploy="status.py")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "UNKNOWN: VI_1: not read from host-02" in result.stderr, result.stderr


def test_status_under_dry_signals_no_keepalived(cluster):
    """The status fact asks `keepalived --signum=DATA` for the signal it sends: a wrapper
    earlier on sudo's PATH notes each call. A dry run makes none; the real one after it,
    one per host (the control)."""
    for host in NAMES:
        cluster.put_file(host, "/usr/local/sbin/keepalived", SIGNUM_WRAPPER, mode=0o755)
    try:
        result = pyinfra(cluster.inventory_path, "--dry", deploy="status.py")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "status: dry run, nothing read" in result.stderr
        calls = {host: cluster.run(host, f"cat {SIGNUM_CALLS} 2>/dev/null")[1] for host in NAMES}
        assert calls == {host: "" for host in NAMES}, calls

        result = pyinfra(cluster.inventory_path, "-y", deploy="status.py")
        assert result.returncode == 0, result.stdout + result.stderr
        calls = {host: cluster.run(host, f"cat {SIGNUM_CALLS} 2>/dev/null")[1] for host in NAMES}
        assert calls == {host: "--signum=DATA\n" for host in NAMES}, calls
    finally:
        for host in NAMES:
            cluster.run(host, f"rm -f /usr/local/sbin/keepalived {SIGNUM_CALLS}")


def test_drill_fails_over_and_back_and_measures_both(cluster):
    result = pyinfra(cluster.inventory_path, "-y", "--data", "drill_instance=VI_1",
                     deploy="drill.py")

    assert result.returncode == 0, result.stdout + result.stderr
    # (logged: on stderr, as pyinfra logs)
    failover = re.search(r"failover host-01 -> host-02: ([0-9.]+) s", result.stderr)
    failback = re.search(r"failback host-02 -> host-01: ([0-9.]+) s", result.stderr)
    assert failover and failback, result.stdout + result.stderr
    print(f"drill: failover {failover.group(1)} s, failback {failback.group(1)} s")
    assert 0 < float(failover.group(1)) < 14 and 0 < float(failback.group(1)) < 14
    assert cluster.holders() == ["host-01"]
    for host in NAMES:
        assert cluster.run(host, "systemctl is-active keepalived")[1].strip() == "active"


def test_drill_refuses_when_the_backup_is_stopped_and_touches_nothing(cluster):
    cluster.run("host-02", "systemctl stop keepalived")
    try:
        since = cluster.run("host-01", "systemctl show -p ActiveEnterTimestamp keepalived")[1]
        result = pyinfra(cluster.inventory_path, "-y", "--data", "drill_instance=VI_1",
                         deploy="drill.py")
        assert result.returncode != 0
        assert ("drill refused: the backup of VI_1 is not healthy: "
                "host-02: keepalived is not running") in result.stdout + result.stderr
        assert "Starting operation" not in result.stdout + result.stderr
        assert cluster.holders() == ["host-01"]
        assert cluster.run("host-01", "systemctl show -p ActiveEnterTimestamp keepalived")[1] \
            == since, "keepalived on the master was restarted"
    finally:
        cluster.run("host-02", "systemctl start keepalived")


def second_instance(cluster, tmp_path):
    """(inventory, VIP) of the cluster with a second instance VI_2 (its own VRID and VIP,
    host-01 its MASTER too)."""
    vip = ipaddress.ip_interface(cluster.vip())
    second = f"{vip.ip + 1}/{vip.network.prefixlen}"

    def edit(data):
        [first] = data["keepalived_vrrp_instances"]
        return {**data, "keepalived_vrrp_instances": [
            first, {**first, "name": "VI_2", "virtual_router_id": 52,
                    "virtual_ipaddresses": [second]}]}
    return cluster.derived_inventory(str(tmp_path / "two.py"), edit), second


def test_drill_moves_only_the_instance_it_drills(cluster, observer, tmp_path):
    """host-01 is MASTER of VI_1 and VI_2: drilling VI_1 moves VI_1 (no ping to it lost)
    and leaves VI_2 on host-01 all along."""
    inventory, second = second_instance(cluster, tmp_path)
    result = pyinfra(inventory, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    assert wait_for(lambda: cluster.holders(second) == ["host-01"], timeout=15) is not None
    with VipWatch(cluster, second) as watch, Pings(observer, cluster.vip()) as pings:
        result = pyinfra(inventory, "-y", "--data", "drill_instance=VI_1", deploy="drill.py")
        time.sleep(0.5)
    print(f"\ndrill of VI_1 beside VI_2: pings to VI_1: {pings}; VI_2 samples on host-02: "
          f"{sum(watch.samples['host-02'])}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"failover host-01 -> host-02: [0-9.]+ s", result.stderr), result.stderr
    assert re.search(r"failback host-02 -> host-01: [0-9.]+ s", result.stderr), result.stderr
    assert set(watch.samples["host-01"]) == {1} and set(watch.samples["host-02"]) == {0}, \
        "VI_2 moved with the drill of VI_1"
    assert pings.lost == 0, pings
    assert cluster.holders() == ["host-01"]


def test_a_drill_whose_controller_is_killed_is_repaired_by_the_host(cluster):
    """The drill's pyinfra is SIGKILLed (no `finally` runs, its SSH links drop) while
    VI_1 is on the backup: host-01 ends the drill by itself, the VIP comes back and
    keepalived runs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pyinfra", "-y", "--data", "drill_instance=VI_1",
         cluster.inventory_path, "drill.py"], cwd=REPO_DIR, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        moved = wait_for(lambda: cluster.holders() == ["host-02"], timeout=60)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert moved is not None, "the drill never moved VI_1"
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=30) is not None, \
        f"VI_1 on {cluster.holders()} after the killed drill"
    assert cluster.run("host-01", "systemctl is-active keepalived")[1].strip() == "active"
    assert wait_for(lambda: cluster.run(
        "host-01", "test ! -s /run/pyinfra-keepalived.drain.VI_1 || "
                   "grep -qx 0 /run/pyinfra-keepalived.drain.VI_1")[0] == 0, timeout=30)


def test_backup_archives_every_hosts_config_privately(cluster, tmp_path):
    result = pyinfra(cluster.inventory_path, "-y", "--data", f"backup_dir={tmp_path}",
                     deploy="backup.py")

    assert result.returncode == 0, result.stdout + result.stderr
    [run_dir] = list(tmp_path.iterdir())
    assert re.fullmatch(r"\d{8}T\d{6}Z", run_dir.name)
    assert oct(run_dir.stat().st_mode & 0o777) == "0o700"
    assert sorted(path.name for path in run_dir.iterdir()) == ["host-01.tar.gz",
                                                                "host-02.tar.gz"]
    for host in NAMES:
        archive = run_dir / f"{host}.tar.gz"
        assert oct(archive.stat().st_mode & 0o777) == "0o600"
        with tarfile.open(archive) as tar:
            members = {member.name: member for member in tar.getmembers()}
            secret = members["keepalived/conf.d/20-vrrp_instances.conf"]
            assert oct(secret.mode) == "0o600"
            content = tar.extractfile(secret).read().decode()
        assert content == cluster.run(host, "cat /etc/keepalived/conf.d/20-vrrp_instances.conf")[1]
        assert {"keepalived/keepalived.conf", "keepalived/scripts/check_ssh.sh"} <= set(members)
        assert cluster.run(host, "ls /tmp/pyinfra-* 2>/dev/null")[1] == ""
        assert cluster.run(host, "ls -d /var/tmp/keepalived-deploy.* 2>/dev/null")[1] == ""


def test_a_deploy_removes_uploads_of_broken_off_runs_only(cluster):
    """An upload dir of a broken-off run (the login user's, 700, holding a 600 file,
    untouched for hours) goes with the next deploy; a recent one (a run in progress) and
    one of another user stay. A run with nothing else to do sends just that command."""
    stale, recent, foreign = (f"/var/tmp/keepalived-deploy.{suffix}" for suffix in
                              ("0123456789ab", "00000000000a", "00000000000b"))
    code, output = cluster.run("host-01", " && ".join([
        f"install -d -m 700 -o deployer {stale} {recent}",
        f"install -d -m 700 -o nobody {foreign}",
        f"install -m 600 -o deployer /dev/null {stale}/3",
        f"touch -d '3 hours ago' {stale} {foreign}"]))
    assert code == 0, output
    try:
        result = pyinfra(cluster.inventory_path, "-y")
        assert result.returncode == 0, result.stdout + result.stderr
        left = cluster.run("host-01", f"ls -d {stale} {recent} {foreign} 2>/dev/null")[1]
        assert left.split() == [recent, foreign]
        assert "Remove upload directories of broken-off runs" in result.stderr + result.stdout
    finally:
        cluster.run("host-01", f"rm -rf {stale} {recent} {foreign}")


def user_pids(cluster, host, user="keepalived_script"):
    return cluster.run(host, f"for p in /proc/[0-9]*; do [ \"$(stat -c %U $p)\" = {user} ] "
                             "&& echo ${p#/proc/}; done")[1].split()


def test_uninstall_keeps_a_busy_script_user(cluster):
    cluster.run("host-02", "runuser -u keepalived_script -- sleep 600 >/dev/null 2>&1 &")
    assert wait_for(lambda: user_pids(cluster, "host-02"), timeout=5) is not None
    try:
        result = pyinfra(cluster.inventory_path, "-y", "--limit", "host-02",
                         deploy="uninstall.py")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "keeping user keepalived_script: process(es)" in result.stdout + result.stderr
        assert cluster.run("host-02", "getent passwd keepalived_script")[0] == 0
    finally:
        cluster.run("host-02", "kill " + " ".join(user_pids(cluster, "host-02")))
    assert wait_for(lambda: not user_pids(cluster, "host-02"), timeout=5) is not None


def test_uninstall_leaves_nothing_and_a_second_run_changes_nothing(cluster):
    result = pyinfra(cluster.inventory_path, "-y", deploy="uninstall.py")
    assert result.returncode == 0, result.stdout + result.stderr

    assert cluster.holders() == []
    # the user the deploy created goes; the operator's (host-02's) stays, and it says so
    assert cluster.run("host-01", "getent passwd keepalived_script")[0] != 0
    assert cluster.run("host-02", "getent passwd keepalived_script")[0] == 0
    assert "keeping user keepalived_script: this deploy did not create it" \
        in result.stdout + result.stderr
    for host in NAMES:
        assert cluster.run(host, "ls -d /etc/keepalived")[0] != 0
        assert cluster.run(host, "ls /var/lib/pyinfra-keepalived*")[0] != 0  # no record left
        assert cluster.run(host, "dpkg -s keepalived")[0] != 0, "keepalived still installed"
        assert cluster.run(host, "systemctl is-enabled keepalived")[0] != 0
        assert cluster.run(host, "ls /etc/systemd/system/keepalived.service.d/"
                                 "pyinfra-keepalived.conf")[0] != 0, "the drop-in is left"
        comms = cluster.run(host, "cat /proc/[0-9]*/comm 2>/dev/null")[1].split()
        assert "keepalived" not in comms
        raw = cluster.run(host, "cat /proc/net/raw /proc/net/raw6")[1]
        assert not re.search(r":0070 ", raw), f"a raw socket for VRRP (112) is open:\n{raw}"

    again = pyinfra(cluster.inventory_path, "-y", deploy="uninstall.py")
    operations, changed, errors, unchanged = totals(again)
    assert (changed, errors) == (0, 0) and unchanged == operations, again.stderr
