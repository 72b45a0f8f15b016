"""The operator's track_file and use_vmac on two test hosts, with a client (the observer)
pinging the VIP.

In file order, on one cluster deployed once (VI_1 tracks the track_file `maint` and uses
a VRRP virtual MAC). Docker mounts /proc/sys read-only; each host's own /proc/sys/net
(its network namespace's, nothing of the machine's) is made writable first, as it is on a
real host, so that the deploy's host level can set the sysctls a virtual MAC needs.
1. the client sees the VIP at the VRRP MAC 00:00:5e:00:01:<VRID>, on the master's macvlan,
   never at the interface's own MAC (the host level's arp_announce 2 on eth0);
2. a weight written into the master's file moves the VIP to the peer (the client still
   sees the VRRP MAC, now of the peer); cleared, the VIP comes back;
3. track_process cannot work here: keepalived in a container's network namespace gets no
   answer from the kernel's process-event connector (the journal says so), the evidence
   the docs give;
4. the static address, route and rule (keepalived_static_*) are on both hosts whatever
   their VRRP state: before and after the master hands the VIP over (its track_file).
"""

import pytest

from testhosts.polling import wait_for

from .conftest import pyinfra, record, totals
from .pings import Pings

pytestmark = pytest.mark.e2e

VRID = 51  # the seed's VI_1
VMAC = f"00:00:5e:00:01:{VRID:02x}"  # RFC 5798 7.3: the VRRP MAC of VRID 51, IPv4
MACVLAN = f"vrrp.{VRID}"  # keepalived's name for it
MAINT = "/run/keepalived-maint"  # the track_file (tmpfs: empty at each boot)
ROUTED = "198.51.100.0/24"  # TEST-NET-2 (RFC 5737): the static route's and rule's; no traffic
RULE_TABLE, RULE_PRIORITY = 100, 1000  # the static rule: to ROUTED lookup (empty) table 100


def tracking_data(data, cluster):
    """The cluster's group data with the track_file and the vmac on VI_1, a
    vrrp_track_process (for test 3): sshd, which runs on each host but which keepalived
    cannot see here, so each host's priority is 5 lower (95 and 85: still in order); and a
    static route (via the network's gateway) and a static rule (for test 4)."""
    vi_1 = dict(data["keepalived_vrrp_instances"][0], use_vmac=True, track_files=["maint"],
                track_processes=["sshd"])
    return {**data, "keepalived_vrrp_instances": [vi_1],
            "keepalived_track_files": {"maint": {"file": MAINT}},
            "keepalived_track_processes": {"sshd": {"process": "sshd", "weight": -5}},
            "keepalived_static_routes": [f"{ROUTED} via {gateway(cluster)} dev eth0"],
            "keepalived_static_rules": [f"to {ROUTED} table {RULE_TABLE} "
                                        f"priority {RULE_PRIORITY}"]}


def gateway(cluster):
    return cluster.subnet().network_address + 1


def static_address(cluster, host):
    """Each host's own static address (test 4): number 150 + its index of the network."""
    subnet = cluster.subnet()
    return f"{subnet.network_address + 150 + cluster.hosts.index(host)}/{subnet.prefixlen}"


