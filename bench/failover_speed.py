"""Failover speed: from a fault on the master to the first ping of the VIP that the
backup answers, seen by a third container.

Test bed: 3 hosts; host-01 (priority 100) and host-02 (90) get the deploy
(`--limit`), host-03 is the observer. The fault time is read inside the master in the
same exec, right before the fault (`date +%s.%N; FAULT`); containers share the host's
clock. (`docker pause` comes from outside: its time is the host's clock just before the
API call.) A SIGKILLed or paused master still holds the VIP and its kernel still answers,
so only an answer from the backup's MAC counts. Between trials the VIP goes back to the
master and must stay there.
"""

import random
import time

from testhosts.vrrp_timing import check_failure_time, master_down_interval, skew_time

from . import adverts, testbed
from .stats import first_answer, last_advert

MASTER, BACKUP, OBSERVER = "host-01", "host-02", "host-03"
LIMIT = ("--limit", MASTER, "--limit", BACKUP)
BACKUP_PRIORITY = 90  # priority_and_state(1, 3)

FAST_PROFILE = {"vrrp_version": 3, "advert_int": 0.1}


def in_master(command, prepare=":"):
    """A fault run in the master: returns the fault's time, read right before it (after
    `prepare`, which may set shell variables for the command)."""
    def fault(bench):
        output = bench.run(MASTER, f"{prepare}; date +%s.%N; {command} >/dev/null 2>&1")[1]
        return float(output.split()[0])
    return fault


# SIGKILL to all of keepalived's processes in ONE kill(2), to its process group.
# (`systemctl kill -s SIGKILL keepalived` signals the main process, then the VRRP child:
# in 3 of 21 trials the child still managed a graceful exit in between, its priority-0
# advert moving the VIP after the skew time, 0.65 s, as in a graceful stop.)
KILL_KEEPALIVED = in_master(
    "/bin/kill -KILL -- -$group",
    prepare="group=$(ps -o pgid= -p $(systemctl show -p MainPID --value keepalived) | tr -d ' ')")


def pause(bench):
    stamp = time.time()
    bench.container(MASTER).pause()
    return stamp


def in_master_repair(command):
    return lambda bench: bench.run(MASTER, command)


# name: (label, fault, repair, theory seconds, data profile, phase seconds). The theory
# counts from the master's last advert (or the check's first failed run), which comes up
# to `phase` seconds (one advert_int; plus one check interval) BEFORE a fault at a random
# moment: seen from the fault, the backup takes over between theory - phase and theory.
KINDS = {
    "sigkill": ("master crash: keepalived SIGKILLed (process group)",
                KILL_KEEPALIVED,
                in_master_repair("systemctl start keepalived"),
                master_down_interval(priority=90), "default", 1.0),
    "pause": ("master crash: container paused",
              pause, lambda bench: bench.container(MASTER).unpause(),
              master_down_interval(priority=90), "default", 1.0),
    "stop": ("graceful stop: systemctl stop keepalived",
             in_master("systemctl stop keepalived"),
             in_master_repair("systemctl start keepalived"),
             skew_time(priority=90), "default", 0.0),
    "check": ("tracked check fails: ssh.service stopped (interval 2, fall 2)",
              in_master("systemctl stop ssh.service"),
              in_master_repair("systemctl start ssh.service"),
              check_failure_time(fall=2, interval=2, priority=90), "default", 3.0),
    "fast": ("fast profile (VRRPv3, advert_int 0.1): keepalived SIGKILLed",
             KILL_KEEPALIVED,
             in_master_repair("systemctl start keepalived"),
             master_down_interval(priority=90, advert_int=0.1, version=3), "fast",
             FAST_PROFILE["advert_int"]),
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


def trial(bench, kind, macs, addresses, listener):
    """One fault and repair. Returns seconds from the fault to the backup's first answer,
    and from the master's last advert that kept the backup waiting (or its priority-0
    advert) to that answer, with that advert's priority (None, None when unknown)."""
    label, fault, repair, theory, *_ = KINDS[kind]
    # A lost ping costs its whole timeout before the next one: 30 ms keeps the resolution
    # of the first answer near the polling interval (answers take well under 1 ms here).
    with testbed.Observer(bench, OBSERVER, bench.vip(), interval=0.02, timeout=0.03) as observer:
        if testbed.wait_for(lambda: observer.seen(macs[MASTER]), timeout=10,
                            interval=0.1) is None:
            raise RuntimeError(f"the observer does not reach the VIP on {MASTER}")
        # A fault comes at a random moment of the advert (and check) cycle, not in step
        # with the trial's own rhythm, which the master's return sets: a random wait over
        # that cycle. (Not a wait for something: it only shuffles the phase.)
        time.sleep(random.uniform(0, KINDS[kind][5]))
        stamp = fault(bench)
        try:
            testbed.wait_for(lambda: observer.seen(macs[BACKUP], after=stamp),
                             timeout=theory + 10, interval=0.1)
        finally:
            repair(bench)
    settle(bench)
    seconds = first_answer(observer.polls, macs[BACKUP], after=stamp)
    if seconds is None:
        return None, None, None
    last = last_advert(listener.adverts, addresses[MASTER], before=stamp + seconds,
                       backup_priority=BACKUP_PRIORITY)
    if last is None:
        return seconds, None, None
    return seconds, stamp + seconds - last[0], last[1]


def advert_interval(kind):
    return 1.0 if KINDS[kind][4] == "default" else FAST_PROFILE["advert_int"]


def advert_theory(kind):
    """The theory counted from the master's last advert: skew time after its priority-0
    advert (graceful stop), Master_Down_Interval after any other."""
    advert_int = advert_interval(kind)
    version = 2 if KINDS[kind][4] == "default" else FAST_PROFILE["vrrp_version"]
    if kind == "stop":
        return skew_time(BACKUP_PRIORITY, advert_int, version)
    return master_down_interval(BACKUP_PRIORITY, advert_int, version)


def measure(kinds=tuple(KINDS), trials=5, log=print):
    results = {"kinds": {}}
    with testbed.cluster(3, log=lambda *_: None) as bench, \
            adverts.AdvertListener(adverts.bridge(bench.network())) as listener:
        macs = {host: testbed.mac(bench, host) for host in (MASTER, BACKUP)}
        addresses = {host: bench.address(host) for host in (MASTER, BACKUP)}
        profile = None
        for kind in kinds:
            label, _, _, theory, wanted, phase = KINDS[kind]
            if wanted != profile:
                profile = wanted
                inventory = (bench.inventory_path if profile == "default" else
                             testbed.edited_inventory(bench, "fast", fast_profile))
                converge(bench, inventory)
                results.setdefault("keepalived", bench.run(
                    MASTER, "keepalived --version 2>&1 | head -1")[1].strip())
            times, from_advert, priorities = [], [], []
            for number in range(1, trials + 1):
                seconds, since_advert, priority = trial(bench, kind, macs, addresses, listener)
                times.append(seconds)
                from_advert.append(since_advert)
                priorities.append(priority)
                shown = "no answer" if seconds is None else f"{seconds:.3f} s"
                since = "-" if since_advert is None else f"{since_advert:.3f} s"
                log(f"  {kind} trial {number}/{trials}: {shown} (theory {theory:.3f} s); "
                    f"from the last advert (priority {priority}) {since} "
                    f"(theory {advert_theory(kind):.3f} s)")
            results["kinds"][kind] = {
                "label": label, "theory": theory, "earliest": theory - phase, "times": times,
                "advert_theory": advert_theory(kind), "from_advert": from_advert,
                "advert_priorities": priorities}
    return results
