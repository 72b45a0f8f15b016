"""What the deploy sends to hosts, command by command, via pyinfra's ``@fake`` connector.

No RPM mirror is reachable here, so RHEL-family hosts can only be tested this way: the
deploy is added and executed through the pyinfra API (Inventory, State, connect_all,
add_deploy, run_ops) against ``@fake/...`` hosts, and the commands the fake connector
records (``host.connector.executed_commands``) are compared with what must be sent.

The fake connector answers every command with empty output unless the host's
``fake_responses`` data says otherwise. The deploy reads one fact per host, the
``KeepalivedProbe`` probe (pyinfra_keepalived.facts.probe), so a host is scripted by the probe's answer,
built section by section with ``probe_output()``: /etc/os-release, the script user's passwd
entry, the installed keepalived, the age of apt's lists, the service state, the config tree
and the host-level state. (The uninstall deploy, tests/test_day2_commands.py, reads
pyinfra's own facts; the distro default below is for it.)

``executed_commands`` holds fact commands (read-only probes) and operation commands (what
changes the host). A wrapper around the fake connector notes which is which (a command
is a fact when pyinfra.api.facts is on the call stack) and records file uploads, which
the fake connector does not list.
"""

import hashlib
import logging
import os
import re
import runpy
import shutil
import shlex
import socket
import subprocess
import sys
import tempfile
from collections import defaultdict

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.api.host import Host
from pyinfra.api.operations import run_ops
from pyinfra.connectors.fake import FakeConnector
from pyinfra.context import ctx_host, ctx_inventory, ctx_state
from pyinfra.facts.server import LinuxDistribution

from pyinfra_keepalived.shipped import shell_script
from pyinfra_keepalived.facts import keepalived as facts

from pyinfra_keepalived.operations import system as host_ops

from pyinfra_keepalived.model import fleet as inventory_check

from pyinfra_keepalived.render import config as render

from pyinfra_keepalived.render import host_level as render_host

from pyinfra_keepalived.operations import state_files
from pyinfra_keepalived.facts.host_level import sysctl_path
from pyinfra_keepalived.operations.host_level import DROPIN, SYSCTL_FILE
from pyinfra_keepalived.deploys.install import keepalived
from pyinfra_keepalived.facts.probe import OS_RELEASE as OS_RELEASE_FILE
from pyinfra_keepalived.model.problems import KeepalivedDataError
from pyinfra_keepalived.model.blocks import HostLevel, Paths
from pyinfra_keepalived.operations.state_files import LOCK_SCRIPT
from pyinfra_keepalived.operations.uploads import sha256

pytestmark = pytest.mark.unit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUP_DATA = {key: value for key, value in
              runpy.run_path(os.path.join(ROOT, "group_data", "jump_hosts.py")).items()
              if key.startswith("keepalived_")}
# transaction.sh with the state files' shell functions before it, as the deploy sends it
TRANSACTION_SCRIPT = (state_files.FUNCTIONS
                      + shell_script("operations/transaction.sh"))
LOCK_SCRIPT = shell_script("operations/lock.sh")
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
        "conf.d/20-vrrp_instances.conf", "scripts/check_ssh.sh"]
MODES = ["644", "644", "644", "600", "755"]

USERADD = ("useradd -d /nonexistent -s /usr/sbin/nologin -r "
           "-c 'Keepalived health check script user' -M keepalived_script")
# operations.uploads.private_dir(), as the recorder writes it (random part: T)
TEMP = "/var/tmp/keepalived-deploy.T"
MAKE_TEMP = f"mkdir -m 700 {TEMP}"
GENERATION = "G"  # a generation's name (UTC time and a random part), as the recorder writes it


def locked(what, words):
    """operations/operations/transaction.sh run under the deploy's lock (lock.sh), as sent."""
    return (f"sh -c {shlex.quote(LOCK_SCRIPT + chr(10) + TRANSACTION_SCRIPT)} pyinfra-keepalived "
            f"/run/pyinfra-keepalived/lock /run/pyinfra-keepalived/holder 120 "
            f"{shlex.quote(what + ' from ' + socket.gethostname())} /etc/keepalived {words}")


RELOAD_MARKER = "/var/lib/pyinfra-keepalived/reload-pending"
# The transaction: stage the uploaded files root-owned with their modes, keepalived -t,
# one rename, fixed links through .current, reload if running: one command.
TRANSACTION = locked("config transaction", " ".join([
    f"{TEMP} {GENERATION} {RELOAD_MARKER} keepalived.conf dir scripts dir conf.d",
    *[f"file {number} {mode} {path}" for number, (mode, path) in enumerate(zip(MODES, TREE))],
    "link scripts .current/scripts link conf.d .current/conf.d "
    "link keepalived.conf .current/keepalived.conf"]))
# Only the reload an earlier run left pending.
PENDING_RELOAD = locked("pending reload", f"- {GENERATION} {RELOAD_MARKER} keepalived.conf")
CLEANUP = f"trap 'rm -rf {TEMP}' EXIT"  # the private dir goes, whatever happens
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
# What goes before the install when apt's lists are old: one command with it.
APT_REFRESH = ("apt-get update -o Acquire::Languages=none "
               "-o Acquire::CompressionTypes::Order::=gz && "
               "touch /var/lib/apt/periodic/update-success-stamp && ")
ENABLE = ("{ systemctl is-enabled --quiet keepalived.service || "
          "systemctl enable keepalived.service; }")
START = [f"{ENABLE} && systemctl start keepalived.service"]


