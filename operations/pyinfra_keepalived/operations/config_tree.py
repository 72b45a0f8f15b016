"""The pyinfra operation that puts a validated keepalived config tree in place."""

import os
import socket
import time
import uuid
from dataclasses import dataclass

from pyinfra import host, logger, state
from pyinfra.api import QuoteString, StringCommand, operation
from pyinfra.operations.util.files import generate_color_diff

from ..facts.keepalived import MaskedFileContents, TreeEntry
from ..host_paths import (
    CURRENT,
    LOCK_FILE,
    LOCK_HOLDER,
    LOCK_WAIT_SECONDS,
    RELOAD_PENDING,
)
from ..model.blocks import Paths
from ..model.hidden import SED_MASK_SCRIPT, mask_text
from ..render.config import ManagedFile
from ..shipped import shell_script, with_variables
from . import state_files, uploads
from .state_files import FUNCTIONS, locked

# safe_base.sh: the base dir's check; config_test.sh: the test of a tree, which masks
# secrets in keepalived's messages as model.hidden does (live_test.sh, before a restart,
# shares both)
SAFE_BASE = shell_script("operations/safe_base.sh")
CONFIG_TEST = with_variables(shell_script("operations/config_test.sh"),
                             mask_secrets=SED_MASK_SCRIPT) + "\n"
TRANSACTION_SCRIPT = (FUNCTIONS + SAFE_BASE + CONFIG_TEST
                      + shell_script("operations/transaction.sh"))
PREPARE_CHECK_SCRIPT = shell_script("operations/prepare_check.sh")
PREPARED = "config prepared for a commit on every peer together"  # in the lock's holder file
OWNER = uploads.OWNER
DIR_MODE = "755"


def _differs(entry, file):
    return (entry is None or entry.kind != "regular file" or entry.mode != file.mode
            or (entry.user, entry.group) != OWNER or not entry.holds(file.content))


@dataclass(frozen=True)
class TreeWork:
    """What config_tree has to do on a host (tree_work); false when the tree is up to date."""
    wrong: tuple[str, ...] = ()  # managed paths not laid out as transaction.sh leaves them
    changed: tuple[ManagedFile, ...] = ()  # rendered files the host lacks or holds otherwise
    stale: tuple[str, ...] = ()  # files in the managed dirs that are not rendered: removed

    def __bool__(self):
        return bool(self.wrong or self.changed or self.stale)


def log_diff(work, tree):
    """With --diff: what `work` (a TreeWork for a host whose tree is `tree`) changes,
    each file's diff masked (_log_file_diffs), and the paths laid out anew."""
    _log_file_diffs(work.changed, work.stale, tree)
    for path in work.wrong:
        host.log(f"Will set up {path} as transaction.sh lays the tree out", logger.info)


def _log_file_diffs(changed, stale, tree):
    """Print what would change, as unified diffs, with auth_pass masked: the old file is
    read masked on the host (MaskedFileContents), the new one masked here, alike."""
    for file in changed:
        entry = tree.get(file.path)
        if entry is None:
            host.log(f"Will create {file.path} (mode {file.mode})", logger.info)
            old = ""
        else:
            host.log(f"Will modify {file.path}", logger.info)
            old = "\n".join(host.get_fact(MaskedFileContents, path=file.path)) + "\n"
            if entry.mode != file.mode or (entry.user, entry.group) != OWNER:
                logger.info(f"  owner/mode {entry.user}:{entry.group} {entry.mode} -> "
                            f"{OWNER[0]}:{OWNER[1]} {file.mode}")
        new = mask_text(file.content)
        if entry is not None and old == new and not entry.holds(file.content):
            logger.info("  (only a hidden value changed: auth_pass)")
        for line in generate_color_diff(old.splitlines(True) if entry else [],
                                        new.splitlines(True)):
            logger.info("  %s", line)
    for path in stale:
        host.log(f"Will remove {path} (not rendered by this deploy)", logger.info)


def layout(paths):
    """[(path, symlink target)]: the managed paths of the tree (scripts dir, conf.d, config
    file; one inside another is reached through it), each a fixed link through
    BASE/.current to the live generation (see transaction.sh)."""
    managed = [paths.scripts_dir, paths.config_dir, paths.config_file]
    outer = [path for path in dict.fromkeys(managed)
             if not any(path.startswith(other + "/") for other in managed)]
    return [(path, os.path.relpath(f"{paths.base_dir}/{CURRENT}/"
                                   f"{os.path.relpath(path, paths.base_dir)}",
                                   os.path.dirname(path)))
            for path in outer]


def _layout_wrong(paths, tree):
    """The paths of the tree that are not as transaction.sh leaves them."""
    current = tree.get(f"{paths.base_dir}/{CURRENT}")
    wrong = [] if current and (current.link or "").startswith(".generations/") else [CURRENT]
    wrong += [path for path, target in layout(paths)
              if path not in tree or tree[path].link != target]
    wrong += [d for d in [paths.base_dir, paths.scripts_dir, paths.config_dir]
              if d not in tree or tree[d].kind != "directory" or tree[d].mode != DIR_MODE
              or (tree[d].user, tree[d].group) != OWNER]
    return wrong


