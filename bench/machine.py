"""What machine the figures come from: cores, memory, kernel, docker, keepalived, pyinfra."""

import datetime
import os
import platform
import subprocess


def describe():
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "memory_gib": round(_mem_total_kib() / 1024 / 1024, 1),
        "kernel": platform.release(),
        "docker": _output(["docker", "version", "--format", "{{.Server.Version}}"]),
        "keepalived_local": _output(["keepalived", "--version"]).splitlines()[0:1],
        "pyinfra": _output(["python3", "-m", "pyinfra", "--version"]).split()[-1],
        "python": platform.python_version(),
    }


def _mem_total_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    return 0


def _output(command):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (result.stdout + result.stderr).strip() or "unknown"
