"""The test-host image build shows debootstrap's progress on one line (testhosts/image.py):
its "I: ..." lines parsed into stage and packages done of total, shown in place on a
terminal and every ~10 s in a log."""

import io

import pytest

from testhosts.image import DebootstrapProgress, ProgressLine

pytestmark = pytest.mark.unit

# debootstrap --variant=minbase bookworm, shortened (three packages of each kind)
OUTPUT = """I: Retrieving InRelease
I: Checking Release signature
I: Valid Release signature (key 4D64FEC119C2029067D6E791F8D2585B8783D481)
I: Retrieving Packages
I: Validating Packages
I: Resolving dependencies of required packages...
I: Resolving dependencies of base packages...
I: Checking component main on http://deb.debian.org/debian...
I: Retrieving adduser 3.134
I: Validating adduser 3.134
I: Retrieving apt 2.6.1
I: Validating apt 2.6.1
I: Retrieving base-files 12.4+deb12u5
I: Validating base-files 12.4+deb12u5
I: Chosen extractor for .deb packages: dpkg-deb
I: Extracting adduser...
I: Extracting base-files...
I: Installing core packages...
I: Unpacking required packages...
I: Unpacking adduser...
I: Unpacking apt...
W: Failure trying to run: chroot "/var/tmp/x" mount -t proc proc /proc
I: Configuring required packages...
I: Configuring base-files...
I: Base system installed successfully.
""".splitlines()


def progress_after(count):
    progress = DebootstrapProgress()
    for line in OUTPUT[:count]:
        progress.feed(line)
    return progress


@pytest.mark.parametrize("lines, text", [
    (0, "debootstrap: start, 3 s"),
    (1, "debootstrap: Retrieving InRelease, 3 s"),
    (5, "debootstrap: Retrieving Packages, 3 s"),  # (its validation is the same step)
    (8, "debootstrap: Checking component main on http://deb.debian.org/debian, 3 s"),
    (10, "debootstrap: download 1 packages, 3 s"),  # the total is not known yet
    (14, "debootstrap: download 3 packages, 3 s"),
    (16, "debootstrap: extract 1/3 packages, 3 s"),
    (19, "debootstrap: Unpacking required packages, 3 s"),
    (21, "debootstrap: unpack 2/3 packages, 3 s"),
    (22, "debootstrap: unpack 2/3 packages, 3 s"),  # a warning is not a step
    (24, "debootstrap: configure 1/3 packages, 3 s"),
    (25, "debootstrap: Base system installed successfully, 3 s"),
])
def test_progress_of_debootstrap_lines(lines, text):
    assert progress_after(lines).text(3.2) == text


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_line_is_rewritten_in_place():
    stream, logged = Terminal(), []
    line = ProgressLine(log=logged.append, stream=stream)
    line.show("debootstrap: download 120 packages, 14 s")
    line.show("debootstrap: extract 1/3 packages, 15 s")
    line.end("debootstrap: done, 19 s")
    assert stream.getvalue() == ("\rdebootstrap: download 120 packages, 14 s"
                                 "\rdebootstrap: extract 1/3 packages, 15 s "  # (what was there: cleared)
                                 "\rdebootstrap: done, 19 s" + " " * 17 + "\n")
    assert logged == []


def test_in_a_log_a_line_every_ten_seconds_and_the_last():
    now, logged = [0.0], []
    line = ProgressLine(log=logged.append, stream=io.StringIO(), clock=lambda: now[0])
    for step in range(250):  # a line of debootstrap every 0.1 s for 25 s
        now[0] = step / 10
        line.show(f"debootstrap: download {step} packages, {now[0]:.0f} s")
    line.end("debootstrap: done, 25 s")
    assert logged == ["    debootstrap: download 0 packages, 0 s",
                      "    debootstrap: download 100 packages, 10 s",
                      "    debootstrap: download 200 packages, 20 s",
                      "    debootstrap: done, 25 s"]
