"""keepalived's BFD (model.bfd): bfd_instance blocks (keepalived_bfd_instances) and the
instances and sync groups that track them (track_bfds): table cases, data in, every message
out (host, key path, value, what is allowed), and the rendered lines."""

import pytest

from .hostdata import DROP, host_01, instance, read, rendered

pytestmark = pytest.mark.unit

VI_2 = instance(name="VI_2", interface="eth1", virtual_router_id=52, track_scripts=[],
                priority=100)
SYNCED = {"VG": {"instances": ["VI_1", "VI_2"]}}
GW = {"neighbor_ip": "192.168.1.254"}
GW6 = {"neighbor_ip": "2001:db8::fe"}


def with_bfd(bfd=None, groups=None, instances=None, **vi):
    """host-01 (VI_1, check_ssh without weight) with keepalived_bfd_instances `bfd`."""
    data = host_01(**vi) if instances is None else host_01(instances=instances)
    for key, value in (("keepalived_bfd_instances", bfd), ("keepalived_sync_groups", groups)):
        if value is not None:
            data[key] = value
    return data


def firewall_warning(name, neighbor):
    return (f"host-01: keepalived_bfd_instances.{name}.neighbor_ip = '{neighbor}': BFD "
            "uses UDP 3784 (single hop) and 4784 (multi-hop) from the neighbor, which the "
            "deploy's firewall rules (VRRP only) do not open: make sure the host firewall "
            f"lets them in from {neighbor}")


