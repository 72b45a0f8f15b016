"""Rolling restart: deploys that each change keepalived's daemon options (so each restarts
keepalived on both hosts, one at a time, the master last after handing its VIP over)
while the observer pings the VIP every 20 ms. Counted: polls lost and the longest time
between two answers (the target allows 1.0 s per cluster restart; the goal is 0.1 s).
"""

from . import testbed
from .failover_speed import BACKUP, LIMIT, MASTER, OBSERVER, converge
from .stats import longest_gap

# Alternating command lines: each deploy changes the options file, so each restarts.
OPTIONS = (["--log-detail"], ["--log-detail", "--dump-conf"])


def with_options(options):
    def edit(group_data):
        return {**group_data, "keepalived_daemon_options": list(options)}
    return edit


def measure(restarts=3, log=print):
    with testbed.cluster(3, log=lambda *_: None) as bench:
        inventories = [testbed.edited_inventory(bench, f"options-{number}", with_options(o))
                       for number, o in enumerate(OPTIONS)]
        converge(bench, inventories[0])
        seconds = []
        with testbed.Observer(bench, OBSERVER, bench.vip(), interval=0.02,
                              timeout=0.1) as observer:
            for number in range(1, restarts + 1):
                run = testbed.pyinfra(inventories[number % 2], *LIMIT).check()
                seconds.append(run.seconds)
                log(f"  restart {number}/{restarts}: deploy {run.seconds:.2f} s")
            testbed.wait_for(lambda: bench.holders() == [MASTER], 15, interval=0.1)
        holders = bench.holders()
    polls = observer.polls
    return {
        "restarts": restarts,
        "hosts": [MASTER, BACKUP],
        "deploy_seconds": seconds,
        "polls": len(polls),
        "lost": sum(1 for _, mac in polls if mac is None),
        "longest_gap": longest_gap(polls),
        "vip_on_master": holders == [MASTER],
    }
