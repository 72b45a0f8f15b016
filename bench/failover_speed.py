"""Failover speed: from a fault on the master to the first ping of the VIP that the
backup answers, seen by a third container.

Test bed: 3 hosts; host-01 (priority 100) and host-02 (90) get the deploy
(`--limit`), host-03 is the observer. A SIGKILLed or paused master still holds the VIP and
its kernel still answers, so only an answer from the backup's MAC counts. Between trials
the VIP goes back to the master and must stay there.

The theory is the worst case: the RFC timer starts at the master's LAST advert, and a
fault at a random moment comes up to one advert_int after it (a check's fault, up to one
check interval after the check's last run). So a fault is placed at the worst moment,
right after what starts the theory's clock: the crash right after an advert of the master
(heard on the cluster's bridge; kill(2) or `docker pause` sent from the machine within a
millisecond of it), the tracked service's stop right after a run of the check (its start
heard through the kernel's process events). Times from the fault then compare with the
theory; how long after the advert or the check run each fault came is kept as `lags`.
A graceful stop needs no placing: its priority-0 advert starts the clock itself.
"""

import os
import signal
import time
from dataclasses import dataclass
from typing import Callable

from testhosts.vrrp_timing import check_failure_time, master_down_interval, skew_time

from . import adverts, testbed
from .execs import ExecWatcher
from .stats import first_answer, last_advert

MASTER, BACKUP, OBSERVER = "host-01", "host-02", "host-03"
LIMIT = ("--limit", MASTER, "--limit", BACKUP)
BACKUP_PRIORITY = 90  # priority_and_state(1, 3)
# A run of the example's check (group_data/jump_hosts.py): its script, and the program the
# script becomes (`exec systemctl ...`) so quickly that its command line may already show
# that when it is read.
CHECK_RUN = ("check_ssh.sh", "is-active --quiet -- ssh.service")

FAST_PROFILE = {"vrrp_version": 3, "advert_int": 0.1}


def in_master(command):
    """A fault run in the master: its time is read inside, right before it."""
    def prepare(bench):
        def act():
            output = bench.run(MASTER, f"date +%s.%N; {command} >/dev/null 2>&1")[1]
            return float(output.split()[0])
        return act
    return prepare


def kill_keepalived(bench):
    """SIGKILL to all of keepalived's processes in ONE kill(2), to its process group,
    sent from the machine (docker top gives the machine's PIDs).
    (`systemctl kill -s SIGKILL keepalived` signals the main process, then the VRRP child:
    in 3 of 21 trials the child still managed a graceful exit in between, its priority-0
    advert moving the VIP after the skew time, 0.65 s, as in a graceful stop.)"""
    top = bench.container(MASTER).top(ps_args="-o pid,pgid,comm")
    column = {title: index for index, title in enumerate(top["Titles"])}
    groups = {int(row[column["PGID"]]) for row in top["Processes"]
              if row[column["COMMAND"]] == "keepalived"}
    if len(groups) != 1:
        raise RuntimeError(f"keepalived's process group on {MASTER}: {sorted(groups)}")
    group = groups.pop()

    def act():
        stamp = time.time()
        os.killpg(group, signal.SIGKILL)
        return stamp
    return act


def pause(bench):
    container = bench.container(MASTER)

    def act():
        stamp = time.time()
        container.pause()
        return stamp
    return act


def in_master_repair(command):
    return lambda bench: bench.run(MASTER, command)


@dataclass
class Kind:
    label: str
    fault: Callable  # fault(bench) -> act(), which makes the fault and returns its time
    repair: Callable  # repair(bench)
    theory: float  # seconds from a fault at the worst moment
    profile: str  # "default" or "fast"
    place: str  # right after "advert" or "check" (a run of it), or "" (any moment)
    window: float = 0.0  # what placing cannot fix: the check's offset to the adverts


KINDS = {
    "sigkill": Kind("master crash: keepalived SIGKILLed (process group)",
                    kill_keepalived, in_master_repair("systemctl start keepalived"),
                    master_down_interval(priority=90), "default", "advert"),
    "pause": Kind("master crash: container paused",
                  pause, lambda bench: bench.container(MASTER).unpause(),
                  master_down_interval(priority=90), "default", "advert"),
    "stop": Kind("graceful stop: systemctl stop keepalived",
                 in_master("systemctl stop keepalived"),
                 in_master_repair("systemctl start keepalived"),
                 skew_time(priority=90), "default", ""),
    # Placed after a check run, the fall-th failed run comes fall x interval later; the
    # backup then waits out Master_Down_Interval from the master's last advert before it,
    # up to one advert_int earlier: keepalived's own timers set that offset, not the fault.
    "check": Kind("tracked check fails: ssh.service stopped (interval 2, fall 2)",
                  in_master("systemctl stop ssh.service"),
                  in_master_repair("systemctl start ssh.service"),
                  check_failure_time(fall=2, interval=2, priority=90), "default", "check",
                  window=1.0),
    "fast": Kind("fast profile (VRRPv3, advert_int 0.1): keepalived SIGKILLed",
                 kill_keepalived, in_master_repair("systemctl start keepalived"),
                 master_down_interval(priority=90, advert_int=0.1, version=3), "fast",
                 "advert"),
}


def fast_profile(group_data):
    """The example data with VRRPv3 and advert_int 0.1 (v3 has no authentication)."""
    instances = [{**{key: value for key, value in instance.items()
                     if not key.startswith("auth_")},
                  "advert_int": FAST_PROFILE["advert_int"]}
                 for instance in group_data["keepalived_vrrp_instances"]]
    return {**group_data, "keepalived_vrrp_instances": instances,
            "keepalived_global_defs": {"vrrp_version": FAST_PROFILE["vrrp_version"]}}


