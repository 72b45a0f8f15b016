"""The validation gate (pyinfra_keepalived/operations/transaction.sh) run locally against the real
`keepalived -t`: the script as the deploy sends it, and helpers that lay out trees and run it."""

import os
import shutil
import subprocess

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.operations.config_tree import (
    PREPARE_CHECK_SCRIPT,
    PREPARED,
    TRANSACTION_SCRIPT,
)
from pyinfra_keepalived.operations.state_files import LOCK_SCRIPT
from pyinfra_keepalived.render import config as render
from pyinfra_keepalived.shipped import with_variables

from .seed import SEED_HOSTS

NEEDS_KEEPALIVED = pytest.mark.skipif(
    not shutil.which("keepalived") and not os.path.exists("/usr/sbin/keepalived"),
    reason="keepalived is not installed (apt-get install keepalived)")

UNLOCKED = TRANSACTION_SCRIPT
SCRIPT = LOCK_SCRIPT + "\n" + UNLOCKED  # (clock.sh and lock.sh, as the deploy sends it)
LAYOUT = [("scripts", ".current/scripts"), ("conf.d", ".current/conf.d"),
          ("keepalived.conf", ".current/keepalived.conf")]
# `nobody` exists everywhere: scripts then run as a non-root user, which is what makes
# keepalived 2.2.7's -t exit 143; dynamic_interfaces lets -t accept eth0 on any machine.
PORTABLE = {"keepalived_check_script_user": "nobody",
            "keepalived_global_defs": {"dynamic_interfaces": True}}


def write_tree(root, files):
    for relative, file in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(file if isinstance(file, str) else file.content)
        path.chmod(int(getattr(file, "mode", "644"), 8))
    for directory in [root, root / "conf.d", root / "scripts"]:
        directory.mkdir(exist_ok=True)
        directory.chmod(0o755)


def live(base):
    """What a keepalived start reads: the config file and the managed dirs' files
    (through the links transaction.sh lays out), with their modes."""
    paths = [base / "keepalived.conf", *sorted((base / "conf.d").glob("*")),
             *sorted((base / "scripts").glob("*"))]
    return {str(path.relative_to(base)): (path.read_bytes(), oct(path.stat().st_mode))
            for path in paths if path.is_file()}


def run_transaction(stage, base, wait=5, generation="20261201T000000Z-abcdef", path=None,
                    stdout=subprocess.PIPE, mode="apply", hold=0):
    """operations/transaction.sh in `mode`, under the lock (but "commit" and "discard"), as
    the deploy sends it, with the tree in `stage` (relative paths; None for "commit" and
    "discard") as the uploaded files; lock, holder and marker in base's parent dir
    (systemctl says keepalived is not running here: no reload)."""
    files = sorted(str(path.relative_to(stage)) for path in stage.rglob("*")
                   if path.is_file()) if stage else []
    uploaded = base.parent / "uploaded"
    shutil.rmtree(uploaded, ignore_errors=True)
    uploaded.mkdir()
    words = []
    for number, relative in enumerate(files):
        shutil.copy(stage / relative, uploaded / str(number))
        file_mode = oct((stage / relative).stat().st_mode & 0o777)[2:]
        words += ["file", str(number), file_mode, relative]
    words = [*(word for rel in ("scripts", "conf.d") for word in ("dir", rel) if files), *words,
             *(word for rel, target in LAYOUT for word in ("link", rel, target))]
    state = base.parent
    lock = [str(state / "lock"), str(state / "holder"), str(wait),
            PREPARED if mode == "prepare" else "a test"]
    if mode == "prepare":  # as the deploy sends it: first prepare_check.sh
        check = subprocess.run(["sh", "-c", PREPARE_CHECK_SCRIPT, "pyinfra-keepalived",
                                *lock[:2], PREPARED], stdout=stdout, stderr=subprocess.PIPE,
                               text=True)
        if check.returncode != 0:
            return check
    unlocked = with_variables(UNLOCKED, lock_file=lock[0], lock_holder=lock[1])
    return subprocess.run(
        ["sh", "-c", unlocked if mode in ("commit", "discard") else SCRIPT,
         "pyinfra-keepalived", *([] if mode in ("commit", "discard") else lock), mode,
         str(base), str(uploaded), generation, str(state / "reload-pending"),
         "keepalived.conf", str(hold), *words],
        stdout=stdout, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PATH": f"{path}:{os.environ['PATH']}"} if path else None)


def promote_rejected(stage, base, message):
    """Run the gate on a tree keepalived must reject with `message`: the live tree stays."""
    before = live(base)
    result = run_transaction(stage, base)
    assert result.returncode != 0
    assert message in result.stderr
    assert "the live config was NOT changed" in result.stderr
    assert live(base) == before
    return result


def rendered(base, host="host-01", **data):
    """The seed inventory's config files of `host` (PORTABLE, under `base`), by path
    relative to `base`."""
    hosts = [(name, {**host_data, **PORTABLE, "keepalived_base_dir": str(base), **data})
             for name, host_data in SEED_HOSTS]
    settings = check_hosts(hosts, warn=lambda message: None)[host]
    return {os.path.relpath(path, base): file for path, file in
            render.config_files(settings).items()}
