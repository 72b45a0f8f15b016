"""pyinfra facts read from keepalived hosts."""

import hashlib
import secrets
import shlex
from dataclasses import dataclass, replace

from pyinfra.api import FactBase, HiddenValue, QuoteString, StringCommand

from ..host_paths import CURRENT, created_user_record
from ..model.hidden import sed_mask
from ..shipped import shell_script, with_variables

# A random salt of this run (this process), never printed: the host digests a secret file
# with it (KeepalivedTree's `salted`), so what pyinfra logs with -vvv (fact commands, where
# the salt is masked, and their output) holds no digest an auth_pass can be guessed from.
RUN_SALT = secrets.token_hex(16)


def digest(content, salted=False):
    """The sha256 KeepalivedTree reports for a file holding `content`."""
    return hashlib.sha256(((RUN_SALT if salted else "") + content).encode()).hexdigest()


@dataclass(frozen=True)
class TreeEntry:
    kind: str  # "directory", "regular file", ... (of what a symlink points to), "broken link"
    mode: str  # octal, e.g. "644"
    user: str
    group: str
    sha256: str | None = None  # regular files asked for only; see `salted`
    link: str | None = None  # the path itself is a symlink to this target
    salted: bool = False  # sha256 is of RUN_SALT + the content (a secret file)

    def holds(self, content):
        """Whether this is a file with exactly `content` (compared by its digest)."""
        return self.sha256 is not None and self.sha256 == digest(content, self.salted)


class KeepalivedTree(FactBase[dict[str, TreeEntry]]):
    """
    The directories and files of a keepalived config tree, in one round trip.

    Returns ``{path: TreeEntry}`` for each of ``dirs`` that exists, ``config_file``, the
    live-generation link ``dirs[0]/.current`` (see pyinfra_keepalived/operations/transaction.sh), and every
    entry directly inside ``dirs[1:]`` (conf.d and scripts). Symlinks are followed (kind,
    mode, owner and checksum are those of what they point to) and their target is in
    ``link``. Missing paths are absent. The files in ``hashed`` get their sha256; those in
    ``salted`` (secret files) the sha256 of the run's salt and their content, worked out on
    the host with the salt passed masked (``HiddenValue``), so that neither digest nor salt
    is in what pyinfra prints: a plain digest of an 8-character auth_pass is cheap to
    brute force. Other files get no digest.

    .. code:: python

        host.get_fact(KeepalivedTree, config_file="/etc/keepalived/keepalived.conf",
                      dirs=["/etc/keepalived", "/etc/keepalived/conf.d"],
                      hashed=["/etc/keepalived/keepalived.conf"],
                      salted=["/etc/keepalived/conf.d/20-vrrp_instances.conf"])
    """

    def command(self, config_file, dirs, hashed=(), salted=()):
        # Globs expand to the entries of conf.d and scripts. One stat and one find for all
        # paths (not a process per path): a path that does not exist, or an unmatched glob,
        # is only an error message, thrown away.
        current = f"{dirs[0]}/{CURRENT}"
        links = [shlex.quote(path) for path in [current, config_file, *dirs[1:]]]
        paths = [shlex.quote(path) for path in [*dirs, current, config_file]]
        paths += [f"{shlex.quote(directory)}/*" for directory in dirs[1:]]
        structure = (
            f"stat -L -c '%F|%a|%U|%G|%n' {' '.join(paths)} 2>/dev/null; "
            f"find {' '.join(links)} -maxdepth 0 -type l -printf 'link|%p|%l\\n' 2>/dev/null; "
            "true"
        )
        if not (hashed or salted):
            return structure
        return StringCommand(structure, ";", *tree_digests(hashed, salted))

    def default(self):
        return {}  # no output at all: nothing of the tree exists yet

    def process(self, output):
        entries, hashes, links = {}, {}, {}
        for line in output:
            if line.startswith("link|"):
                _, path, target = line.split("|", 2)
                links[path] = target.strip()
            elif line.startswith("salted|"):
                _, path, answer = line.split("|", 2)
                hashes[path] = (answer.split() or [None])[0], True
            elif "|" in line:
                kind, mode, user, group, path = line.split("|", 4)
                entries[path] = TreeEntry(kind=kind, mode=mode, user=user, group=group)
            elif line.strip():
                sha256, path = line.split(None, 1)
                hashes[path.strip()] = sha256, False
        broken = TreeEntry(kind="broken link", mode="", user="", group="")
        return {
            path: replace(entries.get(path, broken), sha256=hashes.get(path, (None,))[0],
                          salted=hashes.get(path, (None, False))[1], link=links.get(path))
            for path in {**entries, **links}
        }


