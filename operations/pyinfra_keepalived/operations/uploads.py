"""Uploads for the operations that read their facts once, up front.

Files go up as the login user (SFTP, no sudo) into a new private directory (mode 700) in
pyinfra's temp dir (`_temp_dir`, TEMP_DIR), by default /var/tmp (facts.uploads). Then one command, under sudo when the host uses
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
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, QuoteString, StringCommand, operation

from ..facts.uploads import is_upload_dir, private_dir, upload_parent

OWNER = ("root", "root")


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# The login user's own rights, whatever escalation the run uses: SFTP can only write as
# that user (pyinfra's su/doas/dzdo uploads would go through /tmp, readable by all).
AS_LOGIN_USER = {"_sudo": False, "_sudo_user": None, "_su_user": None, "_doas": False,
                 "_doas_user": None, "_dzdo": False, "_dzdo_user": None}


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
            "-m", mode, QuoteString(f"{directory}/{number}"), QuoteString(path)]


def chained(steps):
    """Command words that run each of `steps` (lists of words) while the one before it
    succeeded: `a && b && c`."""
    return [word for step in steps for word in ("&&", *step)][1:]


# The signals that end a command when its SSH link drops or the run is stopped, and the
# exit code a shell killed by each reports (128 + its number). dash (Debian's sh) skips an
# EXIT trap when a signal kills it: each gets a trap that exits with that code instead,
# and the EXIT trap then runs. (A shell waiting for a step runs the trap once the step
# ended: a step that ignores the signal, as transaction.sh does, still runs to its end.)
SIGNAL_EXITS = (("HUP", 129), ("INT", 130), ("TERM", 143))


def on_exit(text):
    """Command words (steps) that make the shell run `text` when it ends: at its exit, and
    when HUP, INT or TERM ends it (then with the signal's exit code)."""
    return [["trap", QuoteString(text), "EXIT"],
            *[["trap", QuoteString(f"exit {code}"), name] for name, code in SIGNAL_EXITS]]


def on_signals(text):
    """Command words (steps) that make the shell run `text` when HUP, INT or TERM ends it,
    then exit with the signal's code; a normal exit does not run it (e.g. a secret made
    for a later command: it goes only if this one is cut short)."""
    return [["trap", QuoteString(f"{text}; exit {code}"), name] for name, code in SIGNAL_EXITS]


def installing(directory, steps):
    """Command words that run each of `steps` (lists of words) while the one before it
    succeeded (`a && b && c`), and remove `directory` when the command ends, whether they
    succeeded or not, also when a dropped link or a stop signal ends it (a secret must
    not be left behind)."""
    return chained([*on_exit(f"rm -rf {shlex.quote(directory)}"), *steps])


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
    found with ``facts.uploads.stale_dirs_command``; each must be exactly a name
    private_dir() makes, in pyinfra's temp dir: ``facts.uploads.upload_parent``).
    Only added to a run when the probe found some.

    **Example:**

    .. code:: python

        stale_uploads_absent(name="Remove uploads of broken-off runs",
                             directories=["/var/tmp/keepalived-deploy.0123456789ab"])
    """
    parent = upload_parent()
    wanted = [path for path in directories if is_upload_dir(path, parent)]
    if not wanted:
        host.noop("no upload left by a broken-off run")
        return
    yield StringCommand("rm", "-rf", *[QuoteString(path) for path in wanted])
