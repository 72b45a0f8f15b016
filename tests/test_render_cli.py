"""`python3 -m pyinfra_keepalived render INVENTORY [--host NAME] --out DIR`: each host's
files at DIR/<host>/<path>, from the inventory and its group_data/ as pyinfra loads them,
validated as a deploy validates, and no host contacted (every socket connect fails here)."""

import os
import shutil
import socket
import stat
import subprocess
import sys

import pytest

from pyinfra_keepalived.deploys import offline
from pyinfra_keepalived.host_paths import DROPIN, NEEDRESTART_CONF, SYSCTL_FILE
from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.render.config import config_files

pytestmark = pytest.mark.unit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any connection attempt fails the test: render contacts no host."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"render tried to connect: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the example project (inventory.py, group_data/), its hosts at addresses
    that answer nothing: TEST-NET-1 and an .invalid name."""
    shutil.copytree(os.path.join(ROOT, "group_data"), tmp_path / "group_data")
    text = open(os.path.join(ROOT, "inventory.py")).read()
    text = text.replace("host-01.example.invalid", "192.0.2.1").replace(
        "host-02.example.invalid", "unreachable.invalid")
    (tmp_path / "inventory.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_renders_every_host_without_contacting_any(project, capsys):
    assert offline.main(["render", "inventory.py", "--out", "tree"]) == 0
    assert capsys.readouterr().out.splitlines() == ["host-01: 9 files in tree/host-01",
                                                    "host-02: 9 files in tree/host-02"]
    settings = check_hosts([(name, data) for name, data in offline.load_inventory(
        "inventory.py")])
    for host in ("host-01", "host-02"):
        expected = config_files(settings[host])
        for path, file in expected.items():
            written = project / "tree" / host / path.lstrip("/")
            assert written.read_text() == file.content
            assert stat.S_IMODE(written.stat().st_mode) == int(file.mode, 8)
        assert (project / "tree" / host / DROPIN.lstrip("/")).is_file()
        assert (project / "tree" / host / NEEDRESTART_CONF.lstrip("/")).is_file()
    instances = (project / "tree/host-01/etc/keepalived/conf.d/20-vrrp_instances.conf")
    assert "priority          100" in instances.read_text()
    assert "priority          90" in (project / "tree/host-02/etc/keepalived/conf.d/"
                                     "20-vrrp_instances.conf").read_text()


def test_one_host(project):
    assert offline.main(["render", "inventory.py", "--host", "host-02", "--out", "tree"]) == 0
    assert os.listdir(project / "tree") == ["host-02"]


@pytest.mark.parametrize("arguments, message", [
    (["inventory.py", "--host", "nosuch"], "--host nosuch: not in inventory.py (hosts: "
                                           "host-01, host-02)"),
    (["missing.py"], "missing.py: no such inventory file"),
])
def test_bad_arguments(project, capsys, arguments, message):
    assert offline.main(["render", *arguments, "--out", "tree"]) == 2
    assert capsys.readouterr().err.strip() == message
    assert not (project / "tree").exists()


def test_bad_data_is_refused_with_the_deploys_message_and_nothing_written(project, capsys):
    data = (project / "group_data/jump_hosts.py").read_text()
    (project / "group_data/jump_hosts.py").write_text(
        data.replace('"virtual_router_id": 51', '"virtual_router_id": 256'))
    assert offline.main(["render", "inventory.py", "--out", "tree"]) == 2
    err = capsys.readouterr().err
    assert "keepalived data is invalid (2 error(s)); no host was changed:" in err
    assert ("host-01 and host-02: keepalived_vrrp_instances[0].virtual_router_id = 256: must be "
            "a whole number 1-255") in err
    assert not (project / "tree").exists()


def test_an_inventory_that_fails_to_load(project, capsys):
    (project / "inventory.py").write_text("hosts = [\n")
    assert offline.main(["render", "inventory.py", "--out", "tree"]) == 2
    assert "inventory.py: the inventory failed to load: SyntaxError" in capsys.readouterr().err


def test_the_command_line_exits_without_a_traceback(project):
    (project / "group_data/jump_hosts.py").write_text("keepalived_vrrp_instances = 5\n")
    environment = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "operations")}
    done = subprocess.run([sys.executable, "-m", "pyinfra_keepalived", "render", "inventory.py",
                           "--out", "tree"], capture_output=True, text=True, env=environment)
    assert done.returncode == 2
    assert "keepalived_vrrp_instances = 5: must be a list" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_a_host_name_that_is_no_directory_name_is_refused(project, capsys):
    text = (project / "inventory.py").read_text()
    (project / "inventory.py").write_text(text.replace('("host-02"', '(".."'))
    assert offline.main(["render", "inventory.py", "--out", "tree"]) == 2
    assert "host '..': its name is no directory name" in capsys.readouterr().err
    assert not (project / "tree").exists()


def test_host_level_files_follow_the_data(project):
    """The drop-in's firewall hook with keepalived_firewall true (auto: the host decides),
    the sysctl file with keepalived_nonlocal_bind, the daemon options where set."""
    text = (project / "inventory.py").read_text()
    (project / "inventory.py").write_text(text.replace(
        'SSH = {"ssh_user": "deployer", "_sudo": True}',
        'SSH = {"ssh_user": "deployer", "_sudo": True, "keepalived_firewall": True, '
        '"keepalived_nonlocal_bind": True, "keepalived_daemon_options": ["--log-detail"]}'))
    assert offline.main(["render", "inventory.py", "--out", "tree"]) == 0
    host = project / "tree/host-01"
    assert "ExecStartPre=-/usr/local/sbin/keepalived-vrrp-firewall add" in (
        host / DROPIN.lstrip("/")).read_text()
    assert "net.ipv4.ip_nonlocal_bind = 1" in (host / SYSCTL_FILE.lstrip("/")).read_text()
    assert 'DAEMON_ARGS="--log-detail"' in (host / "etc/default/keepalived").read_text()

    (project / "inventory.py").write_text(text)  # (the defaults: auto, no sysctl, no options)
    assert offline.main(["render", "inventory.py", "--out", "tree2"]) == 0
    host = project / "tree2/host-01"
    assert "ExecStartPre" not in (host / DROPIN.lstrip("/")).read_text()
    assert not (host / SYSCTL_FILE.lstrip("/")).exists()
    assert not (host / "etc/default/keepalived").exists()
