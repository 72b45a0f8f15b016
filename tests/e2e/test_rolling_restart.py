"""Issue 15: a restart the deploy needs (daemon options changed, package upgraded) is a
rolling one: one host at a time, VIP holders last after handing the VIP to a peer, and
the package's own restart held off. A third party (a fourth container on the cluster's
network, no keepalived) pings the VIP every 20 ms meanwhile.

One 3-host cluster for the module. Debian 12 offers one keepalived version (bookworm and
bookworm-backports: 1:2.2.7-1+b2 only), so the upgrade is to a repackaged copy of it
(version 1:2.2.7-1+b2+roll1, the same files and maintainer scripts) in a local apt
repository on each host: apt sees a real upgrade and runs the real postinst.
"""

import runpy
import time

import pytest

from testhosts.cluster import GROUP
from testhosts.polling import wait_for
from testhosts.upgrade import UPGRADE, local_upgrade_command

from .conftest import VipWatch, converge, pyinfra, record
from .pings import Pings, main_pids, restarts

pytestmark = pytest.mark.e2e

HOSTS = 3
MASTER = "host-01"
MAX_SILENCE = 1.0  # seconds without an answer the test allows per cluster restart
GOAL = 0.1  # no answer later than this: the goal, reported
LEFT_BEHIND = ("test ! -e /usr/sbin/policy-rc.d && "
               "test ! -e /var/lib/pyinfra-keepalived/restart-pending && "
               "{ test ! -e /run/pyinfra-keepalived.drain || "
               "grep -qx 0 /run/pyinfra-keepalived.drain; }")

LOCAL_UPGRADE = local_upgrade_command()


@pytest.fixture(scope="module")
def converged(cluster, observer):
    converge(cluster)
    return cluster


def rolled(cluster, inventory, observer, what):
    """Deploy `inventory` while the observer pings the VIP; check the rollout: every
    host restarted once, never two at a time, the VIP back on the master, no answer
    missing longer than MAX_SILENCE. Returns the Pings."""
    before = main_pids(cluster)
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    with Pings(observer, cluster.vip()) as pings:
        result = pyinfra(inventory, "-y")
        assert result.returncode == 0, result.stdout + result.stderr
        back = wait_for(lambda: cluster.holders() == [MASTER], timeout=15)
        time.sleep(1)  # answers after the VIP came back, too
    print(f"\n{what}: {pings}")
    record(f"rolling restart ({what}): longest without answer", pings.silence, GOAL)
    assert back is not None, f"VIP on {cluster.holders()}, not on {MASTER} alone"
    after = main_pids(cluster)
    assert all(after[host] != before[host] for host in cluster.hosts), (before, after)
    windows = restarts(cluster, cursors)
    assert all(len(windows[host]) == 1 for host in cluster.hosts), windows
    ordered = sorted(window for host in cluster.hosts for window in windows[host])
    assert all(first[1] < second[0] for first, second in zip(ordered, ordered[1:])), \
        f"two hosts restarted at once: {windows}"
    # the master (the VIP holder) last
    assert windows[MASTER][0] == ordered[-1], windows
    for host in cluster.hosts:  # nothing left: no policy-rc.d, no marker, no drain
        assert cluster.run(host, LEFT_BEHIND)[0] == 0, f"{host}: " + cluster.run(
            host, "ls -l /usr/sbin/policy-rc.d /var/lib/pyinfra-keepalived "
                  "/run/pyinfra-keepalived.drain")[1]
    assert pings.silence <= MAX_SILENCE, f"{what}: {pings}"
    return pings


def test_daemon_options_change_restarts_one_host_at_a_time(converged, observer, tmp_path):
    cluster = converged
    inventory = cluster.derived_inventory(
        str(tmp_path / "options.py"),
        lambda data: {**data, "keepalived_daemon_options": ["--log-detail"]})
    rolled(cluster, inventory, observer, "daemon options")
    for host in cluster.hosts:
        assert "--log-detail" in cluster.run(host, "ps -o args= -C keepalived")[1]


def test_package_upgrade_is_not_restarted_by_the_package(converged, observer, tmp_path):
    cluster = converged
    for host in cluster.hosts:
        code, output = cluster.run(host, LOCAL_UPGRADE)
        assert code == 0, f"{host}: {output}"
    inventory = cluster.derived_inventory(
        str(tmp_path / "upgrade.py"),
        lambda data: {**data, "keepalived_daemon_options": ["--log-detail"],
                      "keepalived_package_version": UPGRADE})
    rolled(cluster, inventory, observer, "package upgrade")
    for host in cluster.hosts:
        assert cluster.run(host, "dpkg-query -W -f '${Version}' keepalived")[1] == UPGRADE


# -- issue 20: a holder hands its VIPs only to a healthy peer --

# host-02's check fails while sshd still serves (the check asks systemd whether ssh.service
# is active): the unit is stopped (its sessions live on), an sshd of its own takes over.
SICK = "systemctl stop ssh.service && mkdir -p /run/sshd && /usr/sbin/sshd"
HEAL = ("kill $(cat /run/sshd.pid) 2>/dev/null; sleep 0.5; systemctl start ssh.service")


