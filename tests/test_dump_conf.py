"""A host's own options file (keepalived_daemon_options unset: the deploy leaves it alone)
that makes keepalived dump its config (-d, --dump-conf) while the config holds a password:
the words keepalived gets from the file (model.host_level.option_words), whether getopt
reads -d in them (dumps_config), the lines the host-level fact brings (only those that set
the options), the host plan's refusal (host_level_work.dump_conf_refusal), its operation's
command, and a deploy on fake hosts: the refused host gets the refusal and nothing else,
its peers do not commit a change they must agree on without it."""

import shlex
import subprocess
from dataclasses import replace

import pytest

from pyinfra_keepalived.facts.host_level import KeepalivedHostLevel, state_arguments
from pyinfra_keepalived.facts.probe import HostProbe
from pyinfra_keepalived.host_paths import OPTIONS_FILES
from pyinfra_keepalived.model.host_level import dumps_config, option_words
from pyinfra_keepalived.operations import host_level, host_level_work, plan, state_files
from pyinfra_keepalived.render import config as render

from .fakehosts import (
    CONVERGED_STATE,
    SECRET,
    deploy,
    file_read,
    make_state,
    op_commands,
    operation_names,
    settings_of,
    up_to_date_probes,
)
from .hostdata import DROP, VI_1, assert_valid, host_01

pytestmark = pytest.mark.unit

DEBIAN, DEBIAN_VARIABLE = OPTIONS_FILES["apt"]
RHEL, RHEL_VARIABLE = OPTIONS_FILES["dnf"]


# -- the words of the options file, and whether getopt reads -d in them --

@pytest.mark.parametrize("lines, variable, words, dumps", [
    (['DAEMON_ARGS=""'], "DAEMON_ARGS", [], False),  # Debian's own
    (['KEEPALIVED_OPTIONS="-D"'], "KEEPALIVED_OPTIONS", ["-D"], False),  # RHEL's own
    (['DAEMON_ARGS="-d"'], "DAEMON_ARGS", ["-d"], True),
    (["DAEMON_ARGS=-d"], "DAEMON_ARGS", ["-d"], True),  # unquoted
    (["DAEMON_ARGS='-D --dump-conf'"], "DAEMON_ARGS", ["-D", "--dump-conf"], True),
    (['KEEPALIVED_OPTIONS="-D -d"'], "KEEPALIVED_OPTIONS", ["-D", "-d"], True),
    (['DAEMON_ARGS="-Dd"'], "DAEMON_ARGS", ["-Dd"], True),  # combined short flags
    (['DAEMON_ARGS="-dD"'], "DAEMON_ARGS", ["-dD"], True),
    (['DAEMON_ARGS="-dSl"'], "DAEMON_ARGS", ["-dSl"], True),  # -d before -S's argument
    (['DAEMON_ARGS="-lDGd"'], "DAEMON_ARGS", ["-lDGd"], True),
    (['DAEMON_ARGS="-Sd"'], "DAEMON_ARGS", ["-Sd"], False),  # -S's argument "d"
    (['DAEMON_ARGS="-S d -l"'], "DAEMON_ARGS", ["-S", "d", "-l"], False),
    (['DAEMON_ARGS="-f/etc/keepalived/d.conf"'], "DAEMON_ARGS",
     ["-f/etc/keepalived/d.conf"], False),  # -f with its argument in the word
    (['DAEMON_ARGS="-p -d"'], "DAEMON_ARGS", ["-p", "-d"], False),  # -p takes the next word
    (['DAEMON_ARGS="-p dpid -D"'], "DAEMON_ARGS", ["-p", "dpid", "-D"], False),
    (['DAEMON_ARGS="-Mdump"'], "DAEMON_ARGS", ["-Mdump"], False),  # -M's optional argument
    (['DAEMON_ARGS="-M -d"'], "DAEMON_ARGS", ["-M", "-d"], True),  # (optional: not the next)
    (['DAEMON_ARGS="--pid -d"'], "DAEMON_ARGS", ["--pid", "-d"], False),
    (['DAEMON_ARGS="--pid=/run/k.pid -d"'], "DAEMON_ARGS", ["--pid=/run/k.pid", "-d"], True),
    (['DAEMON_ARGS="--dump"'], "DAEMON_ARGS", ["--dump"], True),  # getopt's abbreviation
    (['DAEMON_ARGS="--d"'], "DAEMON_ARGS", ["--d"], False),  # ambiguous (--dont-fork, ...)
    (['DAEMON_ARGS="--dump-conf=yes"'], "DAEMON_ARGS", ["--dump-conf=yes"], True),
    (['DAEMON_ARGS="-- -d"'], "DAEMON_ARGS", ["--", "-d"], False),  # after the options
    (['DAEMON_ARGS="x -d"'], "DAEMON_ARGS", ["x", "-d"], True),  # getopt permutes
    (['#DAEMON_ARGS="-d"', 'DAEMON_ARGS="-D"'], "DAEMON_ARGS", ["-D"], False),  # comment
    (['  # DAEMON_ARGS="-d"'], "DAEMON_ARGS", [], False),
    (['DAEMON_ARGS="-d"', 'DAEMON_ARGS="-D"'], "DAEMON_ARGS", ["-D"], False),  # the last wins
    (['DAEMON_ARGS="-D"', ' DAEMON_ARGS = "-d"'], "DAEMON_ARGS", ["-d"], True),
    (['export DAEMON_ARGS="-d"'], "DAEMON_ARGS", ["-d"], True),
    (['KEEPALIVED_OPTIONS="-d"'], "DAEMON_ARGS", [], False),  # the other distro's variable
    (['DAEMON_ARGS="-d"'], "KEEPALIVED_OPTIONS", [], False),
    (['OLD_DAEMON_ARGS="-d"'], "DAEMON_ARGS", [], False),
    (['DAEMON_ARGS="-D -d'], "DAEMON_ARGS", ["-D", "-d"], True),  # a quote left open
    (['DAEMON_ARGS="-D" # -d'], "DAEMON_ARGS", ["-D", "#", "-d"], True),  # (no comment there)
    (['DAEMON_ARGS="$(reboot) -d"'], "DAEMON_ARGS", ["$(reboot)", "-d"], True),  # never run
])
def test_option_words_and_dumps_config(lines, variable, words, dumps):
    assert option_words(lines, variable) == words
    assert dumps_config(words) == dumps


