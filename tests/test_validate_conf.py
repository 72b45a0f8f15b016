"""Unit tests for the keepalived.conf coverage beyond the seed role: VRRP version and
advert_int, preemption, gratuitous ARP, unicast (and peers derived from the inventory),
notify scripts, track_interface, VIP options, excluded VIPs, routes, IPv6, sync groups and
the extra_lines escape hatch. Every message is asserted with host, key path and value.
"""

import pytest

from pyinfra_keepalived.render.config import config_files, script_content

from .hostdata import (
    DROP,
    assert_error,
    assert_valid,
    check,
    check_fails,
    host_01,
    host_02,
    instance,
    read,
    script,
)

pytestmark = pytest.mark.unit

RECORD = {"name": "record.sh", "template": "notify_record_state.sh.j2",
          "vars": {"log_file": "/tmp/transitions.log"}}
IPV6 = {"virtual_ipaddresses": ["2001:db8::100/64"], "auth_type": DROP, "auth_pass": DROP}


def warnings_of(data, name="host-01"):
    settings, errors, warnings = read(data, name)
    assert errors == [], errors
    return warnings


def assert_warning(data, expected):
    warnings = warnings_of(data)
    assert any(expected in warning for warning in warnings), warnings


def with_global(data, **global_defs):
    return {**data, "keepalived_global_defs": global_defs}


def unicast_hosts(first=None, second=None, **overrides):
    """host-01 (MASTER, 192.0.2.1) and host-02 (BACKUP, 192.0.2.2), unicast peers derived."""
    return [
        ("host-01", {**host_01(unicast_peers="inventory", **overrides),
                     "ssh_hostname": "192.0.2.1", **(first or {})}),
        ("host-02", {**host_02(unicast_peers="inventory", **overrides),
                     "ssh_hostname": "192.0.2.2", **(second or {})}),
    ]


# -- VRRP version, advert_int, authentication -------------------------------------------

@pytest.mark.parametrize("where", ["instance", "global_defs"])
def test_sub_second_advert_int_needs_version_3(where):
    if where == "instance":
        data = host_01(advert_int=0.5, version=3, auth_type=DROP, auth_pass=DROP)
    else:
        data = with_global(host_01(advert_int=0.5, auth_type=DROP, auth_pass=DROP),
                           vrrp_version=3)

    vi_1 = assert_valid(data).instances[0]

    assert (vi_1.advert_int, vi_1.effective_version) == (0.5, 3)


def test_sub_second_advert_int_with_version_2_names_the_fix():
    assert_error(host_01(advert_int=0.5),
                 "host-01: keepalived_vrrp_instances[0].advert_int = 0.5: VRRPv2 adverts are "
                 "whole seconds 1-255 (keepalived rounds anything else); sub-second adverts need "
                 "VRRP version 3 (version: 3 here, or vrrp_version: 3 in keepalived_global_defs)")


@pytest.mark.parametrize("advert_int", [0.015, 41, 0.005])
def test_version_3_advert_int_is_0_01_to_40_95_in_steps_of_0_01(advert_int):
    assert_error(host_01(advert_int=advert_int, version=3, auth_type=DROP, auth_pass=DROP),
                 f"host-01: keepalived_vrrp_instances[0].advert_int = {advert_int}: VRRPv3 "
                 "adverts are 0.01-40.95 seconds in steps of 0.01")


@pytest.mark.parametrize("make_data, key, value", [
    (lambda: host_01(version=4), "keepalived_vrrp_instances[0].version", "4"),
    (lambda: with_global(host_01(), vrrp_version="3"), "keepalived_global_defs.vrrp_version",
     "'3'"),
], ids=["instance", "global_defs"])
def test_version_must_be_2_or_3(make_data, key, value):
    assert_error(make_data(), f"host-01: {key} = {value}: must be one of 2, 3")


@pytest.mark.parametrize("make_data", [
    lambda: host_01(version=3),
    lambda: with_global(host_01(), vrrp_version=3),
    lambda: host_01(virtual_ipaddresses=["2001:db8::100/64"]),
], ids=["instance-v3", "global-v3", "ipv6"])
def test_authentication_with_version_3_is_an_error(make_data):
    assert_error(make_data(), "host-01: keepalived_vrrp_instances[0].auth_type = 'PASS': "
                              "VRRP version 3 (also every IPv6 instance) has no authentication: "
                              "keepalived ignores it; remove auth_type and auth_pass")


