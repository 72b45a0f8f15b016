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


def host_data(priority, address, eth1_address, eth1_peer, dbus):
    """`dbus`: enable_dbus, else vrrp_no_swap (not both: model.vrrp_options)."""
    check_ssh = dict(EXAMPLE["keepalived_check_scripts"][0], init_fail=True, timeout=1)
    del check_ssh["weight"]  # no tracking weights in a sync group: a failure means FAULT
    return {
        "ssh_hostname": address,
        "keepalived_check_script_user": "nobody",
        "keepalived_include_files": [{"src": INCLUDE_DIR}],
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
        "keepalived_bfd_instances": {
            "gw": {"neighbor_ip": "192.168.1.254", "source_ip": address, "min_rx": 50,
                   "min_tx": 20, "idle_tx": 2000, "multiplier": 3, "passive": True,
                   "ttl": 64, "max_hops": 0},
            "gw6": {"neighbor_ip": "2001:db8::fe", "hoplimit": 64, "max_hops": 10,
                    "weight": -20}},
        "keepalived_global_defs": {
            "dynamic_interfaces": True, "vrrp_version": 3,
            "extra_lines": ["log_unknown_vrids"],
            "vrrp_mcast_group4": "224.0.0.18", "vrrp_mcast_group6": "ff02::12",
            "vrrp_startup_delay": 5.5, "vrrp_lower_prio_no_advert": True,
            "vrrp_higher_prio_send_advert": True, "vrrp_priority": -10,
            "checker_priority": 0, "bfd_priority": 0, "vrrp_no_swap": not dbus,
            "checker_no_swap": True, "bfd_no_swap": True,
            "vrrp_notify_fifo": "/run/keepalived-vrrp.fifo",
            "vrrp_notify_fifo_script": "record_state.sh FIFO",
            "enable_snmp_vrrp": True, "enable_snmp_checker": True, "enable_snmp_rfc": True,
            "snmp_socket": "tcp:127.0.0.1:705", "enable_traps": True, "smtp_alert": True,
            "lvs_flush": True, "router_id": "coverage", "notification_email":
            ["ops@example.com"], "notification_email_from": "keepalived@example.com",
            "smtp_server": "127.0.0.1", "smtp_connect_timeout": 30,
            "vrrp_skip_check_adv_addr": True, "vrrp_strict": True, "vrrp_garp_interval": 0.001,
            "vrrp_gna_interval": 0.001, "vrrp_garp_master_delay": 5,
            "vrrp_garp_master_repeat": 5, "vrrp_garp_master_refresh": 0,
            "max_auto_priority": 10, "vrrp_rt_priority": 10, "checker_rt_priority": 10,
            "bfd_rt_priority": 10, "vrrp_rlimit_rttime": 10000,
            "checker_rlimit_rttime": 10000, "bfd_rlimit_rttime": 10000, "enable_dbus": dbus,
            "enable_snmp_rfcv2": True, "enable_snmp_rfcv3": True,
            "vrrp_garp_lower_prio_delay": 5, "vrrp_garp_lower_prio_repeat": 2,
            "vrrp_garp_master_refresh_repeat": 2, "vrrp_min_garp": True,
            "smtp_helo_name": "lb.example.com", "no_email_faults": True,
            "smtp_alert_vrrp": True, "vrrp_notify_priority_changes": True,
            "notify_fifo": "/run/keepalived.fifo", "notify_fifo_script": "page.sh FIFO"},
        # tracked by the sync group (not by its instances)
        "keepalived_check_scripts": [check_ssh, dict(check_ssh, name="check_sync.sh",
                                                      vrrp_name="check_sync"), CHECK_COMMAND],
        "keepalived_notify_scripts": NOTIFY_SCRIPTS,
        "keepalived_sync_groups": {"VG_1": {
            "instances": ["VI_1", "VI_2"], "notify_master": "page.sh GROUP MASTER",
            "notify_backup": "page.sh GROUP BACKUP", "notify_fault": "page.sh GROUP FAULT",
            "notify_stop": "page.sh GROUP STOP", "notify": "record_state.sh", "smtp_alert": True,
            "track_interfaces": ["eth3"], "track_scripts": ["check_sync"],
            "track_files": ["maint"], "track_processs": ["haproxy weight -10"],
            "track_bfds": ["gw"]}},
        "keepalived_static_ipaddresses": [
            "192.168.1.250/24 dev eth0 scope global",
            {"address": "192.168.1.251/24", "dev": "eth0", "brd": "192.168.1.255"}],
        "keepalived_static_routes": ["10.6.0.0/16 via 192.168.1.254 dev eth0"],
        "keepalived_static_rules": ["from 10.6.0.0/16 table 200 priority 200",
                                    {"to": "10.5.0.0/16", "table": 200, "priority": 201}],
        "keepalived_vrrp_instances": [
            {"name": "VI_1", "interface": "eth0", "state": "BACKUP", "priority": priority,
             "virtual_router_id": 51, "advert_int": 0.5, "nopreempt": True,
             "garp_master_delay": 5, "garp_master_refresh": 60,
             "unicast_peers": "inventory",
             "virtual_ipaddresses": [
                 "192.168.1.100/24",
                 {"address": "192.168.1.101/24", "dev": "eth0", "label": "eth0:vip",
                  "scope": "global", "brd": "192.168.1.255"}],
             "virtual_ipaddresses_excluded": ["2001:db8::100/64 dev eth0"],
             "virtual_routes": ["10.9.0.0/16 via 192.168.1.254",
                                {"to": "10.8.0.0/16", "via": "192.168.1.254", "metric": 10,
                                 "table": 100}],
             "track_interfaces": ["eth2", "eth1 weight 0"],
             "track_scripts": ["check_ssh", "check_marker"],
             "track_files": ["synced weight 0"], "track_processes": ["haproxy"],
             "track_bfds": ["gw weight 0"],
             "notify_master": "page.sh MASTER", "notify": "record_state.sh",
             "notify_fault": "/usr/bin/logger -t keepalived VI_1 FAULT",
             "extra_lines": ["old_unicast_checksum"],
             "notify_master_rx_lower_pri": "page.sh RX_LOWER_PRI",
             "track_src_ip": True, "dont_track_primary": True, "accept": True,
             "promote_secondaries": True, "skip_check_adv_addr": True, "strict_mode": False,
             "debug": 1, "garp_master_repeat": 3, "garp_master_refresh_repeat": 2,
             "garp_lower_prio_delay": 5, "garp_lower_prio_repeat": 2,
             "lower_prio_no_advert": False, "higher_prio_send_advert": True,
             "kernel_rx_buf_size": 262144, "smtp_alert": True,
             "notify_priority_changes": True,
             "virtual_rules": ["from 192.168.1.100 table 100 priority 101",
                               {"to": "10.7.0.0/16", "table": 100, "priority": 100}]},
            {"name": "VI_2", "interface": "eth1", "state": "BACKUP", "priority": priority,
             "virtual_router_id": 52, "preempt_delay": 30,
             "unicast_src_ip": eth1_address, "unicast_peers": [eth1_peer],
             "virtual_ipaddresses": ["10.1.0.200/24"],
             "notify_backup": "page.sh BACKUP", "notify_fault": "page.sh FAULT",
             "notify_stop": "page.sh STOP", "accept": False, "version": 3,
             "unicast_ttl": 255, "check_unicast_src": True,
             "strict_mode": False},
            {"name": "VI_6", "interface": "eth0", "state": "BACKUP", "priority": priority,
             "virtual_router_id": 51, "native_ipv6": True, "advert_int": 0.1,
             "virtual_ipaddresses": ["2001:db8::200/64"], "use_vmac": "vmac6",
             "vmac_xmit_base": True, "track_files": ["maint weight 3"],
             "track_processs": ["sshd"], "mcast_src_ip": "2001:db8::2",
             "track_bfds": ["gw6", "gw weight 5"],
             # vrrp_strict would want a link-local first IPv6 VIP
             "strict_mode": False},
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
         "sorry_server": {"ip": "192.168.1.250", "port": 8443}, "sorry_server_inhibit": True,
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
                                      "virtualhost": "ok.example.com",
                                      "regex": "status: *(up|ok)", "regex_no_match": True,
                                      "regex_options": ["caseless", "multiline"],
                                      "regex_stack": "32768 131072", "regex_min_offset": 0,
                                      "regex_max_offset": 4096}],
                            "fast_recovery": True}],
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
        {"fwmark": 7, "ip_family": "inet", "lvs_sched": "mh", "mh_port": True,
         "mh_fallback": True, "lvs_method": "DR",
         "real_servers": [{"ip": "192.168.1.13", "weight": 1,
                           "file_checks": [{"track_file": "pyinfra_drain", "weight": 2}]}]},
        {"group": "web", "lvs_method": "DR", "real_servers": [{"ip": "192.168.1.14"}]},
        {"ip": "192.168.1.102", "port": 5060, "protocol": "UDP", "lvs_sched": "sh",
         "sh_port": True, "sh_fallback": True, "ops": True, "lvs_method": "NAT",
         "persistence_engine": "sip", "persistence_timeout": 60,
         "real_servers": [{"ip": "192.168.1.15", "port": 5060}]},
        {"ip": "2001:db8::100", "port": 80, "lvs_sched": "sh", "lvs_method": "TUN",
         "protocol": "TCP", "ha_suspend": True,
         "real_servers": [{"ip": "2001:db8::11", "port": 80,
                           "tcp_checks": [{"retry": 2, "connect_ip": "2001:db8::11",
                                           "bindto": "fe80::2", "bind_if": "eth0",
                                           "bind_port": 40000}]}]},
    ],
    "keepalived_lvs_sync_daemon": {"interface": "eth0", "instance": "VI_1", "id": 5,
                                   "port": 8848, "ttl": 1, "group": "224.0.0.81"},
    "keepalived_lvs_timeouts": {"tcp": 900, "tcpfin": 120, "udp": 300},
}


COVERAGE_HOSTS = [
    ("host-01", host_data(100, "192.168.1.2", "10.1.0.2", "10.1.0.3", dbus=True)),
    ("host-02", host_data(90, "192.168.1.3", "10.1.0.3", "10.1.0.2", dbus=False)),
]

# UDP_CHECK's keywords of keepalived 2.2 and later (2.1.5 does not know them): 2.2.7's -t
# checks them (test_conf_gate)
LVS_2_2_SERVERS = [
    {"ip": "192.168.1.100", "port": 53, "protocol": "UDP", "lvs_method": "NAT",
     "real_servers": [{"ip": "192.168.1.11", "udp_checks": [
         {"payload": "0a0b", "require_reply": "0a", "min_reply_length": 1,
          "max_reply_length": 512}]}]}]
