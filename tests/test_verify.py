"""The deploy's verification of the cluster (deploys.verify), status.py's ELECTING and exit
codes (deploys.status), and validation messages grouped across hosts (model.problems)."""

import sys

import pytest
from pyinfra.api.exceptions import PyinfraError
from pyinfra.context import ctx_host, ctx_inventory, ctx_state

from pyinfra_keepalived.deploys import status, verify
from pyinfra_keepalived.deploys.status import Row, electing, problems, unread
from pyinfra_keepalived.model.peers import master_down_interval, settle_seconds
from pyinfra_keepalived.model.problems import Problem, grouped, hosts_text
from pyinfra_keepalived.model.validate import DATA_KEYS
from tests.fakehosts import (
    GROUP_DATA,
    HOSTS,
    add,
    deploy,
    make_state,
    operation_names,
    up_to_date_probes,
)
from tests.hostdata import check, check_fails, host_01, host_02, script

pytestmark = pytest.mark.unit

VIP = "192.168.1.100/24"


def row(host, state, holds=False, effective=100, since=None, settles_in=4.0):
    """A status row of VI_1; `since`: seconds since its last transition (None: unknown)."""
    return Row(host=host, instance="VI_1", state=state, priority=effective,
               effective_priority=effective, vips=(VIP,), holds=(VIP,) if holds else (),
               last_transition=None if since is None else 1000.0 - since,
               now=None if since is None else 1000.0, settles_in=settles_in)


# -- the verification's decision: states in, verdict out --

PREEMPTING = frozenset({"host-01", "host-02", "host-03"})


@pytest.mark.parametrize("group, settled, text", [
    ([row("host-01", "MASTER", True), row("host-02", "BACKUP", effective=90)], True,
     f"VI_1: host-01 MASTER holding {VIP}, host-02 BACKUP"),
    ([row("host-01", "BACKUP"), row("host-02", "BACKUP", effective=90)], False,
     "NO MASTER: VI_1 (host-01 BACKUP, host-02 BACKUP) [host-01 BACKUP, host-02 BACKUP]"),
    ([row("host-01", "FAULT"), row("host-02", "FAULT", effective=90)], False,
     "NO MASTER: VI_1 (host-01 FAULT, host-02 FAULT) [host-01 FAULT, host-02 FAULT]"),
    ([row("host-01", "MASTER", True), row("host-02", "MASTER", True, effective=90)], False,
     "SPLIT BRAIN: VI_1 is MASTER on 2 hosts: host-01, host-02 "
     f"[host-01 MASTER holding {VIP}, host-02 MASTER holding {VIP}]"),
    ([row("host-01", "MASTER", True), row("host-02", "STOPPED", True, effective=None)], False,
     "SPLIT BRAIN: VI_1's VIPs are on 2 hosts: host-01, host-02 "
     f"[host-01 MASTER holding {VIP}, host-02 STOPPED holding {VIP}]"),
    ([row("host-01", "MASTER"), row("host-02", "BACKUP", True, effective=90)], False,
     f"VIPS ON THE WRONG HOST: VI_1: MASTER host-01 holds none of {VIP} "
     f"[host-01 MASTER, host-02 BACKUP holding {VIP}]"),
    ([row("host-01", "MASTER", True), row("host-02", "FAULT", effective=90)], False,
     f"NO STANDBY: VI_1: not every other host BACKUP [host-01 MASTER holding {VIP}, "
     "host-02 FAULT]"),
    ([row("host-01", "BACKUP"), row("host-02", "MASTER", True, effective=90)], False,
     "NOT SETTLED: VI_1: MASTER host-02 has a lower priority than host-01, which will take "
     f"over [host-01 BACKUP, host-02 MASTER holding {VIP}]"),
    ([row("host-01", "MASTER", True), row("host-02", "BACKUP", effective=90),
      row("host-03", "BACKUP", effective=80)], True,
     f"VI_1: host-01 MASTER holding {VIP}, host-02 BACKUP, host-03 BACKUP"),
])
def test_verdict(group, settled, text):
    assert verify.verdict(group, PREEMPTING) == (settled, text)


