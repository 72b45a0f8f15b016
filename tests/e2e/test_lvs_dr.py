"""An LVS direct-routing real server among the inventory's hosts (model.lvs_dr), with a
client (the observer) on the hosts' network.

One cluster of three hosts: host-01 and host-02 are the directors (VRRP, the VIP as
usual), host-03 says `keepalived_lvs_real_server: ITS ADDRESS` and has no instances.
The directors' data has a DR virtual server on the VIP that lists host-03; the test hosts
have no IPVS, so the directors refuse that config at their first step (the IPVS gate,
test_lvs_refused.py) and keep the VIP, while host-03 gets its part from the same data.
Docker mounts /proc/sys read-only; host-03's own /proc/sys/net (its network namespace's)
is made writable first, as on a real host.

In file order:
1. host-03 has the VIP on lo (/32), the ARP sysctls running and in /etc/sysctl.d, and
   its unit enabled; no keepalived;
2. the client's neighbour entry for the VIP is the VRRP master's MAC, every time it is
   asked anew (host-03 answers no ARP for the VIP on its lo);
3. a second run changes nothing on host-03;
4. the uninstall deploy removes the address, the unit and the sysctl file.
"""

import pytest

from .conftest import converge, pyinfra, totals

pytestmark = pytest.mark.e2e

HOSTS = 3
MASTER, REAL_SERVER = "host-01", "host-03"
UNIT = "/etc/systemd/system/keepalived-lvs-dr.service"
SYSCTL_FILE = "/etc/sysctl.d/60-keepalived-lvs-dr.conf"
ARP_SYSCTLS = " ".join(f"/proc/sys/net/ipv4/conf/{interface}/{key}" for interface in
                       ("all", "lo") for key in ("arp_ignore", "arp_announce"))


def inventory(cluster, path, with_lvs):
    """The cluster's inventory with host-03 a real server only; `with_lvs`: the directors
    have a DR virtual server on the VIP that lists host-03."""
    vip, real_address = cluster.vip().split("/")[0], cluster.address(REAL_SERVER)
    servers = [{"ip": vip, "port": 80, "lvs_method": "DR",
                "real_servers": [{"ip": real_address, "port": 80}]}]

    def host_data(name, data):
        if name == REAL_SERVER:
            return {key: value for key, value in data.items()
                    if key not in ("keepalived_priority", "keepalived_state")} | {
                "keepalived_vrrp_instances": [], "keepalived_check_scripts": [],
                "keepalived_lvs_real_server": real_address}
        return {**data, "keepalived_virtual_servers": servers} if with_lvs else data

    return cluster.derived_inventory(str(path), dict, host_data)


@pytest.fixture(scope="module")
def deployed(cluster, tmp_path_factory):
    code, output = cluster.run(REAL_SERVER, "mount --bind /proc/sys/net /proc/sys/net && "
                                            "mount -o remount,rw,bind /proc/sys/net")
    assert code == 0, output
    directory = tmp_path_factory.mktemp("lvs_dr")
    converge(cluster, inventory(cluster, directory / "vrrp.py", with_lvs=False))
    lvs = inventory(cluster, directory / "lvs.py", with_lvs=True)
    result = pyinfra(lvs, "-y")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output  # the directors: no IPVS here
    for host in ("host-01", "host-02"):
        assert f"{host}: this host's kernel has no IPVS" in output, output
    assert cluster.holders() == [MASTER]
    return lvs


def test_real_server_has_the_vip_on_lo_and_the_arp_sysctls(cluster, deployed):
    vip = cluster.vip().split("/")[0]
    assert f" {vip}/32 " in cluster.run(REAL_SERVER, "ip -o addr show dev lo")[1]
    assert cluster.run(REAL_SERVER, f"cat {ARP_SYSCTLS}")[1].split() == ["1", "2", "1", "2"]
    assert "arp_ignore = 1" in cluster.run(REAL_SERVER, f"cat {SYSCTL_FILE}")[1]
    assert cluster.run(REAL_SERVER, "systemctl is-enabled keepalived-lvs-dr.service")[1] \
        .strip() == "enabled"
    assert cluster.run(REAL_SERVER, "command -v keepalived")[0] != 0, "keepalived installed"


def test_client_sees_the_vrrp_masters_mac(cluster, observer, deployed):
    master_mac = cluster.run(MASTER, "cat /sys/class/net/eth0/address")[1].strip()
    vip = cluster.vip().split("/")[0]
    seen = set()
    for _ in range(10):  # (two hosts answering would each win some of these)
        observer.exec_run(["ip", "neigh", "flush", "dev", "eth0"])
        observer.exec_run(["ping", "-c", "1", "-W", "1", vip])
        words = observer.exec_run(["ip", "neigh", "show", vip]).output.decode().split()
        seen.add(words[words.index("lladdr") + 1] if "lladdr" in words else None)
    assert seen == {master_mac}


def test_second_run_changes_nothing_on_the_real_server(cluster, deployed):
    before = cluster.run(REAL_SERVER, f"sha256sum {UNIT} {SYSCTL_FILE}")[1]
    result = pyinfra(deployed, "-y", "--limit", REAL_SERVER)
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, unchanged = totals(result)
    assert (changed, errors) == (0, 0), result.stdout
    assert cluster.run(REAL_SERVER, f"sha256sum {UNIT} {SYSCTL_FILE}")[1] == before


def test_uninstall_removes_it(cluster, deployed):
    result = pyinfra(deployed, "-y", "--limit", REAL_SERVER, deploy="uninstall.py")
    assert result.returncode == 0, result.stdout + result.stderr
    vip = cluster.vip().split("/")[0]
    assert f" {vip}/" not in cluster.run(REAL_SERVER, "ip -o addr show dev lo")[1]
    assert cluster.run(REAL_SERVER, f"ls {UNIT} {SYSCTL_FILE}")[0] != 0
    assert cluster.holders() == [MASTER]
