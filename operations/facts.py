"""pyinfra facts read from keepalived hosts."""

import shlex
from dataclasses import dataclass

from pyinfra.api import FactBase


@dataclass(frozen=True)
class TreeEntry:
    kind: str  # "directory", "regular file", "symbolic link", ...
    mode: str  # octal, e.g. "644"
    user: str
    group: str
    sha256: str | None = None  # regular files only


class KeepalivedTree(FactBase):
    """
    The directories and files of a keepalived config tree, in one round trip.

    Returns ``{path: TreeEntry}`` for each of ``dirs`` that exists, ``config_file``, and
    every entry directly inside ``dirs[1:]`` (conf.d and scripts). Missing paths are absent.

    .. code:: python

        host.get_fact(KeepalivedTree, config_file="/etc/keepalived/keepalived.conf",
                      dirs=["/etc/keepalived", "/etc/keepalived/conf.d"])
    """

    def command(self, config_file, dirs):
        # Globs expand to the entries of conf.d and scripts; an unmatched glob is skipped.
        paths = [shlex.quote(path) for path in [*dirs, config_file]]
        paths += [f"{shlex.quote(directory)}/*" for directory in dirs[1:]]
        return (
            f"for p in {' '.join(paths)}; do "
            '[ -e "$p" ] || [ -L "$p" ] || continue; '
            "stat -c '%F|%a|%U|%G|%n' \"$p\"; "
            '[ -f "$p" ] && [ ! -L "$p" ] && sha256sum "$p"; '
            "done; true"
        )

    def default(self):
        return {}  # no output at all: nothing of the tree exists yet

    def process(self, output):
        entries, hashes = {}, {}
        for line in output:
            if "|" in line:
                kind, mode, user, group, path = line.split("|", 4)
                entries[path] = TreeEntry(kind=kind, mode=mode, user=user, group=group)
            elif line.strip():
                digest, path = line.split(None, 1)
                hashes[path.strip()] = digest
        return {
            path: TreeEntry(**{**entry.__dict__, "sha256": hashes.get(path)})
            for path, entry in entries.items()
        }