def test_a_higher_backup_with_nopreempt_leaves_the_master_where_it_is():
    group = [row("host-01", "BACKUP"), row("host-02", "MASTER", True, effective=90)]
    assert verify.verdict(group, frozenset({"host-02"}))[0] is True


@pytest.mark.parametrize("group, settled", [
    ([row("host-02", "BACKUP", effective=90)], True),  # the MASTER may be outside --limit
    ([row("host-02", "FAULT", effective=90)], False),
    ([row("host-02", "MASTER", True, effective=90)], True),
])
def test_verdict_with_hosts_outside_the_run(group, settled):
    assert verify.verdict(group, PREEMPTING, partial=True)[0] is settled


def test_touched_instances_are_those_of_the_hosts_that_changed():
    settings, _ = check(("host-01", host_01()), ("host-02", host_02()))
    assert verify.touched(settings, {"host-02"}) == ["VI_1"]
    assert verify.touched(settings, set()) == []


def test_settle_time_is_the_slowest_hosts_master_down_interval_and_first_check():
    settings, _ = check(("host-01", host_01()), ("host-02", host_02()))
    backup = settings["host-02"].instances[0]
    assert master_down_interval(backup) == pytest.approx(3 + (256 - 90) / 256)
    check_ssh = settings["host-02"].scripts[0]
    assert settle_seconds(settings, "VI_1") == pytest.approx(
        3 + (256 - 90) / 256 + check_ssh.interval * check_ssh.rise)


def test_vrrp3_skew_scales_with_the_advert_interval():
    settings, _ = check(("host-01", {**host_01(advert_int=0.5, version=3, auth_type=None,
                                               auth_pass=None)}))
    assert master_down_interval(settings["host-01"].instances[0]) == pytest.approx(
        1.5 + 0.5 * (256 - 100) / 256)


def test_the_wait_polls_until_settled_on_a_monotonic_clock(monkeypatch):
    """settle() reads the hosts again until the verdict is reached; the clock and the
    sleep are injected (no timed assert)."""
    settings, _ = check(("host-01", host_01()), ("host-02", host_02()))
    hosts = [type("H", (), {"name": name})() for name in settings]
    monkeypatch.setattr(verify, "state", type("S", (), {"inventory": type(
        "I", (), {"get_active_hosts": staticmethod(lambda: hosts)})()}))
    from pyinfra_keepalived.facts.keepalived import InstanceStatus, VrrpStatus

    def status(state, holds=False):
        return VrrpStatus(running=True, instances={"VI_1": InstanceStatus(
            name="VI_1", state=state, priority=100, effective_priority=100)},
            addresses=frozenset({"192.168.1.100"} if holds else ()))

    answers = iter([{"host-01": status("BACKUP"), "host-02": status("BACKUP")},
                    {"host-01": status("MASTER", True), "host-02": status("BACKUP")}])
    now = iter([0.0, 1.0, 2.0])
    result = verify.settle(settings, ["VI_1"], 10, read=lambda _: next(answers),
                           clock=lambda: next(now), sleep=lambda _: None)
    assert result["VI_1"][:2] == (True, f"VI_1: host-01 MASTER holding {VIP}, host-02 BACKUP")

    answers = iter([{"host-01": status("FAULT"), "host-02": status("FAULT")}] * 3)
    limit = settle_seconds(settings, "VI_1") + 1
    now = iter([0.0, 1.0, limit + 1])
    result = verify.settle(settings, ["VI_1"], 1, read=lambda _: next(answers),
                           clock=lambda: next(now), sleep=lambda _: None)
    assert result["VI_1"][:2] == (False, "NO MASTER: VI_1 (host-01 FAULT, host-02 FAULT) "
                                  "[host-01 FAULT, host-02 FAULT]: not settled within "
                                  f"{limit:.1f} s")

    unreachable = iter([{"host-01": status("MASTER", True), "host-02": OSError("timed out")}])
    result = verify.settle(settings, ["VI_1"], 1, read=lambda _: next(unreachable),
                           clock=iter([0.0, 0.5]).__next__, sleep=lambda _: None)
    assert result["VI_1"][:2] == (False, "VI_1: status not read from host-02: timed out")


