"""Converge the seed example on two test hosts over SSH as a non-root sudo user.

The tests run in file order on one cluster: converge, re-run, dry runs, failure cases,
then a failover that ends with the VIP back on the master.
"""

import pytest

from .conftest import (
    checksums,
    detected_changes,
    edited_inventory,
    pyinfra,
    totals,
    wait_for,
)

pytestmark = pytest.mark.e2e

FILES = {
    "/etc/keepalived": "root:root 755 directory",
    "/etc/keepalived/conf.d": "root:root 755 directory",
    "/etc/keepalived/scripts": "root:root 755 directory",
    "/etc/keepalived/keepalived.conf": "root:root 644 regular file",
    "/etc/keepalived/conf.d/00-global_defs.conf": "root:root 644 regular file",
    "/etc/keepalived/conf.d/10-vrrp_scripts.conf": "root:root 644 regular file",
    "/etc/keepalived/conf.d/20-vrrp_instances.conf": "root:root 600 regular file",
    "/etc/keepalived/scripts/check_ssh.sh": "root:root 755 regular file",
}


def test_converge(cluster):
    result = pyinfra(cluster.inventory_path, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, _ = totals(result)
    assert errors == 0 and changed >= 8  # user, package, config, service on each host

    for host in ("host-01", "host-02"):
        assert cluster.run(host, "systemctl is-active keepalived")[1].strip() == "active"
        assert cluster.run(host, "systemctl is-enabled keepalived")[1].strip() == "enabled"
        user = cluster.run(host, "getent passwd keepalived_script")[1].strip().split(":")
        assert user[4:] == ["Keepalived health check script user", "/nonexistent",
                            "/usr/sbin/nologin"]
        assert cluster.run(host, "test -e /nonexistent")[0] != 0, "a home was created"
        stat = cluster.run(host, "stat -c '%n|%U:%G %a %F' " + " ".join(FILES))[1]
        assert dict(line.split("|") for line in stat.splitlines()) == FILES
        journal = cluster.run(host, "journalctl -u keepalived --no-pager")[1]
        assert "VRRP_Script(check_ssh) succeeded" in journal, journal[-2000:]

    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None, \
        f"VIP {cluster.vip()} held by {cluster.holders()}, expected host-01 only"


def test_second_run_changes_nothing(cluster):
    before = {host: checksums(cluster, host) for host in ("host-01", "host-02")}
    result = pyinfra(cluster.inventory_path, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, unchanged = totals(result)
    assert (changed, errors) == (0, 0) and unchanged == operations, result.stdout
    assert {host: checksums(cluster, host) for host in before} == before


def test_dry_run_on_converged_hosts_detects_no_change(cluster):
    result = pyinfra(cluster.inventory_path, "--dry")
    assert result.returncode == 0, result.stdout + result.stderr
    changes = detected_changes(result)
    assert "Keepalived | Keepalived config | Validate and install the keepalived config" in changes
    assert set(changes.values()) == {"-"}, changes


def test_priority_change_dry_diff_shows_it_and_changes_nothing(cluster, tmp_path):
    inventory = edited_inventory(cluster, tmp_path, "'keepalived_priority': 90",
                                 "'keepalived_priority': 80")
    before = {host: checksums(cluster, host) for host in ("host-01", "host-02")}

    result = pyinfra(inventory, "--dry", "--diff")

    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    config_op = "Keepalived | Keepalived config | Validate and install the keepalived config"
    assert detected_changes(result)[config_op] == "1 (host-02)"
    assert "Will modify /etc/keepalived/conf.d/20-vrrp_instances.conf" in output
    assert "-     priority          90" in output and "+     priority          80" in output
    assert "1234" not in output, "auth_pass shown in clear in the diff"
    assert {host: checksums(cluster, host) for host in before} == before


def test_rejected_config_never_goes_live(cluster, tmp_path):
    inventory = edited_inventory(cluster, tmp_path, "'interface': 'eth0'",
                                 "'interface': 'eth7'")
    before = {host: checksums(cluster, host) for host in ("host-01", "host-02")}

    result = pyinfra(inventory, "-y")

    assert result.returncode == 1
    assert "interface eth7 for vrrp_instance VI_1 doesn't exist" in result.stdout + result.stderr
    assert "the live config was NOT changed" in result.stdout + result.stderr
    assert {host: checksums(cluster, host) for host in before} == before
    assert cluster.holders() == ["host-01"]
    assert cluster.run("host-01", "systemctl is-active keepalived")[1].strip() == "active"


def test_bad_data_stops_before_any_host_is_touched(cluster, tmp_path):
    inventory = edited_inventory(cluster, tmp_path, "'virtual_router_id': 51",
                                 "'virtual_router_id': 256")
    before = {host: checksums(cluster, host) for host in ("host-01", "host-02")}

    result = pyinfra(inventory, "-y")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "keepalived_vrrp_instances[0].virtual_router_id = 256" in output
    assert "no host was changed" in output
    assert "Starting operation" not in output
    assert {host: checksums(cluster, host) for host in before} == before


def test_graceful_stop_moves_vip_and_it_returns(cluster):
    assert wait_for(lambda: cluster.holders() == ["host-01"], timeout=15) is not None
    cluster.run("host-01", "systemctl stop keepalived")
    moved = wait_for(lambda: cluster.holders() == ["host-02"], timeout=5)
    assert moved is not None, f"VIP held by {cluster.holders()} after stopping the master"

    cluster.run("host-01", "systemctl start keepalived")
    back = wait_for(lambda: cluster.holders() == ["host-01"], timeout=10)
    assert back is not None, f"VIP held by {cluster.holders()} after the master came back"
