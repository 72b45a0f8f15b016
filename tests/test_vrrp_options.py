"""The VRRP keywords beyond the seed role (model.keys fields, model.vrrp_options and
model.static rules): table cases, host data in, the exact message out (or the validated
value)."""

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.model.peers import agreement
from pyinfra_keepalived.model.problems import KeepalivedDataError
from pyinfra_keepalived.render.firewall import vrrp_peers

from .hostdata import (
    DROP,
    assert_error,
    assert_valid,
    host_01,
    host_02,
    instance,
    read,
    script,
)

pytestmark = pytest.mark.unit

NOTIFY = [{"name": "page.sh", "content": "#!/bin/sh\nlogger \"$@\"\n"}]
VI_2 = instance(name="VI_2", interface="eth1", virtual_router_id=52, priority=100,
                state="MASTER", virtual_ipaddresses=["192.168.2.100/24"], track_scripts=[])
INSTANCE = "host-01: keepalived_vrrp_instances[0]"
GROUP = "host-01: keepalived_sync_groups.VG_1"


def with_data(instance_overrides=None, **data):
    return {**host_01(**(instance_overrides or {})), **data}


def grouped(**group):
    """VI_1 (tracking nothing) and VI_2 in sync group VG_1 with `group`'s keys."""
    return with_data({"track_scripts": []}, keepalived_vrrp_instances=[
        instance(priority=100, state="MASTER", track_scripts=[]), VI_2],
        keepalived_check_scripts=[script(weight=DROP)], keepalived_notify_scripts=NOTIFY,
        keepalived_sync_groups={"VG_1": {"instances": ["VI_1", "VI_2"], **group}})


def fifo(**global_defs):
    return with_data(keepalived_global_defs=global_defs, keepalived_notify_scripts=NOTIFY)


