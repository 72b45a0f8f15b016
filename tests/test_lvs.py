"""LVS (model.lvs, operations.lvs): the data validated (exact messages, table cases: data
in, messages out), the IPVS gate decided from the probe (ipvs_refusal), and the commands
the deploy sends for a config with LVS (the fake connector, as tests/test_commands.py):
a host whose kernel has no IPVS gets the refusal and nothing else; a host with IPVS gets
ipvsadm installed (apt and dnf)."""

import copy
import shlex

import pytest

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.model.validate import read_host
from pyinfra_keepalived.operations import lvs as lvs_ops
from pyinfra_keepalived.operations import state_files
from pyinfra_keepalived.operations import system as host_ops

from .coverage_example import COVERAGE_HOSTS
from .fakehosts import (
    APT_REFRESH,
    DNF,
    HOSTS,
    apt_install,
    deploy,
    fact_commands,
    make_state,
    op_commands,
    package,
    running_probe,
)

pytestmark = pytest.mark.unit

VS = {"ip": "192.168.1.100", "port": 80,
      "real_servers": [{"ip": "192.168.1.11", "port": 80}, {"ip": "192.168.1.12"}]}


def problems_of(servers=None, **data):
    """(errors, warnings) as text for the coverage example's host-01 with `servers` as
    its keepalived_virtual_servers (the others removed) and `data` over it."""
    host = copy.deepcopy(COVERAGE_HOSTS[0][1])
    host.update({"keepalived_virtual_servers": servers or [],
                 "keepalived_virtual_server_groups": [], "keepalived_lvs_sync_daemon": None,
                 "keepalived_lvs_timeouts": None, **data})
    host = {key: value for key, value in host.items() if value is not None}
    _, problems = read_host("host-01", host)
    # (the example's BFD sessions each warn about the firewall: tests/test_bfd.py)
    return [str(p) for p in problems.errors], [str(p) for p in problems.warnings
                                               if not p.key.startswith("keepalived_bfd")]


K = "host-01: keepalived_virtual_servers[0]"


