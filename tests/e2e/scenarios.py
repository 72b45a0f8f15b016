"""End-to-end steps shared by the test modules (every release runs the same ones).

Each step asserts what it claims and returns what it measured.
"""

import time

from testhosts.polling import wait_for
from testhosts.vrrp_timing import master_down_interval

from .conftest import checksums, pyinfra, record, totals

FILES = {
    "/etc/keepalived": "root:root 755 directory",
    "/etc/keepalived/conf.d": "root:root 755 directory",
    "/etc/keepalived/scripts": "root:root 755 directory",
    "/etc/keepalived/keepalived.conf": "root:root 644 regular file",
    "/etc/keepalived/conf.d/00-global_defs.conf": "root:root 644 regular file",
    "/etc/keepalived/conf.d/10-vrrp_scripts.conf": "root:root 644 regular file",
    "/etc/keepalived/conf.d/20-vrrp_instances.conf": "root:root 600 regular file",
    "/etc/keepalived/scripts/check_ssh.sh": "root:root 755 regular file",
}

# keepalived 2.2.7 ends its own `-t` with SIGTERM (exit 143) whenever a script runs as a
# non-root user (fixed in 2.2.8). On that version the live config is tested again as the
# deploy's gate does: a copy with the script users set to root.
# (The shell reports "Terminated" for that run on its own stderr, hence `exec 2>/dev/null`;
# keepalived's messages are captured with 2>&1.)
CONFIG_TEST = """
exec 2>/dev/null
output=$(keepalived -t -f /etc/keepalived/keepalived.conf 2>&1); rc=$?
if [ $rc -eq 143 ] && keepalived --version 2>&1 | grep -q 'v2\\.2\\.7 '; then
  rm -rf /tmp/kt && cp -Rp /etc/keepalived /tmp/kt
  sed -i -E 's#/etc/keepalived/#/tmp/kt/#g; s/^([[:space:]]*(script_user|user)[[:space:]]+).*/\\1root/' \
    /tmp/kt/keepalived.conf /tmp/kt/conf.d/*.conf
  output=$(keepalived -t -f /tmp/kt/keepalived.conf 2>&1); rc=$?
fi
printf '%s' "$output"
exit $rc
"""


# pyinfra_keepalived/operations/transaction.sh: the managed paths are fixed links through .current, which
# points at the live generation
LINKS = {"/etc/keepalived/keepalived.conf": ".current/keepalived.conf",
         "/etc/keepalived/conf.d": ".current/conf.d",
         "/etc/keepalived/scripts": ".current/scripts"}


def assert_generation_layout(cluster, host):
    """The host's tree is laid out as transaction.sh leaves it; returns the live
    generation's name."""
    links = cluster.run(host, "readlink /etc/keepalived/.current " + " ".join(LINKS))[1].split()
    assert len(links) == 4 and links[1:] == list(LINKS.values()), f"{host}: {links}"
    assert links[0].startswith(".generations/"), f"{host}: .current -> {links[0]}"
    return links[0].split("/", 1)[1]


def check_converged(cluster, result):
    """Test 1: after a first deploy, every host is set up as specified, and only the
    first host holds the VIP."""
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, _ = totals(result)
    # the drop-in; the package with the user; the config with the start
    assert errors == 0 and changed >= 3 * len(cluster.hosts)

    for host in cluster.hosts:
        assert cluster.run(host, "systemctl is-active keepalived")[1].strip() == "active"
        assert cluster.run(host, "systemctl is-enabled keepalived")[1].strip() == "enabled"
        user = cluster.run(host, "getent passwd keepalived_script")[1].strip().split(":")
        assert user[4:] == ["Keepalived health check script user", "/nonexistent",
                            "/usr/sbin/nologin"]
        assert cluster.run(host, "test -e /nonexistent")[0] != 0, "a home was created"
        # what keepalived reads, through the links of the transaction's layout
        stat = cluster.run(host, "stat -L -c '%n|%U:%G %a %F' " + " ".join(FILES))[1]
        assert dict(line.split("|") for line in stat.splitlines()) == FILES
        assert_generation_layout(cluster, host)
        code, output = cluster.run(host, CONFIG_TEST)
        assert (code, output.strip()) == (0, ""), f"{host}: keepalived -t: exit {code}\n{output}"
        assert wait_for(lambda: "VRRP_Script(check_ssh) succeeded" in cluster.run(
            host, "journalctl -u keepalived --no-pager")[1], timeout=10) is not None

    master = cluster.hosts[0]
    assert wait_for(lambda: cluster.holders() == [master], timeout=15) is not None, \
        f"VIP {cluster.vip()} held by {cluster.holders()}, expected {master} only"


