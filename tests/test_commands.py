"""What the deploy sends to hosts, command by command, via pyinfra's ``@fake`` connector.

No RPM mirror is reachable here, so RHEL-family hosts can only be tested this way: the
deploy is added and executed through the pyinfra API (Inventory, State, connect_all,
add_deploy, run_ops) against ``@fake/...`` hosts, and the commands the fake connector
records (``host.connector.executed_commands``) are compared with what must be sent.

The fake connector answers every command with empty output unless the host's
``fake_responses`` data says otherwise, so the facts a real host would answer are scripted
here: /etc/os-release (LinuxDistribution), ``uname -s`` (Os), ``command -v useradd`` and,
where a test needs it, installed packages, service state and the current config tree.

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
import shlex
import sys
from collections import defaultdict

import pytest
from pyinfra.api import Config, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.api.operations import run_ops
from pyinfra.connectors.fake import FakeConnector
from pyinfra.context import ctx_host, ctx_inventory, ctx_state
from pyinfra.facts.server import LinuxDistribution, Os

from operations import inventory_check, render, render_host
from operations.facts import KeepalivedTree
from operations.host_level import DROPIN
from operations.keepalived import keepalived
from operations.problems import KeepalivedDataError
from operations.settings import HostLevel, Paths
from operations.uploads import sha256

pytestmark = pytest.mark.unit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUP_DATA = {key: value for key, value in
              runpy.run_path(os.path.join(ROOT, "group_data", "jump_hosts.py")).items()
              if key.startswith("keepalived_")}
PROMOTE_SCRIPT = open(os.path.join(ROOT, "operations", "promote.sh")).read()
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
TREE_FACT = KeepalivedTree().command(
    config_file=PATHS.config_file, dirs=[PATHS.base_dir, PATHS.scripts_dir, PATHS.config_dir])
# What a host without /etc/keepalived (any fresh host: facts are read before the package
# is installed) answers the tree fact: nothing at all.
ABSENT_TREE = []
STAGE = f"{PATHS.base_dir}/.staging"
STAGED = [f"{STAGE}/keepalived.conf", f"{STAGE}/conf.d/00-global_defs.conf",
          f"{STAGE}/conf.d/10-vrrp_scripts.conf", f"{STAGE}/conf.d/20-vrrp_instances.conf",
          f"{STAGE}/scripts/check_ssh.sh"]
MODES = ["644", "644", "644", "600", "755"]

USERADD = ("useradd -d /nonexistent -s /usr/sbin/nologin -r "
           "-c 'Keepalived health check script user' -M keepalived_script")
MAKE_DIRS = "install -d -o root -g root -m 755 /etc/keepalived /etc/keepalived/scripts " \
            "/etc/keepalived/conf.d"
MAKE_STAGE = (f"rm -rf {STAGE} && mkdir -m 700 {STAGE} {STAGE}/scripts {STAGE}/conf.d")
SET_MODES = " ".join(["chown root:root", *STAGED]) + "".join(
    f" && chmod {mode} {path}" for mode, path in zip(MODES, STAGED))
PROMOTE = (f"sh -c {shlex.quote(PROMOTE_SCRIPT)} promote {STAGE} {PATHS.base_dir} "
           "keepalived.conf scripts conf.d")
UPLOADS = [f"upload {path}" for path in STAGED]
CONFIG_COMMANDS = [MAKE_STAGE, *UPLOADS, SET_MODES, PROMOTE]
# The keepalived.service drop-in, written on a host that does not have it yet.
HOST_STATE_FACT = ": keepalived-host-state"
DROPIN_CONTENT = render_host.service_dropin(HostLevel())
DROPIN_OPS = [f"mkdir -p {os.path.dirname(DROPIN)}",
              f"chown root:root {DROPIN} && chmod 644 {DROPIN}", "systemctl daemon-reload"]
DROPIN_SENT = [DROPIN_OPS[0], f"upload {DROPIN}", *DROPIN_OPS[1:]]
APT_UPDATE = ["apt-get update", "touch /var/lib/apt/periodic/update-success-stamp"]
START = ["systemctl start keepalived.service", "systemctl enable keepalived.service"]


def apt_install(package):
    return ('DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Options::="--force-confdef" '
            f'-o Dpkg::Options::="--force-confold" install {package}')


def release_response(distro):
    """LinuxDistribution's output: each /etc/*-release file, its content, then ---."""
    return ["/etc/os-release", *OS_RELEASE[distro].splitlines(), "---"]


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
    """Per host: is_fact flags parallel to executed_commands, and the ordered stream of
    operation commands and uploads."""
    # check_inventory caches by id(inventory); a new Inventory may reuse a freed id.
    monkeypatch.setattr(inventory_check, "_checked", {})
    # pyinfra's ctx_*.use() does not restore the previous value when the body raises:
    # start each test with no context and put back what was there.
    contexts = [(ctx, ctx.get()) for ctx in (ctx_state, ctx_inventory, ctx_host)]
    for ctx, _ in contexts:
        ctx.reset()
    kinds = defaultdict(list)  # keyed by connector: two tests states may share host names
    stream = defaultdict(list)
    run_shell_command, put_file = FakeConnector.run_shell_command, FakeConnector.put_file

    def recording_run(self, command, *args, **kwargs):
        is_fact = _in_fact()
        result = run_shell_command(self, command, *args, **kwargs)
        kinds[self].append(is_fact)
        if not is_fact:
            stream[self].append(self.executed_commands[-1])
        return result

    def recording_put(self, filename_or_io, remote_filename, *args, **kwargs):
        stream[self].append(f"upload {remote_filename}")
        return put_file(self, filename_or_io, remote_filename, *args, **kwargs)

    monkeypatch.setattr(FakeConnector, "run_shell_command", recording_run)
    monkeypatch.setattr(FakeConnector, "put_file", recording_put)
    yield kinds, stream
    for ctx, module in contexts:
        ctx.set(module)