@pytest.mark.parametrize("servers, data, expected", [
    ([{"port": 80, "real_servers": VS["real_servers"]}], {},
     [f"{K}: must name exactly one of ip (with port), fwmark or group, not none"]),
    ([{**VS, "fwmark": 5}], {},
     [f"{K} = {{'ip': '192.168.1.100', 'fwmark': 5}}: must name exactly one of ip (with "
      "port), fwmark or group, not ip and fwmark"]),
    ([{**VS, "port": None}], {},
     [f"{K}.port = None: required with ip: a virtual server by address is ip and port (or "
      "use fwmark or group)"]),
    ([{**VS, "group": "web"}], {},
     [f"{K} = {{'ip': '192.168.1.100', 'group': 'web'}}: must name exactly one of ip "
      "(with port), fwmark or group, not ip and group"]),
    ([{"group": "nosuch", "real_servers": VS["real_servers"]}], {},
     [f"{K}.group = 'nosuch': names no group of keepalived_virtual_server_groups (defined: "
      "none)"]),
    ([{**VS, "lvs_method": "DR", "real_servers": [{"ip": "192.168.1.11", "port": 8080}]}], {},
     [f"{K}.real_servers[0].port = 8080: differs from the virtual server's port (80): "
      "lvs_method DR cannot map ports (only NAT can); use the same port or lvs_method NAT"]),
    ([{**VS, "quorum": 5}], {},
     [f"{K}.quorum = 5: is more than the weights of all real servers together (2): the "
      "service would never be up; lower quorum to 2 or less"]),
    ([{"ip": "192.168.1.100", "port": 80, "sorry_server": {"ip": "192.168.1.9", "port": 80}}],
     {}, [f"{K}.real_servers = []: required: at least one real server (keepalived refuses "
          "a virtual server without one, sorry_server or not)"]),
    ([{**VS, "hysteresis": 1}], {},
     [f"{K}.hysteresis = 1: must be less than quorum (1, its default): keepalived refuses "
      "it"]),
    ([{**VS, "quorum": 2, "hysteresis": 2}], {},
     [f"{K}.hysteresis = 2: must be less than quorum (2): keepalived refuses it"]),
    ([{**VS, "lvs_sched": "wlc", "lb_algo": "rr"}], {},
     [f"{K}.lb_algo = 'rr': contradicts lvs_sched (wlc); keep only lvs_sched"]),
    ([{**VS, "lvs_sched": "fastest"}], {},
     [f"{K}.lvs_sched = 'fastest': must be one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, "
      "sed, nq, fo, ovf, mh"]),
    ([{**VS, "lvs_method": "dr"}], {},
     [f"{K}.lvs_method = 'dr': must be one of NAT, DR, TUN (did you mean 'DR'?)"]),
    ([{**VS, "real_servers": [{"ip": "2001:db8::11", "port": 80}]}], {},
     [f"{K}.real_servers[0].ip = '2001:db8::11': is IPv6 but the virtual server is IPv4: "
      "use an IPv4 address"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "port": 80, "weight": 70000}]}], {},
     [f"{K}.real_servers[0].weight = 70000: must be a whole number 0-65535"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "misc_check": [
        {"misc_path": "check.sh; reboot"}]}]}], {},
     [f"{K}.real_servers[0].misc_check[0].misc_path = 'check.sh; reboot': the program "
      "'check.sh;' must be an absolute path or a name of letters, digits and _ . + - (not "
      "starting with . + or -)"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "misc_check": [
        {"misc_path": "check.sh --fast"}]}]}], {},
     [f"{K}.real_servers[0].misc_check[0].misc_path = 'check.sh --fast': must start with "
      "an absolute path or the file name of a script of keepalived_notify_scripts "
      "(defined: page.sh, record_state.sh)"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "misc_check": [
        {"misc_path": '/bin/check "x"'}]}]}], {},
     [f"{K}.real_servers[0].misc_check[0].misc_path = '/bin/check \"x\"': argument "
      "'\"x\"' must be a single word without quotes, backslashes, braces, # or ! (for more, "
      "write a script file: template or content)"]),
    # one rule for every command the config runs (model.commands): keepalived's parser
    # reads a backslash in "quotes" as an escape; a path is normalised
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "port": 80,
                               "notify_up": "/bin/echo up\\"}]}], {},
     [f"{K}.real_servers[0].notify_up = '/bin/echo up\\\\': argument 'up\\\\' must be a "
      "single word without quotes, backslashes, braces, # or ! (for more, write a script "
      "file: template or content)"]),
    ([{**VS, "quorum_up": "/usr/../tmp/x"}], {},
     [f"{K}.quorum_up = '/usr/../tmp/x': the program '/usr/../tmp/x' must be a normalised "
      "absolute path of letters, digits and _ . + - /, or a name found on the host's PATH"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "http_get": [{"connect_timeout": 3}]}]}],
     {}, [f"{K}.real_servers[0].http_get[0].urls = []: required: at least one url ({{path, "
          "digest or status_code}), or url_path"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "http_get": [
        {"urls": [{"path": "/", "status_code": 700}]}]}]}], {},
     [f"{K}.real_servers[0].http_get[0].urls[0].status_code = 700: must be an HTTP status "
      "code 100-599, or a range of them, e.g. 200-299"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "tcp_checks": [{"conect_port": 80}]}]}],
     {}, [f"{K}.real_servers[0].tcp_checks[0].conect_port: unknown key (did you mean "
          "'connect_port'?); allowed: warmup, retry, delay_before_retry, delay_loop, "
          "connect_ip, connect_port, bindto, bind_port, bind_if, connect_timeout, fwmark, "
          "nb_get_retry"]),
    ([VS], {"keepalived_lvs_sync_daemon": {"interface": "eth0", "instance": "VI_9"}},
     ["host-01: keepalived_lvs_sync_daemon.instance = 'VI_9': names no VRRP instance of "
      "this host (defined: VI_1, VI_2, VI_6)"]),
    ([VS], {"keepalived_lvs_sync_daemon": {"interface": "eth0", "instance": "VI_1",
                                           "group": "192.168.1.9"}},
     ["host-01: keepalived_lvs_sync_daemon.group = '192.168.1.9': must be an IPv4 multicast "
      "address, e.g. 224.0.0.81 (the default)"]),
    ([VS], {"keepalived_lvs_timeouts": {}},
     ["host-01: keepalived_lvs_timeouts = {}: must set at least one of tcp, tcpfin, udp; "
      "leave the key out instead"]),
    ([VS], {"keepalived_virtual_server_groups": [
        {"name": "g", "vips": [{"ip": "192.168.1.100", "port": 80}], "vipz": []}]},
     ["host-01: keepalived_virtual_server_groups[0].vipz: unknown key (did you mean "
      "'vips'?); allowed: name, vips, fwmark, ip_family, protocol, lvs_sched, lb_algo, "
      "lvs_method, lb_kind, delay_loop, persistence_timeout, persistence_granularity, "
      "quorum, hysteresis, quorum_up, quorum_down, sorry_server, sorry_server_inhibit, "
      "alpha, omega, ha_suspend, virtualhost, inhibit_on_failure, real_servers, "
      "persistence_engine, ops, sh_port, sh_fallback, mh_port, mh_fallback"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "http_get": [{"urls": [
        {"path": "/", "regex": "x{2}", "regex_options": ["caseles"], "regex_stack": "1"}]}]}]}],
     {}, [f"{K}.real_servers[0].http_get[0].urls[0].regex = 'x{{2}}': must be a PCRE2 "
          "pattern of printable characters without double quotes, backslashes, braces, # "
          "or ! (e.g. [Oo][Kk], status: *up)",
          f"{K}.real_servers[0].http_get[0].urls[0].regex_options[0] = 'caseles': must be "
          "one of allow_empty_class, alt_bsux, auto_callout, caseless, dollar_endonly, "
          "dotall, dupnames, extended, firstline, match_unset_backref, multiline, never_ucp, "
          "never_utf, no_auto_capture, no_auto_possess, no_dotstar_anchor, "
          "no_start_optimize, ucp, ungreedy, utf, never_backslash_c, alt_circumflex, "
          "alt_verbnames, use_offset_limit",
          f"{K}.real_servers[0].http_get[0].urls[0].regex_stack = '1': must be two sizes in "
          "bytes, START MAX, e.g. \"32768 131072\""]),
    ([{**VS, "persistence_engine": "rtsp"}], {},
     [f"{K}.persistence_engine = 'rtsp': must be one of sip"]),
    ([VS, dict(VS)], {},
     ["host-01: keepalived_virtual_servers[1] = '192.168.1.100 80': duplicates "
      "keepalived_virtual_servers[0] (the same service, TCP); merge their real_servers"]),
], ids=lambda value: None)
def test_refused_with_the_key_path_and_what_is_allowed(servers, data, expected):
    assert problems_of(servers, **data)[0] == expected


