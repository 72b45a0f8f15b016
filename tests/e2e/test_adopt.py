"""Issue 23: a cluster configured by hand (keepalived from apt, a keepalived.conf written
directly with a check script and a notify script) is adopted from the live hosts
(adopt.py), then deployed onto while a client pings the VIP every 20 ms: nothing lost, no
VRRP state transition, the VIP holder unchanged; the second deploy changes nothing.

One two-host cluster for the module (the steps build on each other, in order).
"""

import os
import re
import runpy
import stat
import subprocess
import sys
import time

import pytest

from testhosts.cluster import GROUP, REPO_DIR
from testhosts.polling import wait_for

from .conftest import totals
from .pings import Pings, main_pids

pytestmark = pytest.mark.e2e

MASTER, BACKUP = "host-01", "host-02"
AUTH_PASS = "s3cr3tpw"  # never printed by adopt.py
HAND_CONFIG = """! written by hand, not by this deploy
global_defs {
    router_id %(host)s
}

vrrp_script chk_ssh {
    script "/etc/keepalived/check_ssh.sh"
    interval 1
    weight -20
    fall 2
    rise 2
}

vrrp_instance VI_1 {
    state %(state)s
    interface eth0
    virtual_router_id 51
    priority %(priority)d
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass %(auth_pass)s
    }
    virtual_ipaddress {
        %(vip)s
    }
    track_script {
        chk_ssh
    }
    notify /etc/keepalived/notify.sh
}
"""
# root's check: only root may signal sshd (as any other user, kill -0 fails: EPERM). Run as
# another user than before, it fails, the weight drops the master below the backup and
# the VIP moves: the script user is adopted as keepalived's own default (root here).
CHECK_SCRIPT = '#!/bin/sh\n# is sshd up?\nexec kill -0 "$(cat /run/sshd.pid)"\n'
NOTIFY_SCRIPT = ("#!/bin/sh\n# $1 INSTANCE, $2 name, $3 state: kept for the operators\n"
                 'echo "$(date +%s) $2 $3" >> /run/keepalived-notify.log\n')
INSTALL = ("export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/tmp/apt.log 2>&1 && "
           "apt-get install -y --no-install-recommends keepalived >/tmp/apt.log 2>&1 "
           "|| { tail -20 /tmp/apt.log; exit 1; }")
TRANSITION = re.compile(r"Entering (MASTER|BACKUP|FAULT) STATE|"
                        r"received lower priority|Received advert .* higher priority")
# a check that stops passing (run as another user, say) changes the effective priority:
# the VIP moves, or (every host's check failing alike) no longer moves when it should
CHECK_FAILED = re.compile(r"VRRP_Script\(\S+\) failed|Changing effective priority")


def hand_config(cluster, host):
    priority, state = (100, "MASTER") if host == MASTER else (90, "BACKUP")
    return HAND_CONFIG % {"host": host, "state": state, "priority": priority,
                          "auth_pass": AUTH_PASS, "vip": cluster.vip()}


@pytest.fixture(scope="module")
def by_hand(cluster, observer):
    """keepalived installed with apt and configured by hand, the master holding the VIP."""
    for host in cluster.hosts:
        cluster.run(host, "mkdir -p /etc/keepalived")
        cluster.put_file(host, "/etc/keepalived/keepalived.conf", hand_config(cluster, host),
                         mode=0o644)
        cluster.put_file(host, "/etc/keepalived/check_ssh.sh", CHECK_SCRIPT, mode=0o755)
        cluster.put_file(host, "/etc/keepalived/notify.sh", NOTIFY_SCRIPT, mode=0o755)
    for host in cluster.hosts:
        code, output = cluster.run(host, INSTALL)
        assert code == 0, f"{host}: {output}"
        assert cluster.run(host, "systemctl restart keepalived")[0] == 0
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=20) is not None, \
        cluster.holders()
    return cluster


def run(directory, inventory, deploy, *args):
    """pyinfra as an operator runs it from `directory` (where the adopted data and the
    templates/ of its check scripts are); with -y unless it is a --dry run (-y skips the
    change detection that prints the plan)."""
    yes = [] if "--dry" in args else ["-y"]
    return subprocess.run(
        [sys.executable, "-m", "pyinfra", *yes, *args, inventory, os.path.join(REPO_DIR, deploy)],
        cwd=directory, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)


@pytest.fixture(scope="module")
def project(by_hand, tmp_path_factory):
    """A project directory: adopt.py's output, and an inventory of it with the cluster's
    SSH access (adopt leaves ssh_* to the operator)."""
    cluster = by_hand
    directory = tmp_path_factory.mktemp("adopted")
    # (-vvv: pyinfra prints every fact's output, the live files' too)
    result = run(directory, cluster.inventory_path, "adopt.py", "-vvv", "--data", "adopt_out=.")
    output = result.stdout + result.stderr
    assert AUTH_PASS not in output
    assert result.returncode == 0, output
    hosts, group_data = runpy.run_path(cluster.inventory_path)[GROUP]
    ssh = {key: value for key, value in group_data.items()
           if key.startswith("ssh_") or key == "_sudo"}
    (directory / "group_data" / "all.py").write_text(
        "".join(f"{key} = {value!r}\n" for key, value in ssh.items()))
    adopted = runpy.run_path(str(directory / "inventory.py"))
    addresses = dict((name, data["ssh_hostname"]) for name, data in hosts)
    groups = {name: [(host, {**data, "ssh_hostname": addresses[host]}) for host, data in value]
              for name, value in adopted.items() if isinstance(value, list)}
    (directory / "deploy_inventory.py").write_text(
        "".join(f"{name} = {value!r}\n" for name, value in groups.items()))
    return directory, output


