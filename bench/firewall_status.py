"""The host CPU the probe's firewall status costs on every run (facts.host_level
status_command: vrrp_firewall.sh's `status`), on a host with nftables, iptables and
ip6tables all filtering input and holding exactly the wanted rules (and an operator's
look-alike): median CPU (user + system, its processes included) and wall time of RUNS
runs, and the processes one run starts (strace -f). In a network namespace of its own
(root, ip, nft, iptables, strace): the machine's own firewall is never read or changed.

    python3 -m bench.firewall_status [OPERATIONS_DIR] [RUNS]

OPERATIONS_DIR: the source root to measure (default: this checkout's operations/), e.g.
another worktree's, to compare two versions on the same machine at the same time.
"""

import os
import re
import subprocess
import sys
import tempfile
import uuid

RULES = ("112", "4,,10.0.0.2,10.0.0.1", "4,,10.0.0.3,10.0.0.1", "4,eth0,,224.0.0.18",
         "6,,fe80::2,fe80::1")
# An operator's nftables ruleset: a drop-policy input chain, and a look-alike of our rule
RULESET = (
    "add table inet filter\n"
    "add chain inet filter input { type filter hook input priority filter; policy drop; }\n"
    "add rule inet filter input ct state established,related accept\n"
    "add rule inet filter input tcp dport 22 accept\n"
    "add rule inet filter input ip saddr 10.0.0.2 meta l4proto vrrp drop"
    ' comment "keepalived-vrrp 112"\n'
)
# Run inside the namespace: each run's CPU from the children's rusage
TIMER = """
import resource, statistics, subprocess, sys, time
command, runs = sys.argv[1], int(sys.argv[2])
cpu, wall = [], []
for _ in range(runs):
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(["sh", "-c", command], stdout=subprocess.DEVNULL, check=True)
    wall.append((time.perf_counter() - start) * 1000)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000)
print(f"{statistics.median(cpu):.1f} {statistics.median(wall):.1f}")
"""


def main(operations_dir=None, runs=50):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, os.path.abspath(operations_dir or os.path.join(root, "operations")))
    from pyinfra_keepalived.facts.host_level import status_command
    from pyinfra_keepalived.operations.firewall import FIREWALL_SCRIPT

    namespace = f"kvbench-{uuid.uuid4().hex[:8]}"
    inside = ["ip", "netns", "exec", namespace]
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    try:
        subprocess.run([*inside, "nft", "-f", "-"], input=RULESET, text=True, check=True)
        for tool in ("iptables", "ip6tables"):
            subprocess.run([*inside, tool, "-A", "INPUT", "-p", "tcp", "--dport", "22",
                            "-j", "ACCEPT"], check=True)
        subprocess.run([*inside, "iptables", "-P", "INPUT", "DROP"], check=True)
        subprocess.run([*inside, "sh", "-c", FIREWALL_SCRIPT, "vrrp-firewall", "allow",
                        *RULES], check=True)
        command = status_command(RULES)
        answer = subprocess.run([*inside, "sh", "-c", command], capture_output=True,
                                text=True).stdout.strip()
        cpu, wall = subprocess.run([*inside, sys.executable, "-c", TIMER, command, str(runs)],
                                   capture_output=True, text=True, check=True).stdout.split()
        with tempfile.NamedTemporaryFile("r") as trace:
            subprocess.run([*inside, "strace", "-f", "-qq", "-o", trace.name, "-e",
                            "trace=fork,vfork,clone,clone3,execve", "sh", "-c", command],
                           capture_output=True, check=True)
            lines = trace.read()
        started = len(re.findall(r"^\d+ +(?:clone3?|v?fork)\(.*= \d+$", lines, re.M))
        programs = sorted({name.rsplit("/", 1)[-1]
                           for name in re.findall(r'execve\("([^"]+)"', lines)[1:]})
        print(f"status: {answer}\nmedian of {runs} runs: CPU {cpu} ms, wall {wall} ms\n"
              f"processes started by one run (besides its sh): {started} "
              f"({', '.join(programs)})")
    finally:
        subprocess.run(["ip", "netns", "del", namespace], check=True)


if __name__ == "__main__":
    main(*sys.argv[1:2], *[int(runs) for runs in sys.argv[2:3]])
