"""Shared SSH host keys (`keepalived_ssh_host_keys: "shared"`): every host that can hold a
VIP presents the same SSH host keys, so a client that trusted the VIP once keeps logging
in after a failover with StrictHostKeyChecking=yes.

The keys come from the operator: `keepalived_ssh_host_keys_dir`, a directory on the
control machine with `ssh_host_<type>_key` (mode 600 or stricter) and its `.pub`. They
are read and checked when the data is validated (`read_key_dir`); the deploy never
copies a key from a host, so no private key is ever written on the control machine.

On the host, the probe reads (in its one command, facts.ssh_host_keys.probe_section)
the HostKey files of
sshd's effective config (`sshd -T`) with their mode, owner and the sha256 of the run's
salt and their content (the salt is masked: what -vvv prints gives no digest of a
private key). Only when one differs does `installed` add an operation: the files go up
as the login user into a private 700 directory (operations.uploads), then one command,
under the host's deploy lock, installs them root:root (600 private, 644 public), checks
sshd's config (`sshd -t`) and reloads sshd (never a restart).
"""

import os
import stat
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, operation
from pyinfra.api.exceptions import DeployError

from ..facts.keepalived import digest
from .state_files import locked_commands
from .uploads import install, installing, private_dir, send

MODES = ("per-host", "shared")
PRIVATE_MODE, PUBLIC_MODE = "600", "644"
KEY_PREFIX, KEY_SUFFIX = "ssh_host_", "_key"
# sshd's unit: ssh.service on Debian/Ubuntu, sshd.service on RHEL; a socket-activated sshd
# (neither active) reads its keys at each connection and needs no reload.
RELOAD = ('PATH="$PATH:/usr/sbin:/sbin"; sshd -t || exit 1; '
          'for u in ssh.service sshd.service; do '
          'if systemctl is-active --quiet "$u"; then exec systemctl reload "$u"; fi; done')
@dataclass(frozen=True)
class KeyPair:
    name: str  # ssh_host_ed25519_key
    private: str = field(repr=False)  # a secret: not in repr()
    public: str = ""  # "ssh-ed25519 AAAA... comment\n"


def _public_of(private_bytes):
    """The "type base64" public key of a private key file's content (OpenSSH or PEM,
    without passphrase); ValueError if it is neither."""
    try:
        key = serialization.load_ssh_private_key(private_bytes, password=None)
    except (ValueError, TypeError):
        key = serialization.load_pem_private_key(private_bytes, password=None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()


def read_key_dir(directory):
    """(KeyPairs, [error messages]) of the ssh_host_*_key files in `directory`."""
    if not os.path.isdir(directory):
        return (), [f"{directory} is not a directory on the control machine"]
    pairs, errors = [], []
    names = sorted(name for name in os.listdir(directory)
                   if name.startswith(KEY_PREFIX) and name.endswith(KEY_SUFFIX))
    if not names:
        return (), [f"{directory} holds no {KEY_PREFIX}*{KEY_SUFFIX} file"]
    for name in names:
        path = os.path.join(directory, name)
        mode = stat.S_IMODE(os.stat(path).st_mode)
        if mode & 0o077:
            errors.append(f"{path} has mode {mode:o}: a private key must be 600 or stricter "
                          f"(chmod 600 {path})")
            continue
        try:
            with open(path, "rb") as handle:
                private = handle.read()
            with open(path + ".pub") as handle:
                public = handle.read()
        except OSError as error:
            errors.append(f"{path}: {error.strerror} ({error.filename})")
            continue
        try:
            derived = _public_of(private)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            errors.append(f"{path} is not an SSH private key without passphrase")
            continue
        if public.split()[:2] != derived.split()[:2]:
            errors.append(f"{path}.pub does not match {path}")
            continue
        pairs.append(KeyPair(name, private.decode(), public))
    return tuple(pairs), errors


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
def shared_host_keys_installed(files, lock_wait=120):
    """
    Install SSH host key files (``files``: [(path, content, mode)], root:root) from a
    private upload directory in one command under the host's deploy lock, then check
    sshd's config and reload sshd. Only added when a file differs.

    .. code:: python

        shared_host_keys_installed(files=[("/etc/ssh/ssh_host_ed25519_key", "...", "600"),
                                          ("/etc/ssh/ssh_host_ed25519_key.pub", "...", "644")])
    """
    directory = private_dir()
    yield from send(directory, [content for _, content, _ in files])
    steps = [install(directory, number, path, mode)
             for number, (path, _, mode) in enumerate(files)]
    steps.append(["sh", "-c", QuoteString(RELOAD)])
    yield from locked_commands([StringCommand(*installing(directory, steps))],
                               "shared SSH host keys", lock_wait)


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


@dataclass(frozen=True)
class SharedKeys:
    directory: str
    pairs: tuple = field(repr=False)  # KeyPair, ...


def check_holders(settings_by_host, problems):
    """Every host of a VRRP instance uses the same host keys: all per-host, or all shared
    with the same public keys. Errors go to `problems` ({host: Problems})."""
    def keys_of(settings):
        keys = settings.ssh_host_keys
        return ("per-host",) if keys is None else tuple(
            (pair.name, " ".join(pair.public.split()[:2])) for pair in keys.pairs)

    def described(settings):
        keys = settings.ssh_host_keys
        return "'per-host'" if keys is None else f"'shared' from {keys.directory}"

    first = {}  # instance name -> the first host's settings
    for settings in settings_by_host.values():
        for instance in settings.instances:
            other = first.setdefault(instance.name, settings)
            if other is not settings and keys_of(other) != keys_of(settings):
                problems[settings.host].error(
                    "keepalived_ssh_host_keys",
                    "per-host" if settings.ssh_host_keys is None else "shared",
                    f"differs from {other.host}'s ({described(other)}), which can hold the "
                    f"VIPs of {instance.name} too: every host of an instance must use the "
                    "same keys (allowed: per-host, shared; the same "
                    "keepalived_ssh_host_keys_dir contents)")
