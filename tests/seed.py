"""The seed role's example as host data, shared by the tests."""

import os
import runpy

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = runpy.run_path(os.path.join(REPO_DIR, "group_data", "jump_hosts.py"))


def host_data(priority, state, **extra):
    """The example's group data plus one host's priority and state."""
    return {
        "keepalived_vrrp_instances": EXAMPLE["keepalived_vrrp_instances"],
        "keepalived_check_scripts": EXAMPLE["keepalived_check_scripts"],
        "keepalived_priority": priority,
        "keepalived_state": state,
        **extra,
    }


SEED_HOSTS = [
    ("host-01", host_data(100, "MASTER")),
    ("host-02", host_data(90, "BACKUP")),
]
