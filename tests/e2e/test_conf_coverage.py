"""keepalived.conf coverage on two test hosts with two networks (eth0, eth1):

1. unicast peers derived from the inventory: failover works with multicast VRRP dropped;
2. a notify script records the transitions, read back after the failover;
3. a vrrp_sync_group: when eth1 fails on the master, its eth0 instance moves along.

The tests run in file order on one cluster.
"""

import runpy

import pytest

from testhosts.cluster import GROUP
from testhosts.polling import wait_for

from .conftest import pyinfra, totals

pytestmark = pytest.mark.e2e

HOSTS = 2
NETWORKS = 2

LOG = "/tmp/keepalived-transitions.log"  # /tmp is a tmpfs, writable by the script user
RECORD_STATE = {"name": "record_state.sh", "template": "notify_record_state.sh.j2",
                "vars": {"log_file": LOG}}
# Drops multicast VRRP (224.0.0.18) both ways and counts unicast VRRP received.
BLOCK_MULTICAST = (
    "nft add table inet kt_test && "
    "nft add chain inet kt_test out '{ type filter hook output priority 0; }' && "
    "nft add chain inet kt_test in '{ type filter hook input priority 0; }' && "
    "nft add rule inet kt_test out ip daddr 224.0.0.18 counter drop comment multicast_out && "
    "nft add rule inet kt_test in ip daddr 224.0.0.18 counter drop comment multicast_in && "
    "nft add rule inet kt_test in ip protocol 112 ip daddr ADDRESS counter comment unicast_in"
)


def write_inventory(cluster, tmp_path, **group_data):
    """The cluster's inventory with its group data changed."""
    return cluster.derived_inventory(str(tmp_path / "inventory.py"),
                                     lambda data: {**data, **group_data})


