"""Adopting hand-written configs: the normal form and its differences (model.conf_equiv),
a config mapped to host data (model.adopt_map) as table cases, and `python3 -m
pyinfra_keepalived adopt` round trips: adopt -> render -> equivalent. (Debian's samples,
each line they leave unmapped: tests/test_adopt_samples.py.)"""

import os
import stat
import subprocess

import pytest

from pyinfra_keepalived.deploys import offline
from pyinfra_keepalived.model import adopt_map
from pyinfra_keepalived.model.conf_equiv import differences, normalise
from pyinfra_keepalived.model.conf_parse import parse, parse_text
from pyinfra_keepalived.model.hidden import MASK

pytestmark = pytest.mark.unit

SAMPLES = "/usr/share/doc/keepalived/samples"


def normal(text):
    return normalise(parse_text(text))


# -- the normal form --

SAME = {
    "block order and keyword order": (
        "global_defs { router_id a\n smtp_server s }\nvrrp_instance V { priority 1 }\n",
        "vrrp_instance V { priority 1 }\nglobal_defs { smtp_server s\n router_id a }\n"),
    "whitespace, comments, quoting, brace placement": (
        'vrrp_script c {\n  script "/bin/c  1"  # the check\n}\n',
        "! hand-written\nvrrp_script c\n{\n\tscript /bin/c 1\n}\n"),
    "two blocks of the same name are one": (
        "global_defs { router_id a }\nglobal_defs { smtp_server s }\n",
        "global_defs { router_id a\nsmtp_server s }\n"),
    "a number's spelling": ("vrrp_instance V { advert_int 1.0\npriority 0100 }\n",
                            "vrrp_instance V { advert_int 1\npriority 100 }\n"),
    "keepalived's defaults written out": ("vrrp_instance V { interface e }\n",
                                          "vrrp_instance V { interface e\nstate BACKUP\n"
                                          "priority 100\nadvert_int 1 }\n"),
    "old spellings": ("virtual_server 10.0.0.1 80 { lb_algo rr\nlb_kind DR\n"
                      "real_server 10.0.0.2 80 { TCP_CHECK { nb_get_retry 3 } } }\n"
                      "global_defs { lvs_id a }\n",
                      "virtual_server 10.0.0.1 80 { lvs_sched rr\nlvs_method DR\n"
                      "real_server 10.0.0.2 80 { TCP_CHECK { retry 3 } } }\n"
                      "global_defs { router_id a }\n"),
    "a line written twice": ("global_defs { router_id a\nrouter_id a }\n",
                             "global_defs { router_id a }\n"),
}


@pytest.mark.parametrize("first, second", SAME.values(), ids=SAME.keys())
def test_means_the_same(first, second):
    assert differences(normal(first), normal(second)) == []


def test_old_spellings_are_reported_with_their_line():
    translations = []
    normalise(parse_text("global_defs {\n  lvs_id a\n}\n", path="k.conf"), translations)
    assert translations == [("k.conf:2", "lvs_id", "router_id")]


def test_differences_block_by_block_with_secrets_masked():
    first = ("vrrp_instance V { priority 150\n authentication { auth_pass one }\n"
             " virtual_ipaddress { 10.0.0.1/24 } }\nvrrp_script gone { script /x }\n")
    second = ("vrrp_instance V { priority 100\n authentication { auth_pass two }\n"
              " virtual_ipaddress { 10.0.0.1/24 } }\n")
    assert differences(normal(first), normal(second), ("a", "b")) == [
        "vrrp_instance V: only in a: priority 150",
        "vrrp_instance V: only in b: priority 100",
        f"vrrp_instance V > authentication: only in a: auth_pass {MASK}",
        f"vrrp_instance V > authentication: only in b: auth_pass {MASK}",
        "(top level): only in a: vrrp_script gone { ... 4 lines }",
    ]


def test_ignored_lines_and_the_blocks_they_empty_are_left_out():
    first = "vrrp_instance V { priority 1 }\n"
    second = ("vrrp_instance V { priority 1\n track_file { drain } }\n"
              "track_file drain { file /run/d }\n")

    def drain(path, text):
        return "drain" in text

    assert differences(normal(first), normal(second), ignore=drain) == []
    assert differences(normal(first), normal(second)) != []


