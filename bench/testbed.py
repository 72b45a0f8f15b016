"""What the measurements stand on: private test clusters, timed pyinfra runs, edited
inventories, journal marks, and an observer that pings the VIP from a third container.

Every cluster is named `bench-<random>` and removed afterwards, also after a failure; only
containers of such a cluster are ever touched.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid

from testhosts.cluster import REPO_DIR, Cluster
from testhosts.engine import ensure_engine
from testhosts.polling import wait_for  # noqa: F401  (bench modules use testbed.wait_for)

from .stats import cgroup_cpu_seconds, memory_in_use, parse_observer, reply_times

# Each systemd test host takes several inotify instances; the kernel's default of 128 per
# user stops new hosts past about 26 on the machine, counting other clusters (they fail to
# start); with these, 50 hosts run.
INOTIFY_LIMITS = {"fs.inotify.max_user_instances": 2048, "fs.inotify.max_user_watches": 1048576}
INOTIFY_NEEDED_FROM = 20  # hosts in one cluster: without root, an error unless raised


@contextlib.contextmanager
def cluster(count, log=print, apt_cache=False):
    """A fresh cluster of `count` Debian 12 hosts (with a package cache next to them when
    `apt_cache`), removed on exit."""
    if count > INOTIFY_NEEDED_FROM or os.geteuid() == 0:
        raise_inotify_limits(log)
    bench = Cluster(ensure_engine(), f"bench-{uuid.uuid4().hex[:8]}", count, log=log,
                    apt_cache=apt_cache)
    try:
        yield bench.up()
    finally:
        bench.down()


def raise_inotify_limits(log=print):
    """Raise the kernel's inotify limits to INOTIFY_LIMITS where they are lower (root
    only: a clear error otherwise). They are per machine, so never lowered here: other
    clusters may need them."""
    for key, wanted in INOTIFY_LIMITS.items():
        path = "/proc/sys/" + key.replace(".", "/")
        with open(path) as f:
            current = int(f.read())
        if current >= wanted:
            continue
        if os.geteuid() != 0:
            raise RuntimeError(f"{key} is {current}: more than {INOTIFY_NEEDED_FROM} test hosts "
                               f"need {wanted} (as root: sysctl -w {key}={wanted})")
        log(f"  raising {key} from {current} to {wanted} (for more than "
            f"{INOTIFY_NEEDED_FROM} systemd test hosts)")
        subprocess.run(["sysctl", "-q", "-w", f"{key}={wanted}"], check=True)


def memory(bench):
    """Bytes of memory the cluster's containers use now (as `docker stats` counts it:
    without the page cache they could give back), {container name: bytes}."""
    names = [bench.container_name(host) for host in bench.hosts]
    result = subprocess.run(["docker", "stats", "--no-stream", "--format",
                             "{{.Name}}\t{{.MemUsage}}", *names],
                            capture_output=True, text=True, check=True, timeout=120)
    return memory_in_use(result.stdout)


class Run:
    """One finished pyinfra run: wall seconds, peak RSS (KiB) of the pyinfra process, exit
    code and output (stdout and stderr together); CPU seconds (user + system) of the
    controller (the pyinfra process) and, when run with a cluster, of the cluster's test
    hosts together during the run (None: no cgroup of theirs could be read)."""

    def __init__(self, seconds, max_rss_kib, returncode, output, cpu_seconds=None,
                 hosts_cpu_seconds=None):
        self.seconds, self.max_rss_kib, self.returncode, self.output = (
            seconds, max_rss_kib, returncode, output)
        self.cpu_seconds, self.hosts_cpu_seconds = cpu_seconds, hosts_cpu_seconds

    def check(self):
        if self.returncode != 0:
            raise RuntimeError(f"pyinfra failed (exit {self.returncode}):\n{self.output[-3000:]}")
        return self


def _checkout_package_path():
    """This checkout's source root (`operations/`, whose `pyinfra_keepalived` is the
    package), for PYTHONPATH: an editable install of the package may point at another
    checkout (a worktree's bench must time its own code)."""
    return os.path.join(REPO_DIR, "operations")


def pyinfra(inventory, *args, deploy="deploy.py", timeout=900, hosts_cpu=None):
    """Run `python3 -m pyinfra INVENTORY deploy.py -y ARGS` from the repo root, timed,
    with this checkout's package (_checkout_package_path); with `hosts_cpu` (a HostsCpu
    of the cluster the inventory is of), also the CPU its test hosts use meanwhile.

    os.wait4 gives the rusage of exactly this child (and of the children it waited for):
    the peak RSS is pyinfra's own, and its user + system time is what
    getrusage(RUSAGE_CHILDREN) grows by over the run, without other children of ours."""
    command = [sys.executable, "-m", "pyinfra", inventory, deploy, "-y", *args]
    path = os.pathsep.join(filter(None, [_checkout_package_path(),
                                         os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryFile() as output:
        hosts_before = hosts_cpu and hosts_cpu.read()
        start = time.monotonic()
        process = subprocess.Popen(command, cwd=REPO_DIR, stdin=subprocess.DEVNULL,
                                   stdout=output, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": path})
        try:
            _, status, usage = _wait4(process.pid, timeout)
        except TimeoutError:
            process.kill()
            process.wait()
            raise
        seconds = time.monotonic() - start
        hosts_after = hosts_cpu and hosts_cpu.read()
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    return Run(seconds, usage.ru_maxrss, process.returncode, text,
               cpu_seconds=usage.ru_utime + usage.ru_stime,
               hosts_cpu_seconds=None if hosts_before is None or hosts_after is None
               else hosts_after - hosts_before)


class HostsCpu:
    """The CPU seconds a cluster's containers have used so far, together, from their
    cgroups (stats.cgroup_cpu_seconds); read() is None when any cannot be read. Made once
    per cluster: it asks docker for the containers' ids, read() only reads files."""

    def __init__(self, bench):
        self.ids = [bench.container(host).id for host in bench.hosts]

    def read(self):
        used = [cgroup_cpu_seconds(container_id) for container_id in self.ids]
        return None if None in used else sum(used)


def _wait4(pid, timeout):
    deadline = time.monotonic() + timeout
    while True:
        waited_pid, status, usage = os.wait4(pid, os.WNOHANG)
        if waited_pid == pid:
            return waited_pid, status, usage
        if time.monotonic() > deadline:
            raise TimeoutError(f"pyinfra still running after {timeout} s")
        time.sleep(0.01)


def edited_inventory(bench, name, edit):
    """A copy of the cluster's inventory whose group data is `edit(group_data)`, in the
    cluster's own directory; returns its path."""
    return bench.derived_inventory(os.path.join(bench.dir, f"{name}.py"), edit)


def now(bench, host):
    """The shared clock read inside a container (`date +%s.%N`)."""
    return float(bench.run(host, "date +%s.%N")[1])


def mac(bench, host):
    return bench.run(host, "cat /sys/class/net/eth0/address")[1].strip().lower()


class Observer:
    """Pings the VIP from `host` in a loop (one `ping -c1` every `interval` s plus the
    ping's own time) and logs, per poll, the time of the answer (`date +%s.%N` right after
    it), the MAC that answered (the VIP's neighbour entry) and the round trip (ms), or
    `lost`.

        with Observer(bench, "host-03", vip, 0.02) as observer:
            ...
        observer.polls  # [(timestamp, mac or None), ...]
        observer.replies  # [round trip (s) of each answered poll, ...]
    """

    def __init__(self, bench, host, vip, interval=0.05, timeout=0.2):
        self.bench, self.host, self.ip = bench, host, vip.split("/")[0]
        self.interval, self.timeout = interval, timeout
        self.log = f"/tmp/bench-observer-{uuid.uuid4().hex[:8]}"
        self.polls, self.replies = [], []

    def __enter__(self):
        loop = (f"while [ ! -e {self.log}.stop ]; do "
                f"if out=$(ping -c1 -q -W{self.timeout} {self.ip} 2>/dev/null); then "
                f"echo \"$(date +%s.%N) $(ip neigh show {self.ip} | "
                f"awk '{{for (i = 1; i < NF; i++) if ($i == \"lladdr\") m = $(i + 1)}} "
                f"END {{print m ? m : \"-\"}}') "
                f"$(printf '%s' \"$out\" | sed -n 's#^rtt[^=]*= \\([0-9.]*\\)/.*#\\1#p')\"; "
                f"else echo \"$(date +%s.%N) lost\"; fi; sleep {self.interval}; done "
                f"> {self.log}; echo end > {self.log}.end")
        self.bench.container(self.host).exec_run(["sh", "-c", loop], detach=True)
        if wait_for(lambda: len(self.read()) >= 2, timeout=10, interval=0.1) is None:
            raise RuntimeError(f"the observer on {self.host} logs nothing")
        return self

    def read(self):
        return parse_observer(self.bench.run(self.host, f"cat {self.log} 2>/dev/null")[1])

    def seen(self, mac, after=0.0):
        """Whether a poll at or after `after` was answered from `mac` (cheap: grep)."""
        code, output = self.bench.run(self.host, f"grep ' {mac}$' {self.log} | tail -1")
        return bool(output.strip()) and float(output.split()[0]) >= after

    def __exit__(self, *exc):
        self.bench.run(self.host, f"touch {self.log}.stop")
        wait_for(lambda: self.bench.run(self.host, f"test -e {self.log}.end")[0] == 0,
                 timeout=5, interval=0.05)
        log = self.bench.run(self.host, f"cat {self.log} 2>/dev/null")[1]
        self.polls, self.replies = parse_observer(log), reply_times(log)
        self.bench.run(self.host, f"rm -f {self.log} {self.log}.stop {self.log}.end")
