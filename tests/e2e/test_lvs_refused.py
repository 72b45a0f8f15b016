"""The IPVS gate on hosts without IPVS (the docker test hosts share this machine's kernel,
which has none: CONFIG_IP_VS is not set). keepalived 2.2.7 with any virtual_server there
terminates whole, VRRP included, and `keepalived -t` passes the config: so the deploy
refuses the config on such a host before anything changes on it.

In file order, on one two-host cluster with a client pinging the VIP every 20 ms: a VRRP
cluster is deployed; a deploy that adds a virtual server fails on every host with the
message, and the running keepalived, its config and the VIP are untouched (0 pings lost,
same holder); then a change the peers must agree on (a second VIP) together with a virtual
server on host-02 only: host-02 is refused, and host-01 does not commit the new VIP list
alone.
"""

import ipaddress
import time

import pytest

from .conftest import checksums, converge, pyinfra
from .pings import Pings, main_pids

pytestmark = pytest.mark.e2e

MASTER, BACKUP = "host-01", "host-02"
REFUSED = "this host's kernel has no IPVS"


def virtual_servers(cluster):
    vip = cluster.vip().split("/")[0]
    return [{"ip": vip, "port": 22, "lvs_method": "DR",
             "real_servers": [{"ip": cluster.address(host), "port": 22,
                               "tcp_checks": [{"connect_timeout": 3}]}
                              for host in cluster.hosts]}]


@pytest.fixture(scope="module")
def deployed(cluster):
    converge(cluster)
    return cluster


def untouched(cluster, before, pids):
    """keepalived runs as before on every host, with the config it had."""
    for host in cluster.hosts:
        assert checksums(cluster, host) == before[host], f"{host}: the live config changed"
        assert "virtual_server" not in cluster.run(
            host, "cat /etc/keepalived/keepalived.conf /etc/keepalived/conf.d/*.conf")[1]
    assert main_pids(cluster) == pids, "keepalived was restarted or died"
    assert all(pid != "0" for pid in pids.values()), pids


def test_virtual_server_is_refused_on_every_host_and_the_vip_stays(deployed, observer,
                                                                 tmp_path):
    cluster = deployed
    inventory = cluster.derived_inventory(
        str(tmp_path / "lvs.py"),
        lambda data: {**data, "keepalived_virtual_servers": virtual_servers(cluster)})
    before = {host: checksums(cluster, host) for host in cluster.hosts}
    pids = main_pids(cluster)

    with Pings(observer, cluster.vip()) as pings:
        result = pyinfra(inventory, "-y")
        time.sleep(3)  # (keepalived without IPVS dies within a second of loading LVS)

    output = result.stdout + result.stderr
    assert pings.lost == 0, f"{pings}\n{output}"
    assert cluster.holders() == [MASTER]
    untouched(cluster, before, pids)
    assert result.returncode != 0, output
    for host in cluster.hosts:
        assert f"{host}: {REFUSED}" in output, output
    assert "Nothing was changed on this host" in output


def test_peer_does_not_commit_an_agreement_change_alone(deployed, observer, tmp_path):
    cluster = deployed
    vip = ipaddress.ip_interface(cluster.vip())
    second = f"{vip.ip + 1}/{vip.network.prefixlen}"

    def two_vips(data):
        instances = [dict(instance, virtual_ipaddresses=[cluster.vip(), second])
                     for instance in data["keepalived_vrrp_instances"]]
        return {**data, "keepalived_vrrp_instances": instances}

    def lvs_on_backup(name, data):
        return {**data, "keepalived_virtual_servers": virtual_servers(cluster)} \
            if name == BACKUP else data

    inventory = cluster.derived_inventory(str(tmp_path / "mixed.py"), two_vips, lvs_on_backup)
    before = {host: checksums(cluster, host) for host in cluster.hosts}
    pids = main_pids(cluster)

    with Pings(observer, cluster.vip()) as pings:
        result = pyinfra(inventory, "-y")
        time.sleep(3)

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{BACKUP}: {REFUSED}" in output, output
    assert f"{BACKUP} (a peer of VI_1) failed before it prepared the config" in output, output
    assert pings.lost == 0, str(pings)
    assert cluster.holders() == [MASTER]
    assert not cluster.holds(MASTER, second), "host-01 took the new VIP list alone"
    untouched(cluster, before, pids)