# -- one host's config as data --

INSTANCE = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n%s}\n"
MAPPED = {
    "an instance, keepalived's defaults written out": (
        INSTANCE % " virtual_ipaddress { 10.0.0.1/24 dev eth0 }\n",
        {"keepalived_vrrp_instances": [{
            "name": "VI_1", "state": "BACKUP", "priority": 100, "interface": "eth0",
            "virtual_router_id": 51, "virtual_ipaddresses": ["10.0.0.1/24 dev eth0"]}]}),
    "typed keywords, flags and numbers": (
        INSTANCE % " state MASTER\n priority 150\n advert_int 0.5\n version 3\n nopreempt\n"
                   " preempt_delay 10\n garp_master_refresh 60\n",
        {"keepalived_vrrp_instances": [{
            "name": "VI_1", "state": "MASTER", "priority": 150, "interface": "eth0",
            "virtual_router_id": 51, "advert_int": 0.5, "version": 3, "nopreempt": True,
            "preempt_delay": 10, "garp_master_refresh": 60}]}),
    "authentication and unicast": (
        INSTANCE % " authentication {\n auth_type PASS\n auth_pass 1234\n }\n"
                   " unicast_src_ip 10.0.0.1\n unicast_peer {\n 10.0.0.2\n 10.0.0.3\n }\n",
        {"keepalived_vrrp_instances": [{
            "name": "VI_1", "state": "BACKUP", "priority": 100, "interface": "eth0",
            "virtual_router_id": 51, "auth_type": "PASS", "auth_pass": "1234",
            "unicast_src_ip": "10.0.0.1", "unicast_peers": ["10.0.0.2", "10.0.0.3"]}]}),
    "global_defs, script_user and a sync group": (
        "global_defs {\n router_id lb1\n notification_email {\n a@b\n }\n vrrp_strict\n"
        " vrrp_garp_interval 0.001\n script_user ka\n}\n"
        "vrrp_sync_group G {\n group {\n VI_1\n VI_2\n }\n}\n",
        {"keepalived_global_defs": {"router_id": "lb1", "notification_email": ["a@b"],
                                    "vrrp_strict": True, "vrrp_garp_interval": 0.001},
         "keepalived_check_script_user": "ka",
         "keepalived_sync_groups": {"G": {"instances": ["VI_1", "VI_2"]}}}),
}


