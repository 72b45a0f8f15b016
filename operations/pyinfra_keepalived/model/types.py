"""The field types of the host data: what a value may be, and what its message says when
it is not (`Says`, after "key = value: ").

A block's field is one of these (or a type built here: `whole`, `seconds`, `choice`,
`checked`, `matching`), so the rule of a value is written once, where the field is
declared; `reading.read_block` turns pydantic's refusal into that message. The blocks
(`keys`, `lvs`, `tracking_blocks`, ...) import these; this module imports no block.
"""

import ipaddress
import os
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, Strict, WrapValidator
from pydantic.json_schema import SkipJsonSchema, WithJsonSchema
from pydantic_core import PydanticCustomError

from .commands import command_problem
from .problems import did_you_mean
from .readers import (
    DNS_NAME_RE,
    FILE_NAME_ALLOWED,
    FILE_NAME_RE,
    INTERFACE_ALLOWED,
    INTERFACE_RE,
    LABEL_RE,
    NAME_RE,
    PATH_RE,
    USER_ALLOWED,
    USER_RE,
    VALUE_WORD_RE,
    WORD_ALLOWED,
    extra_lines_problem,
)


class Says:
    """A field's message after "key = value: " when its value is refused (a text, or a
    function of the value)."""

    def __init__(self, text):
        self.text = text

    def __call__(self, value):
        return self.text(value) if callable(self.text) else self.text


class Also:
    """A type's metadata for the key table: the value may also be of the types `also`."""

    def __init__(self, *also):
        self.also = also


def _number_text(value):
    return f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def whole(low, high, says=None):
    """A whole number low-high (true/false and 1.0 are refused)."""
    return Annotated[int, Strict(), Field(ge=low, le=high),
                     Says(says or f"must be a whole number {low}-{high}")]


def _whole_kept(value, handler):
    """A number validated as a float, kept as given when whole (5 stays 5: in messages
    and in keepalived.conf)."""
    result = handler(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else result


KeptWhole = WrapValidator(_whole_kept)


def seconds(low, high, decimals=6, says=None):
    """A number of seconds low-high with at most `decimals` decimals (keepalived reads 6
    at most)."""
    def decimals_at_most(value):
        if round(value, decimals) != value:
            raise PydanticCustomError("decimals", "too many decimals")
        return value

    unit = ("whole seconds" if decimals == 0 else
            f"seconds with at most {decimals} decimal{'s' if decimals > 1 else ''}")
    return Annotated[float, Strict(), Field(ge=low, le=high, allow_inf_nan=False),
                     AfterValidator(decimals_at_most), KeptWhole,
                     Says(says or f"must be a number of {unit}, "
                                  f"{_number_text(low)}-{_number_text(high)}")]


def choice(*choices):
    """One of `choices` (a wrong case or a typo: "did you mean")."""
    names = list(map(str, choices))
    return Annotated[Literal[choices], Says(
        lambda value: f"must be one of {', '.join(names)}"
                      + did_you_mean(str(value).upper(), names))]


def checked(kind, test, says, schema, strict=True):
    """A value of `kind` (`strict`: as it is, else also what pydantic converts to it) that
    `test` accepts (True, or the value normalised), else "`says`"; `schema`: its JSON
    Schema."""
    def check(value):
        result = test(value)
        if result is None or result is False:
            raise PydanticCustomError("refused", "refused")
        return value if result is True else result

    return Annotated[kind, Strict(strict), AfterValidator(check), WithJsonSchema(schema),
                     Says(says)]


def matching(regex, allowed):
    """Text that `regex` matches in full, else "must be `allowed`". The JSON Schema gets
    the same pattern, so an editor flags what validation refuses."""
    return checked(str, lambda value: bool(regex.fullmatch(value)), f"must be {allowed}",
                   {"type": "string", "pattern": f"^(?:{regex.pattern})$"})


def address_text(value):
    """The address as ipaddress writes it (2001:DB8::1 -> 2001:db8::1), or None."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


Name = matching(NAME_RE, "a name of letters, digits and _ . -")
Word = matching(VALUE_WORD_RE, WORD_ALLOWED)
Interface = matching(INTERFACE_RE, INTERFACE_ALLOWED)
Label = matching(LABEL_RE, "a label of 1-15 letters, digits and _ . @ : -")
User = matching(USER_RE, USER_ALLOWED)
FileName = matching(FILE_NAME_RE, FILE_NAME_ALLOWED)
AbsolutePath = matching(PATH_RE, "an absolute path of letters, digits and _ . - /")
# A file keepalived opens by name: written once, so that a rule about a path (not the
# deploy's drain file) sees it as keepalived does: /run//x, /run/./x and /tmp/../run/x
# are /run/x.
FilePath = checked(str, lambda path: bool(PATH_RE.fullmatch(path)) and not path.startswith("//")
                   and os.path.normpath(path) == path and path != "/",
                   "must be a normalised absolute path of a file: letters, digits and _ . - /, "
                   "no . or .. parts, no // or trailing /",
                   {"type": "string", "pattern": f"^(?:{PATH_RE.pattern})$"})
DnsName = matching(DNS_NAME_RE, "a DNS name, e.g. jump.example.com")
IpAddress = checked(str, address_text, "must be an IPv4 or IPv6 address without prefix, "
                    "e.g. 192.168.1.11 or 2001:db8::11", {"type": "string", "format": "ip-address"})
Flag = Annotated[bool, Strict(), Says("must be true or false")]
CommandLine = checked(str, lambda text: command_problem(text) is None, command_problem,
                      {"type": "string"})
Lines = Annotated[
    checked(list[str], lambda lines: not extra_lines_problem(lines),
            "must be lines of text whose braces close within them",
            {"type": "array", "items": {"type": "string"}}, strict=False),
    Field(description="raw lines, not validated (keepalived -t still checks them)")]
Text = str
Count = whole(1, 2**31 - 1)  # GARPs sent at once, bytes, ...

# A value the validator derives, not a host data key: not in `keys()`, the JSON Schema or
# the docs' key table (docs/data-keys.md).
Derived = SkipJsonSchema


class OnEntry:
    """A field's metadata: its refusal is reported at the entry that holds it, the
    entry's value shown (a VIP's address is the entry)."""


INT_RE = re.compile(r"[+-]?[0-9]{1,20}")


def whole_text(value):
    """Whole numbers given as text (a string entry's "... metric 10", the Ansible role's
    '53') as numbers; another value as it is."""
    return int(value) if isinstance(value, str) and INT_RE.fullmatch(value) else value
