"""A third party's view of a cluster's VIP during a deploy, for the e2e tests of restarts
(tests/e2e/test_rolling_restart.py, test_package_restarts.py): pings of the VIP from the
observer container (conftest.py's `observer`), and each host's keepalived restarts as its
journal tells them.
"""

import re

from testhosts.polling import wait_for

INTERVAL = 0.02  # seconds between pings


class Pings:
    """`ping -D -O -i 0.02` of the VIP from the observer while the block runs; then
    `.sent`, `.lost`, `.slowest` (the slowest reply's round trip, s) and `.silence` (the
    longest time between two answers, s)."""

    def __init__(self, observer, vip):
        self.observer, self.ip = observer, vip.split("/")[0]

    def __enter__(self):
        self.observer.exec_run(["sh", "-c", f"ping -D -O -i {INTERVAL} -W 1 {self.ip} "
                                            "> /tmp/ping.log 2>&1"], detach=True)
        assert wait_for(lambda: "bytes from" in self._log(), timeout=5) is not None, \
            f"the observer gets no answer from {self.ip}: {self._log()}"
        return self

    def _log(self):
        return self.observer.exec_run(["cat", "/tmp/ping.log"]).output.decode()

    def __exit__(self, *exc):
        self.observer.exec_run(["sh", "-c", "pkill -INT -x ping; sleep 0.3"])
        text = self._log()
        answers = [(float(stamp), float(rtt)) for stamp, rtt in re.findall(
            r"^\[([0-9.]+)\] \d+ bytes from .* time=([0-9.]+) ms", text, re.M)]
        totals = re.search(r"(\d+) packets transmitted, (\d+) received", text)
        assert totals and answers, text[-2000:]
        self.sent = int(totals.group(1))
        self.lost = self.sent - int(totals.group(2))
        self.slowest = max(rtt for _, rtt in answers) / 1000
        self.silence = max(b - a for (a, _), (b, _) in zip(answers, answers[1:]))

    def __str__(self):
        return (f"{self.lost} of {self.sent} pings lost, longest without an answer "
                f"{self.silence * 1000:.0f} ms, slowest reply {self.slowest * 1000:.2f} ms")


def main_pids(cluster):
    return {host: cluster.run(host, "systemctl show -p MainPID --value keepalived")[1].strip()
            for host in cluster.hosts}


# Lines of a stop, any of which may be missing: journald misses a line now and then when
# the process that logged it is gone before journald looked at it.
STOP_LINES = re.compile(r"systemd\[1\]: (Stopping|Stopped) keepalived|: Stopping$|"
                        r"keepalived.service: Deactivated|Keepalived\[\d+\]: Stopped")


def restarts(cluster, cursors):
    """{host: [(stop, started) epoch seconds]} of each restart of keepalived since
    `cursors`, from the host's journal (one clock: the hosts share a kernel): from the
    first line of a stop to systemd's "Started"."""
    found = {}
    for host in cluster.hosts:
        journal = cluster.run(host, "journalctl -u keepalived --no-pager -o short-unix "
                                    f"--after-cursor='{cursors[host]}'")[1]
        windows, stop = [], None
        for line in journal.splitlines():
            stamp = float(line.split()[0]) if line[:1].isdigit() else None
            if stamp and STOP_LINES.search(line):
                stop = stamp if stop is None else min(stop, stamp)
            elif stamp and "systemd[1]: Started keepalived" in line and stop is not None:
                windows.append((stop, stamp))
                stop = None
        found[host] = windows
    return found
