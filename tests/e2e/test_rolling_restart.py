"""Issue 15: a restart the deploy needs (daemon options changed, package upgraded) is a
rolling one: one host at a time, VIP holders last after handing the VIP to a peer, and
the package's own restart held off. A third party (a fourth container on the cluster's
network, no keepalived) pings the VIP every 20 ms meanwhile.

One 3-host cluster for the module. Debian 12 offers one keepalived version (bookworm and
bookworm-backports: 1:2.2.7-1+b2 only), so the upgrade is to a repackaged copy of it
(version 1:2.2.7-1+b2+roll1, the same files and maintainer scripts) in a local apt
repository on each host: apt sees a real upgrade and runs the real postinst.
"""

import re
import time

import pytest

from testhosts.polling import wait_for
from testhosts.upgrade import UPGRADE, local_upgrade_command

from .conftest import Pings, converge, pyinfra, record

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


def main_pids(cluster):
    return {host: cluster.run(host, "systemctl show -p MainPID --value keepalived")[1].strip()
            for host in cluster.hosts}


# Lines of a stop, any of which may be missing: journald misses a line now and then when
# the process that logged it is gone before journald looked at it.
STOP_LINES = re.compile(r"systemd\[1\]: (Stopping|Stopped) keepalived|: Stopping$|"
                        r"keepalived.service: Deactivated|Keepalived\[\d+\]: Stopped")


def restarts(cluster, cursors):
    """{host: [(stop, started) epoch seconds]} of each restart of keepalived since
    `cursors`, from the host's journal (one clock: the hosts share a kernel): from the
    first line of a stop to systemd's "Started"."""
    found = {}
    for host in cluster.hosts:
        journal = cluster.run(host, "journalctl -u keepalived --no-pager -o short-unix "
                                    f"--after-cursor='{cursors[host]}'")[1]
        windows, stop = [], None
        for line in journal.splitlines():
            stamp = float(line.split()[0]) if line[:1].isdigit() else None
            if stamp and STOP_LINES.search(line):
                stop = stamp if stop is None else min(stop, stamp)
            elif stamp and "systemd[1]: Started keepalived" in line and stop is not None:
                windows.append((stop, stamp))
                stop = None
        found[host] = windows
    return found


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