DNF = "SYSTEMD_OFFLINE=1 dnf install -y"  # rpm's scriptlets restart no unit


def package(install, running=False):
    """The package operation's command: operations/operations/package.sh under the deploy lock runs
    `install` (apt's or dnf's line, one word), with our policy-rc.d on apt hosts, after
    writing the restart-pending marker when keepalived was `running`."""
    apt = "apt-get" in install
    return shlex.join([
        "sh", "-c", state_files.LOCK_SCRIPT + "\n" + host_ops.PACKAGE_SCRIPT,
        "pyinfra-keepalived", state_files.LOCK_FILE, state_files.LOCK_HOLDER,
        str(state_files.LOCK_WAIT_SECONDS), "install keepalived", "yes" if running else "no",
        state_files.RESTART_PENDING, state_files.POLICY_RC_D if apt else "", install])


# The two steps of a rolling restart (operations.rolling), as readable() shows them.
RESTART_STEPS = ["<restart, first stage>", "<restart, holders stage>"]


def readable(commands):
    """`commands` with each restart step (a long locked script) as its RESTART_STEPS name."""
    named = []
    for command in commands:
        for step, stage in zip(RESTART_STEPS, ("first", "holders")):
            if f" 'restart keepalived ({stage} stage)' " in command:
                command = step
        named.append(command)
    return named


def containing(commands, part):
    """The index of the first command that contains `part`."""
    return next(index for index, command in enumerate(commands) if part in command)


def apt_install(package):
    """The install line; a pinned version (keepalived=V) may be a downgrade."""
    downgrade = " --allow-downgrades" if "=" in package else ""
    return ('DEBIAN_FRONTEND=noninteractive apt-get -y --no-install-recommends '
            '-o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" '
            f'install{downgrade} {package}')


def release_response(distro):
    """LinuxDistribution's output: each /etc/*-release file, its content, then ---."""
    return ["/etc/os-release", *OS_RELEASE[distro].splitlines(), "---"]


# -- the probe: the one fact the deploy reads --

PROBE_FACT = "echo '## user'"  # in the KeepalivedProbe command (facts/probe.sh)
NOW = 1795567798  # the host's clock (date +%s) in a probe
SCRIPT_USER_ENTRY = ("keepalived_script:x:990:990:Keepalived health check script user:"
                     "/nonexistent:/usr/sbin/nologin")
RPM_NOT_INSTALLED = "package keepalived is not installed"  # rpm -q says so on stdout
STOPPED = ("inactive",)  # ActiveState; UnitFileState is empty without a unit
RUNNING = ("active", "enabled")
TWO_DAYS = 2 * 24 * 3600


def sysctl_value(key, value):
    """How the host-state fact reads a sysctl value (grep -H on /proc/sys)."""
    return f"{sysctl_path(key)}:{value}"


def file_read(path, lines):
    """How the host-state fact reads the lines of a file (grep -H)."""
    return [f"{path}:{line}" for line in lines]


def host_state(firewall="none ok", files=(), unit="enabled", sysctl=None, sysctl_lines=()):
    """The host-state fact's answer: `files` {path: content} exist with that content."""
    lines = [f"firewall {firewall}"]
    lines += [f"{sha256(content)}  {path}" for path, content in dict(files).items()]
    lines.append(f"unit {unit}")
    lines += file_read(SYSCTL_FILE, sysctl_lines)
    lines += [sysctl_value(key, value) for key, value in (sysctl or {}).items()]
    return lines


# The host level of a running host as the deploy leaves it (no firewall, no options).
CONVERGED_STATE = host_state(files={DROPIN: DROPIN_CONTENT})


def probe_output(distro, user=None, package=None, apt_cache_age=None, service=STOPPED,
                 tree=(), state=(), stale_uploads=()):
    """What the KeepalivedProbe fact prints on a `distro` host whose script user has the
    passwd entry `user` (None: no such user), with keepalived `package` installed (a
    version, or None), apt's lists `apt_cache_age` seconds old (None: never updated), the
    service `service` (ActiveState, UnitFileState), the config tree `tree` (tree_lines()) and
    host-level state `state` (host_state()), and upload directories of broken-off runs
    `stale_uploads` (the lines the probe prints). The defaults are a fresh host."""
    if package:
        installed = [f"ii |{package}"]  # dpkg-query's status|version; rpm's is made alike
    else:
        installed = [RPM_NOT_INSTALLED] if distro in DNF_DISTROS else []
    refreshed = [str(NOW), str(NOW - apt_cache_age)] if apt_cache_age is not None else []
    return ["## user", *([user] if user else []),
            "## package", *installed,
            "## apt-cache-age", *refreshed,
            "## service", *service,
            "## tree", *tree,
            "## stale-uploads", *stale_uploads,
            # the probe reads the unit state with the service, not in the host state
            "## host-state", *[line for line in state if not line.startswith("unit ")],
            *file_read(OS_RELEASE_FILE, OS_RELEASE[distro].splitlines())]


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
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename.endswith(os.path.join("pyinfra", "api", "facts.py")):
            return True
        frame = frame.f_back
    return False


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    """Per host: is_fact flags parallel to executed_commands, the ordered stream of
    operation commands and uploads, and the paths uploaded to."""
    # check_inventory caches by id(inventory); a new Inventory may reuse a freed id.
    monkeypatch.setattr(inventory_check, "_checked", {})
    # pyinfra memoizes each host's temp dir (the TmpDir fact) by host name, across states:
    # read it afresh, so that what a test sees does not depend on the tests before it.
    monkeypatch.setattr(Host._get_temp_directory, "cache", {})
    # pyinfra's ctx_*.use() does not restore the previous value when the body raises:
    # start each test with no context and put back what was there.
    contexts = [(ctx, ctx.get()) for ctx in (ctx_state, ctx_inventory, ctx_host)]
    for ctx, _ in contexts:
        ctx.reset()
    kinds = defaultdict(list)  # keyed by connector: two tests states may share host names
    stream = defaultdict(list)
    uploaded_to = defaultdict(list)  # upload paths as sent (random parts and all)
    run_shell_command, put_file = FakeConnector.run_shell_command, FakeConnector.put_file

    def recording_run(self, command, *args, **kwargs):
        is_fact = _in_fact()
        result = run_shell_command(self, command, *args, **kwargs)
        kinds[self].append(is_fact)
        if not is_fact:
            stream[self].append(_named(self.executed_commands[-1]))
        return result

    def recording_put(self, filename_or_io, remote_filename, *args, **kwargs):
        stream[self].append(_named(f"upload {remote_filename}"))
        uploaded_to[self].append(remote_filename)
        return put_file(self, filename_or_io, remote_filename, *args, **kwargs)

    monkeypatch.setattr(FakeConnector, "run_shell_command", recording_run)
    monkeypatch.setattr(FakeConnector, "put_file", recording_put)
    yield kinds, stream, uploaded_to
    for ctx, module in contexts:
        ctx.set(module)


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
    inventory = Inventory((hosts, {}),
                          jump_hosts=(names, {**GROUP_DATA, **(group_data or {})}))
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


