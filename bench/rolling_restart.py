"""Rolling restarts while the observer pings the VIP every 20 ms: deploys that change
keepalived's daemon options, and deploys that upgrade (then downgrade) the package, each
restarting keepalived on both hosts, one at a time, the master last after handing its VIP
over. Counted per kind: polls lost, the longest time between two answers (the target
allows 1.0 s per cluster restart; the goal is 0.1 s) and the slowest reply.
"""

from testhosts.upgrade import UPGRADE, local_upgrade_command

from . import testbed
from .failover_speed import BACKUP, LIMIT, MASTER, OBSERVER, converge
from .stats import longest_gap

# Alternating command lines: each deploy changes the options file, so each restarts.
OPTIONS = (["--log-detail"], ["--log-detail", "--dump-conf"])
DEBIAN_12 = "1:2.2.7-1+b2"  # what bookworm's apt installs; UPGRADE is a copy above it


def edited(**keys):
    def edit(group_data):
        return {**group_data, **keys}
    return edit


def _observed(bench, inventories, restarts, log, kind):
    """Deploy inventories[1], [0], [1], ... `restarts` times while the observer pings."""
    seconds = []
    with testbed.Observer(bench, OBSERVER, bench.vip(), interval=0.02,
                          timeout=0.1) as observer:
        for number in range(1, restarts + 1):
            run = testbed.pyinfra(inventories[number % 2], *LIMIT).check()
            seconds.append(run.seconds)
            log(f"  {kind} restart {number}/{restarts}: deploy {run.seconds:.2f} s")
        testbed.wait_for(lambda: bench.holders() == [MASTER], 15, interval=0.1)
    polls = observer.polls
    return {
        "restarts": restarts,
        "hosts": [MASTER, BACKUP],
        "deploy_seconds": seconds,
        "polls": len(polls),
        "lost": sum(1 for _, mac in polls if mac is None),
        "longest_gap": longest_gap(polls),
        "slowest_reply": max(observer.replies, default=None),
        "vip_on_master": bench.holders() == [MASTER],
    }


def measure(restarts=3, log=print):
    """{"options": ..., "upgrade": ...}: `restarts` options changes, then an upgrade and
    a downgrade (2 package changes; 1 with restarts=1)."""
    with testbed.cluster(3, log=lambda *_: None) as bench:
        options = [testbed.edited_inventory(bench, f"options-{number}",
                                            edited(keepalived_daemon_options=list(o)))
                   for number, o in enumerate(OPTIONS)]
        converge(bench, options[0])
        results = {"options": _observed(bench, options, restarts, log, "options")}
        for host in (MASTER, BACKUP):
            code, output = bench.run(host, local_upgrade_command())
            if code != 0:
                raise RuntimeError(f"{host}: the local upgrade repository: {output}")
        versions = [testbed.edited_inventory(
            bench, f"package-{number}",
            edited(keepalived_daemon_options=OPTIONS[0], keepalived_package_version=version))
            for number, version in enumerate((DEBIAN_12, UPGRADE))]
        results["upgrade"] = _observed(bench, versions, min(restarts, 2), log, "package")
    return results
