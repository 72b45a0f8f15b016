"""The facts' parsers, table-driven as pyinfra tests its own facts: each case file under
cases/FACT/ holds what the fact's command printed (``output``, lines) and the fact that
must come of it (``fact``, as plain JSON: dataclasses as objects, tuples and sets as
lists). A new case is a new file; ``arguments`` (if any) are the fact's arguments, which
the parser does not see but the case documents.
"""

import dataclasses
import glob
import json
import os

import pytest

from pyinfra_keepalived.facts.host_level import KeepalivedHostLevel
from pyinfra_keepalived.facts.keepalived import IpAddresses, KeepalivedStatus
from pyinfra_keepalived.facts.probe import KeepalivedProbe
from pyinfra_keepalived.facts.ssh_host_keys import SshHostKeys

pytestmark = pytest.mark.unit

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
FACTS = {fact.__name__: fact for fact in
         (KeepalivedProbe, KeepalivedStatus, KeepalivedHostLevel, IpAddresses, SshHostKeys)}
CASES = sorted(glob.glob(os.path.join(CASES_DIR, "*", "*.json")))


def plain(value):
    """`value` as JSON has it: dataclasses as objects, tuples and sets as lists (sets
    sorted), dict keys as they are."""
    if dataclasses.is_dataclass(value):
        return {field.name: plain(getattr(value, field.name))
                for field in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def test_every_fact_has_cases():
    assert {os.path.basename(os.path.dirname(path)) for path in CASES} == set(FACTS)


@pytest.mark.parametrize("path", CASES, ids=lambda path: os.path.relpath(path, CASES_DIR))
def test_fact_parses_its_command_output(path):
    with open(path) as handle:
        case = json.load(handle)
    fact = FACTS[os.path.basename(os.path.dirname(path))]()
    parsed = fact.process(case["output"]) if case["output"] else fact.default()
    assert plain(parsed) == case["fact"]