# -- 1. RHEL family --

@pytest.mark.parametrize("distro", DNF_DISTROS)
def test_rhel_family_fresh_host(distro, recorder):
    """dnf, a system user without home, the config promoted before keepalived starts."""
    state = make_state(distro)
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            USERADD,
            package(f"{DNF} keepalived"),
            *DROPIN_OPS,
            *FRESH_CONFIG_OPS,
            *START,
        ]
        assert sent(host, recorder) == [
            USERADD, package(f"{DNF} keepalived"), *DROPIN_SENT, *FRESH_CONFIG_SENT,
            *START]
        # (the probe is the same on every distro: it asks about apt's lists too)
        assert not any("apt-get" in command for command in sent(host, recorder))
        assert_one_probe(host, recorder)
        assert state.get_results_for_host(host).error_ops == 0


def test_rhel_useradd_flags(recorder):
    state = make_state("rocky")
    host = deploy(state)[0]
    useradd = [c for c in op_commands(host, recorder) if c.startswith("useradd")]
    assert len(useradd) == 1
    args = shlex.split(useradd[0])
    assert args[-1] == "keepalived_script"
    assert "-r" in args  # system user
    assert args[args.index("-s") + 1] == "/usr/sbin/nologin"
    assert args[args.index("-d") + 1] == "/nonexistent"
    assert "-M" in args and "-m" not in args  # no home directory created
    assert args[args.index("-c") + 1] == "Keepalived health check script user"


def test_rhel_promotes_before_start_and_never_restarts_a_fresh_start(recorder):
    """The RHEL package ships a sample keepalived.conf: keepalived must not start before
    ours is live. A service it has just started needs no restart or reload."""
    state = make_state("rocky")
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands.index(package(f"{DNF} keepalived")) < containing(commands, TRANSACTION) \
            < commands.index(START[0])
        # (the transaction's script reloads only a keepalived that was running)
        assert not any(f"systemctl {action} keepalived" in c and TRANSACTION_FIRST_LINE not in c
                       for c in commands for action in ("restart", "reload"))


def test_rhel_upgrade_on_running_host_restarts_not_reloads(recorder):
    """Package changed, service already running: restart (the config changes with it,
    but a restart loads it: no extra reload)."""
    state = make_state("rocky", probes={name: running_probe("2.2.4-6.el9") for name in HOSTS},
                       group_data={"keepalived_package_version": "2.2.8"})
    for host in deploy(state):
        assert readable(op_commands(host, recorder)) == [
            package(f"{DNF} keepalived-2.2.8", running=True), *FRESH_CONFIG_OPS,
            *RESTART_STEPS]


def test_rhel_config_drift_on_running_host_reloads_only(recorder):
    """Package present, service running, one config file differs: the transaction (which
    reloads a running keepalived itself, under the lock), no restart."""
    settings = settings_of(make_state("rocky"))
    drifted = f"{PATHS.config_dir}/00-global_defs.conf"
    probes = {name: running_probe("2.2.8-1.el9", tree_lines(
        render.config_files(settings[name]), content_of={drifted: "# old\n"}))
        for name in HOSTS}
    state = make_state("rocky", probes=probes)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands == CONFIG_OPS
        assert sent(host, recorder) == CONFIG_SENT


RESTART = ("Keepalived | Restart keepalived where it holds no VIP (one host at a time)",
           "Keepalived | Hand over the VIPs, then restart keepalived on their holders "
           "(one host at a time)")


def operation_names(state, host):
    """The names of the operations the deploy added for `host`, in order."""
    return [name for op_hash in state.get_op_order() if op_hash in state.ops[host]
            for name in state.op_meta[op_hash].names]