def tree_digests(hashed=(), salted=()):
    """Command words that print, for KeepalivedTree.process, the sha256 of each file of
    `hashed` and the salted sha256 of each file of `salted` (the salt is a HiddenValue:
    masked wherever pyinfra prints it). One sha256sum for all of `hashed` and the first
    of `salted`, which it reads from stdin ("-", first: its line follows the printf of
    `salted|PATH|`); a cat and a sha256sum each for any further secret file."""
    files = [shlex.quote(path) for path in hashed]
    plain = f"sha256sum {' '.join(files)} 2>/dev/null;" if hashed else ":;"
    if not salted:
        return [plain, "true"]
    words = [StringCommand("s=", QuoteString(HiddenValue(RUN_SALT)), ";", _separator="")]
    for index, path in enumerate(map(shlex.quote, salted)):
        salted_sum = f"{{ printf %s \"$s\"; cat {path} 2>/dev/null; }} | sha256sum"
        if index == 0:
            words.append(f"if [ -f {path} ]; then printf 'salted|%s|' {path}; "
                         f"{' '.join([salted_sum, '-', *files])} 2>/dev/null; "
                         f"else {plain} fi;")
        else:
            words.append(f"[ -f {path} ] && printf 'salted|%s|' {path} && {salted_sum};")
    return [*words, "true"]


class MaskedFileContents(FactBase[list[str]]):
    """
    The lines of a file with every secret masked ON THE HOST (``pyinfra_keepalived.model.hidden``:
    ``auth_pass`` and what follows it), so that the secret is not in the fact's output,
    which pyinfra prints with -vvv; the twin of ``hidden.mask_text``. For the old side
    of a diff.

    .. code:: python

        host.get_fact(MaskedFileContents, path="/etc/keepalived/conf.d/20-vrrp_instances.conf")
    """

    def command(self, path):
        return sed_mask(shlex.quote(path))

    def default(self):
        return []

    def process(self, output):
        return list(output)



@dataclass(frozen=True)
class InstanceStatus:
    """One VRRP instance as the running keepalived sees it."""

    name: str
    state: str  # MASTER, BACKUP, FAULT, INIT, STOP
    priority: int | None = None  # configured
    effective_priority: int | None = None  # after tracked checks' weights
    last_transition: float | None = None  # epoch seconds
    vips: tuple = ()  # configured, "172.20.0.200/16"


@dataclass(frozen=True)
class VrrpStatus:
    running: bool
    instances: dict  # {name: InstanceStatus}; empty when keepalived does not run
    failing_scripts: tuple = ()  # vrrp_script names whose status is not GOOD
    addresses: frozenset = frozenset()  # every address on the host, without prefix
    now: float | None = None  # the host's clock, epoch seconds


# The data dump holds auth_pass in clear: only the lines below leave the host (the
# functions of vrrp_dump.sh, shared with the rolling restart, say how it is read).
DUMP_LINES = (r"^------< |^ VRRP (Instance|Script) = "
              r"|^   (State|Priority|Effective priority|Last transition|Status) = "
              r"|^     [0-9A-Fa-f:.]+/[0-9]+( |$)")
VRRP_DUMP_SCRIPT = shell_script("facts/vrrp_dump.sh")
STATUS_SCRIPT = VRRP_DUMP_SCRIPT + with_variables(shell_script("facts/status.sh"),
                                                  dump_lines=DUMP_LINES)


def parse_ip_addr(lines):
    """[(interface, "address/prefix")] from `ip -o addr show` lines:
    ``2: eth0    inet 172.20.0.200/16 scope global secondary eth0``."""
    found = []
    for line in lines:
        words = line.split()
        if len(words) > 3 and words[2] in ("inet", "inet6"):
            found.append((words[1].split("@")[0], words[3]))
    return found


