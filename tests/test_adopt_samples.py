"""Proof over Debian's sample configs (/usr/share/doc/keepalived/samples, 25 of them):
each imports (`adopt`), every line it leaves unmapped is listed here with its reason
(docs/migrating.md repeats them), the adopted data renders, its render passes this
machine's real `keepalived -t` through the deploy's gate (tests/gate.py, as
test_conf_gate.py), and it means the same as the sample (`conf_equiv`, the lines not
mapped left out). The sample that is no config (a .gz script) is a clear refusal."""

import glob
import os
import re
import shutil
import subprocess

import pytest

from pyinfra_keepalived.deploys import offline
from pyinfra_keepalived.model import adopt_map
from pyinfra_keepalived.model.commands import program_uses
from pyinfra_keepalived.model.conf_parse import parse
from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.render import config as render

from .gate import NEEDS_KEEPALIVED, PORTABLE, run_transaction, write_tree

pytestmark = pytest.mark.unit

SAMPLES = "/usr/share/doc/keepalived/samples"

# the reasons (docs/migrating.md's table says them for each sample)
NOT_A_PROGRAM = ("refused by the model: the program '</dev/tcp/127.0.0.1/{port}' must be an "
                 "absolute path or a name of letters, digits and _ . + - (not starting with "
                 ". + or -)")
SCRIPT_NOT_MAPPED = "its script line is not mapped (" + SAMPLES + "/{sample}:{line})"
TRACKS = "tracks vrrp_script {name}, which is not mapped"
WEIGHT = "a per-instance weight: the model has none (set the check script's weight)"
SRC_FIRST = ("refused by the model: must be a network (192.168.2.0/24, 2001:db8:2::/64, with "
             "no host bits set) or default")
UNKNOWN_ROUTE_KEY = ("refused by the model: unknown option; allowed: to, via, dev, src, metric, "
                     "table, scope")
NO_PRIORITY = "refused by the model: required: rule priority, ip rule's preference"
BAD_RULE_ADDRESS = ("refused by the model: must be an address, a network (e.g. "
                    "192.168.2.0/24) or all")
IN_SCRIPTS_DIR = ("/etc/keepalived/scripts/check_high_VI_0.sh: "
                  + adopt_map.SCRIPTS_DIR_PROGRAM.format(dir="/etc/keepalived/scripts"))
# a virtual route without dev: rendered with the instance's interface
ROUTE_DEV = ("lb1: differs: vrrp_instance VI_1 > virtual_routes: only in original: "
             "192.168.112.0/24 via 192.168.100.254",
             "lb1: differs: vrrp_instance VI_1 > virtual_routes: only in rendered: "
             "192.168.112.0/24 via 192.168.100.254 dev {dev}")

# {sample: {line: reason}}: every line each sample leaves unmapped
UNMAPPED = {
    "keepalived.conf.HTTP_GET.port": {},
    "keepalived.conf.IPv6": {8: "refused by the model: must be an IPv4 or IPv6 address, or an "
                                "IPv4 range of its last byte (e.g. 192.168.1.100-120)"},
    "keepalived.conf.PING_CHECK": {},
    "keepalived.conf.SMTP_CHECK": dict.fromkeys((64, 68, 72, 95, 101, 107),
                                                adopt_map.REFUSED["host"]),
    "keepalived.conf.SSL_GET": {},
    "keepalived.conf.UDP_CHECK": {},
    "keepalived.conf.conditional_conf": {
        3: adopt_map.REFUSED["net_namespace"], 7: IN_SCRIPTS_DIR,
        6: SCRIPT_NOT_MAPPED.format(sample="keepalived.conf.conditional_conf", line=7),
        25: TRACKS.format(name="check_VI_0")},
    "keepalived.conf.fwmark": {12: adopt_map.FWMARK_PROTOCOL},
    "keepalived.conf.inhibit": {},
    "keepalived.conf.misc_check": {},
    "keepalived.conf.misc_check_arg": {},
    "keepalived.conf.quorum": {},
    "keepalived.conf.sample": {},
    "keepalived.conf.status_code": {26: "refused by the model: must be an HTTP status code "
                                        "100-599, or a range of them, e.g. 200-299"},
    "keepalived.conf.track_interface": {},
    "keepalived.conf.virtual_server_group": {19: "a second fwmark: the model's group has one"},
    "keepalived.conf.virtualhost": {},
    "keepalived.conf.vrrp": {32: "192.168.200.18 is listed already: keepalived adds it once "
                                 "(the config lists it twice)"},
    "keepalived.conf.vrrp.localcheck": {
        **{line: NOT_A_PROGRAM.format(port=port)
           for line, port in ((25, 80), (31, 443), (37, 25))},
        **{line: SCRIPT_NOT_MAPPED.format(sample="keepalived.conf.vrrp.localcheck",
                                          line=line + 1) for line in (24, 30, 36)},
        57: WEIGHT, 78: WEIGHT,
        **{line: TRACKS.format(name=name) for line, name in (
            (58, "chk_http_port"), (59, "chk_https_port"), (60, "chk_smtp_port"),
            (79, "chk_http_port"), (80, "chk_https_port"), (81, "chk_smtp_port"))}},
    "keepalived.conf.vrrp.lvs_syncd": {
        4: adopt_map.OUTSIDE_GROUP, 5: adopt_map.OUTSIDE_GROUP, 3: adopt_map.NO_MEMBERS,
        11: adopt_map.REFUSED["lvs_sync_daemon_interface"]},
    "keepalived.conf.vrrp.routes": {
        8: SRC_FIRST, 26: SRC_FIRST, 30: UNKNOWN_ROUTE_KEY, 32: UNKNOWN_ROUTE_KEY,
        31: "refused by the model: must be TO followed by keyword value pairs (via, dev, "
            "src, metric, table, scope), or a mapping of to, via, dev, src, metric, table, "
            "scope"},
    "keepalived.conf.vrrp.rules": {10: NO_PRIORITY, 11: BAD_RULE_ADDRESS, 25: NO_PRIORITY,
                                   26: BAD_RULE_ADDRESS},
    "keepalived.conf.vrrp.scripts": {},
    "keepalived.conf.vrrp.static_ipaddress": {22: SRC_FIRST},
    "keepalived.conf.vrrp.sync": {},
}
# what keepalived -t says of the sample itself, and so of its render (2.2.7: exit 5)
KEEPALIVED_SAYS = {
    "keepalived.conf.SSL_GET": "(VI_1) Initial state master is incompatible with AH "
                               "authentication - clearing",
}
# the host a sample is adopted as: its @high lines are that host's
HOST = {"keepalived.conf.conditional_conf": "high"}
DIFFERENCES = {
    "keepalived.conf.track_interface": [line.format(dev="eth0.1") for line in ROUTE_DEV],
    "keepalived.conf.vrrp.routes": [line.format(dev="eth0") for line in ROUTE_DEV],
    "keepalived.conf.vrrp.static_ipaddress": [line.format(dev="eth0") for line in ROUTE_DEV],
}


