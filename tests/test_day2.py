"""Day-2 operations without hosts: parsing the status fact, the cross-host checks of
`status`, and the drill's plan and refusals.

tests/data/keepalived-2.2.7-master.data is a real data dump (SIGUSR1) of keepalived 2.2.7
on a test host that was MASTER of the seed's VI_1; the status fact filters it on the host
with DUMP_LINES (the same regex, run here with `re`) before it is parsed.
"""

import os
import re
import subprocess

import pytest

from pyinfra_keepalived.deploys.drill import DrillRefused, plan, plan_from
from pyinfra_keepalived.deploys.status import Row, host_key_lines, problems, rows, table
from pyinfra_keepalived.facts.keepalived import (
    DUMP_LINES,
    CreatedUser,
    InstanceStatus,
    KeepalivedStatus,
    UserProcesses,
    VrrpStatus,
    parse_ip_addr,
)
from pyinfra_keepalived.model.validate import read_host
from pyinfra_keepalived.operations.handover import Peer
from tests.seed import SEED_HOSTS

pytestmark = pytest.mark.unit

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DUMP = open(os.path.join(DATA_DIR, "keepalived-2.2.7-master.data")).read()
IP_ADDR = open(os.path.join(DATA_DIR, "ip-addr-backup.txt")).read()
VIP = "172.20.0.200/16"


def filtered(dump):
    """What the fact's command sends back of a dump: the lines DUMP_LINES matches."""
    return [line for line in dump.splitlines() if re.search(DUMP_LINES, line)]


def fact_output(dump=DUMP, addresses=IP_ADDR, now=1795556048):
    if dump is None:
        return [f"## now {now}", "## stopped", "## addresses", *addresses.splitlines()]
    return [f"## now {now}", "## running 953", *filtered(dump), "## addresses",
            *addresses.splitlines()]


# -- the status fact --

def test_dump_is_filtered_to_what_status_needs_and_never_the_password():
    lines = filtered(DUMP)
    assert "   Password = 1234" in DUMP.splitlines()
    assert not any("Password" in line or "1234" in line for line in lines)
    assert " VRRP Instance = VI_1" in lines and "   Effective priority = 100" in lines


def test_running_master_is_parsed():
    status = KeepalivedStatus().process(fact_output())
    assert status == VrrpStatus(
        running=True,
        instances={"VI_1": InstanceStatus(name="VI_1", state="MASTER", priority=100,
                                          effective_priority=100,
                                          last_transition=1795556203.77755,
                                          vips=(VIP,))},
        failing_scripts=(), addresses=frozenset({"127.0.0.1", "172.20.0.3"}),
        now=1795556048.0)


def test_lowered_priority_fault_and_failing_script_are_parsed():
    dump = (DUMP.replace("State = MASTER", "State = FAULT")
            .replace("Effective priority = 100", "Effective priority = 80")
            .replace("Status = GOOD", "Status = BAD"))
    status = KeepalivedStatus().process(fact_output(dump))
    instance = status.instances["VI_1"]
    assert (instance.state, instance.priority, instance.effective_priority) == ("FAULT", 100, 80)
    assert status.failing_scripts == ("check_ssh",)


def test_interface_and_sockpool_states_are_not_taken_for_the_instance_state():
    lines = filtered(DUMP)
    assert "   State = UP, RUNNING" in lines  # from the Interfaces section
    assert KeepalivedStatus().process(fact_output()).instances["VI_1"].state == "MASTER"


def test_stopped_keepalived_gives_no_instances_but_addresses():
    status = KeepalivedStatus().process(fact_output(dump=None))
    assert status.running is False and status.instances == {}
    assert "172.20.0.3" in status.addresses


