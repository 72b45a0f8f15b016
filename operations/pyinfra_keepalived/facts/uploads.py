"""Upload directories: where operations.uploads makes them, and how the probe finds those
that broken-off runs left.

Their parent follows pyinfra's temp dir: the operation's ``_temp_dir``, else the config's
``TEMP_DIR`` (set in a deploy file, a config file or the API's Config), else /var/tmp (not /tmp, which may be a tmpfs that `docker cp`, the upload
of pyinfra's @docker connector, cannot write into; and not pyinfra's own default, /tmp).
"""

import os
import re
import shlex
import uuid

from pyinfra import host, state
from pyinfra.api.exceptions import DeployError
from pyinfra.context import ctx_config, ctx_host, ctx_state

from ..host_paths import DEFAULT_PARENT, UPLOAD_PREFIX
from ..model.readers import PATH_RE

RANDOM_PART = 12  # hex digits after the prefix
# An upload directory of a run still in progress is never older than its last upload plus
# the lock wait of its config transaction (keepalived_lock_wait: at most 3600 s) and the
# transaction itself: one older than this is a broken-off run's (the probe finds them,
# operations.uploads.stale_uploads_absent removes them).
STALE_MINUTES = 120


def upload_parent():
    """The directory upload directories go in, on the current host: the current
    operation's ``_temp_dir`` (or the host data's), else pyinfra's configured TEMP_DIR,
    else /var/tmp."""
    # (an operation's arguments; outside one, as for the probe, the host's data)
    arguments = ((host.current_op_global_arguments or host.data) if ctx_host.isset()
                 else None) or {}
    configs = [ctx_config.get() if ctx_config.isset() else None,
               state.config if ctx_state.isset() else None]  # (pyinfra's order)
    parent = (arguments.get("_temp_dir")
              or next((config.TEMP_DIR for config in configs if config and config.TEMP_DIR),
                      None)
              or DEFAULT_PARENT)
    return checked_parent(parent)


def checked_parent(parent):
    """`parent` without a trailing slash if it is an absolute, normalised path of letters,
    digits and _ . - / (it reaches root's shell, and the stale-upload removal looks in it);
    else a DeployError naming the host and the value."""
    path = str(parent).rstrip("/") or "/"
    if (not isinstance(parent, str) or PATH_RE.fullmatch(parent) is None
            or os.path.normpath(path) != path):
        where = f"{host.name}: " if ctx_host.isset() else ""
        raise DeployError(f"{where}_temp_dir / TEMP_DIR = {parent!r}: must be an absolute, "
                          "normalised path of letters, digits and _ . - / (e.g. /var/tmp)")
    return path


def private_dir(parent=None):
    """A new directory name for one operation's uploads (`mkdir` fails if it exists), in
    `parent` (default: upload_parent())."""
    return os.path.join(parent or upload_parent(),
                        f"{UPLOAD_PREFIX}{uuid.uuid4().hex[:RANDOM_PART]}")


def is_upload_dir(path, parent=None):
    """`path` is exactly a name private_dir() makes: in `parent` when given, else in any
    absolute directory (a normalized path: no "..")."""
    directory, _, name = path.rpartition("/")
    if parent is not None and directory != parent.rstrip("/"):
        return False
    return (path.startswith("/") and os.path.normpath(path) == path
            and re.fullmatch(re.escape(UPLOAD_PREFIX) + f"[0-9a-f]{{{RANDOM_PART}}}",
                             name) is not None)


def stale_dirs_command(parent):
    """Shell text (for the probe, run with the run's privileges) that prints each upload
    directory in `parent` left by a broken-off run: exactly private_dir()'s name, a
    directory, owned by the login user (who ran sudo or doas; else the user running it),
    not changed for STALE_MINUTES. It starts no process unless such a name exists at all."""
    glob = shlex.quote(os.path.join(parent, UPLOAD_PREFIX)) + "[0-9a-f]" * RANDOM_PART
    return (f'for d in {glob}; do [ -d "$d" ] && find "$d" -maxdepth 0 -type d '
            '-user "${SUDO_USER:-${DOAS_USER:-$(id -un)}}" '
            f'-mmin +{STALE_MINUTES} -print; done')