# -- IPv6 -------------------------------------------------------------------------------

def test_ipv6_instance_is_version_3():
    vi_1 = assert_valid(host_01(**IPV6)).instances[0]

    assert (vi_1.family, vi_1.effective_version) == (6, 3)


def test_ipv6_instance_with_version_2_is_an_error():
    assert_error(host_01(version=2, **IPV6),
                 "host-01: keepalived_vrrp_instances[0].version = 2: IPv6 VRRP exists only as "
                 "version 3: keepalived silently uses 3")


def test_native_ipv6_with_ipv4_vips_is_an_error():
    assert_error(host_01(native_ipv6=True),
                 "host-01: keepalived_vrrp_instances[0].native_ipv6 = True: makes the instance "
                 "IPv6, and keepalived then ignores its IPv4 virtual_ipaddresses")


def test_native_ipv6_must_be_a_flag():
    assert_error(host_01(native_ipv6="yes", **IPV6),
                 "host-01: keepalived_vrrp_instances[0].native_ipv6 = 'yes': must be true or false")


def test_ipv4_and_ipv6_instances_may_share_a_vrid():
    vi_6 = instance(name="VI_6", priority=100, state="MASTER", **IPV6)
    settings = assert_valid({**host_01(), "keepalived_vrrp_instances": [
        instance(priority=100, state="MASTER"), vi_6]})

    assert [i.family for i in settings.instances] == [4, 6]


# -- preemption and gratuitous ARP ------------------------------------------------------

@pytest.mark.parametrize("key, value", [("nopreempt", True), ("preempt_delay", 30)])
def test_preemption_options_need_state_backup(key, value):
    assert_error(host_01(**{key: value}),
                 f"host-01: keepalived_vrrp_instances[0].{key} = {value}: needs state BACKUP: "
                 "keepalived clears it for an initial state MASTER")


@pytest.mark.parametrize("key, value", [("nopreempt", True), ("preempt_delay", 30)])
def test_preemption_options_with_state_backup_are_accepted(key, value):
    vi_1 = assert_valid(host_02(**{key: value})).instances[0]

    assert getattr(vi_1, key) == value


def test_nopreempt_with_priority_255_is_an_error():
    assert_error(host_02(priority=255, nopreempt=True, track_scripts=[], scripts=[]),
                 "host-01: keepalived_vrrp_instances[0].nopreempt = True: keepalived clears "
                 "nopreempt at priority 255")


@pytest.mark.parametrize("delay", [-1, 1001, "30"])
def test_preempt_delay_is_0_to_1000_seconds(delay):
    assert_error(host_02(preempt_delay=delay),
                 f"host-01: keepalived_vrrp_instances[0].preempt_delay = {delay!r}: must be a "
                 "number of seconds 0-1000")


def test_preempt_delay_with_nopreempt_is_an_error():
    # keepalived 2.2.7's -t: "(VI_1) preempt_delay is incompatible with nopreempt mode -
    # resetting", exit 5 (found by test_fuzz_validation)
    assert_error(host_02(nopreempt=True, preempt_delay=30),
                 "host-01: keepalived_vrrp_instances[0].preempt_delay = 30: has no effect "
                 "with nopreempt (keepalived -t refuses the pair); remove one of them")


def test_nopreempt_must_be_a_flag():
    assert_error(host_02(nopreempt="yes"),
                 "host-01: keepalived_vrrp_instances[0].nopreempt = 'yes': must be true or false")


@pytest.mark.parametrize("key", ["garp_master_delay", "garp_master_refresh"])
def test_garp_options_are_whole_seconds(key):
    assert assert_valid(host_01(**{key: 5})).instances[0].__dict__[key] == 5
    assert_error(host_01(**{key: -1}), f"host-01: keepalived_vrrp_instances[0].{key} = -1: "
                                       "must be a whole number of seconds, 0-4294")


# -- unicast ----------------------------------------------------------------------------

