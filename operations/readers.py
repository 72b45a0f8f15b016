"""Small typed readers shared by the validation modules.

Each returns the value, or None (an empty list or mapping for containers) after reporting
an error on `problems` that names the key path, the value and what is allowed.
"""

import ipaddress
import math
import re
from collections.abc import Mapping

from .problems import did_you_mean

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
WORD_RE = re.compile(r"^[^\s{}#!\"]+$")
INTERFACE_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")
PATH_RE = re.compile(r"^/[A-Za-z0-9_./-]*$")
INTERFACE_ALLOWED = "an interface name: 1-15 letters, digits and _ . @ - (no spaces, / or :)"


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_int(problems, key, value, low, high, allowed=None):
    if not is_int(value) or not low <= value <= high:
        problems.error(key, value, allowed or f"must be a whole number {low}-{high}")
        return None
    return value


def read_seconds(problems, key, value):
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        problems.error(key, value, "must be a number of seconds greater than 0")
        return None
    return value


def read_choice(problems, key, value, choices):
    if value not in choices:
        problems.error(key, value, f"must be one of {', '.join(map(str, choices))}"
                       + did_you_mean(str(value).upper(), map(str, choices)))
        return None
    return value


def read_flag(problems, key, value):
    if not isinstance(value, bool):
        problems.error(key, value, "must be true or false")
        return None
    return value


def read_word(problems, key, value, pattern=WORD_RE, allowed="a single word"):
    if not isinstance(value, str) or not pattern.match(value):
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


def read_extra_lines(problems, key, value):
    """The escape hatch: raw lines for one block, passed to keepalived as they are.

    Only the shape is checked (one line each, braces that open and close within the
    lines), so they cannot end the block they are put in; `keepalived -t` checks the rest.
    """
    lines = read_list(problems, key, value)
    depth = 0
    for i, line in enumerate(lines):
        if not isinstance(line, str) or "\n" in line or "\r" in line:
            problems.error(f"{key}[{i}]", line, "must be one line of text")
            return ()
        depth += line.count("{") - line.count("}")
        if depth < 0:
            problems.error(f"{key}[{i}]", line, "closes a brace it did not open: it would end "
                           "the block early")
            return ()
    if depth:
        problems.error(key, value, f"leaves {depth} brace(s) open: close every block the "
                       "lines open")
        return ()
    return tuple(line.strip() for line in lines)
