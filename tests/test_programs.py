"""The programs of check and notify commands, on the host (facts.programs): what keeps
keepalived from running one (table cases: the probe's findings and the user in, the
problem out), and the deploy's refusal of a host whose program cannot run, before any
host is changed."""

import subprocess

import pytest
from pyinfra.api.exceptions import DeployError

from pyinfra_keepalived.facts import host_level
from pyinfra_keepalived.facts.probe import KeepalivedProbe
from pyinfra_keepalived.facts.programs import (
    ProgramFound,
    parse_section,
    probe_section,
    program_problem,
    usable_programs,
)

from .hostdata import DROP, assert_valid, host_01, script

pytestmark = pytest.mark.unit

SECURITY = ("keepalived's enable_script_security would drop the script: it runs nothing "
            "that anyone but root can change")
ROOT_DIRS = {"/usr/bin": ("755", "0", "0", "directory"), "/usr": ("755", "0", "0", "directory"),
             "/": ("755", "0", "0", "directory")}


def found(mode="755", uid="0", gid="0", kind="regular file", path="/usr/bin/pgrep",
          real=None, **dirs):
    """The probe's finding of a program at `path` (-> `real`), its directories root's 755
    unless `dirs` ({"usr_bin": (mode, uid, gid, kind)}) say otherwise."""
    real = real or path
    parts = {**ROOT_DIRS, **{"/" + name.replace("_", "/"): value for name, value in dirs.items()},
             real: (mode, uid, gid, kind)}
    return ProgramFound(path=path, real=real, parts=parts)


@pytest.mark.parametrize("finding, user, problem", [
    (found(), "keepalived_script", None),
    (found(mode="700"), "root", None),
    (found(path="/usr/bin/sh", real="/usr/bin/dash"), "keepalived_script", None),
    (found(path="/tmp/t", real="/tmp/t", tmp=("1777", "0", "0", "directory")), "root",
     None),  # a sticky directory passes
    (None, "root", "was not checked on the host (the probe's answer lacks it)"),
    (ProgramFound(), "root", "is not found on the host's PATH (/usr/local/sbin:"
     "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin): install it, or give its absolute path"),
    (ProgramFound(path="/no/such", real="/no/such", parts={"/": ROOT_DIRS["/"]}), "root",
     "does not exist on the host"),
    (found(kind="directory"), "root", "is a directory, not a program file"),
    (found(mode="644"), "root", "is not executable by root (mode 644)"),
    (found(mode="750"), "keepalived_script",
     "is not executable by keepalived_script (mode 750)"),
    (found(usr_bin=("750", "0", "0", "directory")), "keepalived_script",
     "is in /usr/bin, which keepalived_script may not search (mode 750)"),
    (found(uid="1000"), "root", f"is owned by uid 1000, not root; {SECURITY}"),
    (found(mode="757"), "root", f"is writable by others (mode 757); {SECURITY}"),
    (found(mode="775", gid="50"), "root", "is writable by group 50 (mode 775); "
     f"{SECURITY}"),
    (found(mode="775"), "root", None),  # root's group may write
    (found(path="/usr/bin/sh", real="/usr/bin/dash", usr=("777", "0", "0", "directory")),
     "keepalived_script", "(/usr/bin/sh, a link to /usr/bin/dash) is in /usr, which is "
     f"writable by others (mode 777); {SECURITY}"),
    (found(path="/opt/x/run", opt_x=("755", "0", "0", "directory")), "root",
     "could not be checked: /opt was not read on the host"),
], ids=["ok", "root-700", "link", "sticky-dir", "not-probed", "not-found", "missing", "dir",
        "not-executable", "others-no-x", "dir-no-x", "owner", "others-write", "group-write",
        "root-group-write", "dir-writable", "unread-dir"])
def test_program_problem(finding, user, problem):
    assert program_problem(finding, user) == problem


def test_without_script_security_only_the_file_counts():
    assert program_problem(found(mode="777", uid="1000"), "root", security=False) is None


def test_probe_lines_of_a_program():
    assert parse_section(["program|pgrep|/usr/bin/pgrep|/usr/bin/pgrep",
                          "stat|755|0|0|regular file|/usr/bin/pgrep",
                          "program|nosuch||", "stat|garbage"]) == {
        "pgrep": ProgramFound("/usr/bin/pgrep", "/usr/bin/pgrep",
                              {"/usr/bin/pgrep": ("755", "0", "0", "regular file")}),
        "nosuch": ProgramFound()}


