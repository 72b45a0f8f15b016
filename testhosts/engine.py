"""Reach a Docker engine, installing and starting Debian's docker.io when we are root."""

import os
import shutil
import subprocess
import time

import docker
import docker.errors


class EngineError(RuntimeError):
    pass


def _client():
    client = docker.from_env(timeout=300)
    client.ping()
    return client


def _wait_for_engine(seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            return _client()
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ensure_engine(log=print):
    """Return a docker client, starting (and if needed installing) dockerd first.

    Installing is done only as root on a Debian-family machine; anyone else gets an
    error that says what to do.
    """
    try:
        return _client()
    except Exception:
        pass

    if os.geteuid() != 0:
        raise EngineError(
            "No Docker engine answers. Start one (e.g. `sudo systemctl start docker`) "
            "or run this as root, which installs Debian's docker.io and starts dockerd."
        )

    if not shutil.which("dockerd"):
        log("Installing Debian's docker.io (no Docker engine found) ...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "docker.io"], check=True, env=env,
            stdout=subprocess.DEVNULL,
        )

    log("Starting dockerd in the background (log: /var/log/dockerd-testhosts.log) ...")
    with open("/var/log/dockerd-testhosts.log", "ab") as log_file:
        subprocess.Popen(
            ["dockerd"], stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        return _wait_for_engine(60)
    except Exception as error:
        raise EngineError(
            f"dockerd was started but does not answer: {error}. "
            "See /var/log/dockerd-testhosts.log"
        ) from error
