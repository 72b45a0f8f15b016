"""Host level on two test hosts whose nftables input policy is drop (SSH let in).

In file order, on one cluster: with keepalived_firewall false VRRP is dropped and both
hosts take the VIP (the control); the default deploy opens VRRP and the backup lets go;
failover and return; a second run changes nothing; the rule comes back at keepalived's
next start after the operator reloads the ruleset; systemd restarts a killed keepalived;
a masked unit is unmasked; daemon options reach keepalived's command line (restart);
--dump-conf is refused (the cluster's VI_1 has auth_pass) and the journal holds no password,
also where the host's own options file has -d (keepalived_daemon_options unset);
a refused daemon option (--check) stops the run before any host is touched; the removal
deploy takes the rule and the drop-in away. (ip_nonlocal_bind is not
observable here: /proc/sys is read-only in docker containers; see test_host_commands.py.)
"""

import os
import re
import subprocess
import sys
import time

import pytest

from testhosts.cluster import REPO_DIR
from testhosts.polling import wait_for

from .conftest import (
    LIVE_FILES,
    detected_changes,
    edited_inventory,
    load_operator_ruleset,
    pyinfra,
    totals,
)

pytestmark = pytest.mark.e2e

NAMES = ("host-01", "host-02")
DROPIN = "/etc/systemd/system/keepalived.service.d/pyinfra-keepalived.conf"
NEEDRESTART_CONF = "/etc/needrestart/conf.d/pyinfra-keepalived.conf"  # (no needrestart here)


def inventory_with(cluster, tmp_path, extra):
    """The cluster's inventory with `extra` ("'key': value, ...") added to the group data."""
    return edited_inventory(cluster, tmp_path, "'_sudo': True,", f"'_sudo': True, {extra},")


def converge(inventory):
    result = pyinfra(inventory, "-y")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def vrrp_rules(cluster, host):
    return cluster.run(host, "nft list ruleset 2>/dev/null | grep -c 'keepalived-vrrp' || true")[1].strip()


def keepalived_pid(cluster, host):
    return cluster.run(host, "systemctl show -p MainPID --value keepalived")[1].strip()


def test_control_vrrp_dropped_means_both_hosts_take_the_vip(cluster, tmp_path):
    for host in NAMES:
        load_operator_ruleset(cluster, host)
    result = pyinfra(inventory_with(cluster, tmp_path, "'keepalived_firewall': False"), "-y")
    # the deploy's own end-of-run check sees the split and fails the run, naming it
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "SPLIT BRAIN: VI_1" in output, output[-3000:]
    assert vrrp_rules(cluster, "host-01") == "0"
    # The backup hears no advert and becomes master too after ~3.6 s: split brain.
    assert wait_for(lambda: cluster.holders() == list(NAMES), timeout=15) is not None, \
        f"VIP held by {cluster.holders()}; with VRRP dropped both hosts should hold it"


def test_default_deploy_opens_vrrp_and_the_backup_lets_go(cluster):
    result = converge(cluster.inventory_path)
    assert "Let VRRP from the peers through the host firewall" in result.stdout + result.stderr
    for host in NAMES:
        assert vrrp_rules(cluster, host) == "1"
        chain = cluster.run(host, "nft -p list chain inet filter input 2>/dev/null")[1]
        # a multicast instance: the VRRP group on its interface (-p: protocol numbers)
        assert chain.splitlines()[3].strip() == (
            'iifname "eth0" ip daddr 224.0.0.18 meta l4proto 112 accept comment '
            '"keepalived-vrrp"')
        assert cluster.run(host, "grep -c ExecStartPre " + DROPIN)[1].strip() == "1"
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None, \
        f"VIP held by {cluster.holders()}, expected host-01 only once VRRP passes"


def test_failover_and_return_through_the_firewall(cluster):
    cluster.run("host-01", "systemctl stop keepalived")
    assert wait_for(lambda: cluster.holders() == ["host-02"], timeout=5) is not None, \
        f"VIP held by {cluster.holders()} after stopping the master"
    cluster.run("host-01", "systemctl start keepalived")
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=10) is not None, \
        f"VIP held by {cluster.holders()} after the master came back"


def test_second_run_changes_nothing(cluster):
    start = time.monotonic()
    result = pyinfra(cluster.inventory_path, "-y")
    print(f"no-op run with the firewall open: {time.monotonic() - start:.1f} s")
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, unchanged = totals(result)
    assert (changed, errors) == (0, 0) and unchanged == operations, result.stdout

    result = pyinfra(cluster.inventory_path, "--dry")
    assert result.returncode == 0, result.stdout + result.stderr
    # the firewall is open: its operation, with nothing to do, is not even added
    assert detected_changes(result) == {}, result.stdout