# -- the host-level fact: only the lines that set the options --

def test_the_fact_reads_only_the_lines_that_set_the_options(tmp_path):
    options = tmp_path / "keepalived"
    options.write_text('# DAEMON_ARGS="-d"\nPASSWORD=x\n DAEMON_ARGS="-D -d"\n'
                       'KEEPALIVED_OPTIONS=-D\nOLD_DAEMON_ARGS=-d\n')
    arguments = {**state_arguments((), [str(options), str(tmp_path / "missing")]),
                 "read": [], "sysctls": [], "lo": False, "files": []}
    command = KeepalivedHostLevel().command(**arguments, unit=False)
    output = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    state = KeepalivedHostLevel().process(output.stdout.splitlines())
    assert state.lines == {str(options): [' DAEMON_ARGS="-D -d"', "KEEPALIVED_OPTIONS=-D"]}



def test_the_fact_sends_options_lines_of_any_bytes_as_text(tmp_path):
    """An options line with bytes that are not UTF-8 (a Latin-1 comment) would stop the
    probe on the controller (pyinfra decodes each line as UTF-8): they arrive as `?`;
    a tab stays (and a CR), so the words are read as the unit reads them."""
    options = tmp_path / "keepalived"
    options.write_bytes(b'DAEMON_ARGS="-D\t-d" # caf\xe9\n')
    arguments = {**state_arguments((), [str(options)]),
                 "read": [], "sysctls": [], "lo": False, "files": []}
    command = KeepalivedHostLevel().command(**arguments, unit=False)
    output = subprocess.run(["sh", "-c", command], capture_output=True, check=True).stdout
    state = KeepalivedHostLevel().process(output.decode("utf-8").splitlines())
    assert state.lines == {str(options): ['DAEMON_ARGS="-D\t-d" # caf?']}
    assert dumps_config(option_words(state.lines[str(options)], "DAEMON_ARGS"))


# -- the host plan's refusal --

SETTINGS = assert_valid(host_01())
NO_PASSWORD = assert_valid(host_01(auth_type=DROP, auth_pass=DROP))
MANAGED = assert_valid({**host_01(), "keepalived_daemon_options": ["--log-detail"]})


def state_with(path, *lines):
    return replace(KeepalivedHostLevel().process([]), lines={path: list(lines)})


