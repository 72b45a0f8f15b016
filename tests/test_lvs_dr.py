"""LVS-DR real servers (model.lvs_dr, operations.host_level.dr_real_server): the VIPs a
host serves derived from the directors' data, the errors and warnings (exact messages),
the files rendered, and the commands sent (table cases: the host's state in, commands
out), and lvs_dr.sh as a real shell."""

import shlex
import subprocess

import pytest

from pyinfra_keepalived.facts.host_level import HostLevelState, KeepalivedHostLevel
from pyinfra_keepalived.host_paths import DR_SYSCTL_FILE, DR_UNIT, DR_UNIT_NAME
from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.model.problems import KeepalivedDataError
from pyinfra_keepalived.operations import host_level, host_level_work
from pyinfra_keepalived.operations.uploads import sha256
from pyinfra_keepalived.render import host_level as render_host

from .fakehosts import (
    GROUP_DATA,
    TEMP,
    deploy,
    fact_commands,
    file_sent,
    make_state,
    op_commands,
)

pytestmark = pytest.mark.unit

VIP = "192.168.1.100"
RS = "192.168.1.13"  # the real server's address
REAL_SERVERS = [{"ip": RS}, {"ip": "192.168.1.14"}]


def director(servers, **data):
    return {**GROUP_DATA, "keepalived_priority": 100, "keepalived_virtual_servers": servers,
            **data}


def real_server(address=RS, **data):
    return {"keepalived_lvs_real_server": address, **data}


def checked(*hosts):
    """check_hosts of `hosts` ([(name, data)]): (settings or the error lines, warnings)."""
    warnings = []
    try:
        return check_hosts(list(hosts), warnings.append), warnings
    except KeepalivedDataError as error:
        return [str(problem) for problem in error.errors], warnings


@pytest.mark.parametrize("servers, groups, expected", [
    ([{"ip": VIP, "port": 80, "real_servers": REAL_SERVERS},
      {"ip": VIP, "port": 443, "real_servers": REAL_SERVERS},
      {"ip": "2001:db8:0::10", "port": 80, "real_servers": [{"ip": "2001:db8::13"}]}],
     [], (VIP,)),  # each VIP once (the IPv6 one lists another address)
    ([{"ip": VIP, "port": 80, "lvs_method": "NAT", "real_servers": REAL_SERVERS}], [], ()),
    ([{"ip": VIP, "port": 80, "lb_kind": "TUN", "real_servers": REAL_SERVERS}], [], ()),
    ([{"fwmark": 7, "real_servers": REAL_SERVERS}], [], ()),  # a mark names no address
    ([{"group": "web", "real_servers": REAL_SERVERS}],
     [{"name": "web", "vips": [{"ip": "192.168.1.110-112", "port": 80},
                               {"ip": "192.168.1.9", "port": 80}]}],
     ("192.168.1.9", "192.168.1.110", "192.168.1.111", "192.168.1.112")),
])
def test_real_server_vips_come_from_the_directors_dr_servers(servers, groups, expected):
    settings, warnings = checked(
        ("host-01", director(servers, keepalived_virtual_server_groups=groups)),
        ("host-03", real_server()))
    assert settings["host-03"].dr_vips == expected
    assert settings["host-03"].real_server_only
    assert not settings["host-01"].real_server_only and settings["host-01"].dr_vips == ()
    assert ("keepalived data warning: host-03: keepalived_lvs_real_server = "
            "'192.168.1.13': no lvs_method DR virtual server" in " ".join(warnings)) \
        is not expected


def test_ipv6_real_server_address_is_matched_normalised():
    settings, _ = checked(
        ("host-01", director([{"ip": "2001:db8:0:0::10", "port": 80,
                               "real_servers": [{"ip": "2001:DB8::13"}]}])),
        ("host-03", real_server("2001:db8:0::13")))
    assert settings["host-03"].dr_vips == ("2001:db8::10",)


def test_no_instance_warning_is_not_given_for_a_real_server_only():
    _, warnings = checked(("host-01", director([{"ip": VIP, "port": 80,
                                                 "real_servers": REAL_SERVERS}])),
                          ("host-03", real_server()))
    assert [warning for warning in warnings if "host-03" in warning] == []


@pytest.mark.parametrize("value, expected", [
    ("192.168.1.300", "host-03: keepalived_lvs_real_server = '192.168.1.300': must be an "
                      "IPv4 or IPv6 address without prefix, e.g. 192.168.1.11 or 2001:db8::11"),
    ("192.168.1.13/24", "host-03: keepalived_lvs_real_server = '192.168.1.13/24': must be an "
                        "IPv4 or IPv6 address without prefix, e.g. 192.168.1.11 or "
                        "2001:db8::11"),
])
def test_bad_real_server_address_is_an_error(value, expected):
    errors, _ = checked(("host-03", real_server(value)))
    assert errors == [expected]


