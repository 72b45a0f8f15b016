"""Client-visible failover of a jump host: from a fault on the master (keepalived stopped,
or SIGKILLed) to the first SSH login through the VIP, with StrictHostKeyChecking=yes, from
a third container, that reaches the backup. Measured for both ways a client can trust
every holder: per-host host keys with the file known_hosts.py writes, and shared host
keys (keepalived_ssh_host_keys: "shared") trusted on first use through the VIP.

The client logs in again and again (`ssh ... hostname`; a try gives up after
ConnectTimeout=1 s, or after 2 s without a packet from the server (ServerAliveInterval=1,
ServerAliveCountMax=2), and the next starts at once) and notes each try's start, end and
the host it reached; the fault's time is read on the clock the containers share (inside the
master right before `systemctl stop`; on the machine right before one kill(2) to
keepalived's process group). Theory: the VIP's move by RFC 3768, Skew_Time after a
graceful stop, Master_Down_Interval after a crash's last advert (a crash at a random
moment comes up to one advert_int after it: one advert_int less at best); a login adds
its own time on top (in the table: the median login before the fault).

Why the server-alive limit: a login in flight on the master when keepalived stops
gracefully hangs. The master drops the VIP at once, so its sshd's next packets (sent from
the VIP) never leave; the client, waiting for them with nothing unacknowledged of its
own, sends nothing that would reach the backup and draw a reset, and TCP's keepalive
waits 2 hours. Without the limit such a try outlived the 20 s loop (2 of 6 stop trials,
the fault landing while the client waited for the server). Clients of a real jump host
need the same option (docs/day-2.md, "Clients: set ServerAliveInterval").
"""

import os
import subprocess
import threading
import time

from testhosts.image import OPERATOR_USER
from testhosts.vrrp_timing import master_down_interval, skew_time

from . import testbed
from .failover_speed import (
    BACKUP,
    BACKUP_PRIORITY,
    MASTER,
    converge,
    in_master,
    in_master_repair,
    kill_keepalived,
    settle,
)
from .stats import median
from .tables import table

CLIENT = "client"
KEY_TYPES = ("rsa", "ecdsa", "ed25519")
FAULTS = {  # fault(bench) -> act(); theory from the fault (worst case), best case
    "stop": ("keepalived stopped (systemctl stop)", in_master("systemctl stop keepalived"),
             skew_time(BACKUP_PRIORITY), skew_time(BACKUP_PRIORITY)),
    "kill": ("keepalived SIGKILLed (process group)", kill_keepalived,
             master_down_interval(BACKUP_PRIORITY), master_down_interval(BACKUP_PRIORITY) - 1),
}
MODES = {
    "per-host": "per-host keys, known_hosts.py's file",
    "shared": "shared keys, trusted on first use",
}
LOOP_SECONDS = 20  # the client gives up after this long without reaching the backup


def ssh(vip, known_hosts, strict="yes"):
    return (f"ssh -i /root/id_deployer -o BatchMode=yes -o ConnectTimeout=1 "
            f"-o ServerAliveInterval=1 -o ServerAliveCountMax=2 "
            f"-o StrictHostKeyChecking={strict} -o UserKnownHostsFile={known_hosts} "
            f"-o GlobalKnownHostsFile=/dev/null {OPERATOR_USER}@{vip} hostname")


def login_loop(vip, known_hosts):
    """Shell: log in until a login reaches the backup; a line per try: START END HOST."""
    return (f"end=$(( $(date +%s) + {LOOP_SECONDS} )); "
            'while [ "$(date +%s)" -lt "$end" ]; do s=$(date +%s.%N); '
            f'h=$({ssh(vip, known_hosts)} 2>/dev/null); '
            'echo "$s $(date +%s.%N) ${h:-failed}"; '
            f'[ "$h" = {BACKUP} ] && break; done')


def first_backup_login(lines, fault):
    """(seconds from the fault to the end of the first login that reached the backup, or
    None; failed tries that ended after the fault; login seconds of tries before it)"""
    tries = [(float(start), float(end), host) for start, end, host in
             (line.split() for line in lines if len(line.split()) == 3)]
    reached = [end - fault for start, end, host in tries if host == BACKUP and end > fault]
    failed = sum(1 for _, end, host in tries if host == "failed" and end > fault)
    before = [end - start for start, end, host in tries if host == MASTER and end < fault]
    return (reached[0] if reached else None), failed, before


def trial(bench, vip, known_hosts, fault, log=print):
    """One fault with the client logging in throughout, then the repair."""
    code, output = bench.run(CLIENT, ssh(vip, known_hosts))
    if code != 0 or output.split()[-1:] != [MASTER]:
        raise RuntimeError(f"the client does not log in to {MASTER} through the VIP: {output}")
    result = {}
    loop = threading.Thread(target=lambda: result.update(
        output=bench.run(CLIENT, login_loop(vip, known_hosts))[1]))
    act = FAULTS[fault][1](bench)
    loop.start()
    try:
        time.sleep(1.5)  # a few logins to the master first
        stamp = act()
        loop.join(LOOP_SECONDS + 10)
        if loop.is_alive():  # (a try that hangs: the loop checks its time between tries)
            log(f"  the client's login loop still runs {LOOP_SECONDS + 10} s after it began")
    finally:
        in_master_repair("systemctl start keepalived")(bench)
    settle(bench)
    lines = result.get("output", "").splitlines()
    seconds, failed, before = first_backup_login(lines, stamp)
    if seconds is None:  # what the client saw, for the log
        log(f"  no login on {BACKUP}; the client's last tries (start end host): "
            f"{lines[-3:]}, fault at {stamp:.3f}")
    return seconds, failed, before