@pytest.mark.parametrize("servers, expected", [
    ([{**VS, "lb_algo": "wrr", "lb_kind": "NAT"}],
     [f"{K}.lb_algo = 'wrr': is the old spelling: write lvs_sched: wrr",
      f"{K}.lb_kind = 'NAT': is the old spelling: write lvs_method: NAT"]),
    ([{**VS, "real_servers": [{"ip": "192.168.1.11", "tcp_checks": [{"nb_get_retry": 3}]}]}],
     [f"{K}.real_servers[0].tcp_checks[0].nb_get_retry = 3: is the old spelling: write "
      "retry: 3"]),
    ([{"fwmark": 7, "protocol": "UDP", "ha_suspend": True,
       "real_servers": [{"ip": "192.168.1.11"}]}],
     [f"{K}.protocol = 'UDP': keepalived ignores the protocol of a fwmark virtual server "
      "(the mark selects the packets); leave it out",
      f"{K}.ha_suspend = True: keepalived ignores ha_suspend on a fwmark virtual server (it "
      "clears it); leave it out"]),
    ([{**VS, "sh_port": True, "mh_fallback": True, "ops": True, "real_servers": [
        {"ip": "192.168.1.11", "http_get": [{"urls": [
            {"path": "/", "regex_no_match": True, "regex_options": ["caseless"]}]}]}]}],
     [f"{K}.real_servers[0].http_get[0].urls[0].regex_no_match = True: keepalived ignores "
      "it without regex; set regex or leave it out",
      f"{K}.real_servers[0].http_get[0].urls[0].regex_options = ['caseless']: keepalived "
      "ignores it without regex; set regex or leave it out",
      f"{K}.sh_port = True: sh-port is for lvs_sched sh (this one's is rr): set lvs_sched "
      "sh or leave it out",
      f"{K}.mh_fallback = True: mh-fallback is for lvs_sched mh (this one's is rr): set "
      "lvs_sched mh or leave it out",
      f"{K}.ops = True: one-packet scheduling is for UDP (this service's protocol is TCP): "
      "leave it out"]),
    ([{**VS, "sorry_server_inhibit": True}],
     [f"{K}.sorry_server_inhibit = True: keepalived ignores it without a sorry_server; set "
      "sorry_server or leave it out"]),
])
def test_probable_mistakes_are_warnings_naming_the_fix(servers, expected):
    errors, warnings = problems_of(servers)
    assert (errors, warnings) == ([], expected)