def test_adopt_reads_the_live_hosts(project):
    directory, output = project
    assert "0 line(s) not mapped, 0 difference(s)" in output, output
    for path in ("inventory.py", *os.listdir(directory / "group_data")):
        where = directory / path if path == "inventory.py" else directory / "group_data" / path
        if path != "all.py":
            assert stat.S_IMODE(os.stat(where).st_mode) == 0o600, where
    group = "".join(path.read_text() for path in (directory / "group_data").glob("vrrp_*.py"))
    assert AUTH_PASS in group and "notify.sh" in group
    assert (directory / "templates" / "check_ssh.sh").read_text() == CHECK_SCRIPT


def test_the_proof_on_the_hosts_finds_the_render_the_same(project):
    directory, _ = project
    result = run(directory, "deploy_inventory.py", "adopt_check.py")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.count("the rendered config means the same as the live one") == 2, output
    assert AUTH_PASS not in output


def test_first_deploy_moves_no_vip(project, by_hand, observer):
    """The first deploy onto the adopted hosts: one reload per host at most, no restart,
    no state transition, no check failing, no ping lost, the holder unchanged. The plan (--dry --diff)
    first: it shows the files, never the auth_pass."""
    cluster = by_hand
    directory, _ = project
    plan = run(directory, "deploy_inventory.py", "deploy.py", "--dry", "--diff")
    shown = plan.stdout + plan.stderr
    assert plan.returncode == 0, shown
    assert "scripts/check_ssh.sh" in shown and AUTH_PASS not in shown, shown
    pids = main_pids(cluster)
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    with Pings(observer, cluster.vip()) as pings:
        result = run(directory, "deploy_inventory.py", "deploy.py")
        time.sleep(5)  # (a transition after the run, too: a check failing `fall` times)
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"\nfirst deploy onto adopted hosts: {pings}")
    assert pings.lost == 0, str(pings)
    assert cluster.holders() == [MASTER]
    assert main_pids(cluster) == pids, "keepalived restarted"
    for host in cluster.hosts:
        journal = cluster.journal_since(host, cursors[host])
        assert not TRANSITION.search(journal), f"{host}: {journal}"
        assert not CHECK_FAILED.search(journal), f"{host}: {journal}"
        assert journal.count("Reloading keepalived") <= 1, f"{host}: {journal}"
    # as enable_script_security wants them: root's, writable by root alone
    code, modes = cluster.run(MASTER, "stat -L -c '%U:%G %a' /etc/keepalived/scripts/check_ssh.sh "
                                      "/etc/keepalived/scripts/notify.sh")
    assert code == 0 and modes.split("\n")[:2] == ["root:root 755"] * 2, modes


def test_second_deploy_changes_nothing(project):
    directory, _ = project
    result = run(directory, "deploy_inventory.py", "deploy.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert totals(result)[1] == 0, result.stdout


def test_bad_input_is_a_message_and_nothing_is_written(by_hand, tmp_path):
    """A config that includes a binary file (another config file of the host, given as
    keepalived_config_file): exit 2, the host and file named, no traceback, nothing
    written."""
    cluster = by_hand
    for host in cluster.hosts:
        cluster.put_file(host, "/root/bad.conf", "include /root/blob.bin\n", mode=0o600)
        cluster.run(host, "head -c 64 /bin/sh > /root/blob.bin")
    result = run(tmp_path, cluster.inventory_path, "adopt.py",
                 "--data", "keepalived_config_file=/root/bad.conf", "--data", "adopt_out=out")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert f"{MASTER}: /root/blob.bin is a binary file" in output and "Traceback" not in output
    assert list(tmp_path.iterdir()) == []


SSL_PASSWORD = "Ss1-pw-of-the-key"  # the SSL block's: never printed by adopt.py either


def test_an_ssl_password_is_never_printed_with_vvv(by_hand, tmp_path):
    """A live config with keepalived's other secret, the SSL block's password (SSL_GET's
    key), in a file every user may read: adopt.py with -vvv (every fact's output printed)
    shows it nowhere, writes it nowhere; the SSL block is listed as not mapped."""
    cluster = by_hand
    for host in cluster.hosts:
        cluster.put_file(host, "/root/ssl.conf", "include /etc/keepalived/keepalived.conf\n"
                         f"SSL {{\n    password {SSL_PASSWORD}\n}}\n", mode=0o644)
    result = run(tmp_path, cluster.inventory_path, "adopt.py", "-vvv",
                 "--data", "keepalived_config_file=/root/ssl.conf", "--data", "adopt_out=out")
    output = result.stdout + result.stderr
    assert f"{MASTER}: /root/ssl.conf:2: SSL: not typed yet" in output, output
    assert SSL_PASSWORD not in output and AUTH_PASS not in output
    assert "## secret 3 " in output  # (the line went keyed)
    written = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file())
    assert written and SSL_PASSWORD not in written
