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

import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile

import pytest
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.api.operations import run_ops
from pyinfra.context import ctx_inventory

from pyinfra_keepalived.deploys.install import keepalived
from pyinfra_keepalived.facts import keepalived as facts
from pyinfra_keepalived.host_paths import DROPIN
from pyinfra_keepalived.model.problems import KeepalivedDataError
from pyinfra_keepalived.operations import rolling
from pyinfra_keepalived.operations.uploads import sha256
from pyinfra_keepalived.render import config as render
from pyinfra_keepalived.render import host_level as render_host

from .fakehosts import (
    APT_DISTROS,
    APT_REFRESH,
    CONFIG_OPS,
    CONFIG_SENT,
    DNF,
    DNF_DISTROS,
    DROPIN_CONTENT,
    ENABLE,
    FRESH_CONFIG_OPS,
    FRESH_HOST_LEVEL_OPS,
    FRESH_HOST_LEVEL_SENT,
    GROUP_DATA,
    HOSTS,
    PATHS,
    RESTART_STEPS,
    SECRET,
    START,
    STARTED_CONFIG_OPS,
    STARTED_CONFIG_SENT,
    TEMP,
    TRANSACTION,
    TRANSACTION_FIRST_LINE,
    add,
    apt_install,
    assert_one_probe,
    cleanup,
    containing,
    deploy,
    fact_commands,
    file_read,
    host_state,
    make_state,
    op_commands,
    operation_names,
    package,
    readable,
    running_probe,
    sent,
    settings_of,
    tree_lines,
    up_to_date_probes,
)

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("recorder")]


# -- 1. RHEL family --

@pytest.mark.parametrize("distro", DNF_DISTROS)
def test_rhel_family_fresh_host(distro, recorder):
    """dnf, a system user without home, the config promoted before keepalived starts."""
    state = make_state(distro)
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            *FRESH_HOST_LEVEL_OPS,
            package(f"{DNF} keepalived", user=True),
            *STARTED_CONFIG_OPS,
        ]
        assert sent(host, recorder) == [
            *FRESH_HOST_LEVEL_SENT, package(f"{DNF} keepalived", user=True), *STARTED_CONFIG_SENT]
        assert not any("apt-get" in command for command in sent(host, recorder))
        assert_one_probe(host, recorder)
        assert state.get_results_for_host(host).error_ops == 0


def test_rhel_useradd_flags(recorder):
    state = make_state("rocky")
    host = deploy(state)[0]
    # (created in the package step's command, before the install)
    useradd = [shlex.split(c)[-3] for c in op_commands(host, recorder)
               if " 'install keepalived' " in c]
    assert len(useradd) == 1
    args = shlex.split(useradd[0].split(" && ")[0])
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
        config = containing(commands, TRANSACTION)
        assert commands.index(package(f"{DNF} keepalived", user=True)) < config
        # started in the same command, once the transaction made ours live
        assert commands[config].endswith(f"{TRANSACTION} && {START[0]}")
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


RESTART = (f"Keepalived | {rolling.LIVE_TEST}",
           "Keepalived | Restart keepalived where it holds no VIP (one host at a time)",
           "Keepalived | Hand over the VIPs, then restart keepalived on their holders "
           "(one host at a time)")


# The one operation each change adds before any restart
WORK = {None: [], "config": ["Validate and install the keepalived config"],
        "package": ["Install keepalived (dnf)"],
        "options": ["keepalived options (/etc/sysconfig/keepalived)"]}


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
        # only operations with work are added: none on a host with nothing to change
        # (operations.plan; each costs pyinfra time per host, on every run)
        assert names == [f"Keepalived | {name}" for name in WORK[change]] + added
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
    probes = up_to_date_probes(make_state(distro), package)
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
        # the restart comes after the enable; the config's command enables it itself
        expected = ([install[0], ENABLE, *install[1:]] if pin
                    else [install[0], f"{install[1]} && {ENABLE}"])
        assert readable(op_commands(host, recorder)) == expected


# -- 2. Debian family --

@pytest.mark.parametrize("distro", APT_DISTROS)
def test_debian_family_fresh_host(distro, recorder):
    state = make_state(distro)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands == [
            *FRESH_HOST_LEVEL_OPS, package(apt_install("keepalived"), user=True),
            *STARTED_CONFIG_OPS]
        assert sent(host, recorder) == [
            *FRESH_HOST_LEVEL_SENT, package(apt_install("keepalived"), user=True),
            *STARTED_CONFIG_SENT]
        assert not any("dnf install" in c or "yum" in c for c in commands)
        assert_one_probe(host, recorder)


