"""Fake hosts for the tests of what the deploy sends (tests/test_commands.py and the modules
beside it): pyinfra's ``@fake`` hosts scripted by the probe's answer (make_state(),
probe_output()), the commands the deploy must send, and readers of what the `recorder`
fixture (tests/conftest.py) recorded."""

import hashlib
import os
import re
import runpy
import shlex
import socket
import sys

from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.operations import run_ops
from pyinfra.facts.server import LinuxDistribution

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.deploys.install import keepalived
from pyinfra_keepalived.facts import keepalived as facts
from pyinfra_keepalived.facts.host_level import digest_path, sysctl_path
from pyinfra_keepalived.host_paths import DROPIN, NEEDRESTART_CONF, SYSCTL_FILE
from pyinfra_keepalived.host_paths import OS_RELEASE as OS_RELEASE_FILE
from pyinfra_keepalived.model import fleet as inventory_check
from pyinfra_keepalived.model.blocks import HostLevel, Paths
from pyinfra_keepalived.operations import config_tree, state_files
from pyinfra_keepalived.operations import system as host_ops
from pyinfra_keepalived.operations.state_files import LOCK_SCRIPT
from pyinfra_keepalived.operations.uploads import sha256
from pyinfra_keepalived.render import config as render
from pyinfra_keepalived.render import host_level as render_host
from pyinfra_keepalived.shipped import shell_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUP_DATA = {key: value for key, value in
              runpy.run_path(os.path.join(ROOT, "group_data", "jump_hosts.py")).items()
              if key.startswith("keepalived_")}
# transaction.sh with the state files' shell functions, safe_base.sh and the config test
# before it, as the deploy sends it
TRANSACTION_SCRIPT = (state_files.FUNCTIONS
                      + shell_script("operations/safe_base.sh")
                      + config_tree.CONFIG_TEST
                      + shell_script("operations/transaction.sh"))
TRANSACTION_FIRST_LINE = "# One config transaction on a host"
SECRET = "1234"  # auth_pass of VI_1 in group_data/jump_hosts.py
assert GROUP_DATA["keepalived_vrrp_instances"][0]["auth_pass"] == SECRET

HOSTS = {"@fake/host-01": {"keepalived_priority": 100, "keepalived_state": "MASTER"},
         "@fake/host-02": {"keepalived_priority": 90, "keepalived_state": "BACKUP"}}

OS_RELEASE = {
    "rocky": """NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
""",
    "almalinux": """NAME="AlmaLinux"
VERSION="9.4 (Seafoam Ocelot)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"
""",
    "rhel": """NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
""",
    "fedora": """NAME="Fedora Linux"
VERSION="40 (Server Edition)"
ID=fedora
VERSION_ID=40
PLATFORM_ID="platform:f40"
PRETTY_NAME="Fedora Linux 40 (Server Edition)"
""",
    "debian": """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
""",
    "ubuntu": """PRETTY_NAME="Ubuntu 24.04 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
""",
    "arch": """NAME="Arch Linux"
PRETTY_NAME="Arch Linux"
ID=arch
BUILD_ID=rolling
""",
}
DNF_DISTROS = ["rocky", "almalinux", "rhel", "fedora"]
APT_DISTROS = ["debian", "ubuntu"]

PATHS = Paths()
# the tree's files relative to the base dir, in the order they are uploaded, and modes
TREE = ["keepalived.conf", "conf.d/00-global_defs.conf", "conf.d/10-vrrp_scripts.conf",
        "conf.d/20-vrrp_instances.conf", "scripts/check_ssh.sh", "conf.d/agreement-VI_1.txt",
        "conf.d/vrrp-firewall-peers.txt"]
MODES = ["644", "644", "644", "600", "755", "600", "644"]

USERADD = ("useradd -d /nonexistent -s /usr/sbin/nologin -r "
           "-c 'Keepalived health check script user' -M keepalived_script")
# ... in the package step's command: done too when the user exists after it
CREATE_USER = (f"{USERADD} && touch /var/lib/pyinfra-keepalived.created-user.keepalived_script"
               " || getent passwd keepalived_script >/dev/null")
# operations.uploads.private_dir(), as the recorder writes it (random part: T)
TEMP = "/var/tmp/keepalived-deploy.T"
MAKE_TEMP = f"mkdir -m 700 {TEMP}"
GENERATION = "G"  # a generation's name (UTC time and a random part), as the recorder writes it


