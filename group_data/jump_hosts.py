"""Data shared by the jump hosts: one VRRP instance and the check that moves it.

Keys and shapes are those of the original Ansible role, so its host_vars/group_vars
carry across. Each host's priority and state come from inventory.py
(keepalived_priority / keepalived_state); an instance may also set its own.
"""

keepalived_vrrp_instances = [
    {
        "name": "VI_1",
        "interface": "eth0",
        "virtual_router_id": 51,
        "virtual_ipaddresses": ["192.168.1.100/24"],
        "auth_type": "PASS",
        "auth_pass": "1234",
        "track_scripts": ["check_ssh"],
    },
]

keepalived_check_scripts = [
    {
        "name": "check_ssh.sh",
        "template": "check_systemd_service.sh.j2",
        "vrrp_name": "check_ssh",
        "service_name": "ssh.service",
        "interval": 2,
        # The role's example used -10: with priorities 100 and 90 a failing check then
        # gives 90 vs 90 and the VIP never moves. The weight must exceed the gap.
        "weight": -20,
    },
]