def test_existing_script_user_is_left_alone(recorder):
    """The script user exists, not as the deploy would make it (an operator's account):
    no useradd, and nothing changes it."""
    own = "keepalived_script:x:1001:1001:ops:/home/keepalived_script:/bin/bash"
    state = make_state("rocky", probes={name: {"user": own} for name in HOSTS})
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            *FRESH_HOST_LEVEL_OPS, package(f"{DNF} keepalived"), *STARTED_CONFIG_OPS]


def test_package_version_pins(recorder):
    state = make_state("debian", group_data={"keepalived_package_version": "1:2.2.7-1+b2"})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert package(apt_install("keepalived=1:2.2.7-1+b2"), user=True) in commands
        assert not any(apt_install("keepalived") + "'" in command for command in commands)

    state = make_state("rocky", group_data={"keepalived_package_version": "2.2.8"})
    for host in deploy(state):
        assert package(f"{DNF} keepalived-2.2.8", user=True) in op_commands(host, recorder)


@pytest.mark.parametrize("distro, install", [
    ("debian", package(apt_install("'keepalived=1.0~rc1'"), user=True)),
    ("rocky", package(f"{DNF} 'keepalived-1.0~rc1'", user=True)),
])
def test_package_version_pin_is_quoted(distro, install, recorder):
    """A pin is data: the one shell character a version may hold (~) stays in one word
    (a version with ; and the like is refused: tests/test_bad_inputs.py)."""
    state = make_state(distro, group_data={"keepalived_package_version": "1.0~rc1"})
    for host in deploy(state):
        assert install in op_commands(host, recorder)


@pytest.mark.parametrize("distro, installed, pin, install", [
    ("debian", "1:2.2.7-1", "1:2.2.7-1+b2",
     package(apt_install("keepalived=1:2.2.7-1+b2"), running=True)),
    ("rocky", "2.2.8-1.el9", "2.2.9", package(f"{DNF} keepalived-2.2.9", running=True)),
])
def test_pinned_version_that_differs_is_installed_and_restarts(distro, installed, pin, install,
                                                               recorder):
    """Up to date but for the pin (apt's lists refreshed first where old, as something
    is to be installed): the pinned version goes in (the restart marker written first),
    keepalived restarts (rolling), nothing else."""
    group_data = {"keepalived_package_version": pin}
    probes = up_to_date_probes(make_state(distro, group_data=group_data), installed)
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
            "sed -E 's/([Aa][Uu][Tt][Hh]_[Pp][Aa][Ss][Ss]|(^|[{])[ \t!#]*(@[^ \t]+[ \t]+)?"
            f"[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]).*/\\1 ********/' {INSTANCES_FILE}"}
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
    for host in deploy(make_state("rocky", probes=probes)):
        assert_one_probe(host, recorder)
        assert op_commands(host, recorder) == []
    def other_secret(line):  # the salted digest of another content (of the instances file:
        # its agreement file, the other secret, unchanged: peers need not agree on this)
        if not line.startswith(f"salted|{PATHS.config_dir}/20-vrrp_instances.conf|"):
            return line
        return line.rsplit("|", 1)[0] + f"|{facts.digest('other', salted=True)}  -"

    stale = {name: {**probe, "tree": [other_secret(line) for line in probe["tree"]]}
             for name, probe in probes.items()}
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


@pytest.mark.parametrize("group_data, says", [
    # a template the data cannot render (no service_name for the unit check): the install
    # deploy renders every host's scripts before any command, as the model's check cannot
    ({"keepalived_check_scripts": [{key: value for key, value in
                                    GROUP_DATA["keepalived_check_scripts"][0].items()
                                    if key != "service_name"}]},
     "keepalived_check_scripts[0].template"),
    # pyinfra's temp dir as data reaches root's shell (uploads, their removal)
    ({"_temp_dir": "/var/tmp/x;id>/tmp/pwned;#"}, "_temp_dir"),
    ({"_temp_dir": "/var/tmp/a b"}, "_temp_dir"),
    ({"_temp_dir": "var/tmp"}, "_temp_dir"),
])
def test_data_the_deploy_cannot_use_stops_it_before_any_command(group_data, says, recorder):
    state = make_state("debian", group_data=group_data)
    with pytest.raises(KeepalivedDataError) as error:
        add(state)
    assert {problem.host for problem in error.value.errors} == set(HOSTS)
    assert f"{' and '.join(HOSTS)}: {says}" in str(error.value)  # (once, with both hosts)
    for host in state.inventory:
        assert host.connector.executed_commands == []  # not even a fact
        assert sent(host, recorder) == []


