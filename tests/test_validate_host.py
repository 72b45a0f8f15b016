"""Validation of the host-level keys (pyinfra_keepalived.model.host_level): firewall, ip_nonlocal_bind,
the keepalived.service drop-in and keepalived's daemon options."""

import pytest

from pyinfra_keepalived.model.blocks import HostLevel
from pyinfra_keepalived.render.firewall import firewall_rules, vrrp_protocols

from .hostdata import DROP, assert_error, assert_valid, host_01, instance, read

pytestmark = pytest.mark.unit


def level(**data):
    return assert_valid({**host_01(), **data}).host_level


def without_password(**data):
    """host-01's data with VI_1 unauthenticated (nothing secret in its config)."""
    return {**host_01(auth_type=DROP, auth_pass=DROP), **data}


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


IPV6 = {"virtual_ipaddresses": ["2001:db8::100/64"], "auth_type": DROP, "auth_pass": DROP}


@pytest.mark.parametrize("instances, data, expected", [
    ([{}], {}, ("112", "4,eth0,,224.0.0.18")),
    ([{"interface": "ens18", **IPV6}], {}, ("112", "6,ens18,,ff02::12")),
    ([{"unicast_src_ip": "192.0.2.1", "unicast_peers": ["192.0.2.2", "192.0.2.3"]}], {},
     ("112", "4,,192.0.2.2,192.0.2.1", "4,,192.0.2.3,192.0.2.1")),
    ([{"unicast_peers": ["192.0.2.2"]}], {}, ("112", "4,,192.0.2.2,")),  # own address unknown
    ([{**IPV6, "unicast_src_ip": "2001:DB8::0:1", "unicast_peers": ["2001:db8:0::2"]}], {},
     ("112", "6,,2001:db8::2,2001:db8::1")),  # as the firewalls print them
    ([{}, {"name": "VI_2", "virtual_router_id": 52, "auth_type": "AH",
           "virtual_ipaddresses": ["192.168.1.101/24"]}], {},
     ("112", "51", "4,eth0,,224.0.0.18")),  # one rule per peer, whatever the instances
    ([{}], {"keepalived_global_defs": {"extra_lines": ["vrrp_mcast_group4 224.0.0.19"]}},
     ("112", "4,eth0,,224.0.0.19")),  # the group keepalived sends to
    ([{"extra_lines": ["unicast_peer {", "192.0.2.2", "}"]}], {},
     ("112", "4,,,")),  # peers the rules cannot see: from anywhere (a warning)
    ([{}], {"keepalived_firewall": False}, ()),
    ([], {}, ()),  # no instance: nothing to let in, the firewall is left alone
], ids=["multicast", "multicast-ipv6", "unicast", "unicast-own-address-unknown",
        "unicast-ipv6", "two-instances-one-group", "mcast-group-of-global-defs",
        "raw-unicast-peer", "firewall-off", "no-instance"])
def test_firewall_rules_let_in_the_peers_only(instances, data, expected):
    items = [instance(priority=100, **overrides) for overrides in instances]
    settings = assert_valid({**host_01(instances=items), **data})
    assert firewall_rules(settings) == expected


def test_addresses_in_extra_lines_are_a_warning_naming_the_keys():
    _, errors, warnings = read(host_01(extra_lines=["unicast_src_ip 192.0.2.1"]))
    assert errors == [] and warnings == [
        "host-01: keepalived_vrrp_instances[0].extra_lines = ['unicast_src_ip 192.0.2.1']: "
        "sets unicast_src_ip, which the host firewall rules cannot see: they let this "
        "instance's VRRP in from anywhere; set unicast_peers and unicast_src_ip instead"]


@pytest.mark.parametrize("line, family", [
    ("vrrp_mcast_group4 10.0.0.1", 4), ("vrrp_mcast_group4 ff02::12", 4),
    ("vrrp_mcast_group6 224.0.0.18", 6), ("vrrp_mcast_group4", 4),
    ("vrrp_mcast_group4 224.0.0.19 x", 4)])
