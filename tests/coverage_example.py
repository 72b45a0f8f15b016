"""Host data that uses every keepalived.conf block beyond the seed role, shared by the tests.

Two hosts, portable to any machine's `keepalived -t`: scripts run as `nobody` and
`dynamic_interfaces` lets eth1/eth2 be absent here.
"""

from .seed import EXAMPLE

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
                                                      vrrp_name="check_sync")],
        "keepalived_notify_scripts": NOTIFY_SCRIPTS,
        "keepalived_sync_groups": {"VG_1": {
            "instances": ["VI_1", "VI_2"], "notify_master": "page.sh GROUP MASTER",
            "notify_backup": "page.sh GROUP BACKUP", "notify_fault": "page.sh GROUP FAULT",
            "notify_stop": "page.sh GROUP STOP", "notify": "record_state.sh", "smtp_alert": True,
            "track_interfaces": ["eth3"], "track_scripts": ["check_sync"]}},
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
             "track_scripts": ["check_ssh"],
             "notify_master": "page.sh MASTER", "notify": "record_state.sh",
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
             "virtual_ipaddresses": ["2001:db8::200/64"], "mcast_src_ip": "2001:db8::2",
             # vrrp_strict would want a link-local first IPv6 VIP
             "strict_mode": False},
        ],
    }


COVERAGE_HOSTS = [
    ("host-01", host_data(100, "192.168.1.2", "10.1.0.2", "10.1.0.3", dbus=True)),
    ("host-02", host_data(90, "192.168.1.3", "10.1.0.3", "10.1.0.2", dbus=False)),
]