def test_rule_comes_back_at_the_next_start_after_a_ruleset_reload(cluster):
    """The operator reloads their ruleset (the rule is gone); keepalived's drop-in puts it
    back before keepalived starts again."""
    load_operator_ruleset(cluster, "host-02")
    assert vrrp_rules(cluster, "host-02") == "0"
    cluster.run("host-02", "systemctl restart keepalived")
    assert vrrp_rules(cluster, "host-02") == "1"
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=10) is not None


def test_systemd_restarts_a_killed_keepalived(cluster):
    # (the drop-in went on disk before the package brought the unit: loaded with it)
    shown = cluster.run("host-02", "systemctl show -p Restart -p RestartUSec -p After "
                                   "-p Wants -p NeedDaemonReload keepalived")[1]
    assert "Restart=on-failure" in shown and "RestartUSec=5s" in shown
    assert "NeedDaemonReload=no" in shown
    assert "network-online.target" in shown.split("After=")[1].splitlines()[0]
    before = keepalived_pid(cluster, "host-02")
    cluster.run("host-02", f"kill -9 {before}")
    assert wait_for(lambda: keepalived_pid(cluster, "host-02") not in ("0", before)
                    and cluster.run("host-02", "systemctl is-active keepalived")[1].strip()
                    == "active", timeout=15) is not None, "keepalived was not restarted"


def test_masked_unit_is_unmasked(cluster):
    cluster.run("host-02", "systemctl stop keepalived && systemctl mask keepalived")
    assert cluster.run("host-02", "systemctl is-enabled keepalived")[1].strip() == "masked"
    converge(cluster.inventory_path)
    assert cluster.run("host-02", "systemctl is-enabled keepalived")[1].strip() == "enabled"
    assert cluster.run("host-02", "systemctl is-active keepalived")[1].strip() == "active"


def test_daemon_options_restart_keepalived_with_them(cluster, tmp_path):
    inventory = inventory_with(cluster, tmp_path,
                               "'keepalived_daemon_options': ['--log-detail', "
                               "'--log-facility=daemon']")
    before = keepalived_pid(cluster, "host-02")
    converge(inventory)
    assert cluster.run("host-02", "grep DAEMON_ARGS /etc/default/keepalived")[1].strip() \
        == 'DAEMON_ARGS="--log-detail --log-facility=daemon"'
    pid = keepalived_pid(cluster, "host-02")
    assert pid != before
    # Debian's unit: ExecStart=/usr/sbin/keepalived --dont-fork $DAEMON_ARGS
    assert cluster.run("host-02", f"cat /proc/{pid}/cmdline | tr '\\0' ' '")[1].split()[1:] \
        == ["--dont-fork", "--log-detail", "--log-facility=daemon"]
    result = pyinfra(inventory, "-y")  # unchanged options: no restart
    assert totals(result)[1] == 0 and keepalived_pid(cluster, "host-02") == pid
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None


def keepalived_journal(cluster, host):
    return cluster.run(host, "journalctl -u keepalived --no-pager -o cat")[1]


def test_journal_holds_no_password_after_a_deploy_and_a_reload(cluster, tmp_path):
    """--dump-conf (the README's example once) makes keepalived log its whole config,
    auth_pass included ("Password = 1234"), at every start and reload: refused where an
    instance has a password, before any host is touched; after the run and a reload
    the journal holds no password."""
    inventory = inventory_with(cluster, tmp_path,
                               "'keepalived_daemon_options': ['--log-detail', '--dump-conf']")
    result = pyinfra(inventory, "-y")
    for host in NAMES:
        reloads = keepalived_journal(cluster, host).count("Reloading")
        code, output = cluster.run(host, "systemctl reload keepalived")
        assert code == 0, output
        assert wait_for(lambda: keepalived_journal(cluster, host).count("Reloading") > reloads,
                        timeout=15) is not None
        journal = keepalived_journal(cluster, host)
        # (not "1234" alone: a pid may read so)
        assert not re.search(r"(?i)pass\w*\W+1234", journal), host
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    # (one line for both hosts: the same mistake on many hosts is said once)
    assert ("host-01 and host-02: keepalived_daemon_options[1] = '--dump-conf': not allowed on a "
            "host whose config holds a password (VI_1's auth_pass)") in output, output[-3000:]
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None