# -- status.py: electing is not NO MASTER --

def test_hosts_all_backup_in_their_first_master_down_interval_are_electing():
    group = [row("host-01", "BACKUP", since=2), row("host-02", "BACKUP", since=1)]
    assert problems(group, electing_ok=True) == []
    assert electing(group) == ["ELECTING: VI_1 (started 2s ago; every host BACKUP within its "
                               "first Master_Down_Interval)"]
    assert problems(group) == ["NO MASTER: VI_1 (host-01 BACKUP, host-02 BACKUP)"]


@pytest.mark.parametrize("group", [
    [row("host-01", "BACKUP", since=9), row("host-02", "BACKUP", since=1)],  # past it
    [row("host-01", "FAULT", since=1), row("host-02", "BACKUP", since=1)],
    [row("host-01", "BACKUP"), row("host-02", "BACKUP")],  # times unknown
])
def test_no_master_after_the_first_interval_or_with_a_fault_is_no_master(group):
    assert electing(group) == []
    assert problems(group, electing_ok=True)[0].startswith("NO MASTER: VI_1")


def test_hosts_not_read_are_named_and_no_master_among_the_others_is_no_verdict():
    settings, _ = check(("host-01", host_01()), ("host-02", host_02()))
    assert unread(settings, {"host-02": None}) == {"VI_1": ["host-01"]}
    group = [row("host-02", "BACKUP")]
    assert problems(group, partial={"VI_1"}) == []


# -- messages grouped across hosts --

@pytest.mark.parametrize("count, text", [
    (1, "host-01"), (2, "host-01 and host-02"), (3, "host-01, host-02 and host-03"),
    (50, "host-01, host-02 and 48 more"),
])
def test_hosts_text(count, text):
    assert hosts_text([f"host-{i:02d}" for i in range(1, count + 1)]) == text


def test_fifty_hosts_sharing_two_mistakes_get_two_lines_and_one_list_of_keys():
    data = {**host_01(), "keepalived_prioirty": 90, "keepalived_sate": "BACKUP"}
    error = check_fails(*[(f"host-{i:02d}", data) for i in range(1, 51)])
    assert len(error.errors) == 100  # every Problem is kept, for callers and --json alike
    allowed = ", ".join(DATA_KEYS)
    assert str(error) == (
        "keepalived data is invalid (100 error(s)); no host was changed:\n"
        "  - host-01, host-02 and 48 more: keepalived_prioirty: unknown key (did you mean "
        f"'keepalived_priority'?); allowed: {allowed}\n"
        "  - host-01, host-02 and 48 more: keepalived_sate: unknown key (did you mean "
        "'keepalived_state'?); allowed: as above")


def test_hosts_sharing_one_warning_get_one_line():
    scripts = [script(), script(name="spare.sh", vrrp_name="spare")]
    _, warnings = check(("host-01", host_01(scripts=scripts)),
                        ("host-02", host_02(scripts=scripts)))
    spare = [line for line in warnings if "spare" in line]
    assert len(spare) == 1 and spare[0].startswith(
        "keepalived data warning: host-01 and host-02: keepalived_check_scripts[1].vrrp_name"
        " = 'spare': "), warnings


def test_a_value_that_differs_per_host_is_a_line_of_its_own_in_first_met_order():
    problems = [Problem("host-02", "k", 2, "bad"), Problem("host-01", "k", 1, "bad"),
                Problem("host-03", "k", 2, "bad")]
    assert grouped(problems) == ["host-02 and host-03: k = 2: bad", "host-01: k = 1: bad"]


# -- the step in the deploy (fake hosts) --

STEP = "Keepalived | Wait until each changed VRRP instance has one MASTER holding its VIPs"
STATUS_MATCH = "echo \"## addresses\""  # in the status fact's command (facts/status.sh)


