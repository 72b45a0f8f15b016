"""Deploy speed: wall time of `pyinfra INVENTORY deploy.py -y` on N hosts, cold and no-op,
each beside a floor it cannot beat, measured in pairs so that the machine's drift cancels.

Cold converge vs the package floor, per pair: a fresh cluster (keepalived not installed)
and `bench/only_package.py` (deploy.py's own package command, nothing else), and another
fresh cluster and deploy.py's cold converge, in ABBA order (stats.alternated): the floor
first in pairs 1, 3, ..., the cold converge first in pairs 2, 4, ..., so that an effect
of the order cancels in the median of the pairs' ratios. On the converged cluster, ROUNDS
rounds of the no-op floors (BOUNDS: only connect and sudo, only deploy.py's probe) and
deploy.py's no-op re-run, the rounds numbered on across the N's clusters: connect, probe,
no-op in rounds 1, 3, ...; no-op, probe, connect in rounds 2, 4, ...: each no-op pairs
with the probe floor run right beside it. After the rounds: the memory the cluster's
containers use, and once per N an extra no-op with -vv that counts the commands each host
is sent (not timed: printing them costs time).

Every timed run also records CPU seconds (size["cpu"][key]): the controller's (pyinfra's
user + system time) and the test hosts' (their containers' cgroups, together; None where
they cannot be read), to show where per-host costs go on a machine whose cores the test
hosts share with the controller.

Sizes in `noop_only` (the fleet size, 50 hosts) get no package floor: one cold converge
(timed, for the record) to reach the converged state, then the rounds.

Then cold converges of CACHED_SIZE hosts that download through a package cache next to
them (a fresh, empty apt-cacher-ng, as a fleet's cache would be before its first deploy),
to show what the mirror costs.
"""

from . import testbed
from .stats import alternated, count_commands, grand_total
from .targets import CPU_RUNS

CACHED_SIZE = 10
# What no no-op can cost less than, on these hosts: {results key: deploy file}
BOUNDS = {"noop_connect": "bench/only_connect.py", "noop_probe": "bench/only_probe.py"}
# What no cold converge can cost less than, on fresh hosts: the deploy's package command
PACKAGE_FLOOR = "bench/only_package.py"


def measure(sizes=(1, 2, 5, 10, 20, 50), pairs=3, rounds=3, noop_only=(50,), cached_runs=3,
            log=print, pairs_at=None, rounds_at=None, progress=lambda results: None):
    """Results per N (str) under "sizes"; `pairs`: cold / package-floor pairs per N,
    `rounds`: no-op rounds per cluster (`pairs_at` / `rounds_at`: {N: count} overrides);
    `progress(results)` after each N."""
    results = {"sizes": {}, "pairs": pairs, "rounds": rounds, "order": "ABBA"}
    for count in sizes:
        size = {"cold": [], "package": [], "noop": [], "cold_max_rss_kib": [],
                "package_max_rss_kib": [], "noop_max_rss_kib": [], "memory_bytes": [],
                "cpu": {}, **{key: [] for key in BOUNDS}}
        cold_pairs = 1 if count in noop_only else (pairs_at or {}).get(count, pairs)
        count_rounds = (rounds_at or {}).get(count, rounds)
        for pair in range(cold_pairs):
            for step in alternated(["cold"] if count in noop_only else ["package", "cold"],
                                   pair):
                if step == "package":
                    _package_floor(count, size)
                else:
                    _cold_converge(count, size, range(pair * count_rounds,
                                                      (pair + 1) * count_rounds),
                                   log=log if count in noop_only else lambda *_: None,
                                   with_commands=pair == cold_pairs - 1)
            package = f"package floor {size['package'][-1]:6.2f} s, " if size["package"] else ""
            log(f"  N={count:2d} pair {pair + 1}/{cold_pairs}: {package}"
                f"cold {size['cold'][-1]:6.2f} s; no-op {_last(size, 'noop')} (only connect "
                f"{_last(size, 'noop_connect')}, only the probe {_last(size, 'noop_probe')}); "
                f"hosts use {size['memory_bytes'][-1] / 2 ** 20:.0f} MiB")
            log("    CPU ms per host, controller / test hosts (last run): "
                + ", ".join(f"{name} {_cpu_last(size, key, count)}"
                            for name, key in CPU_RUNS if size["cpu"].get(key)))
        results["sizes"][str(count)] = size
        progress(results)
    if CACHED_SIZE in sizes and cached_runs:
        results["cold_via_cache"] = {"hosts": CACHED_SIZE, "cold": []}
        for run in range(1, cached_runs + 1):
            with testbed.cluster(CACHED_SIZE, log=lambda *_: None, apt_cache=True) as bench:
                cold = testbed.pyinfra(bench.inventory_path).check()
            results["cold_via_cache"]["cold"].append(cold.seconds)
            log(f"  N={CACHED_SIZE:2d} run {run}/{cached_runs}: cold through a package cache "
                f"{cold.seconds:6.2f} s")
    return results