def converge(bench, inventory):
    testbed.pyinfra(inventory, *LIMIT).check()
    settle(bench)


def settle(bench, timeout=30, stable=2.0):
    """Wait until the master alone holds the VIP, continuously for `stable` seconds."""
    deadline = time.monotonic() + timeout
    since = None
    while time.monotonic() < deadline:
        if bench.holders() == [MASTER]:
            since = since or time.monotonic()
            if time.monotonic() - since >= stable:
                return
        else:
            since = None
        time.sleep(0.2)
    raise RuntimeError(f"VIP held by {bench.holders()}, not by {MASTER} alone, "
                       f"{timeout} s after the repair")


def trial(bench, kind, macs, addresses, listener, watcher):
    """One fault and repair. Returns seconds from the fault to the backup's first answer;
    from the master's last advert that kept the backup waiting (or its priority-0 advert)
    to that answer, with that advert's priority; and how long after the advert or check
    run the fault came (None where unknown)."""
    spec = KINDS[kind]
    # A lost ping costs its whole timeout before the next one: 30 ms keeps the resolution
    # of the first answer near the polling interval (answers take well under 1 ms here).
    with testbed.Observer(bench, OBSERVER, bench.vip(), interval=0.02, timeout=0.03) as observer:
        if testbed.wait_for(lambda: observer.seen(macs[MASTER]), timeout=10,
                            interval=0.1) is None:
            raise RuntimeError(f"the observer does not reach the VIP on {MASTER}")
        act = spec.fault(bench)
        if spec.place == "advert":
            placed = listener.on_next(addresses[MASTER], act)
        elif spec.place == "check":
            placed = watcher.on_next(bench.container(MASTER).id, CHECK_RUN, act)
        else:
            placed = None
        try:
            if placed is None:
                stamp, lag = act(), None
            else:
                try:
                    moment, stamp = placed.result(timeout=30)
                except TimeoutError:
                    placed.cancel()  # never fire later (a stale process group)
                    raise RuntimeError(f"no {spec.place} of {MASTER} to place the fault "
                                       "after, in 30 s") from None
                lag = stamp - moment
            testbed.wait_for(lambda: observer.seen(macs[BACKUP], after=stamp),
                             timeout=spec.theory + 10, interval=0.1)
        finally:
            spec.repair(bench)
    settle(bench)
    seconds = first_answer(observer.polls, macs[BACKUP], after=stamp)
    if seconds is None:
        return None, None, None, lag
    last = last_advert(listener.adverts, addresses[MASTER], before=stamp + seconds,
                       backup_priority=BACKUP_PRIORITY)
    if last is None:
        return seconds, None, None, lag
    return seconds, stamp + seconds - last[0], last[1], lag


def advert_interval(kind):
    return 1.0 if KINDS[kind].profile == "default" else FAST_PROFILE["advert_int"]


def advert_theory(kind):
    """The theory counted from the master's last advert: skew time after its priority-0
    advert (graceful stop), Master_Down_Interval after any other."""
    advert_int = advert_interval(kind)
    version = 2 if KINDS[kind].profile == "default" else FAST_PROFILE["vrrp_version"]
    if kind == "stop":
        return skew_time(BACKUP_PRIORITY, advert_int, version)
    return master_down_interval(BACKUP_PRIORITY, advert_int, version)


def measure(kinds=tuple(KINDS), trials=5, log=print):
    results = {"kinds": {}}
    with testbed.cluster(3, log=lambda *_: None) as bench, \
            adverts.AdvertListener(adverts.bridge(bench.network())) as listener, \
            ExecWatcher() as watcher:
        if not listener.listening:
            raise RuntimeError("the failover bench places faults by the adverts it hears "
                               "on the cluster's bridge: run it as root")
        macs = {host: testbed.mac(bench, host) for host in (MASTER, BACKUP)}
        addresses = {host: bench.address(host) for host in (MASTER, BACKUP)}
        profile = None
        for kind in kinds:
            spec = KINDS[kind]
            if spec.profile != profile:
                profile = spec.profile
                inventory = (bench.inventory_path if profile == "default" else
                             testbed.edited_inventory(bench, "fast", fast_profile))
                converge(bench, inventory)
                results.setdefault("keepalived", bench.run(
                    MASTER, "keepalived --version 2>&1 | head -1")[1].strip())
            times, from_advert, priorities, lags = [], [], [], []
            for number in range(1, trials + 1):
                seconds, since_advert, priority, lag = trial(bench, kind, macs, addresses,
                                                             listener, watcher)
                times.append(seconds)
                from_advert.append(since_advert)
                priorities.append(priority)
                lags.append(lag)
                shown = "no answer" if seconds is None else f"{seconds:.3f} s"
                since = "-" if since_advert is None else f"{since_advert:.3f} s"
                placed = "" if lag is None else f"; fault {lag * 1000:.1f} ms after the {spec.place}"
                log(f"  {kind} trial {number}/{trials}: {shown} (theory {spec.theory:.3f} s); "
                    f"from the last advert (priority {priority}) {since} "
                    f"(theory {advert_theory(kind):.3f} s){placed}")
            results["kinds"][kind] = {
                "label": spec.label, "theory": spec.theory, "placed": spec.place,
                "earliest": spec.theory - spec.window, "times": times, "lags": lags,
                "advert_theory": advert_theory(kind), "from_advert": from_advert,
                "advert_priorities": priorities}
    return results