def test_unicast_peers_by_hand():
    vi_1 = assert_valid(host_01(unicast_src_ip="192.0.2.1",
                                unicast_peers=["192.0.2.2", "192.0.2.3"])).instances[0]

    assert (vi_1.unicast_src_ip, vi_1.unicast_peers) == ("192.0.2.1", ("192.0.2.2", "192.0.2.3"))


def test_unicast_peers_derived_from_the_inventory_leave_the_host_out():
    third = ("host-03", {**host_02(priority=80, unicast_peers="inventory"),
                         "keepalived_unicast_src_ip": "192.0.2.3", "ssh_hostname": "jump3"})
    settings, _ = check(*unicast_hosts(), third)

    assert settings["host-01"].instances[0].unicast_peers == ("192.0.2.2", "192.0.2.3")
    assert settings["host-02"].instances[0].unicast_src_ip == "192.0.2.2"
    assert settings["host-03"].instances[0].unicast_peers == ("192.0.2.1", "192.0.2.2")
    assert settings["host-03"].instances[0].unicast_src_ip == "192.0.2.3"


def test_host_name_that_is_an_address_is_used_without_ssh_hostname():
    settings, _ = check(("192.0.2.1", host_01(unicast_peers="inventory")),
                        ("192.0.2.2", host_02(unicast_peers="inventory")))

    assert settings["192.0.2.1"].instances[0].unicast_peers == ("192.0.2.2",)


def test_instance_unicast_src_ip_wins_and_is_what_peers_use():
    settings, _ = check(*unicast_hosts(second={"keepalived_unicast_src_ip": "192.0.2.22"}))

    assert settings["host-01"].instances[0].unicast_peers == ("192.0.2.22",)


def test_unknown_own_address_is_an_error_naming_the_host():
    hosts = unicast_hosts(second={"ssh_hostname": "jump2.example.net"})
    error = check_fails(*hosts)

    assert [str(problem) for problem in error.errors] == [
        "host-02: keepalived_unicast_src_ip = None: required for keepalived_vrrp_instances[0]"
        ".unicast_peers 'inventory': the host's own VRRP address is not known (set "
        "keepalived_unicast_src_ip, or ssh_hostname to an IP address, or unicast_src_ip on "
        "the instance)"]


def test_peer_without_known_address_is_an_error_naming_the_peer():
    hosts = unicast_hosts(second={"ssh_hostname": "jump2.example.net"})
    hosts[1] = ("host-02", {**hosts[1][1], "keepalived_vrrp_instances": [
        instance(priority=90, state="BACKUP", unicast_peers=["192.0.2.1"])]})

    error = check_fails(*hosts)

    assert "host-01: keepalived_vrrp_instances[0].unicast_peers = 'inventory': the address of " \
           "peer host-02 is not known: set its keepalived_unicast_src_ip" in str(error)


def test_derived_peers_need_another_host():
    error = check_fails(unicast_hosts()[0])

    assert "host-01: keepalived_vrrp_instances[0].unicast_peers = 'inventory': no other host " \
           "of the inventory has VI_1, so there are no peers to derive" in str(error)


def test_two_hosts_with_one_address_is_an_error():
    error = check_fails(*unicast_hosts(second={"ssh_hostname": "192.0.2.1"}))

    assert "host-01: keepalived_vrrp_instances[0].unicast_peers = 'inventory': peer host-02 " \
           "has the address 192.0.2.1 of another host of VI_1" in str(error)


@pytest.mark.parametrize("unicast, given, expected, rendered", [
    (True, None, True, True),
    (True, False, False, False),
    (False, None, None, False),
    (False, True, True, True),
], ids=["unicast-default-on", "unicast-set-off", "multicast-unset", "multicast-set-on"])
def test_vrrp_check_unicast_src_is_on_by_default_where_an_instance_is_unicast(
        unicast, given, expected, rendered):
    """keepalived then drops unicast adverts from any address but unicast_peers (it skips
    the TTL check for unicast); set false, it stays off."""
    data = host_01(unicast_src_ip="192.0.2.1", unicast_peers=["192.0.2.2"]) if unicast \
        else host_01()
    if given is not None:
        data = with_global(data, vrrp_check_unicast_src=given)
    settings = assert_valid(data)
    assert settings.global_defs.vrrp_check_unicast_src is expected
    global_defs = next(file.content for path, file in config_files(settings).items()
                       if path.endswith("00-global_defs.conf"))
    assert ("    vrrp_check_unicast_src\n" in global_defs) is rendered


