"""Example inventory: two SSH jump hosts sharing one virtual IP (the seed role's example).

Point it at your hosts by replacing each `ssh_hostname` placeholder (and `ssh_user` if you log in as
someone else). The VRRP instance and check script shared by the group are in
group_data/jump_hosts.py; each host carries its own priority and initial state here.
For local docker test hosts, use the inventory that `python -m testhosts up` writes.
"""

SSH = {"ssh_user": "deployer", "_sudo": True}

jump_hosts = [
    ("host-01", {**SSH, "ssh_hostname": "host-01.example.invalid",
                 "keepalived_priority": 100, "keepalived_state": "MASTER"}),
    ("host-02", {**SSH, "ssh_hostname": "host-02.example.invalid",
                 "keepalived_priority": 90, "keepalived_state": "BACKUP"}),
]