def test_ansible_role_host_vars_carry_across():
    """The Ansible role's example (numbers as text, misc_check, a group with real_servers)
    is accepted as it is, rendered with lvs_sched/lvs_method."""
    servers = [{"ip": "192.168.1.100", "port": "53", "protocol": "UDP", "lvs_method": "NAT",
                "ha_suspend": True, "real_servers": [
                    {"ip": "8.8.8.8", "port": "53", "misc_check": [
                        {"misc_path": "/usr/bin/host -W 1 github.com 8.8.8.8",
                         "misc_timeout": "2", "warmup": "3", "misc_dynamic": True}]}]}]
    groups = [{"name": "g", "vips": [{"ip": "192.168.1.100", "port": 443}], "lvs_sched": "sh",
               "real_servers": [{"ip": "192.168.1.11", "weight": 2}]}]
    host = {**copy.deepcopy(COVERAGE_HOSTS[0][1]), "keepalived_virtual_servers": servers,
            "keepalived_virtual_server_groups": groups}
    settings, problems = read_host("host-01", host)
    assert problems.errors == []
    assert [p for p in problems.warnings if not p.key.startswith("keepalived_bfd")] == []
    first, second = settings.lvs.virtual_servers
    assert (first.sched, first.method, first.port) == ("rr", "NAT", 53)
    assert first.real_servers[0].misc_check[0].run_as == "nobody"  # the script user
    assert (second.address, second.sched, second.method) == ("group g", "sh", "DR")


