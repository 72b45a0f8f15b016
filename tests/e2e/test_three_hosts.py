"""Test 11 of issue 3: three hosts, priorities 100/90/80. Each time the master host dies
(its container killed, as in a power loss), the next priority takes the VIP."""

import time

import pytest

from testhosts.polling import wait_for
from testhosts.vrrp_timing import master_down_interval

from .conftest import converge, pyinfra, record
from .scenarios import check_cold_starts_return_settled

pytestmark = pytest.mark.e2e

HOSTS = 3


def test_cold_starts_return_with_a_master(cluster):
    """Issue 24: the cold converge, then four cold starts, each checked the moment the
    deploy returns."""
    check_cold_starts_return_settled(cluster, pyinfra(cluster.inventory_path, "-y"))


def test_each_next_priority_takes_over(cluster):
    converge(cluster)
    alive = list(cluster.hosts)
    for heir, priority in (("host-02", 90), ("host-03", 80)):
        dead = alive.pop(0)
        theory = master_down_interval(priority=priority)
        start = time.monotonic()
        cluster.container(dead).kill()
        moved = wait_for(lambda: [host for host in alive if cluster.holds(host)] == [heir],
                         timeout=theory + 5, since=start)
        assert moved is not None, f"{dead} killed: VIP on " \
            f"{[host for host in alive if cluster.holds(host)]}, expected {heir} only"
        record(f"bookworm, 3 hosts: {dead} killed -> VIP on {heir}", moved, theory)
        assert moved <= theory + 1, f"took {moved:.2f} s, theory {theory:.2f} s"
