"""Errors and warnings about host data, each naming the host, the key path and the value."""

import difflib
from dataclasses import dataclass

from pyinfra.api.exceptions import PyinfraError


@dataclass(frozen=True)
class Problem:
    host: str
    key: str  # e.g. keepalived_vrrp_instances[0].priority
    value: object
    message: str  # what is wrong and what is allowed, or how to fix it

    def __str__(self):
        return f"{self.host}: {self.key} = {self.value!r}: {self.message}"


class KeepalivedDataError(PyinfraError):
    """Raised before any operation runs when host data is invalid."""

    def __init__(self, errors):
        self.errors = list(errors)
        lines = "\n".join(f"  - {error}" for error in self.errors)
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

    def unknown_keys(self, where, given, allowed):
        """Report each key of `given` not in `allowed`, with a "did you mean"."""
        for key in given:
            if key in allowed:
                continue
            self.error(f"{where}.{key}" if where else key, given[key],
                       f"unknown key{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}")


def did_you_mean(word, choices):
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