DIRECTOR_OWN_ERROR = (
    "host-01: keepalived_lvs_real_server = '192.168.1.13': makes this host a DR real server "
    "of 192.168.1.100 (host-02: keepalived_virtual_servers[0]), which this host also "
    "serves as a director (a VRRP VIP or a virtual server of its own): its IPVS would take "
    "the packets its peer director forwards to it and balance them again, and with the VIP "
    "on lo it could not tell them apart; a director may not be its own DR real server "
    "(allowed: the address of a host that holds none of these VIPs; or list the director "
    "as a real server only under lvs_method NAT)")


def test_director_may_not_be_its_own_dr_real_server():
    servers = [{"ip": VIP, "port": 80, "real_servers": REAL_SERVERS}]
    vrrp = {"keepalived_vrrp_instances": [{**GROUP_DATA["keepalived_vrrp_instances"][0],
                                           "virtual_ipaddresses": [f"{VIP}/24"]}]}
    errors, _ = checked(("host-01", director([], **vrrp, **real_server())),
                        ("host-02", director(servers, **vrrp)))
    assert errors == [DIRECTOR_OWN_ERROR]
    # a director of other VIPs may be a real server of this one
    other = {"keepalived_vrrp_instances": [{
        **GROUP_DATA["keepalived_vrrp_instances"][0], "name": "VI_2", "virtual_router_id": 52,
        "virtual_ipaddresses": ["192.168.1.200/24"]}]}
    settings, _ = checked(("host-01", director([], **other, **real_server())),
                          ("host-02", director(servers, **vrrp)))
    assert settings["host-01"].dr_vips == (VIP,) and not settings["host-01"].real_server_only


# -- rendered --

def test_dr_files():
    assert render_host.dr_sysctl_file().splitlines()[1:] == [
        "net/ipv4/conf/all/arp_ignore = 1", "net/ipv4/conf/all/arp_announce = 2",
        "net/ipv4/conf/lo/arp_ignore = 1", "net/ipv4/conf/lo/arp_announce = 2"]
    unit = render_host.dr_unit((VIP, "2001:db8::10"))
    assert [line for line in unit.splitlines() if line.startswith("ExecStart")] == [
        f"ExecStart=/sbin/ip addr replace {VIP}/32 dev lo",
        "ExecStart=/sbin/ip addr replace 2001:db8::10/128 dev lo"]
    assert "ExecStop" not in unit and "RemainAfterExit=yes" in unit
    assert render_host.dr_unit_addresses(unit.splitlines()) == [f"{VIP}/32",
                                                                "2001:db8::10/128"]


# -- the operation: the host's state in, commands out --

UNIT = render_host.dr_unit((VIP,))
SYSCTLS = render_host.dr_sysctl_file()
APPLY = (f"sh -c {shlex.quote(host_level.SYSCTL_APPLY)} sysctl-apply {DR_SYSCTL_FILE}")
START = f"sh -c {shlex.quote(host_level.LVS_DR)} lvs-dr {DR_UNIT_NAME}"
OLD_UNIT = render_host.dr_unit(("192.168.1.99",))
LO = ("127.0.0.1/8", "::1/128")
DROP_UNIT = f"systemctl disable --quiet {DR_UNIT_NAME} ; rm -f {DR_UNIT} && systemctl daemon-reload"


def state(files=(), lo=LO, unit_lines=None):
    return HostLevelState(sha256={path: sha256(content) for path, content in files},
                          lo=lo, lines={DR_UNIT: unit_lines} if unit_lines else {})


def commands(vips, host_state):
    """What dr_real_server sends, as text (an upload: its file_sent steps)."""
    out = []
    work = host_level_work.real_server_work(vips, host_state)
    for command in host_level.dr_real_server._inner(work=work) if work else ():
        if hasattr(command, "dest"):
            out.append(f"upload {command.dest}")
        else:
            out.append(command.get_raw_value())
    return out


@pytest.fixture(autouse=True)
def fake_host(monkeypatch):
    """(upload's private directory is named from pyinfra's host: a fixed one here)"""
    monkeypatch.setattr("pyinfra_keepalived.operations.uploads.private_dir",
                        lambda: TEMP)


def sent_file(path, then):
    return file_sent(path, "644", then=then)


