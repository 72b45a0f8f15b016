"""The patterns of the host data's text values (model.types makes them field types), the
readers of a value's shape shared by the validation modules, and what raw lines may hold
(`extra_lines_problem`; the keywords they may not name, `REFUSED_RAW`: extra_lines and
operator include files alike).

Each reader returns the value, or an empty list or mapping after reporting an error on
`problems` that names the key path, the value and what is allowed.
"""

import ipaddress
import re
from collections.abc import Mapping

# Every pattern is used with fullmatch (model.types.matching): `$` would accept a trailing
# newline.
NAME_RE = re.compile(r"[A-Za-z0-9_.-]+")
# One word of printable ASCII without the characters that end a word or start a comment
# or block in keepalived.conf.
WORD_RE = re.compile(r"(?:(?![{}#!\"])[\x21-\x7e])+")
# A value that may begin a line of keepalived.conf (a list entry: notification_email,
# track_interface) must not begin with what keepalived reads as something else there: "@ID"
# (a conditional line, read only by the keepalived whose config id is ID, the rest of the
# line without it) and "$" (a parameter: "$NAME=value" defines one, "$NAME" is replaced
# wherever one is defined, on any line: none in a value).
VALUE_WORD_RE = re.compile(r"(?!@)(?:(?![{}#!\"$])[\x21-\x7e])+")
WORD_ALLOWED = "a single word (no quotes, braces, # ! or $; not starting with @)"
# A password: any word but one holding keepalived's own parameters ($_RANDOM, $_PWD, ...;
# ${_NAME} holds braces, which a word may not), which it substitutes there: `a$_RANDOM`
# became a21451 with keepalived 2.2.7, another password on each host, whose peers then
# drop each other's adverts (both MASTER)
PASSWORD_RE = re.compile(r"(?!.*\$_)" + WORD_RE.pattern)
INTERFACE_RE = re.compile(r"(?!@)[A-Za-z0-9_.@-]{1,15}")
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
DNS_NAME_RE = re.compile(r"(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                         r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?")
INTERFACE_ALLOWED = ("an interface name: 1-15 letters, digits and _ . @ - (no spaces, / "
                     "or :; not starting with @)")


def address_family(text):
    """4 or 6 of an address, an address with its prefix or a network; None for all or
    default (or unset)."""
    if text in (None, "all", "default"):
        return None
    return ipaddress.ip_network(text, strict=False).version


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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


def extra_lines_problem(lines):
    """What is wrong with a list of raw lines for one block, as (index or None, value,
    message), or None. Only the shape is checked (one line each, braces that open and
    close within the lines), so they cannot end the block they are put in; `keepalived
    -t` checks the rest."""
    depth = 0
    for i, line in enumerate(lines):
        if not isinstance(line, str) or not line.isprintable():
            return i, line, ("must be one line of text (printable: no newline or other "
                             "control character)")
        braces = _braces(line, depth)
        if braces is None:
            return i, line, 'leaves a " open: close every quoted string'
        depth, lowest = braces
        if lowest < 0:
            return i, line, "closes a brace it did not open: it would end the block early"
    if depth:
        return None, lines, (f"leaves {depth} brace(s) open: close every block the lines "
                             "open")
    return None


NAMESPACE = ("moves keepalived into another network namespace or instance: its VIPs would not "
             "be where the host firewall, the status checks and the clients look; run "
             "keepalived in the host's own")
IPTABLES = ("is refused by the keepalived -t of Debian's packages, built for nftables (2.2.7: "
            "exit 5); the deploy manages the host firewall (keepalived_firewall)")
# keywords refused in extra_lines (global_defs' and instances'), with why
REFUSED_RAW = {
    "net_namespace": NAMESPACE, "net_namespace_ipvs": NAMESPACE,
    "namespace_with_ipsets": NAMESPACE, "instance": NAMESPACE,
    "vrrp_iptables": IPTABLES, "vrrp_ipsets": IPTABLES,
}


def read_extra_lines(problems, key, value):
    """The escape hatch: raw lines for one block, passed to keepalived as they are
    (`extra_lines_problem`: one error, then none of them)."""
    lines = read_list(problems, key, value)
    problem = extra_lines_problem(lines)
    if problem:
        index, shown, message = problem
        problems.error(key if index is None else f"{key}[{index}]",
                       value if index is None else shown, message)
        return ()
    return tuple(line.strip() for line in lines)
