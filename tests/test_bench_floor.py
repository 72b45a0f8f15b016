"""The package floor of the deploy-speed bench (bench/only_package.py) sends the command
deploy.py sends to install keepalived on a fresh Debian host, and nothing else: the cold
converge / package floor ratio compares the deploy with its own package step. (Without
what the deploy adds to that command: the script user, systemd's reload of its units.)

Run through pyinfra's ``@fake`` connector with the recording harness of tests/fakehosts.py
(and the ``recorder`` fixture of tests/conftest.py)."""

import os
import runpy
import shlex

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
        # the deploy's own command, among the others it sends a fresh host, but for the
        # two additions (package.sh's USERADD and RELOAD, the 3rd- and 2nd-last words)
        ours = [shlex.split(command) for command in deployed[host.name]
                if " 'install keepalived' " in command]
        assert len(ours) == 1 and ours[0][-3].startswith("useradd ") and ours[0][-2]
        assert shlex.split(floor[0]) == [*ours[0][:-3], "", "", ours[0][-1]]
