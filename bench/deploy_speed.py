"""Deploy speed: wall time of `pyinfra INVENTORY deploy.py -y` on N hosts, cold and no-op.

Per run: a fresh cluster (keepalived not installed), a cold converge, then a no-op
re-run, both timed. Then, on the same hosts, the two floors under deploy.py's no-op
(BOUNDS): a deploy that only connects (`sudo true`) and one that only reads deploy.py's
probe. Once per N, an extra no-op run with -vv counts the commands each host is sent
(not timed: printing them costs time). Then cold converges of CACHED_SIZE hosts
that download through a package cache next to them (a fresh, empty apt-cacher-ng, as a
fleet's cache would be before its first deploy), to show what the mirror costs.
"""

from . import testbed
from .stats import count_commands, grand_total


CACHED_SIZE = 10
# What no no-op can cost less than, on these hosts: {results key: deploy file}
BOUNDS = {"noop_connect": "bench/only_connect.py", "noop_probe": "bench/only_probe.py"}


def measure(sizes=(1, 5, 10, 20), runs=3, log=print):
    results = {"sizes": {}}
    for count in sizes:
        size = {"cold": [], "noop": [], "cold_max_rss_kib": [], "noop_max_rss_kib": [],
                **{key: [] for key in BOUNDS}}
        for run in range(1, runs + 1):
            with testbed.cluster(count, log=lambda *_: None) as bench:
                cold = testbed.pyinfra(bench.inventory_path).check()
                noop = testbed.pyinfra(bench.inventory_path).check()
                changed = grand_total(noop.output)[1]
                if changed:
                    raise RuntimeError(f"the re-run on {count} hosts changed {changed} things")
                for key, deploy in BOUNDS.items():
                    size[key].append(
                        testbed.pyinfra(bench.inventory_path, deploy=deploy).check().seconds)
                if run == runs:
                    verbose = testbed.pyinfra(bench.inventory_path, "-vv").check()
                    size["commands"] = count_commands(verbose.output)
            size["cold"].append(cold.seconds)
            size["noop"].append(noop.seconds)
            size["cold_max_rss_kib"].append(cold.max_rss_kib)
            size["noop_max_rss_kib"].append(noop.max_rss_kib)
            log(f"  N={count:2d} run {run}/{runs}: cold {cold.seconds:6.2f} s, "
                f"no-op {noop.seconds:5.2f} s (only connect {size['noop_connect'][-1]:.2f} s, "
                f"only the probe {size['noop_probe'][-1]:.2f} s)")
        results["sizes"][str(count)] = size
    if CACHED_SIZE in sizes:
        results["cold_via_cache"] = {"hosts": CACHED_SIZE, "cold": []}
        for run in range(1, runs + 1):
            with testbed.cluster(CACHED_SIZE, log=lambda *_: None, apt_cache=True) as bench:
                cold = testbed.pyinfra(bench.inventory_path).check()
            results["cold_via_cache"]["cold"].append(cold.seconds)
            log(f"  N={CACHED_SIZE:2d} run {run}/{runs}: cold through a package cache "
                f"{cold.seconds:6.2f} s")
    return results