@pytest.mark.parametrize("yes", [False, True], ids=["change detection", "-y"])
@pytest.mark.parametrize("change, added", [
    (None, []),  # nothing to change: neither (each operation costs pyinfra time per host)
    ("config", []),  # the config transaction reloads: no operation of its own
    ("package", [*RESTART]),  # an upgrade, the config as it was
    ("options", [*RESTART]),  # daemon options, read only when keepalived starts
])
def test_restart_and_reload_only_added_when_this_run_may_need_them(change, added, yes,
                                                                    recorder):
    """On a running host the deploy adds the restart only when the package or the daemon
    options may change; each runs as it did before; a config change is the transaction.
    With and without pyinfra's change detection (-y: what operators run from CI)."""
    group_data = {"keepalived_package_version": "2.2.8",
                  "keepalived_daemon_options": ["--log-detail"]}
    settings = settings_of(make_state("rocky", group_data=group_data))
    options = render_host.options_file("KEEPALIVED_OPTIONS", ("--log-detail",))
    state_lines = host_state(files={
        DROPIN: DROPIN_CONTENT,
        "/etc/sysconfig/keepalived": "KEEPALIVED_OPTIONS=-D\n" if change == "options"
        else options})
    drifted = {f"{PATHS.config_dir}/00-global_defs.conf": "# old\n"}

    def probe(name):
        tree = tree_lines(render.config_files(settings[name]),
                          content_of=drifted if change == "config" else None)
        return running_probe("2.2.4-6.el9" if change == "package" else "2.2.8-1.el9", tree,
                             state=state_lines)

    state = make_state("rocky", probes={name: probe(name) for name in HOSTS},
                       group_data=group_data, yes=yes)
    for host in deploy(state):
        names = operation_names(state, host)
        assert [name for name in names if name in RESTART] == added
        assert len(names) == 7 + len(added)  # (the options file is one operation)
        commands = op_commands(host, recorder)
        assert (RESTART_STEPS[0] in readable(commands)) == (RESTART[0] in added)
        assert any(TRANSACTION in command for command in commands) == (change == "config")
        assert not any("systemctl reload" in command and TRANSACTION_FIRST_LINE not in command
                       for command in commands)


@pytest.mark.parametrize("distro, package", [("rocky", "2.2.8-1.el9"),
                                             ("debian", "1:2.2.7-1+b2")])
def test_up_to_date_host_gets_nothing_and_one_fact(distro, package, recorder):
    """Installed, running, enabled, config identical, user present: no change command,
    and the host was read with one fact, the probe (the point of pyinfra_keepalived.facts.probe). apt's
    lists are two days old: a host that has keepalived needs no refresh."""
    probes = up_to_date_probes(make_state(distro), package, apt_cache_age=TWO_DAYS)
    state = make_state(distro, probes=probes)
    for host in deploy(state):
        assert_one_probe(host, recorder)
        assert op_commands(host, recorder) == []
        assert sent(host, recorder) == []


@pytest.mark.parametrize("service, expected", [
    (("inactive", "enabled"), ["systemctl start keepalived.service"]),
    (("active", "disabled"), [ENABLE]),
    (("failed", "disabled"), START),
])
def test_installed_host_service_only_what_is_missing(service, expected, recorder):
    """Installed and configured, the service stopped or not enabled: just that is fixed,
    and a start is no restart."""
    probes = up_to_date_probes(make_state("rocky"), service=service)
    state = make_state("rocky", probes=probes)
    for host in deploy(state):
        assert op_commands(host, recorder) == expected


@pytest.mark.parametrize("pin, install", [
    ("2.2.9", [package(f"{DNF} keepalived-2.2.9", running=True), *RESTART_STEPS]),
    (None, CONFIG_OPS),
])
def test_running_but_disabled_host_still_restarts_or_reloads(pin, install, recorder):
    """keepalived runs but is not enabled (`enable` is sent): a package change still
    restarts it and a config change still reloads it (an `enable` is no start)."""
    group_data = {"keepalived_package_version": pin} if pin else {}
    settings = settings_of(make_state("rocky", group_data=group_data))
    drifted = f"{PATHS.config_dir}/00-global_defs.conf"
    probes = {name: running_probe("2.2.8-1.el9", tree_lines(
        render.config_files(settings[name]),
        content_of={} if pin else {drifted: "# old\n"}), service=("active", "disabled"))
        for name in HOSTS}
    state = make_state("rocky", probes=probes, group_data=group_data)
    for host in deploy(state):
        expected = [*install, ENABLE]
        if pin:  # the restart comes after the enable
            expected = [install[0], ENABLE, *install[1:]]
        assert readable(op_commands(host, recorder)) == expected


# -- 2. Debian family --

@pytest.mark.parametrize("distro", APT_DISTROS)
def test_debian_family_fresh_host(distro, recorder):
    state = make_state(distro)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands == [
            USERADD, package(APT_REFRESH + apt_install("keepalived")), *DROPIN_OPS,
            *FRESH_CONFIG_OPS, *START]
        assert sent(host, recorder) == [
            USERADD, package(APT_REFRESH + apt_install("keepalived")), *DROPIN_SENT,
            *FRESH_CONFIG_SENT, *START]
        assert not any("dnf install" in c or "yum" in c for c in commands)
        assert_one_probe(host, recorder)


def test_fresh_host_with_fresh_apt_lists_installs_without_update(recorder):
    """Lists updated five minutes ago: installed from them, no `apt-get update`."""
    state = make_state("debian", probes={name: {"apt_cache_age": 300} for name in HOSTS})
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            USERADD, package(apt_install("keepalived")), *DROPIN_OPS, *FRESH_CONFIG_OPS,
            *START]


