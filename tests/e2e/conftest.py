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

INTERVAL = 0.02  # seconds between an observer's pings
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


@pytest.fixture(scope="module")
def observer(cluster):
    """A fourth container on the cluster's network (removed with the cluster: it carries
    the cluster's label), from which the VIP is pinged."""
    name = f"{cluster.container_name('observer')}"
    container = cluster.client.containers.run(
        ensure_image(cluster.client, cluster.release), ["sleep", "infinity"], name=name,
        detach=True, network=cluster.network_name(), labels={LABEL: cluster.name},
        cap_add=["NET_RAW"])
    yield container
    container.remove(force=True)


class Pings:
    """`ping -D -O -i 0.02` of the VIP from the observer while the block runs; then
    `.sent`, `.lost`, `.slowest` (the slowest reply's round trip, s) and `.silence` (the
    longest time between two answers, s)."""

    def __init__(self, observer, vip):
        self.observer, self.ip = observer, vip.split("/")[0]

    def __enter__(self):
        self.observer.exec_run(["sh", "-c", f"ping -D -O -i {INTERVAL} -W 1 {self.ip} "
                                            "> /tmp/ping.log 2>&1"], detach=True)
        assert wait_for(lambda: "bytes from" in self._log(), timeout=5) is not None, \
            f"the observer gets no answer from {self.ip}: {self._log()}"
        return self

    def _log(self):
        return self.observer.exec_run(["cat", "/tmp/ping.log"]).output.decode()

    def __exit__(self, *exc):
        self.observer.exec_run(["sh", "-c", "pkill -INT -x ping; sleep 0.3"])
        text = self._log()
        answers = [(float(stamp), float(rtt)) for stamp, rtt in re.findall(
            r"^\[([0-9.]+)\] \d+ bytes from .* time=([0-9.]+) ms", text, re.M)]
        totals = re.search(r"(\d+) packets transmitted, (\d+) received", text)
        assert totals and answers, text[-2000:]
        self.sent = int(totals.group(1))
        self.lost = self.sent - int(totals.group(2))
        self.slowest = max(rtt for _, rtt in answers) / 1000
        self.silence = max(b - a for (a, _), (b, _) in zip(answers, answers[1:]))

    def __str__(self):
        return (f"{self.lost} of {self.sent} pings lost, longest without an answer "
                f"{self.silence * 1000:.0f} ms, slowest reply {self.slowest * 1000:.2f} ms")