MAPPED.update({
    "scripts given as commands": (
        'vrrp_script chk {\n script "killall -0 haproxy"\n interval 2\n weight -20\n'
        ' init_fail\n}\n' + INSTANCE % " track_script {\n chk\n }\n"
                                         " notify_master /usr/local/bin/vrrp.mast arg1 arg2\n"
                                         " notify \"/bin/logger keepalived\"\n",
        {"keepalived_check_scripts": [{
            "name": "chk", "check_script": "killall -0 haproxy", "vrrp_name": "chk",
            "interval": 2, "fall": 1, "rise": 1, "weight": -20, "init_fail": True}],
         "keepalived_vrrp_instances": [{
             "name": "VI_1", "state": "BACKUP", "priority": 100, "interface": "eth0",
             "virtual_router_id": 51, "track_scripts": ["chk"],
             "notify_master": "/usr/local/bin/vrrp.mast arg1 arg2",
             "notify": "/bin/logger keepalived"}]}),
    "an LVS virtual server, old spellings, a group, sync daemon and timeouts": (
        "global_defs {\n lvs_sync_daemon eth1 VI_1 id 5\n lvs_timeouts tcp 900 udp 30\n}\n"
        "virtual_server_group G {\n 10.0.0.1-3 80\n fwmark 7\n}\n"
        "virtual_server group G {\n lb_algo wlc\n lb_kind NAT\n alpha\n"
        " sorry_server 10.0.1.9 80\n real_server 10.0.1.1 8080 {\n weight 2\n"
        "  HTTP_GET {\n   url {\n    path /health\n    status_code 200\n   }\n"
        "   nb_get_retry 3\n  }\n  MISC_CHECK {\n   misc_path \"/bin/chk 10.0.1.1\"\n  }\n"
        " }\n}\n",
        {"keepalived_global_defs": {},
         "keepalived_lvs_sync_daemon": {"interface": "eth1", "instance": "VI_1", "id": 5},
         "keepalived_lvs_timeouts": {"tcp": 900, "udp": 30},
         "keepalived_virtual_server_groups": [{
             "name": "G", "vips": [{"ip": "10.0.0.1-3", "port": 80}], "fwmark": 7}],
         "keepalived_virtual_servers": [{
             "group": "G", "lvs_sched": "wlc", "lvs_method": "NAT", "alpha": True,
             "sorry_server": {"ip": "10.0.1.9", "port": 80},
             "real_servers": [{"ip": "10.0.1.1", "port": 8080, "weight": 2,
                               "http_get": [{"urls": [{"path": "/health",
                                                       "status_code": "200"}],
                                             "retry": 3}],
                               "misc_check": [{"misc_path": "/bin/chk 10.0.1.1"}]}]}]}),
    "static blocks, tracking blocks and instance keywords": (
        "static_ipaddress {\n 10.0.9.1/24 dev eth1\n}\nstatic_routes {\n 10.1.0.0/16 via "
        "10.0.9.254\n}\nstatic_rules {\n from 10.0.9.0/24 table 7 priority 100\n}\n"
        "track_file drain {\n file /run/drain\n weight -10\n}\n"
        + INSTANCE % " use_vmac\n smtp_alert\n mcast_src_ip 10.0.9.1\n track_file {\n"
                     " drain weight 2\n }\n virtual_rules {\n to 10.2.0.0/16 table 7 "
                     "priority 101\n }\n",
        {"keepalived_static_ipaddresses": ["10.0.9.1/24 dev eth1"],
         "keepalived_static_routes": ["10.1.0.0/16 via 10.0.9.254"],
         "keepalived_static_rules": ["from 10.0.9.0/24 table 7 priority 100"],
         "keepalived_track_files": {"drain": {"file": "/run/drain", "weight": -10}},
         "keepalived_vrrp_instances": [{
             "name": "VI_1", "state": "BACKUP", "priority": 100, "interface": "eth0",
             "virtual_router_id": 51, "use_vmac": True, "smtp_alert": True,
             "mcast_src_ip": "10.0.9.1", "track_files": ["drain weight 2"],
             "virtual_rules": ["to 10.2.0.0/16 table 7 priority 101"]}]}),
})


@pytest.mark.parametrize("text, data", MAPPED.values(), ids=MAPPED.keys())
def test_maps(text, data):
    mapping = adopt_map.map_config(parse_text(text))
    assert (mapping.data, mapping.unmapped) == (data, [])


