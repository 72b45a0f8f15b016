"""sshd's host keys, as facts: the public keys a host presents (``SshHostKeys``, for the
VIPs' known_hosts file: deploys.known_hosts), and, for shared host keys
(operations.shared_keys), the probe's section that reads the HostKey files themselves.
"""

from pyinfra.api import FactBase, HiddenValue, QuoteString, StringCommand

from ..shipped import shell_script
from .keepalived import RUN_SALT

# sets $keys: the HostKey files of sshd's effective config (needs root), else /etc/ssh's
HOST_KEY_FILES = shell_script("facts/host_key_files.sh")

class SshHostKeys(FactBase[list[tuple[str, str]]]):
    """
    The SSH host public keys the host's sshd presents, as ``[(type, base64)]``.

    .. code:: python

        host.get_fact(SshHostKeys)  # [("ssh-ed25519", "AAAAC3..."), ("ssh-rsa", "AAAAB3...")]
    """

    def command(self):
        return HOST_KEY_FILES + shell_script("facts/host_keys.sh")

    def default(self):
        return []

    def process(self, output):
        return [tuple(line.split()[:2]) for line in output
                if len(line.split()) >= 2 and not line.startswith("#")]


def probe_section():
    """Command words (for the probe) that print, for each HostKey file of sshd and its
    .pub, `key|PATH|MODE|USER|GROUP|SALTED-SHA256` (or `key|PATH|missing`). The salt is a
    HiddenValue: masked wherever pyinfra prints the command."""
    loop = ('for f in $keys; do for p in "$f" "$f.pub"; do if [ -f "$p" ]; then '
            "printf 'key|%s|%s|' \"$p\" \"$(stat -c '%a|%U|%G' \"$p\")\"; "
            '{ printf %s "$t"; cat "$p"; } | sha256sum; '
            "else printf 'key|%s|missing\\n' \"$p\"; fi; done; done; true")
    return [StringCommand("t=", QuoteString(HiddenValue(RUN_SALT)), ";", _separator=""),
            HOST_KEY_FILES, loop]


def parse_section(lines):
    """{path: (mode, user, group, salted sha256) or None (missing)} in sshd's order."""
    found = {}
    for line in lines:
        parts = line.strip().split("|")
        if len(parts) == 3 and parts[0] == "key" and parts[2] == "missing":
            found[parts[1]] = None
        elif len(parts) == 6 and parts[0] == "key":
            found[parts[1]] = (parts[2], parts[3], parts[4], (parts[5].split() or [""])[0])
    return found
