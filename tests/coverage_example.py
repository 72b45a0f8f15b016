"""Host data that uses every keepalived.conf block beyond the seed role, shared by the tests.

Two hosts, portable to any machine's `keepalived -t`: scripts run as `nobody` and
`dynamic_interfaces` lets eth1/eth2 be absent here.
"""

import os

from .seed import EXAMPLE

# an operator's own file (keepalived_include_files), and check and notify commands
INCLUDE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "include")
# (a path: a bare name is rendered as the host resolves it; as given, keepalived 2.3.3's -t
# refuses `test`: "Disabling track script check_marker since not found/accessible")
CHECK_COMMAND = {"name": "check_marker", "interval": 3,
                 "check_script": "/usr/bin/test -e /run/keepalived-ok"}

NOTIFY_SCRIPTS = [
    {"name": "record_state.sh", "template": "notify_record_state.sh.j2",
     "vars": {"log_file": "/tmp/keepalived-transitions.log"}},
    {"name": "page.sh", "content": "#!/bin/sh\nlogger -t keepalived-page \"$@\"\n"},
]


def host_data(priority, address, eth1_address, eth1_peer):
    check_ssh = dict(EXAMPLE["keepalived_check_scripts"][0], extra_lines=["init_fail"])
    del check_ssh["weight"]  # no tracking weights in a sync group: a failure means FAULT
    return {
        "ssh_hostname": address,
        "keepalived_check_script_user": "nobody",
        "keepalived_global_defs": {"dynamic_interfaces": True, "vrrp_version": 3,
                                   "extra_lines": ["vrrp_min_garp true"]},
        "keepalived_check_scripts": [check_ssh, CHECK_COMMAND],
        "keepalived_include_files": [{"src": INCLUDE_DIR}],
        "keepalived_notify_scripts": NOTIFY_SCRIPTS,
        "keepalived_sync_groups": {"VG_1": {"instances": ["VI_1", "VI_2"],
                                            "track_files": ["maint"],
                                            "track_processs": ["haproxy weight -10"]}},
        "keepalived_track_files": {
            "maint": {"file": "/run/keepalived-maint", "weight": -2, "init_file": True,
                      "init_file_value": 0, "init_file_overwrite": True},
            "synced": {"file": "/run/keepalived-synced", "weight": 0}},
        "keepalived_track_processs": {
            "haproxy": {"process": "/usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg",
                        "param_match": "partial", "weight": 0, "quorum": 1, "quorum_max": 2,
                        "delay": 0.5, "fork_delay": 1, "terminate_delay": 2,
                        "full_command": True},
            "sshd": {"process": "sshd", "param_match": "exact", "weight": -20}},
        "keepalived_vrrp_instances": [
            {"name": "VI_1", "interface": "eth0", "state": "BACKUP", "priority": priority,
             "virtual_router_id": 51, "advert_int": 0.5, "nopreempt": True,
             "garp_master_delay": 5, "garp_master_refresh": 60,
             "unicast_peers": "inventory",
             "virtual_ipaddresses": [
                 "192.168.1.100/24",
                 {"address": "192.168.1.101/24", "dev": "eth0", "label": "eth0:vip",
                  "scope": "global"}],
             "virtual_ipaddresses_excluded": ["2001:db8::100/64 dev eth0"],
             "virtual_routes": ["10.9.0.0/16 via 192.168.1.254",
                                {"to": "10.8.0.0/16", "via": "192.168.1.254", "metric": 10,
                                 "table": 100}],
             "track_interfaces": ["eth2", "eth1 weight 0"],
             "track_scripts": ["check_ssh", "check_marker"],
             "track_files": ["synced weight 0"], "track_processes": ["haproxy"],
             "notify_master": "page.sh MASTER", "notify": "record_state.sh",
             "notify_fault": "/usr/bin/logger -t keepalived VI_1 FAULT",
             "extra_lines": ["smtp_alert"]},
            {"name": "VI_2", "interface": "eth1", "state": "BACKUP", "priority": priority,
             "virtual_router_id": 52, "preempt_delay": 30,
             "unicast_src_ip": eth1_address, "unicast_peers": [eth1_peer],
             "virtual_ipaddresses": ["10.1.0.200/24"],
             "notify_backup": "page.sh BACKUP", "notify_fault": "page.sh FAULT",
             "notify_stop": "page.sh STOP"},
            {"name": "VI_6", "interface": "eth0", "state": "BACKUP", "priority": priority,
             "virtual_router_id": 51, "native_ipv6": True, "advert_int": 0.1,
             "virtual_ipaddresses": ["2001:db8::200/64"], "use_vmac": "vmac6",
             "vmac_xmit_base": True, "track_files": ["maint weight 3"],
             "track_processs": ["sshd"]},
        ],
    }


COVERAGE_HOSTS = [
    ("host-01", host_data(100, "192.168.1.2", "10.1.0.2", "10.1.0.3")),
    ("host-02", host_data(90, "192.168.1.3", "10.1.0.3", "10.1.0.2")),
]
