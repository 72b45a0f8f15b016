"""A fake monotonic clock for host-side scripts run by a real shell (tests/test_handover.py,
tests/test_rolling.py, ...): clock.sh's `now` reads $uptime_file instead of /proc/uptime,
and stub `sleep` and `flock` first on PATH move that file on instead of waiting (flock by
$FLOCK_WAIT seconds: as long as another run held the lock), so a wait's end and the lock's
wait are shown with no real time passing."""

import os
import shutil

# 2^31 centiseconds: past it, mawk's printf %d stopped at 2147483647 (uptime ~248.5 days)
LONG_UPTIME = "21474837.00"

SLEEP = """#!/usr/bin/env python3
# sleep SECONDS: moves the fake uptime on by SECONDS, at once
import os, sys
path = os.environ["uptime_file"]
with open(path) as file:
    up = round(float(file.read().split()[0]) * 100) + round(float(sys.argv[1]) * 100)
with open(path, "w") as file:
    file.write(f"{up // 100}.{up % 100:02d} 1.00\\n")
"""

FLOCK = """#!/bin/sh
sleep "${{FLOCK_WAIT:-0}}"
exec {flock} "$@"
"""


def fake_clock(tmp_path, uptime=LONG_UPTIME, flock_wait=0):
    """Environment variables (a dict, to add to os.environ) for a shell whose clock is
    fake: the uptime file starts at `uptime` seconds; taking the lock costs `flock_wait`
    seconds."""
    stubs = tmp_path / "clock"
    stubs.mkdir(exist_ok=True)
    (stubs / "sleep").write_text(SLEEP)
    (stubs / "flock").write_text(FLOCK.format(flock=shutil.which("flock")))
    for stub in ("sleep", "flock"):
        os.chmod(stubs / stub, 0o755)
    (tmp_path / "uptime").write_text(f"{uptime} 1.00\n")
    return {"uptime_file": str(tmp_path / "uptime"), "FLOCK_WAIT": str(flock_wait),
            "PATH": f"{stubs}:{os.environ['PATH']}"}


def uptime_now(tmp_path):
    """The fake uptime now, in seconds (text, as /proc/uptime shows it)."""
    return (tmp_path / "uptime").read_text().split()[0]
