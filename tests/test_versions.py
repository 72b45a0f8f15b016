"""pyinfra_keepalived.model.versions: the keywords older keepalived versions do not know, the
warning for a pinned package that does not know one, and the tests' per-version cases
(tests/gate_cases.for_version; the real keepalived of each release checks them in
tests/e2e/test_releases.py)."""

import pytest

from pyinfra_keepalived.model.versions import (
    FIRST_VERSION,
    keyword,
    places,
    unknown_to,
    version_tuple,
)

from .gate_cases import ACCEPTED, for_version
from .hostdata import check

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("text, expected", [
    ("2.1.5", (2, 1, 5)), ("v2.3.3", (2, 3, 3)), ("1:2.1.5-0.2+deb11u1", (2, 1, 5)),
    ("1:2.2.7-1+b2", (2, 2, 7)), ("2.2.8", (2, 2, 8)), ("2.2", (2, 2)), (2.2, (2, 2)),
    ("2.3.1~rc1", (2, 3, 1)), ("Keepalived", None), ("", None)])
def test_version_tuple(text, expected):
    assert version_tuple(text) == expected


VMAC_ADDR = "keepalived_vrrp_instances[].use_vmac_addr"
PAYLOAD = "keepalived_virtual_servers[].real_servers[].udp_checks[].payload"
UDP = {"keepalived_virtual_servers": [
    {"real_servers": [{"udp_checks": [{"connect_port": 53}]}]},
    {"real_servers": [{}, {"udp_checks": [{"payload": "0a"}, {"payload": "0b"}]}]}]}


@pytest.mark.parametrize("data, path, expected", [
    ({"keepalived_vrrp_instances": [{"name": "VI_1"}, {"use_vmac_addr": True}]}, VMAC_ADDR,
     ["keepalived_vrrp_instances[1]"]),
    ({"keepalived_vrrp_instances": "not a list"}, VMAC_ADDR, []),
    ({"keepalived_vrrp_instances": ["VI_1", {"use_vmac_addr": True}]}, VMAC_ADDR,
     ["keepalived_vrrp_instances[1]"]),
    ({}, VMAC_ADDR, []),
    (UDP, PAYLOAD, ["keepalived_virtual_servers[1].real_servers[1].udp_checks[0]",
                    "keepalived_virtual_servers[1].real_servers[1].udp_checks[1]"]),
])
def test_places(data, path, expected):
    assert [where for where, _ in places(data, path)] == expected


@pytest.mark.parametrize("version, expected", [
    ((2, 1, 5), [("keepalived_virtual_servers[1].real_servers[1].udp_checks[0].payload", "0a",
                  "2.2.0"),
                 ("keepalived_virtual_servers[1].real_servers[1].udp_checks[1].payload", "0b",
                  "2.2.0")]),
    ((2, 2, 0), []), ((2, 3, 3), [])])
def test_unknown_to(version, expected):
    assert unknown_to(version, UDP) == expected


@pytest.mark.parametrize("pinned, warned", [
    ("1:2.1.5-0.2+deb11u1", True), ("2.1.5", True), ("1:2.2.7-1+b2", False), (None, False)])
def test_a_pinned_version_that_does_not_know_a_keyword_is_warned_for(pinned, warned):
    hosts = [(name, {**data, **({"keepalived_package_version": pinned} if pinned else {})})
             for name, data in ACCEPTED["use_vmac"]]
    _, warnings = check(*hosts)
    expected = ('keepalived_vrrp_instances[0].use_vmac_addr = True: keepalived 2.1.5 '
                f'(keepalived_package_version {pinned}) does not know it (keepalived 2.2.0 and '
                'later): it logs "Unknown keyword" and runs without it; remove it or pin '
                'keepalived 2.2.0 or later')
    assert [warning for warning in warnings if "use_vmac_addr" in warning] == (
        [f"keepalived data warning: host-01 and host-02: {expected}"] if warned else [])


def test_for_version_takes_out_what_the_version_does_not_know():
    hosts = ACCEPTED["lvs-udp-check-2.2"]
    older, taken = for_version(hosts, (2, 1, 5))
    check = "keepalived_virtual_servers[0].real_servers[0].udp_checks[0]"
    assert taken == {f"{check}.{name}": "2.2.0"
                     for name in ("payload", "min_reply_length", "max_reply_length")}
    for (_, before), (_, after) in zip(hosts, older):
        udp = after["keepalived_virtual_servers"][0]["real_servers"][0]["udp_checks"][0]
        assert udp == {"require_reply": "0a"}
        assert "payload" in before["keepalived_virtual_servers"][0]["real_servers"][0][
            "udp_checks"][0], "the cases themselves are not changed"
    assert for_version(hosts, (2, 2, 7)) == (hosts, {})


def test_every_keyword_of_the_table_is_given_by_a_case_every_version_checks():
    """Each keyword of FIRST_VERSION is in an ACCEPTED case: the releases at or after its
    first version accept it, those before name it unknown (tests/e2e/test_releases.py)."""
    for path in FIRST_VERSION:
        assert any(places(data, path) for hosts in ACCEPTED.values() for _, data in hosts), \
            f"no case of tests/gate_cases.py gives {keyword(path)} ({path})"
