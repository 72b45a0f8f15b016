"""What uninstall.py sends, per distro family, via pyinfra's ``@fake`` connector (as in
test_commands.py, whose fake hosts and recorder this reuses): dnf has no test host here."""

import pytest
from pyinfra.api.deploy import add_deploy
from pyinfra.api.operations import run_ops

from operations.uninstall import uninstall
from tests.test_commands import (  # noqa: F401 (recorder is a fixture)
    DNF_DISTROS,
    GROUP_DATA,
    HOSTS,
    SCRIPT_USER_ENTRY,
    make_state,
    op_commands,
    recorder,
)

pytestmark = pytest.mark.unit

LEFTOVER_VIP = "2: eth0    inet 192.168.1.100/24 scope global secondary eth0\\   valid_lft"
# KeepalivedTree's answer: the base dir, conf.d, scripts and the config file exist
TREE = [f"directory|755|root|root|/etc/keepalived{leaf}" for leaf in ("", "/conf.d", "/scripts")]
TREE += ["regular file|644|root|root|/etc/keepalived/keepalived.conf",
         f"{'0' * 64}  /etc/keepalived/keepalived.conf"]
STOP = ["systemctl stop keepalived.service", "systemctl disable keepalived.service"]
REMOVE_TREE = ["rm -rf /etc/keepalived/keepalived.conf /etc/keepalived/conf.d "
               "/etc/keepalived/scripts /etc/keepalived/.current /etc/keepalived/.previous "
               "/etc/keepalived/.generations /etc/keepalived/.staging",
               "rmdir /etc/keepalived 2>/dev/null || echo 'kept /etc/keepalived: it holds "
               "files this deploy did not write'"]
USERDEL = "userdel keepalived_script"
PACKAGE_FACTS = {"rpm": "rpm --queryformat", "dpkg": "dpkg -l"}  # command substrings


def installed_host(package_fact, busy_user=False):
    """Responses of a host with keepalived installed (`package_fact`: {"rpm": line} or
    {"dpkg": line}), enabled and running, a leftover VIP, the config tree and the script
    user (with a process of its own if `busy_user`). The uninstall deploy reads pyinfra's
    own facts, not the probe."""
    return {
        **{PACKAGE_FACTS[kind]: [line] for kind, line in package_fact.items()},
        "--property SubState keepalived.service": ["Id=keepalived.service", "SubState=running"],
        "--property UnitFileState keepalived.service": ["Id=keepalived.service",
                                                        "UnitFileState=enabled"],
        # Users fact
        "cut -d: -f1": [f"{SCRIPT_USER_ENTRY}|keepalived_script|keepalived_script||!"],
        "ip -o addr show": [LEFTOVER_VIP],
        "stat -L -c '%F|%a|%U|%G|%n' /etc/keepalived ": TREE,
        "uid=$(id -u keepalived_script": ["4242"] if busy_user else [],
        "command -v userdel": "/usr/sbin/userdel",
    }


def uninstall_commands(distro, package_fact, recorder, host_data=None, group_data=None,
                       **kwargs):
    state = make_state(distro, responses={name: installed_host(package_fact, **kwargs)
                                          for name in HOSTS},
                       host_data=host_data, group_data=group_data)
    add_deploy(state, uninstall)
    run_ops(state)
    return {host.name: op_commands(host, recorder) for host in state.inventory}


@pytest.mark.parametrize("distro", DNF_DISTROS)
def test_rhel_family_uninstall_in_order(distro, recorder):
    commands = uninstall_commands(distro, {"rpm": "keepalived 2.2.8-3.el9"}, recorder)
    for host in HOSTS:
        assert commands[host] == [
            *STOP, "ip addr del 192.168.1.100/24 dev eth0", "dnf remove -y keepalived",
            *REMOVE_TREE, USERDEL]


def test_debian_uninstall_purges(recorder):
    commands = uninstall_commands("debian", {"dpkg": "ii  keepalived  1:2.2.7-1+b2  amd64"},
                                  recorder)
    purge = [c for c in commands["@fake/host-01"] if "apt-get" in c]
    assert len(purge) == 1 and "purge" in purge[0].split() and purge[0].endswith("keepalived")


def test_busy_script_user_is_kept(recorder):
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  busy_user=True)
    assert USERDEL not in commands["@fake/host-01"]
    assert all(command in commands["@fake/host-01"] for command in REMOVE_TREE)


def test_address_owners_vip_is_its_own_address_and_stays(recorder):
    untracked = [{key: value for key, value in instance.items() if key != "track_scripts"}
                 for instance in GROUP_DATA["keepalived_vrrp_instances"]]
    commands = uninstall_commands("rocky", {"rpm": "keepalived 2.2.8-3.el9"}, recorder,
                                  host_data={"@fake/host-01": {"keepalived_priority": 255}},
                                  group_data={"keepalived_vrrp_instances": untracked})
    assert not any(c.startswith("ip addr del") for c in commands["@fake/host-01"])
    assert "ip addr del 192.168.1.100/24 dev eth0" in commands["@fake/host-02"]
