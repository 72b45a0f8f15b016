"""Helpers for the tests of the package step and the rolling restart (tests/test_rolling.py,
tests/test_package_restarts.py): the package command's words, hosts to upgrade, and the
host-side scripts (package.sh, leftovers.sh) run in a real shell in a temporary directory.
"""

import os
import shlex
import subprocess

from pyinfra.api import QuoteString, StringCommand

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.operations import state_files
from pyinfra_keepalived.operations import system as host_ops
from pyinfra_keepalived.shipped import shell_script

from .fakehosts import make_state, up_to_date_probes

PIN = {"keepalived_package_version": "1:2.2.7-1+b2"}
MARKER_LINE = "since 2026-12-01 07:00:00 UTC: package"

PACKAGE_ARGUMENTS = ("running", "marker", "policy", "stamp", "max_age", "refresh", "useradd",
                     "reload", "install")


def package_words(commands):
    """The arguments package.sh got: {running, marker, policy, ..., install}."""
    command = next(c for c in commands if " 'install keepalived' " in c)
    words = shlex.split(command)
    return dict(zip(PACKAGE_ARGUMENTS, words[-len(PACKAGE_ARGUMENTS):]))


def upgrade_state(distro="debian", running=True, **given):
    """Running (or stopped) hosts, up to date but for the pinned package."""
    probes = up_to_date_probes(make_state(distro, group_data=PIN), "1:2.2.7-1", **given)
    if not running:
        for probe in probes.values():
            probe["service"] = ("inactive", "enabled")
    return make_state(distro, probes=probes, group_data=PIN)


def run_package_script(tmp_path, running, command, policy=None, refresh="", useradd="",
                       reload="", max_age=3600):
    """package.sh in a real shell, with the lock, marker, policy-rc.d and apt's stamp in
    tmp_path, and a `systemctl` there that logs its arguments to tmp_path/systemctl.log
    (NeedDaemonReload: the content of tmp_path/need-reload, "no" without it)."""
    policy = policy or tmp_path / "policy-rc.d"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "systemctl"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/systemctl.log\n'
                    f'[ "$1" = show ] && cat {tmp_path}/need-reload 2>/dev/null\ntrue\n')
    fake.chmod(0o755)
    words = state_files.locked(host_ops.PACKAGE_SCRIPT, "test", running,
                               str(tmp_path / "state" / "restart-pending"), str(policy),
                               str(tmp_path / "stamp"), str(max_age), QuoteString(refresh),
                               QuoteString(useradd), QuoteString(reload),
                               QuoteString(command))
    return subprocess.run(["sh", "-c", in_tmp(tmp_path, words)], capture_output=True,
                          text=True, env={**os.environ,
                                          "PATH": f"{bin_dir}:{os.environ['PATH']}"})


def systemctl_calls(tmp_path):
    """The calls run_package_script's systemctl logged, one a line."""
    log = tmp_path / "systemctl.log"
    return log.read_text().splitlines() if log.exists() else []


def in_tmp(tmp_path, words):
    """The command of `words` (state_files.locked) with the lock's files in tmp_path."""
    return (str(StringCommand(*words)).replace(host_paths.LOCK_FILE, str(tmp_path / "lock"))
            .replace(host_paths.LOCK_HOLDER, str(tmp_path / "holder")))


def run_leftovers(tmp_path, policy, drain):
    """leftovers.sh (not under the lock), its restart-pending marker in tmp_path."""
    script = state_files.FUNCTIONS + shell_script("operations/leftovers.sh")
    return subprocess.run(["sh", "-c", script, "leftovers", policy, drain,
                           str(tmp_path / "marker")], capture_output=True, text=True)