def locked(what, words, mode="apply"):
    """operations/transaction.sh run under the deploy's lock (lock.sh), as sent."""
    return (f"sh -c {shlex.quote(LOCK_SCRIPT + chr(10) + TRANSACTION_SCRIPT)} pyinfra-keepalived "
            f"/run/pyinfra-keepalived/lock /run/pyinfra-keepalived/holder 120 "
            f"{shlex.quote(what + ' from ' + socket.gethostname())} {mode} /etc/keepalived "
            f"{words}")


RELOAD_MARKER = "/var/lib/pyinfra-keepalived/reload-pending"
# The transaction: stage the uploaded files root-owned with their modes, keepalived -t,
# one rename, fixed links through .current, reload if running: one command.
TRANSACTION = locked("config transaction", " ".join([
    f"{TEMP} {GENERATION} {RELOAD_MARKER} keepalived.conf 0 dir scripts dir conf.d",
    *[f"file {number} {mode} {path}" for number, (mode, path) in enumerate(zip(MODES, TREE))],
    "link scripts .current/scripts link conf.d .current/conf.d "
    "link keepalived.conf .current/keepalived.conf"]))
# Only the reload an earlier run left pending.
PENDING_RELOAD = locked("pending reload", f"- {GENERATION} {RELOAD_MARKER} keepalived.conf 0")
def cleanup(directory):
    """How a command that installs uploads from `directory` starts: the dir goes when it
    ends, whatever happens (also when a signal ends it)."""
    return (f"trap 'rm -rf {directory}' EXIT && trap 'exit 129' HUP && "
            "trap 'exit 130' INT && trap 'exit 143' TERM")


CLEANUP = cleanup(TEMP)  # the private dir goes, whatever happens
UPLOADS = [f"upload {TEMP}/{number}" for number in range(len(TREE))]
# The config of a host, with or without /etc/keepalived: commands, and all that is sent.
CONFIG_OPS = [MAKE_TEMP, f"{CLEANUP} && {TRANSACTION}"]
CONFIG_SENT = [MAKE_TEMP, *UPLOADS, CONFIG_OPS[1]]
FRESH_CONFIG_OPS, FRESH_CONFIG_SENT = CONFIG_OPS, CONFIG_SENT


def file_install(path, mode, make_dir=False, then=None):
    """The command with which operations.uploads.upload puts its upload at `path`."""
    return " ".join([CLEANUP, "&& install", *(["-D"] if make_dir else []),
                     "-o root -g root -m", mode, f"{TEMP}/0", path,
                     *(["&&", then] if then else [])])


def file_sent(path, mode, make_dir=False, then=None):
    """All that operations.uploads.upload sends for `path`: mkdir, upload, install."""
    return [MAKE_TEMP, f"upload {TEMP}/0", file_install(path, mode, make_dir, then)]


# The keepalived.service drop-in, written on a host that does not have it yet.
DROPIN_CONTENT = render_host.service_dropin(HostLevel())
DROPIN_SENT = file_sent(DROPIN, "644", make_dir=True, then="systemctl daemon-reload")
DROPIN_OPS = [DROPIN_SENT[0], DROPIN_SENT[2]]
# ... before the package step that installs keepalived: that step reloads systemd's units
FRESH_DROPIN_SENT = file_sent(DROPIN, "644", make_dir=True)
FRESH_DROPIN_OPS = [FRESH_DROPIN_SENT[0], FRESH_DROPIN_SENT[2]]
# needrestart's snippet that leaves keepalived's restart to the deploy, on a host without it
NEEDRESTART_CONTENT = render_host.needrestart_conf()
NEEDRESTART_SENT = file_sent(NEEDRESTART_CONF, "644", make_dir=True)
NEEDRESTART_OPS = [NEEDRESTART_SENT[0], NEEDRESTART_SENT[2]]
# The host level a fresh host gets before the package step (no firewall, no sysctl)
FRESH_HOST_LEVEL_SENT = [*FRESH_DROPIN_SENT, *NEEDRESTART_SENT]
FRESH_HOST_LEVEL_OPS = [*FRESH_DROPIN_OPS, *NEEDRESTART_OPS]
# What refreshes apt's lists before the install where they are old (package.sh decides).
APT_REFRESH = "apt-get update -o Acquire::Languages=none -o Acquire::CompressionTypes::Order::=gz"
ENABLE = ("{ systemctl is-enabled --quiet keepalived.service || "
          "systemctl enable keepalived.service; }")
