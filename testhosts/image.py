"""Build test-host images locally: debootstrap -> docker import, no registry.

An image boots systemd as PID 1 and runs sshd; it has sudo and a `deployer` user
with passwordless sudo. It holds no SSH host keys: each host generates its own at first
boot, as real hosts do. keepalived is deliberately NOT in the image: the deploy
installs it from the release's own apt, as it would on a real server.

Images are tagged with a hash of their recipe and rebuilt only when it changes.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import time

MIRROR = "http://deb.debian.org/debian"

# Debian release -> the keepalived version its apt installs (for messages and docs).
RELEASES = {
    "bullseye": "2.1.5",
    "bookworm": "2.2.7",
    "trixie": "2.3.x",
}
DEFAULT_RELEASE = "bookworm"

PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "openssh-server", "sudo",
    "iproute2", "iputils-ping", "procps", "ca-certificates", "nftables",
]

# Units that make no sense in a container and slow down or break booting.
MASKED_UNITS = [
    "getty@.service", "console-getty.service", "systemd-udevd.service",
    "systemd-udevd-control.socket", "systemd-udevd-kernel.socket",
    "systemd-logind.service", "systemd-networkd-wait-online.service",
    "apt-daily.timer", "apt-daily-upgrade.timer", "e2scrub_reap.service",
    "systemd-timesyncd.service",
]

OPERATOR_USER = "deployer"

# Run inside the new root filesystem (chroot) after debootstrap.
CUSTOMIZE = f"""
set -e
useradd -m -s /bin/bash -G sudo {OPERATOR_USER}
echo '{OPERATOR_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{OPERATOR_USER}
chmod 440 /etc/sudoers.d/{OPERATOR_USER}
install -d -m 700 -o {OPERATOR_USER} -g {OPERATOR_USER} /home/{OPERATOR_USER}/.ssh
sed -i 's/^#\\?PasswordAuthentication.*/PasswordAuthentication no/' /etc/ssh/sshd_config
echo 'UseDNS no' >> /etc/ssh/sshd_config
rm -f /etc/machine-id /var/lib/dbus/machine-id && touch /etc/machine-id
# SSH host keys: none in the image (every container would present the same ones); each
# host generates its own at first boot, before sshd starts, as real hosts do.
rm -f /etc/ssh/ssh_host_*
cat > /etc/systemd/system/ssh-host-keys.service <<'UNIT'
[Unit]
Description=Generate this host's SSH host keys (test host: none are in the image)
Before=ssh.service

[Service]
# creates the missing key types only: a no-op once the host has its keys
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
RequiredBy=ssh.service
UNIT
systemctl enable ssh-host-keys.service
apt-get clean
rm -rf /var/lib/apt/lists/*
"""


# The package cache a cluster may have next to its hosts (`Cluster(apt_cache=True)`), as
# fleets have one: apt-cacher-ng, an HTTP proxy that keeps what it fetched.
APT_CACHE_PACKAGES = ("apt-cacher-ng",)


def recipe_hash(release, extra=()):
    recipe = "\n".join([release, MIRROR, *PACKAGES, *extra, *MASKED_UNITS, CUSTOMIZE, "v1"])
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def image_tag(release, extra=()):
    return f"keepalived-testhost:{release}-{recipe_hash(release, extra)}"


def debootstrap(release, root, log, extra=()):
    """Run debootstrap, showing each stage it enters ("Retrieving", "Installing", ...) with
    the time elapsed, so a minute of building is visibly making progress."""
    start = time.monotonic()
    process = subprocess.Popen(
        ["debootstrap", "--variant=minbase", f"--include={','.join([*PACKAGES, *extra])}",
         release, root, MIRROR],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    stage, tail = None, []
    for line in process.stdout:
        tail = (tail + [line.rstrip()])[-20:]
        words = line.split()
        if len(words) >= 2 and words[0] == "I:" and words[1] != stage:
            stage = words[1]
            log(f"    {time.monotonic() - start:5.0f} s  {stage} ...")
    if process.wait() != 0:
        raise RuntimeError(f"debootstrap {release} failed:\n" + "\n".join(tail))
    log(f"    {time.monotonic() - start:5.0f} s  debootstrap done")


def ensure_image(client, release=DEFAULT_RELEASE, log=print, extra=()):
    """Return the tag of the image for `release` (with the `extra` packages), building it
    if its recipe changed."""
    if release not in RELEASES:
        raise ValueError(f"unknown release {release!r}; one of {', '.join(RELEASES)}")
    tag = image_tag(release, extra)
    if client.images.list(name=tag):
        return tag

    if not shutil.which("debootstrap"):
        if os.geteuid() != 0:
            raise RuntimeError("debootstrap is missing: `sudo apt-get install debootstrap`")
        log("Installing debootstrap ...")
        subprocess.run(["apt-get", "install", "-y", "-qq", "debootstrap"], check=True,
                       stdout=subprocess.DEVNULL)

    root = tempfile.mkdtemp(prefix=f"testhost-{release}-", dir="/var/tmp")
    try:
        log(f"Building test-host image {tag} (debootstrap {release}, about a minute) ...")
        debootstrap(release, root, log, extra)
        for unit in MASKED_UNITS:
            link = os.path.join(root, "etc/systemd/system", unit)
            if os.path.lexists(link):
                os.remove(link)
            os.symlink("/dev/null", link)
        subprocess.run(["chroot", root, "sh", "-c", CUSTOMIZE], check=True)

        log(f"Importing {tag} into docker ...")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(
            ["docker", "import",
             "--change", 'CMD ["/lib/systemd/systemd"]',
             "--change", "ENV container=docker",
             "-", tag],
            stdin=tar.stdout, check=True, stdout=subprocess.DEVNULL,
        )
        if tar.wait() != 0:
            raise RuntimeError(f"tar of {root} failed")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tag