def test_vrrp_check_unicast_src_must_be_a_flag():
    assert_error(with_global(host_01(), vrrp_check_unicast_src="yes"),
                 "host-01: keepalived_global_defs.vrrp_check_unicast_src = 'yes': must be "
                 "true or false")


def test_unicast_and_multicast_peers_is_an_error():
    hosts = unicast_hosts()
    hosts[1] = ("host-02", host_02())

    error = check_fails(*hosts)

    assert "host-02: keepalived_vrrp_instances[0].unicast_peers = 'multicast': differs from " \
           "host-01's VI_1 (unicast): a multicast peer never hears a unicast one" in str(error)


def test_peers_with_different_vrrp_versions_is_an_error():
    error = check_fails(("host-01", host_01(auth_type=DROP, auth_pass=DROP)),
                        ("host-02", with_global(host_02(auth_type=DROP, auth_pass=DROP),
                                                vrrp_version=3)))

    assert "host-02: keepalived_vrrp_instances[0].effective_version = 3: differs from " \
           "host-01's VI_1 (2): VRRPv2 and VRRPv3 adverts do not match" in str(error)


@pytest.mark.parametrize("overrides, key, value, message", [
    ({"unicast_src_ip": "192.0.2.1"}, "unicast_src_ip", "'192.0.2.1'",
     "needs unicast_peers (a list of addresses, or 'inventory')"),
    ({"unicast_src_ip": "2001:db8::1", "unicast_peers": ["192.0.2.2"]}, "unicast_src_ip",
     "'2001:db8::1'", "is IPv6 but the instance is IPv4"),
    ({"unicast_peers": ["2001:db8::2"]}, "unicast_peers[0]", "'2001:db8::2'",
     "is IPv6 but the instance is IPv4: keepalived drops it"),
    ({"unicast_peers": ["192.0.2.2", "192.0.2.2"]}, "unicast_peers[1]", "'192.0.2.2'",
     "is listed twice"),
    ({"unicast_peers": ["peer-2"]}, "unicast_peers[0]", "'peer-2'",
     "must be an IPv4 or IPv6 address without prefix"),
    ({"unicast_peers": []}, "unicast_peers", "[]", "required: at least one peer address"),
    ({"unicast_peers": "192.0.2.2"}, "unicast_peers", "'192.0.2.2'", "must be a list"),
], ids=["src-without-peers", "src-family", "peer-family", "peer-twice", "peer-name",
        "no-peers", "not-a-list"])
def test_unicast_errors(overrides, key, value, message):
    assert_error(host_01(**overrides),
                 f"host-01: keepalived_vrrp_instances[0].{key} = {value}: {message}")


def test_derived_address_of_the_other_family_is_an_error_naming_where_it_came_from():
    data = {**host_01(unicast_peers="inventory", **IPV6), "ssh_hostname": "192.0.2.1"}

    assert_error(data, "host-01: ssh_hostname = '192.0.2.1': is IPv4 but the instance is IPv6: "
                       "keepalived drops unicast peers of the other family; set an IPv6 "
                       "unicast_src_ip on the instance (or keepalived_unicast_src_ip)")


def test_own_address_in_peers_by_hand_is_a_warning():
    assert_warning(host_01(unicast_src_ip="192.0.2.1", unicast_peers=["192.0.2.1", "192.0.2.2"]),
                   "host-01: keepalived_vrrp_instances[0].unicast_peers[0] = '192.0.2.1': is "
                   "this host's own address (unicast_src_ip); leave it out")


def test_keepalived_unicast_src_ip_must_be_an_address():
    assert_error({**host_01(unicast_peers="inventory"), "keepalived_unicast_src_ip": "jump1"},
                 "host-01: keepalived_unicast_src_ip = 'jump1': must be an IPv4 or IPv6 address")


# -- VIP entries, excluded VIPs, routes, track_interface --------------------------------