START = [f"{ENABLE} && systemctl start keepalived.service"]
# The config of a host where keepalived does not run yet: started in the same command,
# once the transaction made the config live.
STARTED_CONFIG_OPS = [MAKE_TEMP, f"{CONFIG_OPS[1]} && {START[0]}"]
STARTED_CONFIG_SENT = [*CONFIG_SENT[:-1], STARTED_CONFIG_OPS[1]]


# rpm's scriptlets restart no unit, needrestart neither
DNF = "NEEDRESTART_SUSPEND=1 SYSTEMD_OFFLINE=1 dnf install -y"


def package(install, running=False, user=False, reload=True, refresh=APT_REFRESH):
    """The package operation's command: operations/package.sh under the deploy lock runs
    `install` (apt's or dnf's line, one word), with our policy-rc.d on apt hosts, after
    writing the restart-pending marker when keepalived was `running`, refreshing apt's
    lists (`refresh`) when older than an hour and creating the script user (`user`:
    CREATE_USER); then reloads systemd's units (`reload`: apt where needed, dnf always)."""
    apt = "apt-get" in install
    return shlex.join([
        "sh", "-c", state_files.LOCK_SCRIPT + "\n" + host_ops.PACKAGE_SCRIPT,
        "pyinfra-keepalived", host_paths.LOCK_FILE, host_paths.LOCK_HOLDER,
        str(host_paths.LOCK_WAIT_SECONDS), "install keepalived", "yes" if running else "no",
        host_paths.RESTART_PENDING, host_paths.POLICY_RC_D if apt else "",
        host_paths.APT_STAMP, "3600", refresh if apt else "", CREATE_USER if user else "",
        ("if-needed" if apt else "always") if reload else "", install])


# The steps of a rolling restart (operations.rolling), as readable() shows them: the test
# of the live config with the installed keepalived (all hosts), then the two restart steps.
RESTART_STEPS = ["<test live config>", "<restart, first stage>", "<restart, holders stage>"]
# what each step's locked command says it does (lock.sh's WHAT)
STEP_WHAT = ["test the live config before a restart", "restart keepalived (first stage)",
             "restart keepalived (holders stage)"]


def readable(commands):
    """`commands` with each restart step (a long locked script) as its RESTART_STEPS name."""
    named = []
    for command in commands:
        for step, what in zip(RESTART_STEPS, STEP_WHAT):
            if f" '{what}' " in command:
                command = step
        named.append(command)
    return named


def containing(commands, part):
    """The index of the first command that contains `part`."""
    return next(index for index, command in enumerate(commands) if part in command)


def apt_install(package):
    """The install line; a pinned version (keepalived=V) may be a downgrade."""
    downgrade = " --allow-downgrades" if "=" in package else ""
    return ('NEEDRESTART_SUSPEND=1 DEBIAN_FRONTEND=noninteractive apt-get -y '
            '--no-install-recommends '
            '-o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" '
            f'install{downgrade} {package}')


def release_response(distro):
    """LinuxDistribution's output: each /etc/*-release file, its content, then ---."""
    return ["/etc/os-release", *OS_RELEASE[distro].splitlines(), "---"]


# -- the probe: the one fact the deploy reads --

PROBE_FACT = "echo '## user'"  # in the KeepalivedProbe command (facts/probe.sh)
SCRIPT_USER_ENTRY = ("keepalived_script:x:990:990:Keepalived health check script user:"
                     "/nonexistent:/usr/sbin/nologin")
RPM_NOT_INSTALLED = "package keepalived is not installed"  # rpm -q says so on stdout
STOPPED = ("inactive",)  # ActiveState; UnitFileState is empty without a unit
RUNNING = ("active", "enabled")


def sysctl_value(key, value):
    """How the host-state fact reads a sysctl value (grep -H on /proc/sys)."""
    return f"{sysctl_path(key)}:{value}"


def file_read(path, lines):
    """How the host-state fact reads the lines of a file (grep -H)."""
    return [f"{path}:{line}" for line in lines]


def host_state(firewall="none ok", files=(), unit="enabled", sysctl=None, sysctl_lines=(),
               needrestart=True):
    """The host-state fact's answer: `files` {path: content} exist with that content, and
    needrestart's snippet as the deploy writes it (unless `needrestart` is False)."""
    lines = [f"firewall {firewall}"]
    files = {**({NEEDRESTART_CONF: NEEDRESTART_CONTENT} if needrestart else {}), **dict(files)}
    lines += [f"{sha256(content)}  {path}" for path, content in files.items()]
    lines.append(f"unit {unit}")
    lines += file_read(SYSCTL_FILE, sysctl_lines)
    lines += [sysctl_value(key, value) for key, value in (sysctl or {}).items()]
    return lines


