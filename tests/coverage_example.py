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
        **LVS,
    }


# LVS (model.lvs): every checker, a group, fwmark, IPv6, the sync daemon and timeouts. The
# test hosts have no IPVS: keepalived -t checks these, nothing runs them.
LVS = {
    "keepalived_virtual_server_groups": [
        {"name": "web", "vips": [{"ip": "192.168.1.100", "port": 80},
                                 {"ip": "192.168.1.110-120", "port": "8080"}], "fwmark": 7}],
    "keepalived_virtual_servers": [
        {"ip": "192.168.1.101", "port": 443, "protocol": "TCP", "lvs_sched": "wlc",
         "lvs_method": "NAT", "delay_loop": 6, "persistence_timeout": 300,
         "persistence_granularity": "255.255.255.0", "quorum": 2, "hysteresis": 1,
         "quorum_up": "page.sh LVS up", "quorum_down": "/usr/bin/logger -t lvs down",
         "alpha": True, "omega": True, "virtualhost": "www.example.com",
         "sorry_server": {"ip": "192.168.1.250", "port": 8443},
         "real_servers": [
             {"ip": "192.168.1.11", "port": 8443, "weight": 2, "inhibit_on_failure": True,
              "uthreshold": 1000, "lthreshold": 100,
              "notify_up": "/usr/bin/logger -t lvs rs1 up", "notify_down": "page.sh rs1",
              "tcp_checks": [{"connect_port": 8443, "connect_timeout": 3, "retry": 3,
                              "delay_before_retry": 2, "warmup": 5, "bindto": "192.168.1.2",
                              "delay_loop": 10}],
              "http_get": [{"url_path": "/health", "status_code": 200, "connect_timeout": 3,
                            "http_protocol": "1.1",
                            "urls": [{"path": "/", "digest": "9b3a0c85a887a256d6939da88aabd8cd"},
                                     {"path": "/ok", "status_code": "200-299",
                                      "virtualhost": "ok.example.com"}]}],
              "ssl_get": [{"urls": [{"path": "/"}], "enable_sni": True, "retry": 2}],
              "misc_check": [{"misc_path": "/bin/true 192.168.1.11", "misc_timeout": 5,
                              "misc_dynamic": True}]},
             {"ip": "192.168.1.12", "port": "8443",
              "dns_checks": [{"type": "A", "name": "example.com", "connect_port": 53}],
              "smtp_checks": [{"helo_name": "lb.example.com", "connect_port": 25}],
              # (payload, min/max_reply_length: keepalived 2.2 and later, model.versions:
              # keepalived 2.1.5 gets the example without them, tests/e2e/test_releases.py)
              "udp_checks": [{"connect_port": 53, "payload": "0a0b", "require_reply": "0a",
                              "min_reply_length": 1, "max_reply_length": 512}],
              "ping_checks": [{"connect_timeout": 2}]}]},
        {"fwmark": 7, "lvs_sched": "rr", "lvs_method": "DR",
         "real_servers": [{"ip": "192.168.1.13", "weight": 1,
                           "file_checks": [{"track_file": "pyinfra_drain", "weight": 2}]}]},
        {"group": "web", "lvs_method": "DR", "real_servers": [{"ip": "192.168.1.14"}]},
        {"ip": "2001:db8::100", "port": 80, "lvs_sched": "sh", "lvs_method": "TUN",
         "protocol": "TCP",
         "real_servers": [{"ip": "2001:db8::11", "port": 80,
                           "tcp_checks": [{"retry": 2}]}]},
    ],
    "keepalived_lvs_sync_daemon": {"interface": "eth0", "instance": "VI_1", "id": 5,
                                   "port": 8848, "ttl": 1, "group": "224.0.0.81"},
    "keepalived_lvs_timeouts": {"tcp": 900, "tcpfin": 120, "udp": 300},
}


COVERAGE_HOSTS = [
    ("host-01", host_data(100, "192.168.1.2", "10.1.0.2", "10.1.0.3")),
    ("host-02", host_data(90, "192.168.1.3", "10.1.0.3", "10.1.0.2")),
]
