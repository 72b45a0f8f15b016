"""What a secret is, and how it is hidden: in error messages, in diffs and in facts.

A leaf module (no imports from this project): pyinfra_keepalived.model.problems decides with it how a
value is shown, operations.config_tree masks diffs with it, and pyinfra_keepalived.facts.keepalived runs
its twin on the host (`sed`), so that an old file is masked before it leaves the host.

pyinfra users hand in a secret as ``pyinfra.api.HiddenValue("...")``; pyinfra prints it
as ``*MASKED*``. It is taken (``unhide``) only where a secret belongs: see SECRET_KEYS.
"""

import difflib
import re
from collections.abc import Mapping

from pyinfra.api import HiddenValue

# Keys whose value is a secret: never shown, and the only keys that take a HiddenValue
# (their file, 20-vrrp_instances.conf, is 600; every other value lands in a file that
# every user of the host can read).
SECRET_KEYS = ("auth_pass",)
MASK = "********"
HIDDEN = "<hidden>"  # how a hidden value is shown in messages

# A key that may hold a secret (a typo of auth_pass, a password in a template's vars):
# its value is never shown either.
_SECRET_LIKE_RE = re.compile(r"pass|pw|secret|token|key|cred|psk", re.IGNORECASE)
# Keys that look like one but hold no secret (a choice, a directory's path): shown.
NOT_SECRET_KEYS = ("keepalived_ssh_host_keys", "keepalived_ssh_host_keys_dir")


def _any_case(word):
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


# keepalived keywords whose value is a secret, besides SECRET_KEYS' auth_pass: the SSL
# block's `password` (of the key SSL_GET checkers use). keepalived.conf(5) has no other:
# SMTP alerts take no login, SNMP only a socket, SSL's key, ca and certificate are paths.
# Not data keys: the model has no SSL block, and an include file with one is refused.
SECRET_STATEMENTS = ("password",)
# The blanks between words: a space and a tab, the tab itself (in a bracket, `\t` is a tab
# to Python and GNU sed but a backslash and a t to grep -E, which facts/live_config.sh uses).
_BLANKS = " \t"
# A statement's first word: at the start of a line or after a brace (a one-line block),
# after blanks or a comment mark, and after a conditional `@ID ` / `@^ID ` prefix.
_STATEMENT_START = f"(^|[{{])[{_BLANKS}!#]*(@[^{_BLANKS}]+[{_BLANKS}]+)?"

# A secret in a keepalived config line: `auth_pass` (any case, anywhere in the line, so
# also in extra_lines and one-line blocks) or a statement of SECRET_STATEMENTS (any case),
# and everything after it on that line. The pattern is both a Python regex and a POSIX
# ERE (`sed -E`, `grep -E`): the deploy masks with it here and on the host, and the two
# must agree (tests/test_secrets.py runs both); group 1 is what is kept.
SECRET_LINE_ERE = "(" + "|".join(
    [_any_case(key) for key in SECRET_KEYS]
    + [_STATEMENT_START + _any_case(word) for word in SECRET_STATEMENTS]) + ").*"
SECRET_LINE_RE = re.compile(SECRET_LINE_ERE)  # (on one line: `^` is its start)


def mask_text(text):
    """`text` with every secret in it masked (see SECRET_LINE_ERE), line by line as sed."""
    return "\n".join(SECRET_LINE_RE.sub(rf"\g<1> {MASK}", line) for line in text.split("\n"))


# The sed -E script that masks as mask_text does: the same pattern, applied on the host.
SED_MASK_SCRIPT = f"s/{SECRET_LINE_ERE}/\\1 {MASK}/"


def sed_mask(path_word):
    """A shell command that prints the file `path_word` (already quoted) as mask_text
    would make it."""
    return f"sed -E '{SED_MASK_SCRIPT}' {path_word}"


def is_secret_key(name):
    """Whether the value of a key named `name` must never be shown."""
    name = str(name)
    if name in NOT_SECRET_KEYS:
        return False
    return name in SECRET_KEYS or bool(_SECRET_LIKE_RE.search(name)) or any(
        _close(name, key) for key in SECRET_KEYS)


def _close(name, key):
    return difflib.SequenceMatcher(None, name.lower(), key).ratio() >= 0.8


def is_hidden(value):
    return isinstance(value, HiddenValue)


def unhide(value):
    """The real value of a HiddenValue; any other value as it is."""
    return value.unmask() if is_hidden(value) else value


def misplaced_hidden_values(key, value):
    """(key path, value) under `key` for each HiddenValue given to a key that is not a
    secret key (nested lists and mappings are searched)."""
    if is_hidden(value):
        if key.rpartition(".")[2] not in SECRET_KEYS:
            yield key, value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from misplaced_hidden_values(f"{key}.{name}", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from misplaced_hidden_values(f"{key}[{index}]", item)