# The host level of a running host as the deploy leaves it (no firewall, no options).
CONVERGED_STATE = host_state(files={DROPIN: DROPIN_CONTENT})


def probe_output(distro, user=None, package=None, service=STOPPED, reload_needed=False,
                 tree=(), state=(), stale_uploads=(), ipvs=None):
    """What the KeepalivedProbe fact prints on a `distro` host whose script user has the
    passwd entry `user` (None: no such user), with keepalived `package` installed (a
    version, or None), the service `service` (ActiveState, UnitFileState; systemd's
    NeedDaemonReload `reload_needed`), the config tree `tree` (tree_lines()) and
    host-level state `state` (host_state()), and upload directories of broken-off runs
    `stale_uploads` (the lines the probe prints); `ipvs`: the lines of facts/ipvs.sh (read
    for a config with LVS), None: not read. The defaults are a fresh host."""
    if package:
        installed = [f"ii |{package}"]  # dpkg-query's status|version; rpm's is made alike
    else:
        installed = [RPM_NOT_INSTALLED] if distro in DNF_DISTROS else []
    unit = [f"{key}={value}" for key, value in zip(("ActiveState", "UnitFileState"), service)]
    # the probe digests the host state's files with the tree's (one sha256sum), and reads
    # the unit state with the service, not in the host state
    digests = [line for line in state if digest_path(line)]
    return ["## user", *([user] if user else []),
            "## package", *installed,
            "## service", *unit, f"NeedDaemonReload={'yes' if reload_needed else 'no'}",
            "## digests", *digests,
            "## tree", *tree,
            "## stale-uploads", *stale_uploads,
            "## host-state", *[line for line in state
                               if not line.startswith("unit ") and line not in digests],
            *file_read(OS_RELEASE_FILE, OS_RELEASE[distro].splitlines()),
            *(["## ipvs", *ipvs] if ipvs is not None else [])]


def running_probe(package, tree=(), state=CONVERGED_STATE, **given):
    """probe_output() arguments of a host where keepalived `package` is installed, enabled
    and running, the script user exists as the deploy creates it and the host level is as
    the deploy leaves it; `tree`: tree_lines() of its config."""
    return {"user": SCRIPT_USER_ENTRY, "package": package, "service": RUNNING, "tree": tree,
            "state": state, **given}


def up_to_date_probes(state, package="2.2.8-1.el9", **given):
    """running_probe() of each host of `state`, its config tree exactly what it renders."""
    settings = settings_of(state)
    return {name: running_probe(package, tree_lines(render.config_files(settings[name])),
                                **given)
            for name in HOSTS}


# -- recording what is sent --

def _in_fact():
    """Whether the command being run reads a fact: pyinfra's facts, and the peers' status
    the handover reads when its step runs (operations.handover.live_status)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.endswith(os.path.join("pyinfra", "api", "facts.py")):
            return True
        if (frame.f_code.co_name == "live_status"
                and frame.f_code.co_filename.endswith("handover.py")):
            return True
        frame = frame.f_back
    return False


def _executed(host, recorder, facts):
    kinds = recorder[0]
    assert len(kinds[host.connector]) == len(host.connector.executed_commands)
    return [_named(command) for command, is_fact in zip(host.connector.executed_commands,
                                                        kinds[host.connector])
            if is_fact == facts]


def _named(command):
    """`command` with the random part of operations.uploads.private_dir() as T and a
    generation's name as G."""
    command = re.sub(r"(/var/tmp/keepalived-deploy\.)[0-9a-f]{12}", r"\1T", str(command))
    return re.sub(r"\b[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\b", GENERATION, command)


def op_commands(host, recorder):
    """The operation commands of executed_commands, in order (fact probes left out)."""
    return _executed(host, recorder, facts=False)


LOCK_ARGS = ("pyinfra-keepalived /run/pyinfra-keepalived/lock "
             "/run/pyinfra-keepalived/holder 120")


def locked_command(command, what):
    """`command` run under the host's deploy lock, as sent: the lock script and the
    command in one `sh -c`, then the lock's arguments and what the run does."""
    script = shlex.quote(LOCK_SCRIPT + "\n" + command)
    return f"sh -c {script} {LOCK_ARGS} {shlex.quote(what)}"


