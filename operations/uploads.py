"""Commands that put one small root-owned file in place (for operations that read their
facts once, up front, instead of files.put's facts per file)."""

import hashlib
import os
from io import StringIO

from pyinfra import host
from pyinfra.api import FileUploadCommand, QuoteString, StringCommand


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def upload(path, content, mode, make_dir=False):
    """Yield the commands that make `path` hold `content`, root:root, `mode`."""
    if make_dir:
        yield StringCommand("mkdir", "-p", QuoteString(os.path.dirname(path)))
    yield FileUploadCommand(StringIO(content), path,
                            remote_temp_filename=host.get_temp_filename(path))
    yield StringCommand("chown", "root:root", QuoteString(path), "&&",
                        "chmod", mode, QuoteString(path))