def test_mcast_group_in_extra_lines_must_be_a_multicast_address(line, family):
    data = {**host_01(), "keepalived_global_defs": {"extra_lines": [line]}}
    group = {4: "224.0.0.18", 6: "ff02::12"}[family]
    assert assert_error(data, "keepalived_global_defs.extra_lines[0]") == (
        f"host-01: keepalived_global_defs.extra_lines[0] = {line!r}: must be "
        f"vrrp_mcast_group{family} and one IPv{family} multicast address (e.g. {group})")


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
# Every option of keepalived 2.2.7's `keepalived --help` is either allowed (it keeps VRRP
# running as the deploy expects) or refused with its reason: the two tables below cover
# them all (test_every_option_of_keepalived_2_2_7_is_decided).

ALLOWED = [
    "--vrrp", "--no_bfd", "--all", "--log-console", "--log-detail", "--log-facility=0",
    "--log-facility=7", "--log-facility=local0", "--log-facility=local7",
    "--log-facility=user", "--log-facility=daemon", "--no-syslog", "--umask=077",
    "--umask=0022", "--umask=00", "--release-vips", "--dont-release-ipvs", "--dump-conf",
    "--address-monitoring", "--snmp", "--snmp-agent-socket=tcp:localhost:705",
    "--snmp-agent-socket=/var/agentx/master", "--core-dump", "--core-dump-pattern",
    "--core-dump-pattern=/var/tmp/core.%e.%p",
]


@pytest.mark.parametrize("option", ALLOWED)
def test_daemon_option_allowed(option):
    settings = assert_valid(without_password(keepalived_daemon_options=[option]))
    assert settings.host_level.daemon_options == (option,)


def test_daemon_options_valid():
    options = ["--log-detail", "--dump-conf", "--vrrp", "--log-facility=local1"]
    settings = assert_valid(without_password(keepalived_daemon_options=options))
    assert settings.host_level.daemon_options == tuple(options)
    assert level(keepalived_daemon_options=[]).daemon_options == ()
    twice = ["--log-detail", "--log-detail"]  # keepalived: -D twice is extra detail
    assert level(keepalived_daemon_options=twice).daemon_options == tuple(twice)


ALLOWED_LIST = ("; allowed: --vrrp, --no_bfd, --all, --log-console, --log-detail, "
                "--log-facility, --no-syslog, --umask, --release-vips, --dont-release-ipvs, "
                "--dump-conf, --address-monitoring, --snmp, --snmp-agent-socket, --core-dump, "
                "--core-dump-pattern")

REFUSED = [
    # switch VRRP off, move it out of sight, or break the deploy's assumptions
    ("--check", "not allowed: keepalived would run without VRRP: only the LVS health "
                "checker runs and no host holds a VIP"),
    ("--namespace=blue", "not allowed: keepalived would run VRRP in that network namespace: "
                         "the VIPs would be added there, not where clients reach the host"),
    ("--dont-release-vrrp", "not allowed: a stopped keepalived would leave its VIPs up: at "
                            "every stop or restart the new holder and the old one both "
                            "answer for them (split brain)"),
    ("--dont-respawn", "not allowed: a VRRP process that dies would not be started again: "
                       "keepalived exits with status 0 instead, and systemd's "
                       "Restart=on-failure does not restart a clean exit"),
    ("--config-id=lb1", "not allowed: keepalived would read other '@id' config lines than "
                        "the deploy's keepalived -t gate tests (which uses the host name)"),
    # owned by the deploy or the unit, or no daemon option
    ("--use-file=/tmp/k.conf", "not allowed: the deploy validates and promotes "
                               "keepalived_config_file"),
    ("--dont-fork", "not allowed: the packaged unit decides it"),
    ("--pid=/run/k.pid", "not allowed: the packaged unit and the status fact expect the "
                         "default pid files"),
    ("--vrrp_pid=/run/v.pid", "not allowed: the packaged unit and the status fact expect"),
    ("--checkers_pid=/run/c.pid", "not allowed: the packaged unit expects the default pid"),
    ("--bfd_pid=/run/b.pid", "not allowed: the packaged unit expects the default pid"),
    ("--config-test", "not allowed: not a daemon option: the deploy runs keepalived -t"),
    ("--genhash", "not allowed: not a daemon option"),
    ("--signum=DATA", "not allowed: not a daemon option"),
    ("--version", "not allowed: not a daemon option"),
    ("--help", "not allowed: not a daemon option"),
    ("--config-fd=3", "not allowed: not a daemon option (keepalived's own"),
    ("--all-config", "not allowed: the deploy's keepalived -t gate already checks"),
    ("--log-file=/var/log/k.log", "not allowed: Debian's keepalived is built without it"),
    # short forms: refused ones say why, allowed ones ask for the long form
    ("-C", "-C is --check, not allowed: keepalived would run without VRRP"),
    ("-V", "-V is --dont-release-vrrp, not allowed: a stopped keepalived would leave"),
    ("-R", "-R is --dont-respawn, not allowed: "),
    ("-s", "-s is --namespace, not allowed: "),
    ("-i", "-i is --config-id, not allowed: "),
]