def op_commands(host, recorder):
    """The operation commands of executed_commands, in order (fact probes left out)."""
    kinds, _ = recorder
    assert len(kinds[host.connector]) == len(host.connector.executed_commands)
    return [command for command, is_fact in zip(host.connector.executed_commands,
                                                kinds[host.connector]) if not is_fact]


def sent(host, recorder):
    """Operation commands and uploads, in the order they were sent."""
    return recorder[1][host.connector]


# -- building fake hosts --

def make_state(distro, responses=None, host_data=None, group_data=None, diff=False):
    """Connected State for the two jump hosts on `distro`.

    responses: {host name: {matcher: response}} tried before the defaults;
    host_data / group_data: merged over the example data."""
    names = list(HOSTS)
    hosts = []
    for name in names:
        defaults = {
            LinuxDistribution().command(): release_response(distro),
            Os().command(): "Linux",
            "command -v useradd": "/usr/sbin/useradd",
            TREE_FACT: ABSENT_TREE,
        }
        given = (responses or {}).get(name, {})
        # First match wins, in insertion order: the test's own responses go first.
        fake_responses = {**given, **{k: v for k, v in defaults.items() if k not in given}}
        hosts.append((name, {**HOSTS[name], **(host_data or {}).get(name, {}),
                             "fake_responses": fake_responses,
                             "fake_delay": 0, "fake_delay_jitter": 0}))
    inventory = Inventory((hosts, {}),
                          jump_hosts=(names, {**GROUP_DATA, **(group_data or {})}))
    state = State(inventory, Config(DIFF=diff))
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
    for file in files.values():
        content = (content_of or {}).get(file.path, file.content)
        lines.append(f"regular file|{(mode_of or {}).get(file.path, file.mode)}|root|root|"
                     f"{file.path}")
        lines.append(f"{hashlib.sha256(content.encode()).hexdigest()}  {file.path}")
    return lines