@pytest.mark.parametrize("entry", [
    "192.168.1.100/24 dev eth1 label eth1:vip scope global",
    {"address": "192.168.1.100/24", "dev": "eth1", "label": "eth1:vip", "scope": "global"},
], ids=["string", "mapping"])
def test_vip_options_as_string_or_mapping(entry):
    vip = assert_valid(host_01(virtual_ipaddresses=[entry])).instances[0].virtual_ipaddresses[0]

    assert (vip.address, vip.dev, vip.label, vip.scope) == (
        "192.168.1.100/24", "eth1", "eth1:vip", "global")
    assert str(vip) == "192.168.1.100/24 dev eth1 label eth1:vip scope global"


@pytest.mark.parametrize("entry, key, value, message", [
    ("192.168.1.100/24 scope galaxy", "[0].scope", "'galaxy'",
     "must be one of global, site, link, host, nowhere"),
    ("192.168.1.100/24 peer 192.168.1.255", "[0].peer", None,
     "unknown option; allowed: address, dev, label, scope, brd"),
    ("192.168.1.100/24 brd 192.168.1", "[0].brd", "'192.168.1'",
     "must be an IPv4 or IPv6 address without prefix"),
    ("192.168.1.100/24 brd 192.168.2.255", "[0].brd", "'192.168.2.255'",
     "is not in the address's subnet 192.168.1.0/24"),
    ("192.168.1.100/24 dev", "[0]", "'192.168.1.100/24 dev'",
     "must be ADDRESS followed by keyword value pairs"),
    ({"dev": "eth1"}, "[0].address", "None", "required"),
    ("192.168.1.100/24 dev eth1/x", "[0].dev", "'eth1/x'", "must be an interface name"),
    ("192.168.1.100/24 label eth0:a_very_long", "[0].label", "'eth0:a_very_long'",
     "must be a label of 1-15 letters"),
    (42, "[0]", "42", "must be a string or a mapping of address, dev, label, scope, brd"),
], ids=["scope", "unknown-option", "brd-not-an-address", "brd-outside", "odd-words",
        "no-address", "dev", "long-label", "not-a-string"])
def test_vip_entry_errors(entry, key, value, message):
    """value None: not shown (the value of an unknown option may be a secret)."""
    value = "" if value is None else f" = {value}"
    assert_error(host_01(virtual_ipaddresses=[entry]),
                 f"host-01: keepalived_vrrp_instances[0].virtual_ipaddresses{key}{value}: "
                 f"{message}")


def test_ipv6_vip_with_label_is_an_error():
    assert_error(host_01(virtual_ipaddresses=["2001:db8::100/64 label eth0:v6"],
                         auth_type=DROP, auth_pass=DROP),
                 "host-01: keepalived_vrrp_instances[0].virtual_ipaddresses[0].label = "
                 "'eth0:v6': IPv6 addresses have no labels")


def test_label_not_starting_with_the_interface_is_a_warning():
    assert_warning(host_01(virtual_ipaddresses=["192.168.1.100/24 label vip"]),
                   "host-01: keepalived_vrrp_instances[0].virtual_ipaddresses[0].label = 'vip': "
                   "ip(8) wants a label that starts with the interface name: use eth0:NAME")


def test_excluded_vips_may_be_of_the_other_family():
    vi_1 = assert_valid(host_01(virtual_ipaddresses_excluded=["2001:db8::100/64 dev eth0"])
                        ).instances[0]

    assert [str(vip) for vip in vi_1.virtual_ipaddresses_excluded] == ["2001:db8::100/64 dev eth0"]


def test_an_address_in_vips_and_excluded_is_an_error():
    assert_error(host_01(virtual_ipaddresses_excluded=["192.168.1.100/24"]),
                 "host-01: keepalived_vrrp_instances[0].virtual_ipaddresses_excluded = "
                 "['192.168.1.100/24']: lists 192.168.1.100 twice")