DUMP_CONF_WHY = ("not allowed on a host whose config holds a password ({holders}): "
                 "keepalived would write its whole config, the password included, to the "
                 "journal at every start and reload (readable by the adm and systemd-journal "
                 "groups, and sent on by log collectors); remove it (keepalived_daemon_options"
                 " = ['--log-detail'] logs the state changes without the config)")


@pytest.mark.parametrize("data, holders", [
    (host_01(), "VI_1's auth_pass"),
    (host_01(instances=[instance(priority=100), instance(
        name="VI_2", virtual_router_id=52, priority=100, auth_pass="other")]),
     "VI_1's auth_pass, VI_2's auth_pass"),
    (host_01(auth_type=DROP, auth_pass=DROP, extra_lines=["authentication { auth_type PASS "
                                                          "auth_pass s3cr3t }"]),
     "an extra_lines entry of VI_1"),
    ({**host_01(auth_type=DROP, auth_pass=DROP),
      "keepalived_global_defs": {"extra_lines": ["# AUTH_PASS s3cr3t"]}},
     "an extra_lines entry of global_defs"),
])
def test_dump_conf_refused_where_the_config_holds_a_password(data, holders):
    """--dump-conf logs the whole config, auth_pass included, at every start and reload."""
    error = assert_error({**data, "keepalived_daemon_options": ["--log-detail", "--dump-conf"]},
                         "keepalived_daemon_options[1]")
    assert error == ("host-01: keepalived_daemon_options[1] = '--dump-conf': "
                     + DUMP_CONF_WHY.format(holders=holders))
    assert "1234" not in error and "s3cr3t" not in error


def test_dump_conf_refused_where_an_include_file_holds_a_password(tmp_path):
    """The operator's include files (model.includes) are part of the config it logs."""
    (tmp_path / "auth.conf").write_text(
        "vrrp_instance VI_9 {\n  authentication {\n    auth_pass s3cr3t\n  }\n}\n")
    data = {**host_01(), "keepalived_include_files": [{"src": str(tmp_path / "auth.conf")}],
            "keepalived_daemon_options": ["--dump-conf"]}
    error = assert_error(data, "keepalived_daemon_options[0]")
    assert error == ("host-01: keepalived_daemon_options[0] = '--dump-conf': "
                     + DUMP_CONF_WHY.format(holders="VI_1's auth_pass, the include file "
                                                    "auth.conf"))
    assert "s3cr3t" not in error


@pytest.mark.parametrize("option, message", REFUSED)
def test_daemon_option_refused_with_reason_and_allowed_list(option, message):
    error = assert_error({**host_01(), "keepalived_daemon_options": [option]},
                         "keepalived_daemon_options[0]")
    assert error.startswith(f"host-01: keepalived_daemon_options[0] = {option!r}: ")
    assert message in error
    assert error.endswith(ALLOWED_LIST)