def running_host(rpm=None, dpkg=None):
    """Responses of a host where keepalived is installed, enabled and running."""
    responses = {
        "--property SubState keepalived.service": ["Id=keepalived.service", "SubState=running"],
        "--property UnitFileState keepalived.service": ["Id=keepalived.service",
                                                        "UnitFileState=enabled"],
        # Users fact: the script user exists as the deploy creates it
        "cut -d: -f1": ["keepalived_script:x:990:990:Keepalived health check script user:"
                        "/nonexistent:/usr/sbin/nologin|keepalived_script|keepalived_script||!"],
        # host-level fact: the drop-in is in place, no firewall
        HOST_STATE_FACT: ["firewall none ok", f"{sha256(DROPIN_CONTENT)}  {DROPIN}",
                          "unit enabled"],
    }
    if rpm:
        responses["rpm --queryformat"] = [rpm]
    if dpkg:
        responses["dpkg -l"] = [dpkg]
    return responses


# -- 1. RHEL family --

@pytest.mark.parametrize("distro", DNF_DISTROS)
def test_rhel_family_fresh_host(distro, recorder):
    """dnf, a system user without home, the config promoted before keepalived starts."""
    state = make_state(distro)
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            USERADD,
            "dnf install -y keepalived",
            *DROPIN_OPS,
            MAKE_DIRS, MAKE_STAGE, SET_MODES, PROMOTE,
            *START,
        ]
        assert sent(host, recorder) == [
            USERADD, "dnf install -y keepalived", *DROPIN_SENT, MAKE_DIRS, *CONFIG_COMMANDS,
            *START]
        assert not any("apt" in command for command in host.connector.executed_commands)
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
        assert commands.index("dnf install -y keepalived") < commands.index(PROMOTE) \
            < commands.index("systemctl start keepalived.service")
        assert not any(("restart" in c or "reload" in c) and "keepalived" in c
                       for c in commands)


def test_rhel_upgrade_on_running_host_restarts_not_reloads(recorder):
    """Package changed, service already running: restart (the config changes with it,
    but a restart loads it: no extra reload)."""
    responses = {name: running_host(rpm="keepalived 2.2.4-6.el9") for name in HOSTS}
    state = make_state("rocky", responses=responses,
                       group_data={"keepalived_package_version": "2.2.8"})
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            "dnf install -y keepalived-2.2.8", MAKE_DIRS, MAKE_STAGE, SET_MODES,
            PROMOTE, "systemctl restart keepalived.service"]


def test_rhel_config_drift_on_running_host_reloads_only(recorder):
    """Package present, service running, one config file differs: reload, no restart."""
    state = make_state("rocky")
    settings = settings_of(state)
    responses = {}
    for name in HOSTS:
        files = render.config_files(settings[name])
        drifted = f"{PATHS.config_dir}/00-global_defs.conf"
        responses[name] = {**running_host(rpm="keepalived 2.2.8-1.el9"),
                           TREE_FACT: tree_lines(files, content_of={drifted: "# old\n"})}
    state = make_state("rocky", responses=responses)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands == [MAKE_STAGE, SET_MODES, PROMOTE,
                            "systemctl reload keepalived.service"]
        assert sent(host, recorder) == [*CONFIG_COMMANDS, "systemctl reload keepalived.service"]


def test_rhel_up_to_date_host_gets_nothing(recorder):
    """Installed, running, enabled, config identical, user present: no change command."""
    state = make_state("rocky")
    settings = settings_of(state)
    responses = {name: {**running_host(rpm="keepalived 2.2.8-1.el9"),
                        TREE_FACT: tree_lines(render.config_files(settings[name]))}
                 for name in HOSTS}
    state = make_state("rocky", responses=responses)
    for host in deploy(state):
        assert host.connector.executed_commands  # facts were read
        assert op_commands(host, recorder) == []
        assert sent(host, recorder) == []


# -- 2. Debian family --

@pytest.mark.parametrize("distro", APT_DISTROS)
def test_debian_family_fresh_host(distro, recorder):
    state = make_state(distro)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands == [
            USERADD, *APT_UPDATE, apt_install("keepalived"), *DROPIN_OPS, MAKE_DIRS,
            MAKE_STAGE, SET_MODES, PROMOTE, *START]
        assert sent(host, recorder) == [
            USERADD, *APT_UPDATE, apt_install("keepalived"), *DROPIN_SENT, MAKE_DIRS,
            *CONFIG_COMMANDS, *START]
        assert not any("dnf" in c or "yum" in c for c in commands)