def test_a_notify_script_run_only_by_lvs_is_no_unused_script():
    """A script of keepalived_notify_scripts that only a MISC_CHECK runs is in use: no
    "named by no instance" warning (it is, without the LVS command)."""
    check = {"name": "check_app.sh", "content": "#!/bin/sh\nexit 0\n"}
    server = {**VS, "real_servers": [{"ip": "192.168.1.11", "port": 80, "misc_check": [
        {"misc_path": "check_app.sh --port 80"}]}]}
    base = copy.deepcopy(COVERAGE_HOSTS[0][1])
    scripts = [*base["keepalived_notify_scripts"], check]
    errors, warnings = problems_of([server], keepalived_notify_scripts=scripts)
    assert (errors, warnings) == ([], [])
    settings, _ = read_host("host-01", {**base, "keepalived_notify_scripts": scripts,
                                        "keepalived_virtual_servers": [server]})
    assert settings.lvs.virtual_servers[0].real_servers[0].misc_check[0].command == \
        "/etc/keepalived/scripts/check_app.sh --port 80"
    _, unused = problems_of([], keepalived_notify_scripts=scripts)
    assert unused == ["host-01: keepalived_notify_scripts[2].name = 'check_app.sh': is named "
                      "by no instance's notify_* key: it is installed but never runs; use it "
                      "or remove it"]


def test_no_lvs_no_file_and_no_ipvs_question():
    settings, _ = read_host(*COVERAGE_HOSTS[0][:1], {
        key: value for key, value in COVERAGE_HOSTS[0][1].items()
        if "virtual_server" not in key and "lvs" not in key})
    assert not settings.lvs.used


# -- the gate's decision (probe in, refusal out) --

@pytest.mark.parametrize("lvs_used, ipvs, refused", [
    (True, False, True),    # LVS, a kernel without IPVS: refused
    (True, True, False),    # LVS, IPVS shown
    (False, None, False),   # no LVS: not asked, nothing refused
    (False, False, False),
])
def test_ipvs_refusal(lvs_used, ipvs, refused):
    why = lvs_ops.ipvs_refusal("lb1", lvs_used, ipvs)
    assert (why is not None) == refused
    if refused:
        assert why.startswith("lb1: this host's kernel has no IPVS (after modprobe ip_vs "
                              "there is no /proc/net/ip_vs)")
        assert "Nothing was changed on this host" in why


# -- commands (fake connector) --

LVS_DATA = {"keepalived_virtual_servers": [VS]}


def ipvsadm(install, refresh=APT_REFRESH):
    apt = "apt-get" in install
    return shlex.join([
        "sh", "-c", state_files.LOCK_SCRIPT + "\n" + host_ops.PACKAGE_SCRIPT,
        "pyinfra-keepalived", host_paths.LOCK_FILE, host_paths.LOCK_HOLDER,
        str(host_paths.LOCK_WAIT_SECONDS), "install ipvsadm", "no", "", "",
        host_paths.APT_STAMP, "3600", refresh if apt else "", "", "", install])


@pytest.mark.parametrize("distro", ["debian", "rocky"])
def test_host_without_ipvs_gets_the_refusal_and_nothing_else(distro, recorder):
    state = make_state(distro, group_data=LVS_DATA,
                       probes={name: {"ipvs": ["ipvs=no", "ipvsadm=no"]} for name in HOSTS})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert len(commands) == 1, commands
        words = shlex.split(commands[0])
        assert words[:2] == ["sh", "-c"] and words[3] == "-"
        assert words[2] == state_files.REFUSE_SCRIPT
        assert words[4] == lvs_ops.ipvs_refusal(host.name, True, False)


@pytest.mark.parametrize("distro, install", [
    ("debian", package(apt_install("keepalived ipvsadm"), user=True)),
    ("rocky", package(f"{DNF} keepalived ipvsadm", user=True))])
def test_fresh_host_with_ipvs_gets_ipvsadm_in_the_keepalived_install(distro, install,
                                                                     recorder):
    state = make_state(distro, group_data=LVS_DATA,
                       probes={name: {"ipvs": ["ipvs=yes", "ipvsadm=no"]} for name in HOSTS})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert install in commands
        assert not any("install ipvsadm" in c or "has no IPVS" in c for c in commands)


@pytest.mark.parametrize("distro, install", [
    ("debian", apt_install("ipvsadm")), ("rocky", f"{DNF} ipvsadm")])
