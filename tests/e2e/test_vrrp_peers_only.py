"""VRRP is let in from the instance's peers only: two unicast hosts behind their
operators' drop-policy firewalls (host-01: an nftables table; host-02: iptables), and a
third container on the same network (the stranger) that sends priority-255 adverts.

In file order, on one cluster: the deploy lets each host's peer in (the rules name the
peer and this host) and sets vrrp_check_unicast_src; a second run changes nothing; the
stranger's adverts, to the master, do not take the VIP (the same adverts with the peer's
source address do: they are valid adverts, the control); the peers' failover and return
still work, and while host-02 holds the VIP the stranger cannot take it there either;
last, a change of peers whose config step fails on host-02 leaves the old config live
there, and a restart of its keepalived still lets host-01's adverts in (no second MASTER).
"""

import ipaddress
import struct

import pytest

from testhosts.polling import wait_for
from testhosts.vrrp_timing import master_down_interval

from .conftest import load_operator_ruleset, pyinfra, totals

pytestmark = pytest.mark.e2e

MASTER, BACKUP = "host-01", "host-02"
IPTABLES_RULES = ("iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT && "
                  "iptables -A INPUT -i lo -j ACCEPT && "
                  "iptables -A INPUT -p tcp --dport 22 -j ACCEPT && iptables -P INPUT DROP")
# Sends the packet (hex, an IP header included: IPPROTO_RAW) to an address COUNT times,
# one every 0.2 s: the hosts' image has perl (perl-base), not python.
SEND = ('perl -MSocket -e \'socket(S, PF_INET, SOCK_RAW, 255) or die "socket: $!"; '
        '$p = pack("H*", $ARGV[0]); $to = pack_sockaddr_in(0, inet_aton($ARGV[1])); '
        'for (1 .. $ARGV[2]) { send(S, $p, 0, $to) or die "send: $!"; '
        'select(undef, undef, undef, 0.2) }\'')
ADVERTS = 30  # 6 s of adverts: longer than the backup's Master_Down_Interval (3.6 s)


def checksum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def vrrp_advert(source, destination, vrid, priority, vip, password):
    """A VRRPv2 advert (RFC 3768 5.1) with simple-text authentication, in an IPv4 packet
    from `source` (TTL 255, as a router sends it)."""
    auth = password.encode().ljust(8, b"\0")
    vrrp = struct.pack("!BBBBBBH4s8s", 0x21, vrid, priority, 1, 1, 1, 0,
                       ipaddress.IPv4Address(vip).packed, auth)
    vrrp = vrrp[:6] + struct.pack("!H", checksum(vrrp)) + vrrp[8:]
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(vrrp), 0, 0, 255, 112, 0,
                         ipaddress.IPv4Address(source).packed,
                         ipaddress.IPv4Address(destination).packed)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + vrrp


def test_vrrp_advert_is_what_rfc_3768_says():
    packet = vrrp_advert("192.0.2.9", "192.0.2.1", 51, 255, "192.0.2.200", "1234")
    # version 4, 20 bytes; TOS 0xc0; 40 bytes; no id, no fragment; TTL 255; protocol 112
    assert packet[:10] == bytes.fromhex("45c00028000000 00ff70".replace(" ", ""))
    assert packet[12:20] == bytes([192, 0, 2, 9, 192, 0, 2, 1])
    assert checksum(packet[:20]) == 0 and checksum(packet[20:]) == 0
    # VRRPv2 advert, VRID 51, priority 255, one address, simple-text auth, every second
    assert packet[20:26] == bytes([0x21, 51, 255, 1, 1, 1])
    assert packet[28:] == bytes([192, 0, 2, 200]) + b"1234\0\0\0\0"


@pytest.fixture(scope="module")
def deployed(cluster, tmp_path_factory):
    """The operators' firewalls, then the deploy with unicast peers from the inventory;
    returns the inventory."""
    load_operator_ruleset(cluster, MASTER)  # an nftables table, policy drop, SSH let in
    code, output = cluster.run(BACKUP, "apt-get -q update >/dev/null && DEBIAN_FRONTEND="
                                       "noninteractive apt-get -q -y install iptables "
                                       f">/dev/null && {IPTABLES_RULES}")
    assert code == 0, output
    inventory = cluster.derived_inventory(
        str(tmp_path_factory.mktemp("peers") / "inventory.py"), lambda data: {
            **data, "keepalived_vrrp_instances": [
                {**instance, "unicast_peers": "inventory"}
                for instance in data["keepalived_vrrp_instances"]]})
    result = pyinfra(inventory, "-y")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return inventory


@pytest.fixture(scope="module")
def stranger(cluster):
    """A third container on the hosts' network: no peer of theirs."""
    return cluster.start_extra("stranger")


def send_adverts(cluster, stranger, target, source=None):
    """ADVERTS priority-255 adverts for the hosts' instance, from the stranger to
    `target` (a host), from the stranger's own address or `source`."""
    packet = vrrp_advert(source or cluster.address(stranger), cluster.address(target),
                         51, 255, cluster.vip().split("/")[0], "1234")
    code, output = cluster.run(stranger, f"{SEND} {packet.hex()} {cluster.address(target)} "
                                         f"{ADVERTS}")
    assert code == 0, output


