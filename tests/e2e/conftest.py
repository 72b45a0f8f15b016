"""Fixtures for end-to-end tests: a private cluster of docker test hosts per test module."""

import os
import re
import subprocess
import sys
import time
import uuid

import pytest

from testhosts.cluster import REPO_DIR, Cluster
from testhosts.engine import ensure_engine

LIVE_FILES = "/etc/keepalived/keepalived.conf /etc/keepalived/conf.d/* /etc/keepalived/scripts/*"


@pytest.fixture(scope="module")
def cluster(request):
    count = getattr(request.module, "HOSTS", 2)
    release = getattr(request.module, "RELEASE", "bookworm")
    networks = getattr(request.module, "NETWORKS", 1)  # 2: hosts also get eth1
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(ensure_engine(), name, count=count, release=release, networks=networks)
    try:
        cluster.up()
        yield cluster
    finally:
        cluster.down()


def pyinfra(inventory, *args):
    """Run the deploy like an operator: the pyinfra CLI, from the repo root."""
    return subprocess.run(
        [sys.executable, "-m", "pyinfra", *args, inventory, "deploy.py"],
        cwd=REPO_DIR, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600,
    )


def totals(result):
    """(operations, changed, errors, unchanged) from pyinfra's 'Grand total' line."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    match = re.search(r"Grand total\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)", text)
    assert match, f"no results table in pyinfra output:\n{result.stdout}\n{result.stderr}"
    return tuple(0 if value == "-" else int(value) for value in match.groups())


def detected_changes(result):
    """{operation: its 'Change' column} from the table a --dry run prints ('-': none)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert "Detected changes:" in text, f"no change table in pyinfra output:\n{text}"
    rows = text.split("Detected changes:")[1].split("\n\n")[0].splitlines()[2:]
    return {cells[0]: cells[1] for cells in (re.split(r"\s{2,}", row.strip()) for row in rows)}


def checksums(cluster, host):
    return cluster.run(host, f"sha256sum {LIVE_FILES}")[1]


def wait_for(condition, timeout, interval=0.05):
    """Poll `condition` until it is true; return the seconds it took, or None on timeout."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(interval)
    return None


def edited_inventory(cluster, tmp_path, old, new):
    """A copy of the cluster's inventory with one text replaced (it must occur)."""
    text = open(cluster.inventory_path).read()
    assert old in text, f"{old!r} not in {cluster.inventory_path}"
    path = tmp_path / "inventory.py"
    path.write_text(text.replace(old, new))
    return str(path)


__all__ = ["pyinfra", "totals", "detected_changes", "checksums", "wait_for", "edited_inventory", "os"]