def test_existing_script_user_is_left_alone(recorder):
    """The script user exists, not as the deploy would make it (an operator's account):
    no useradd, and nothing changes it."""
    own = "keepalived_script:x:1001:1001:ops:/home/keepalived_script:/bin/bash"
    state = make_state("rocky", probes={name: {"user": own} for name in HOSTS})
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            package(f"{DNF} keepalived"), *DROPIN_OPS, *FRESH_CONFIG_OPS, *START]


def test_package_version_pins(recorder):
    state = make_state("debian", group_data={"keepalived_package_version": "1:2.2.7-1+b2"})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert package(APT_REFRESH + apt_install("keepalived=1:2.2.7-1+b2")) in commands
        assert not any(apt_install("keepalived") + "'" in command for command in commands)

    inventory_check._checked.clear()
    state = make_state("rocky", group_data={"keepalived_package_version": "2.2.8"})
    for host in deploy(state):
        assert package(f"{DNF} keepalived-2.2.8") in op_commands(host, recorder)


@pytest.mark.parametrize("distro, install", [
    ("debian", package(APT_REFRESH + apt_install("'keepalived=1.0~rc1'"))),
    ("rocky", package(f"{DNF} 'keepalived-1.0~rc1'")),
])
def test_package_version_pin_is_quoted(distro, install, recorder):
    """A pin is data: the one shell character a version may hold (~) stays in one word
    (a version with ; and the like is refused: tests/test_bad_inputs.py)."""
    state = make_state(distro, group_data={"keepalived_package_version": "1.0~rc1"})
    for host in deploy(state):
        assert install in op_commands(host, recorder)


@pytest.mark.parametrize("distro, installed, pin, install", [
    ("debian", "1:2.2.7-1", "1:2.2.7-1+b2",
     package(APT_REFRESH + apt_install("keepalived=1:2.2.7-1+b2"), running=True)),
    ("rocky", "2.2.8-1.el9", "2.2.9", package(f"{DNF} keepalived-2.2.9", running=True)),
])
def test_pinned_version_that_differs_is_installed_and_restarts(distro, installed, pin, install,
                                                               recorder):
    """Up to date but for the pin (apt's lists two days old: refreshed, as something is
    to be installed): the pinned version goes in (the restart marker written first),
    keepalived restarts (rolling), nothing else."""
    group_data = {"keepalived_package_version": pin}
    probes = up_to_date_probes(make_state(distro, group_data=group_data), installed,
                               apt_cache_age=TWO_DAYS)
    state = make_state(distro, probes=probes, group_data=group_data)
    for host in deploy(state):
        assert readable(op_commands(host, recorder)) == [install, *RESTART_STEPS]


@pytest.mark.parametrize("distro, installed, pin", [
    ("debian", "1:2.2.7-1+b2", "1:2.2.7-1+b2"),
    ("rocky", "2.2.8-1.el9", "2.2.8"),  # dnf: VERSION matches VERSION-RELEASE
    ("rocky", "2.2.8-1.el9", "2.2.8-1.el9"),
])
def test_pinned_version_installed_gets_nothing(distro, installed, pin, recorder):
    group_data = {"keepalived_package_version": pin}
    probes = up_to_date_probes(make_state(distro, group_data=group_data), installed)
    state = make_state(distro, probes=probes, group_data=group_data)
    for host in deploy(state):
        assert op_commands(host, recorder) == []


# -- 3. unsupported distro --

def test_unsupported_distro_fails_before_any_change(recorder):
    state = make_state("arch")
    with pytest.raises(DeployError) as error:
        add(state)
    message = str(error.value)
    # hosts are visited in the order of pyinfra's active host set: either comes first
    assert message.startswith(("@fake/host-01: ", "@fake/host-02: "))
    assert "unsupported distro 'arch'" in message
    assert "Debian/Ubuntu (apt)" in message and "RHEL/Rocky/Alma/Fedora (dnf)" in message
    for host in state.inventory:
        # The probe was read (the distro is in it); nothing that changes a host was sent.
        assert op_commands(host, recorder) == []
        assert sent(host, recorder) == []


def test_one_unsupported_host_stops_the_whole_run(recorder):
    """host-01 is Debian, host-02 is Arch: the error comes while adding, so host-01 gets
    nothing either."""
    state = make_state("debian", probes={"@fake/host-02": {"distro": "arch"}})
    with pytest.raises(DeployError, match="@fake/host-02"):
        add(state)
    for host in state.inventory:
        assert sent(host, recorder) == []


# -- 4. --diff never shows auth_pass --

def test_diff_masks_auth_pass_on_create(caplog, recorder):
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    state = make_state("rocky", diff=True)
    deploy(state)
    text = caplog.text
    assert "Will create /etc/keepalived/conf.d/20-vrrp_instances.conf (mode 600)" in text
    assert "virtual_router_id 51" in text  # the diff itself is shown
    assert "auth_pass ********" in text
    assert SECRET not in text
    assert all(SECRET not in record.getMessage() for record in caplog.records)


INSTANCES_FILE = f"{PATHS.config_dir}/20-vrrp_instances.conf"
OLD_SECRET = "oldpw99"


def host_masked(path, content):
    """What MaskedFileContents prints for a file `path` holding `content`: its command,
    run by a real shell (sed) on a copy of the file. The fake host answers with this."""
    with tempfile.TemporaryDirectory() as directory:
        copy = os.path.join(directory, "file")
        with open(copy, "w") as f:
            f.write(content)
        command = facts.MaskedFileContents().command(path).replace(shlex.quote(path), copy)
        return subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                              check=True).stdout.splitlines()


