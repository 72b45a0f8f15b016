"""The package floor of the deploy-speed bench (bench/only_package.py) sends exactly the
command deploy.py sends to install keepalived on a fresh Debian host, and nothing else:
the cold converge / package floor ratio compares the deploy with its own package step.

Run through pyinfra's ``@fake`` connector with the recording harness of tests/fakehosts.py
(and the ``recorder`` fixture of tests/conftest.py)."""

import os
import runpy

import pytest
from pyinfra.api.deploy import add_deploy
from pyinfra.api.operations import run_ops

from tests.fakehosts import ROOT, deploy, fact_commands, make_state, op_commands

pytestmark = pytest.mark.unit

FLOOR = os.path.join(ROOT, "bench", "only_package.py")


def test_package_floor_sends_the_deploys_package_command_and_nothing_else(recorder):
    deployed = {host.name: op_commands(host, recorder) for host in deploy(make_state("debian"))}
    state = make_state("debian")
    add_deploy(state, runpy.run_path, FLOOR)
    run_ops(state)
    for host in state.inventory:
        floor = op_commands(host, recorder)
        assert fact_commands(host, recorder) == []  # no host is read
        assert len(floor) == 1 and "apt-get update" in floor[0], floor
        # the deploy's own command, among the others it sends a fresh host
        assert floor[0] in deployed[host.name], (floor, deployed[host.name])