def test_package_version_pins(recorder):
    state = make_state("debian", group_data={"keepalived_package_version": "1:2.2.7-1+b2"})
    for host in deploy(state):
        assert apt_install("keepalived=1:2.2.7-1+b2") in op_commands(host, recorder)
        assert apt_install("keepalived") not in op_commands(host, recorder)

    inventory_check._checked.clear()
    state = make_state("rocky", group_data={"keepalived_package_version": "2.2.8"})
    for host in deploy(state):
        assert "dnf install -y keepalived-2.2.8" in op_commands(host, recorder)


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
        # Facts were read (the distro is one); nothing that changes a host was sent.
        assert op_commands(host, recorder) == []
        assert sent(host, recorder) == []


def test_one_unsupported_host_stops_the_whole_run(recorder):
    """host-01 is Debian, host-02 is Arch: the error comes while adding, so host-01 gets
    nothing either."""
    state = make_state("debian", responses={
        "@fake/host-02": {LinuxDistribution().command(): release_response("arch")}})
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


def diff_state_with_old_instances(edit):
    """A --diff state of running hosts whose live 20-vrrp_instances.conf is `edit(new)`."""
    settings = settings_of(make_state("rocky"))
    responses = {}
    for name in HOSTS:
        files = render.config_files(settings[name])
        old = edit(files[INSTANCES_FILE].content)
        assert old != files[INSTANCES_FILE].content
        responses[name] = {
            **running_host(rpm="keepalived 2.2.8-1.el9"),
            TREE_FACT: tree_lines(files, content_of={INSTANCES_FILE: old}),
            f"cat {INSTANCES_FILE}": old.splitlines(),
        }
    inventory_check._checked.clear()
    return make_state("rocky", responses=responses, diff=True)


def test_diff_masks_old_and_new_auth_pass_on_modify(caplog, recorder):
    """Only the password changed: both old and new values hidden, and said so."""
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    state = diff_state_with_old_instances(
        lambda new: new.replace(f"auth_pass {SECRET}", "auth_pass oldpw99"))
    for host in deploy(state):
        assert op_commands(host, recorder) == [MAKE_STAGE, SET_MODES, PROMOTE,
                                               "systemctl reload keepalived.service"]
    text = caplog.text
    assert f"Will modify {INSTANCES_FILE}" in text
    assert "(only a hidden value changed: auth_pass)" in text
    assert SECRET not in text and "oldpw99" not in text


def test_diff_shows_changed_lines_with_secret_masked(caplog, recorder):
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    state = diff_state_with_old_instances(
        lambda new: new.replace(f"auth_pass {SECRET}", "auth_pass oldpw99").replace(
            "virtual_router_id 51", "virtual_router_id 50"))
    deploy(state)
    messages = [re.sub(r"\x1b\[[0-9;]*m", "", record.getMessage()) for record in caplog.records]
    assert any(re.fullmatch(r"\s*-\s+virtual_router_id 50", m) for m in messages)
    assert any(re.fullmatch(r"\s*\+\s+virtual_router_id 51", m) for m in messages)
    assert "(only a hidden value changed" not in caplog.text
    assert SECRET not in caplog.text and "oldpw99" not in caplog.text


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
    state = make_state("rocky", responses={name: {TREE_FACT: []} for name in HOSTS})
    for host in deploy(state):
        assert op_commands(host, recorder)[2 + len(DROPIN_OPS):][:2] == [MAKE_DIRS, MAKE_STAGE]


def test_add_deploy_without_inventory_context(recorder):
    """keepalived() read the pyinfra.inventory context, which add_deploy does not set."""
    assert not ctx_inventory.isset()
    state = make_state("rocky")
    add_deploy(state, keepalived)
    run_ops(state)
    for host in state.inventory:
        assert PROMOTE in op_commands(host, recorder)
