"""Errors and warnings about host data, each naming the host, the key path and the value.

How a value is shown is decided here, in `shown`, for every message: the value of a
secret key (auth_pass, or a key that looks like one) and a pyinfra HiddenValue are
`<hidden>` wherever they are, also inside a mapping or list that is shown (an instance
given where a list was expected); inside a shown mapping, only the values of keys this
deploy knows (`public_keys`) are shown; `auth_pass` and what follows it in a text (an
extra_lines entry) is masked; the value of an unknown key is not shown at all.
"""

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pyinfra.api.exceptions import PyinfraError

from .hidden import (
    HIDDEN,
    SECRET_KEYS,
    is_hidden,
    is_secret_key,
    mask_text,
    misplaced_hidden_values,
)

NOT_SHOWN = object()  # a Problem's value that is left out of its message
_PUBLIC_KEYS = set()  # key names whose values may be shown inside a shown mapping
_LAST_NAME_RE = re.compile(r"(?:\[[^\]]*\])+$")  # the [i] / ['name'] parts at the end


def public_keys(*names):
    """Register key names of this deploy's data (lists or mappings of them), whose
    values are shown inside a mapping that is shown; secret keys stay hidden."""
    for group in names:
        _PUBLIC_KEYS.update(name for name in group if not is_secret_key(name))


def key_name(key):
    """The name a key path ends with: keepalived_vrrp_instances[0].auth_pass -> auth_pass,
    keepalived_vrrp_instances[0] -> keepalived_vrrp_instances."""
    return _LAST_NAME_RE.sub("", str(key)).rpartition(".")[2]


def shown(key, value):
    """How the value of `key` (a key path) appears in a message."""
    if value is not None and (is_hidden(value) or is_secret_key(key_name(key))):
        return HIDDEN  # (None: not given, which is no secret)
    return _shown(value)


def _shown(value):
    if is_hidden(value):
        return HIDDEN
    if isinstance(value, str):
        return repr(mask_text(value))
    if isinstance(value, Mapping):
        items = (f"{_shown_key(name)}: " + (_shown(item) if name in _PUBLIC_KEYS else HIDDEN)
                 for name, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_shown(item) for item in value]
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "{" + ", ".join(sorted(items)) + "}" if items else repr(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"<{type(value).__name__}>"  # an object's repr could print anything


def _shown_key(name):
    return repr(name) if isinstance(name, (str, int, float, bool)) or name is None else \
        _shown(name)


@dataclass(frozen=True)
class Problem:
    host: str
    key: str  # e.g. keepalived_vrrp_instances[0].priority
    value: object = field(repr=False)  # as given: may be a secret, see shown()
    message: str  # what is wrong and what is allowed, or how to fix it

    def __str__(self):
        return f"{self.host}: {self.what()}: {self.message}"

    def what(self):
        """The key path, and the value as shown (`shown`) unless it is left out."""
        if self.value is NOT_SHOWN:
            return self.key
        return f"{self.key} = {shown(self.key, self.value)}"


ALLOWED = "; allowed: "  # what a message that lists the allowed values says before them
HOSTS_SHOWN = 2  # hosts named in a grouped message before "and N more"


def hosts_text(hosts):
    """host-01; host-01, host-02 and host-03; host-01, host-02 and 48 more."""
    if len(hosts) == 1:
        return hosts[0]
    if len(hosts) <= HOSTS_SHOWN + 1:
        return f"{', '.join(hosts[:-1])} and {hosts[-1]}"
    return f"{', '.join(hosts[:HOSTS_SHOWN])} and {len(hosts) - HOSTS_SHOWN} more"


def grouped(problems):
    """One line per distinct problem (key path, value as shown, message), with the hosts
    that have it (`hosts_text`), in the order first met; a list of allowed values
    (`ALLOWED`) is given in full the first time only, later lines say "as above"."""
    groups = {}  # (what, message) -> [host]
    for problem in problems:
        hosts = groups.setdefault((problem.what(), problem.message), [])
        if problem.host not in hosts:
            hosts.append(problem.host)
    lines, listed = [], set()
    for (what, message), hosts in groups.items():
        head, allowed_given, allowed = message.partition(ALLOWED)
        if allowed_given:
            message = head + ALLOWED + ("as above" if allowed in listed else allowed)
            listed.add(allowed)
        lines.append(f"{hosts_text(hosts)}: {what}: {message}")
    return lines


class KeepalivedDataError(PyinfraError):
    """Raised before any operation runs when host data is invalid; its message gives
    each distinct error once, with its hosts (`grouped`); `errors` has every Problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        lines = "\n".join(f"  - {line}" for line in grouped(self.errors))
        super().__init__(
            f"keepalived data is invalid ({len(self.errors)} error(s)); no host was changed:\n"
            + lines
        )


class Problems:
    """Collects the errors and warnings found for one host."""

    def __init__(self, host):
        self.host = host
        self.errors = []
        self.warnings = []

    def error(self, key, value, message):
        self.errors.append(Problem(self.host, key, value, message))

    def warn(self, key, value, message):
        self.warnings.append(Problem(self.host, key, value, message))

    public_keys = staticmethod(public_keys)  # (for modules that import only Problems)

    def misplaced_hidden_values(self, data, keys):
        """An error for each pyinfra HiddenValue under `keys` of `data` that is not given
        to a secret key: every other value lands in a file every user can read."""
        for key in keys:
            for path, value in misplaced_hidden_values(key, data.get(key)):
                self.error(path, value, "is a pyinfra HiddenValue, a secret: only "
                           f"{', '.join(SECRET_KEYS)} takes one (its file is readable by "
                           "root only; this value would land in a file every user can read)")

    def unknown_key(self, key, name, allowed, what="key"):
        """Report the unknown key `name` at key path `key`, with a "did you mean" among
        `allowed`; its value is not shown (it may be a misspelt secret key)."""
        self.error(key, NOT_SHOWN,
                   f"unknown {what}{did_you_mean(name, allowed)}{ALLOWED}{', '.join(allowed)}")

    def unknown_keys(self, where, given, allowed):
        """Report each key of `given` not in `allowed`, with a "did you mean"."""
        for key in given:
            if key not in allowed:
                self.unknown_key(f"{where}.{key}" if where else key, key, allowed)


def did_you_mean(word, choices):
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