def check_cold_starts_return_settled(cluster, result, runs=5):
    """The deploy returns only once the first host holds the VIP alone: checked right after
    the run `result` (a cold converge; None: none) returned, without waiting, then until
    `runs` in all, each a deploy after keepalived was stopped on every host (a cold start of VRRP:
    every instance starts as BACKUP and elects a MASTER after Master_Down_Interval)."""
    master = cluster.hosts[0]
    for attempt in range(1, runs + 1):
        if attempt > 1 or result is None:
            for host in cluster.hosts:
                cluster.run(host, "systemctl stop keepalived")
            result = pyinfra(cluster.inventory_path, "-y")
        assert result.returncode == 0, result.stdout + result.stderr
        holders = cluster.holders()  # right away: no wait
        assert holders == [master], \
            f"start {attempt} of {runs}: VIP held by {holders} when the deploy returned"


def check_second_run_changes_nothing(cluster, inventory=None):
    """Test 2: a second deploy reports no change and leaves every file as it was."""
    before = {host: checksums(cluster, host) for host in cluster.hosts}
    result = pyinfra(inventory or cluster.inventory_path, "-y")
    assert result.returncode == 0, result.stdout + result.stderr
    operations, changed, errors, unchanged = totals(result)
    assert (changed, errors) == (0, 0) and unchanged == operations, result.stdout
    assert {host: checksums(cluster, host) for host in cluster.hosts} == before


# SIGKILL to every keepalived process in one kill(2), to its process group: `systemctl
# kill` signals them one by one, and the VRRP child can then exit gracefully (priority-0
# advert) when its parent dies first.
KILL_KEEPALIVED = ("/bin/kill -KILL -- -$(ps -o pgid= -p "
                   "$(systemctl show -p MainPID --value keepalived) | tr -d ' ')")


def kill_keepalived(cluster, host):
    code, output = cluster.run(host, KILL_KEEPALIVED)
    assert code == 0, f"{host}: {KILL_KEEPALIVED}: {output}"


CRASHES = {
    # how to crash the master: (fault, repair)
    "SIGKILL": (kill_keepalived,
                lambda cluster, host: cluster.run(host, "systemctl start keepalived")),
    "pause": (lambda cluster, host: cluster.container(host).pause(),
              lambda cluster, host: cluster.container(host).unpause()),
}


def crash_failover_and_return(cluster, crash):
    """Test 4: the master crashes (keepalived SIGKILLed, or the whole host frozen with
    `docker pause`): the backup holds the VIP within Master_Down_Interval + 1 s. When the
    master is back it takes the VIP back (preempt) and the backup lets it go."""
    master, backup = cluster.hosts[:2]
    fault, repair = CRASHES[crash]
    assert wait_for(lambda: cluster.holders() == [master], timeout=15) is not None
    theory = master_down_interval(priority=90)

    start = time.monotonic()
    fault(cluster, master)
    try:
        moved = wait_for(lambda: cluster.holds(backup), timeout=theory + 5, since=start)
    finally:
        repaired = time.monotonic()
        repair(cluster, master)
    assert moved is not None, f"{crash}: VIP not on {backup} {theory + 5:.1f} s after the crash"
    record(f"{cluster.release}: master crash ({crash}) -> VIP on backup", moved, theory)
    assert moved <= theory + 1, f"{crash}: took {moved:.2f} s, theory {theory:.2f} s"

    back = wait_for(lambda: cluster.holders() == [master], timeout=15, since=repaired)
    assert back is not None, f"{crash}: VIP held by {cluster.holders()} after the master came back"
    return moved, back