def options_changed(cluster, tmp_path, options, **peers_instance):
    """An inventory with the daemon `options` (each test its own: a restart is due
    whatever the tests before it did), whose instances get `peers_instance`'s keys on the
    hosts other than host-01 (whose config stays as it is)."""
    def edit(data):
        return {**data, "keepalived_daemon_options": options}

    def host_edit(name, data):
        if name == MASTER or not peers_instance:
            return data
        instances = [{**item, **peers_instance}
                     for item in runpy.run_path(cluster.inventory_path)[GROUP][1][
                         "keepalived_vrrp_instances"]]
        return {**data, "keepalived_vrrp_instances": instances}
    return cluster.derived_inventory(str(tmp_path / "options.py"), edit, host_edit)


def refused_restart(cluster, observer, inventory, what):
    """Deploy `inventory` to host-01 alone (its peers outside the run keep what they are)
    while the observer pings the VIP and each host samples whether it holds it; the run
    must fail and host-01's keepalived must not restart. Returns (result, pings,
    {host: seconds it held the VIP})."""
    before = main_pids(cluster)
    with VipWatch(cluster, cluster.vip()) as watch, Pings(observer, cluster.vip()) as pings:
        result = pyinfra(inventory, "-y", "--limit", MASTER)
        time.sleep(1)
    held = {host: sum(samples) * 0.05 for host, samples in watch.samples.items()}
    print(f"\n{what}: {pings}; seconds holding the VIP: {held}")
    record(f"refused restart ({what}): longest without answer", pings.silence, GOAL)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert main_pids(cluster)[MASTER] == before[MASTER], "the holder was restarted"
    return output, pings, held


def test_holder_is_not_restarted_when_the_peer_that_would_take_over_is_sick(
        converged, observer, tmp_path):
    """host-02's tracked check fails (priority 90 - 20 = 70) and host-03 is stopped:
    host-02 would take the VIP from a drained host-01. The run fails naming host-02's
    check; the VIP never goes to host-02, no ping is lost."""
    cluster = converged
    code, output = cluster.run("host-02", SICK)
    assert code == 0, output
    cluster.run("host-03", "systemctl stop keepalived")
    try:
        assert wait_for(lambda: "VRRP_Script(check_ssh) failed" in cluster.run(
            "host-02", "journalctl -u keepalived --no-pager -n 50")[1], timeout=15)
        output, pings, held = refused_restart(
            cluster, observer, options_changed(cluster, tmp_path, ["--log-detail", "--log-detail"]),
            "sick peer")
    finally:
        cluster.run("host-02", HEAL)
        cluster.run("host-03", "systemctl start keepalived")
    assert ("the peer that would take VI_1 is not healthy: host-02: check script(s) "
            "failing: check_ssh") in output
    assert "keepalived was NOT restarted" in output
    assert held["host-02"] == 0 and held["host-03"] == 0, held
    assert pings.lost == 0, pings


def test_nopreempt_holder_is_not_restarted_when_no_peer_is_up(converged, observer, tmp_path):
    """The peers' instance has nopreempt (they never take a drained holder's VIP: the
    graceful stop would hand it over) and both peers are stopped: no graceful stop into
    nothing. The run fails naming the peers; no ping is lost."""
    cluster = converged
    for peer in ("host-02", "host-03"):
        cluster.run(peer, "systemctl stop keepalived")
    try:
        output, pings, held = refused_restart(
            cluster, observer, options_changed(cluster, tmp_path, ["--log-facility=daemon"],
                                               state="BACKUP", nopreempt=True),
            "nopreempt, peers stopped")
    finally:
        for peer in ("host-02", "host-03"):
            cluster.run(peer, "systemctl start keepalived")
    assert ("no healthy peer can take VI_1 (host-02: keepalived is not running; "
            "host-03: keepalived is not running)") in output
    assert pings.lost == 0, pings


def test_uninstall_of_the_holder_hands_the_vip_over_without_a_lost_ping(converged, observer):
    """The VIP goes to host-02 before host-01 stops (the drain: host-01 steps down to
    BACKUP on host-02's adverts), not with the stop (its priority-0 advert leaves the VIP
    on no host for host-02's skew time, ~0.65 s: replies come late or not at all). Last
    in the module: host-01 is gone afterwards."""
    cluster = converged
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=20) is not None
    cursor = cluster.journal_cursor(MASTER)
    with Pings(observer, cluster.vip()) as pings:
        result = pyinfra(cluster.inventory_path, "-y", "--limit", MASTER, deploy="uninstall.py")
        moved = wait_for(lambda: cluster.holders() == ["host-02"], timeout=15)
        time.sleep(1)
    print(f"\nuninstall of the holder: {pings}")
    record("uninstall of the holder: longest without answer", pings.silence, GOAL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert moved is not None, cluster.holders()
    assert pings.lost == 0, pings
    journal = cluster.journal_since(MASTER, cursor)
    assert "(VI_1) Entering BACKUP STATE" in journal, journal
