"""Check and notify commands, and the operator's own config files, on two test hosts.

In file order, on one cluster: a check script given as a command (`test -e FILE`, a bare
name the host resolves) is tracked and moves the VIP when it fails, and back; a notify
command runs; an operator include file (a VRRP instance of its own, with its own VIP)
goes live with the rest; a second run changes nothing and the include stays; a command
whose program keepalived would not run (in a directory anyone may write, or not
executable) is refused on the host with the reason, and nothing changes on any host.
"""

import ipaddress

import pytest

from testhosts.polling import wait_for

from .conftest import pyinfra, totals

pytestmark = pytest.mark.e2e

MARKER = "/run/keepalived-ok"  # the check command passes while it exists (a tmpfs)
NOTIFIED = "/tmp/notified-master"  # the notify command touches it
CHECK = {"name": "check_marker", "check_script": f"test -e {MARKER}", "interval": 1,
         "fall": 1, "rise": 1, "weight": -20}
SECOND_VRID = 61


def checksums(cluster, host):
    """The sha256 of every live file (conf.d/include/ too), sorted."""
    return cluster.run(host, "find -L /etc/keepalived/keepalived.conf /etc/keepalived/conf.d "
                             "/etc/keepalived/scripts -type f -exec sha256sum {} + | sort")[1]


def second_vip(cluster):
    """The operator instance's VIP: the cluster's VIP + 1."""
    vip = ipaddress.ip_interface(cluster.vip())
    return f"{vip.ip + 1}/{vip.network.prefixlen}"


def operator_file(tmp_path, cluster):
    """An include file with a top-level block the model does not type for us here: a
    VRRP instance of its own (the same on both hosts: the higher address wins)."""
    path = tmp_path / "operator.conf"
    path.write_text(
        "# shipped by the operator (keepalived_include_files)\n"
        "vrrp_instance VI_OPERATOR {\n"
        "\tstate BACKUP\n\tinterface eth0\n"
        f"\tvirtual_router_id {SECOND_VRID}\n\tpriority 50\n\tadvert_int 1\n"
        f"\tvirtual_ipaddress {{\n\t\t{second_vip(cluster)}\n\t}}\n}}\n")
    return str(path)


def inventory(cluster, tmp_path, check=CHECK, include=None):
    def edit(group_data):
        instances = [dict(instance, track_scripts=[check["name"]],
                          notify_master=f"touch {NOTIFIED}")
                     for instance in group_data["keepalived_vrrp_instances"]]
        return {**group_data, "keepalived_vrrp_instances": instances,
                "keepalived_check_scripts": [check],
                **({"keepalived_include_files": [{"src": include}]} if include else {})}
    return cluster.derived_inventory(str(tmp_path / "inventory.py"), edit)


@pytest.fixture(scope="module")
def deployed(cluster, tmp_path_factory):
    """The cluster deployed with the check command, the notify command and the include."""
    tmp_path = tmp_path_factory.mktemp("operator")
    for host in cluster.hosts:
        cluster.run(host, f"touch {MARKER}")
    path = inventory(cluster, tmp_path, include=operator_file(tmp_path, cluster))
    result = pyinfra(path, "-y")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return path


def test_a_check_command_is_tracked_and_moves_the_vip(cluster, deployed):
    master, backup = cluster.hosts
    assert wait_for(lambda: cluster.holders() == [master], timeout=15) is not None
    conf = cluster.run(master, "cat /etc/keepalived/conf.d/10-vrrp_scripts.conf")[1]
    assert f'    script   "/usr/bin/test -e {MARKER}"\n' in conf  # resolved on the host
    assert wait_for(lambda: cluster.run(master, f"test -e {NOTIFIED}")[0] == 0,
                    timeout=10) is not None, "the notify command did not run"

    cluster.run(master, f"rm -f {MARKER}")  # the check fails: 100 - 20 < 90
    assert wait_for(lambda: cluster.holders() == [backup], timeout=15) is not None, \
        f"VIP held by {cluster.holders()} after the check command failed on {master}"
    cluster.run(master, f"touch {MARKER}")
    assert wait_for(lambda: cluster.holders() == [master], timeout=15) is not None, \
        f"VIP held by {cluster.holders()} after the check command passed again"


def test_an_include_file_goes_live_and_survives_a_second_run(cluster, deployed):
    shipped = "/etc/keepalived/conf.d/include/operator.conf"
    assert wait_for(lambda: len(cluster.holders(second_vip(cluster))) == 1,
                    timeout=15) is not None, "the operator's instance holds no VIP"
    before = {host: checksums(cluster, host) for host in cluster.hosts}

    result = pyinfra(deployed, "-y")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert totals(result)[1] == 0, "the second run changed something"
    for host in cluster.hosts:
        assert checksums(cluster, host) == before[host]
        assert cluster.run(host, f"stat -L -c '%U:%G %a' {shipped}")[1].strip() == \
            "root:root 644"
    assert len(cluster.holders(second_vip(cluster))) == 1


@pytest.mark.parametrize("setup, problem", [
    ("mkdir -p /opt/chk && chmod 777 /opt/chk && printf '#!/bin/sh\\n' > /opt/chk/check "
     "&& chmod 755 /opt/chk/check",
     "is in /opt/chk, which is writable by others (mode 777); keepalived's "
     "enable_script_security would drop the script"),
    ("mkdir -p /opt/chk && chmod 755 /opt/chk && printf '#!/bin/sh\\n' > /opt/chk/check "
     "&& chmod 644 /opt/chk/check",
     "is not executable by keepalived_script (mode 644)"),
], ids=["writable-dir", "not-executable"])
def test_a_command_keepalived_would_not_run_is_refused_and_nothing_changes(
        cluster, deployed, tmp_path, setup, problem):
    for host in cluster.hosts:
        assert cluster.run(host, setup)[0] == 0
    before = {host: (checksums(cluster, host),
                     cluster.run(host, "readlink /etc/keepalived/.current")[1])
              for host in cluster.hosts}
    check = dict(CHECK, check_script="/opt/chk/check --quick")

    result = pyinfra(inventory(cluster, tmp_path, check=check), "-y")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    # (the first host to find it stops the run: either)
    assert any(f"{host}: keepalived_check_scripts[0].check_script = '/opt/chk/check "
               f"--quick': the program '/opt/chk/check' {problem}" in output
               for host in cluster.hosts), output[-3000:]
    for host in cluster.hosts:
        assert (checksums(cluster, host),
                cluster.run(host, "readlink /etc/keepalived/.current")[1]) == before[host]
    assert cluster.holders() == [cluster.hosts[0]]
