"""What uninstall.py (per distro family: dnf has no test host here) and backup.py send, via
pyinfra's ``@fake`` connector (as in test_commands.py, whose fake hosts and recorder this
reuses)."""

import pytest
from pyinfra.api.deploy import add_deploy
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.operations import run_ops
from pyinfra.connectors.fake import FakeConnector

from operations.backup import _stamps, backup
from operations.uninstall import uninstall
from tests.test_commands import (  # noqa: F401 (recorder is a fixture)
    DNF_DISTROS,
    GROUP_DATA,
    HOSTS,
    SCRIPT_USER_ENTRY,
    _named,
    make_state,
    op_commands,
    recorder,
)

pytestmark = pytest.mark.unit

LEFTOVER_VIP = "2: eth0    inet 192.168.1.100/24 scope global secondary eth0\\   valid_lft"
# KeepalivedTree's answer: the base dir, conf.d, scripts and the config file exist
TREE = [f"directory|755|root|root|/etc/keepalived{leaf}" for leaf in ("", "/conf.d", "/scripts")]
TREE += ["regular file|644|root|root|/etc/keepalived/keepalived.conf",
         f"{'0' * 64}  /etc/keepalived/keepalived.conf"]
STOP = ["systemctl stop keepalived.service", "systemctl disable keepalived.service"]
REMOVE_TREE = ["rm -rf /etc/keepalived/keepalived.conf /etc/keepalived/conf.d "
               "/etc/keepalived/scripts /etc/keepalived/.current /etc/keepalived/.previous "
               "/etc/keepalived/.generations /etc/keepalived/.staging",
               "rmdir /etc/keepalived 2>/dev/null || echo 'kept /etc/keepalived: it holds "
               "files this deploy did not write'"]
USERDEL = "userdel keepalived_script"
PACKAGE_FACTS = {"rpm": "rpm --queryformat", "dpkg": "dpkg -l"}  # command substrings


def installed_host(package_fact, busy_user=False):
    """Responses of a host with keepalived installed (`package_fact`: {"rpm": line} or
    {"dpkg": line}), enabled and running, a leftover VIP, the config tree and the script
    user (with a process of its own if `busy_user`). The uninstall deploy reads pyinfra's
    own facts, not the probe."""
    return {
        **{PACKAGE_FACTS[kind]: [line] for kind, line in package_fact.items()},
        "--property SubState keepalived.service": ["Id=keepalived.service", "SubState=running"],
        "--property UnitFileState keepalived.service": ["Id=keepalived.service",
                                                        "UnitFileState=enabled"],
        # Users fact
        "cut -d: -f1": [f"{SCRIPT_USER_ENTRY}|keepalived_script|keepalived_script||!"],
        "ip -o addr show": [LEFTOVER_VIP],
        "stat -L -c '%F|%a|%U|%G|%n' /etc/keepalived ": TREE,
        "uid=$(id -u keepalived_script": ["4242"] if busy_user else [],
        "command -v userdel": "/usr/sbin/userdel",
    }


def uninstall_commands(distro, package_fact, recorder, host_data=None, group_data=None,
                       **kwargs):
    state = make_state(distro, responses={name: installed_host(package_fact, **kwargs)
                                          for name in HOSTS},
                       host_data=host_data, group_data=group_data)
    add_deploy(state, uninstall)
    run_ops(state)
    return {host.name: op_commands(host, recorder) for host in state.inventory}


@pytest.mark.parametrize("distro", DNF_DISTROS)
def test_rhel_family_uninstall_in_order(distro, recorder):
    commands = uninstall_commands(distro, {"rpm": "keepalived 2.2.8-3.el9"}, recorder)
    for host in HOSTS:
        assert commands[host] == [
            *STOP, "ip addr del 192.168.1.100/24 dev eth0", "dnf remove -y keepalived",
            *REMOVE_TREE, USERDEL]


def test_debian_uninstall_purges(recorder):
    commands = uninstall_commands("debian", {"dpkg": "ii  keepalived  1:2.2.7-1+b2  amd64"},
                                  recorder)
    purge = [c for c in commands["@fake/host-01"] if "apt-get" in c]
    assert len(purge) == 1 and "purge" in purge[0].split() and purge[0].endswith("keepalived")


def test_busy_script_user_is_kept(recorder):
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  busy_user=True)
    assert USERDEL not in commands["@fake/host-01"]
    assert all(command in commands["@fake/host-01"] for command in REMOVE_TREE)


