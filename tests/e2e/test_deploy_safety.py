"""The deploy never causes the outage it exists to prevent (issue 15), on two test hosts.

In file order, on one cluster: converge; a reload lost after the swap (a `systemctl` on
sudo's PATH that fails the reload once) splits the cluster, and the next run finishes the
reload and heals it; deploys with different data started together at offsets 0-0.75 s
serialise on the host lock, the VIP never leaves the master and every host runs the whole
tree it has on disk; a run that cannot get the lock fails naming the holder; a run killed
during the config test or right after the swap leaves the old or the new tree whole, and
the next run completes it; a tree laid out by an earlier version of the deploy (real
directories) is taken over without a flap. A change the peers must agree on (here the VIP
list) goes live on both hosts together or on neither (issue 20): with the backup's lock
held 15 s by another process, when the backup's keepalived -t rejects it, when the backup
is outside --limit; never two holders, while an observer pings the VIP every 20 ms.
"""

import contextlib
import subprocess
import sys
import time

import pytest

from testhosts.cluster import REPO_DIR
from testhosts.polling import wait_for
from testhosts.vrrp_timing import master_down_interval

from .conftest import VipWatch, converge, edited_inventory, pyinfra, record
from .pings import Pings
from .scenarios import CONFIG_TEST, assert_generation_layout, check_converged

pytestmark = pytest.mark.e2e

MARKER = "/var/lib/pyinfra-keepalived/reload-pending"
LOCK = "/run/pyinfra-keepalived/lock"
# What a keepalived start reads, through the links: each file's checksum.
LIVE_TREE = ("cd /etc/keepalived && sha256sum keepalived.conf conf.d/* scripts/* "
             "| sort -k2")
# Wrappers earlier on sudo's secure_path than the real commands (/usr/local/sbin first).
SYSTEMCTL_FAILS_RELOAD_ONCE = """#!/bin/sh
if [ "$1" = reload ] && [ -e /run/test-fail-reload ]; then
  rm -f /run/test-fail-reload; echo "reload refused (test)" >&2; exit 1
fi
exec /bin/systemctl "$@"
"""
# The config test takes a while: two runs then overlap where it matters.
SLOW_CONFIG_TEST = """#!/bin/sh
case " $* " in *" -t "*) sleep 1.5 ;; esac
exec /usr/sbin/keepalived "$@"
"""
# Kill the run (every process of the transaction, as a dropped SSH link or a kill -9
# would; with a change the peers must agree on, also the process that keeps the lock for
# the prepared tree) when it reaches `-t` or the reload; once.
KILL_AT = """#!/bin/sh
if [ -e /run/test-kill ] && case " $* " in *" {word} "*) true ;; *) false ;; esac; then
  rm -f /run/test-kill; pkill -KILL -f pyinfra-keepalived-hold; pkill -KILL -f {lock}
  exit 137
fi
exec {real} "$@"
"""


def install(cluster, host, path, content):
    code, output = cluster.run(host, f"cat > {path} <<'EOF'\n{content}EOF\nchmod 755 {path}")
    assert code == 0, output


def live_tree(cluster, host):
    return cluster.run(host, LIVE_TREE)[1]


def second_vip(cluster):
    address, prefix = cluster.vip().split("/")
    head, last = address.rsplit(".", 1)
    return f"{head}.{int(last) + 1}/{prefix}"


def with_vips(cluster, tmp_path, name, vips, more=()):
    """The cluster's inventory with the instance's VIPs `vips` (in its own dir)."""
    directory = tmp_path / name
    directory.mkdir()
    listed = ", ".join(f"'{vip}'" for vip in vips)
    return edited_inventory(cluster, directory, f"'{cluster.vip()}'", listed, also=more)


def runs_what_is_on_disk(cluster):
    """Every VIP listed in the live instances file is held by the master, none by the
    backup, within the time VRRP needs to settle."""
    master, backup = cluster.hosts
    listed = [vip for vip in (cluster.vip(), second_vip(cluster))
              if vip.split("/")[0] in cluster.run(
                  master, "cat /etc/keepalived/conf.d/20-vrrp_instances.conf")[1]]

    def settled():
        return all(cluster.holders(vip) == [master] for vip in listed) and not any(
            cluster.holds(backup, vip) for vip in (cluster.vip(), second_vip(cluster)))
    assert wait_for(settled, timeout=15) is not None, \
        f"VIPs {listed} on disk; held: {[cluster.holders(v) for v in listed]}"
    return listed


