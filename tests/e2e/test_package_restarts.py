"""Issue 20, item 4: the package step restarts keepalived nowhere; only the rolling restart
does. Two restarters it can meet on Debian/Ubuntu hosts: the package's maintainer scripts
(invoke-rc.d, deb-systemd-invoke: held off by a policy-rc.d) and needrestart (Ubuntu
servers ship it; apt runs it after dpkg and it restarts services itself with `systemctl
restart`, which no policy-rc.d stops). A third party pings the VIP every 20 ms meanwhile.

One 2-host cluster for the module; the upgrade is to a repackaged copy of Debian's
keepalived with a higher version (testhosts/upgrade.py), as in test_rolling_restart.py.
"""

import pytest

from testhosts.polling import wait_for
from testhosts.upgrade import UPGRADE, local_upgrade_command

from .conftest import converge, pyinfra
from .pings import Pings, main_pids, restarts

pytestmark = pytest.mark.e2e

MASTER = "host-01"

# needrestart as Ubuntu configures it for non-interactive runs: restart what needs it
NEEDRESTART = ("apt-get install -y -q --no-install-recommends needrestart >/dev/null 2>&1 && "
               "printf '%s\\n' '$nrconf{restart} = '\"'a'\"';' "
               "> /etc/needrestart/conf.d/50-restart.conf && "
               "test -x /usr/lib/needrestart/apt-pinvoke")
SECOND_UPGRADE = f"{UPGRADE}.2"
OPERATORS_POLICY = "/usr/sbin/policy-rc.d"
VERSION = "dpkg-query -W -f '${Version}' keepalived"


@pytest.fixture(scope="module")
def converged(cluster, observer):
    converge(cluster)
    return cluster


def upgrade_inventory(cluster, tmp_path, version):
    return cluster.derived_inventory(str(tmp_path / "upgrade.py"), lambda data: {
        **data, "keepalived_package_version": version})


def offer(cluster, version):
    for host in cluster.hosts:
        code, output = cluster.run(host, local_upgrade_command(version))
        assert code == 0, f"{host}: {output}"


def test_needrestart_restarts_nothing_only_the_rolling_restart_does(converged, observer,
                                                                  tmp_path):
    cluster = converged
    for host in cluster.hosts:
        code, output = cluster.run(host, NEEDRESTART)
        assert code == 0, f"{host}: {output}"
    offer(cluster, UPGRADE)
    before = main_pids(cluster)
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    with Pings(observer, cluster.vip()) as pings:
        result = pyinfra(upgrade_inventory(cluster, tmp_path, UPGRADE), "-y")
        back = wait_for(lambda: cluster.holders() == [MASTER], timeout=15)
    print(f"\npackage upgrade with needrestart: {pings}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert back is not None, f"VIP on {cluster.holders()}, not on {MASTER} alone"
    for host in cluster.hosts:
        assert cluster.run(host, VERSION)[1] == UPGRADE
    # each host restarted once (by the rolling restart), never two at a time
    windows = restarts(cluster, cursors)
    assert all(len(windows[host]) == 1 for host in cluster.hosts), windows
    ordered = sorted(window for host in cluster.hosts for window in windows[host])
    assert ordered[0][1] < ordered[1][0], f"two hosts restarted at once: {windows}"
    assert all(main_pids(cluster)[host] != before[host] for host in cluster.hosts)
    assert pings.lost == 0, pings


def test_operators_permissive_policy_rc_d_refuses_the_install(converged, observer,
                                                              tmp_path):
    """An operator's policy-rc.d that allows keepalived's restart: the package step
    fails before installing anything, on every host; nothing restarts, no ping lost."""
    cluster = converged
    offer(cluster, SECOND_UPGRADE)
    for host in cluster.hosts:
        cluster.run(host, f"printf '#!/bin/sh\\nexit 0\\n' > {OPERATORS_POLICY} && "
                          f"chmod 755 {OPERATORS_POLICY}")
    before = main_pids(cluster)
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    try:
        with Pings(observer, cluster.vip()) as pings:
            result = pyinfra(upgrade_inventory(cluster, tmp_path, SECOND_UPGRADE), "-y")
        output = result.stdout + result.stderr
        print(f"\noperator's permissive policy-rc.d: {pings}")
        assert result.returncode != 0, output
        assert "lets the keepalived package restart keepalived" in output, output
        assert "Nothing was installed" in output
        for host in cluster.hosts:
            assert cluster.run(host, VERSION)[1] == UPGRADE  # not the offered one
            assert cluster.run(host, "test -e /var/lib/pyinfra-keepalived/restart-pending"
                               )[0] != 0
            assert cluster.run(host, f"cat {OPERATORS_POLICY}")[1] == "#!/bin/sh\nexit 0\n"
        assert main_pids(cluster) == before
        assert restarts(cluster, cursors) == {host: [] for host in cluster.hosts}
        assert pings.lost == 0, pings
    finally:
        for host in cluster.hosts:
            cluster.run(host, f"rm -f {OPERATORS_POLICY}")


def test_needrestart_leaves_a_replaced_keepalived_running_after_a_stopped_rollout(
        converged, observer):
    """A rollout that stopped after the package step (keepalived's binary replaced, not yet
    restarted: here installed by hand as the package step does it, under a policy-rc.d
    that denies keepalived and with needrestart suspended), then the operator's next
    needrestart (as the next apt run's hook, restarting automatically): it restarts
    keepalived nowhere (the deploy's snippet, written before needrestart was installed
    here); needrestart does see that keepalived runs a replaced binary (the control)."""
    cluster = converged
    version = f"{UPGRADE}.3"
    offer(cluster, version)
    for host in cluster.hosts:
        code, output = cluster.run(host, NEEDRESTART)  # (installed by the first test too)
        assert code == 0, f"{host}: {output}"
        code, output = cluster.run(
            host, f"printf '#!/bin/sh\\nexit 101\\n' > {OPERATORS_POLICY} && "
                  f"chmod 755 {OPERATORS_POLICY} && NEEDRESTART_SUSPEND=1 "
                  "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades "
                  f"-o Dpkg::Options::=--force-confold keepalived={version}; "
                  f"code=$?; rm -f {OPERATORS_POLICY}; exit $code")
        assert code == 0, f"{host}: {output}"
        assert cluster.run(host, VERSION)[1] == version
        # needrestart's batch mode only lists what it would restart (it restarts nothing)
        code, output = cluster.run(host, "needrestart -b")
        assert "NEEDRESTART-SVC: keepalived.service" in output, f"{host}: {output}"
    before = main_pids(cluster)
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    with Pings(observer, cluster.vip()) as pings:
        for host in cluster.hosts:
            code, output = cluster.run(host, "needrestart -r a")
            print(f"\n{host}: needrestart -r a: {output}")
            assert code == 0, f"{host}: {output}"
    print(f"\nneedrestart after a stopped rollout: {pings}")
    assert main_pids(cluster) == before
    assert restarts(cluster, cursors) == {host: [] for host in cluster.hosts}
    assert cluster.holders() == [MASTER]
    assert pings.lost == 0, pings
