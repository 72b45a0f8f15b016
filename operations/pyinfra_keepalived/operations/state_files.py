"""Files the deploy keeps on each host about its own work, and the lock every change takes
(where each is: host_paths).

    LOCK_FILE        held (flock) by whatever changes the host
    LOCK_HOLDER      who holds it: pid, login user, since when (in a directory only root
                     can use)
    RELOAD_PENDING   new files are live, keepalived has not reloaded them yet
    RESTART_PENDING  the package or the daemon options changed, no restart yet
    DRAIN_FILE       an integer added to every drainable instance's priority (track_file)
    POLICY_RC_D      ours only during an install (Debian): no keepalived restart by the
                     package
    created_user_record(USER)   the deploy created the script user USER (uninstall
                     removes only such a user; a host set up by a version before this
                     record keeps its user)

The lock is `flock(1)` on a file descriptor: it lives exactly as long as the process that
took it, so a run that is killed or loses its SSH link never leaves a stale lock. The
markers are written before the change they announce and removed only once keepalived runs
what is on disk, so a run that dies in between leaves them for the next run, which reads
them in its one probe and finishes the job. The drain file is on tmpfs: a reboot undrains.
"""

import shlex
from collections.abc import Callable, Iterable

from pyinfra.api import QuoteString, StringCommand, operation

from ..host_paths import LOCK_FILE, LOCK_HOLDER, LOCK_WAIT_SECONDS, RESTART_PENDING
from ..shipped import shell_script
from .uploads import chained, installing

REFUSE_SCRIPT = shell_script("operations/refuse.sh")

POLICY_TAG = "# pyinfra-keepalived policy-rc.d"  # a line of ours (pyinfra_keepalived/operations/package.sh)


# now, seconds: the host's monotonic clock, for every wait of a host-side script
CLOCK_FUNCTIONS = shell_script("operations/clock.sh")
LOCK_SCRIPT = CLOCK_FUNCTIONS + shell_script("operations/lock.sh")
# mark_pending, set_drain and $policy_tag, for the scripts that write the markers, the
# drain or the policy-rc.d (the line that marks a policy-rc.d as ours: only such a one is
# ever replaced or removed)
FUNCTIONS = shell_script("operations/state_files.sh") + f"policy_tag={shlex.quote(POLICY_TAG)}\n"


def mark_restart(reason):
    """Command words that write the restart-pending marker (first line
    "since <UTC time>: REASON"), e.g. in the same command as the change that needs it."""
    return ["sh", "-c", QuoteString(FUNCTIONS + 'mark_pending "$@"'), "mark-restart",
            QuoteString(RESTART_PENDING), QuoteString(reason)]


def locked(script, what, *args, wait=LOCK_WAIT_SECONDS):
    """Command words that run the shell `script` (text) with `args` while holding the
    host's deploy lock (waiting up to `wait` seconds for it; then the host fails with the
    holder named). `what` says what this run does, for a second run's message."""
    return ["sh", "-c", QuoteString(LOCK_SCRIPT + "\n" + script), "pyinfra-keepalived",
            QuoteString(LOCK_FILE), QuoteString(LOCK_HOLDER), str(wait), QuoteString(what),
            *args]


def locked_install(directory, steps, what, wait=LOCK_WAIT_SECONDS):
    """Command words: `steps` (lists of words, each run while the one before succeeded)
    under the host's deploy lock, with the run's upload `directory` removed when the
    command ends by the shell outside the lock: also when the lock cannot be had (a
    second run holds it), so an uploaded secret is never left waiting for a later run."""
    inner = StringCommand(*chained(steps))
    return installing(directory, [locked(inner.get_raw_value(), what, wait=wait)])


def locked_commands(commands, what, wait=LOCK_WAIT_SECONDS):
    """Each of `commands` (what an operation yields: shell text or a StringCommand) as a
    StringCommand that runs it while holding the host's deploy lock (`locked`, waiting up
    to `wait` seconds for it), with the
    command's own connector arguments (`_sudo`, ...). One lock per command: nothing holds
    it between two commands. An upload or a Python callback cannot be locked: TypeError."""
    for command in commands:
        if isinstance(command, str):
            command = StringCommand(command)
        if type(command) is not StringCommand:
            raise TypeError(f"only shell commands run under the deploy lock, not {command!r}")
        yield StringCommand(*locked(command.get_raw_value(), what, wait=wait),
                            **command.connector_arguments)


@operation()
def under_lock(what: str, inner: Callable[..., Iterable], lock_wait: int = LOCK_WAIT_SECONDS,
               **arguments):
    """
    Run the commands of ``inner`` (an operation's ``_inner`` function, called with
    ``arguments``), each while holding the host's deploy lock (waiting up to ``lock_wait``
    seconds for it). ``what`` says what this run does, for a second run's message.

    **Example:**

    .. code:: python

        under_lock(name="Stop and disable keepalived", what="uninstall: stop keepalived",
                   inner=systemd.service._inner, service="keepalived", running=False)
    """
    yield from locked_commands(inner(**arguments), what, lock_wait)


def refusal(message):
    """Command words that fail the host with ``message`` (on stderr), changing nothing
    (refuse.sh)."""
    return ["sh", "-c", QuoteString(REFUSE_SCRIPT), "-", QuoteString(message)]
