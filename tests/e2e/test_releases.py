"""Test 12 of issue 3: converge (1), re-run (2) and crash failover (4) on Debian 11 and 13
(keepalived 2.1.5 and 2.3.x). Debian 12 runs them in test_converge.py and test_failover.py."""

import pytest

from .conftest import cluster_of, pyinfra
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


@pytest.mark.parametrize("crash", ["SIGKILL", "pause"])
def test_crash_failover_and_return(cluster, crash):
    crash_failover_and_return(cluster, crash)