def commands_host():
    data = host_01(scripts=[script(template=DROP, service_name=DROP, vrrp_name=DROP,
                                   name="check_haproxy", check_script="pgrep -x haproxy")],
                   track_scripts=["check_haproxy"], notify_master="/usr/bin/logger master")
    return assert_valid(data)


def test_a_host_whose_programs_run_gets_the_bare_names_resolved():
    programs = {"pgrep": found(), "/usr/bin/logger": found(path="/usr/bin/logger")}

    assert usable_programs(commands_host(), programs) == {"pgrep": "/usr/bin/pgrep"}


def test_a_host_whose_program_cannot_run_is_refused_naming_key_command_and_problem():
    programs = {"pgrep": ProgramFound(), "/usr/bin/logger": found(path="/usr/bin/logger",
                                                                  mode="777")}

    with pytest.raises(DeployError) as refused:
        usable_programs(commands_host(), programs)

    assert str(refused.value) == (
        "host-01: keepalived_check_scripts[0].check_script = 'pgrep -x haproxy': the program "
        "'pgrep' is not found on the host's PATH (/usr/local/sbin:/usr/local/bin:/usr/sbin:"
        "/usr/bin:/sbin:/bin): install it, or give its absolute path; "
        "keepalived_vrrp_instances[0].notify_master = '/usr/bin/logger master': the program "
        "'/usr/bin/logger' is writable by others (mode 777); "
        f"{SECURITY}. Nothing was changed (on no host: the run stops before any change)")


def test_the_probe_asks_for_programs_only_when_the_config_runs_some():
    arguments = dict(user="keepalived_script", config_file="/etc/keepalived/keepalived.conf",
                     dirs=["/etc/keepalived"], host_state=host_level.state_arguments((), []))

    assert "## programs" not in str(KeepalivedProbe().command(**arguments))
    asked = str(KeepalivedProbe().command(**arguments, programs=["/opt/x y", "pgrep"]))
    assert "echo '## programs'" in asked
    assert "probe_programs='/opt/x y pgrep'" in asked  # (quoted as one shell word)


def test_the_probe_section_run_by_this_machine_s_shell(tmp_path):
    """programs.sh itself, run by sh here: a program found on the search path, one that is
    not, a path that does not exist, and a link (each what parse_section reads)."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "real").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "real").chmod(0o755)
    (tmp_path / "bin" / "link").symlink_to(tmp_path / "bin" / "real")
    script = probe_section(["sh", "nosuch-program", f"{tmp_path}/missing",
                            f"{tmp_path}/bin/link"])

    output = subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                            check=True).stdout.splitlines()

    assert output[0] == "## programs"
    found = parse_section(output[1:])
    assert found["sh"].path in ("/usr/local/sbin/sh", "/usr/local/bin/sh", "/usr/sbin/sh",
                                "/usr/bin/sh", "/sbin/sh", "/bin/sh")
    assert program_problem(found["sh"], "keepalived_script") is None
    assert found["nosuch-program"] == ProgramFound()
    assert program_problem(found[f"{tmp_path}/missing"], "root") == \
        "does not exist on the host"
    link = found[f"{tmp_path}/bin/link"]
    assert (link.real, link.parts[link.real][0]) == (f"{tmp_path}/bin/real", "755")
    assert program_problem(link, "root", security=False) is None


def test_a_misc_check_s_program_is_checked_for_its_own_user():
    """MISC_CHECK runs as its `user` (not the script user, root here): its program must
    run as that user (root's 750: not for nobody); quorum_up runs as the script user."""
    data = {**host_01(), "keepalived_check_script_user": "root",
            "keepalived_virtual_servers": [{
        "ip": "192.168.1.100", "port": 80, "quorum_up": "/usr/bin/logger up",
        "real_servers": [{"ip": "192.168.1.11", "port": 80, "misc_check": [
            {"misc_path": "/usr/bin/check_app --fast", "user": "nobody"}]}]}]}
    programs = {"/usr/bin/logger": found(path="/usr/bin/logger", mode="750"),
                "/usr/bin/check_app": found(path="/usr/bin/check_app", mode="750")}

    with pytest.raises(DeployError) as refused:
        usable_programs(assert_valid(data), programs)

    assert str(refused.value) == (
        "host-01: keepalived_virtual_servers = '/usr/bin/check_app --fast': the program "
        "'/usr/bin/check_app' is not executable by nobody (mode 750). Nothing was changed "
        "(on no host: the run stops before any change)")
