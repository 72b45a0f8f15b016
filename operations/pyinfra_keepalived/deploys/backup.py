"""Back up each host's keepalived config tree to the control machine.

    pyinfra -y inventory.py backup.py                          # ./backups/<UTC time>/<host>.tar.gz
    pyinfra -y inventory.py backup.py --data backup_dir=/srv/keepalived-backups

One timestamp per run, shared by all hosts. The archives hold auth_pass, so they are never
readable by anyone but the login user, on the host and on the way, and here they are 600
in a 700 directory (inside the archive, files keep their modes: 20-vrrp_instances.conf
stays 600). Here, nothing another user planted is used: backup_dir must be the user's and
not writable by group or others, the run's directory is made new (mkdir: one that exists
is an error) and each archive is created new without following a link (O_EXCL|O_NOFOLLOW).
On the hosts:

1. as the login user: a new private directory, /var/tmp/keepalived-deploy.<random>, 700
   (operations.uploads.private_dir: the deploy removes such directories left by runs
   that broke off, see operations.uploads.stale_dirs_command);
2. as root (sudo, as the run escalates), under the host's deploy lock (a config
   transaction is never half seen): the archive made in it with umask 077, then handed to
   the owner of that directory (the login user); if that fails, the directory goes;
3. as the login user, without sudo: the archive downloaded straight into a local file
   created 600 (pyinfra's sudo download would copy it to a /tmp path readable by all and
   leave it there if the download broke), then the directory removed, whether the download
   worked or not.
"""

import os
import re
import shlex
import stat
import time

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, QuoteString, StringCommand, deploy, operation
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import python

from ..host_paths import LOCK_WAIT_SECONDS
from ..operations.state_files import locked_commands
from ..operations.system import host_settings
from ..operations.uploads import AS_LOGIN_USER, chained, on_signals, private_dir
from ..per_run import once_per_run

ARCHIVE = "archive.tar.gz"  # its name inside the private directory
# The config transaction's own entries of the base dir (pyinfra_keepalived/operations/transaction.sh): the
# generations and the links into them. The archive holds the live tree instead, links
# followed: keepalived.conf, conf.d/ and scripts/ as files, with the live owners and modes
# (and anything else an operator keeps in the base dir).
TRANSACTION_ENTRIES = (".current", ".previous", ".generations", ".staging")


def run_stamp():
    """The UTC time of this run, e.g. 20261124T213000Z: the same for every host."""
    return once_per_run("backup time",
                        lambda: time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))


def local_name(host_name):
    """The archive's file name for `host_name`: an inventory name such as @docker/web-1
    would otherwise name a subdirectory (or, with "..", a place outside the run's)."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", host_name) + ".tar.gz"


def make_run_dir(directory, run_dir):
    """Create `run_dir` (700) in `directory` (made 700 if missing): exclusively, so that
    nothing another user planted there is reused; `directory` must be this user's and not
    writable by group or others. DeployError naming the path otherwise."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    status = os.stat(directory)
    if status.st_uid != os.geteuid() or status.st_mode & 0o022:
        raise DeployError(
            f"backup_dir {directory} is not safe for archives that hold auth_pass: it must "
            f"be owned by the user who runs the backup (uid {os.geteuid()}; it is uid "
            f"{status.st_uid}'s) and not writable by group or others (mode "
            f"{stat.S_IMODE(status.st_mode):o}); choose another backup_dir")
    try:
        os.mkdir(run_dir, 0o700)
    except FileExistsError:
        raise DeployError(f"{run_dir} exists already: each backup run makes its own new "
                          "directory (another run started in the same second?); run again") \
            from None
    return run_dir


def make_private_dir(directory, run_dir):
    """make_run_dir, once per run: the first host makes it, the others share it."""
    return once_per_run(("backup run dir", run_dir), lambda: make_run_dir(directory, run_dir))


def archive_command(directory, base_dir):
    """Command words (run as root): archive `base_dir` into `directory` (the live tree, links
    followed), only the owner of `directory` may read it; on failure, or when a dropped
    link or a stop signal cuts it short, remove `directory`."""
    archive = shlex.quote(f"{directory}/{ARCHIVE}")
    quoted_dir = shlex.quote(directory)
    name = os.path.basename(base_dir)
    return [*chained(on_signals(f"rm -rf {quoted_dir}")), "&&",
            "umask", "077", "&&", "tar", "-czf", archive, "--dereference", "--no-wildcards",
            *[shlex.quote(f"--exclude={name}/{entry}") for entry in TRANSACTION_ENTRIES],
            "-C", shlex.quote(os.path.dirname(base_dir)), shlex.quote(name),
            "&&", "chown", f"--reference={quoted_dir}", archive,
            "||", "{", "rm", "-rf", quoted_dir + ";", "false;", "}"]


def open_private(path):
    """`path` opened for writing, created new, mode 600 (never readable by others, not even
    for a moment; a file or link already there is an error, never followed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


def download_and_remove(state, host, directory, local):
    """Download `directory`/ARCHIVE to `local` as the login user, then remove `directory`
    on the host, also when the download fails. False when anything failed."""
    remote = f"{directory}/{ARCHIVE}"
    downloaded = False
    try:
        with open_private(local) as local_file:
            downloaded = host.get_file(remote, local_file, **AS_LOGIN_USER) is not False
    except Exception as error:  # a broken connection, a full disk: report, clean up
        logger.error(f"{host.print_prefix}download of {remote} failed: {error}")
    finally:
        try:
            removed, _ = host.run_shell_command(
                StringCommand("rm", "-rf", QuoteString(directory)), **AS_LOGIN_USER)
        except Exception as error:
            logger.error(f"{host.print_prefix}could not remove {directory}: {error}")
            removed = False
    if not downloaded and os.path.exists(local):
        os.remove(local)
    return downloaded and removed is not False


@operation(is_idempotent=False)
def fetch_archive(base_dir, local, lock_wait=LOCK_WAIT_SECONDS):
    """
    Archive ``base_dir`` on the host and download it to ``local`` (600) as described in
    this module's docstring; nothing of it stays on the host.

    **Example:**

    .. code:: python

        fetch_archive(name="Back up /etc/keepalived", base_dir="/etc/keepalived",
                      local="backups/20261124T213000Z/host-01.tar.gz")
    """
    directory = private_dir()
    yield StringCommand("mkdir", "-m", "700", QuoteString(directory), **AS_LOGIN_USER)
    yield from locked_commands([StringCommand(*archive_command(directory, base_dir))],
                               f"backup of {base_dir}", lock_wait)
    yield FunctionCommand(download_and_remove, (directory, local), {})


@deploy("Keepalived backup")
def backup(directory="backups"):
    """Archive the base dir (default /etc/keepalived) on the host, download it to
    `directory`/<run time>/<host>.tar.gz (600, in a 700 dir); nothing stays on the host."""
    settings = host_settings()
    base_dir = settings.paths.base_dir
    run_dir = os.path.join(directory, run_stamp())
    local = os.path.join(run_dir, local_name(host.name))
    python.call(name=f"Create {run_dir} (mode 700)", function=make_private_dir,
                directory=directory, run_dir=run_dir)
    fetch_archive(name=f"Archive {base_dir} and download it to {local}", base_dir=base_dir,
                  local=local, lock_wait=settings.host_level.lock_wait)
