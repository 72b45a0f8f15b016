"""The keepalived.conf blocks beyond the seed role: rendered files, and each block fed to the
real `keepalived -t` through the gate (pyinfra_keepalived/operations/transaction.sh), accepted; and raw
extra_lines that keepalived rejects never going live.

Regenerate the expected files after an intended template change with:
    UPDATE_EXPECTED=1 python3 -m pytest tests/test_conf_gate.py
"""

import copy
import os

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.render import config as render

from .coverage_example import COVERAGE_HOSTS
from .gate import (
    NEEDS_KEEPALIVED,
    PORTABLE,
    promote_rejected,
    run_transaction,
    write_tree,
)
from .gate_cases import ACCEPTED, seed_with
from .goldens import assert_match_expected
from .seed import SEED_HOSTS

pytestmark = [pytest.mark.unit, NEEDS_KEEPALIVED]

EXPECTED_DIR = os.path.join(os.path.dirname(__file__), "expected", "coverage")


def settings_of(hosts, base=None):
    if base is not None:
        hosts = [(name, {**data, "keepalived_base_dir": str(base)}) for name, data in hosts]
    return check_hosts(hosts, warn=lambda message: None)


def relative_files(settings, base):
    return {os.path.relpath(path, base): file
            for path, file in render.config_files(settings).items()}


# -- rendered files ----------------------------------------------------------------------

@pytest.mark.parametrize("host", ["host-01", "host-02"])
def test_coverage_example_renders_as_expected(host):
    assert_match_expected(render.config_files(settings_of(COVERAGE_HOSTS)[host]),
                          os.path.join(EXPECTED_DIR, host))
    files = relative_files(settings_of(COVERAGE_HOSTS)[host], "/etc/keepalived")
    assert {relative: file.mode for relative, file in files.items()} == {
        "keepalived.conf": "644", "conf.d/00-global_defs.conf": "644",
        "conf.d/05-track.conf": "644", "conf.d/05-bfd.conf": "644",
        "conf.d/10-vrrp_scripts.conf": "644", "conf.d/20-vrrp_instances.conf": "600",
        "scripts/check_ssh.sh": "755", "scripts/check_sync.sh": "755",
        "scripts/record_state.sh": "755", "conf.d/05-static.conf": "644",
        "scripts/page.sh": "755", "conf.d/agreement-VI_1.txt": "600",
        "conf.d/agreement-VI_2.txt": "600", "conf.d/agreement-VI_6.txt": "600",
        "conf.d/vrrp-firewall-peers.txt": "644", "conf.d/include/operator.conf": "644",
        "conf.d/30-virtual_servers.conf": "644",
    }