@pytest.mark.parametrize("entry, expected", [
    ("10.9.0.0/16 via 192.168.1.254", "10.9.0.0/16 via 192.168.1.254 dev eth0"),
    ({"to": "10.8.0.0/16", "via": "192.168.1.254", "metric": 10, "table": 100},
     "10.8.0.0/16 via 192.168.1.254 dev eth0 table 100 metric 10"),
    ("default via 192.168.1.254 dev eth1 metric 5",
     "default via 192.168.1.254 dev eth1 metric 5"),
    ("10.7.0.0/16 src 192.168.1.100 dev eth0 scope link",
     "10.7.0.0/16 src 192.168.1.100 dev eth0 scope link"),
], ids=["string", "mapping", "default", "src-scope"])
def test_virtual_routes_default_dev_to_the_instance_interface(entry, expected):
    route = assert_valid(host_01(virtual_routes=[entry])).instances[0].virtual_routes[0]

    assert str(route) == expected


@pytest.mark.parametrize("entry, key, value, message", [
    ("10.9.0.1/16", "to", "'10.9.0.1/16'", "must be a network (192.168.2.0/24"),
    ("10.9.0.0/16 via 2001:db8::1", "via", "'2001:db8::1'", "is IPv6 but the route is IPv4"),
    ("10.9.0.0/16 metric x", "metric", "'x'", "must be a whole number 0-4294967295"),
    ("10.9.0.0/16 mtu 1400", "mtu", None, "unknown option; allowed: to, via, dev"),
], ids=["host-bits", "via-family", "metric", "unknown-option"])
def test_virtual_route_errors(entry, key, value, message):
    value = "" if value is None else f" = {value}"  # None: an unknown option, not shown
    assert_error(host_01(virtual_routes=[entry]),
                 f"host-01: keepalived_vrrp_instances[0].virtual_routes[0].{key}{value}: "
                 f"{message}")


@pytest.mark.parametrize("entry, expected", [
    ("eth1", "eth1"), ("eth1 weight -20", "eth1 weight -20"),
    ({"interface": "eth1", "weight": 10}, "eth1 weight 10"),
])
def test_track_interfaces(entry, expected):
    tracked = assert_valid(host_01(track_interfaces=[entry])).instances[0].track_interfaces

    assert [str(track) for track in tracked] == [expected]


@pytest.mark.parametrize("entry, key, value, message", [
    ("eth0", "interface", "'eth0'", "is the instance's own interface, which keepalived always "
                                    "tracks (and ignores here)"),
    ("eth1 weight 254", "weight", "254", "must be a whole number -253-253"),
    ({"interface": "eth1", "weight": -254}, "weight", "-254", "must be a whole number -253-253"),
    ("eth1/x", "interface", "'eth1/x'", "must be an interface name"),
])
def test_track_interface_errors(entry, key, value, message):
    assert_error(host_01(track_interfaces=[entry]),
                 f"host-01: keepalived_vrrp_instances[0].track_interfaces[0].{key} = {value}: "
                 f"{message}")


# -- notify scripts ---------------------------------------------------------------------

def notified(**overrides):
    return {**host_01(**overrides), "keepalived_notify_scripts": [RECORD]}


def test_notify_keys_name_scripts_and_may_pass_arguments():
    settings = assert_valid(notified(notify="record.sh", notify_master="record.sh MASTER now"))

    assert settings.instances[0].notify_commands == (
        ("notify_master", "/etc/keepalived/scripts/record.sh MASTER now"),
        ("notify", "/etc/keepalived/scripts/record.sh"))
    assert settings.notify_scripts[0].path == "/etc/keepalived/scripts/record.sh"
    assert ">> /tmp/transitions.log" in script_content(settings.notify_scripts[0])


def test_notify_keys_may_be_commands():
    settings = assert_valid(notified(notify="record.sh", notify_master="logger -t ka MASTER",
                                     notify_fault="/usr/local/bin/page --fault"))

    assert settings.instances[0].notify_commands == (
        ("notify_master", "logger -t ka MASTER"),
        ("notify_fault", "/usr/local/bin/page --fault"),
        ("notify", "/etc/keepalived/scripts/record.sh"))
    conf = config_files(settings, {"logger": "/usr/bin/logger"})[
        "/etc/keepalived/conf.d/20-vrrp_instances.conf"].content
    assert '    notify_master "/usr/bin/logger -t ka MASTER"\n' in conf
    assert '    notify_fault  "/usr/local/bin/page --fault"\n' in conf
    assert '    notify        "/etc/keepalived/scripts/record.sh"\n' in conf


