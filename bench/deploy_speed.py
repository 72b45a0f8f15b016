"""Deploy speed: wall time of `pyinfra INVENTORY deploy.py -y` on N hosts, cold and no-op,
each beside a floor it cannot beat, measured in pairs so that the machine's drift cancels.

Cold converge vs the package floor, per pair: a fresh cluster (keepalived not installed)
and `bench/only_package.py` (deploy.py's own package command, nothing else), then another
fresh cluster and deploy.py's cold converge. Then, on the converged cluster, ROUNDS
rounds of the no-op floors (BOUNDS: only connect and sudo, only deploy.py's probe) and
deploy.py's no-op re-run, one after the other (connect, probe, no-op, connect, ...):
each no-op pairs with the probe floor run right before it. After the rounds: the memory
the cluster's containers use, and once per N an extra no-op with -vv that counts the
commands each host is sent (not timed: printing them costs time).

Sizes in `noop_only` (the fleet size, 50 hosts) get no package floor: one cold converge
(timed, for the record) to reach the converged state, then the rounds.

Then cold converges of CACHED_SIZE hosts that download through a package cache next to
them (a fresh, empty apt-cacher-ng, as a fleet's cache would be before its first deploy),
to show what the mirror costs.
"""

from . import testbed
from .stats import count_commands, grand_total

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
    results = {"sizes": {}, "pairs": pairs, "rounds": rounds}
    for count in sizes:
        size = {"cold": [], "package": [], "noop": [], "cold_max_rss_kib": [],
                "package_max_rss_kib": [], "noop_max_rss_kib": [], "memory_bytes": [],
                **{key: [] for key in BOUNDS}}
        cold_pairs = 1 if count in noop_only else (pairs_at or {}).get(count, pairs)
        for pair in range(1, cold_pairs + 1):
            if count not in noop_only:
                with testbed.cluster(count, log=lambda *_: None) as bench:
                    floor = testbed.pyinfra(bench.inventory_path, deploy=PACKAGE_FLOOR).check()
                size["package"].append(floor.seconds)
                size["package_max_rss_kib"].append(floor.max_rss_kib)
            with testbed.cluster(count, log=log if count in noop_only else lambda *_: None
                                 ) as bench:
                cold = testbed.pyinfra(bench.inventory_path).check()
                size["cold"].append(cold.seconds)
                size["cold_max_rss_kib"].append(cold.max_rss_kib)
                _noop_rounds(bench, count, size, (rounds_at or {}).get(count, rounds))
                size["memory_bytes"].append(sum(testbed.memory(bench).values()))
                if pair == cold_pairs:
                    verbose = testbed.pyinfra(bench.inventory_path, "-vv").check()
                    size["commands"] = count_commands(verbose.output)
            package = f"package floor {size['package'][-1]:6.2f} s, " if size["package"] else ""
            log(f"  N={count:2d} pair {pair}/{cold_pairs}: {package}cold {cold.seconds:6.2f} s;"
                f" no-op {_last(size, 'noop')} (only connect {_last(size, 'noop_connect')},"
                f" only the probe {_last(size, 'noop_probe')}); hosts use "
                f"{size['memory_bytes'][-1] / 2 ** 20:.0f} MiB")
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


def _noop_rounds(bench, count, size, rounds):
    """`rounds` times: each floor, then deploy.py's no-op, on the converged cluster."""
    for _ in range(rounds):
        for key, deploy in BOUNDS.items():
            size[key].append(testbed.pyinfra(bench.inventory_path, deploy=deploy).check().seconds)
        noop = testbed.pyinfra(bench.inventory_path).check()
        changed = grand_total(noop.output)[1]
        if changed:
            raise RuntimeError(f"the re-run on {count} hosts changed {changed} things")
        size["noop"].append(noop.seconds)
        size["noop_max_rss_kib"].append(noop.max_rss_kib)


def _last(size, key):
    return f"{size[key][-1]:.2f} s" if size[key] else "-"
