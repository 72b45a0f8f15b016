"""The pyinfra operation that puts a validated keepalived config tree in place."""

import os
import re

from pyinfra import host, logger, state
from pyinfra.api import QuoteString, StringCommand, operation
from pyinfra.facts.files import FileContents
from pyinfra.operations.util.files import generate_color_diff

from . import uploads


PROMOTE_SCRIPT = open(os.path.join(os.path.dirname(__file__), "promote.sh")).read()
SECRET_RE = re.compile(r"^(\s*auth_pass\s+)\S+", re.MULTILINE)
OWNER = uploads.OWNER
DIR_MODE = "755"


def _differs(entry, file):
    return (entry is None or entry.kind != "regular file" or entry.mode != file.mode
            or (entry.user, entry.group) != OWNER or entry.sha256 != uploads.sha256(file.content))


def _masked(text):
    return SECRET_RE.sub(r"\g<1>********", text)


def _log_diff(changed, stale, tree):
    """Print what would change, as unified diffs, with auth_pass masked."""
    for file in changed:
        entry = tree.get(file.path)
        if entry is None:
            host.log(f"Will create {file.path} (mode {file.mode})", logger.info)
            old_text = ""
        else:
            host.log(f"Will modify {file.path}", logger.info)
            old_text = "\n".join(host.get_fact(FileContents, path=file.path) or []) + "\n"
            if entry.mode != file.mode or (entry.user, entry.group) != OWNER:
                logger.info(f"  owner/mode {entry.user}:{entry.group} {entry.mode} -> "
                            f"{OWNER[0]}:{OWNER[1]} {file.mode}")
        old, new = _masked(old_text), _masked(file.content)
        if entry is not None and old == new and entry.sha256 != uploads.sha256(file.content) \
                and old_text != file.content:
            logger.info("  (only a hidden value changed: auth_pass)")
        for line in generate_color_diff(old.splitlines(True) if entry else [],
                                        new.splitlines(True)):
            logger.info("  %s", line)
    for path in stale:
        host.log(f"Will remove {path} (not rendered by this deploy)", logger.info)


@operation()
def config_tree(files, paths, tree):
    """
    Make a keepalived config tree exactly ``files``, validated by the host's keepalived first.

    + files: ``{path: ManagedFile}``, from ``operations.render.config_files``
    + paths: the tree's ``Paths``; files in its conf.d and scripts dirs that are not in
      ``files`` are removed, so stale instances cannot linger
    + tree: what the host has now (the ``KeepalivedTree`` fact, or a probe's ``tree``)

    The new tree is uploaded (``operations.uploads``) and installed in a staging dir,
    checked with ``keepalived -t -f`` and only then copied over the live files, all in one
    command. A rejected tree fails the host with keepalived's own
    messages; the live config and the running keepalived stay as they were.

    **Example:**

    .. code:: python

        config_tree(
            name="Configure keepalived",
            files=render.config_files(settings),
            paths=settings.paths,
            tree=probe.tree,
        )
    """
    managed_dirs = [paths.scripts_dir, paths.config_dir]
    wrong_dirs = [d for d in [paths.base_dir, *managed_dirs]
                  if d not in tree or tree[d].kind != "directory" or tree[d].mode != DIR_MODE
                  or (tree[d].user, tree[d].group) != OWNER]
    changed = [file for file in files.values() if _differs(tree.get(file.path), file)]
    stale = sorted(path for path, entry in tree.items()  # (a dir in them is left alone)
                   if os.path.dirname(path) in managed_dirs and path not in files
                   and entry.kind != "directory")

    if not (wrong_dirs or changed or stale):
        host.noop("keepalived config is up to date")
        return

    if state.config.DIFF:
        _log_diff(changed, stale, tree)

    make_dirs = ["install", "-d", "-o", OWNER[0], "-g", OWNER[1], "-m", DIR_MODE,
                 *[QuoteString(d) for d in wrong_dirs]]
    if not (changed or stale):
        yield StringCommand(*make_dirs)
        return

    # Up as the login user into a private dir; then ONE command: the staging tree,
    # root-owned with each file's mode, checked and promoted by promote.sh.
    uploaded = uploads.private_dir()
    yield from uploads.send(uploaded, [file.content for file in files.values()])
    stage = f"{paths.base_dir}/.staging"
    relative = [os.path.relpath(d, paths.base_dir) for d in managed_dirs]
    steps = [make_dirs] if wrong_dirs else []
    steps.append(["rm", "-rf", QuoteString(stage)])
    steps.append(["mkdir", "-m", "700", QuoteString(stage),
                  *[QuoteString(f"{stage}/{rel}") for rel in relative]])
    for number, file in enumerate(files.values()):
        staged = f"{stage}/{os.path.relpath(file.path, paths.base_dir)}"
        steps.append(uploads.install(uploaded, number, staged, file.mode))
    steps.append(["sh", "-c", QuoteString(PROMOTE_SCRIPT), "promote", QuoteString(stage),
                  QuoteString(paths.base_dir),
                  QuoteString(os.path.relpath(paths.config_file, paths.base_dir)),
                  *[QuoteString(rel) for rel in relative]])
    yield StringCommand(*uploads.installing(uploaded, steps))
