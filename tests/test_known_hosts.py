"""Unit tests for known_hosts.py's file (operations.known_hosts.known_hosts_lines), its
fact's parsing and the keepalived_vip_names data key."""

import pytest

from pyinfra_keepalived.deploys.known_hosts import SshHostKeys, known_hosts_lines

from .test_validate import assert_error, assert_valid, check, host_01, host_02

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