def parse_addresses(lines):
    """The addresses, without prefix, from `ip -o addr show` lines."""
    return frozenset(cidr.split("/")[0] for _, cidr in parse_ip_addr(lines))


class IpAddresses(FactBase[list[tuple[str, str]] | None]):
    """
    Every address on the host's interfaces, as ``[(interface, "address/prefix")]`` (None
    when ``ip`` printed nothing at all).

    .. code:: python

        host.get_fact(IpAddresses)  # [("lo", "127.0.0.1/8"), ("eth0", "172.20.0.2/16")]
    """

    def command(self):
        return "ip -o addr show"

    def process(self, output):
        return parse_ip_addr(output)


class UserProcesses(FactBase[list[str]]):
    """
    The ids of the processes that run as ``user`` (from /proc: no procps needed).

    .. code:: python

        host.get_fact(UserProcesses, user="keepalived_script")  # ["1234"]
    """

    def command(self, user):
        return ("uid=$(id -u " + shlex.quote(user) + " 2>/dev/null) || exit 0; "
                'for p in /proc/[0-9]*; do [ "$(stat -c %u "$p" 2>/dev/null)" = "$uid" ] '
                '&& echo "${p#/proc/}"; done; true')

    def default(self):
        return []

    def process(self, output):
        return [line.strip() for line in output if line.strip()]


class CreatedUser(FactBase[bool]):
    """
    Whether this deploy created ``user`` on the host: its record
    (host_paths.created_user_record), written in the command that created the user.

    .. code:: python

        host.get_fact(CreatedUser, user="keepalived_script")  # True
    """

    def command(self, user):
        return f"[ -e {shlex.quote(created_user_record(user))} ] && echo created || true"

    def default(self):
        return False

    def process(self, output):
        return [line.strip() for line in output] == ["created"]


def parse_dump(lines):
    """(instances, failing scripts) from the filtered lines of keepalived's data dump."""
    instances, failing = {}, []
    section, current, script = None, None, None

    def keep():
        if current:
            instances[current["name"]] = InstanceStatus(**current)

    for line in lines:
        key, _, value = line.strip().partition(" = ")
        if line.startswith("------<"):
            section = line.strip("-<> ")
        elif section != "VRRP Topology" and section != "VRRP Scripts":
            continue
        elif key == "VRRP Instance":
            keep()
            current = {"name": value, "state": "UNKNOWN", "vips": ()}
        elif key == "VRRP Script":
            script = value
        elif section == "VRRP Scripts":
            if key == "Status" and value != "GOOD" and script:
                failing.append(script)
        elif current is None:
            continue
        elif key == "State":
            current["state"] = value
        elif key == "Priority":
            current["priority"] = int(value)
        elif key == "Effective priority":
            current["effective_priority"] = int(value)
        elif key == "Last transition":
            current["last_transition"] = float(value.split()[0])
        elif "/" in line and not value:
            current["vips"] += (line.split()[0],)
    keep()
    return instances, tuple(failing)


class KeepalivedStatus(FactBase[VrrpStatus]):
    """
    What the running keepalived says about its VRRP instances, plus the host's addresses,
    in one round trip. Asks keepalived's VRRP process for its data dump (a signal, as
    `keepalived --signum=DATA` names it); nothing else on the host changes.

    Returns a ``VrrpStatus``; ``running`` is False (and ``instances`` empty) when no
    keepalived VRRP process runs.

    .. code:: python

        status = host.get_fact(KeepalivedStatus)
        status.instances["VI_1"].state  # "MASTER"
    """

    def command(self):
        return STATUS_SCRIPT

    def default(self):
        return VrrpStatus(running=False, instances={})  # (no output at all: nothing known)

    def process(self, output):
        marks = {line.split()[1]: index for index, line in enumerate(output)
                 if line.startswith("## ")}
        end_of_dump = marks.get("addresses", len(output))
        instances, failing = {}, ()
        if "running" in marks:
            instances, failing = parse_dump(output[marks["running"] + 1:end_of_dump])
        return VrrpStatus(
            running="running" in marks, instances=instances, failing_scripts=failing,
            addresses=parse_addresses(output[end_of_dump + 1:]),
            now=float(output[marks["now"]].split()[2]) if "now" in marks else None,
        )