def status_output(state, holds):
    """KeepalivedStatus output of a host in `state` (MASTER when it `holds` the VIP)."""
    vip = GROUP_DATA["keepalived_vrrp_instances"][0]["virtual_ipaddresses"][0]
    vip = vip if isinstance(vip, str) else vip["address"]
    return ["## now 1000", "## running 953", "------< VRRP Topology >------",
            " VRRP Instance = VI_1", f"   State = {state}", "   Last transition = 900.0 (x)",
            "   Priority = 100", "   Effective priority = 100",
            "## addresses", "2: eth0    inet 10.0.0.1/24 scope global eth0\\"]\
        + ([f"2: eth0    inet {vip} scope global secondary eth0\\"] if holds else [])


def test_a_changing_run_ends_with_the_verification_and_a_no_op_adds_none(recorder):
    fresh = make_state("debian", group_data={"keepalived_verify": True})
    add(fresh)
    for host in fresh.inventory:
        assert operation_names(fresh, host)[-1] == STEP
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1+b2")
    converged = make_state("debian", probes=probes, group_data={"keepalived_verify": True})
    add(converged)
    for host in converged.inventory:
        assert operation_names(converged, host) == []
    off = make_state("debian", group_data={"keepalived_verify": False})
    add(off)
    for host in off.inventory:
        assert STEP not in operation_names(off, host)


def test_the_step_passes_once_one_master_holds_the_vip(recorder):
    first, second = HOSTS
    responses = {first: {STATUS_MATCH: status_output("MASTER", True)},
                 second: {STATUS_MATCH: status_output("BACKUP", False)}}
    state = make_state("debian", responses=responses, group_data={"keepalived_verify": True})
    for host in deploy(state):
        assert operation_names(state, host)[-1] == STEP
    assert not state.failed_hosts


def test_the_step_fails_a_split_brain_naming_it(recorder, monkeypatch, caplog):
    monkeypatch.setattr(verify, "settle_seconds", lambda *_: 0)  # (no real wait)
    responses = {name: {STATUS_MATCH: status_output("MASTER", True)} for name in HOSTS}
    state = make_state("debian", responses=responses,
                       group_data={"keepalived_verify": True, "keepalived_verify_wait": 0})
    with pytest.raises(PyinfraError, match="No hosts remaining"):
        deploy(state)
    assert state.failed_hosts == set(state.inventory)
    assert "keepalived did not settle: SPLIT BRAIN: VI_1 is MASTER on 2 hosts: " \
           f"{', '.join(HOSTS)}" in caplog.text


# -- status.py: --dry reads nothing, exit codes --

def run_status(state):
    for host in state.inventory:
        with ctx_state.use(state), ctx_inventory.use(state.inventory), ctx_host.use(host):
            status.report()


def status_reads(state):
    return [command for host in state.inventory
            for command in host.connector.executed_commands if STATUS_MATCH in str(command)]


def test_status_under_dry_signals_no_keepalived(recorder, monkeypatch, caplog):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "--dry", "inventory.py", "status.py"])
    caplog.set_level("INFO")
    state = make_state("debian")
    run_status(state)
    assert status_reads(state) == []
    assert "status: dry run, nothing read" in caplog.text


@pytest.mark.parametrize("first, second, code", [
    (("MASTER", True), ("BACKUP", False), None),
    (("MASTER", True), ("MASTER", True), status.EXIT_CLUSTER),
    (("FAULT", False), ("FAULT", False), status.EXIT_CLUSTER),
])
def test_status_exits_2_for_a_split_brain_or_no_master(recorder, monkeypatch, first, second,
                                                       code):
    monkeypatch.setattr(sys, "argv", ["pyinfra", "inventory.py", "status.py"])
    names = list(HOSTS)
    state = make_state("debian", responses={
        names[0]: {STATUS_MATCH: status_output(*first)},
        names[1]: {STATUS_MATCH: status_output(*second)}})
    if code is None:
        run_status(state)
    else:
        with pytest.raises(SystemExit) as exited:
            run_status(state)
        assert exited.value.code == code == 2
    assert len(status_reads(state)) == 2