ERRORS = {
    "neighbor-required": (
        with_bfd({"gw": {"min_rx": 50}}),
        ["host-01: keepalived_bfd_instances.gw.neighbor_ip: required: the neighbor's "
         "address"]),
    "neighbor-not-an-address": (
        with_bfd({"gw": {"neighbor_ip": "gateway"}}),
        ["host-01: keepalived_bfd_instances.gw.neighbor_ip = 'gateway': must be an IPv4 or "
         "IPv6 address without prefix, e.g. 192.168.1.11 or 2001:db8::11"]),
    "bad-name": (
        with_bfd({"my gw": GW}),
        ["host-01: keepalived_bfd_instances['my gw'] = 'my gw': must be a name of letters, "
         "digits and _ . -"]),
    "unknown-key": (
        with_bfd({"gw": {**GW, "neighbour_ip": "192.168.1.253"}}),
        ["host-01: keepalived_bfd_instances.gw.neighbour_ip: unknown key (did you mean "
         "'neighbor_ip'?); allowed: neighbor_ip, source_ip, min_rx, min_tx, idle_tx, "
         "multiplier, passive, ttl, hoplimit, max_hops, weight"]),
    "source-of-the-other-family": (
        with_bfd({"gw": {**GW, "source_ip": "2001:db8::2"}}),
        ["host-01: keepalived_bfd_instances.gw.source_ip = '2001:db8::2': is not IPv4 like "
         "neighbor_ip (192.168.1.254): give an address of the same family"]),
    "min_rx-range": (
        with_bfd({"gw": {**GW, "min_rx": 0}}),
        ["host-01: keepalived_bfd_instances.gw.min_rx = 0: must be a whole number of "
         "milliseconds 1-1000 (keepalived 2.1.5 reads no fraction)"]),
    "min_tx-fraction": (
        with_bfd({"gw": {**GW, "min_tx": 10.5}}),
        ["host-01: keepalived_bfd_instances.gw.min_tx = 10.5: must be a whole number of "
         "milliseconds 1-1000 (keepalived 2.1.5 reads no fraction)"]),
    "idle_tx-range": (
        with_bfd({"gw": {**GW, "idle_tx": 500}}),
        ["host-01: keepalived_bfd_instances.gw.idle_tx = 500: must be a whole number of "
         "milliseconds 1000-10000 (keepalived 2.1.5 reads no fraction)"]),
    "multiplier-range": (
        with_bfd({"gw": {**GW, "multiplier": 11}}),
        ["host-01: keepalived_bfd_instances.gw.multiplier = 11: must be a whole number "
         "1-10"]),
    "weight-range": (
        with_bfd({"gw": {**GW, "weight": 254}}),
        ["host-01: keepalived_bfd_instances.gw.weight = 254: must be a whole number "
         "-253-253"]),
    "hoplimit-for-ipv4": (
        with_bfd({"gw": {**GW, "hoplimit": 10}}),
        ["host-01: keepalived_bfd_instances.gw.hoplimit = 10: applies to IPv6 only and "
         "neighbor_ip is IPv4: use ttl"]),
    "ttl-for-ipv6": (
        with_bfd({"gw6": {**GW6, "ttl": 10}}),
        ["host-01: keepalived_bfd_instances.gw6.ttl = 10: applies to IPv4 only and "
         "neighbor_ip is IPv6: use hoplimit"]),
    "max_hops-above-ttl": (
        with_bfd({"gw": {**GW, "ttl": 2, "max_hops": 3}}),
        ["host-01: keepalived_bfd_instances.gw.max_hops = 3: is more than ttl (2): "
         "keepalived lowers it; set it to at most 2 or raise ttl"]),
    "max_hops-above-default-hoplimit": (
        with_bfd({"gw6": {**GW6, "max_hops": 255}}),
        ["host-01: keepalived_bfd_instances.gw6.max_hops = 255: is more than hoplimit (64, "
         "its default): keepalived lowers it; set it to at most 64 or raise hoplimit"]),
    "tracked-undefined": (
        with_bfd({"gateway": GW}, track_bfds=["gatway"]),
        ["host-01: keepalived_vrrp_instances[0].track_bfds[0] = 'gatway': names no block "
         "of keepalived_bfd_instances (did you mean 'gateway'?); defined: gateway"]),
    "tracked-bad-weight": (
        with_bfd({"gw": GW}, track_bfds=["gw weight 300"]),
        ["host-01: keepalived_vrrp_instances[0].track_bfds[0].weight = 300: must be a "
         "whole number -254-254"]),
    "tracked-weighted-in-a-sync-group": (
        with_bfd({"gw": {**GW, "weight": 10}}, groups=SYNCED,
                 instances=[instance(priority=100, track_scripts=[], track_bfds=["gw"]),
                            VI_2]),
        ["host-01: keepalived_vrrp_instances[0].track_bfds[0] = 'gw': tracks with weight "
         "10: keepalived ignores tracking weights of an instance in a sync group; track it "
         "with weight 0 (\"gw weight 0\": a failure means FAULT)"]),
    "group-tracks-undefined": (
        with_bfd({"gw": GW}, groups={"VG": {**SYNCED["VG"], "track_bfds": ["gw6"]}},
                 instances=[instance(priority=100, track_scripts=[]), VI_2]),
        ["host-01: keepalived_sync_groups.VG.track_bfds[0] = 'gw6': names no block of "
         "keepalived_bfd_instances (did you mean 'gw'?); defined: gw"]),
    "group-weight-with-owner": (
        with_bfd({"gw": GW}, groups={"VG": {**SYNCED["VG"], "track_bfds": ["gw weight 5"]}},
                 instances=[instance(priority=255, track_scripts=[]), VI_2]),
        ["host-01: keepalived_sync_groups.VG.track_bfds[0] = 'gw weight 5': tracks with "
         "weight 5: VI_1 has priority 255, and keepalived then ignores the group's tracking "
         "weights; track it with weight 0 (\"gw weight 0\": a failure means FAULT)"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_bfd_data_is_an_error_naming_host_key_value_and_what_is_allowed(case):
    data, expected = ERRORS[case]
    settings, errors, _ = read(data)
    assert settings is None
    assert errors == expected


def test_each_bfd_instance_warns_that_the_firewall_must_let_bfd_in():
    settings, errors, warnings = read(with_bfd({"gw": GW, "gw6": GW6}, track_bfds=["gw"]))
    assert errors == [] and settings is not None
    assert warnings == [firewall_warning("gw", "192.168.1.254"),
                        firewall_warning("gw6", "2001:db8::fe")]


RENDERED = {
    "bfd-instance": (
        with_bfd({"gw": {**GW, "source_ip": "192.168.1.2", "min_rx": 50, "min_tx": 25,
                         "idle_tx": 2000, "multiplier": 3, "passive": True, "ttl": 64,
                         "max_hops": 2, "weight": -20}}, track_bfds=["gw"]),
        "05-bfd.conf",
        "\nbfd_instance gw {\n    neighbor_ip 192.168.1.254\n    source_ip 192.168.1.2\n"
        "    min_rx 50\n    min_tx 25\n    idle_tx 2000\n    multiplier 3\n    ttl 64\n"
        "    max_hops 2\n    passive\n    weight -20\n}\n"),
    "bfd-instance-defaults": (
        with_bfd({"gw6": {**GW6, "hoplimit": 255, "max_hops": 255}}),
        "05-bfd.conf",
        "\nbfd_instance gw6 {\n    neighbor_ip 2001:db8::fe\n    hoplimit 255\n"
        "    max_hops 255\n    weight 0\n}\n"),
    "instance-tracks": (
        with_bfd({"gw": GW, "gw6": GW6}, track_bfds=["gw", {"name": "gw6", "weight": -30}]),
        "20-vrrp_instances.conf",
        "    track_bfd {\n        gw\n        gw6 weight -30\n    }\n"),
    "sync-group-tracks": (
        with_bfd({"gw": GW}, groups={"VG": {**SYNCED["VG"], "track_bfds": ["gw weight 0"]}},
                 instances=[instance(priority=100, track_scripts=[]), VI_2]),
        "20-vrrp_instances.conf",
        "        VI_2\n    }\n\n    track_bfd {\n        gw weight 0\n    }\n}\n"),
}


@pytest.mark.parametrize("case", list(RENDERED))
def test_bfd_renders(case):
    data, name, expected = RENDERED[case]
    assert expected in rendered(data, name)


def test_no_bfd_instances_no_file():
    assert rendered(host_01(track_scripts=DROP), "05-bfd.conf") is None
