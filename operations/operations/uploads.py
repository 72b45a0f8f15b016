"""Uploads for the operations that read their facts once, up front.

Files go up as the login user (SFTP, no sudo) into a new private directory in /var/tmp
(mode 700; not /tmp, which may be a tmpfs that `docker cp`, the upload of pyinfra's
@docker connector, cannot write into). Then one command, under sudo when the host uses
it, installs them root-owned with their mode; that directory goes when the command ends,
whether it succeeded or not (only an upload that breaks off leaves it, the login user's).
The run's privileged user must be root (sudo, su, doas or dzdo). pyinfra's
files.put under sudo sends a command for each step of each file (cp, rm, chown, chmod)
and leaves the file readable by all in /tmp on the way, with the login user's umask;
here a secret (the 600 instances file) is never readable by other users, and any number
of files costs two commands.

    directory = private_dir()
    yield from send(directory, ["content of the first file", ...])
    yield StringCommand(*installing(directory, [install(directory, 0, "/etc/x.conf", "644")]))
"""

import hashlib
import re
import shlex
import uuid
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, QuoteString, StringCommand, operation

OWNER = ("root", "root")
UPLOAD_PARENT = "/var/tmp"
UPLOAD_PREFIX = "keepalived-deploy."
RANDOM_PART = 12  # hex digits after the prefix
# An upload directory of a run still in progress is never older than its last upload plus
# the lock wait of its config transaction (keepalived_lock_wait: at most 3600 s) and the
# transaction itself: one older than this is a broken-off run's (operations/probe.py finds
# them, stale_uploads_absent removes them).
STALE_MINUTES = 120


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# The login user's own rights, whatever escalation the run uses: SFTP can only write as
# that user (pyinfra's su/doas/dzdo uploads would go through /tmp, readable by all).
AS_LOGIN_USER = {"_sudo": False, "_sudo_user": None, "_su_user": None, "_doas": False,
                 "_doas_user": None, "_dzdo": False, "_dzdo_user": None}


def private_dir():
    """A new directory name for one operation's uploads (`mkdir` fails if it exists)."""
    return f"{UPLOAD_PARENT}/{UPLOAD_PREFIX}{uuid.uuid4().hex[:RANDOM_PART]}"


def is_upload_dir(path):
    """`path` is exactly a name private_dir() makes."""
    pattern = re.escape(f"{UPLOAD_PARENT}/{UPLOAD_PREFIX}") + f"[0-9a-f]{{{RANDOM_PART}}}"
    return re.fullmatch(pattern, path) is not None


def stale_dirs_command():
    """Shell text (for the probe, run with the run's privileges) that prints each upload
    directory left by a broken-off run: exactly private_dir()'s name, a directory, owned by
    the login user (who ran sudo or doas; else the user running it), not changed for
    STALE_MINUTES. It starts no process unless such a name exists at all."""
    glob = f"{UPLOAD_PARENT}/{UPLOAD_PREFIX}" + "[0-9a-f]" * RANDOM_PART
    return (f'for d in {glob}; do [ -d "$d" ] && find "$d" -maxdepth 0 -type d '
            '-user "${SUDO_USER:-${DOAS_USER:-$(id -un)}}" '
            f'-mmin +{STALE_MINUTES} -print; done')


def send(directory, contents):
    """Yield the commands that create `directory` (700) and upload `contents` into it as
    files named 0, 1, 2, ... (as the login user, so not through sudo)."""
    yield StringCommand("mkdir", "-m", "700", QuoteString(directory), **AS_LOGIN_USER)
    for number, content in enumerate(contents):
        yield FileUploadCommand(StringIO(content), f"{directory}/{number}", **AS_LOGIN_USER)


def install(directory, number, path, mode, make_dir=False):
    """Command words: copy upload `number` of `directory` to `path`, root-owned, `mode`
    (with `make_dir`: creating the directories of `path` as well)."""
    return ["install", *(["-D"] if make_dir else []), "-o", OWNER[0], "-g", OWNER[1],
            "-m", mode, f"{directory}/{number}", QuoteString(path)]


def installing(directory, steps):
    """Command words that run each of `steps` (lists of words) while the one before it
    succeeded (`a && b && c`), and remove `directory` when the command ends, whether they
    succeeded or not (a secret must not be left behind)."""
    words = ["trap", QuoteString(f"rm -rf {shlex.quote(directory)}"), "EXIT"]
    for step in steps:
        words += ["&&", *step]
    return words


def upload(path, content, mode, make_dir=False, then=(), before=()):
    """Yield the commands that make `path` hold `content`, root:root, `mode`, then run the
    command words `then` (e.g. a daemon-reload) in the same command; the command words
    `before` run first in it (e.g. a marker that announces the change)."""
    directory = private_dir()
    yield from send(directory, [content])
    yield StringCommand(*installing(directory, [*([before] if before else []),
                                                 install(directory, 0, path, mode, make_dir),
                                                 *([then] if then else [])]))


@operation(is_idempotent=False)
def stale_uploads_absent(directories):
    """
    Remove upload directories that broken-off runs left (``directories``: what the probe
    found with ``stale_dirs_command``; each must be exactly a name private_dir() makes).
    Only added to a run when the probe found some.

    **Example:**

    .. code:: python

        stale_uploads_absent(name="Remove uploads of broken-off runs",
                             directories=["/var/tmp/keepalived-deploy.0123456789ab"])
    """
    wanted = [path for path in directories if is_upload_dir(path)]
    if not wanted:
        host.noop("no upload left by a broken-off run")
        return
    yield StringCommand("rm", "-rf", *[QuoteString(path) for path in wanted])