@pytest.mark.parametrize("vips, host_state, expected", [
    # a fresh host: the sysctls first, then the unit that puts the VIP on lo
    ((VIP,), state(), "sysctls unit"),
    # in place, the VIP on lo: nothing
    ((VIP,), state([(DR_SYSCTL_FILE, SYSCTLS), (DR_UNIT, UNIT)], lo=(*LO, f"{VIP}/32")), ""),
    # in place, the VIP gone from lo (by hand): the unit started again
    ((VIP,), state([(DR_SYSCTL_FILE, SYSCTLS), (DR_UNIT, UNIT)]), "start"),
    # another VIP before: the old address off lo, then the new unit
    ((VIP,), state([(DR_SYSCTL_FILE, SYSCTLS), (DR_UNIT, OLD_UNIT)],
                   lo=(*LO, "192.168.1.99/32"), unit_lines=OLD_UNIT.splitlines()),
     "del-old unit"),
    # no longer a real server: address off, unit and file removed
    ((), state([(DR_SYSCTL_FILE, SYSCTLS), (DR_UNIT, OLD_UNIT)],
               lo=(*LO, "192.168.1.99/32"), unit_lines=OLD_UNIT.splitlines()),
     "del-old drop-unit drop-sysctls"),
    # removed before: nothing
    ((), state(), ""),
    # the unit's lines are the host's: only a valid address reaches `ip addr del`
    ((), state([(DR_UNIT, OLD_UNIT)], lo=(*LO, "192.168.1.99/32"), unit_lines=[
        "ExecStart=/sbin/ip addr replace $(reboot) dev lo",
        "ExecStart=/sbin/ip addr replace 192.168.1.99/32;id dev lo",
        "ExecStart=/sbin/ip addr replace 192.168.1.99/32 dev lo"]),
     "del-old drop-unit"),
], ids=["fresh", "in-place", "address-gone", "vip-changed", "removed", "absent", "hostile"])
def test_dr_real_server_commands(vips, host_state, expected):
    steps = {"sysctls": sent_file(DR_SYSCTL_FILE, APPLY), "unit": sent_file(DR_UNIT, START),
             "start": [START], "del-old": ["ip addr del 192.168.1.99/32 dev lo"],
             "drop-unit": [DROP_UNIT], "drop-sysctls": [f"rm -f {DR_SYSCTL_FILE}"]}
    assert commands(vips, host_state) == [line for step in expected.split()
                                          for line in steps[step]]


def test_fact_reads_lo_addresses():
    fact = KeepalivedHostLevel()
    assert "ip -br addr show dev lo" in fact.command("", [], [], [], lo=True)
    assert fact.process(["lo               UNKNOWN        127.0.0.1/8 192.168.1.100/32 "
                         "::1/128"]).lo == ("127.0.0.1/8", "192.168.1.100/32", "::1/128")


# -- lvs_dr.sh as a real shell --

@pytest.mark.parametrize("ignore, announce, code", [
    ("1", "2", 0), ("2", "2", 0), ("0", "2", 1), ("1", "0", 1), (None, None, 1)])
def test_addresses_go_on_lo_only_with_the_arp_sysctls_running(tmp_path, ignore, announce,
                                                              code):
    script = host_level.LVS_DR
    for key, value in (("arp_ignore", ignore), ("arp_announce", announce)):
        path = tmp_path / key
        if value is not None:
            path.write_text(value + "\n")
        script = script.replace(f"/proc/sys/net/ipv4/conf/all/{key}", str(path))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path}/calls\n")
    (bin_dir / "systemctl").chmod(0o755)
    result = subprocess.run(["sh", "-c", script, "lvs-dr", DR_UNIT_NAME], capture_output=True,
                            text=True, env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert result.returncode == code, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines() if code == 0 else []
    assert calls == ([] if code else ["daemon-reload", f"enable --quiet {DR_UNIT_NAME}",
                                      f"restart {DR_UNIT_NAME}"])
    assert not (tmp_path / "calls").exists() if code else True
    if code:
        assert "the virtual addresses are NOT put on lo" in result.stderr


# -- the deploy: a host that is a real server only gets that and nothing else --

def test_real_server_only_host_gets_the_dr_setup_and_no_keepalived(recorder):
    state = make_state("debian", host_data={
        "@fake/host-01": {"keepalived_virtual_servers": [
            {"ip": VIP, "port": 80, "real_servers": REAL_SERVERS}]},
        "@fake/host-02": {"keepalived_vrrp_instances": [], "keepalived_check_scripts": [],
                          "keepalived_priority": None, "keepalived_state": None,
                          **real_server()}})
    hosts = {host.name: host for host in deploy(state)}
    real = hosts["@fake/host-02"]
    assert op_commands(real, recorder) == [
        sent_file(DR_SYSCTL_FILE, APPLY)[0], sent_file(DR_SYSCTL_FILE, APPLY)[2],
        sent_file(DR_UNIT, START)[0], sent_file(DR_UNIT, START)[2]]
    assert [command for command in fact_commands(real, recorder)
            if "keepalived-host-state" in command] != []
    assert not any("keepalived" in command and "apt" in command
                   for command in fact_commands(real, recorder) + op_commands(real, recorder))


def test_a_bad_real_server_address_is_listed_after_the_instances_errors():
    """The errors are listed in the order the validation has always met them: the real
    server's address after the instances (and the rest of the host's blocks), as before
    the model's split into types and reading."""
    instance = {**GROUP_DATA["keepalived_vrrp_instances"][0], "advert_int": "often"}
    errors, _ = checked(("host-01", {**GROUP_DATA, "keepalived_vrrp_instances": [instance],
                                     **real_server("192.168.1.300")}))
    assert [error.split(" = ")[0] for error in errors] == [
        "host-01: keepalived_vrrp_instances[0].advert_int",
        "host-01: keepalived_lvs_real_server"]
