"""model.reading.read_block: a block validated by pydantic once, its refusals turned into
messages (host, key path, value as shown, what is allowed). Table cases: data in,
messages out."""

import pytest

from pyinfra_keepalived.model.keys import (
    GlobalDefs,
    HostData,
    VirtualIp,
    VrrpInstance,
    VrrpScript,
)
from pyinfra_keepalived.model.problems import Problems
from pyinfra_keepalived.model.reading import read_block

pytestmark = pytest.mark.unit

INSTANCE = {"name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
            "virtual_ipaddresses": ["192.168.1.100/24"]}


def messages(block, value):
    problems = Problems("host-01")
    assert read_block(problems, "k", block, value) is None
    return [str(problem) for problem in problems.errors]


@pytest.mark.parametrize("block, value, expected", [
    (VrrpScript, {"name": "a.sh", "template": "t.j2", "interval": 0},
     ["host-01: k.interval = 0: must be a whole number of seconds 1-4294"]),
    (VrrpScript, {"name": "a.sh", "template": "t.j2", "wieght": 3},
     ["host-01: k.wieght: unknown key (did you mean 'weight'?); allowed: name, template, "
      "vrrp_name, service_name, interval, weight, fall, rise, timeout, user, vars, "
      "extra_lines, check_script, init_fail"]),
    (VrrpScript, {"name": "a.sh", "template": "t.j2", "path": "/x"},
     ["host-01: k.path: unknown key; allowed: name, template, "
      "vrrp_name, service_name, interval, weight, fall, rise, timeout, user, vars, "
      "extra_lines, check_script, init_fail"]),
    (VrrpScript, ["a.sh"],
     ["host-01: k = ['a.sh']: must be a mapping of name, template, vrrp_name, "
      "service_name, interval, weight, fall, rise, timeout, user, vars, extra_lines, "
      "check_script, init_fail"]),
    (VrrpInstance, {**INSTANCE, "virtual_ipaddresses": ["1.2.3.4/24 dev eth 1"]},
     ["host-01: k.virtual_ipaddresses[0] = '1.2.3.4/24 dev eth 1': must be ADDRESS "
      "followed by keyword value pairs (dev, label, scope, brd), or a mapping of address, "
      "dev, label, scope, brd"]),
    (VrrpInstance, {**INSTANCE, "virtual_ipaddresses": [{"address": "1.2.3.4/24",
                                                          "dev": "eth 1"}]},
     ["host-01: k.virtual_ipaddresses[0].dev = 'eth 1': must be an interface name: 1-15 "
      "letters, digits and _ . @ - (no spaces, / or :; not starting with @)"]),
    (VrrpInstance, {**INSTANCE, "virtual_ipaddresses": [{"dev": "eth1"}]},
     ["host-01: k.virtual_ipaddresses[0].address = None: required: address with prefix, e.g. "
      "192.168.1.100/24"]),
    (VrrpInstance, {**INSTANCE, "track_interfaces": ["eth1 weight 500"]},
     ["host-01: k.track_interfaces[0].weight = 500: must be a whole number -253-253"]),
    (VrrpInstance, {**INSTANCE, "unicast_peers": ["10.0.0.1", "1.2.3"]},
     ["host-01: k.unicast_peers[1] = '1.2.3': must be an IPv4 or IPv6 address without "
      "prefix, e.g. 192.168.1.11 or 2001:db8::11"]),
    (VrrpInstance, {**INSTANCE, "auth_pass": "123456789"},
     ["host-01: k.auth_pass = <hidden>: must be 1-8 characters without spaces, quotes, "
      "braces, # or ! (keepalived silently truncates longer passwords)"]),
    (VrrpInstance, {"name": "VI_1"},
     ["host-01: k.interface: required: interface VRRP runs on",
      "host-01: k.virtual_router_id: required: VRID, the same on every peer",
      "host-01: k.virtual_ipaddresses = None: required: at least one virtual IP address"]),
    (GlobalDefs, {"notification_email": "a@b"},
     ["host-01: k.notification_email = 'a@b': must be a list"]),
    (HostData, {"keepalived_sync_groups": {"g 1": {"instances": ["a", "b"]}}},
     ["host-01: k.keepalived_sync_groups['g 1'] = 'g 1': must be a group name of letters, "
      "digits and _ . -"]),
])
def test_refusals(block, value, expected):
    assert messages(block, value) == expected


def test_accepted_value_is_the_validated_block():
    problems = Problems("host-01")
    vip = read_block(problems, "k", VirtualIp, "2001:DB8::1/64 dev eth0")
    assert (vip.address, vip.dev, problems.errors) == ("2001:db8::1/64", "eth0", [])
    script = read_block(problems, "k", VrrpScript, {"name": "a.sh", "template": "t.j2"},
                        path="/etc/keepalived/scripts/a.sh")
    assert (script.path, script.interval, script.fall) == ("/etc/keepalived/scripts/a.sh", 2, 2)


def test_built_checks_a_key_no_reader_read():
    """A keyword added as one field is validated by its type, with its message, though the
    block's reader does not read it."""
    from pydantic import Field

    from pyinfra_keepalived.model.reading import Block
    from pyinfra_keepalived.model.types import whole

    class Small(Block):
        name: str = Field(description="read by hand")
        added: whole(1, 9) | None = Field(None, description="a new keyword")

    problems = Problems("host-01")
    Small.built(problems, {"name": "a", "added": 10}, where="k", name="a")
    assert [str(problem) for problem in problems.errors] == [
        "host-01: k.added = 10: must be a whole number 1-9"]
    problems = Problems("host-01")
    assert Small.built(problems, {"name": "a", "added": 3}, where="k", name="a").added == 3
    assert problems.errors == []
