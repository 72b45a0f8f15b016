"""The host data declared once (`model.keys`): what comes from it is current and used.

- the table of keys in docs/data-keys.md and the committed JSON Schema are what the classes
  generate;
- the schema accepts the example data and flags an unknown or mistyped key, as an editor
  with a YAML language server would;
- the keys validation accepts are the declared ones, and validation fills in their
  defaults itself (pyinfra is given none: nothing reads them from host.data).
"""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from pyinfra_keepalived.model import schema, validate
from pyinfra_keepalived.model.instance import INSTANCE_KEYS
from pyinfra_keepalived.model.keys import HostData, VrrpInstance

from .hostdata import host_01

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
REGENERATE = "regenerate with: python3 -m pyinfra_keepalived.model.schema"


def test_docs_key_table_is_current():
    text = (REPO / schema.KEYS_PAGE).read_text()
    assert schema.page_with_table(text) == text, REGENERATE


def test_committed_json_schema_is_current():
    assert (REPO / schema.SCHEMA_PATH).read_text() == schema.schema_text(), REGENERATE


def test_the_installed_package_prints_the_committed_schema(tmp_path):
    """A project using the installed package gets the same schema (`--schema`), and the
    command writes nothing in the folder it runs in."""
    printed = subprocess.run([sys.executable, "-m", "pyinfra_keepalived.model.schema",
                              "--schema"], cwd=tmp_path, capture_output=True, text=True,
                             check=True).stdout
    assert printed == (REPO / schema.SCHEMA_PATH).read_text()
    assert list(tmp_path.iterdir()) == []


def validator():
    checker = jsonschema.Draft202012Validator
    checker.check_schema(schema.json_schema())
    return checker(json.loads((REPO / schema.SCHEMA_PATH).read_text()))


def test_schema_accepts_the_example_data_as_yaml():
    data = yaml.safe_load(yaml.safe_dump({**host_01(), "ssh_hostname": "192.0.2.1"}))
    assert list(validator().iter_errors(data)) == []


@pytest.mark.parametrize("data, where", [
    ({"keepalived_priorty": 100}, "keepalived_priorty"),
    ({"keepalived_priority": 256}, "keepalived_priority"),
    ({"keepalived_state": "master"}, "keepalived_state"),
    ({"keepalived_vrrp_instances": [{"name": "VI_1", "interface": "eth0",
                                     "virtual_router_id": 51, "priority": 100,
                                     "virtual_ipaddresses": ["192.168.1.100/24"],
                                     "advert": 1}]}, "advert"),
    ({"keepalived_global_defs": {"vrrp_version": 4}}, "vrrp_version"),
    ({"keepalived_vrrp_instances": [{"name": "VI_1", "interface": "eth0 ",
                                     "virtual_router_id": 51, "priority": 100,
                                     "virtual_ipaddresses": ["192.168.1.100/24"]}]},
     "interface"),
    ({"keepalived_check_scripts": [{"name": "check.sh", "template": "../x.j2"}]}, "template"),
], ids=["unknown-key", "out-of-range", "wrong-case", "unknown-instance-key", "choice",
        "interface-name", "template-name"])
def test_schema_flags_what_the_editor_should(data, where):
    errors = list(validator().iter_errors(data))
    assert errors and any(where in str(error.message) + str(list(error.absolute_path))
                          for error in errors), errors


def test_validation_accepts_exactly_the_declared_keys():
    assert list(validate.DATA_KEYS) == HostData.keys()
    assert INSTANCE_KEYS == VrrpInstance.keys()


@pytest.mark.parametrize("data", [
    host_01(), {**host_01(), "keepalived_base_dir": "/opt/keepalived"},
    {**host_01(), "keepalived_priority": 300}], ids=["example", "base-dir", "refused"])
def test_validation_fills_in_every_default_itself(data):
    """The model's defaults given as host data change nothing: validation applies them
    itself, so pyinfra is given none (`@deploy` without data_defaults)."""
    defaults = {key: value for key, value in validate.DATA_KEYS.items() if value is not None}
    without, said = validate.read_host("host-01", data)
    given, said_given = validate.read_host("host-01", {**defaults, **data})
    assert without == given
    assert list(map(str, said.errors + said.warnings)) == \
        list(map(str, said_given.errors + said_given.warnings))