def unlocked(sent):
    """(command, what) of a command `sent` under the deploy lock; AssertionError if the
    command does not take the lock."""
    words = shlex.split(sent)
    assert words[:2] == ["sh", "-c"] and words[2].startswith(LOCK_SCRIPT + "\n"), sent
    assert " ".join(words[3:7]) == LOCK_ARGS and len(words) == 8, sent
    return words[2][len(LOCK_SCRIPT) + 1:], words[7]


def fact_commands(host, recorder):
    """The fact commands of executed_commands, in order."""
    return [str(command) for command in _executed(host, recorder, facts=True)]


def assert_one_probe(host, recorder):
    """The host was read with the probe, once, and with nothing else: not even pyinfra's
    TmpDir fact, which it reads before the first upload of files.put (operations.uploads
    picks its own private directory)."""
    facts = fact_commands(host, recorder)
    assert PROBE_FACT in facts[0], facts
    assert facts[1:] == [], facts


def sent(host, recorder):
    """Operation commands and uploads, in the order they were sent."""
    return recorder[1][host.connector]


# -- building fake hosts --

def make_state(distro, probes=None, responses=None, host_data=None, group_data=None,
               diff=False, yes=False):
    """Connected State for the two jump hosts on `distro`.

    probes: {host name: probe_output() arguments} (default: a fresh `distro` host);
    responses: {host name: {matcher: response}} tried before the defaults;
    host_data / group_data: merged over the example data; yes: no change detection
    before the run (as `pyinfra -y`)."""
    names = list(HOSTS)
    hosts = []
    for name in names:
        defaults = {
            PROBE_FACT: probe_output(**{"distro": distro, **(probes or {}).get(name, {})}),
            LinuxDistribution().command(): release_response(distro),
        }
        given = (responses or {}).get(name, {})
        # First match wins, in insertion order: the test's own responses go first.
        fake_responses = {**given, **{k: v for k, v in defaults.items() if k not in given}}
        hosts.append((name, {**HOSTS[name], **(host_data or {}).get(name, {}),
                             "fake_responses": fake_responses,
                             "fake_delay": 0, "fake_delay_jitter": 0}))
    # (the verification at the end of a changing run reads the cluster's status until it
    # settles, which fake hosts never do: off unless a test turns it on, tests/test_verify.py)
    inventory = Inventory((hosts, {}), jump_hosts=(names, {
        **GROUP_DATA, "keepalived_verify": False, **(group_data or {})}))
    state = State(inventory, Config(DIFF=diff), check_for_changes=not yes)
    connect_all(state)
    return state


def add(state):
    # As pyinfra's API does it: add_deploy sets only the state and host contexts.
    add_deploy(state, keepalived)


def deploy(state):
    add(state)
    run_ops(state)
    return list(state.inventory)


def settings_of(state):
    return inventory_check.check_hosts(
        [(host.name, host.data.dict()) for host in state.inventory], warn=lambda _: None)


def tree_lines(files, mode_of=None, content_of=None):
    """KeepalivedTree output for a host whose /etc/keepalived holds `files` (ManagedFile),
    optionally with other modes or contents."""
    lines = [f"directory|755|root|root|{d}"
             for d in (PATHS.base_dir, PATHS.scripts_dir, PATHS.config_dir)]
    # as transaction.sh lays it out: the managed paths are links through .current
    lines += [f"directory|755|root|root|{PATHS.base_dir}/.current",
              f"link|{PATHS.base_dir}/.current|.generations/20261201T000000Z-abcdef",
              *[f"link|{PATHS.base_dir}/{rel}|.current/{rel}"
                for rel in ("keepalived.conf", "conf.d", "scripts")]]
    for file in files.values():
        content = (content_of or {}).get(file.path, file.content)
        lines.append(f"regular file|{(mode_of or {}).get(file.path, file.mode)}|root|root|"
                     f"{file.path}")
        if file.secret:  # salted with the run's salt, sha256sum reading stdin
            lines.append(f"salted|{file.path}|{facts.digest(content, salted=True)}  -")
        else:
            lines.append(f"{hashlib.sha256(content.encode()).hexdigest()}  {file.path}")
    return lines


def operation_names(state, host):
    """The names of the operations the deploy added for `host`, in order."""
    return [name for op_hash in state.get_op_order() if op_hash in state.ops[host]
            for name in state.op_meta[op_hash].names]
