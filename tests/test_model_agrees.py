"""Property test (issue 21): what the validation accepts is exactly what the model accepts
plus the rules between fields.

Host data starts from host-01 (valid) and has one key replaced by an arbitrary value. Then:

- whatever `read_host` accepts, `HostData.model_validate` accepts too (the model is never
  stricter than the validation);
- the validation refuses the value with the field's own message (its `Says`: "must be
  ...", or "required" for a null or "") exactly when the model refuses it; any other
  refusal is a rule between fields (preempt_delay needs BACKUP, a check script's
  vrrp_name must be tracked, ...). A block the validation builds is checked by pydantic
  too (`Block.built`): a value it accepted and the model refuses fails the test.

Derandomized and bounded, like tests/test_fuzz_validation.py.
"""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pyinfra_keepalived.model import reading
from pyinfra_keepalived.model.keys import (
    GlobalDefs,
    HostData,
    VirtualIp,
    VrrpInstance,
    VrrpScript,
)
from pyinfra_keepalived.model.validate import read_host

from .hostdata import host_01

pytestmark = [pytest.mark.unit]

INSTANCE, SCRIPT = "keepalived_vrrp_instances[0]", "keepalived_check_scripts[0]"
VIP = f"{INSTANCE}.virtual_ipaddresses[0]"
# (key path, the block and field that declare it): every key the validation reads with
# its field's type (`reading.read_block`)
FIELDS = [
    *((f"{INSTANCE}.{name}", VrrpInstance, name) for name in (
        "name", "interface", "state", "virtual_router_id", "priority", "nopreempt",
        "preempt_delay", "native_ipv6", "version", "garp_master_delay",
        "garp_master_refresh", "auth_type", "auth_pass", "advert_int", "unicast_src_ip",
        "notify_master")),
    *((f"{VIP}.{name}", VirtualIp, name) for name in ("dev", "label", "scope")),
    *((f"{SCRIPT}.{name}", VrrpScript, name) for name in (
        "name", "vrrp_name", "user", "interval", "weight", "fall", "rise", "timeout",
        "service_name", "template")),
    *((f"keepalived_global_defs.{name}", GlobalDefs, name) for name in (
        "router_id", "notification_email_from", "smtp_server", "smtp_connect_timeout",
        "enable_script_security", "vrrp_strict", "vrrp_check_unicast_src",
        "vrrp_garp_interval", "vrrp_gna_interval", "vrrp_garp_master_delay",
        "vrrp_garp_master_repeat", "max_auto_priority", "dynamic_interfaces",
        "vrrp_version")),
    *((name, HostData, name) for name in (
        "keepalived_check_script_user", "keepalived_package_version",
        "keepalived_package_proxy", "keepalived_unicast_src_ip", "keepalived_ssh_port",
        "keepalived_systemd_restart", "keepalived_systemd_restart_sec",
        "keepalived_lock_wait", "keepalived_verify", "keepalived_verify_wait",
        "keepalived_firewall", "keepalived_priority", "keepalived_state",
        "keepalived_ssh_host_keys")),
]

WORDS = st.sampled_from([
    "eth0", "eth1", "eth 1", "eth0:vip", "eth1:vip", "VI_1", "a" * 16, "", " ", "x\n",
    "root", "-rf", ".", "..", "check_ssh.sh", "192.168.1.11", "2001:DB8::11", "10.0.0.1/24",
    "1:2.2.7-1+b2", "2.2.8", "http://apt-cache:3142", "ftp://x", "auto", "MASTER",
    "BACKUP", "backup", "global", "link", "nowhere", "on", "no", "always", "per-host",
    "a{b", "a#b", "é", "on-failure"])
VALUES = st.one_of(
    WORDS, st.none(), st.booleans(),
    st.integers(min_value=-300, max_value=5000), st.sampled_from([2**31, 2**32, -(2**31)]),
    st.floats(min_value=-2, max_value=4300), st.sampled_from([0.5, 1e-7, 0.001, 1.25]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6), st.lists(WORDS, max_size=2), st.dictionaries(WORDS, WORDS, max_size=1))


def replaced(data, path, value):
    """`data` with the key at `path` (a.b[0].c) set to `value` (the VIP as a mapping)."""
    data = copy.deepcopy(data)
    vrrp = data["keepalived_vrrp_instances"][0]
    vrrp["virtual_ipaddresses"] = [{"address": "192.168.1.100/24"}]
    parts = path.replace("[0]", ".0").split(".")
    target = data
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})
    target[parts[-1]] = value
    return data


def model_accepts(data):
    try:
        HostData.model_validate(data)
    except ValidationError:
        return False
    return True


@settings(max_examples=1500, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=VALUES)
def test_the_validation_accepts_what_the_model_accepts_plus_the_rules_between_fields(
        field, value):
    path, block, name = field
    data = replaced(host_01(), path, value)
    settings_, problems = read_host("host-01", data)
    accepted = model_accepts(data)
    if settings_ is not None:
        assert accepted, f"the validation accepts {path} = {value!r}, the model does not"
    says = reading._says(reading.field_type(block, name))(value)
    at_path = [problem for problem in problems.errors if problem.key == path]
    own = [problem for problem in at_path if problem.message == says or (
        value in (None, "") and not accepted and problem.message.startswith("required"))]
    assert bool(own) == (not accepted), (
        f"{path} = {value!r}: the model {'accepts' if accepted else 'refuses'} it, the "
        f"validation says {[str(problem) for problem in problems.errors]}")


def test_the_model_refuses_what_the_validation_refuses_in_a_vip():
    """The disagreement issue 21 names: an interface with a space in a VIP's dev."""
    data = replaced(host_01(), f"{VIP}.dev", "eth 1")
    assert not model_accepts(data)
    assert read_host("host-01", data)[0] is None


def test_a_one_line_entry_is_parsed_by_the_model():
    vrrp = VrrpInstance.model_validate({
        "name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
        "virtual_ipaddresses": ["192.168.1.100/24 dev eth1 label eth1:vip"],
        "virtual_routes": ["10.0.0.0/8 via 192.168.1.1 metric 10"],
        "track_interfaces": ["eth2 weight -10"]})
    assert vrrp.virtual_ipaddresses[0] == VirtualIp(address="192.168.1.100/24", dev="eth1",
                                                    label="eth1:vip")
    assert vrrp.virtual_routes[0].metric == 10 and vrrp.track_interfaces[0].weight == -10
    with pytest.raises(ValidationError):
        VrrpInstance.model_validate({**vrrp.model_dump(), "virtual_ipaddresses": [
            "192.168.1.100/24 dev"]})