def test_converge(cluster):
    check_converged(cluster, pyinfra(cluster.inventory_path, "-y"))


def test_lost_reload_is_done_by_the_next_run(cluster, tmp_path):
    """The reload after the swap fails once on the backup: it keeps running the old VIP
    list, discards the master's adverts and takes the VIP too (split brain). The next run
    sees the pending reload on that host, reloads, and the split brain ends."""
    master, backup = cluster.hosts
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    install(cluster, backup, "/usr/local/sbin/systemctl", SYSTEMCTL_FAILS_RELOAD_ONCE)
    cluster.run(backup, "touch /run/test-fail-reload")
    try:
        first = pyinfra(two, "-y")
        assert first.returncode != 0, first.stdout + first.stderr
        assert wait_for(lambda: cluster.holders() == [master, backup], timeout=10) is not None, \
            "the lost reload did not split the cluster: the test shows nothing"
        marked = cluster.run(backup, f"test -s {MARKER}")[0] == 0

        second = pyinfra(two, "-y")
    finally:
        cluster.run(backup, "rm -f /usr/local/sbin/systemctl /run/test-fail-reload")
    output = second.stdout + second.stderr
    assert second.returncode == 0, output
    assert runs_what_is_on_disk(cluster) == [cluster.vip(), second_vip(cluster)]
    assert marked, "no pending-reload marker after the failed reload"
    assert "reload stays pending" in first.stdout + first.stderr
    assert f"[{backup}] keepalived reload pending (since" in output
    assert cluster.run(backup, f"test -e {MARKER}")[0] != 0, "marker left after the reload"


def test_concurrent_deploys_serialise_on_the_lock(cluster, tmp_path):
    """Two deploys with different data (one VIP / two VIPs), the second started 0 to
    0.75 s after the first, with a slow config test so that they overlap: each succeeds
    (the second waits for the lock) or, when the other run holds the lock for a prepared
    VIP-list change, fails at once changing nothing; every host ends with a whole tree
    that its keepalived runs and that passes keepalived -t, and the VIP never leaves the
    master."""
    one = with_vips(cluster, tmp_path, "one", [cluster.vip()])
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    for host in cluster.hosts:
        install(cluster, host, "/usr/local/sbin/keepalived", SLOW_CONFIG_TEST)
    try:
        with VipWatch(cluster, cluster.vip()) as watch:
            for round_, offset in enumerate((0, 0.25, 0.5, 0.75)):
                first, second = (one, two) if round_ % 2 else (two, one)
                runs = []
                for inventory, delay in ((first, 0), (second, offset)):
                    time.sleep(delay)
                    runs.append(subprocess.Popen(
                        [sys.executable, "-m", "pyinfra", "-y", inventory, "deploy.py"],
                        cwd=REPO_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL, text=True))
                outputs = [run.communicate(timeout=300)[0] for run in runs]
                for run, output in zip(runs, outputs):
                    # a change the peers must agree on (the VIP list) is prepared on both
                    # hosts and keeps their locks until its commit: the other run's
                    # prepare does not wait for that (two runs could wait for each
                    # other), it fails at once and changes nothing
                    refused = "another keepalived deploy prepared a config" in output
                    assert run.returncode == 0 or refused, f"offset {offset}:\n{output}"
                for host in cluster.hosts:
                    assert_generation_layout(cluster, host)
                    assert cluster.run(host, f"test -e {MARKER}")[0] != 0
                    code, output = cluster.run(host, CONFIG_TEST)
                    assert code == 0, f"{host}: keepalived -t on the live tree: {output}"
                runs_what_is_on_disk(cluster)
    finally:
        for host in cluster.hosts:
            cluster.run(host, "rm -f /usr/local/sbin/keepalived")
    master, backup = cluster.hosts
    assert watch.samples[master] and set(watch.samples[master]) == {1}, \
        "the VIP left the master during the concurrent deploys"
    assert set(watch.samples[backup]) == {0}, "the backup held the VIP"


