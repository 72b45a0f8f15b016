"""The deploy-speed bench's order of runs (ABBA: bench/deploy_speed.py) and what it
records of each run, with the test clusters and pyinfra runs replaced by fakes: no docker."""

import contextlib

import pytest

from bench import deploy_speed, testbed
from bench.stats import alternated

pytestmark = pytest.mark.unit


def test_alternated_reverses_odd_rounds():
    assert alternated(["floor", "deploy"], 0) == ["floor", "deploy"]
    assert alternated(["floor", "deploy"], 1) == ["deploy", "floor"]
    assert alternated(("connect", "probe", "noop"), 3) == ["noop", "probe", "connect"]
    assert alternated(["cold"], 1) == ["cold"]


class FakeCluster:
    def __init__(self, number):
        self.inventory_path = f"cluster-{number}"


class FakeHostsCpu:
    def __init__(self, bench):
        self.bench = bench


@pytest.fixture
def fake_bench(monkeypatch):
    """Replaces clusters and pyinfra runs; returns the list of (cluster, deploy) runs."""
    runs, clusters = [], []

    @contextlib.contextmanager
    def cluster(count, log=print, apt_cache=False):
        clusters.append(count)
        yield FakeCluster(len(clusters))

    def pyinfra(inventory, *args, deploy="deploy.py", timeout=900, hosts_cpu=None):
        runs.append((inventory, deploy + "".join(f" {arg}" for arg in args)))
        hosts = None if hosts_cpu is None else 0.25 * len(runs)
        output = "Grand total  1  -  -  1\n"
        return testbed.Run(float(len(runs)), 50000, 0, output, cpu_seconds=0.1 * len(runs),
                           hosts_cpu_seconds=hosts)

    monkeypatch.setattr(testbed, "cluster", cluster)
    monkeypatch.setattr(testbed, "pyinfra", pyinfra)
    monkeypatch.setattr(testbed, "HostsCpu", FakeHostsCpu)
    monkeypatch.setattr(testbed, "memory", lambda bench: {"host-01": 2 ** 20})
    return runs


def test_pairs_and_rounds_run_in_abba_order(fake_bench):
    results = deploy_speed.measure(sizes=(2,), pairs=2, rounds=3, cached_runs=0,
                                   log=lambda text: None)
    connect, probe = deploy_speed.BOUNDS["noop_connect"], deploy_speed.BOUNDS["noop_probe"]
    forward = [connect, probe, "deploy.py"]
    backward = forward[::-1]
    assert fake_bench == [
        # pair 1: the package floor first, then the cold converge and rounds 1-3
        ("cluster-1", deploy_speed.PACKAGE_FLOOR), ("cluster-2", "deploy.py"),
        *[("cluster-2", deploy) for deploy in forward + backward + forward],
        # pair 2: the cold converge and rounds 4-6 first (numbered on), then the floor
        ("cluster-3", "deploy.py"),
        *[("cluster-3", deploy) for deploy in backward + forward + backward],
        ("cluster-3", "deploy.py -vv"),
        ("cluster-4", deploy_speed.PACKAGE_FLOOR)]
    size = results["sizes"]["2"]
    assert results["order"] == "ABBA"
    # matched pairs: the i-th cold and package runs are of pair i
    assert size["package"] == [1.0, 23.0] and size["cold"] == [2.0, 12.0]
    # each no-op beside the probe floor of its round
    assert size["noop"] == [5.0, 6.0, 11.0, 13.0, 18.0, 19.0]
    assert size["noop_probe"] == [4.0, 7.0, 10.0, 14.0, 17.0, 20.0]
    assert size["cpu"]["package"] == {"controller": [pytest.approx(0.1), pytest.approx(2.3)],
                                      "hosts": [0.25, 5.75]}
    assert len(size["cpu"]["noop_connect"]["hosts"]) == 6
    assert size["commands"] == {} and size["memory_bytes"] == [2 ** 20, 2 ** 20]


def test_fleet_size_gets_one_cold_converge_and_no_floor(fake_bench):
    results = deploy_speed.measure(sizes=(50,), pairs=3, rounds=2, cached_runs=0,
                                   log=lambda text: None)
    assert [deploy for _, deploy in fake_bench][:1] == ["deploy.py"]
    assert deploy_speed.PACKAGE_FLOOR not in [deploy for _, deploy in fake_bench]
    assert len(results["sizes"]["50"]["noop"]) == 2


def test_hosts_cpu_sums_the_containers_or_is_none(monkeypatch):
    class Bench:
        hosts = ("host-01", "host-02")

        def container(self, host):
            return type("Container", (), {"id": f"id-{host}"})()

    used = {"id-host-01": 1.5, "id-host-02": 0.25}
    monkeypatch.setattr(testbed, "cgroup_cpu_seconds", lambda container_id: used[container_id])
    hosts_cpu = testbed.HostsCpu(Bench())
    assert hosts_cpu.read() == 1.75
    used["id-host-02"] = None  # one cgroup unreadable: no sum that leaves a host out
    assert hosts_cpu.read() is None
