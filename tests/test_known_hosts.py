"""Unit tests for known_hosts.py's file (pyinfra_keepalived.deploys.known_hosts.known_hosts_lines), its
fact's parsing and the keepalived_vip_names data key."""

import logging
import subprocess
from types import SimpleNamespace

import pytest
from pyinfra import logger as pyinfra_logger

from pyinfra_keepalived.deploys import known_hosts as known_hosts_module
from pyinfra_keepalived.deploys.known_hosts import SshHostKeys, known_hosts_lines

from .hostdata import assert_error, assert_valid, check, host_01, host_02

pytestmark = pytest.mark.unit

KEYS = {"host-01": [("ssh-ed25519", "AAAA1"), ("ssh-rsa", "BBBB1")],
        "host-02": [("ssh-ed25519", "AAAA2"), ("ssh-rsa", "BBBB2")]}


def settings(**overrides):
    return check(("host-01", host_01(**overrides)), ("host-02", host_02(**overrides)))[0]


def test_every_holders_keys_under_the_vip():
    assert known_hosts_lines(settings(), KEYS, {}) == [
        "# VI_1: 192.168.1.100 held by one of host-01, host-02",
        "192.168.1.100 ssh-ed25519 AAAA1 host-01",
        "192.168.1.100 ssh-rsa BBBB1 host-01",
        "192.168.1.100 ssh-ed25519 AAAA2 host-02",
        "192.168.1.100 ssh-rsa BBBB2 host-02",
    ]


def test_names_and_every_vip_of_the_instance_and_shared_keys_once():
    lines = known_hosts_lines(
        settings(virtual_ipaddresses=["192.168.1.100/24", "192.168.1.101/24"]),
        {"host-01": KEYS["host-01"], "host-02": KEYS["host-01"]},
        {"192.168.1.100": ["jump.example.com"]})

    assert lines == [
        "# VI_1: 192.168.1.100 192.168.1.101 held by one of host-01, host-02",
        "jump.example.com,192.168.1.100,192.168.1.101 ssh-ed25519 AAAA1 host-01",
        "jump.example.com,192.168.1.100,192.168.1.101 ssh-rsa BBBB1 host-01",
    ]


def real_keys(tmp_path, host):
    """A real ed25519 public key, [(type, base64)], as the host's fact would give it."""
    path = tmp_path / host
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True)
    return [tuple(open(f"{path}.pub").read().split()[:2])]


def lookup(path, name):
    """What OpenSSH's own lookup (`ssh-keygen -F NAME -f FILE`) finds: the key lines."""
    result = subprocess.run(["ssh-keygen", "-F", name, "-f", str(path)],
                            capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if not line.startswith("#")]


def test_a_port_other_than_22_is_written_as_openssh_looks_it_up(tmp_path):
    port = {"keepalived_ssh_port": 2222}
    settings = check(("host-01", {**host_01(), **port}), ("host-02", {**host_02(), **port}))[0]
    keys = {host: real_keys(tmp_path, host) for host in ("host-01", "host-02")}
    lines = known_hosts_lines(settings, keys, {"192.168.1.100": ["jump.example.com"]})
    path = tmp_path / "known_hosts.vips"
    path.write_text("\n".join(lines) + "\n")

    assert lines[0] == "# VI_1: 192.168.1.100 port 2222 held by one of host-01, host-02"
    assert lines[1].startswith("[jump.example.com]:2222,[192.168.1.100]:2222 ssh-ed25519 ")
    for name in ("[192.168.1.100]:2222", "[jump.example.com]:2222"):
        found = lookup(path, name)
        assert [line.split()[1:3] for line in found] == [
            ["ssh-ed25519", keys[host][0][1]] for host in ("host-01", "host-02")], name
    # a client of port 22 (or of the bare name) finds nothing: the port is part of the name
    assert lookup(path, "192.168.1.100") == [] and lookup(path, "jump.example.com") == []


def test_port_22_is_the_bare_address_as_openssh_looks_it_up(tmp_path):
    keys = {host: real_keys(tmp_path, host) for host in ("host-01", "host-02")}
    path = tmp_path / "known_hosts.vips"
    path.write_text("\n".join(known_hosts_lines(settings(), keys, {})) + "\n")

    assert len(lookup(path, "192.168.1.100")) == 2
    assert lookup(path, "[192.168.1.100]:2222") == []


@pytest.mark.parametrize("port", [0, 65536, "2222", 22.0, True, None])
def test_ssh_port_errors_name_host_key_and_allowed_values(port):
    assert_error({**host_01(), "keepalived_ssh_port": port},
                 f"host-01: keepalived_ssh_port = {port!r}: must be a whole number 1-65535")


def test_writing_the_file_prints_nothing_and_logs_what_it_wrote(
        tmp_path, monkeypatch, capsys, caplog):
    """`pyinfra --json` prints only JSON on stdout: the report goes to pyinfra's logger."""
    class Host:
        def __init__(self, name):
            self.name, self.data = name, {}

        def get_fact(self, fact):
            return KEYS[self.name]

    class Inventory(list):
        def get_active_hosts(self):
            return list(self)

    inventory = Inventory(Host(name) for name in KEYS)
    monkeypatch.setattr(known_hosts_module, "state", SimpleNamespace(inventory=inventory))
    monkeypatch.setattr(known_hosts_module, "check_inventory", lambda _: settings())
    monkeypatch.setattr(pyinfra_logger, "propagate", True)  # (the CLI turns it off)
    path = tmp_path / "known_hosts.vips"
    with caplog.at_level(logging.INFO, logger=pyinfra_logger.name):
        known_hosts_module._write(str(path))

    assert capsys.readouterr().out == ""
    assert [record.getMessage() for record in caplog.records] == [
        f"wrote {path}: 4 keys\n  VI_1: 192.168.1.100 held by one of host-01, host-02"]
    assert path.read_text().splitlines() == known_hosts_lines(settings(), KEYS, {})


def test_the_fact_keeps_type_and_key_only():
    assert SshHostKeys().process(["ssh-ed25519 AAAA1", "ssh-rsa BBBB1 root@x", ""]) == [
        ("ssh-ed25519", "AAAA1"), ("ssh-rsa", "BBBB1")]


def test_vip_names_valid():
    assert_valid({**host_01(), "keepalived_vip_names": {"192.168.1.100": ["jump.example.com",
                                                                          "jump"]}})


@pytest.mark.parametrize("names, expected", [
    ({"192.168.1.100/24": ["jump"]}, "keepalived_vip_names['192.168.1.100/24'] = ['jump']: "
                                     "is not a VIP of this host's keepalived_vrrp_instances "
                                     "(192.168.1.100)"),
    ({"192.168.1.100": "jump"}, "keepalived_vip_names['192.168.1.100'] = 'jump': must be a list"),
    ({"192.168.1.100": ["jump example"]}, "keepalived_vip_names['192.168.1.100'][0] = "
                                          "'jump example': must be a DNS name"),
    ({"192.168.1.100": ["-jump.example.com"]}, "keepalived_vip_names['192.168.1.100'][0] = "
                                               "'-jump.example.com': must be a DNS name"),
    ({"192.168.1.100": ["jump.example.com\n"]}, "keepalived_vip_names['192.168.1.100'][0] = "
                                                "'jump.example.com\\n': must be a DNS name"),
])
def test_vip_names_errors_name_host_and_key(names, expected):
    assert_error({**host_01(), "keepalived_vip_names": names}, f"host-01: {expected}")