@pytest.fixture(scope="module")
def deployed(cluster, tmp_path_factory):
    inventory = cluster.derived_inventory(
        str(tmp_path_factory.mktemp("tracking") / "inventory.py"),
        lambda data: tracking_data(data, cluster),
        lambda host, data: {**data, "keepalived_static_ipaddresses": [
            f"{static_address(cluster, host)} dev eth0"]})
    for host in cluster.hosts:  # (this namespace's net sysctls only, as a real host has)
        code, output = cluster.run(host, "mount --bind /proc/sys/net /proc/sys/net && "
                                         "mount -o remount,rw,bind /proc/sys/net")
        assert code == 0, output
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    result = pyinfra(inventory, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    assert totals(result)[2] == 0
    assert wait_for(lambda: cluster.holders(dev=MACVLAN) == ["host-01"], timeout=15), \
        f"VIP on {MACVLAN} of {cluster.holders(dev=MACVLAN)}"
    return cursors


def client_sees(observer, vip):
    """The MAC the client's neighbour table has for the VIP (after a ping of it)."""
    ip = vip.split("/")[0]
    observer.exec_run(["ping", "-c", "1", "-W", "1", ip])
    for line in observer.exec_run(["ip", "neigh", "show", ip]).output.decode().splitlines():
        words = line.split()
        if "lladdr" in words:
            return words[words.index("lladdr") + 1]
    return None


def test_client_sees_the_vrrp_mac_of_the_master(cluster, observer, deployed):
    for host in cluster.hosts:
        assert cluster.run(host, "cat " + " ".join(
            f"/proc/sys/net/ipv4/conf/eth0/{key}" for key in
            ("arp_ignore", "arp_filter", "arp_announce")))[1].split() == ["1", "1", "2"]
    assert cluster.run("host-01", f"cat /sys/class/net/{MACVLAN}/address")[1].strip() == VMAC
    assert cluster.holders() == [], "the VIP is on the macvlan, not on eth0"
    assert client_sees(observer, cluster.vip()) == VMAC


def write_maint(cluster, host, value):
    code, output = cluster.run(host, f"echo {value} > {MAINT}")
    assert code == 0, output


def test_a_weight_in_the_masters_track_file_moves_the_vip_and_back(cluster, observer,
                                                                   deployed):
    # priority 100 - 5 + 1 x -50 = 45 < the peer's 85: the peer takes over
    with Pings(observer, cluster.vip()) as away:
        write_maint(cluster, "host-01", -50)
        moved = wait_for(lambda: cluster.holders(dev=MACVLAN) == ["host-02"], timeout=15)
        assert moved is not None, f"VIP on {MACVLAN} of {cluster.holders(dev=MACVLAN)}"
    record("track_file -50 on the master: VIP on the peer", moved, 3.65)
    print(f"track_file -50: VIP moved in {moved:.2f} s; {away}")
    assert client_sees(observer, cluster.vip()) == VMAC  # the peer's macvlan, same MAC
    assert away.lost <= away.sent // 2  # (a weighted move need not be lossless: reported)

    with Pings(observer, cluster.vip()) as back:
        write_maint(cluster, "host-01", 0)
        returned = wait_for(lambda: cluster.holders(dev=MACVLAN) == ["host-01"], timeout=15)
        assert returned is not None, f"VIP on {MACVLAN} of {cluster.holders(dev=MACVLAN)}"
    record("track_file cleared: VIP back on the master", returned, 3.65)
    print(f"track_file 0: VIP back in {returned:.2f} s; {back}")
    assert client_sees(observer, cluster.vip()) == VMAC


def test_track_process_gets_no_process_events_in_a_container(cluster, deployed):
    """The evidence of the docs: keepalived in a network namespace other than the
    initial one asks the process-event connector and is refused."""
    journal = cluster.journal_since("host-01", deployed["host-01"])
    assert "Failed to set/clear process event listen - errno 111" in journal, journal[-3000:]


def missing_statics(cluster):
    """What of the static address, route and rule (as keepalived adds them) each host
    lacks: [] when every host has all three."""
    missing = []
    for host in cluster.hosts:
        if not cluster.holds(host, static_address(cluster, host)):
            missing.append(f"{host}: address {static_address(cluster, host)}")
        route = cluster.run(host, f"ip route show {ROUTED}")[1]
        if route.split()[:5] != [ROUTED, "via", str(gateway(cluster)), "dev", "eth0"]:
            missing.append(f"{host}: route ({route.strip()!r})")
        rules = cluster.run(host, "ip rule show")[1]
        if f"{RULE_PRIORITY}:\tfrom all to {ROUTED} lookup {RULE_TABLE}" not in rules:
            missing.append(f"{host}: rule ({rules.strip()!r})")
    return missing


def test_static_address_route_and_rule_stay_whatever_the_vrrp_state(cluster, deployed):
    """On the master and the backup alike; and on both when the master's track_file
    hands the VIP to the peer (so host-02 is MASTER, host-01 BACKUP); then back."""
    assert cluster.holders(dev=MACVLAN) == ["host-01"]
    assert missing_statics(cluster) == [], "host-01 MASTER"
    write_maint(cluster, "host-01", -50)
    try:
        moved = wait_for(lambda: cluster.holders(dev=MACVLAN) == ["host-02"], timeout=15)
        assert moved is not None, f"VIP on {MACVLAN} of {cluster.holders(dev=MACVLAN)}"
        assert missing_statics(cluster) == [], "host-02 MASTER"
    finally:
        write_maint(cluster, "host-01", 0)
    back = wait_for(lambda: cluster.holders(dev=MACVLAN) == ["host-01"], timeout=15)
    assert back is not None, \
        f"VIP on {MACVLAN} of {cluster.holders(dev=MACVLAN)} after the track_file was cleared"