def test_rendered_blocks():
    files = relative_files(settings_of(COVERAGE_HOSTS)["host-01"], "/etc/keepalived")
    instances = files["conf.d/20-vrrp_instances.conf"].content
    for block in [
        "    advert_int        0.5\n    nopreempt\n"
        "    garp_master_delay   5\n    garp_master_refresh 60\n",
        "    unicast_src_ip 192.168.1.2\n    unicast_peer {\n        192.168.1.3\n    }\n",
        "        192.168.1.101/24 brd 192.168.1.255 dev eth0 label eth0:vip scope global\n",
        "    virtual_ipaddress_excluded {\n        2001:db8::100/64 dev eth0\n    }\n",
        "        10.9.0.0/16 via 192.168.1.254 dev eth0\n",
        "    track_interface {\n        eth2\n        eth1 weight 0\n    }\n",
        '    notify_master "/etc/keepalived/scripts/page.sh MASTER"\n'
        '    notify_fault  "/usr/bin/logger -t keepalived VI_1 FAULT"\n'
        '    notify        "/etc/keepalived/scripts/record_state.sh"\n',
        "    # extra_lines: raw, NOT validated by this deploy (keepalived -t still checks them)\n"
        "    old_unicast_checksum\n}\n",
        "    strict_mode false\n    debug 1\n",
        "    virtual_rules {\n        from 192.168.1.100 priority 101 table 100\n",
        "    notify_master_rx_lower_pri \"/etc/keepalived/scripts/page.sh RX_LOWER_PRI\"\n",
        "    preempt_delay     30\n    strict_mode false\n    unicast_ttl 255\n"
        "    check_unicast_src\n    no_accept\n",
        "    track_script {\n        check_sync\n    }\n",
        "    advert_int        0.1\n    native_ipv6\n",
        "    track_script {\n        check_sync\n    }\n\n"
        "    track_file {\n        maint\n    }\n\n"
        "    track_process {\n        haproxy weight -10\n    }\n\n"
        "    track_bfd {\n        gw\n    }\n\n    notify_master",
        "    track_file {\n        synced weight 0\n    }\n\n"
        "    track_process {\n        haproxy\n    }\n\n"
        "    track_bfd {\n        gw weight 0\n    }\n",
        "    native_ipv6\n    use_vmac vmac6\n    vmac_xmit_base\n",
        "vrrp_sync_group VG_1 {\n    group {\n        VI_1\n        VI_2\n    }\n"
        "    smtp_alert\n",
    ]:
        assert block in instances
    assert "\n\n\n" not in instances, "blank-line noise"
    assert "    smtp_helo_name lb.example.com\n\n    # extra_lines: raw, NOT validated" in \
        files["conf.d/00-global_defs.conf"].content
    assert 'vrrp_script check_marker {\n    script   "/usr/bin/test -e /run/keepalived-ok"\n' in \
        files["conf.d/10-vrrp_scripts.conf"].content
    assert files["keepalived.conf"].content.endswith(
        "include /etc/keepalived/conf.d/include/operator.conf\n")
    assert files["conf.d/include/operator.conf"].content.startswith(
        "# An operator's own top-level block")
    assert "    vrrp_notify_fifo_script \"/etc/keepalived/scripts/record_state.sh FIFO\"\n" in \
        files["conf.d/00-global_defs.conf"].content
    assert "    user     nobody\n    init_fail\n}\n" in files["conf.d/10-vrrp_scripts.conf"].content
    assert "static_rules {\n    from 10.6.0.0/16 priority 200 table 200\n" in \
        files["conf.d/05-static.conf"].content


# -- the gate: each block accepted by the real keepalived -t ------------------------------

@pytest.mark.parametrize("case", list(ACCEPTED))
@pytest.mark.parametrize("host", ["host-01", "host-02"])
def test_block_is_accepted_by_keepalived(trees, case, host):
    base, stage = trees
    files = relative_files(settings_of(ACCEPTED[case], base)[host],
                           base)
    write_tree(stage, files)

    result = run_transaction(stage, base)

    assert result.returncode == 0, result.stderr
    assert "keepalived -t:" not in result.stdout, result.stdout  # no warning either
    for relative, file in files.items():
        assert (base / relative).read_text() == file.content


# -- raw lines are not validated here: keepalived -t rejects what it rejects ------------

REJECTED_EXTRA_LINES = {
    "global_defs": ({"keepalived_global_defs": {**PORTABLE["keepalived_global_defs"],
                                                "extra_lines": ["frobnicate_global 1"]}},
                    "Unknown keyword 'frobnicate_global'"),
    "vrrp_script": ({"keepalived_check_scripts": [
        {**SEED_HOSTS[0][1]["keepalived_check_scripts"][0], "extra_lines": ["weight 300"]}]},
        "weight"),
    "vrrp_instance": ({"instance": {"extra_lines": ["nopreempt"]}},
                      "nopreempt will not work with initial state MASTER"),
    "include_files": ({"keepalived_include_files": [{"src": os.path.join(
        os.path.dirname(__file__), "data", "include-rejected", "bad.conf")}]},
        "Unknown keyword 'frobnicate_operator'"),
}


@pytest.mark.parametrize("case", list(REJECTED_EXTRA_LINES))
def test_extra_lines_keepalived_rejects_never_go_live(trees, case):
    base, stage = trees
    data, message = REJECTED_EXTRA_LINES[case]
    hosts = seed_with(**copy.deepcopy(data))
    write_tree(stage, relative_files(settings_of(hosts, base)["host-01"], base))

    promote_rejected(stage, base, message)