def diff_state_with_old_instances(edit, group_data=None, verbose=False):
    """A --diff state of running hosts whose live 20-vrrp_instances.conf is `edit(new)`;
    `verbose`: facts' commands and output printed (pyinfra -vvv)."""
    settings = settings_of(make_state("rocky", group_data=group_data))
    probes, responses = {}, {}
    for name in HOSTS:
        files = render.config_files(settings[name])
        old = edit(files[INSTANCES_FILE].content)
        assert old != files[INSTANCES_FILE].content
        probes[name] = running_probe("2.2.8-1.el9",
                                     tree_lines(files, content_of={INSTANCES_FILE: old}))
        responses[name] = {facts.MaskedFileContents().command(INSTANCES_FILE):
                           host_masked(INSTANCES_FILE, old)}
    inventory_check._checked.clear()
    state = make_state("rocky", probes=probes, responses=responses, group_data=group_data,
                       diff=True)
    if verbose:
        state.print_fact_info = state.print_fact_input = state.print_fact_output = True
        state.print_input = state.print_output = True
    return state


def test_diff_masks_old_and_new_auth_pass_on_modify(caplog, recorder):
    """Only the password changed: both old and new values hidden, and said so."""
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    state = diff_state_with_old_instances(
        lambda new: new.replace(f"auth_pass {SECRET}", f"auth_pass {OLD_SECRET}"))
    for host in deploy(state):
        assert op_commands(host, recorder) == CONFIG_OPS
        # the old file is read masked on the host: sed, not cat (once as the operation is
        # prepared, once as it runs: pyinfra evaluates operations twice)
        assert set(fact_commands(host, recorder)[1:]) == {
            f"sed -E 's/([Aa][Uu][Tt][Hh]_[Pp][Aa][Ss][Ss]).*/\\1 ********/' {INSTANCES_FILE}"}
    text = caplog.text
    assert f"Will modify {INSTANCES_FILE}" in text
    assert "(only a hidden value changed: auth_pass)" in text
    assert SECRET not in text and OLD_SECRET not in text


def test_diff_shows_changed_lines_with_secret_masked(caplog, recorder):
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    state = diff_state_with_old_instances(
        lambda new: new.replace(f"auth_pass {SECRET}", f"auth_pass {OLD_SECRET}").replace(
            "virtual_router_id 51", "virtual_router_id 50"))
    deploy(state)
    messages = [re.sub(r"\x1b\[[0-9;]*m", "", record.getMessage()) for record in caplog.records]
    assert any(re.fullmatch(r"\s*-\s+virtual_router_id 50", m) for m in messages)
    assert any(re.fullmatch(r"\s*\+\s+virtual_router_id 51", m) for m in messages)
    assert "(only a hidden value changed" not in caplog.text
    assert SECRET not in caplog.text and OLD_SECRET not in caplog.text


def test_diff_masks_auth_pass_in_extra_lines(caplog, recorder):
    """An auth_pass in an instance's extra_lines (here inside a one-line block), old and
    new, is masked like the instance's own: shown masked in a new file, and a change of
    it alone is only said."""
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    vi_1 = GROUP_DATA["keepalived_vrrp_instances"][0]
    instance = {key: value for key, value in vi_1.items() if not key.startswith("auth_")}
    group_data = {"keepalived_vrrp_instances": [
        {**instance, "extra_lines": ["authentication { auth_type PASS auth_pass xtr4pw }"]}]}
    deploy(make_state("rocky", group_data=group_data, diff=True))
    messages = [re.sub(r"\x1b\[[0-9;]*m", "", record.getMessage()) for record in caplog.records]
    assert any(re.fullmatch(r"\s*\+\s+authentication \{ auth_type PASS auth_pass \*{8}", m)
               for m in messages), messages
    caplog.clear()
    inventory_check._checked.clear()
    state = diff_state_with_old_instances(
        lambda new: new.replace("auth_pass xtr4pw", "auth_pass 0ldxtr4"), group_data)
    deploy(state)
    assert "(only a hidden value changed: auth_pass)" in caplog.text
    assert "xtr4pw" not in caplog.text and "0ldxtr4" not in caplog.text


def test_verbose_diff_logs_no_secret_no_digest_and_no_salt(caplog, capsys, recorder):
    """pyinfra -vvv --diff: the fact commands and their output are printed. Neither the
    password, nor the instances file's plain sha256 (cheap to brute force for an
    8-character password), nor the run's salt (with which the salted digest would be)
    is in them; the probe is still the only fact of a host that changes nothing."""
    caplog.set_level(logging.DEBUG)
    state = diff_state_with_old_instances(
        lambda new: new.replace(f"auth_pass {SECRET}", f"auth_pass {OLD_SECRET}"),
        verbose=True)
    settings = settings_of(state)
    hosts = deploy(state)
    printed = caplog.text + "".join(capsys.readouterr())
    for host in hosts:
        files = render.config_files(settings[host.name])
        old = files[INSTANCES_FILE].content.replace(f"auth_pass {SECRET}",
                                                    f"auth_pass {OLD_SECRET}")
        for content in (old, files[INSTANCES_FILE].content):
            assert sha256(content) not in printed
        probe = fact_commands(host, recorder)[0]
        assert f"sha256sum {INSTANCES_FILE}" not in probe and "conf.d/* 2" not in probe.split(
            "sha256sum")[1].split(";")[0]
        assert "s='*MASKED*'" in probe
    assert "Loaded fact" in printed and "salted|" in printed  # the output was printed
    assert facts.RUN_SALT not in printed
    assert SECRET not in printed and OLD_SECRET not in printed


