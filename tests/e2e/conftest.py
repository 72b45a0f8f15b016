"""Fixtures for end-to-end tests: a private cluster of docker test hosts per test module."""

import re
import subprocess
import sys
import uuid

import pytest

from testhosts.cluster import LABEL, REPO_DIR, Cluster
from testhosts.engine import ensure_engine
from testhosts.image import ensure_image
from testhosts.polling import wait_for

LIVE_FILES = "/etc/keepalived/keepalived.conf /etc/keepalived/conf.d/* /etc/keepalived/scripts/*"


@pytest.fixture(scope="module")
def cluster(request):
    """A fresh cluster for the test module: HOSTS hosts (default 2) of RELEASE, on
    NETWORKS networks (default 1; 2: the hosts also get eth1)."""
    yield from cluster_of(getattr(request.module, "HOSTS", 2),
                          getattr(request.module, "RELEASE", "bookworm"),
                          getattr(request.module, "NETWORKS", 1))


def cluster_of(count, release, networks=1):
    """Start a cluster with a unique name; remove it afterwards, also after a failure."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(ensure_engine(), name, count=count, release=release, networks=networks)
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.down()


@pytest.fixture(scope="module")
def observer(cluster):
    """A container on the cluster's network without keepalived (removed with the cluster: it
    carries the cluster's label), from which the VIP is pinged (tests/e2e/pings.py)."""
    name = f"{cluster.container_name('observer')}"
    container = cluster.client.containers.run(
        ensure_image(cluster.client, cluster.release), ["sleep", "infinity"], name=name,
        detach=True, network=cluster.network_name(), labels={LABEL: cluster.name},
        cap_add=["NET_RAW"])
    yield container
    container.remove(force=True)


# Failover times measured by the tests, shown beside their theory at the end of the run.
MEASURED = []


def record(what, seconds, theory):
    """Note a measured time for the summary; returns it, for asserts."""
    MEASURED.append((what, seconds, theory))
    return seconds


def pytest_terminal_summary(terminalreporter):
    if not MEASURED:
        return
    terminalreporter.section("measured VIP movements (theory: RFC 3768 timers)")
    for what, seconds, theory in MEASURED:
        terminalreporter.write_line(f"{what:<58} {seconds:6.2f} s   theory {theory:5.2f} s")


def pyinfra(inventory, *args, deploy="deploy.py"):
    """Run a deploy file (default deploy.py) like an operator: the pyinfra CLI, from the
    repo root."""
    return subprocess.run(
        [sys.executable, "-m", "pyinfra", *args, inventory, deploy],
        cwd=REPO_DIR, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )


def totals(result):
    """(operations, changed, errors, unchanged) from pyinfra's 'Grand total' line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    match = re.search(r"Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text)
    assert match, f"no results table in pyinfra output:\n{result.stdout}\n{result.stderr}"
    return tuple(0 if value == "-" else int(value) for value in match.groups())


def detected_changes(result):
    """{operation: its 'Change' column} from the table a --dry run prints ('-': none)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert "Detected changes:" in text, f"no change table in pyinfra output:\n{text}"
    rows = text.split("Detected changes:")[1].split("\n\n")[0].splitlines()[2:]
    return {cells[0]: cells[1] for cells in (re.split(r"\s{2,}", row.strip()) for row in rows)}


def checksums(cluster, host):
    return cluster.run(host, f"sha256sum {LIVE_FILES}")[1]


def converge(cluster, inventory=None):
    """Deploy with -y and wait for the first host to hold the VIP alone."""
    result = pyinfra(inventory or cluster.inventory_path, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    master = cluster.hosts[0]
    assert wait_for(lambda: cluster.holders() == [master], timeout=15) is not None, \
        f"VIP {cluster.vip()} held by {cluster.holders()}, expected {master} only"
    return result


class VipWatch:
    """Sample, inside each host, whether it holds an address, every 50 ms, while a block
    runs; then `.samples[host]` is the list of 0/1 samples.

        with VipWatch(cluster, address) as watch:
            ...
    """

    def __init__(self, cluster, address):
        self.cluster, self.ip = cluster, address.split("/")[0]
        self.samples = {}

    def __enter__(self):
        loop = (f"rm -f /tmp/vipwatch.stop; while [ ! -e /tmp/vipwatch.stop ]; do "
                f"ip -o -4 addr show dev eth0 | grep -c ' {self.ip}/'; sleep 0.05; done "
                f"> /tmp/vipwatch.log")
        for host in self.cluster.hosts:
            self.cluster.container(host).exec_run(["sh", "-c", loop], detach=True)
        started = wait_for(lambda: all(self.cluster.run(host, "test -s /tmp/vipwatch.log")[0]
                                       == 0 for host in self.cluster.hosts), timeout=5)
        assert started is not None, "the VIP watch did not start on every host"
        return self

    def __exit__(self, *exc):
        for host in self.cluster.hosts:
            self.cluster.run(host, "touch /tmp/vipwatch.stop; sleep 0.2")
            log = self.cluster.run(host, "cat /tmp/vipwatch.log")[1]
            self.samples[host] = [int(line) for line in log.split()]


def edited_inventory(cluster, tmp_path, old, new, also=()):
    """A copy of the cluster's inventory with `old` replaced by `new`, and each further
    (old, new) pair of `also` (each must occur)."""
    text = open(cluster.inventory_path).read()
    for before, after in [(old, new), *also]:
        assert before in text, f"{before!r} not in {cluster.inventory_path}"
        text = text.replace(before, after)
    path = tmp_path / "inventory.py"
    path.write_text(text)
    return str(path)



