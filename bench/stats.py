"""Pure helpers: medians, slopes, and reading pyinfra's and the observer's output.

No docker, no clock (the cgroup reader only reads files under a root it is given):
everything here is unit-tested (tests/test_bench.py).
"""

import math
import os
import re
import statistics

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def median(values):
    return statistics.median(values) if values else None


def fit_line(points):
    """Least-squares line through [(x, y), ...]: (intercept, slope, r squared), or None
    with fewer than two distinct x. For (hosts, seconds): seconds at no host, seconds
    per host, and how much of the spread the line explains (1.0: all of it)."""
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    slope_ = (sum((x - mean_x) * (y - mean_y) for x, y in points)
              / sum((x - mean_x) ** 2 for x, _ in points))
    intercept = mean_y - slope_ * mean_x
    spread = sum((y - mean_y) ** 2 for _, y in points)
    residue = sum((y - intercept - slope_ * x) ** 2 for x, y in points)
    return intercept, slope_, 1.0 - residue / spread if spread else 1.0


def slope(points):
    """Least-squares slope of [(x, y), ...]: seconds per host for (hosts, seconds)."""
    line = fit_line(points)
    return None if line is None else line[1]


def slope_error(points):
    """The standard error of the least-squares slope of [(x, y), ...] (as if the points
    were independent, with normal scatter about the line), or None with fewer than three
    points or two distinct x."""
    line = fit_line(points)
    if line is None or len(points) < 3:
        return None
    intercept, slope_, _ = line
    mean_x = statistics.fmean(x for x, _ in points)
    residue = sum((y - intercept - slope_ * x) ** 2 for x, y in points)
    return math.sqrt(residue / (len(points) - 2) / sum((x - mean_x) ** 2 for x, _ in points))


def pair_ratios(numerators, denominators):
    """numerator / denominator of each pair of runs (the i-th of each list measured one
    right beside the other); an unpaired run is left out."""
    return [top / bottom for top, bottom in zip(numerators or (), denominators or ())
            if bottom]


def pair_ratio(numerators, denominators):
    """The median of numerator / denominator over runs taken in pairs (pair_ratios), or
    None without a pair. Each ratio is of two runs close in time, so a drift of the
    machine's speed between pairs cancels."""
    return median(pair_ratios(numerators, denominators))


def median_interval(values, coverage=0.9):
    """A distribution-free confidence interval of the median of `values` (the sign test's):
    (k-th smallest, k-th largest, how often such an interval holds the true median), with
    the largest k whose interval holds it at least `coverage` of the time, else k = 1 (the
    smallest and the largest: 1 - 2 / 2^n, 87.5 % with 4; at 90 % up to 7 values).
    None with fewer than two values."""
    count = len(values)
    if count < 2:
        return None

    def held(k):  # P(k-th smallest <= median <= k-th largest) = 1 - 2 P(Bin(n, 1/2) < k)
        return 1 - 2 * sum(math.comb(count, below) for below in range(k)) / 2 ** count

    k = 1
    while k + 1 <= (count + 1) // 2 and held(k + 1) >= coverage:
        k += 1
    ordered = sorted(values)
    return ordered[k - 1], ordered[count - k], held(k)


def alternated(items, index):
    """`items` in their order for an even `index` (0, 2, ...), reversed for an odd one:
    runs taken in ABBA order, so that an effect of the order cancels over pairs."""
    return list(items) if index % 2 == 0 else list(reversed(items))


def cgroup_cpu_seconds(container_id, root="/sys/fs/cgroup"):
    """CPU seconds a docker container has used so far, from its cgroup under `root`:
    cgroup v1 `cpuacct/docker/ID/cpuacct.usage` (ns), or cgroup v2 `cpu.stat`'s
    `usage_usec` under `system.slice/docker-ID.scope` (systemd driver) or `docker/ID`
    (cgroupfs driver). None when none of them can be read."""
    for path, unit in ((("cpuacct", "docker", container_id, "cpuacct.usage"), 1e-9),
                       (("system.slice", f"docker-{container_id}.scope", "cpu.stat"), 1e-6),
                       (("docker", container_id, "cpu.stat"), 1e-6),
                       (("unified", "system.slice", f"docker-{container_id}.scope",
                         "cpu.stat"), 1e-6),
                       (("unified", "docker", container_id, "cpu.stat"), 1e-6)):
        try:
            with open(os.path.join(root, *path)) as f:
                text = f.read()
        except OSError:
            continue
        value = _cpu_usage(text, path[-1])
        if value is not None:
            return value * unit
    return None


def _cpu_usage(text, name):
    """The usage counter of a cgroup file's text: cpuacct.usage is one number, cpu.stat
    has a `usage_usec N` line."""
    if name == "cpuacct.usage":
        return int(text.split()[0]) if text.split() else None
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "usage_usec":
            return int(words[1])
    return None


MEMORY_UNITS = {"B": 1, "KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3,
                "KIB": 1024, "MIB": 1024 ** 2, "GIB": 1024 ** 3, "TIB": 1024 ** 4}