ERRORS = {
    # -- instances: each keyword by its type
    "debug": (with_data({"debug": 5}), f"{INSTANCE}.debug = 5: must be a whole number 0-4"),
    "accept-not-a-flag": (with_data({"accept": "yes"}),
                          f"{INSTANCE}.accept = 'yes': must be true or false"),
    "strict_mode": (with_data({"strict_mode": 1}),
                    f"{INSTANCE}.strict_mode = 1: must be true or false"),
    "garp_lower_prio_repeat": (with_data({"garp_lower_prio_repeat": 0}),
                               f"{INSTANCE}.garp_lower_prio_repeat = 0: must be a whole "
                               "number 1-2147483647"),
    "kernel_rx_buf_size": (with_data({"kernel_rx_buf_size": "big"}),
                           f"{INSTANCE}.kernel_rx_buf_size = 'big': must be a whole number "
                           "1-2147483647"),
    "rx_lower_pri-unknown-script": (
        with_data({"notify_master_rx_lower_pri": "pgae.sh X"}, keepalived_notify_scripts=NOTIFY),
        f"{INSTANCE}.notify_master_rx_lower_pri = 'pgae.sh X': must name a script of "
        "keepalived_notify_scripts, optionally followed by arguments (did you mean "
        "'page.sh'?); defined: page.sh"),
    # -- instances: rules between keywords
    "mcast_src_ip-not-an-address": (with_data({"mcast_src_ip": "192.168.1"}),
                                    f"{INSTANCE}.mcast_src_ip = '192.168.1': must be an IPv4 "
                                    "or IPv6 address without prefix, e.g. 192.168.1.11 or 2001:db8::11"),
    "mcast_src_ip-family": (with_data({"mcast_src_ip": "2001:db8::2"}),
                            f"{INSTANCE}.mcast_src_ip = '2001:db8::2': is IPv6 but the "
                            "instance is IPv4: keepalived sends adverts of the instance's "
                            "family"),
    "mcast_src_ip-unicast": (with_data({"mcast_src_ip": "192.168.1.2",
                                        "unicast_peers": ["192.168.1.3"],
                                        "unicast_src_ip": "192.168.1.2"}),
                             f"{INSTANCE}.mcast_src_ip = '192.168.1.2': is unicast_src_ip "
                             "under another name for a unicast instance (keepalived reads "
                             "both as one); set unicast_src_ip instead"),
    "brd-ipv6": (with_data({"virtual_ipaddresses": [{"address": "2001:db8::1/64",
                                                     "brd": "2001:db8::ffff"}],
                            "auth_type": DROP, "auth_pass": DROP}),
                 f"{INSTANCE}.virtual_ipaddresses[0].brd = '2001:db8::ffff': IPv6 addresses "
                 "have no broadcast address"),
    # -- virtual_rules
    "rule-odd-words": (with_data({"virtual_rules": ["from 10.0.0.0/8 table"]}),
                       f"{INSTANCE}.virtual_rules[0] = 'from 10.0.0.0/8 table': must be "
                       "keyword value pairs (from, to, iif, oif, fwmark, priority, table), or "
                       "a mapping of from, to, iif, oif, fwmark, priority, table"),
    "rule-no-priority": (with_data({"virtual_rules": ["from 10.0.0.0/8 table 100"]}),
                         f"{INSTANCE}.virtual_rules[0].priority: required: rule priority, ip "
                         "rule's preference"),
    "rule-unknown-keyword": (with_data({"virtual_rules": [
        "from 10.0.0.0/8 table 100 priority 5 lookup main"]}),
        f"{INSTANCE}.virtual_rules[0].lookup: unknown option; allowed: from, to, iif, oif, "
        "fwmark, priority, table"),
    "rule-address": (with_data({"virtual_rules": [{"from": "10.0.0.0/33", "table": 1,
                                                   "priority": 5}]}),
                     f"{INSTANCE}.virtual_rules[0].from = '10.0.0.0/33': must be an address, "
                     "a network (e.g. 192.168.2.0/24) or all"),
    "rule-families": (with_data({"virtual_rules": [
        "from 10.0.0.0/8 to 2001:db8::/64 table 1 priority 5"]}),
        f"{INSTANCE}.virtual_rules[0].to = '2001:db8::/64': is IPv6 but from is IPv4: an ip "
        "rule has one family"),
    # -- global_defs
    "mcast_group4": (fifo(vrrp_mcast_group4="224.0.0.1/32"),
                     "host-01: keepalived_global_defs.vrrp_mcast_group4 = '224.0.0.1/32': must "
                     "be an IPv4 multicast address, e.g. 224.0.0.18"),
    "mcast_group6-unicast": (fifo(vrrp_mcast_group6="2001:db8::1"),
                             "host-01: keepalived_global_defs.vrrp_mcast_group6 = "
                             "'2001:db8::1': must be an IPv6 multicast address, e.g. ff02::12"),
    "process-priority": (fifo(vrrp_priority=-21),
                         "host-01: keepalived_global_defs.vrrp_priority = -21: must be a whole "
                         "number -20-19"),
    "rlimit_rttime": (fifo(vrrp_rlimit_rttime=500),
                      "host-01: keepalived_global_defs.vrrp_rlimit_rttime = 500: must be a "
                      "whole number of microseconds 10000 (keepalived's default) or more: the "
                      "kernel kills a realtime process that runs longer"),
    "snmp_socket": (fifo(snmp_socket="localhost"),
                    "host-01: keepalived_global_defs.snmp_socket = 'localhost': must be an "
                    "AgentX socket, e.g. udp:127.0.0.1:705, tcp:127.0.0.1:705 or "
                    "unix:/var/agentx/master"),
    "dbus-with-no-swap": (fifo(enable_dbus=True, vrrp_no_swap=True),
                          "host-01: keepalived_global_defs.enable_dbus = True: with vrrp_no_swap "
                          "makes the VRRP process of keepalived 2.1.5 (Debian 11) without "
                          "CAP_IPC_LOCK die and restart in a loop (its D-Bus thread cannot "
                          "start in locked memory): the VIPs flap; drop vrrp_no_swap or "
                          "enable_dbus"),
    "fifo-relative": (fifo(vrrp_notify_fifo="run/fifo"),
                      "host-01: keepalived_global_defs.vrrp_notify_fifo = 'run/fifo': must be "
                      "a normalised absolute path of a file: letters, digits and _ . - /, no . "
                      "or .. parts, no // or trailing /"),
    "fifo-script-without-fifo": (fifo(vrrp_notify_fifo_script="page.sh"),
                                 "host-01: keepalived_global_defs.vrrp_notify_fifo_script = "
                                 "'page.sh': needs vrrp_notify_fifo: the FIFO keepalived writes "
                                 "and the script reads"),
    "notify-fifo-script-without-fifo": (fifo(notify_fifo_script="page.sh"),
                                        "host-01: keepalived_global_defs.notify_fifo_script = "
                                        "'page.sh': needs notify_fifo: the FIFO keepalived "
                                        "writes and the script reads"),
    "unicast_ttl": (with_data({"unicast_ttl": 256}),
                    f"{INSTANCE}.unicast_ttl = 256: must be a whole number 0-255"),
    # (a command is a program and words: model.commands)
    "fifo-script-bad-command": (fifo(vrrp_notify_fifo="/run/k.fifo",
                                     vrrp_notify_fifo_script="/bin/sh -c {x}"),
                                "host-01: keepalived_global_defs.vrrp_notify_fifo_script = "
                                "'/bin/sh -c {x}': argument '{x}' must be a single word "
                                "without quotes, backslashes, braces, # or ! (for more, write "
                                "a script file: template or content) (or name a script of "
                                "keepalived_notify_scripts; defined: page.sh)"),
    "fifo-script-not-text": (fifo(vrrp_notify_fifo="/run/k.fifo",
                                  vrrp_notify_fifo_script=["page.sh"]),
                             "host-01: keepalived_global_defs.vrrp_notify_fifo_script = "
                             "['page.sh']: must be a command: a program (an absolute path, "
                             "or a name found on the host's PATH /usr/local/sbin:/usr/local/"
                             "bin:/usr/sbin:/usr/bin:/sbin:/bin) and its arguments, each a "
                             "single word without quotes, backslashes, braces, # or ! (for "
                             "more, write a script file: template or content) (or name a "
                             "script of keepalived_notify_scripts)"),
    # -- sync groups
    "group-notify": (grouped(notify_fault="nope.sh"),
                     f"{GROUP}.notify_fault = 'nope.sh': must name a script of "
                     "keepalived_notify_scripts, optionally followed by arguments (did you "
                     "mean 'page.sh'?); defined: page.sh"),
    "group-track-unknown-script": (grouped(track_scripts=["check_shh"]),
                                   f"{GROUP}.track_scripts[0] = 'check_shh': names no check "
                                   "script in keepalived_check_scripts (did you mean "
                                   "'check_ssh'?); defined: check_ssh"),
    "group-track-weighted-script": (
        {**grouped(track_scripts=["check_ssh"]), "keepalived_check_scripts": [script()]},
        f"{GROUP}.track_scripts[0] = 'check_ssh': has a weight: keepalived ignores tracking "
        "weights in a sync group; use a check script without weight (a failure means FAULT)"),
    "group-track-interface-weight": (grouped(track_interfaces=["eth2 weight -10"]),
                                     f"{GROUP}.track_interfaces[0].weight = -10: keepalived "
                                     "ignores tracking weights in a sync group; leave weight "
                                     "unset (down means FAULT)"),
    "group-tracks-what-an-instance-tracks": (
        {**grouped(track_interfaces=["eth2"]), "keepalived_vrrp_instances": [
            instance(priority=100, state="MASTER", track_scripts=[],
                     track_interfaces=["eth2"]), VI_2]},
        f"{GROUP}.track_interfaces[0] = 'eth2': is also in track_interfaces of instance VI_1 "
        "of the group: keepalived refuses both; keep it in one place"),
    "global_tracking": (grouped(global_tracking=True),
                        f"{GROUP}.global_tracking = True: is deprecated: keepalived -t refuses "
                        "it; list what the group tracks in its track_interfaces and "
                        "track_scripts instead"),
    "group-smtp_alert": (grouped(smtp_alert="on"),
                         f"{GROUP}.smtp_alert = 'on': must be true or false"),
    # -- keywords refused in extra_lines
    "raw-namespace": (with_data(keepalived_global_defs={"extra_lines": ["net_namespace blue"]}),
                      "host-01: keepalived_global_defs.extra_lines[0] = 'net_namespace blue': "
                      "net_namespace moves keepalived into another network namespace or "
                      "instance: its VIPs would not be where the host firewall, the status "
                      "checks and the clients look; run keepalived in the host's own"),
    "raw-iptables": (with_data({"extra_lines": ["smtp_alert", "vrrp_iptables"]}),
                     f"{INSTANCE}.extra_lines[1] = 'vrrp_iptables': vrrp_iptables is refused "
                     "by the keepalived -t of Debian's packages, built for nftables (2.2.7: "
                     "exit 5); the deploy manages the host firewall (keepalived_firewall)"),
    # -- check scripts
    "init_fail": (with_data(keepalived_check_scripts=[script(init_fail="yes")]),
                  "host-01: keepalived_check_scripts[0].init_fail = 'yes': must be true or "
                  "false"),
    # -- static blocks
    "static-address-no-dev": (with_data(keepalived_static_ipaddresses=["10.0.0.5/24"]),
                              "host-01: keepalived_static_ipaddresses[0].dev: required for a "
                              "static address: keepalived otherwise adds it to global_defs' "
                              "default_interface (eth0)"),
    "static-address-is-a-vip": (with_data(keepalived_static_ipaddresses=[
        "192.168.1.100/24 dev eth0"]),
        "host-01: keepalived_static_ipaddresses[0].address = '192.168.1.100/24': is also a VIP "
        "of instance VI_1: keepalived removes it when that instance is not MASTER; keep it in "
        "one place"),
    "static-address-brd": (with_data(keepalived_static_ipaddresses=[
        "10.0.0.5/24 dev eth0 brd 10.0.1.255"]),
        "host-01: keepalived_static_ipaddresses[0].brd = '10.0.1.255': is not in the "
        "address's subnet 10.0.0.0/24"),
    "static-routes-not-a-list": (with_data(keepalived_static_routes="10.6.0.0/16 dev eth0"),
                                 "host-01: keepalived_static_routes = '10.6.0.0/16 dev eth0': "
                                 "must be a list"),
    "static-route-family": (with_data(keepalived_static_routes=[
        "10.6.0.0/16 via 2001:db8::1"]),
        "host-01: keepalived_static_routes[0].via = '2001:db8::1': is IPv6 but the route is "
        "IPv4"),
    "static-route-metric": (with_data(keepalived_static_routes=["10.6.0.0/16 metric -1"]),
                            "host-01: keepalived_static_routes[0].metric = -1: must be a "
                            "whole number 0-4294967295"),
    "static-rule-table": (with_data(keepalived_static_rules=[
        {"from": "all", "priority": 5, "table": "a b"}]),
        "host-01: keepalived_static_rules[0].table = 'a b': must be a routing table number or "
        "name"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_refused_with_its_message(case):
    data, message = ERRORS[case]
    error = assert_error(data, message)
    assert error == message, error  # the whole message, not only its start


def test_instance_options_render_in_keepalived_words():
    settings = assert_valid(with_data({
        "accept": False, "strict_mode": False, "skip_check_adv_addr": True, "debug": 0,
        "dont_track_primary": False, "promote_secondaries": True, "mcast_src_ip": "192.168.1.2",
        "track_src_ip": True, "garp_lower_prio_delay": 0}))
    assert settings.instances[0].options == (
        "mcast_src_ip 192.168.1.2", "track_src_ip", "promote_secondaries",
        "skip_check_adv_addr", "strict_mode false", "debug 0", "garp_lower_prio_delay 0",
        "no_accept")


def test_track_src_ip_without_a_source_is_a_warning():
    _, errors, warnings = read(with_data({"track_src_ip": True}))
    assert errors == []
    assert warnings == [f"{INSTANCE}.track_src_ip = True: has no effect without mcast_src_ip "
                        "(or unicast_src_ip): set the source address, or remove track_src_ip"]


def test_typed_multicast_group_is_where_the_firewall_lets_adverts_in():
    settings = assert_valid(with_data(keepalived_global_defs={
        "vrrp_mcast_group4": "239.1.1.1", "vrrp_mcast_group6": "FF05::12"}))
    # (as ipaddress writes it)
    assert settings.global_defs.mcast_groups == {4: "239.1.1.1", 6: "ff05::12"}
    assert vrrp_peers(settings) == ("4,eth0,,239.1.1.1",)


def test_a_sync_group_notify_script_is_its_path_and_counts_as_used():
    _, errors, warnings = read(grouped(notify="page.sh GROUP"))
    assert errors == [] and not any("page.sh" in warning for warning in warnings), warnings
    settings = assert_valid(grouped(notify="page.sh GROUP"))
    assert settings.sync_groups[0].notify_commands == (
        ("notify", "/etc/keepalived/scripts/page.sh GROUP"),)


def test_static_blocks_are_read_as_entries():
    settings = assert_valid(with_data(
        keepalived_static_ipaddresses=["10.0.0.5/24 dev eth0 brd 10.0.0.255"],
        keepalived_static_routes=[{"to": "default", "via": "10.0.0.1", "table": 100}],
        keepalived_static_rules=["from 10.0.0.0/24 priority 100 table 100"]))
    assert [str(entry) for entries in (settings.static.addresses, settings.static.routes,
                                       settings.static.rules) for entry in entries] == [
        "10.0.0.5/24 brd 10.0.0.255 dev eth0", "default via 10.0.0.1 table 100",
        "from 10.0.0.0/24 priority 100 table 100"]


# -- peers must send their multicast adverts to the same group

GROUP_CASES = {
    "default on both": ({}, {}, None),
    "the default written out": ({"vrrp_mcast_group4": "224.0.0.18"}, {}, None),
    "the same group": ({"vrrp_mcast_group4": "239.1.1.1"},
                       {"extra_lines": ["vrrp_mcast_group4 239.1.1.1"]}, None),
    "one host another group": ({"vrrp_mcast_group4": "239.1.1.1"}, {},
                               "host-02: keepalived_vrrp_instances[0].multicast_group = "
                               "'224.0.0.18': differs from host-01's VI_1 (239.1.1.1): peers "
                               "sending their adverts to different multicast groups "
                               "(keepalived_global_defs' vrrp_mcast_group4/6) never hear each "
                               "other: both become MASTER; use the same value on every host"),
}


@pytest.mark.parametrize("case", list(GROUP_CASES))
def test_peers_multicast_to_one_group(case):
    first, second, expected = GROUP_CASES[case]
    hosts = [("host-01", with_data(keepalived_global_defs=first)),
             ("host-02", {**host_02(), "keepalived_global_defs": second})]
    if expected is None:
        check_hosts(hosts, warn=lambda message: None)
    else:
        with pytest.raises(KeepalivedDataError) as error:
            check_hosts(hosts, warn=lambda message: None)
        assert [str(problem) for problem in error.value.errors] == [expected]


def test_the_agreement_holds_a_multicast_group_not_keepalived_default():
    default = assert_valid(with_data())
    assert "multicast_group" not in agreement(default.instances[0])  # files as before
    moved = assert_valid(with_data(keepalived_global_defs={"vrrp_mcast_group4": "239.1.1.1"}))
    assert agreement(moved.instances[0]).splitlines()[-1] == "multicast_group 239.1.1.1"
    unicast = assert_valid(with_data({"unicast_peers": ["192.168.1.3"],
                                      "unicast_src_ip": "192.168.1.2"},
                                     keepalived_global_defs={"vrrp_mcast_group4": "239.1.1.1"}))
    assert "multicast_group" not in agreement(unicast.instances[0])
