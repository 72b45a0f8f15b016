"""Everything the deploy needs to know about a host, read in one command.

pyinfra's own operations each read their facts with a command of their own: user,
package and service checks cost about ten round trips per host, one after another.
The `KeepalivedProbe` fact reads all of it at once (with the host-level state of
facts.host_level), so a run that changes nothing costs one round trip per host.
"""

from dataclasses import dataclass, field, replace

from pyinfra import host
from pyinfra.api import FactBase, StringCommand

from ..host_paths import (
    DEFAULT_PARENT,
    DRAIN_FILE,
    OPTIONS_FILES,
    OS_RELEASE,
    RELOAD_PENDING,
    RESTART_PENDING,
    STATE_FILES,
)
from ..model.commands import program_uses
from ..render import config as render
from ..render.firewall import firewall_rules
from ..shipped import shell_script, with_variables
from . import host_level
from .host_level import HostLevelState, KeepalivedHostLevel, digest_path
from .keepalived import KeepalivedTree, tree_digests
from .programs import parse_section as parse_programs
from .programs import probe_section as programs_section
from .ssh_host_keys import parse_section as parse_host_keys
from .ssh_host_keys import probe_section as host_keys_section
from .uploads import is_upload_dir, stale_dirs_command, upload_parent


@dataclass(frozen=True)
class HostProbe:
    os_release: dict = field(default_factory=dict)  # /etc/os-release: {"ID": "debian", ...}
    user: dict | None = None  # the script user's passwd entry: comment, home, shell
    package_version: str | None = None  # installed keepalived, e.g. "1:2.2.7-1+b2"
    service_active: bool = False
    service_enabled: str = ""  # enabled, disabled, masked, ... ("" when no unit)
    unit_reload_needed: bool = False  # the unit or a drop-in changed since systemd loaded it
    tree: dict = field(default_factory=dict)  # {path: TreeEntry}, see KeepalivedTree
    host_state: HostLevelState = field(default_factory=HostLevelState)  # firewall, drop-in, ...
    # operations.state_files markers left by a run that did not finish (their first line:
    # since when), and the drain value; None when absent
    reload_pending: str | None = None
    restart_pending: str | None = None
    drain: str | None = None
    # upload directories of broken-off runs (facts.uploads.stale_dirs_command)
    stale_uploads: tuple = ()
    # sshd's HostKey files and their .pub, read only with keepalived_ssh_host_keys
    # "shared": {path: (mode, user, group, salted sha256) or None}, facts.ssh_host_keys
    ssh_host_keys: dict = field(default_factory=dict)
    # the programs of check and notify commands (model.commands), asked for only:
    # {program as given: ProgramFound}, facts.programs
    programs: dict = field(default_factory=dict)
    # read only for a config with LVS (facts/ipvs.sh): the kernel has IPVS (ip_vs loaded),
    # ipvsadm is installed; None when not read
    ipvs: bool | None = None
    ipvsadm: bool | None = None


