"""Operations tested as pyinfra tests its own: table cases, arguments and facts in,
commands out (the operation's generator, `op._inner`, called with no deploy around it),
and the decisions that add them: facts in, arguments out."""

import shlex

import pytest

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.facts.host_level import HostLevelState
from pyinfra_keepalived.facts.probe import HostProbe
from pyinfra_keepalived.operations import rolling, state_files

pytestmark = pytest.mark.unit

OURS = ["#!/bin/sh", state_files.POLICY_TAG]
MARKER = "2026-12-01T00:00:00Z package upgrade"


def words(commands):
    """The words each command (a StringCommand) runs, after `sh -c SCRIPT`."""
    return [shlex.split(command.get_raw_value())[3:] for command in commands]


def locked_words(wait, what, *args):
    """The words of a command under the deploy lock (state_files.locked)."""
    return ["pyinfra-keepalived", host_paths.LOCK_FILE, host_paths.LOCK_HOLDER, str(wait),
            what, *args]


# -- leftovers: the probe in, what is undone out; then its command --

@pytest.mark.parametrize("policy_rc_d, drain, pending, left", [
    (None, None, None, (False, False)),  # nothing left
    (None, "0", None, (False, False)),  # undrained
    (None, "-253", None, (False, True)),  # drained, no restart pending: undrain
    (None, "-253", MARKER, (False, False)),  # a restart still pending undrains it
    (OURS, None, None, (True, False)),  # our policy-rc.d
    (["#!/bin/sh", "exit 101"], None, None, (False, False)),  # the operator's: kept
    (OURS, " -10 ", None, (True, True)),
], ids=["nothing", "undrained", "drained", "drained-pending", "policy", "operators-policy",
        "both"])
def test_left_behind(policy_rc_d, drain, pending, left):
    lines = {} if policy_rc_d is None else {host_paths.POLICY_RC_D: policy_rc_d}
    probe = HostProbe(host_state=HostLevelState(lines=lines), drain=drain,
                      restart_pending=pending)
    assert rolling.left_behind(probe) == left


@pytest.mark.parametrize("policy, drain, lock_wait, expected", [
    (True, False, 120, [host_paths.POLICY_RC_D, ""]),
    (False, True, 5, ["", host_paths.DRAIN_FILE]),
    (True, True, 0, [host_paths.POLICY_RC_D, host_paths.DRAIN_FILE]),
])
def test_leftovers_commands(policy, drain, lock_wait, expected):
    commands = rolling.leftovers._inner(policy=policy, drain=drain, lock_wait=lock_wait)
    assert words(commands) == [locked_words(
        lock_wait, "clear what an interrupted run left", *expected,
        host_paths.RESTART_PENDING)]
