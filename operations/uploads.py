"""Uploads for the operations that read their facts once, up front.

Files go up as the login user (SFTP, no sudo) into a new private directory in /var/tmp
(mode 700; not /tmp, which may be a tmpfs that `docker cp`, the upload of pyinfra's
@docker connector, cannot write into). Then one command, under sudo when the host uses
it, installs them root-owned with their mode and removes that directory. pyinfra's
files.put under sudo sends a command for each step of each file (cp, rm, chown, chmod)
and leaves the file readable by all in /tmp on the way, with the login user's umask;
here a secret (the 600 instances file) is never readable by other users, and any number
of files costs two commands.

    directory = private_dir()
    yield from send(directory, ["content of the first file", ...])
    yield StringCommand(*chain([install(directory, 0, "/etc/x.conf", "644"),
                                cleanup(directory)]))
"""

import hashlib
import uuid
from io import StringIO

from pyinfra.api import FileUploadCommand, QuoteString, StringCommand

OWNER = ("root", "root")


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def private_dir():
    """A new directory name for one operation's uploads (`mkdir` fails if it exists)."""
    return f"/var/tmp/keepalived-deploy.{uuid.uuid4().hex[:12]}"


def send(directory, contents):
    """Yield the commands that create `directory` (700) and upload `contents` into it as
    files named 0, 1, 2, ... (as the login user, so not through sudo)."""
    yield StringCommand("mkdir", "-m", "700", QuoteString(directory), _sudo=False)
    for number, content in enumerate(contents):
        yield FileUploadCommand(StringIO(content), f"{directory}/{number}", _sudo=False)


def install(directory, number, path, mode, make_dir=False):
    """Command words: copy upload `number` of `directory` to `path`, root-owned, `mode`
    (with `make_dir`: creating the directories of `path` as well)."""
    return ["install", *(["-D"] if make_dir else []), "-o", OWNER[0], "-g", OWNER[1],
            "-m", mode, f"{directory}/{number}", QuoteString(path)]


def cleanup(directory):
    return ["rm", "-rf", QuoteString(directory)]


def chain(steps):
    """Command words that run each of `steps` (lists of words) while the one before it
    succeeded: `a && b && c`."""
    words = []
    for step in steps:
        words += [*(["&&"] if words else []), *step]
    return words


def upload(path, content, mode, make_dir=False, then=()):
    """Yield the commands that make `path` hold `content`, root:root, `mode`, then run the
    command words `then` (e.g. a daemon-reload) in the same command."""
    directory = private_dir()
    yield from send(directory, [content])
    yield StringCommand(*chain([install(directory, 0, path, mode, make_dir),
                                cleanup(directory), *([then] if then else [])]))