def test_ip_addr_lines_give_interface_and_address():
    lines = ["1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever",
             "74: eth0    inet 172.20.0.200/16 scope global secondary eth0\\       valid",
             "5: vlan10@eth0    inet6 fd00::5/64 scope global \\       valid_lft forever"]
    assert parse_ip_addr(lines) == [("lo", "127.0.0.1/8"), ("eth0", "172.20.0.200/16"),
                                    ("vlan10", "fd00::5/64")]


def test_user_processes_fact_answers_nothing_for_a_missing_user():
    command = UserProcesses().command(user="keepalived_script")
    assert command.startswith("uid=$(id -u keepalived_script 2>/dev/null) || exit 0;")
    assert UserProcesses().process(["", "1234", " 77 "]) == ["1234", "77"]


@pytest.mark.parametrize("output, created", [
    (["created"], True), ([], False), (["created", "created"], False), (["yes"], False)])
def test_created_user_fact_reads_the_record(output, created):
    """Whether the deploy created the user: its record exists (the user name quoted)."""
    assert CreatedUser().command(user="keepalived_script") == (
        "[ -e /var/lib/pyinfra-keepalived.created-user.keepalived_script ] "
        "&& echo created || true")
    assert CreatedUser().process(output) is created


# -- status across hosts --

def settings():
    return {name: read_host(name, data)[0] for name, data in SEED_HOSTS}


def seed_rows(host_01, host_02):
    return rows(settings(), {"host-01": host_01, "host-02": host_02})


def running(state, effective=None, holds=False, failing=(), priority=100):
    instance = InstanceStatus(name="VI_1", state=state, priority=priority,
                              effective_priority=priority if effective is None else effective,
                              last_transition=100.0, vips=("192.168.1.100/24",))
    addresses = {"10.0.0.1"} | ({"192.168.1.100"} if holds else set())
    return VrrpStatus(running=True, instances={"VI_1": instance},
                      failing_scripts=tuple(failing), addresses=frozenset(addresses), now=190.0)


STOPPED = VrrpStatus(running=False, instances={}, addresses=frozenset({"10.0.0.2"}))


def test_one_master_holding_the_vip_is_no_problem():
    all_rows = seed_rows(running("MASTER", holds=True), running("BACKUP", priority=90))
    assert problems(all_rows) == []
    assert [(r.host, r.state, r.holds) for r in all_rows] == [
        ("host-01", "MASTER", ("192.168.1.100/24",)), ("host-02", "BACKUP", ())]


def test_two_masters_are_split_brain():
    all_rows = seed_rows(running("MASTER", holds=True), running("MASTER", holds=True))
    assert problems(all_rows) == ["SPLIT BRAIN: VI_1 is MASTER on 2 hosts: host-01, host-02"]


def test_vip_on_two_hosts_is_split_brain_even_with_one_master():
    stopped_but_holding = VrrpStatus(running=False, instances={},
                                     addresses=frozenset({"192.168.1.100"}))
    all_rows = seed_rows(running("MASTER", holds=True), stopped_but_holding)
    assert problems(all_rows) == ["SPLIT BRAIN: VI_1's VIPs are on 2 hosts: host-01, host-02"]


def test_no_master_is_flagged_with_each_hosts_state():
    all_rows = seed_rows(STOPPED, running("FAULT"))
    assert problems(all_rows) == ["NO MASTER: VI_1 (host-01 STOPPED, host-02 FAULT)"]


def test_instance_missing_from_a_running_keepalived_is_not_loaded():
    empty = VrrpStatus(running=True, instances={}, addresses=frozenset())
    all_rows = seed_rows(running("MASTER", holds=True), empty)
    assert all_rows[1].state == "NOT LOADED"


def test_table_has_a_line_per_host_and_instance_with_age_of_last_transition():
    lines = table(seed_rows(running("MASTER", holds=True), STOPPED))
    assert lines[0].split() == ["HOST", "INSTANCE", "STATE", "PRIO", "EFFECTIVE", "HOLDS",
                                "VIP", "LAST", "TRANSITION"]
    assert lines[1].split() == ["host-01", "VI_1", "MASTER", "100", "100", "192.168.1.100/24",
                                "1970-01-01", "00:01:40", "UTC", "(1m", "ago)"]
    assert lines[2].split() == ["host-02", "VI_1", "STOPPED", "-", "-", "-", "-"]


