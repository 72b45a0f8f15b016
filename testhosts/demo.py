"""The one-command demo: deploy to two test hosts, show the VIP, fail over and back."""

import subprocess
import sys
import time

from .cluster import REPO_DIR, Cluster
from .polling import wait_for


def wait_for_holder(cluster, expected, timeout=15.0, since=None):
    """Poll until exactly `expected` holds the VIP; return seconds since `since` (or None)."""
    return wait_for(lambda: cluster.holders() == [expected], timeout, since=since)


def print_table(cluster):
    holders = cluster.holders()
    print(f"\n    {'host':<10}{'address':<16}{'keepalived':<14}VIP {cluster.vip()}")
    for host in cluster.hosts:
        active = cluster.run(host, "systemctl is-active keepalived")[1].strip()
        mark = "HOLDS VIP" if host in holders else "-"
        print(f"    {host:<10}{cluster.address(host):<16}{active:<14}{mark}")
    print()


def run_demo(client, name="demo"):
    cluster = Cluster(client, name, count=2)
    cluster.down()  # a previous demo of the same name
    cluster.up()
    print(f"\n==> pyinfra {cluster.inventory_path} deploy.py")
    subprocess.run([sys.executable, "-m", "pyinfra", "-y", cluster.inventory_path, "deploy.py"],
                   cwd=REPO_DIR, check=True)

    print("\n==> Waiting for host-01 (priority 100) to become MASTER ...")
    if wait_for_holder(cluster, "host-01", timeout=20) is None:
        raise SystemExit("host-01 did not take the VIP")
    print_table(cluster)

    print("==> systemctl stop keepalived on host-01 (the master) ...")
    fault = time.monotonic()
    cluster.run("host-01", "systemctl stop --no-block keepalived")  # time from the stop
    moved = wait_for_holder(cluster, "host-02", since=fault)
    print(f"    VIP moved to host-02 in {moved:.2f} s" if moved is not None
          else "    VIP did NOT move within 15 s")
    print_table(cluster)

    print("==> systemctl start keepalived on host-01 ...")
    started = time.monotonic()
    cluster.run("host-01", "systemctl start keepalived")
    back = wait_for_holder(cluster, "host-01", timeout=20, since=started)
    print(f"    VIP back on host-01 (preempt) in {back:.2f} s" if back is not None
          else "    VIP did NOT return within 20 s")
    print_table(cluster)
    print(f"Inventory: {cluster.inventory_path}\n"
          f"Clean up:  python3 -m testhosts down --name {name}")
    return 0 if moved is not None and back is not None else 1