def operator_keys(directory):
    os.makedirs(directory, mode=0o700)
    for key_type in KEY_TYPES:
        subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "bench",
                        "-f", os.path.join(directory, f"ssh_host_{key_type}_key")], check=True)
    return directory


def prepare(bench, mode, vip):
    """Converge for `mode`; returns the known_hosts file the client uses, on the client."""
    if mode == "per-host":
        converge(bench, bench.inventory_path)
        path = os.path.join(bench.dir, "known_hosts.vips")
        testbed.pyinfra(bench.inventory_path, f"--data=known_hosts_file={path}",
                        deploy="known_hosts.py").check()
        bench.put_file(CLIENT, "/root/known_hosts.vips", open(path).read(), 0o644)
        return "/root/known_hosts.vips"
    keys = operator_keys(os.path.join(bench.dir, "keys"))
    inventory = testbed.edited_inventory(bench, "shared", lambda data: {
        **data, "keepalived_ssh_host_keys": "shared", "keepalived_ssh_host_keys_dir": keys})
    converge(bench, inventory)
    bench.write_inventory()  # the direct logins' pins follow the shared keys
    code, output = bench.run(CLIENT, ssh(vip, "/root/known_hosts.shared", "accept-new"))
    if code != 0:
        raise RuntimeError(f"first use of the VIP with shared keys failed: {output}")
    return "/root/known_hosts.shared"


def measure(runs=3, log=print):
    results = {"runs": runs, "modes": {}}
    with testbed.cluster(2, log=lambda *_: None) as bench:
        bench.start_extra(CLIENT)
        bench.put_file(CLIENT, "/root/id_deployer", open(bench.key_path).read())
        vip = bench.vip().split("/")[0]
        for mode in MODES:
            known_hosts = prepare(bench, mode, vip)
            results["modes"][mode] = {}
            for fault, (label, _, theory, earliest) in FAULTS.items():
                times, failed, logins = [], [], []
                for number in range(1, runs + 1):
                    seconds, fails, before = trial(bench, vip, known_hosts, fault, log)
                    times.append(seconds)
                    failed.append(fails)
                    logins += before
                    shown = "no login" if seconds is None else f"{seconds:.3f} s"
                    log(f"  {mode} {fault} {number}/{runs}: first login on {BACKUP} {shown} "
                        f"after the fault, {fails} failed tries (VIP theory {theory:.3f} s)")
                results["modes"][mode][fault] = {
                    "label": label, "theory": theory, "earliest": earliest, "times": times,
                    "failed": failed, "login_seconds": median(logins)}
    return results


def section(part):
    """BENCHMARKS.md's lines for this part (none before it was measured)."""
    if not part:
        return []
    rows = []
    for mode, faults in part["modes"].items():
        for fault, data in faults.items():
            reached = [t for t in data["times"] if t is not None]
            rows.append([MODES[mode], data["label"],
                         f"{data['earliest']:.3f}-{data['theory']:.3f}",
                         "-" if data["login_seconds"] is None else
                         f"{data['login_seconds']:.3f}",
                         "-" if not reached else f"{median(reached):.3f}",
                         "-" if not reached else f"{min(reached):.3f}-{max(reached):.3f}",
                         f"{len(reached)}/{len(data['times'])}",
                         f"{median(data['failed']):g}"])
    header = ["Client trusts", "Fault", "VIP theory (s)", "Login (s)", "Median (s)",
              "Range (s)", "Logged in", "Failed tries (median)"]
    return [
        "## SSH logins through the VIP (jump hosts)",
        "",
        *([f"Measured {part['measured_at']} (the part took {part['run_seconds']} s)."]
          if "measured_at" in part else []),
        "",
        f"From the fault on the master to the end of the first `ssh -o "
        f"StrictHostKeyChecking=yes` login through the VIP that reaches the backup, from a "
        f"third container logging in again and again (ConnectTimeout=1 s, "
        f"ServerAliveInterval=1, ServerAliveCountMax=2; {part['runs']} runs each, median). "
        f"VIP theory: RFC 3768, skew time after a graceful stop, "
        f"Master_Down_Interval minus up to one advert_int after a crash at a random moment; "
        f"'Login' is the median time of one login before the fault. After a SIGKILL the "
        f"master keeps the VIP and answers logins until the backup's gratuitous ARP; after "
        f"a stop a try fails until the backup holds the VIP, and a login in flight on the master "
        f"hangs until the server-alive limit. `python3 -m bench ssh`.",
        "",
        *table(header, rows),
        "",
    ]
