"""The programs of check and notify commands, on the host (facts.programs): what keeps
keepalived from running one (table cases: the probe's findings and the user in, the
problem out), and the deploy's refusal of a host whose program cannot run, before any
host is changed."""

import pytest
from pyinfra.api.exceptions import DeployError

from pyinfra_keepalived.facts.programs import (
    ProgramFound,
    parse_section,
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