def test_address_owners_vip_is_its_own_address_and_stays(recorder):
    untracked = [{key: value for key, value in instance.items() if key != "track_scripts"}
                 for instance in GROUP_DATA["keepalived_vrrp_instances"]]
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  host_data={"@fake/host-01": {"keepalived_priority": 255}},
                                  group_data={"keepalived_vrrp_instances": untracked})
    assert not any(c.startswith("ip addr del") for c in commands["@fake/host-01"])
    assert "ip addr del 192.168.1.100/24 dev eth0" in commands["@fake/host-02"]


# -- backup.py: the archive is only ever the login user's --

TEMP = "/var/tmp/keepalived-deploy.T"
ARCHIVE = f"{TEMP}/archive.tar.gz"
# (sudo?, what is sent), in order
MAKE_DIR = (False, f"mkdir -m 700 {TEMP}")
MAKE_ARCHIVE = (True, f"umask 077 && tar -czf {ARCHIVE} --dereference --no-wildcards "
                      "--exclude=keepalived/.current --exclude=keepalived/.previous "
                      "--exclude=keepalived/.generations --exclude=keepalived/.staging "
                      "-C /etc keepalived && "
                      f"chown --reference={TEMP} {ARCHIVE} || {{ rm -rf {TEMP}; false; }}")
DOWNLOAD = (False, f"download {ARCHIVE}")
REMOVE_DIR = (False, f"rm -rf {TEMP}")


@pytest.fixture
def backup_run(monkeypatch, recorder, tmp_path):
    """Run the backup deploy on the fake hosts, logging in as a sudo user, and return
    ({host: [(sudo?, command or download)]}, the local run directory). `download` is what
    the fake download does (default: writes b"archive" into the local file)."""
    def run(responses=None, download=None):
        sent = {}
        run_shell_command = FakeConnector.run_shell_command

        def recording_run(self, command, *args, **kwargs):
            sent.setdefault(self.host.name, []).append(
                (bool(kwargs.get("_sudo")), _named(command)))
            return run_shell_command(self, command, *args, **kwargs)

        def fake_download(self, remote, local_io, *args, **kwargs):
            sent.setdefault(self.host.name, []).append(
                (bool(kwargs.get("_sudo")), _named(f"download {remote}")))
            return (download or (lambda io: io.write(b"archive") and True))(local_io)

        monkeypatch.setattr(FakeConnector, "run_shell_command", recording_run)
        monkeypatch.setattr(FakeConnector, "get_file", fake_download)
        _stamps.clear()
        state = make_state("debian", responses={name: responses or {} for name in HOSTS},
                           host_data={name: {"_sudo": True} for name in HOSTS})
        add_deploy(state, backup, directory=str(tmp_path))
        try:
            run_ops(state)
        except PyinfraError as error:  # every host failed
            assert str(error) == "No hosts remaining!"
        [run_dir] = list(tmp_path.iterdir())
        ops = {name: [(sudo, command) for sudo, command in commands
                      if not command.startswith(("echo '## user'", "cat /etc/*-release"))]
               for name, commands in sent.items()}
        return ops, run_dir, state

    return run


def test_backup_archive_is_made_as_root_and_fetched_without_sudo(backup_run):
    sent, run_dir, _ = backup_run()
    for name in HOSTS:
        assert sent[name] == [MAKE_DIR, MAKE_ARCHIVE, DOWNLOAD, REMOVE_DIR]
        local = run_dir / f"@fake_{name.split('/')[1]}.tar.gz"
        assert local.read_bytes() == b"archive"
        assert oct(local.stat().st_mode & 0o777) == "0o600"
    assert oct(run_dir.stat().st_mode & 0o777) == "0o700"


def test_backup_archive_that_cannot_be_made_is_removed_on_the_host(backup_run):
    sent, run_dir, state = backup_run(responses={"tar -czf": {"success": False}})
    for name in HOSTS:
        # the archive command removes the directory itself; nothing is downloaded
        assert sent[name] == [MAKE_DIR, MAKE_ARCHIVE]
        assert state.get_results_for_host(state.inventory.get_host(name)).error_ops == 1
    assert list(run_dir.iterdir()) == []


@pytest.mark.parametrize("failure", ["returns False", "raises"])
def test_backup_broken_download_still_removes_the_archive_on_the_host(backup_run, failure):
    def broken(local_io):
        local_io.write(b"arch")  # cut off half way
        if failure == "raises":
            raise EOFError("connection lost")
        return False

    sent, run_dir, state = backup_run(download=broken)
    for name in HOSTS:
        assert sent[name] == [MAKE_DIR, MAKE_ARCHIVE, DOWNLOAD, REMOVE_DIR]
        assert state.get_results_for_host(state.inventory.get_host(name)).error_ops == 1
    assert list(run_dir.iterdir()) == []  # no half archive left here either