class KeepalivedProbe(FactBase[HostProbe]):
    """
    Distro, script user, installed keepalived, service state, the config
    tree (``KeepalivedTree``) and the host-level state (``KeepalivedHostLevel``, given its
    arguments), as a ``HostProbe``, in one round trip.

    .. code:: python

        host.get_fact(KeepalivedProbe, user="keepalived_script",
                      config_file="/etc/keepalived/keepalived.conf",
                      dirs=["/etc/keepalived", "/etc/keepalived/scripts"],
                      host_state=host_level.state_arguments(("112",)),
                      hashed=["/etc/keepalived/keepalived.conf"], salted=[],
                      upload_parent="/var/tmp", ipvs=False)
    """

    def command(self, user, config_file, dirs, host_state, hashed=(), salted=(),
                ssh_host_keys=False, upload_parent=None, programs=(), ipvs=False):
        # Each process started costs about a millisecond of the host's CPU: this is read on
        # every run of every host, so files go through one grep (the host state's `read`,
        # /etc/os-release with them), the host state's files are digested with the tree's
        # (one sha256sum: process() gives their lines to the host state) and apt's lists'
        # age is left to the package command.
        host_files = host_state["files"]
        host_state = {**host_state, "files": [],
                      "read": [OS_RELEASE, *STATE_FILES, *host_state["read"]]}
        return _joined([
            # user, package, service
            with_variables(shell_script("facts/probe.sh"), probe_user=user),
            # the digests of the tree's files and the host state's (a StringCommand: the
            # salt of secret files is masked)
            StringCommand("echo '## digests';", *tree_digests([*hashed, *host_files], salted)),
            "echo '## tree'; " + KeepalivedTree().command(config_file, dirs),
            "echo '## stale-uploads'; " + stale_dirs_command(upload_parent or DEFAULT_PARENT),
            "echo '## host-state'; " + KeepalivedHostLevel().command(**host_state, unit=False),
            # sshd's host keys (salted digests), only when they are shared
            *([StringCommand("echo '## ssh-host-keys';", *host_keys_section())]
              if ssh_host_keys else []),
            # where the programs of check and notify commands are, and who may change them
            *([programs_section(programs)] if programs else []),
            # IPVS, only for a config with LVS (loads ip_vs)
            *([shell_script("facts/ipvs.sh")] if ipvs else []),
        ])

    def default(self):
        return HostProbe()

    def process(self, output):
        sections, current = {}, None
        for line in output:
            if line.startswith("## "):
                current = sections.setdefault(line[3:].strip(), [])
            elif current is not None and line.strip():
                current.append(line)
        service = dict(line.strip().partition("=")[::2] for line in sections.get("service", []))
        # UnitFileState is empty for a unit that does not exist
        unit_state = service.get("UnitFileState", "")
        digests = sections.get("digests", [])
        tree = KeepalivedTree().process(sections.get("tree", []) + digests)
        # the digests of files outside the tree are the host state's (command())
        host_state = KeepalivedHostLevel().process(
            sections.get("host-state", []) + [line for line in digests
                                              if digest_path(line) not in (None, *tree)])
        return HostProbe(
            os_release=dict(_os_release(host_state.lines.get(OS_RELEASE, []))),
            user=_passwd(sections.get("user", [])),
            package_version=_installed(sections.get("package", [])),
            service_active=service.get("ActiveState") == "active",
            service_enabled=unit_state,
            unit_reload_needed=service.get("NeedDaemonReload") == "yes",
            tree=tree,
            host_state=replace(host_state, unit=unit_state),  # read once, with the service
            reload_pending=_first_line(host_state.lines, RELOAD_PENDING),
            restart_pending=_first_line(host_state.lines, RESTART_PENDING),
            drain=_first_line(host_state.lines, DRAIN_FILE),
            stale_uploads=tuple(line.strip() for line in sections.get("stale-uploads", [])
                                if is_upload_dir(line.strip())),
            ssh_host_keys=parse_host_keys(sections.get("ssh-host-keys", [])),
            programs=parse_programs(sections.get("programs", [])),
            **_ipvs(sections.get("ipvs")),
        )


def _joined(parts):
    """One command of `parts` (text or StringCommands), run one after the other."""
    return StringCommand(*[word for part in parts for word in (part, ";")][:-1])


def _ipvs(lines):
    """{"ipvs": bool, "ipvsadm": bool} from facts/ipvs.sh's lines (a missing answer: no),
    {} when the section was not asked for."""
    if lines is None:
        return {}
    said = dict(line.strip().partition("=")[::2] for line in lines)
    return {"ipvs": said.get("ipvs") == "yes", "ipvsadm": said.get("ipvsadm") == "yes"}


def _first_line(lines, path):
    """The first line of a file the probe read (\"\" for an empty file), None if absent."""
    return lines[path][0].strip() if lines.get(path) else None


def _os_release(lines):
    for line in lines:
        key, _, value = line.strip().partition("=")
        if key and value:
            yield key, value.strip().strip("\"'")


def _passwd(lines):
    fields = lines[0].strip().split(":") if lines else []
    if len(fields) < 7:
        return None
    return {"comment": fields[4], "home": fields[5], "shell": fields[6]}


def _installed(lines):
    """dpkg's "ii |VERSION" (rpm's answer is made to look the same)."""
    for line in lines:
        status, _, version = line.partition("|")
        if status.strip() == "ii" and version:
            return version
    return None


def read_probe(settings, files=None):
    """This host's HostProbe; `files`: the config tree's ManagedFiles (default: rendered
    from `settings`), whose digests it reads (salted for secret files). (The CLI prepares
    hosts in parallel, each in a greenlet of its own: every host reads its probe at the
    same time.)"""
    paths = settings.paths
    files = render.config_files(settings) if files is None else files
    options_files = [path for path, _ in OPTIONS_FILES.values()]
    return host.get_fact(
        KeepalivedProbe, user=settings.global_defs.script_user,
        config_file=paths.config_file,
        dirs=[paths.base_dir, paths.scripts_dir, paths.config_dir, paths.include_dir],
        host_state=host_level.state_arguments(firewall_rules(settings),
                                              options_files),
        hashed=[file.path for file in files.values() if not file.secret],
        salted=[file.path for file in files.values() if file.secret],
        ssh_host_keys=settings.ssh_host_keys is not None, upload_parent=upload_parent(),
        programs=sorted({use.command.program for use in program_uses(settings)}),
        ipvs=settings.ipvs_needed)
