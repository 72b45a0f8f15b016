"""The deploy over pyinfra's @docker connector (`docker exec` as root, no SSH, no sudo):
converge, then a second run that changes nothing."""

import pytest

from .conftest import pyinfra
from .scenarios import check_converged, check_second_run_changes_nothing

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def inventory(cluster):
    return cluster.write_docker_inventory()


def test_converge_over_docker(cluster, inventory):
    result = pyinfra(inventory, "-y")
    assert "@docker/" in result.stdout + result.stderr
    check_converged(cluster, result)


def test_second_run_over_docker_changes_nothing(cluster, inventory):
    check_second_run_changes_nothing(cluster, inventory)