UNMAPPED = {
    "a block not typed yet": ("garp_group {\n garp_interval 1\n}\n",
                              [("k.conf:1", "garp_group", "not typed yet")]),
    "a keyword not typed yet": (INSTANCE % " unicast_fault_no_peer\n",
                                [("k.conf:4", "unicast_fault_no_peer", "not typed yet")]),
    "LVS lines that do not read as the model's": (
        "global_defs {\n lvs_timeouts tcp\n lvs_sync_daemon eth0\n}\n"
        "virtual_server 10.0.0.1 80 tcp {\n delay_loop 6\n}\n"
        "virtual_server fwmark 1 {\n protocol TCP\n}\n",
        [("k.conf:2", "lvs_timeouts tcp", "must be keyword value pairs"),
         ("k.conf:3", "lvs_sync_daemon eth0", "must be INTERFACE INSTANCE then keyword "
                                              "value pairs"),
         ("k.conf:5", "virtual_server 10.0.0.1 80 tcp", "must be virtual_server IP PORT, "
                                                        "fwmark N or group NAME"),
         ("k.conf:9", "protocol TCP", adopt_map.FWMARK_PROTOCOL)]),
    "a keyword deliberately refused": ("net_namespace blue\n", [
        ("k.conf:1", "net_namespace blue", adopt_map.REFUSED["net_namespace"])]),
    "a per-instance weight, a script in the deploy's scripts dir, no program": (
        'vrrp_script chk {\n script "/bin/true"\n}\n'
        'vrrp_script own {\n script "/etc/keepalived/scripts/own.sh"\n}\n'
        + INSTANCE % " track_script {\n chk\n chk weight 5\n }\n"
                     " notify_master \"/bin/n 'MASTER'\"\n",
        [("k.conf:5", "script /etc/keepalived/scripts/own.sh",
          "/etc/keepalived/scripts/own.sh: " + adopt_map.SCRIPTS_DIR_PROGRAM.format(
              dir="/etc/keepalived/scripts")),
         ("k.conf:4", "vrrp_script own", "its script line is not mapped (k.conf:5)"),
         ("k.conf:12", "chk weight 5", "a per-instance weight: the model has none (set the "
                                        "check script's weight)"),
         ("k.conf:14", "notify_master /bin/n 'MASTER'", "refused by the model: argument "
          "\"'MASTER'\" must be a single word without quotes, backslashes, braces, # or ! "
          "(for more, write a script file: template or content)")]),
    "a value the model refuses, the secret masked": (
        INSTANCE % " priority 256\n authentication {\n auth_pass toolongpassword\n }\n",
        [("k.conf:4", "priority 256", "refused by the model: must be a whole number 1-255 "
                                      "(255 only for the address owner)"),
         ("k.conf:6", f"auth_pass {MASK}", "refused by the model: must be 1-8 characters "
          "without spaces, quotes, braces, # or ! (keepalived silently truncates longer "
          "passwords)")]),
    "an SSL block (its password a secret), a stray password masked": (
        "SSL {\n password toolongpassword\n}\nSSL { password toolongpassword }\n"
        "global_defs {\n password toolongpassword\n}\n",
        [("k.conf:1", "SSL", "not typed yet"), ("k.conf:4", "SSL", "not typed yet"),
         ("k.conf:6", f"password {MASK}", "not typed yet")]),
    "a block without its braces": ("vrrp_instance VI_1\n",
                                   [("k.conf:1", "vrrp_instance VI_1", "a block: needs its { }")]),
    "a flag with a value": (INSTANCE % " nopreempt yes\n",
                            [("k.conf:4", "nopreempt yes", "a flag here: takes no value")]),
}


@pytest.mark.parametrize("text, unmapped", UNMAPPED.values(), ids=UNMAPPED.keys())
def test_reports_what_it_cannot_map(text, unmapped):
    mapping = adopt_map.map_config(parse_text(text, path="k.conf"))
    assert [(item.where, item.text, item.reason) for item in mapping.unmapped] == unmapped
    assert "toolongpassword" not in repr(mapping.unmapped)


def test_hosts_of_an_instance_share_group_data_and_keep_their_own():
    def host(priority, state, me, peer, router_id):
        return {"keepalived_global_defs": {"router_id": router_id},
                "keepalived_vrrp_instances": [{
                    "name": "VI_1", "state": state, "priority": priority, "interface": "eth0",
                    "virtual_router_id": 51, "unicast_src_ip": me, "unicast_peers": [peer],
                    "virtual_ipaddresses": ["10.0.0.100/24"]}]}

    groups, hosts = adopt_map.split_data({
        "lb1": host(150, "MASTER", "10.0.0.1", "10.0.0.2", "lb1"),
        "lb2": host(100, "BACKUP", "10.0.0.2", "10.0.0.1", "lb2"),
        "other": {"keepalived_vrrp_instances": [{"name": "VI_9", "priority": 1}]}})
    assert groups == {
        "vrrp_vi_1": (["lb1", "lb2"], {"keepalived_vrrp_instances": [{
            "name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
            "unicast_peers": "inventory", "virtual_ipaddresses": ["10.0.0.100/24"]}]}),
        "vrrp_vi_9": (["other"], {})}
    assert hosts == {
        "lb1": {"keepalived_global_defs": {"router_id": "lb1"}, "keepalived_priority": 150,
                "keepalived_state": "MASTER", "keepalived_unicast_src_ip": "10.0.0.1"},
        "lb2": {"keepalived_global_defs": {"router_id": "lb2"}, "keepalived_priority": 100,
                "keepalived_state": "BACKUP", "keepalived_unicast_src_ip": "10.0.0.2"},
        "other": {"keepalived_priority": 1, "keepalived_vrrp_instances": [{"name": "VI_9"}]}}