# -- the drill --

# -- what an SSH client of the VIP sees on failover (the holders' host keys) --

def public_key(tmp_path, name, key_type="ed25519"):
    """A real public key, (type, base64), and its fingerprint as ssh-keygen -l shows it."""
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-f", str(path)],
                   check=True)
    shown = subprocess.run(["ssh-keygen", "-l", "-f", f"{path}.pub"], check=True,
                           capture_output=True, text=True).stdout.split()[1]
    return tuple(open(f"{path}.pub").read().split()[:2]), shown


def test_holders_with_different_keys_are_named_with_fingerprints(tmp_path):
    (one, one_print), (two, two_print) = (public_key(tmp_path, "one"),
                                          public_key(tmp_path, "two"))
    rsa, _ = public_key(tmp_path, "rsa", "rsa")
    lines = host_key_lines(settings(), {"host-01": [one, rsa], "host-02": [two, rsa]},
                           {"VI_1": "host-02"})

    assert lines == [
        "instance VI_1: holders host-01, host-02 present different ed25519 keys: a client "
        "that trusted the VIP through host-02 is refused by host-01 unless its known_hosts "
        "lists both (run known_hosts.py) or keepalived_ssh_host_keys: shared",
        f"  host-01 ssh-ed25519 {one_print}", f"  host-02 ssh-ed25519 {two_print}"]
    assert not any(one[1] in line or rsa[1] in line for line in lines)  # fingerprints only


def test_holders_with_the_same_keys_show_no_change(tmp_path):
    key, shown = public_key(tmp_path, "shared")
    assert host_key_lines(settings(), {"host-01": [key], "host-02": [key]}) == [
        f"instance VI_1: holders host-01, host-02 present the same SSH host keys (ed25519 "
        f"{shown}): a client sees no change on failover"]


def test_a_key_type_one_holder_lacks_differs_and_a_silent_holder_is_named(tmp_path):
    key, _ = public_key(tmp_path, "shared")
    rsa, _ = public_key(tmp_path, "rsa", "rsa")
    assert host_key_lines(settings(), {"host-01": [key, rsa], "host-02": [key]})[0].startswith(
        "instance VI_1: holders host-01, host-02 present different rsa keys: ")
    assert host_key_lines(settings(), {"host-01": [key], "host-02": []}) == [
        "instance VI_1: no SSH host keys read from host-02 (is sshd installed?): what a "
        "client sees on failover is unknown"]
    assert host_key_lines(settings(), {"host-01": [key]}) == []  # host-02 left out: no pair


def row(host, state, effective=100, holds=True, failing=(), priority=100, instance="VI_1"):
    vips = ("192.168.1.100/24",)
    return Row(host=host, instance=instance, state=state, priority=priority,
               effective_priority=effective, vips=vips, holds=vips if holds else (),
               last_transition=None, now=None, failing_scripts=tuple(failing))


def drill_plan(instance, all_rows, **timing):
    """The drill's plan from `all_rows`, each host's Peer as its row shows it (nothing
    raised by tracked items)."""
    peers = {r.host: Peer(r.host, r.state, r.priority, r.effective_priority,
                          r.failing_scripts) for r in all_rows}
    return plan(instance, all_rows, peers, **timing)


HEALTHY = [row("host-01", "MASTER", 100), row("host-02", "BACKUP", 90, holds=False, priority=90),
           row("host-03", "BACKUP", 80, holds=False, priority=80)]