def deploy(inventory):
    result = pyinfra(inventory, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    assert totals(result)[2] == 0
    return result


def transitions(cluster, host):
    return cluster.run(host, f"cat {LOG} 2>/dev/null")[1]


def nft_counter(cluster, host, comment):
    """Packets counted by the kt_test rule with this comment."""
    table = cluster.run(host, "nft list table inet kt_test")[1]
    for line in table.splitlines():
        if f'comment "{comment}"' in line:
            return int(line.split("packets")[1].split()[0])
    raise AssertionError(f"no nft rule {comment!r} on {host}:\n{table}")


def instance(cluster, **overrides):
    """The seed's VI_1 on eth0, with the cluster's VIP."""
    seed = runpy.run_path(cluster.inventory_path)[GROUP][1]["keepalived_vrrp_instances"][0]
    return {**seed, **overrides}


def test_unicast_failover_with_multicast_dropped_and_notify_records_it(cluster, tmp_path):
    for host in ("host-01", "host-02"):
        block = BLOCK_MULTICAST.replace("ADDRESS", cluster.address(host))
        code, output = cluster.run(host, block)
        assert code == 0, output
        # The rule really drops multicast to 224.0.0.18:
        assert cluster.run(host, "ping -c 1 -W 1 224.0.0.18")[0] != 0
        assert nft_counter(cluster, host, "multicast_out") == 1
    inventory = write_inventory(
        cluster, tmp_path,
        keepalived_vrrp_instances=[instance(cluster, unicast_peers="inventory",
                                            notify="record_state.sh")],
        keepalived_notify_scripts=[RECORD_STATE],
        # The nft table above is the test's instrument, not a firewall to open: the deploy's
        # VRRP accept rule would go first in its input chain and hide the counter.
        keepalived_firewall=False,
    )

    deploy(inventory)

    peer_of = {"host-01": cluster.address("host-02"), "host-02": cluster.address("host-01")}
    for host, peer in peer_of.items():
        config = cluster.run(host, "cat /etc/keepalived/conf.d/20-vrrp_instances.conf")[1]
        assert f"unicast_src_ip {cluster.address(host)}\n" in config
        assert f"    unicast_peer {{\n        {peer}\n    }}\n" in config
        stat = cluster.run(host, "stat -c '%U:%G %a' /etc/keepalived/scripts/record_state.sh")
        assert stat[1].strip() == "root:root 755"
    # Steady state: host-01 holds the VIP and host-02 keeps hearing its unicast adverts, for
    # longer than it waits before taking over without them (Master_Down_Interval 3.65 s).
    # (At start host-02 may be MASTER briefly, until host-01 preempts: that is VRRP.)
    assert wait_for(lambda: cluster.holders() == ["host-01"], 15) is not None, cluster.holders()
    heard = nft_counter(cluster, "host-02", "unicast_in")
    assert wait_for(lambda: nft_counter(cluster, "host-02", "unicast_in") >= heard + 5, 10), \
        "host-02 stopped receiving unicast VRRP adverts"
    assert cluster.holders() == ["host-01"]
    assert wait_for(lambda: "INSTANCE VI_1 MASTER" in transitions(cluster, "host-01"), 10)
    before = transitions(cluster, "host-02").splitlines()
    assert before[-1].endswith(" INSTANCE VI_1 BACKUP 90"), before

    cluster.run("host-01", "systemctl stop keepalived")
    moved = wait_for(lambda: cluster.holders() == ["host-02"], timeout=5)
    assert moved is not None, f"VIP held by {cluster.holders()} after stopping the master"
    assert wait_for(lambda: len(transitions(cluster, "host-02").splitlines()) > len(before),
                    5), transitions(cluster, "host-02")
    lines = transitions(cluster, "host-02").splitlines()
    assert [line.split(" ", 1)[1] for line in lines[len(before):]] == [
        "INSTANCE VI_1 MASTER 90"]
    # written by the notify script, so it ran as the script user:
    assert cluster.run("host-02", f"stat -c %U {LOG}")[1].strip() == "keepalived_script"
    print(f"unicast failover (graceful stop, multicast dropped): {moved:.2f} s")

    cluster.run("host-01", "systemctl start keepalived")
    back = wait_for(lambda: cluster.holders() == ["host-01"], timeout=10)
    assert back is not None, f"VIP held by {cluster.holders()} after the master came back"
    assert wait_for(lambda: transitions(cluster, "host-02").rstrip().endswith(
        "INSTANCE VI_1 BACKUP 90"), 5), transitions(cluster, "host-02")


def test_sync_group_moves_both_instances_together(cluster, tmp_path):
    for host in ("host-01", "host-02"):
        cluster.run(host, "nft delete table inet kt_test")
    vip_0, vip_1 = cluster.vip(0), cluster.vip(1)
    inventory = write_inventory(
        cluster, tmp_path,
        keepalived_vrrp_instances=[
            # Tracking weights are ignored in sync groups: a failed check means FAULT here.
            instance(cluster, track_scripts=[]),
            instance(cluster, name="VI_2", interface="eth1", virtual_router_id=52,
                     virtual_ipaddresses=[vip_1], track_scripts=[]),
        ],
        keepalived_check_scripts=[],
        keepalived_sync_groups={"VG_1": {"instances": ["VI_1", "VI_2"]}},
    )

    deploy(inventory)

    def holders():
        return cluster.holders(vip_0, "eth0"), cluster.holders(vip_1, "eth1")

    assert wait_for(lambda: holders() == (["host-01"], ["host-01"]), 15) is not None, holders()
    # eth1 fails on the master: VI_2 goes to FAULT, and the group takes VI_1 (whose eth0 is
    # fine) along: both addresses move to host-02.
    cluster.run("host-01", "ip link set eth1 down")
    moved = wait_for(lambda: holders() == (["host-02"], ["host-02"]), 10)
    assert moved is not None, holders()
    print(f"sync group failover (eth1 down on the master): {moved:.2f} s")

    cluster.run("host-01", "ip link set eth1 up")
    back = wait_for(lambda: holders() == (["host-01"], ["host-01"]), 15)
    assert back is not None, holders()