def test_run_that_cannot_get_the_lock_fails_naming_the_holder(cluster, tmp_path):
    master = cluster.hosts[0]
    before = live_tree(cluster, master)
    changed = with_vips(cluster, tmp_path, "changed", [cluster.vip()], more=[
        ("'keepalived_priority': 100", "'keepalived_priority': 110, 'keepalived_lock_wait': 2")])
    # another run holds the lock: the deploy's own lock script, holding it for 60 s
    holder = (f"flock {LOCK} sh -c 'printf \"pid $$, login user ops, since then: a test\\n\""
              " > /run/pyinfra-keepalived/holder; sleep 60'")
    cluster.container(master).exec_run(["sh", "-c", holder], detach=True)
    assert wait_for(lambda: cluster.run(master, f"flock -n {LOCK} true")[0] != 0,
                    timeout=5) is not None
    try:
        result = pyinfra(changed, "-y")
    finally:
        cluster.run(master, f"pkill -f 'flock {LOCK}'")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"[{master}] another keepalived deploy holds the lock on {master}" in output
    assert "login user ops" in output and "nothing was changed on this host" in output
    assert live_tree(cluster, master) == before


@pytest.mark.parametrize("word, real, old_or_new", [
    ("-t", "/usr/sbin/keepalived", "old"),  # killed while the new tree is tested
    ("reload", "/bin/systemctl", "new"),  # killed after the swap, before the reload
])
def test_killed_run_leaves_a_whole_tree_and_the_next_run_completes_it(
        cluster, tmp_path, word, real, old_or_new):
    master = cluster.hosts[0]
    name = real.rsplit("/", 1)[1]
    current = [cluster.vip(), second_vip(cluster)]
    listed = cluster.run(master, "cat /etc/keepalived/conf.d/20-vrrp_instances.conf")[1]
    wanted = [cluster.vip()] if second_vip(cluster).split("/")[0] in listed else current
    inventory = with_vips(cluster, tmp_path, "next", wanted)
    old = live_tree(cluster, master)
    install(cluster, master, f"/usr/local/sbin/{name}",
            KILL_AT.format(word=word, lock=LOCK, real=real))
    cluster.run(master, "touch /run/test-kill")
    try:
        killed = pyinfra(inventory, "-y")
        assert killed.returncode != 0, killed.stdout + killed.stderr
        assert cluster.run(master, "test -e /run/test-kill")[0] != 0, "the kill never came"
        after_kill = live_tree(cluster, master)
        assert cluster.run(master, f"test -e {MARKER}")[0] == (0 if old_or_new == "new" else 1)
    finally:
        cluster.run(master, f"rm -f /usr/local/sbin/{name} /run/test-kill")

    result = pyinfra(inventory, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    new = live_tree(cluster, master)
    assert new != old
    assert after_kill == {"old": old, "new": new}[old_or_new], \
        f"after the kill the live tree was neither whole old nor whole new:\n{after_kill}"
    assert cluster.run(master, f"test -e {MARKER}")[0] != 0
    leftovers = cluster.run(master, "ls -a /etc/keepalived/.generations")[1].split()
    assert not [entry for entry in leftovers if entry.endswith(".partial")], leftovers
    assert len([entry for entry in leftovers if entry not in (".", "..")]) <= 2, leftovers
    runs_what_is_on_disk(cluster)


def test_tree_of_an_earlier_version_is_taken_over_without_a_flap(cluster, tmp_path):
    """Earlier versions of the deploy left real directories: the first run of this one
    lays the links out (one rename per path), reloads (no flap), and the VIP stays on the
    master all along."""
    legacy = ("cd /etc/keepalived && for p in scripts conf.d keepalived.conf; do "
              "cp -rL $p $p.real && rm $p && mv $p.real $p; done && "
              "rm -rf .current .previous .generations")
    converge(cluster)  # the example's data, as the tests before may have left other data
    for host in cluster.hosts:
        assert cluster.run(host, legacy)[0] == 0
    before = {host: live_tree(cluster, host) for host in cluster.hosts}
    with VipWatch(cluster, cluster.vip()) as watch:
        converge(cluster)
    for host in cluster.hosts:
        assert_generation_layout(cluster, host)
        assert live_tree(cluster, host) == before[host]
    master, backup = cluster.hosts
    assert set(watch.samples[master]) == {1} and set(watch.samples[backup]) == {0}


# keepalived -t rejects every config on the host (a check script or include that the
# host lacks would do the same); keepalived itself still runs
REJECTING_CONFIG_TEST = """#!/bin/sh
case " $* " in *" -t "*) echo "(test) rejected on this host" >&2; exit 5 ;; esac
exec /usr/sbin/keepalived "$@"
"""


def hold_lock(cluster, host, seconds):
    """Another process holds the host's deploy lock for `seconds` from now."""
    holder = (f"flock {LOCK} sh -c 'printf \"pid $$, login user ops, since then: a test\\n\""
              f" > /run/pyinfra-keepalived/holder; sleep {seconds}'")
    cluster.container(host).exec_run(["sh", "-c", holder], detach=True)
    assert wait_for(lambda: cluster.run(host, f"flock -n {LOCK} true")[0] != 0,
                    timeout=5) is not None


def became_master(cluster, host, cursor):
    """How many times the host's instance entered MASTER since `cursor` (its journal)."""
    return cluster.journal_since(host, cursor).count("Entering MASTER STATE")


def reloaded_at(cluster, host, cursor):
    """When systemd began reloading keepalived on the host after `cursor` (epoch s; the
    hosts share one clock), or None."""
    journal = cluster.run(host, "journalctl -u keepalived --no-pager -o short-unix "
                                f"--after-cursor='{cursor}'")[1]
    stamps = [float(line.split()[0]) for line in journal.splitlines()
              if "Reloading" in line and line[:1].isdigit()]
    return stamps[0] if stamps else None


def held(watch, host, seconds):
    """About how long the host held the watched address during a watch of `seconds`."""
    samples = watch.samples[host]
    return seconds * sum(samples) / max(len(samples), 1)


def vips_on_disk(cluster, host):
    listed = cluster.run(host, "cat /etc/keepalived/conf.d/20-vrrp_instances.conf")[1]
    return [vip for vip in (cluster.vip(), second_vip(cluster)) if vip.split("/")[0] in listed]


def test_agreement_change_waits_for_a_locked_peer_and_commits_on_both(
        cluster, observer, tmp_path):
    """The backup's lock is held 15 s by another process while the VIP list changes: the
    master prepares and waits; both commit once the backup has prepared, close together.
    The backup never holds the VIP, never becomes MASTER."""
    master, backup = cluster.hosts
    converge(cluster)  # the example's data: one VIP
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    hold_lock(cluster, backup, 15)
    start = time.monotonic()
    with Pings(observer, cluster.vip()) as pings, VipWatch(cluster, cluster.vip()) as watch:
        result = pyinfra(two, "-y")
        time.sleep(1)
    watched = time.monotonic() - start
    output = result.stdout + result.stderr
    print(f"\nagreement change, peer locked 15 s: {pings}; the backup held the VIP "
          f"{held(watch, backup, watched):.1f} s")
    assert result.returncode == 0, output
    assert [vips_on_disk(cluster, host) for host in cluster.hosts] == \
        [[cluster.vip(), second_vip(cluster)]] * 2
    assert set(watch.samples[backup]) == {0}, \
        f"two holders: the backup held the VIP {held(watch, backup, watched):.1f} s"
    assert set(watch.samples[master]) == {1}, "the VIP left the master"
    assert became_master(cluster, backup, cursors[backup]) == 0, \
        cluster.journal_since(backup, cursors[backup])
    runs_what_is_on_disk(cluster)
    reloads = [reloaded_at(cluster, host, cursors[host]) for host in cluster.hosts]
    assert None not in reloads, reloads
    spread = abs(reloads[0] - reloads[1])
    record("commit spread between the two hosts (agreement change)", spread,
           master_down_interval(priority=90))
    print(f"reloads {reloads}: commit spread {spread * 1000:.0f} ms")


def deploy_rejected_on(cluster, host, inventory, observer=None):
    """Deploy `inventory` while `host`'s keepalived -t rejects every config, watching who
    holds the VIP (and, given an `observer`, pinging it) until a split would show.
    Returns (result, VipWatch, seconds watched, Pings or None)."""
    install(cluster, host, "/usr/local/sbin/keepalived", REJECTING_CONFIG_TEST)
    start = time.monotonic()
    try:
        with VipWatch(cluster, cluster.vip()) as watch:
            pings = Pings(observer, cluster.vip()) if observer else None
            with pings or contextlib.nullcontext():
                result = pyinfra(inventory, "-y")
                time.sleep(master_down_interval(priority=90) + 1)  # a split shows by now
    finally:
        cluster.run(host, "rm -f /usr/local/sbin/keepalived")
    return result, watch, time.monotonic() - start, pings


def assert_backup_kept_off(cluster, result, watch, watched, said):
    """After deploy_rejected_on(master): the run failed saying `said`, the VIP stayed on the
    master alone the whole time, and the backup's keepalived does not run. Returns the
    run's output."""
    master, backup = cluster.hosts
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert set(watch.samples[backup]) == {0}, \
        f"two holders: the backup held the VIP {held(watch, backup, watched):.1f} s"
    assert set(watch.samples[master]) == {1}, "the VIP left the master"
    assert said in output, output
    assert cluster.run(backup, "systemctl is-active keepalived")[1].strip() != "active"
    return output


def test_agreement_change_a_peer_rejects_is_committed_nowhere(cluster, observer, tmp_path):
    """The backup's keepalived -t rejects the new VIP list: no host commits it (the master
    discards what it prepared), the run fails naming the peer, no split."""
    master, backup = cluster.hosts
    converge(cluster)
    before = {host: live_tree(cluster, host) for host in cluster.hosts}
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    cursors = {host: cluster.journal_cursor(host) for host in cluster.hosts}
    result, watch, watched, pings = deploy_rejected_on(cluster, backup, two, observer)
    output = result.stdout + result.stderr
    print(f"\nagreement change rejected on the peer: {pings}; the backup held the VIP "
          f"{held(watch, backup, watched):.1f} s")
    assert result.returncode != 0, output
    assert {host: live_tree(cluster, host) for host in cluster.hosts} == before
    assert set(watch.samples[backup]) == {0}, \
        f"two holders: the backup held the VIP {held(watch, backup, watched):.1f} s"
    assert became_master(cluster, backup, cursors[backup]) == 0
    assert "(test) rejected on this host" in output
    assert f"[{master}] not committed: {backup} (a peer of VI_1) could not prepare" in output
    generations = cluster.run(master, "ls -a /etc/keepalived/.generations")[1].split()
    assert not [name for name in generations if name.endswith(".prepared")], generations
    assert cluster.run(master, f"flock -n {LOCK} true")[0] == 0, "the lock is still held"


def test_a_stopped_peer_does_not_start_on_an_agreement_the_master_rejects(cluster, tmp_path):
    """keepalived is stopped on the backup; the master's keepalived -t rejects the new VIP
    list, so the master keeps the old one. The backup must not start on the new list
    (it would drop the master's adverts, another VIP count, and hold the VIP beside it):
    its start goes with the commit, which the master's failure refuses."""
    master, backup = cluster.hosts
    converge(cluster)
    before = {host: live_tree(cluster, host) for host in cluster.hosts}
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    cluster.run(backup, "systemctl stop keepalived")
    result, watch, watched, _ = deploy_rejected_on(cluster, master, two)
    try:
        output = assert_backup_kept_off(cluster, result, watch, watched, f"[{backup}] not "
                                        f"committed: {master} (a peer of VI_1) could not prepare")
        assert {host: live_tree(cluster, host) for host in cluster.hosts} == before, output
    finally:
        converge(cluster)  # (starts the backup again, on the old list)


def test_a_new_peer_does_not_start_beside_a_master_that_rejects_the_change(cluster, tmp_path):
    """The backup is new (keepalived installed, stopped, no config: nothing to commit
    together) while the data changes the VIP list, which the master's keepalived -t
    rejects: the master keeps the old list. The backup's config may go live, but it must
    not start on the new list beside the master (both would hold the VIP): its start,
    asked after the commits, fails it instead."""
    master, backup = cluster.hosts
    converge(cluster)
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    cluster.run(backup, "systemctl stop keepalived && rm -rf /etc/keepalived")
    result, watch, watched, _ = deploy_rejected_on(cluster, master, two)
    try:
        assert_backup_kept_off(cluster, result, watch, watched, f"[{backup}] keepalived not "
                               f"started: {master} (a peer of VI_1) changed what the peers "
                               "must agree on and could not prepare")
    finally:
        converge(cluster)  # (starts the backup, on the old list)


def test_agreement_change_with_a_peer_outside_the_run_is_refused(cluster, tmp_path):
    master, backup = cluster.hosts
    converge(cluster)
    before = live_tree(cluster, master)
    two = with_vips(cluster, tmp_path, "two", [cluster.vip(), second_vip(cluster)])
    result = pyinfra(two, "-y", "--limit", master)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"VI_1: peer {backup} is not" in output and "keepalived_commit_without_peers" in output
    assert live_tree(cluster, master) == before