def test_each_host_lets_its_peer_in(cluster, deployed):
    one, two = cluster.address(MASTER), cluster.address(BACKUP)
    # (-p: protocol numbers; names only where /etc/protocols, netbase, is installed)
    chain = cluster.run(MASTER, "nft -p list chain inet filter input")[1]
    assert (f'ip saddr {two} ip daddr {one} meta l4proto 112 accept comment '
            '"keepalived-vrrp"') in chain
    assert chain.count("keepalived-vrrp") == 1
    rules = cluster.run(BACKUP, "iptables -S INPUT")[1].replace(" -p vrrp ", " -p 112 ")
    assert [rule for rule in rules.splitlines() if "keepalived-vrrp" in rule] == [
        f"-A INPUT -s {one}/32 -d {two}/32 -p 112 -m comment --comment keepalived-vrrp "
        "-j ACCEPT"]
    for host in cluster.hosts:
        assert "    vrrp_check_unicast_src\n" in cluster.run(
            host, "cat /etc/keepalived/conf.d/00-global_defs.conf")[1]
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None, \
        f"VIP held by {cluster.holders()}, expected {MASTER} only"


def test_second_run_changes_nothing(deployed):
    result = pyinfra(deployed, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, unchanged = totals(result)
    assert (changed, errors) == (0, 0) and unchanged == operations, result.stdout


def test_a_strangers_adverts_do_not_take_the_vip(cluster, deployed, stranger):
    """Priority-255 adverts from a container on the same network, with the right VRID,
    VIP and password: dropped, the master stays master. The control: the same adverts
    from the peer's address (spoofed) make the master give the VIP up; it takes it back
    when they stop."""
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None
    cursor = cluster.journal_cursor(MASTER)
    send_adverts(cluster, stranger, MASTER)
    assert "Entering BACKUP STATE" not in cluster.journal_since(MASTER, cursor)
    assert cluster.holders() == [MASTER]

    cursor = cluster.journal_cursor(MASTER)
    send_adverts(cluster, stranger, MASTER, source=cluster.address(BACKUP))
    assert "Entering BACKUP STATE" in cluster.journal_since(MASTER, cursor)
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None, \
        f"VIP held by {cluster.holders()} after the spoofed adverts stopped"


def test_the_peers_failover_and_return_still_work(cluster, deployed, stranger):
    """Through both firewalls: host-02 takes over when host-01 stops (host-01's last advert
    let in by iptables), keeps the VIP against the stranger, and hands it back when host-01
    returns (host-02's adverts let in by nftables, host-01's by iptables)."""
    cluster.run(MASTER, "systemctl stop keepalived")
    assert wait_for(lambda: cluster.holders() == [BACKUP], timeout=10) is not None, \
        f"VIP held by {cluster.holders()} after stopping the master"
    cursor = cluster.journal_cursor(BACKUP)
    send_adverts(cluster, stranger, BACKUP)
    assert "Entering BACKUP STATE" not in cluster.journal_since(BACKUP, cursor)
    assert cluster.holders() == [BACKUP]
    cluster.run(MASTER, "systemctl start keepalived")
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None, \
        f"VIP held by {cluster.holders()} after the master came back"


# keepalived -t rejects every config on the host; keepalived itself still runs
REJECTING_CONFIG_TEST = """#!/bin/sh
case " $* " in *" -t "*) echo "(test) rejected on this host" >&2; exit 5 ;; esac
exec /usr/sbin/keepalived "$@"
"""


def test_a_restart_after_a_failed_peer_change_still_lets_the_live_peers_in(cluster, deployed):
    """The peers change (unicast -> the multicast group: host-01's unicast adverts are no
    longer a peer's for the new config) and the config step fails on the backup (its
    keepalived -t rejects it): every host stays on the old, unicast config. keepalived
    restarts on the backup (a crash, a reboot, an operator): its start hook must let in
    the peers of the config it loads, the live one, so it hears host-01 and stays BACKUP.
    (The version before wrote the new peers into the drop-in before the config step, and
    its start deleted host-01's rule: the backup became MASTER too.)"""
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None
    path = "/usr/local/sbin/keepalived"
    code, output = cluster.run(BACKUP, f"cat > {path} <<'EOF'\n{REJECTING_CONFIG_TEST}EOF\n"
                                       f"chmod 755 {path}")
    assert code == 0, output
    try:
        result = pyinfra(cluster.inventory_path, "-y")  # the cluster's own data: multicast
        output = result.stdout + result.stderr
        assert result.returncode != 0 and "(test) rejected on this host" in output, output
        assert "unicast_peer" in cluster.run(
            BACKUP, "cat /etc/keepalived/conf.d/20-vrrp_instances.conf")[1]  # the old config
        cursor = cluster.journal_cursor(BACKUP)
        assert cluster.run(BACKUP, "systemctl restart keepalived")[0] == 0
        # (a backup that hears no advert is MASTER after Master_Down_Interval)
        assert wait_for(lambda: "Entering MASTER STATE" in cluster.journal_since(
            BACKUP, cursor), timeout=master_down_interval(priority=90) + 2, interval=0.5) is None, \
            "the restarted backup heard no advert from the master: two MASTERs"
        assert cluster.holders() == [MASTER]
        rules = cluster.run(BACKUP, "iptables -S INPUT")[1].replace(" -p vrrp ", " -p 112 ")
        assert (f"-A INPUT -s {cluster.address(MASTER)}/32 -d {cluster.address(BACKUP)}/32 "
                "-p 112 -m comment --comment keepalived-vrrp -j ACCEPT") in rules, rules
    finally:
        cluster.run(BACKUP, f"rm -f {path}")