@pytest.mark.parametrize("temp_dir", ["/srv/x;reboot", "/srv/../etc", "relative"])
def test_a_temp_dir_config_that_could_reach_a_shell_fails_the_host(temp_dir, recorder):
    """pyinfra's TEMP_DIR (deploy code, config) is not host data: checked where it is
    used, it fails the host before its first upload, naming the value."""
    state = make_state("debian")
    state.config.TEMP_DIR = temp_dir
    with pytest.raises(DeployError, match=r"_temp_dir / TEMP_DIR = .*must be an absolute"):
        deploy(state)
    for host in state.inventory:
        assert not any(temp_dir in str(command) for command in sent(host, recorder))


# -- regressions: bugs found by these tests, now fixed --

def test_fresh_host_without_config_dir(recorder):
    """The tree fact has no output: was None (TypeError in config_tree), now {}."""
    state = make_state("rocky", probes={name: {"tree": []} for name in HOSTS})
    for host in deploy(state):
        assert op_commands(host, recorder)[1 + len(FRESH_HOST_LEVEL_OPS):][:2] == STARTED_CONFIG_OPS


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
        'NEEDRESTART_SUSPEND=1 DEBIAN_FRONTEND=noninteractive apt-get -y '
        '--no-install-recommends '
        '-o Dpkg::Options::="--force-confdef" -o Dpkg::Options::="--force-confold" '
        "install -o Acquire::http::Proxy=http://apt-cache:3142 keepalived", user=True,
        refresh=f"{APT_REFRESH} -o Acquire::http::Proxy=http://apt-cache:3142")]),
    ("rocky", [package(f"{DNF} --setopt=proxy=http://apt-cache:3142 keepalived",
                       user=True)]),
])
def test_package_proxy_is_used_for_these_downloads_only(distro, install, recorder):
    """A fleet's package cache: given on the command lines, nothing written to the host."""
    state = make_state(distro, group_data={"keepalived_package_proxy": "http://apt-cache:3142"})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert [c for c in commands if "apt-get" in c or "dnf" in c] == install
        assert not any("Proxy" in c and "apt.conf" in c for c in commands)


def test_diff_printed_once_per_host_with_yes(caplog, recorder):
    """-y (no change detection) and --diff on fresh hosts, where the config step also
    starts keepalived: whether it does is decided without running the step's generator
    a second time (that printed the diff, and read its facts, twice)."""
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    hosts = deploy(make_state("rocky", diff=True, yes=True))
    will = "Will create /etc/keepalived/conf.d/20-vrrp_instances.conf (mode 600)"
    assert sum(will in record.getMessage() for record in caplog.records) == len(hosts)


def test_each_operation_uploads_into_a_dir_of_its_own(recorder):
    """As sent (not as T): each upload dir is made by the mkdir before it, holds exactly
    its operation's files, and is the one the next command installs from and removes;
    the drop-in's, needrestart's snippet's and the config's are different dirs."""
    state = make_state("debian")
    host = deploy(state)[0]
    commands = [str(command) for command in host.connector.executed_commands]
    uploads_sent = recorder[2][host.connector]
    made = [command.split()[-1] for command in commands
            if command.startswith("mkdir -m 700 /var/tmp/keepalived-deploy.")]
    # the drop-in, needrestart's snippet, then the config
    assert len(made) == 3 and len(set(made)) == 3
    assert [path.rsplit("/", 1)[0] for path in uploads_sent] == [made[0], made[1]] + [made[2]] * 7
    for directory in made:
        installing = commands[commands.index(f"mkdir -m 700 {directory}") + 1]
        assert installing.startswith((f"{cleanup(directory)} && install ",
                                      f"{cleanup(directory)} && sh -c "))
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
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1+b2",
                               stale_uploads=STALE)
    state = make_state("debian", probes=probes)
    for host in deploy(state):
        assert_one_probe(host, recorder)
        assert sent(host, recorder) == [f"rm -rf {TEMP} {TEMP}"]  # (_named: T)


def test_probe_lines_that_are_not_exactly_upload_dirs_are_never_removed(recorder):
    odd = ["/var/tmp/keepalived-deploy.0123456789ab; rm -rf /", "/var/tmp/keepalived-deploy.x",
           "/var/tmp/keepalived-deploy.0123456789abc", "/etc", "/var/tmp/../etc"]
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1+b2",
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
