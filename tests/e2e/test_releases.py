"""Test 12 of issue 3: converge (1), re-run (2) and crash failover (4) on Debian 11 and 13
(keepalived 2.1.5 and 2.3.x). Debian 12 runs them in test_converge.py and test_failover.py.
On Debian 11: the gate refuses what 2.1.5's `keepalived -t` finds, though it exits 0."""

import pytest

from .conftest import VipWatch, checksums, cluster_of, pyinfra
from .scenarios import (
    check_converged,
    check_second_run_changes_nothing,
    crash_failover_and_return,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["bullseye", "trixie"])
def cluster(request):
    yield from cluster_of(2, request.param)


def test_converge(cluster):
    check_converged(cluster, pyinfra(cluster.inventory_path, "-y"))


def test_second_run_changes_nothing(cluster):
    check_second_run_changes_nothing(cluster)


def test_a_keyword_2_1_5_does_not_know_never_goes_live(cluster, tmp_path):
    """keepalived 2.1.5's -t exits 0 on an unknown keyword (down_timer_adverts came with
    2.2): the gate refuses on what it prints (operations/config_test.sh), on every host;
    nothing goes live, the VIP stays where it is. (Before, it went live.)"""
    if cluster.release != "bullseye":
        pytest.skip("2.3.x knows the keyword; its -t exit status was always the verdict")
    inventory = cluster.derived_inventory(str(tmp_path / "inventory.py"), lambda data: {
        **data, "keepalived_vrrp_instances": [
            {**instance, "extra_lines": ["down_timer_adverts 3"]}
            for instance in data["keepalived_vrrp_instances"]]})
    before = {host: checksums(cluster, host) for host in cluster.hosts}
    links = {host: cluster.run(host, "readlink /etc/keepalived/.current")[1]
             for host in cluster.hosts}

    with VipWatch(cluster, cluster.vip()) as watch:
        result = pyinfra(inventory, "-y")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "keepalived -t rejected the new config (exit 5); the live config was NOT " \
           "changed" in output, output
    assert "(/etc/keepalived/conf.d/20-vrrp_instances.conf: Line " in output, output
    assert "Unknown keyword 'down_timer_adverts'" in output, output
    for host in cluster.hosts:
        assert checksums(cluster, host) == before[host], host
        assert cluster.run(host, "readlink /etc/keepalived/.current")[1] == links[host]
    master, backup = cluster.hosts
    assert watch.samples[master] and set(watch.samples[master]) == {1}, watch.samples
    assert set(watch.samples[backup]) == {0}, watch.samples


@pytest.mark.parametrize("crash", ["SIGKILL", "pause"])
def test_crash_failover_and_return(cluster, crash):
    crash_failover_and_return(cluster, crash)
