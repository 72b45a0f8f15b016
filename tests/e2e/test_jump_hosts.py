"""Jump hosts that serve SSH clients across a failover (issue 14), on two Debian 12 hosts.

A hung sshd (its listener stopped with SIGSTOP: the unit stays "active") moves the VIP
with the shipped banner check, check_ssh_banner.sh.j2, and does not with the unit check
of the example (the control, first, so the test can fail). Each test ends with the VIP
back on host-01 and sshd running.
"""

import time

import pytest

from testhosts.vrrp_timing import check_failure_time

from .conftest import converge, record, wait_for

pytestmark = pytest.mark.e2e

MASTER, BACKUP = "host-01", "host-02"
INTERVAL, FALL, BANNER_TIMEOUT = 2, 2, 1
# a failing check's first run may start up to an interval after the fault, and fails only
# when its wait for the banner runs out
THEORY = check_failure_time(fall=FALL, interval=INTERVAL, priority=90) + BANNER_TIMEOUT
SSHD = "$(systemctl show -p MainPID --value ssh.service)"  # the listener, not sessions

BANNER_CHECK = {
    "name": "check_sshd.sh", "template": "check_ssh_banner.sh.j2", "vrrp_name": "check_ssh",
    "interval": INTERVAL, "fall": FALL, "rise": 2, "weight": -20,
    "vars": {"port": 22, "banner_timeout": BANNER_TIMEOUT},
}


@pytest.fixture(scope="module", autouse=True)
def converged(cluster):
    converge(cluster)  # the example's check: ssh.service active


def banner_inventory(cluster, tmp_path):
    return cluster.derived_inventory(str(tmp_path / "inventory.py"), lambda data: {
        **data, "keepalived_check_scripts": [BANNER_CHECK]})


def hang_sshd(cluster, host):
    code, output = cluster.run(host, f"kill -STOP {SSHD}")
    assert code == 0, output
    assert cluster.run(host, "systemctl is-active ssh.service")[1].strip() == "active"


def resume_sshd(cluster, host):
    cluster.run(host, f"kill -CONT {SSHD}")


def test_hung_sshd_with_the_unit_check_keeps_the_vip(cluster):
    """The control: check_systemd_service.sh.j2 sees ssh.service active, so the VIP stays
    on a master whose sshd answers nobody."""
    cursor = cluster.journal_cursor(MASTER)
    hang_sshd(cluster, MASTER)
    try:
        moved = wait_for(lambda: cluster.holders() != [MASTER], timeout=THEORY + 1)
    finally:
        resume_sshd(cluster, MASTER)
    assert moved is None, f"VIP held by {cluster.holders()} with the unit check"
    assert "VRRP_Script(check_ssh) failed" not in cluster.journal_since(MASTER, cursor)


def test_hung_sshd_with_the_banner_check_moves_the_vip_and_back(cluster, tmp_path):
    converge(cluster, banner_inventory(cluster, tmp_path))
    assert wait_for(lambda: "VRRP_Script(check_ssh) succeeded" in cluster.run(
        MASTER, "journalctl -u keepalived --no-pager -o cat")[1], timeout=10) is not None
    script = cluster.run(MASTER, "cat /etc/keepalived/scripts/check_sshd.sh")[1]
    assert "check_ssh_banner 127.0.0.1 22" in script

    start = time.monotonic()
    hang_sshd(cluster, MASTER)
    try:
        moved = wait_for(lambda: cluster.holders() == [BACKUP], timeout=THEORY + 5,
                         since=start)
    finally:
        resumed = time.monotonic()
        resume_sshd(cluster, MASTER)
    assert moved is not None, f"VIP held by {cluster.holders()} with sshd hung"
    record("bookworm: sshd hung (SIGSTOP), banner check -> VIP on backup", moved, THEORY)
    assert moved <= THEORY + 1, f"took {moved:.2f} s, theory {THEORY:.2f} s"
    journal = cluster.run(MASTER, "journalctl -u keepalived --no-pager -o cat")[1]
    assert "VRRP_Script(check_ssh) failed" in journal

    back = wait_for(lambda: cluster.holders() == [MASTER], timeout=15, since=resumed)
    assert back is not None, f"VIP held by {cluster.holders()} after sshd resumed"