def test_notify_script_from_content():
    data = {**host_01(notify_fault="page.sh"),
            "keepalived_notify_scripts": [{"name": "page.sh", "content": "#!/bin/sh\nexit 0\n"}]}

    assert script_content(assert_valid(data).notify_scripts[0]) == "#!/bin/sh\nexit 0\n"


@pytest.mark.parametrize("key, value, message", [
    ("notify_master", "recrd.sh", "must name a script of keepalived_notify_scripts, optionally "
                                  "followed by arguments (did you mean 'record.sh'?); defined: "
                                  "record.sh"),
    ("notify_stop", "record.sh 'STOP'", "argument \"'STOP'\" must be a single word"),
    ("notify", ["record.sh"], "must be a command: a program (an absolute path, or a name "
                              "found on the host's PATH "),
    ("notify_backup", "logger -t a#b", "argument 'a#b' must be a single word without quotes, "
                                       "backslashes, braces, # or ! (for more, write a "
                                       "script file: template or content) (or name a script "
                                       "of keepalived_notify_scripts; defined: record.sh)"),
    ("notify_fault", "./page x", "the program './page' must be an absolute path or a name"),
])
def test_notify_key_errors(key, value, message):
    assert_error(notified(**{key: value}),
                 f"host-01: keepalived_vrrp_instances[0].{key} = {value!r}: {message}")


@pytest.mark.parametrize("item, key, message", [
    ({"name": "n.sh", "template": "notify_record_state.sh.j2", "content": "#!/bin/sh\n"}, "",
     "needs exactly one of template (a template name, e.g. notify_record_state.sh.j2) or "
     "content"),
    ({"name": "n.sh"}, "", "needs exactly one of template"),
    ({"name": "n.sh", "content": "exit 0\n"}, ".content",
     "must be the script's text, starting with #!"),
    ({"name": "n.sh", "template": "notify_record_state.sh.j2"}, ".template",
     "the template needs a value that is not set ('log_file' is undefined)"),
    ({"name": "n.sh", "template": ["x.j2"]}, ".template",
     "must be a template name, e.g. notify_record_state.sh.j2"),
    ({"name": "n.sh", "template": "notify_nothing.sh.j2"}, ".template",
     "template not found in "),
    ({"name": "n.sh", "content": "#!/bin/sh\n", "mode": "777"}, ".mode",
     "unknown key; allowed: name, template, content, vars"),
])
def test_notify_script_errors(item, key, message):
    shown = ": " if message.startswith("unknown key") else " = "  # its value: never
    error = assert_error({**host_01(), "keepalived_notify_scripts": [item]},
                         f"host-01: keepalived_notify_scripts[0]{key}{shown}")
    assert message in error


def test_notify_script_named_by_no_instance_is_a_warning():
    assert_warning(notified(), "host-01: keepalived_notify_scripts[0].name = 'record.sh': is "
                               "named by no instance's notify_* key")


def test_notify_script_with_the_file_name_of_a_check_script_is_an_error():
    data = {**host_01(notify="check_ssh.sh"),
            "keepalived_notify_scripts": [{"name": "check_ssh.sh", "content": "#!/bin/sh\n"}]}

    assert_error(data, "host-01: keepalived_notify_scripts[0].name = 'check_ssh.sh': is also "
                       "the file of keepalived_check_scripts[0]")


# -- sync groups ------------------------------------------------------------------------

def synced(groups, track_scripts=(), scripts=None):
    vi_2 = instance(name="VI_2", priority=100, state="MASTER", interface="eth1",
                    virtual_router_id=52, virtual_ipaddresses=["192.168.2.100/24"],
                    track_scripts=list(track_scripts))
    vi_1 = instance(priority=100, state="MASTER", track_scripts=list(track_scripts))
    return {"keepalived_vrrp_instances": [vi_1, vi_2],
            "keepalived_check_scripts": [script(weight=DROP)] if scripts is None else scripts,
            "keepalived_sync_groups": groups}


def test_sync_group_of_two_instances():
    settings = assert_valid(synced({"VG_1": {"instances": ["VI_1", "VI_2"]}},
                                   track_scripts=["check_ssh"]))

    assert [(g.name, g.instances) for g in settings.sync_groups] == [("VG_1", ("VI_1", "VI_2"))]