def test_own_dump_conf_is_refused_and_the_journal_holds_no_password(cluster, tmp_path):
    """keepalived_daemon_options unset: the deploy leaves /etc/default/keepalived as the
    host has it. host-02's says -Dd (-d: --dump-conf) and keepalived is stopped there: the
    run refuses host-02 before anything changes on it (keepalived is not started with -d)
    and its journal holds no password. (On the old code the run started keepalived there,
    which logged "Password = 1234".)"""
    converge(cluster.inventory_path)
    since = cluster.run("host-02", "date +%s")[1].strip()
    code, output = cluster.run("host-02", "cp /etc/default/keepalived /tmp/options.saved && "
                                          "echo 'DAEMON_ARGS=\"-Dd\"' > /etc/default/keepalived "
                                          "&& systemctl stop keepalived")
    assert code == 0, output
    try:
        result = pyinfra(cluster.inventory_path, "-y")
        journal = cluster.run("host-02", "journalctl -u keepalived --no-pager -o cat "
                                         f"--since @{since}")[1]
        active = cluster.run("host-02", "systemctl is-active keepalived")[1].strip()
    finally:
        cluster.run("host-02", "cp /tmp/options.saved /etc/default/keepalived && "
                               "systemctl start keepalived")
    # (not "1234" alone: a pid may read so)
    assert not re.search(r"(?i)pass\w*\W+1234", journal), journal[-3000:]
    assert active != "active"
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert ("host-02: /etc/default/keepalived sets -d/--dump-conf in DAEMON_ARGS"
            in output), output[-3000:]
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None


def host_snapshot(cluster, host):
    """What a run could change on `host`: the files the deploy writes (contents, modes,
    times), keepalived's process and the VRRP rules."""
    files = (f"{LIVE_FILES} /etc/default/keepalived {DROPIN} "
             "/usr/local/sbin/keepalived-vrrp-firewall")
    return cluster.run(host, f"sha256sum {files}; stat -c '%n %a %U %Y' {files}; "
                             "systemctl show -p MainPID -p ActiveEnterTimestamp keepalived; "
                             "ls -a /var/lib/pyinfra-keepalived /run/lock 2>&1; "
                             "nft list ruleset 2>/dev/null | grep -c keepalived-vrrp")[1]


def test_refused_daemon_option_stops_the_run_before_any_host_is_touched(cluster, tmp_path):
    """`--check` would run keepalived without VRRP: refused for every host before the
    first operation, and the hosts are as they were (the options of the previous test
    stay, keepalived is not restarted)."""
    inventory = inventory_with(cluster, tmp_path, "'keepalived_daemon_options': ['--check']")
    before = {host: host_snapshot(cluster, host) for host in NAMES}

    result = pyinfra(inventory, "-y")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert ("host-01 and host-02: keepalived_daemon_options[0] = '--check': not allowed: "
            "keepalived would run without VRRP") in output, output[-3000:]
    assert "allowed: --vrrp, --no_bfd" in output
    assert "no host was changed" in output
    assert "Starting operation" not in output
    assert {host: host_snapshot(cluster, host) for host in NAMES} == before
    assert cluster.holders() == ["host-01"]


def test_removal_deploy_takes_rule_and_dropin_away(cluster, tmp_path):
    for host in NAMES:  # the deploy wrote needrestart's snippet, needrestart or not
        assert "override_rc" in cluster.run(host, f"cat {NEEDRESTART_CONF}")[1]
    removal = tmp_path / "remove_host_level.py"
    # (this checkout's package first, as the top-level deploy files do: not an installed one)
    removal.write_text(f"import sys\nsys.path.insert(0, {os.path.join(REPO_DIR, 'operations')!r})\n"
                       "from pyinfra_keepalived.operations.host_level import remove\nremove()\n")
    result = subprocess.run(
        [sys.executable, "-m", "pyinfra", "-y", cluster.inventory_path, str(removal)],
        cwd=REPO_DIR, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for host in NAMES:
        assert vrrp_rules(cluster, host) == "0"
        assert cluster.run(host, f"test -e {DROPIN}")[0] != 0
        assert cluster.run(host, "test -e /usr/local/sbin/keepalived-vrrp-firewall")[0] != 0
        # the snippet, and the directories the deploy made for it
        assert cluster.run(host, "test -e /etc/needrestart")[0] != 0
    # The operator's own rules are what they were.
    assert "tcp dport 22 accept" in cluster.run("host-01", "nft list ruleset 2>/dev/null")[1]
