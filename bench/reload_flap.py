"""Reload without flap: successive deploys that each really change the config, while the
observer pings the VIP every 50 ms.

The changes alternate between adding a second VIP to the instance and removing it again,
so every deploy reloads keepalived on both hosts. Counted: polls lost, changes of the MAC
that answers, and state transitions logged by keepalived on either host.
"""

import ipaddress

from . import testbed
from .failover_speed import BACKUP, MASTER, OBSERVER, converge
from .stats import grand_total, mac_changes, state_transitions


def with_vips(*vips):
    def edit(group_data):
        instances = [dict(instance, virtual_ipaddresses=list(vips))
                     for instance in group_data["keepalived_vrrp_instances"]]
        return {**group_data, "keepalived_vrrp_instances": instances}
    return edit


def measure(changes=20, log=print):
    with testbed.cluster(3, log=lambda *_: None) as bench:
        vip = bench.vip()
        interface = ipaddress.ip_interface(vip)
        second = f"{interface.ip + 1}/{interface.network.prefixlen}"
        inventories = [testbed.edited_inventory(bench, "one-vip", with_vips(vip)),
                       testbed.edited_inventory(bench, "two-vips", with_vips(vip, second))]
        converge(bench, inventories[0])
        cursors = {host: bench.journal_cursor(host) for host in (MASTER, BACKUP)}
        changed, reloads = [], 0
        with testbed.Observer(bench, OBSERVER, vip, interval=0.05, timeout=0.2) as observer:
            for number in range(1, changes + 1):
                run = testbed.pyinfra(inventories[number % 2], "--limit", MASTER,
                                      "--limit", BACKUP).check()
                changed.append(grand_total(run.output)[1])
                log(f"  change {number}/{changes}: {'added' if number % 2 else 'removed'} "
                    f"{second}, {changed[-1]} operations changed, {run.seconds:.2f} s")
            testbed.wait_for(lambda: bench.holds(MASTER, second) == (changes % 2 == 1), 10,
                             interval=0.1)
        transitions = {}
        for host in (MASTER, BACKUP):
            journal = bench.journal_since(host, cursors[host])
            reloads += journal.count("Reload complete") if host == MASTER else 0
            transitions[host] = state_transitions(journal)
    polls = observer.polls
    return {
        "changes": changes,
        "deploys_without_change": sum(1 for count in changed if count == 0),
        "master_reloads": reloads,
        "polls": len(polls),
        "lost": sum(1 for _, mac in polls if mac is None),
        "mac_changes": mac_changes(polls),
        "transitions": transitions,
        "seconds": polls[-1][0] - polls[0][0] if polls else 0,
    }