def _package_floor(count, size):
    """The package floor on a fresh cluster of `count` hosts."""
    with testbed.cluster(count, log=lambda *_: None) as bench:
        _keep(size, "package", testbed.pyinfra(bench.inventory_path, deploy=PACKAGE_FLOOR,
                                               hosts_cpu=testbed.HostsCpu(bench)).check())


def _cold_converge(count, size, rounds, log, with_commands):
    """The cold converge on a fresh cluster of `count` hosts, then the no-op `rounds` and
    the memory its hosts use; `with_commands`: also the commands of a -vv no-op."""
    with testbed.cluster(count, log=log) as bench:
        hosts_cpu = testbed.HostsCpu(bench)
        _keep(size, "cold", testbed.pyinfra(bench.inventory_path, hosts_cpu=hosts_cpu).check())
        _noop_rounds(bench, hosts_cpu, count, size, rounds)
        size["memory_bytes"].append(sum(testbed.memory(bench).values()))
        if with_commands:
            verbose = testbed.pyinfra(bench.inventory_path, "-vv").check()
            size["commands"] = count_commands(verbose.output)


def _noop_rounds(bench, hosts_cpu, count, size, rounds):
    """Each round of `rounds` (numbered on from the N's earlier clusters), on the converged
    cluster: the connect floor, the probe floor and deploy.py's no-op, in that order in
    rounds 0, 2, ... and the other way round in rounds 1, 3, ... (stats.alternated)."""
    runs = [*BOUNDS.items(), ("noop", "deploy.py")]
    for number in rounds:
        for key, deploy in alternated(runs, number):
            run = testbed.pyinfra(bench.inventory_path, deploy=deploy,
                                  hosts_cpu=hosts_cpu).check()
            changed = grand_total(run.output)[1] if key == "noop" else 0
            if changed:
                raise RuntimeError(f"the re-run on {count} hosts changed {changed} things")
            _keep(size, key, run)


def _keep(size, key, run):
    """Record a timed run under `key`: its seconds, its peak RSS where kept for the key,
    and its CPU seconds (size["cpu"][key]: "controller", "hosts")."""
    size[key].append(run.seconds)
    if f"{key}_max_rss_kib" in size:
        size[f"{key}_max_rss_kib"].append(run.max_rss_kib)
    cpu = size["cpu"].setdefault(key, {"controller": [], "hosts": []})
    cpu["controller"].append(run.cpu_seconds)
    cpu["hosts"].append(run.hosts_cpu_seconds)


def _last(size, key):
    return f"{size[key][-1]:.2f} s" if size[key] else "-"


def _cpu_last(size, key, count):
    """"95 / 120" ms per host of the last run under `key` ("-" for hosts not read)."""
    cpu = size["cpu"][key]
    hosts = cpu["hosts"][-1]
    return (f"{cpu['controller'][-1] * 1000 / count:.0f} / "
            + ("-" if hosts is None else f"{hosts * 1000 / count:.0f}"))