def test_every_sample_is_listed():
    assert sorted(UNMAPPED) == sorted(
        map(os.path.basename, glob.glob(f"{SAMPLES}/keepalived.conf.*")))


def portable(data, base):
    """The adopted data as this machine's keepalived -t takes it: under `base`, scripts
    as nobody, interfaces that need not exist."""
    return {**data, **PORTABLE, "keepalived_base_dir": str(base),
            "keepalived_global_defs": {**data.get("keepalived_global_defs", {}),
                                       **PORTABLE["keepalived_global_defs"]}}


@pytest.mark.parametrize("sample", list(UNMAPPED))
def test_unmapped_lines_of_each_sample(sample):
    mapping = adopt_map.map_config(parse(f"{SAMPLES}/{sample}",
                                         config_id=HOST.get(sample, "lb1")))
    assert all(item.where.startswith(f"{SAMPLES}/{sample}:") for item in mapping.unmapped)
    assert {int(item.where.rsplit(":", 1)[1]): item.reason
            for item in mapping.unmapped} == UNMAPPED[sample]


@NEEDS_KEEPALIVED
@pytest.mark.parametrize("sample", list(UNMAPPED))
def test_sample_adopts_renders_passes_keepalived_t_and_means_the_same(
        sample, tmp_path, monkeypatch, capsys, trees):
    """(what it leaves unmapped: the test above)"""
    monkeypatch.chdir(tmp_path)
    host = HOST.get(sample, "lb1")
    mappings, config_trees = offline.adopted([f"{host}={SAMPLES}/{sample}"])
    lines = offline.adopt_into("out", mappings, config_trees)
    assert len(mappings[host].unmapped) == len(UNMAPPED[sample])
    # rendered (no "the adopted data does not render"), and the same as the sample
    assert [line for line in lines if not line.startswith(f"{host}: /")] == \
        DIFFERENCES.get(sample, [])
    base, stage = trees
    (name, data), = offline.load_inventory("out/inventory.py")
    settings = check_hosts([(name, portable(data, base))], warn=lambda message: None)[name]
    # bare program names as the host's probe resolves them (facts.programs)
    programs = {use.command.program: shutil.which(use.command.program)
                for use in program_uses(settings) if use.command.bare}
    write_tree(stage, {os.path.relpath(path, base): file
                       for path, file in render.config_files(settings, programs).items()})
    result = run_transaction(stage, base)
    if sample in KEEPALIVED_SAYS:
        assert KEEPALIVED_SAYS[sample] in result.stderr
        assert KEEPALIVED_SAYS[sample] in subprocess.run(
            ["keepalived", "-t", "-f", f"{SAMPLES}/{sample}"], capture_output=True,
            text=True, timeout=60).stderr
    else:
        assert result.returncode == 0, result.stderr


def test_the_sample_that_is_no_config_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert offline.main(["adopt", "--out", "out",
                         f"lb1={SAMPLES}/sample_notify_fifo.sh.gz"]) == 2
    error = capsys.readouterr().err
    assert re.search(r"sample_notify_fifo\.sh\.gz.*binary", error), error
    assert "Traceback" not in error
    assert not (tmp_path / "out").exists()