def test_drill_plan_moves_to_the_backup_with_the_highest_effective_priority():
    drill = drill_plan("VI_1", HEALTHY, advert_int=1)
    assert (drill.master, drill.backup, drill.vips) == ("host-01", "host-02",
                                                        ("192.168.1.100/24",))
    assert drill.timeout == 7  # as long as a handover's drain waits (handover.move_seconds)
    # a preempt_delay of the instance's hosts delays each move: waited for too
    assert drill_plan("VI_1", HEALTHY, advert_int=1, preempt_delay=5).timeout == 12


@pytest.mark.parametrize("backup, reason", [
    (row("host-02", "STOPPED", None, holds=False, priority=None),
     "host-02: keepalived is not running"),
    (row("host-02", "FAULT", 90, holds=False, priority=90), "host-02: state FAULT"),
    (row("host-02", "BACKUP", 70, holds=False, priority=90, failing=["check_ssh"]),
     "host-02: check script(s) failing: check_ssh"),
    (row("host-02", "BACKUP", 70, holds=False, priority=90),
     "host-02: effective priority 70 < priority 90"),
])
def test_drill_refuses_an_unhealthy_backup(backup, reason):
    expected = "the backup of VI_1 is not healthy: " + reason
    with pytest.raises(DrillRefused, match=re.escape(expected)):
        drill_plan("VI_1", [HEALTHY[0], backup])


@pytest.mark.parametrize("all_rows, message", [
    (HEALTHY[:1], "VI_1 has no backup \\(only host-01\\)"),
    ([row("host-01", "MASTER"), row("host-02", "MASTER")], "SPLIT BRAIN"),
    ([row("host-01", "BACKUP", holds=False), row("host-02", "BACKUP", holds=False)],
     "NO MASTER"),
    ([row("host-01", "MASTER", holds=False), HEALTHY[1]], "host-01 is MASTER of VI_1 but holds"),
])
def test_drill_refuses_an_unhealthy_cluster(all_rows, message):
    with pytest.raises(DrillRefused, match=message):
        drill_plan("VI_1", all_rows)


def test_drill_refuses_an_unknown_instance_and_names_the_known_ones():
    with pytest.raises(DrillRefused, match="no host is configured for instance 'VI_9'; "
                                           "known: VI_1"):
        drill_plan("VI_9", HEALTHY)


def weighted(weight):
    """The seed's settings with check_ssh's weight `weight` on both hosts."""
    return {name: read_host(name, {**data, "keepalived_check_scripts": [
        {**script, "weight": weight} for script in data["keepalived_check_scripts"]]})[0]
        for name, data in SEED_HOSTS}


@pytest.mark.parametrize("backup, refused", [
    # check_ssh GOOD, weight 10: 90 + 10 is the healthy backup's effective priority
    (running("BACKUP", priority=90, effective=100), None),
    # its check not GOOD (yet): 90 < 100
    (running("BACKUP", priority=90, effective=90, failing=["check_ssh"]),
     "host-02: check script(s) failing: check_ssh"),
    # an interface or process down, its check GOOD: 95 < 100
    (running("BACKUP", priority=90, effective=95),
     "host-02: effective priority 95 < 100 (priority 90 plus its tracked items' weights)"),
    # a failing script VI_1 does not track (another instance's) does not count
    (running("BACKUP", priority=90, effective=100, failing=["chk_vi_2"]), None),
])
def test_drill_judges_the_backup_as_every_handover_does(backup, refused):
    master = running("MASTER", priority=100, effective=110, holds=True)
    statuses = {"host-01": master, "host-02": backup}
    if refused is None:
        assert plan_from("VI_1", weighted(10), statuses).backup == "host-02"
    else:
        with pytest.raises(DrillRefused, match=re.escape(
                "the backup of VI_1 is not healthy: " + refused)):
            plan_from("VI_1", weighted(10), statuses)


def test_drill_refuses_when_a_hosts_state_cannot_be_read():
    statuses = {"host-01": running("MASTER", holds=True), "host-02": None}
    with pytest.raises(DrillRefused, match="the state of host-02 could not be read"):
        plan_from("VI_1", settings(), statuses)
