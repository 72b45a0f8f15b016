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
import sys
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


class DebootstrapProgress:
    """What debootstrap's "I: ..." lines say of its progress: the stage it is in, how many
    packages it has done in that stage, and of how many (the packages it downloaded: known
    once the download is over; None before)."""

    # the verb of a per-package line ("I: Retrieving libc6 2.36-9") -> its stage
    STAGES = {"Retrieving": "download", "Validating": "download", "Extracting": "extract",
              "Unpacking": "unpack", "Configuring": "configure"}

    def __init__(self):
        self.stage, self.done, self.downloaded = "start", set(), set()

    @property
    def total(self):
        return len(self.downloaded) if self.stage not in ("start", "download") else None

    def feed(self, line):
        """Take one line of debootstrap's output (anything but "I: ..." is ignored)."""
        words = line.split()
        if len(words) < 2 or words[0] != "I:":
            return
        verb, rest = words[1], words[2:]
        # a package: "Retrieving NAME VERSION", "Validating NAME VERSION", "Unpacking NAME..."
        package = (rest[0] if verb in ("Retrieving", "Validating") and len(rest) == 2
                   else rest[0].rstrip(".") if len(rest) == 1 and rest[0].endswith("...")
                   else None)
        if verb in self.STAGES and package:
            stage = self.STAGES[verb]
            if stage != self.stage:
                self.stage, self.done = stage, set()
            if verb == "Retrieving":
                self.downloaded.add(package)
            if verb != "Validating":
                self.done.add(package)
        elif verb != "Validating":  # a step of its own: "Resolving dependencies ...", ...
            self.stage, self.done = " ".join(words[1:]).rstrip("."), set()

    def text(self, elapsed):
        """One line: stage, packages done (of total, once known), time elapsed."""
        count = ("" if self.stage not in self.STAGES.values()  # a step: no count
                 else f" {len(self.done)}/{self.total} packages" if self.total
                 else f" {len(self.done)} packages")
        return f"debootstrap: {self.stage}{count}, {elapsed:.0f} s"


class ProgressLine:
    """One progress line: rewritten in place (\\r) when `stream` is a terminal, else
    `log`ged every `every` seconds (a CI log gets a line now and then, not hundreds)."""

    def __init__(self, log=print, stream=None, every=10.0, clock=time.monotonic):
        self.log, self.stream, self.every, self.clock = log, stream or sys.stderr, every, clock
        self.tty = self.stream.isatty()
        self.last, self.width = None, 0

    def show(self, text):
        now = self.clock()
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width))
            self.stream.flush()
            self.width = max(self.width, len(text))  # (what the line shows now)
        elif self.last is None or now - self.last >= self.every:
            self.log(f"    {text}")
            self.last = now

    def end(self, text):
        if self.tty:
            self.stream.write("\r" + text.ljust(self.width) + "\n")
            self.stream.flush()
        else:
            self.log(f"    {text}")


def debootstrap(release, root, log, extra=(), stream=None):
    """Run debootstrap, showing its progress on one line (stage, packages done of total,
    time elapsed), so a minute of building is visibly making progress."""
    start = time.monotonic()
    process = subprocess.Popen(
        ["debootstrap", "--variant=minbase", f"--include={','.join([*PACKAGES, *extra])}",
         release, root, MIRROR],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    progress, line = DebootstrapProgress(), ProgressLine(log, stream)
    tail = []
    for output in process.stdout:
        tail = (tail + [output.rstrip()])[-20:]
        progress.feed(output)
        line.show(progress.text(time.monotonic() - start))
    if process.wait() != 0:
        line.end(progress.text(time.monotonic() - start))
        raise RuntimeError(f"debootstrap {release} failed:\n" + "\n".join(tail))
    line.end(f"debootstrap: done, {time.monotonic() - start:.0f} s")


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
