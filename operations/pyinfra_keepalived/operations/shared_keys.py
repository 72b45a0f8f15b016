"""Shared SSH host keys (`keepalived_ssh_host_keys: "shared"`): every host that can hold a
VIP presents the same SSH host keys, so a client that trusted the VIP once keeps logging
in after a failover with StrictHostKeyChecking=yes.

The keys come from the operator: `keepalived_ssh_host_keys_dir`, a directory on the
control machine with `ssh_host_<type>_key` (mode 600 or stricter) and its `.pub`. They
are read and checked when the data is validated (`model.shared_keys`); the deploy never
copies a key from a host, so no private key is ever written on the control machine.

On the host, the probe reads (in its one command, facts.ssh_host_keys.probe_section)
the HostKey files of
sshd's effective config (`sshd -T`) with their mode, owner and the sha256 of the run's
salt and their content (the salt is masked: what -vvv prints gives no digest of a
private key). Only when one differs does `installed` add an operation: the files go up
as the login user into a private 700 directory (operations.uploads), then one command,
under the host's deploy lock, checks each new private key with sshd's config before any
is in place (`sshd -t -h`, check_host_keys.sh), installs them root:root (600 private,
644 public), checks sshd's config (`sshd -t`) and reloads sshd (never a restart).
"""

import os

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation
from pyinfra.api.exceptions import DeployError

from ..facts.keepalived import digest
from ..host_paths import LOCK_WAIT_SECONDS
from ..shipped import shell_script
from .state_files import locked_install
from .uploads import install, private_dir, send

PRIVATE_MODE, PUBLIC_MODE = "600", "644"
# checks each new private key with sshd before any is installed, then (after the install)
# checks sshd's config and reloads sshd
CHECK_KEYS = shell_script("operations/check_host_keys.sh")
RELOAD = shell_script("operations/reload_sshd.sh")


# -- the deploy's step --

def wanted_files(host_name, pairs, directory, found):
    """[(path, content, mode)] that differ from what the probe `found`; DeployError naming
    the host and the key path when sshd uses a key type the directory does not hold."""
    by_name = {pair.name: pair for pair in pairs}
    key_paths = [path for path in found if not path.endswith(".pub")]
    if not key_paths:
        raise DeployError(f"{host_name}: keepalived_ssh_host_keys = 'shared': sshd has no "
                          "HostKey (is openssh-server installed?)")
    files = []
    for path in key_paths:
        pair = by_name.get(os.path.basename(path))
        if pair is None:
            raise DeployError(
                f"{host_name}: sshd's HostKey {path} has no "
                f"{os.path.basename(path)} in keepalived_ssh_host_keys_dir {directory} "
                f"(it holds: {', '.join(sorted(by_name)) or 'none'}); add it, or set "
                "keepalived_ssh_host_keys to one of: per-host, shared")
        for file_path, content, mode in ((path, pair.private, PRIVATE_MODE),
                                         (path + ".pub", pair.public, PUBLIC_MODE)):
            entry = found.get(file_path)
            if entry != (mode, "root", "root", digest(content, salted=True)):
                files.append((file_path, content, mode))
    return files


@operation(is_idempotent=False)
def shared_host_keys_installed(files, lock_wait=LOCK_WAIT_SECONDS):
    """
    Install SSH host key files (``files``: [(path, content, mode)], root:root) from a
    private upload directory in one command under the host's deploy lock: each new
    private key is first checked by sshd (``check_host_keys.sh``, before any file is in
    place), then the files are installed, sshd's config checked and sshd reloaded. Only
    added when a file differs.

    + files: [(path, content, mode)], the key files that differ (mode "600" private)
    + lock_wait: seconds to wait for the host's deploy lock

    .. code:: python

        shared_host_keys_installed(files=[("/etc/ssh/ssh_host_ed25519_key", "...", "600"),
                                          ("/etc/ssh/ssh_host_ed25519_key.pub", "...", "644")])
    """
    directory = private_dir()
    yield from send(directory, [content for _, content, _ in files])
    staged = [word for number, (path, _, mode) in enumerate(files) if mode == PRIVATE_MODE
              for word in (QuoteString(f"{directory}/{number}"), QuoteString(path))]
    steps = [["sh", "-c", QuoteString(CHECK_KEYS), "check_host_keys", *staged]] if staged else []
    steps += [install(directory, number, path, mode)
              for number, (path, _, mode) in enumerate(files)]
    steps.append(["sh", "-c", QuoteString(RELOAD)])
    yield StringCommand(*locked_install(directory, steps, "shared SSH host keys", lock_wait))


def shared_keys(settings, probe):
    """The deploy's step: nothing unless keys are shared and a file differs."""
    keys = settings.ssh_host_keys
    if keys is None:
        return None
    files = wanted_files(host.name, keys.pairs, keys.directory, probe.ssh_host_keys)
    if not files:
        return None
    return shared_host_keys_installed(
        name="Install the shared SSH host keys and reload sshd", files=files,
        lock_wait=settings.host_level.lock_wait)