@pytest.mark.parametrize("groups, key, value, message", [
    ({"VG_1": {"instances": ["VI_1"]}}, "VG_1.instances", "['VI_1']",
     "needs at least two instances: keepalived drops a group of one"),
    ({"VG_1": {"instances": ["VI_1", "VI-2"]}}, "VG_1.instances[1]", "'VI-2'",
     "is not an instance of this host (did you mean 'VI_2'?); instances: VI_1, VI_2"),
    ({"VG_1": {"instances": ["VI_1", "VI_2"]}, "VG_2": {"instances": ["VI_2", "VI_1"]}},
     "VG_2.instances[0]", "'VI_2'", "is already in sync group VG_1: an instance can be in one "
                                    "group only"),
    ({"VG_1": ["VI_1", "VI_2"]}, "VG_1", "['VI_1', 'VI_2']", "must be a mapping"),
    ({"VG_1": {"instances": ["VI_1", "VI_2"], "notify_me": "x"}}, "VG_1.notify_me", None,
     "unknown key (did you mean 'notify_master'?); allowed: instances, track_processes, "
     "track_processs, track_files, notify_master, notify_backup, notify_fault, notify_stop, "
     "notify, smtp_alert, global_tracking, track_interfaces, track_scripts"),
], ids=["one-instance", "unknown-instance", "two-groups", "not-a-mapping", "unknown-key"])
def test_sync_group_errors(groups, key, value, message):
    value = "" if value is None else f" = {value}"  # None: an unknown key, not shown
    assert_error(synced(groups, scripts=[]),
                 f"host-01: keepalived_sync_groups.{key}{value}: {message}")


def test_synced_instance_with_tracking_weight_is_an_error():
    data = synced({"VG_1": {"instances": ["VI_1", "VI_2"]}}, track_scripts=["check_ssh"],
                  scripts=[script()])

    assert_error(data, "host-01: keepalived_sync_groups.VG_1.instances[0] = 'VI_1': tracks with "
                       "a weight (track_scripts check_ssh): keepalived ignores tracking weights "
                       "in a sync group")


# -- extra_lines ------------------------------------------------------------------------

@pytest.mark.parametrize("make_data, key", [
    (lambda lines: with_global(host_01(), extra_lines=lines), "keepalived_global_defs.extra_lines"),
    (lambda lines: host_01(scripts=[script(extra_lines=lines)]),
     "keepalived_check_scripts[0].extra_lines"),
    (lambda lines: host_01(extra_lines=lines), "keepalived_vrrp_instances[0].extra_lines"),
], ids=["global_defs", "vrrp_script", "vrrp_instance"])
def test_extra_lines_per_block(make_data, key):
    lines = ["smtp_alert", "unicast_peer {", "  192.0.2.9", "}"]
    settings = assert_valid(make_data(lines))
    blocks = {"keepalived_global_defs.extra_lines": settings.global_defs,
              "keepalived_check_scripts[0].extra_lines": settings.scripts[0],
              "keepalived_vrrp_instances[0].extra_lines": settings.instances[0]}

    assert blocks[key].extra_lines == ("smtp_alert", "unicast_peer {", "192.0.2.9", "}")

    assert_error(make_data("smtp_alert"), f"host-01: {key} = 'smtp_alert': must be a list")
    assert_error(make_data(["a\nb"]), f"host-01: {key}[0] = 'a\\nb': must be one line of text")
    assert_error(make_data(["}", "{"]), f"host-01: {key}[0] = '}}': closes a brace it did not "
                                        "open: it would end the block early")
    assert_error(make_data(["x {"]), f"host-01: {key} = ['x {{']: leaves 1 brace(s) open")


def test_new_keys_have_did_you_mean():
    assert_error(host_01(nopremept=True), "host-01: keepalived_vrrp_instances[0].nopremept: "
                                          "unknown key (did you mean 'nopreempt'?)")
    assert_error({**host_01(), "keepalived_sync_group": {}},
                 "host-01: keepalived_sync_group: unknown key (did you mean "
                 "'keepalived_sync_groups'?)")
