"""The facts' parsers, table-driven as pyinfra tests its own facts: each case file under
cases/FACT/ holds what the fact's command printed (``output``, lines) and the fact that
must come of it (``fact``, as plain JSON: dataclasses as objects, tuples and sets as
lists). A new case is a new file; ``arguments`` (if any) are the fact's arguments, which
the parser does not see but the case documents.
"""

import dataclasses
import glob
import importlib
import inspect
import json
import os
import pkgutil
import types
import typing

import pytest
from pyinfra.api import FactBase

from pyinfra_keepalived import facts as facts_package
from pyinfra_keepalived.facts.host_level import KeepalivedHostLevel
from pyinfra_keepalived.facts.keepalived import IpAddresses, KeepalivedStatus
from pyinfra_keepalived.facts.live_config import KeepalivedLiveConfig
from pyinfra_keepalived.facts.probe import KeepalivedProbe
from pyinfra_keepalived.facts.ssh_host_keys import SshHostKeys

pytestmark = pytest.mark.unit

CASES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases")
FACTS = {fact.__name__: fact for fact in
         (KeepalivedProbe, KeepalivedStatus, KeepalivedHostLevel, IpAddresses, SshHostKeys,
          KeepalivedLiveConfig)}
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


def declared_type(fact):
    """What `fact` says it returns: the T of its class line's ``FactBase[T]`` (None if it
    says nothing)."""
    declared = [typing.get_args(base)[0] for base in getattr(fact, "__orig_bases__", ())
                if typing.get_origin(base) is FactBase]
    return declared[0] if declared else None


def conforms(value, declared):
    """Whether `value` is of the `declared` type, its items too (list, tuple, dict, a
    union such as ``X | None``; a class: an instance of it)."""
    origin, args = typing.get_origin(declared), typing.get_args(declared)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, option) for option in args)
    if origin is None:
        return isinstance(value, declared)
    if not isinstance(value, origin):
        return False
    if origin is dict:
        return all(conforms(key, args[0]) and conforms(item, args[1])
                   for key, item in value.items())
    if origin is list:
        return all(conforms(item, args[0]) for item in value)
    if origin is tuple:
        return len(value) == len(args) and all(map(conforms, value, args))
    return True


def test_every_fact_declares_what_it_returns():
    """Each fact of the package says at its class line what it returns (pyinfra's
    ``FactBase[T]``), as pyinfra's own facts do."""
    found = [member for info in pkgutil.iter_modules(facts_package.__path__)
             for _, member in inspect.getmembers(
                 importlib.import_module(f"{facts_package.__name__}.{info.name}"),
                 inspect.isclass)
             if issubclass(member, FactBase) and member.__module__.startswith(
                 facts_package.__name__)]
    assert set(FACTS.values()) <= set(found)
    assert [fact.__name__ for fact in found if declared_type(fact) is None] == []


def test_every_fact_has_cases():
    assert {os.path.basename(os.path.dirname(path)) for path in CASES} == set(FACTS)


@pytest.mark.parametrize("path", CASES, ids=lambda path: os.path.relpath(path, CASES_DIR))
def test_fact_parses_its_command_output(path):
    with open(path) as handle:
        case = json.load(handle)
    fact = FACTS[os.path.basename(os.path.dirname(path))]()
    parsed = fact.process(case["output"]) if case["output"] else fact.default()
    assert plain(parsed) == case["fact"]
    assert conforms(parsed, declared_type(type(fact))), declared_type(type(fact))