def test_changed_secret_file_is_found_by_its_salted_digest(recorder):
    """Change detection stays exact: a salted digest of other content is a change (the
    transaction runs), the right one is not (one probe, nothing else)."""
    state = make_state("rocky")
    probes = up_to_date_probes(state)
    inventory_check._checked.clear()
    for host in deploy(make_state("rocky", probes=probes)):
        assert_one_probe(host, recorder)
        assert op_commands(host, recorder) == []
    def other_secret(line):  # the salted digest of another content
        if not line.startswith("salted|"):
            return line
        return line.rsplit("|", 1)[0] + f"|{facts.digest('other', salted=True)}  -"

    stale = {name: {**probe, "tree": [other_secret(line) for line in probe["tree"]]}
             for name, probe in probes.items()}
    inventory_check._checked.clear()
    for host in deploy(make_state("rocky", probes=stale)):
        assert op_commands(host, recorder) == CONFIG_OPS


# -- 5. invalid data --

def test_invalid_data_stops_before_any_command(recorder):
    instance = {**GROUP_DATA["keepalived_vrrp_instances"][0], "virtual_router_id": 256}
    state = make_state("rocky", group_data={"keepalived_vrrp_instances": [instance]})
    with pytest.raises(KeepalivedDataError) as error:
        add(state)
    assert "virtual_router_id" in str(error.value) and "256" in str(error.value)
    assert not state.get_op_order()
    for host in state.inventory:
        assert host.connector.executed_commands == []  # not even a fact
        assert sent(host, recorder) == []


# -- regressions: bugs found by these tests, now fixed --

def test_fresh_host_without_config_dir(recorder):
    """The tree fact has no output: was None (TypeError in config_tree), now {}."""
    state = make_state("rocky", probes={name: {"tree": []} for name in HOSTS})
    for host in deploy(state):
        assert op_commands(host, recorder)[2 + len(DROPIN_OPS):][:2] == FRESH_CONFIG_OPS


def test_add_deploy_without_inventory_context(recorder):
    """keepalived() read the pyinfra.inventory context, which add_deploy does not set."""
    assert not ctx_inventory.isset()
    state = make_state("rocky")
    add_deploy(state, keepalived)
    run_ops(state)
    for host in state.inventory:
        assert any(TRANSACTION in command for command in op_commands(host, recorder))


@pytest.mark.parametrize("distro, install", [
    ("debian", [package(
        "apt-get update -o Acquire::Languages=none "
        "-o Acquire::CompressionTypes::Order::=gz "
        "-o Acquire::http::Proxy=http://apt-cache:3142 && "
        "touch /var/lib/apt/periodic/update-success-stamp && "
        'DEBIAN_FRONTEND=noninteractive apt-get -y --no-install-recommends '
        '-o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" '
        "install -o Acquire::http::Proxy=http://apt-cache:3142 keepalived")]),
    ("rocky", [package(f"{DNF} --setopt=proxy=http://apt-cache:3142 keepalived")]),
])
def test_package_proxy_is_used_for_these_downloads_only(distro, install, recorder):
    """A fleet's package cache: given on the command lines, nothing written to the host."""
    state = make_state(distro, group_data={"keepalived_package_proxy": "http://apt-cache:3142"})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert [c for c in commands if "apt-get" in c or "dnf" in c] == install
        assert not any("Proxy" in c and "apt.conf" in c for c in commands)


def test_each_operation_uploads_into_a_dir_of_its_own(recorder):
    """As sent (not as T): each upload dir is made by the mkdir before it, holds exactly
    its operation's files, and is the one the next command installs from and removes;
    the drop-in's and the config's are different dirs."""
    state = make_state("debian")
    host = deploy(state)[0]
    commands = [str(command) for command in host.connector.executed_commands]
    uploads_sent = recorder[2][host.connector]
    made = [command.split()[-1] for command in commands
            if command.startswith("mkdir -m 700 /var/tmp/keepalived-deploy.")]
    assert len(made) == 2 and made[0] != made[1]  # the drop-in, then the config
    assert [path.rsplit("/", 1)[0] for path in uploads_sent] == [made[0]] + [made[1]] * 5
    for directory in made:
        installing = commands[commands.index(f"mkdir -m 700 {directory}") + 1]
        assert installing.startswith((f"trap 'rm -rf {directory}' EXIT && install ",
                                      f"trap 'rm -rf {directory}' EXIT && sh -c "))
        assert f" {directory}/0 " in installing or f" {directory} " in installing


def test_every_locked_command_waits_keepalived_lock_wait(recorder):
    """The package install, the config transaction and (on a running host that owes a
    restart) the rolling restart all wait the operator's keepalived_lock_wait for the
    host's lock."""
    fresh = make_state("debian", group_data={"keepalived_lock_wait": 7})
    settings = settings_of(make_state("debian"))
    pending = host_state(files={DROPIN: DROPIN_CONTENT}) + file_read(
        "/var/lib/pyinfra-keepalived/restart-pending", ["since 2026-12-01 07:00:00 UTC: package"])
    owing = make_state("debian", group_data={"keepalived_lock_wait": 7}, probes={
        name: running_probe("1:2.2.7-1+b2", tree_lines(render.config_files(settings[name])),
                            state=pending)
        for name in HOSTS})
    for state in (fresh, owing):
        for host in deploy(state):
            locked = [command for command in op_commands(host, recorder)
                      if "/run/pyinfra-keepalived/holder" in command]
            assert locked, op_commands(host, recorder)
            for command in locked:
                assert "/run/pyinfra-keepalived/holder 7 " in command, command
    assert any("restart keepalived" in command for host in owing.inventory
               for command in op_commands(host, recorder))