def test_installed_host_with_ipvs_gets_ipvsadm_alone(distro, install, recorder):
    installed = "1:2.2.7-1+b2" if distro == "debian" else "2.2.8-1.el9"
    state = make_state(distro, group_data=LVS_DATA, probes={
        name: {**running_probe(installed), "ipvs": ["ipvs=yes", "ipvsadm=no"]}
        for name in HOSTS})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert ipvsadm(install) in commands
        assert not any("'install keepalived'" in c or "has no IPVS" in c for c in commands)


def test_host_with_ipvsadm_gets_no_install(recorder):
    state = make_state("debian", group_data=LVS_DATA,
                       probes={name: {"ipvs": ["ipvs=yes", "ipvsadm=yes"]} for name in HOSTS})
    for host in deploy(state):
        assert not any("install ipvsadm" in c for c in op_commands(host, recorder))


# LVS of the operator's own: an include file's virtual_server, global_defs' extra_lines
OWN_LVS = {
    "include-file": lambda tmp_path: {"keepalived_include_files": [{"src": str(own_file(
        tmp_path, "virtual_server 192.168.1.100 80 {\n    real_server 192.168.1.11 80 {\n"
                  "    }\n}\n"))}]},
    "include-file-sync-daemon": lambda tmp_path: {"keepalived_include_files": [{"src": str(
        own_file(tmp_path, "global_defs {\n    lvs_sync_daemon eth0 VI_1\n}\n"))}]},
    "extra-lines": lambda tmp_path: {"keepalived_global_defs": {
        "extra_lines": ["lvs_timeouts tcp 900"]}},
    # where keepalived reads a keyword too: a one-line block, after a conditional prefix
    "include-file-one-line": lambda tmp_path: {"keepalived_include_files": [{"src": str(
        own_file(tmp_path, "global_defs { lvs_timeouts tcp 900 }\n"))}]},
    "include-file-conditional": lambda tmp_path: {"keepalived_include_files": [{"src": str(
        own_file(tmp_path, "@^nohost virtual_server_group G { 192.168.1.100 80 }\n"))}]},
    "include-file-without-lvs": lambda tmp_path: {"keepalived_include_files": [{"src": str(
        own_file(tmp_path, "garp_group {\n    garp_interval 1\n    interface eth0\n}\n"))}]},
}


def own_file(tmp_path, text):
    path = tmp_path / "own.conf"
    path.write_text(text)
    return path


@pytest.mark.parametrize("case, asked", [("include-file", True),
                                         ("include-file-sync-daemon", True),
                                         ("extra-lines", True),
                                         ("include-file-one-line", True),
                                         ("include-file-conditional", True),
                                         ("include-file-without-lvs", False)])
def test_lvs_of_the_operators_own_needs_ipvs_too(case, asked, tmp_path, recorder):
    """keepalived without IPVS terminates whole however the virtual server is written: the
    probe asks, and a kernel without IPVS gets the refusal and nothing else."""
    data = OWN_LVS[case](tmp_path)
    state = make_state("debian", group_data=data)
    for host in deploy(state):
        assert ("modprobe -q ip_vs" in fact_commands(host, recorder)[0]) == asked
    state = make_state("debian", group_data=data,
                       probes={name: {"ipvs": ["ipvs=no", "ipvsadm=no"]} for name in HOSTS})
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert (len(commands) == 1 and state_files.REFUSE_SCRIPT in commands[0]) == asked


@pytest.mark.parametrize("data, asked", [(LVS_DATA, True), ({}, False)])
def test_the_probe_asks_for_ipvs_only_for_a_config_with_lvs(data, asked, recorder):
    """One probe either way: with LVS it also runs facts/ipvs.sh (modprobe ip_vs)."""
    state = make_state("debian", group_data=data)
    for host in deploy(state):
        probes = fact_commands(host, recorder)
        assert len(probes) == 1
        assert ("modprobe -q ip_vs" in probes[0]) == asked