# (Debian's samples, each line each leaves unmapped and why: tests/test_adopt_samples.py)


# -- the command: adopt, render, equivalent --

def config(host, other, state, priority):
    return f"""! hand-written on {host}
global_defs {{
   router_id {host}
   notification_email {{ ops@example.com }}
   lvs_id {host}
}}
vrrp_instance VI_1
{{
    state {state}
    interface eth0
    virtual_router_id 51
    priority {priority}
    advert_int 1.0
    authentication {{ auth_type PASS
      auth_pass "s3cret" }}
    unicast_src_ip 10.0.0.{host[-1]}
    unicast_peer {{ 10.0.0.{other[-1]} }}
    virtual_ipaddress {{ 10.0.0.100/24 dev eth0 label eth0:vip }}  # the VIP
    track_interface {{ eth1 }}
}}
"""


@pytest.fixture
def two_hosts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lb1.conf").write_text(config("lb1", "lb2", "MASTER", 150))
    (tmp_path / "lb2.conf").write_text(config("lb2", "lb1", "BACKUP", 100))
    return tmp_path


def test_adopt_two_hosts_renders_the_same(two_hosts, capsys):
    out = two_hosts / "adopted"
    assert offline.main(["adopt", "--out", str(out), "lb1.conf", "lb2.conf"]) == 0
    printed = capsys.readouterr().out
    assert "lb1: lb1.conf:5: lvs_id read as router_id" in printed
    assert "0 line(s) not mapped, 0 difference(s)" in printed
    assert "s3cret" not in printed
    assert sorted(os.listdir(out)) == ["group_data", "inventory.py"]
    assert stat.S_IMODE(os.stat(out / "group_data/vrrp_vi_1.py").st_mode) == 0o600
    # what adopt checked, by hand: render the adopted inventory, compare with the originals
    assert offline.main(["render", str(out / "inventory.py"), "--out", str(two_hosts / "t")]) == 0
    for host in ("lb1", "lb2"):
        rendered = parse("/etc/keepalived/keepalived.conf",
                         offline.conf_parse.DiskSource(two_hosts / "t" / host))
        original = parse(f"{host}.conf")
        assert differences(normalise(original), normalise(rendered),
                           ignore=offline.deploy_own) == []
    priority = [line for line in (two_hosts / "t/lb1/etc/keepalived/conf.d/"
                                  "20-vrrp_instances.conf").read_text().splitlines()
                if "priority" in line]
    assert priority == ["    priority          150"]


def test_a_change_in_one_host_is_a_difference(two_hosts, capsys):
    out = two_hosts / "adopted"
    offline.main(["adopt", "--out", str(out), "lb1.conf", "lb2.conf"])
    capsys.readouterr()
    (two_hosts / "lb1.conf").write_text(config("lb1", "lb2", "MASTER", 151))
    with offline.tempfile.TemporaryDirectory() as tree:
        offline.write_tree(tree, offline.rendered_hosts(str(out / "inventory.py")))
        mappings, trees = offline.adopted(["lb1.conf", "lb2.conf"])
        found = offline.compared(trees, tree, mappings)
    assert found == {"lb1": ["vrrp_instance VI_1: only in original: priority 151",
                             "vrrp_instance VI_1: only in rendered: priority 150"],
                     "lb2": []}


@pytest.mark.parametrize("sample", ["keepalived.conf.vrrp.sync", "keepalived.conf.vrrp.scripts"])
def test_samples_round_trip(tmp_path, monkeypatch, capsys, sample):
    """adopt -> render -> equivalent: complete (scripts given as commands stay commands)."""
    monkeypatch.chdir(tmp_path)
    assert offline.main(["adopt", "--out", "out", f"lb1={SAMPLES}/{sample}"]) == 0
    assert capsys.readouterr().out.endswith(
        "0 line(s) not mapped, 0 difference(s) between the configs and their render\n")
    assert not (tmp_path / "out" / offline.INCOMPLETE_FILE).exists()
    assert "Every line was mapped" in (tmp_path / "out/inventory.py").read_text()


