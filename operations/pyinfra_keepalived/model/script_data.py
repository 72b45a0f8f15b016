"""What check and notify script templates receive: read without surprises.

Used by `validate` for `keepalived_check_scripts[]` and `keepalived_notify_scripts[]`. A
script goes to every host, mode 755, and keepalived runs it every few seconds, so:

- its `template` is a file name from the template folders only (no path: an absolute
  path or `..` would copy any file of the control machine into every host's scripts);
- the values a template receives are data of known shapes: `vars` keys are identifiers
  that do not shadow the script's own keys, values are one line of printable text, a
  finite number, a boolean, or a list of those; a systemd unit name is a unit name.

Rendering them (and reporting a template's own errors, by host and key, before any host
is touched) is `render.script_data`'s.

The shipped templates quote every value that reaches the shell (`| quote`) and put no
value into a comment; operator templates get the values as data and must quote them too.
"""

import math
import os
import re
from collections.abc import Mapping

from ..shipped import TEMPLATES_DIR
from .readers import is_number

SHIPPED_SCRIPT_TEMPLATES = sorted(os.listdir(os.path.join(TEMPLATES_DIR, "scripts")))
CHECK_SCRIPT_TEMPLATES = [name for name in SHIPPED_SCRIPT_TEMPLATES if name.startswith("check_")]
NOTIFY_SCRIPT_TEMPLATES = [name for name in SHIPPED_SCRIPT_TEMPLATES
                           if name.startswith("notify_")]

TEMPLATE_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")
TEMPLATE_ALLOWED = ("a template file name (letters, digits and _ . -, no path) from "
                    "./templates/ or the shipped templates/scripts/ ({shipped}): a path "
                    "could copy any file of this machine into a script on every host")
VAR_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# systemd.unit(5): letters, digits and :-_.\ (and @ for templates), at most 255 characters,
# with a unit type suffix or none (systemctl then means .service). No leading dash: systemctl
# would read it as an option.
UNIT_SUFFIXES = ("service", "socket", "target", "device", "mount", "automount", "swap",
                 "path", "timer", "slice", "scope")
UNIT_RE = re.compile(r"[A-Za-z0-9:_\\][A-Za-z0-9:_.@\\-]{0,254}")
UNIT_ALLOWED = ("a systemd unit name: letters, digits and : _ . @ - \\ (not starting with "
                "- or .), with a suffix (" + ", ".join(f".{s}" for s in UNIT_SUFFIXES)
                + ") or none (with a dot in the name, write the suffix), e.g. ssh.service")
# What a template sees besides its vars: these names cannot be vars.
ALIASES = ("item", "script")


def is_unit_name(value):
    """Whether `value` is a systemd unit name (`service_name` of a check script)."""
    if isinstance(value, str) and UNIT_RE.fullmatch(value):
        stem, dot, suffix = value.rpartition(".")
        return not dot or bool(stem and suffix in UNIT_SUFFIXES)
    return False


def _scalar(value):
    if isinstance(value, str):
        return value.isprintable()
    if isinstance(value, bool) or value is None:
        return True
    return is_number(value) and math.isfinite(value)


def template_vars_problems(key, value, reserved):
    """(key path, value, message) of each entry of a script's `vars` ({identifier: value}
    under `key`) that is wrong. `reserved`: the names the template gets from the script
    itself (its keys), which vars may not shadow."""
    for name, item in value.items():
        if not isinstance(name, str) or not VAR_NAME_RE.fullmatch(name):
            yield (f"{key}[{name!r}]", item, "the name must be an identifier (letters, digits "
                   "and _, not starting with a digit): templates see it as a variable")
        elif name in ALIASES or name in reserved:
            yield (f"{key}.{name}", item, f"{name!r} is a name the template gets from the "
                   f"script itself; reserved: {', '.join((*ALIASES, *reserved))}; use "
                   "another name")
        elif not all(_scalar(part) for part in
                     (item if isinstance(item, (list, tuple)) else [item])):
            yield (f"{key}.{name}", item, "must be one line of printable text, a finite "
                   "number, true/false, or a list of those")


def read_template_vars(problems, key, value, reserved):
    """`vars` of a script (`template_vars_problems`), or None after an error."""
    if not isinstance(value, Mapping):
        problems.error(key, value, "must be a mapping of names to values")
        return None
    wrong = list(template_vars_problems(key, value, reserved))
    for path, item, message in wrong:
        problems.error(path, item, message)
    return None if wrong else dict(value)
