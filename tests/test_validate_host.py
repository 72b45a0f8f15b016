"""Validation of the host-level keys (operations.validate_host): firewall, ip_nonlocal_bind,
the keepalived.service drop-in and keepalived's daemon options."""

import pytest

from operations.firewall import vrrp_protocols
from operations.settings import HostLevel

from .test_validate import assert_error, assert_valid, host_01, instance

pytestmark = pytest.mark.unit


def level(**data):
    return assert_valid({**host_01(), **data}).host_level


def test_defaults():
    assert level() == HostLevel(firewall="auto", nonlocal_bind=(), restart="on-failure",
                                restart_sec=5, daemon_options=None)


# -- keepalived_firewall --

@pytest.mark.parametrize("value, expected", [("auto", "auto"), (True, "on"), (False, "off")])
def test_firewall_values(value, expected):
    assert level(keepalived_firewall=value).firewall == expected


@pytest.mark.parametrize("value", ["on", "yes", 1, None, "nftables"])
def test_firewall_rejects_other_values(value):
    error = assert_error({**host_01(), "keepalived_firewall": value}, "keepalived_firewall")
    assert error == (f"host-01: keepalived_firewall = {value!r}: must be auto (open VRRP when "
                     "a firewall is active), true (always manage it) or false (leave the "
                     "firewall alone)")


def test_misspelt_key_suggests_the_right_one():
    error = assert_error({**host_01(), "keepalived_firewal": True}, "host-01: keepalived_firewal: ")
    assert "did you mean 'keepalived_firewall'?" in error


def test_ah_instance_opens_protocol_51():
    settings = assert_valid(host_01(instances=[instance(priority=100, auth_type="AH")]))
    assert vrrp_protocols(settings) == ("112", "51")
    assert vrrp_protocols(assert_valid(host_01())) == ("112",)  # auth_type PASS


# -- keepalived_nonlocal_bind --

@pytest.mark.parametrize("value, expected", [
    (False, ()), (True, ("ipv4", "ipv6")), (["ipv4"], ("ipv4",)), (["ipv6"], ("ipv6",)),
    (["ipv6", "ipv4", "ipv6"], ("ipv4", "ipv6")), ([], ())])
def test_nonlocal_bind_values(value, expected):
    assert level(keepalived_nonlocal_bind=value).nonlocal_bind == expected


def test_nonlocal_bind_unknown_family():
    error = assert_error({**host_01(), "keepalived_nonlocal_bind": ["ipv5"]},
                         "keepalived_nonlocal_bind[0]")
    assert error == ("host-01: keepalived_nonlocal_bind[0] = 'ipv5': must be one of ipv4, ipv6 "
                     "(did you mean 'ipv6'?)")


def test_nonlocal_bind_not_a_list():
    assert_error({**host_01(), "keepalived_nonlocal_bind": "ipv4"},
                 "keepalived_nonlocal_bind = 'ipv4': must be a list")


# -- keepalived_systemd_restart / _sec --

def test_restart_values():
    assert level(keepalived_systemd_restart="always").restart == "always"
    assert level(keepalived_systemd_restart=False).restart == "no"  # YAML's bare `no`
    assert level(keepalived_systemd_restart_sec=0.5).restart_sec == 0.5


def test_restart_rejects_unknown_policy():
    error = assert_error({**host_01(), "keepalived_systemd_restart": "on-fail"},
                         "keepalived_systemd_restart")
    assert "must be one of no, on-failure, on-abnormal, always" in error


@pytest.mark.parametrize("value", [0, -1, "5s", float("inf")])
def test_restart_sec_must_be_positive_seconds(value):
    assert_error({**host_01(), "keepalived_systemd_restart_sec": value},
                 "keepalived_systemd_restart_sec")


# -- keepalived_daemon_options --

def test_daemon_options_valid():
    options = ["--log-detail", "--dump-conf", "--vrrp", "--log-facility=local1"]
    assert level(keepalived_daemon_options=options).daemon_options == tuple(options)
    assert level(keepalived_daemon_options=[]).daemon_options == ()


@pytest.mark.parametrize("option, message", [
    ("-D", "write the long form --log-detail"),
    ("--log-detial", "unknown keepalived option (did you mean '--log-detail'?); allowed: "),
    ("--use-file=/tmp/k.conf", "not allowed: the deploy validates and promotes "
                               "keepalived_config_file"),
    ("--dont-fork", "not allowed: the packaged unit decides it"),
    ("--log-facility", "--log-facility takes a value without spaces or quotes"),
    ("--log-facility=local 1", "--log-facility takes a value without spaces or quotes"),
    ("--log-detail=1", "--log-detail takes no value"),
    ("--namespace=$(reboot)", "--namespace takes a value without spaces or quotes"),
    (5, "must be a keepalived option, e.g. --log-detail"),
])
def test_daemon_options_rejected(option, message):
    error = assert_error({**host_01(), "keepalived_daemon_options": [option]},
                         "keepalived_daemon_options[0]")
    assert error.startswith(f"host-01: keepalived_daemon_options[0] = {option!r}: ")
    assert message in error


def test_daemon_options_twice():
    assert_error({**host_01(), "keepalived_daemon_options": ["--vrrp", "--vrrp"]},
                 "lists --vrrp twice")


def test_daemon_options_not_a_list():
    assert_error({**host_01(), "keepalived_daemon_options": "--log-detail"},
                 "keepalived_daemon_options = '--log-detail': must be a list")


# -- keepalived_lock_wait --

@pytest.mark.parametrize("value", [0, 1, 120, 3600])
def test_lock_wait_values(value):
    assert level(keepalived_lock_wait=value).lock_wait == value


@pytest.mark.parametrize("value", [-1, 3601, 1.5, "60", None, True, 1e308])
def test_lock_wait_out_of_range(value):
    error = assert_error({**host_01(), "keepalived_lock_wait": value}, "keepalived_lock_wait")
    assert error == f"host-01: keepalived_lock_wait = {value!r}: must be a whole number 0-3600"