@pytest.mark.parametrize("option, message", [
    ("-D", "write the long form --log-detail (the options file is easier to read that way)"),
    ("-P", "write the long form --vrrp"),
    ("--log-detial", "unknown keepalived option (did you mean '--log-detail'?)" + ALLOWED_LIST),
    ("--dump-config", "unknown keepalived option (did you mean '--dump-conf'?)"
                      + ALLOWED_LIST),
    ("--flush-log-file", "unknown keepalived option"),  # not in Debian's 2.2.7 build
    ("--log-facility", "--log-facility takes =0 to =7, =local0 to =local7, =user or =daemon"),
    ("--log-facility=local 1", "--log-facility takes =0 to =7"),
    ("--log-facility=local8", "--log-facility takes =0 to =7"),
    ("--log-facility=kern", "--log-facility takes =0 to =7"),
    ("--umask=22", "--umask takes an octal mask with a leading 0, e.g. =0077 (keepalived "
                   "reads 22 as decimal)"),
    ("--umask=01777", "--umask takes an octal mask"),
    ("--umask=0x12", "--umask takes an octal mask"),
    ("--umask", "--umask takes an octal mask"),
    ("--snmp-agent-socket", "--snmp-agent-socket takes the AgentX socket"),
    ("--snmp-agent-socket=$(reboot)", "--snmp-agent-socket takes the AgentX socket"),
    ("--core-dump-pattern=|/bin/sh", "--core-dump-pattern takes no value or a core_pattern "
                                     "without a pipe or spaces"),
    ("--core-dump-pattern=a b", "--core-dump-pattern takes no value or a core_pattern"),
    ("--core-dump-pattern=", "--core-dump-pattern takes no value or a core_pattern"),
    ("--log-detail=1", "--log-detail takes no value"),
    ("--vrrp=yes", "--vrrp takes no value"),
    ("--namespace=$(reboot)", "not allowed: keepalived would run VRRP in that network"),
    ('--log-facility="local1"', "--log-facility takes =0 to =7"),
    (5, "must be a keepalived option, e.g. --log-detail"),
])
def test_daemon_options_rejected(option, message):
    error = assert_error({**host_01(), "keepalived_daemon_options": [option]},
                         "keepalived_daemon_options[0]")
    assert error.startswith(f"host-01: keepalived_daemon_options[0] = {option!r}: ")
    assert message in error


def test_every_option_of_keepalived_2_2_7_is_decided():
    """`keepalived --help` of Debian 12's keepalived 2.2.7 (long forms), plus the hidden
    --config-fd and the --log-file its build lacks: each is allowed or refused with a
    reason, none falls through to "unknown"."""
    from pyinfra_keepalived.model.host_level import (
        ALLOWED_OPTIONS,
        REFUSED_OPTIONS,
        SHORT_OPTIONS,
    )

    help_2_2_7 = {
        "--use-file", "--vrrp", "--check", "--no_bfd", "--all", "--log-console",
        "--log-detail", "--log-facility", "--no-syslog", "--umask", "--release-vips",
        "--dont-release-vrrp", "--dont-release-ipvs", "--dont-respawn", "--dont-fork",
        "--dump-conf", "--pid", "--vrrp_pid", "--genhash", "--checkers_pid",
        "--address-monitoring", "--bfd_pid", "--snmp", "--snmp-agent-socket", "--namespace",
        "--core-dump", "--core-dump-pattern", "--all-config", "--config-id", "--signum",
        "--config-test", "--version", "--help", "--config-fd", "--log-file"}
    assert set(ALLOWED_OPTIONS) | set(REFUSED_OPTIONS) == help_2_2_7
    assert not set(ALLOWED_OPTIONS) & set(REFUSED_OPTIONS)
    assert set(SHORT_OPTIONS.values()) <= help_2_2_7
    assert {option.partition("=")[0] for option, _ in REFUSED} >= set(REFUSED_OPTIONS)


def test_daemon_options_twice():
    assert_error({**host_01(), "keepalived_daemon_options": ["--vrrp", "--vrrp"]},
                 "lists --vrrp twice")
    assert_error({**host_01(), "keepalived_daemon_options": ["--log-detail"] * 3},
                 "lists --log-detail 3 times")


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