def test_a_difference_marks_the_adoption_incomplete(tmp_path, monkeypatch, capsys):
    """The track_interface sample's virtual route is rendered with the instance's
    interface as its dev: a difference, shown; exit 1."""
    monkeypatch.chdir(tmp_path)
    code = offline.main(["adopt", "--out", "out",
                         f"lb1={SAMPLES}/keepalived.conf.track_interface"])
    printed = capsys.readouterr().out
    assert code == 1
    assert printed.splitlines()[-3:] == [
        "lb1: differs: vrrp_instance VI_1 > virtual_routes: only in original: "
        "192.168.112.0/24 via 192.168.100.254",
        "lb1: differs: vrrp_instance VI_1 > virtual_routes: only in rendered: "
        "192.168.112.0/24 via 192.168.100.254 dev eth0.1",
        "adopted 1 host(s) into out: 0 line(s) not mapped, 2 difference(s) between the "
        "configs and their render"]
    incomplete = (tmp_path / "out" / offline.INCOMPLETE_FILE).read_text().splitlines()
    assert incomplete == printed.splitlines()[-3:-1]
    assert "INCOMPLETE: 2 problem(s)" in (tmp_path / "out/inventory.py").read_text()


@pytest.mark.parametrize("files, message", [
    (["k.conf=missing.conf"], "k.conf: missing.conf: cannot read missing.conf: no such file"),
    (["bad.conf"], "bad: bad.conf:2: '}' closes no block"),
    (["a=bad.conf", "a=bad.conf"], "host a is given twice"),
    (["..=bad.conf"], "host '..': its name is no directory name"),
])
def test_adopt_refuses_bad_input_and_writes_nothing(tmp_path, monkeypatch, capsys, files,
                                                    message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.conf").write_text("a 1\n}\n")
    if files[0] == "a=bad.conf":
        (tmp_path / "bad.conf").write_text("global_defs { router_id a }\n")
    assert offline.main(["adopt", "--out", "out", *files]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_adopted_data_the_validation_refuses_is_shown(tmp_path, monkeypatch, capsys):
    """Two instances with one VRID on one interface: each line maps, the validation
    refuses the whole; adopt says so and exits 1."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "k.conf").write_text("".join(
        f"vrrp_instance VI_{n} {{\n interface eth0\n virtual_router_id 51\n"
        f" virtual_ipaddress {{ 10.0.0.{n}/24 }}\n}}\n" for n in (1, 2)))
    assert offline.main(["adopt", "--out", "out", "lb1=k.conf"]) == 1
    printed = capsys.readouterr()
    assert "the adopted data does not render:" in printed.err
    assert "VI_1 already uses VRID 51" in printed.err
    assert printed.out.endswith("0 line(s) not mapped, 0 difference(s) between the configs "
                                "and their render; the data does not render\n")
    incomplete = (tmp_path / "out" / offline.INCOMPLETE_FILE).read_text()
    assert "VI_1 already uses VRID 51" in incomplete
    assert "INCOMPLETE: 1 problem(s)" in (tmp_path / "out/inventory.py").read_text()


def test_a_complete_adoption_removes_an_earlier_runs_list(two_hosts, capsys):
    (two_hosts / "adopted").mkdir()
    (two_hosts / "adopted" / offline.INCOMPLETE_FILE).write_text("an earlier run's\n")
    assert offline.main(["adopt", "--out", "adopted", "lb1.conf", "lb2.conf"]) == 0
    assert not (two_hosts / "adopted" / offline.INCOMPLETE_FILE).exists()
    assert "Every line was mapped; the render means the same." in (
        two_hosts / "adopted/inventory.py").read_text()


@pytest.mark.skipif(not os.path.exists("/usr/sbin/keepalived"),
                    reason="keepalived is not installed (apt-get install keepalived)")
def test_the_adopted_render_passes_keepalived_t(tmp_path, monkeypatch, capsys):
    """keepalived -t (this machine's) accepts each host's rendered tree (its paths moved
    under the test's directory); script_user root: keepalived_script does not exist
    here, dynamic_interfaces: nor does eth0."""
    monkeypatch.chdir(tmp_path)
    for host, other, state, priority in (("lb1", "lb2", "MASTER", 150),
                                         ("lb2", "lb1", "BACKUP", 100)):
        (tmp_path / f"{host}.conf").write_text(
            config(host, other, state, priority).replace(
                "global_defs {", "global_defs {\n   script_user root\n   dynamic_interfaces"))
    assert offline.main(["adopt", "--out", "out", "lb1.conf", "lb2.conf"]) == 0
    capsys.readouterr()
    assert offline.main(["render", "out/inventory.py", "--out", "tree"]) == 0
    for host in ("lb1", "lb2"):
        root = tmp_path / "tree" / host
        for path in root.rglob("*.conf"):
            path.write_text(path.read_text().replace("/etc/keepalived", f"{root}/etc/keepalived"))
        done = subprocess.run(["/usr/sbin/keepalived", "-t", "-f",
                               f"{root}/etc/keepalived/keepalived.conf"],
                              capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stderr) == (0, "")


def test_adopt_from_copies_of_the_hosts_files(tmp_path, monkeypatch, capsys):
    """--root: each host's files under DIR/<host>/ as on the host, its absolute includes
    read there; without it, an absolute include is refused (never this machine's /etc)."""
    monkeypatch.chdir(tmp_path)
    for host, other, state, priority in (("lb1", "lb2", "MASTER", 150),
                                         ("lb2", "lb1", "BACKUP", 100)):
        etc = tmp_path / "copies" / host / "etc/keepalived"
        (etc / "conf.d").mkdir(parents=True)
        (etc / "keepalived.conf").write_text("include /etc/keepalived/conf.d/*.conf\n")
        (etc / "conf.d/vrrp.conf").write_text(config(host, other, state, priority))
    assert offline.main(["adopt", "--root", "copies", "--out", "out", "lb1",
                         "lb2=/etc/keepalived/keepalived.conf"]) == 0
    assert "0 line(s) not mapped, 0 difference(s)" in capsys.readouterr().out
    assert offline.main(["adopt", "--out", "out2",
                         "lb1=copies/lb1/etc/keepalived/keepalived.conf"]) == 2
    assert "an absolute path names the host's file" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


@pytest.mark.parametrize("end", ["{% endraw %}", "{%- endraw %}", "{%+ endraw %}",
                                 "{%+\nendraw -%}"])
def test_a_check_script_that_would_end_its_raw_block_is_not_a_template(end):
    """A host's script becomes a template of ./templates/ inside {% raw %}: a text that
    ends the raw block itself (any of Jinja's spellings: - and + modifiers) would have its
    rest run as Jinja on this machine when the deploy renders it; it is left unmapped."""
    text = f"#!/bin/sh\n# {end}{{{{ 7 * 7 }}}}\nexit 0\n"
    config = 'vrrp_script chk {\n  script "/etc/keepalived/check.sh"\n}\n'
    mapping = adopt_map.map_config(parse_text(config),
                                   scripts={"/etc/keepalived/check.sh": text})
    assert mapping.templates == {}
    assert [item.reason for item in mapping.unmapped][:1] == [
        "/etc/keepalived/check.sh holds Jinja's endraw: it cannot be a template"]


def test_a_check_script_with_jinja_syntax_renders_as_written():
    """The raw block keeps a script's own {{ }} and {% %} as they are (the deploy's own
    Jinja environment renders it back to the host's text)."""
    import jinja2

    text = "#!/bin/sh\n# {{ x }} {% if %} {#\nexit 0\n"
    config = 'vrrp_script chk {\n  script "/etc/keepalived/check.sh"\n}\n'
    mapping = adopt_map.map_config(parse_text(config),
                                   scripts={"/etc/keepalived/check.sh": text})
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    assert env.from_string(mapping.templates["check.sh"]).render() == text