def generation_name():
    """A new generation's directory name: when it was made, and a random part."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + uuid.uuid4().hex[:6]


def transaction(paths, uploaded="-", files=(), lock_wait=LOCK_WAIT_SECONDS, mode="apply",
                generation=None, hold=0, links=False):
    """Command words: the host-side transaction (transaction.sh) in `mode`: "apply" (under
    the lock) stages `files` (ManagedFile, uploaded as 0, 1, ... into `uploaded`), tests,
    swaps and reloads; with no files, only the reload an earlier run left pending.
    "prepare" (under the lock) stages and tests only, and keeps the lock `hold` seconds
    for the "commit" of the same `generation` (swap and reload; `links`: with the tree's
    fixed links) or its "discard"; those two take no lock of their own
    (operations.cluster_commit)."""
    def rel(path):
        return QuoteString(os.path.relpath(path, paths.base_dir))

    words = [mode, QuoteString(paths.base_dir), QuoteString(uploaded),
             generation or generation_name(), QuoteString(RELOAD_PENDING),
             rel(paths.config_file), str(hold)]
    if files:
        included = any(os.path.dirname(file.path) == paths.include_dir for file in files)
        for directory in (paths.scripts_dir, paths.config_dir,
                          *([paths.include_dir] if included else [])):
            words += ["dir", rel(directory)]
        for number, file in enumerate(files):
            words += ["file", str(number), file.mode, rel(file.path)]
    if files or links:
        for path, target in layout(paths):
            words += ["link", rel(path), QuoteString(target)]
    if mode in ("commit", "discard"):  # (the lock's files: for a commit whose hold ran out)
        script = with_variables(TRANSACTION_SCRIPT, lock_file=LOCK_FILE, lock_holder=LOCK_HOLDER)
        return ["sh", "-c", QuoteString(script), "pyinfra-keepalived", *words]
    if mode == "prepare":  # (never waiting for another run's prepare: prepare_check.sh)
        return uploads.chained([
            ["sh", "-c", QuoteString(PREPARE_CHECK_SCRIPT), "pyinfra-keepalived",
             QuoteString(LOCK_FILE), QuoteString(LOCK_HOLDER), QuoteString(PREPARED)],
            locked(TRANSACTION_SCRIPT, f"{PREPARED} from {socket.gethostname()}", *words,
                   wait=lock_wait)])
    what = "config transaction" if files else "pending reload"
    return locked(TRANSACTION_SCRIPT, f"{what} from {socket.gethostname()}", *words,
                  wait=lock_wait)


def tree_work(files, paths, tree):
    """The TreeWork of making a host's tree (`tree`: {path: TreeEntry}, as probed) exactly
    `files` ({path: ManagedFile}) laid out by `paths`; worked out once per host, by
    operations.plan.plan_host."""
    managed_dirs = [paths.scripts_dir, paths.config_dir, paths.include_dir]
    changed = tuple(file for file in files.values() if _differs(tree.get(file.path), file))
    stale = tuple(sorted(path for path, entry in tree.items()  # (a dir in them is left alone)
                         if os.path.dirname(path) in managed_dirs and path not in files
                         and entry.kind != "directory"))
    return TreeWork(tuple(_layout_wrong(paths, tree)), changed, stale)


@operation()
def config_tree(files: dict[str, ManagedFile], paths: Paths, work: TreeWork,
                tree: dict[str, TreeEntry] | None = None, reload_pending: str | None = None,
                lock_wait: int = LOCK_WAIT_SECONDS, then: tuple[str, ...] = (),
                then_refused=None):
    """
    Make a keepalived config tree exactly ``files``, validated by the host's keepalived
    first, and make keepalived run it.

    + files: ``{path: ManagedFile}``, from ``pyinfra_keepalived.render.config.config_files``
    + paths: the tree's ``Paths``; files in its conf.d and scripts dirs that are not in
      ``files`` are removed, so stale instances cannot linger
    + work: what differs on the host (a ``TreeWork``: ``tree_work``, or a host plan's
      ``tree``); nothing but a pending reload when it is empty
    + tree: what the host has now (a probe's ``tree``), read only for ``--diff``: each
      file's diff is printed, masked
    + reload_pending: the host's pending-reload marker (a probe's ``reload_pending``):
      an earlier run made files live and died before keepalived reloaded them
    + lock_wait: seconds to wait for another run's lock on the host before failing it
    + then: shell commands (text) to run in the same command once the transaction
      succeeded, each if the one before did: e.g. keepalived's start on a host where it
      does not run yet (system.start_steps), a round trip fewer
    + then_refused: a callable asked when the operation runs: None, or why ``then`` must
      not run (cluster_commit.start_refused); the config still goes live, then the host
      fails with that reason

    The new tree is uploaded (``operations.uploads``); then ONE command, under the host's
    deploy lock, stages it in a directory of this run, checks it with ``keepalived -t
    -f``, makes it live in one rename and reloads keepalived (SIGHUP: the VIPs stay) if
    it runs (``transaction.sh``). A rejected tree fails the host with keepalived's own
    messages; the live config and the running keepalived stay as they were.

    **Example:**

    .. code:: python

        config_tree(
            name="Configure keepalived",
            files=files,
            paths=settings.paths,
            work=tree_work(files, settings.paths, probe.tree),
            tree=probe.tree,
            reload_pending=probe.reload_pending,
        )
    """
    why = then_refused() if then and then_refused is not None and state.is_executing else None
    steps = [state_files.refusal(why)] if why else [[step] for step in then]
    if not work:
        if reload_pending is None:
            host.noop("keepalived config is up to date")
            return
        host.log(f"keepalived reload pending ({reload_pending}): reloading now", logger.warning)
        yield StringCommand(*uploads.chained([transaction(paths, lock_wait=lock_wait),
                                              *steps]))
        return

    if state.config.DIFF and tree is not None:
        log_diff(work, tree)

    # Up as the login user into a private dir; then ONE locked command (transaction.sh).
    uploaded = uploads.private_dir()
    yield from uploads.send(uploaded, [file.content for file in files.values()])
    yield StringCommand(*uploads.installing(uploaded, [
        transaction(paths, uploaded, list(files.values()), lock_wait), *steps]))