def memory_bytes(text):
    """Bytes of a size as `docker stats` prints it ("60.82MiB", "1.2GiB", "0B")."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", text)
    if not match or match.group(2).upper() not in MEMORY_UNITS:
        raise ValueError(f"not a size: {text!r}")
    return round(float(match.group(1)) * MEMORY_UNITS[match.group(2).upper()])


def memory_in_use(stats_lines):
    """{container: bytes in use} from `docker stats --no-stream --format
    '{{.Name}}\t{{.MemUsage}}'` lines ("NAME\t60.82MiB / 23.54GiB")."""
    used = {}
    for line in stats_lines.splitlines():
        if line.strip():
            name, usage = line.split("\t")
            used[name.strip()] = memory_bytes(usage.split("/")[0])
    return used


def grand_total(output):
    """(operations, changed, errors, unchanged) from pyinfra's 'Grand total' line."""
    match = re.search(r"Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", ANSI.sub("", output))
    if not match:
        raise ValueError(f"no 'Grand total' line in pyinfra output:\n{output[-2000:]}")
    return tuple(0 if value == "-" else int(value) for value in match.groups())


COMMAND = re.compile(r"^\[(?P<host>[^\]]+)\] >>> ")
FACT_LOADED = re.compile(r"^\s+\[(?P<host>[^\]]+)\] Loaded fact ")


def count_commands(output):
    """{host: {"facts": n, "operations": n}} from `pyinfra -vv` output.

    pyinfra 3.10 prints every shell command it sends as `[host] >>> COMMAND` (facts and
    operations alike; a command may continue on further lines) and, once a fact's command
    has answered, `    [host] Loaded fact NAME`. So a command is a fact's when the next
    event of its host is `Loaded fact`, else an operation's. (File uploads go over SFTP
    and print no `>>>` line: they are not counted.)
    """
    counts, pending = {}, {}
    for line in ANSI.sub("", output).splitlines():
        command, fact = COMMAND.match(line), FACT_LOADED.match(line)
        if not command and not fact:
            continue
        host = (command or fact).group("host")
        host_counts = counts.setdefault(host, {"facts": 0, "operations": 0})
        if pending.pop(host, False):  # the host's previous command
            host_counts["facts" if fact else "operations"] += 1
        if command:
            pending[host] = True
    for host in pending:  # a last command with nothing after it: an operation
        counts[host]["operations"] += 1
    return counts


def parse_observer(log):
    """[(timestamp, mac or None)] from the observer's log lines `TIME MAC [RTT_MS]` /
    `TIME lost`."""
    polls = []
    for line in log.splitlines():
        words = line.split()
        if len(words) not in (2, 3):
            continue
        try:
            stamp = float(words[0])
        except ValueError:
            continue
        polls.append((stamp, None if words[1] in ("lost", "-") else words[1].lower()))
    return polls


def reply_times(log):
    """The round trip (s) of each answered poll of the observer's log (`TIME MAC RTT_MS`)."""
    times = []
    for line in log.splitlines():
        words = line.split()
        if len(words) == 3:
            try:
                times.append(float(words[2]) / 1000)
            except ValueError:
                continue
    return times


def first_answer(polls, mac, after):
    """Seconds from `after` to the first poll answered from `mac` at or after it, or None."""
    for stamp, answered_by in polls:
        if stamp >= after and answered_by == mac:
            return stamp - after
    return None


def longest_gap(polls):
    """The longest time (s) between two answered polls (None with fewer than two)."""
    answered = [stamp for stamp, mac in polls if mac]
    gaps = [after - before for before, after in zip(answered, answered[1:])]
    return max(gaps) if gaps else None


def mac_changes(polls):
    """How often the answering MAC changed between answered polls (lost polls skipped)."""
    macs = [mac for _, mac in polls if mac]
    return sum(1 for before, after in zip(macs, macs[1:]) if before != after)


def state_transitions(journal):
    """keepalived's `... Entering MASTER|BACKUP|FAULT STATE` lines in a journal excerpt."""
    return re.findall(r"Entering (\w+) STATE", journal)


def parse_vrrp(frame):
    """(source IPv4 address, priority) of an Ethernet frame carrying a VRRP advert (IP
    protocol 112, v2 or v3), else None."""
    if len(frame) < 14 + 20 + 4 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    header = (ip[0] & 0x0F) * 4
    if ip[9] != 112 or len(ip) < header + 4:
        return None
    return ".".join(str(byte) for byte in ip[12:16]), ip[header + 2]


def last_advert(adverts, master_ip, before, backup_priority):
    """The time of the master's last advert before `before` that keeps a backup of
    `backup_priority` waiting (a higher priority) or hands over at once (priority 0).
    `adverts`: [(timestamp, source, priority)]. Returns (timestamp, priority) or None."""
    usable = [(stamp, priority) for stamp, source, priority in adverts
              if source == master_ip and stamp < before
              and (priority == 0 or priority > backup_priority)]
    return usable[-1] if usable else None
