"""Small typed readers shared by the validation modules.

Each returns the value, or None (an empty list or mapping for containers) after reporting
an error on `problems` that names the key path, the value and what is allowed.
"""

import ipaddress
import re
from collections.abc import Mapping

# Every pattern is used with fullmatch (read_word): `$` would accept a trailing newline.
NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
# One word of printable ASCII without the characters that end a word or start a comment
# or block in keepalived.conf.
WORD_RE = re.compile(r"(?:(?![{}#!\"])[\x21-\x7e])+")
INTERFACE_RE = re.compile(r"[A-Za-z0-9_.@-]{1,15}")
LABEL_RE = re.compile(r"[A-Za-z0-9_.@:-]{1,15}")  # an address label, e.g. eth0:vip
PATH_RE = re.compile(r"/[A-Za-z0-9_./-]*")
# A user name as useradd takes it (no leading dash: it would read as an option).
USER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
USER_ALLOWED = "a user name: up to 32 letters, digits and _ . -, not starting with . or -"
# A script file name; not . or .. (the scripts dir itself, or its parent).
FILE_NAME_RE = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.-]{1,255}")
FILE_NAME_ALLOWED = "a file name of letters, digits and _ . - (not . or ..)"
PROXY_RE = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?")
# A package version as apt and dnf write it (epoch:upstream-revision), starting with a digit.
VERSION_RE = re.compile(r"[0-9][A-Za-z0-9.+~:_-]{0,127}")
INTERFACE_ALLOWED = "an interface name: 1-15 letters, digits and _ . @ - (no spaces, / or :)"


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_flag(problems, key, value):
    if not isinstance(value, bool):
        problems.error(key, value, "must be true or false")
        return None
    return value


def read_word(problems, key, value, pattern=WORD_RE, allowed="a single word"):
    if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.error(key, value, f"must be {allowed}")
        return None
    return value


def read_interface(problems, key, value):
    return read_word(problems, key, value, INTERFACE_RE, INTERFACE_ALLOWED)


def read_ip(problems, key, value):
    """An IPv4 or IPv6 address without prefix, as an ipaddress object."""
    try:
        return ipaddress.ip_address(value if isinstance(value, str) else "")
    except ValueError:
        problems.error(key, value, "must be an IPv4 or IPv6 address without prefix, "
                       "e.g. 192.168.1.11 or 2001:db8::11")
        return None


def read_list(problems, key, value):
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        problems.error(key, value, "must be a list")
        return []
    return list(value)


def read_mapping(problems, key, value):
    if not isinstance(value, Mapping):
        problems.error(key, value, "must be a mapping of keys to values")
        return {}
    return value


def _braces(line, depth):
    """(depth after the line, lowest depth within it), counting the braces of one
    keepalived.conf line as keepalived reads it: not inside "quotes", not after a comment
    (# or !). None if a quote is left open."""
    lowest, quoted = depth, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in "#!":
            break
        elif char in "{}":
            depth += 1 if char == "{" else -1
            lowest = min(lowest, depth)
    return None if quoted else (depth, lowest)


def read_extra_lines(problems, key, value):
    """The escape hatch: raw lines for one block, passed to keepalived as they are.

    Only the shape is checked (one line each, braces that open and close within the
    lines), so they cannot end the block they are put in; `keepalived -t` checks the rest.
    """
    lines = read_list(problems, key, value)
    depth = 0
    for i, line in enumerate(lines):
        if not isinstance(line, str) or not line.isprintable():
            problems.error(f"{key}[{i}]", line, "must be one line of text (printable: no newline "
                           "or other control character)")
            return ()
        braces = _braces(line, depth)
        if braces is None:
            problems.error(f"{key}[{i}]", line, 'leaves a " open: close every quoted string')
            return ()
        depth, lowest = braces
        if lowest < 0:
            problems.error(f"{key}[{i}]", line, "closes a brace it did not open: it would end "
                           "the block early")
            return ()
    if depth:
        problems.error(key, value, f"leaves {depth} brace(s) open: close every block the "
                       "lines open")
        return ()
    return tuple(line.strip() for line in lines)