@pytest.mark.parametrize("settings, host_state, manager, refused", [
    (SETTINGS, state_with(DEBIAN, 'DAEMON_ARGS="-D -d"'), "apt", True),
    (SETTINGS, state_with(RHEL, 'KEEPALIVED_OPTIONS="-dD"'), "dnf", True),
    (SETTINGS, state_with(DEBIAN, 'DAEMON_ARGS="-D"'), "apt", False),
    (SETTINGS, state_with(DEBIAN, 'KEEPALIVED_OPTIONS="-d"'), "apt", False),  # not read there
    (SETTINGS, state_with(RHEL, 'DAEMON_ARGS="-d"'), "dnf", False),
    (SETTINGS, state_with(DEBIAN, 'DAEMON_ARGS="-d"'), "dnf", False),  # another distro's file
    (SETTINGS, state_with(DEBIAN), "apt", False),  # no options file (no keepalived yet)
    (NO_PASSWORD, state_with(DEBIAN, 'DAEMON_ARGS="-d"'), "apt", False),  # nothing to leak
    (MANAGED, state_with(DEBIAN, 'DAEMON_ARGS="-d"'), "apt", False),  # the deploy writes it
    (SETTINGS, state_with(DEBIAN, 'DAEMON_ARGS="-d"'), None, False),  # no keepalived here
])
def test_dump_conf_refusal(settings, host_state, manager, refused):
    why = host_level_work.dump_conf_refusal(settings, host_state, manager)
    assert (why is not None) == refused
    if refused:
        path, variable = OPTIONS_FILES[manager]
        assert why.startswith(f"host-01: {path} sets -d/--dump-conf in {variable} ")
        assert "(VI_1's auth_pass)" in why and "Nothing was changed on this host" in why
        assert why.endswith(f"Remove -d/--dump-conf from {variable} in {path}, or set "
                            "keepalived_daemon_options (e.g. ['--log-detail']: the deploy "
                            "then writes that file)")
        assert SECRET not in why


def test_the_host_plan_holds_the_refusal():
    files = render.config_files(SETTINGS)
    probe = HostProbe(host_state=state_with(DEBIAN, 'DAEMON_ARGS="-dl"'))
    assert plan.plan_host(SETTINGS, files, probe, "apt").dump_conf_refusal == \
        host_level_work.dump_conf_refusal(SETTINGS, probe.host_state, "apt")
    assert plan.plan_host(SETTINGS, files, HostProbe(), "apt").dump_conf_refusal is None


# -- the refusing operation's command --

@pytest.mark.parametrize("refusal, expected", [
    (None, []),
    ("host-01: dumps", [["sh", "-c", state_files.REFUSE_SCRIPT, "-", "host-01: dumps"]]),
])
def test_own_options_safe_commands(op_context, refusal, expected):
    assert [shlex.split(command.get_raw_value()) for command in
            host_level.own_options_safe._inner(refusal=refusal)] == expected


# -- a deploy on fake hosts --

TWO_VIPS = {"keepalived_vrrp_instances": [{
    **VI_1, "virtual_ipaddresses": ["192.168.1.100/24", "192.168.1.101/24"]}]}
REFUSED = "@fake/host-02"


def test_a_host_whose_own_options_dump_the_config_gets_the_refusal_and_nothing_else(
        recorder):
    """Two running hosts, the data changes their VIP list (a change they must agree on);
    host-02's /etc/default/keepalived has -d: it gets the refusal alone, and host-01 does
    not commit the change alone (it discards what it prepared)."""
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1")
    probes[REFUSED]["state"] = CONVERGED_STATE + file_read(DEBIAN, ['DAEMON_ARGS="-lDd"'])
    state = make_state("debian", probes=probes, group_data=TWO_VIPS)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert not [command for command in commands if " commit /etc/keepalived " in command]
        if host.name == REFUSED:
            assert len(commands) == 1, commands
            words = shlex.split(commands[0])
            assert words[:3] == ["sh", "-c", state_files.REFUSE_SCRIPT]
            assert words[4] == host_level_work.dump_conf_refusal(
                settings_of(state)[REFUSED], KeepalivedHostLevel().process(
                    file_read(DEBIAN, ['DAEMON_ARGS="-lDd"'])), "apt")
            assert ("Keepalived | Check that keepalived's own options do not dump the config "
                    "(password)") in operation_names(state, host)
        else:
            assert " discard /etc/keepalived " in commands[-1], commands
            assert f"{REFUSED} (a peer of VI_1)" in commands[-1]
        assert all(SECRET not in command for command in commands)