# -- upload directories of broken-off runs --

STALE = ["/var/tmp/keepalived-deploy.0123456789ab", "/var/tmp/keepalived-deploy.fedcba987654"]


def test_no_op_run_removes_uploads_of_broken_off_runs_in_one_command(recorder):
    """The probe found upload directories of broken-off runs (they may hold the 600
    instances file): one command removes them; nothing else is sent, no other fact read."""
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1+b2", apt_cache_age=TWO_DAYS,
                               stale_uploads=STALE)
    state = make_state("debian", probes=probes)
    for host in deploy(state):
        assert_one_probe(host, recorder)
        assert sent(host, recorder) == [f"rm -rf {TEMP} {TEMP}"]  # (_named: T)


def test_probe_lines_that_are_not_exactly_upload_dirs_are_never_removed(recorder):
    odd = ["/var/tmp/keepalived-deploy.0123456789ab; rm -rf /", "/var/tmp/keepalived-deploy.x",
           "/var/tmp/keepalived-deploy.0123456789abc", "/etc", "/var/tmp/../etc"]
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1+b2", apt_cache_age=TWO_DAYS,
                               stale_uploads=odd + STALE[:1])
    state = make_state("debian", probes=probes)
    for host in deploy(state):
        assert sent(host, recorder) == [f"rm -rf {TEMP}"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown)")
def test_probe_finds_only_old_upload_dirs_of_the_login_user(tmp_path):
    """facts.uploads.stale_dirs_command in a real shell, in a stand-in for /var/tmp:
    only directories with exactly private_dir()'s name, owned by the login user and not
    changed for STALE_MINUTES (a concurrent run's are newer) are reported."""
    import subprocess
    import time

    from pyinfra_keepalived.facts import uploads

    old = time.time() - (uploads.STALE_MINUTES + 5) * 60
    made = {}
    for label, name, kind, owner, mtime in [
            ("stale", "keepalived-deploy.0123456789ab", "dir", "root", old),
            ("in use", "keepalived-deploy.00000000000a", "dir", "root", None),
            ("other user's", "keepalived-deploy.00000000000b", "dir", "nobody", old),
            ("short name", "keepalived-deploy.0123456789a", "dir", "root", old),
            ("file", "keepalived-deploy.00000000000c", "file", "root", old),
            ("link", "keepalived-deploy.00000000000d", "link", "root", old)]:
        path = tmp_path / name
        if kind == "dir":
            path.mkdir(mode=0o700)
        elif kind == "file":
            path.write_text("")
        else:
            path.symlink_to(tmp_path / "keepalived-deploy.0123456789ab")
        if kind != "link":
            shutil.chown(path, owner)
            if mtime:
                os.utime(path, (mtime, mtime))
        made[str(path)] = label
    command = uploads.stale_dirs_command(str(tmp_path))

    def found(env):
        output = subprocess.run(["sh", "-c", command], capture_output=True, text=True,
                                env={"PATH": os.environ["PATH"], **env}, check=False).stdout
        return [made[line] for line in output.splitlines()]

    assert found({}) == ["stale"]  # logged in as root, no sudo
    assert found({"SUDO_USER": "nobody"}) == ["other user's"]  # `sudo` by nobody


@pytest.mark.parametrize("setting, parent", [
    ({}, "/var/tmp"),  # the default: not pyinfra's /tmp (docker cp cannot write a tmpfs)
    ({"config": "/srv/tmp"}, "/srv/tmp"),  # pyinfra's TEMP_DIR
    ({"data": "/opt/tmp/"}, "/opt/tmp"),  # the _temp_dir argument, as host data
    ({"config": "/srv/tmp", "data": "/opt/tmp"}, "/opt/tmp"),  # the argument wins
])
def test_uploads_and_the_stale_upload_probe_follow_pyinfras_temp_dir(setting, parent,
                                                                       recorder):
    """Upload directories go in pyinfra's temp dir (_temp_dir, else TEMP_DIR), /var/tmp
    by default; the probe looks for broken-off runs' there, and only those are removed."""
    stale = f"{parent}/keepalived-deploy.0123456789ab"
    elsewhere = f"{parent}/x/keepalived-deploy.fedcba987654"
    data = {"_temp_dir": setting["data"]} if "data" in setting else {}
    state = make_state("debian", host_data={name: data for name in HOSTS}, probes={
        name: {"stale_uploads": [stale, elsewhere]} for name in HOSTS})
    state.config.TEMP_DIR = setting.get("config")
    for host in deploy(state):
        probe_command = fact_commands(host, recorder)[0]
        assert f"for d in {parent}/keepalived-deploy.[0-9a-f]" in probe_command
        commands = [str(command) for command in host.connector.executed_commands]
        made = [command.split()[-1] for command in commands
                if command.startswith("mkdir -m 700 ")]
        assert made and all(path.startswith(f"{parent}/keepalived-deploy.") for path in made)
        assert f"rm -rf {stale}" in commands  # (and not the one in another directory)
