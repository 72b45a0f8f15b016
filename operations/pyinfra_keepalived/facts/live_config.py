"""The configuration keepalived runs with on a host, as written there: its config file,
every file that includes, and the scripts it names, read in one command (for adopt.py,
deploys.adopt).

A secret line (model.hidden's pattern: `auth_pass ...`) never leaves the host in clear:
it is masked in the file's lines and sent again added to a keystream made from a key of
this run that pyinfra never prints (a HiddenValue), so what `-vvv` shows holds no secret.
"""

import hashlib
import secrets
from dataclasses import dataclass, field

from pyinfra.api import FactBase, HiddenValue, QuoteString, StringCommand

from ..model.conf_parse import MAX_FILE_BYTES
from ..model.hidden import SECRET_LINE_ERE
from ..shipped import shell_script, with_variables

RUN_KEY = secrets.token_hex(16)  # this process's key of the secret lines' keystream


@dataclass(frozen=True)
class LiveConfig:
    # {path: text} of the files read, secrets restored (bytes not UTF-8 as surrogates:
    # `contents` gives them back)
    files: dict = field(default_factory=dict)
    # files named but not sent: {path: why} ("missing", "binary", "large SIZE")
    refused: dict = field(default_factory=dict)
    default_script_user: str | None = None  # keepalived_script when that user exists
    # keepalived -t of the config on the host: its exit code (None: no keepalived) and
    # messages (a secret masked)
    test_code: int | None = None
    test_output: tuple = ()
    # every file in the directories the deploy replaces with links (its conf.d, scripts)
    managed: tuple = ()

    def contents(self):
        """{path: bytes} of the files read, as they are on the host."""
        return {path: text.encode("utf-8", "surrogateescape")
                for path, text in self.files.items()}


def keystream(key, path, line, length):
    """The bytes the host added to a secret line (live_config.sh): sha256 of
    KEY:PATH:LINE:N, N = 0, 1, ..., as hex text's bytes, `length` of them."""
    stream = b""
    block = 0
    while len(stream) < length:
        digest = hashlib.sha256(f"{key}:{path}:{line}:{block}".encode()).hexdigest()
        stream += bytes.fromhex(digest)
        block += 1
    return stream[:length]


def unmasked(hex_text, key, path, line):
    """The secret line sent as `hex_text` (its bytes plus the keystream, mod 256)."""
    sent = bytes.fromhex(hex_text)
    stream = keystream(key, path, line, len(sent))
    return bytes((byte - k) % 256 for byte, k in zip(sent, stream))


class KeepalivedLiveConfig(FactBase[LiveConfig]):
    """
    The config file, the files it includes and the scripts it names, with their text,
    as a ``LiveConfig``; in one round trip. Run as root (the files are root's).

    .. code:: python

        host.get_fact(KeepalivedLiveConfig, config_file="/etc/keepalived/keepalived.conf",
                      managed_dirs=["/etc/keepalived/conf.d", "/etc/keepalived/scripts"])
    """

    key = RUN_KEY

    def command(self, config_file, managed_dirs=()):
        return StringCommand(
            "live_key=", QuoteString(HiddenValue(self.key)), ";",
            with_variables(shell_script("facts/live_config.sh"), live_config=config_file,
                           live_max=MAX_FILE_BYTES, live_secret=SECRET_LINE_ERE,
                           live_managed=" ".join(managed_dirs)),
            _separator="")

    def default(self):
        return LiveConfig()

    def process(self, output):
        files, refused, user, code, messages, managed = {}, {}, None, None, [], []
        path, lines = None, []

        def close():
            if path is not None and lines is not messages:
                files[path] = "".join(line + "\n" for line in lines)

        for line in output:
            if line.startswith("|") and path is not None:
                lines.append(line[1:])
                continue
            kind, _, rest = line[3:].partition(" ") if line.startswith("## ") else ("", "", "")
            if kind == "file":
                close()
                path, lines = rest, []
            elif kind == "secret" and path is not None:
                number, _, hex_text = rest.partition(" ")
                if number.isdigit() and 0 < int(number) <= len(lines):
                    lines[int(number) - 1] = unmasked(hex_text, self.key, path, number).decode(
                        "utf-8", "surrogateescape")
            elif kind in ("missing", "binary", "large"):
                name, _, size = rest.rpartition(" ") if kind == "large" else (rest, "", "")
                refused[name] = f"{kind} {size}".strip()
            elif kind == "managed":
                managed.append(rest)
            elif kind == "script-user":
                user = rest.strip()
            elif kind == "config-test" and rest.strip().isdigit():
                close()
                path, lines, code = "", messages, int(rest)
        close()
        return LiveConfig(files=files, refused=refused, default_script_user=user,
                          test_code=code, test_output=tuple(line for line in messages if line),
                          managed=tuple(managed))
