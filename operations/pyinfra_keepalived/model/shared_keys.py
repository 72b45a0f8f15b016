"""Shared SSH host keys, the data side: the operator's key directory read and checked on
the control machine (`read_key_dir`), and the check across hosts that every host of a
VRRP instance presents the same keys (`check_holders`). The host side (probe, install,
sshd reload) is `operations.shared_keys`.
"""

import os
import pwd
import stat
from dataclasses import dataclass, field

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

MODES = ("per-host", "shared")
KEY_PREFIX, KEY_SUFFIX = "ssh_host_", "_key"


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
    unsafe = _unsafe_dir(directory)
    if unsafe:
        return (), [unsafe]
    pairs, errors = [], []
    names = sorted(name for name in os.listdir(directory)
                   if name.startswith(KEY_PREFIX) and name.endswith(KEY_SUFFIX))
    if not names:
        return (), [f"{directory} holds no {KEY_PREFIX}*{KEY_SUFFIX} file"]
    for name in names:
        path = os.path.join(directory, name)
        status = os.stat(path)
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            errors.append(f"{path} has mode {mode:o}: a private key must be 600 or stricter "
                          f"(chmod 600 {path})")
            continue
        if status.st_uid != os.geteuid():
            errors.append(f"{path} is owned by {_user(status.st_uid)}, not by "
                          f"{_user(os.geteuid())} who runs the deploy: a private key it "
                          f"gives every host must be this user's own (chown "
                          f"{_user(os.geteuid())} {path})")
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


def _user(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _unsafe_dir(directory):
    """Why `directory` cannot hold the keys, or None: whoever can write in it can plant a
    key pair that becomes every host's identity, so it must be the deploy user's (or
    root's) and not writable by group or others."""
    status = os.stat(directory)
    mode = stat.S_IMODE(status.st_mode)
    if status.st_uid not in (os.geteuid(), 0):
        return (f"{directory} is owned by {_user(status.st_uid)}: only the deploy's user "
                f"({_user(os.geteuid())}) or root may own it, or its owner could plant a "
                "key pair that every host would present")
    if mode & 0o022:
        return (f"{directory} has mode {mode:o}: writable by group or others, who could "
                f"plant a key pair that every host would present (chmod go-w {directory})")
    return None


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
