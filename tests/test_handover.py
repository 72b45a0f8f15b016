"""The handover every path that takes VIPs off a holder shares (operations.handover): the
health decision (the peers' states in, the verdict out), the plan made from the
inventory, the verdict read when the restart's step runs, and the host side
(handover.sh's hand_over through stop.sh) in a real shell. What a real cluster sees is in
tests/e2e/test_rolling_restart.py."""

import os
import shlex
import subprocess

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.operations import handover, state_files
from pyinfra_keepalived.render import config as render

from .fakeclock import LONG_UPTIME, fake_clock, uptime_now
from .fakehosts import deploy, make_state, op_commands, up_to_date_probes

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("recorder")]

Peer = handover.Peer


def backup(host="h2", effective=90, priority=90, failing=(), state="BACKUP", nopreempt=False,
           raised=0):
    return Peer(host, state, priority, effective, tuple(failing), nopreempt, raised)


# -- the decision: which peer takes the VIPs, and whether it may --

@pytest.mark.parametrize("peers, below, taker, reason", [
    # one healthy backup
    ([backup()], handover.DRAINED, "h2", None),
    # the highest effective priority takes over: a sick peer below a healthy one is fine
    ([backup("h2", 70, 90, ["chk"]), backup("h3", 80, 80)], handover.DRAINED, "h3", None),
    # ... but a sick peer on top is refused, named with what is wrong
    ([backup("h2", 70, 90, ["chk"]), backup("h3", 60, 60)], handover.DRAINED, None,
     "the peer that would take VI_1 is not healthy: h2: check script(s) failing: chk"),
    # a tracked interface or process pulls the priority down without a failing script
    ([backup("h2", 80, 90)], handover.DRAINED, None,
     "the peer that would take VI_1 is not healthy: h2: effective priority 80 < priority 90"),
    # a tie on top: both must be healthy (VRRP picks by address)
    ([backup("h2", 80, 80), backup("h3", 80, 90)], handover.DRAINED, None,
     "the peer that would take VI_1 is not healthy: h3: effective priority 80 < priority 90"),
    # nobody can take them: stopped, FAULT, unreachable, not loaded
    ([backup("h2", None, None, state="STOPPED"), backup("h3", 80, 80, state="FAULT"),
      Peer("h4", handover.UNREACHABLE), Peer("h5", "NOT LOADED")], handover.DRAINED, None,
     "no healthy peer can take VI_1 (h2: keepalived is not running; h3: state FAULT; "
     "h4: its state could not be read; h5: state NOT LOADED)"),
    # a peer at priority 1 does not win against a drained holder (1 as well)...
    ([backup("h2", 1, 1)], handover.DRAINED, None,
     "no healthy peer can take VI_1 (h2: priority too low)"),
    # ... but does against a graceful stop (priority 0)
    ([backup("h2", 1, 1)], handover.STOPPED, "h2", None),
    # a MASTER peer (split brain) takes nothing
    ([backup("h2", state="MASTER")], handover.DRAINED, None,
     "no healthy peer can take VI_1 (h2: state MASTER)"),
    ([], handover.DRAINED, None,
     "no healthy peer can take VI_1 (no other host is configured with it)"),
    # a GOOD check with a positive weight raises the effective priority: healthy
    ([backup("h2", 100, 90, raised=10)], handover.DRAINED, "h2", None),
    # ... and the same peer without that weight (its check is not GOOD, or an interface
    # with a positive weight is down) is not
    ([backup("h2", 90, 90, raised=10)], handover.DRAINED, None,
     "the peer that would take VI_1 is not healthy: h2: effective priority 90 < 100 "
     "(priority 90 plus its tracked items' weights)"),
    ([backup("h2", 95, 90, raised=10)], handover.DRAINED, None,
     "the peer that would take VI_1 is not healthy: h2: effective priority 95 < 100 "
     "(priority 90 plus its tracked items' weights)"),
    # keepalived clamps at 254: 250 + 10 is healthy at 254
    ([backup("h2", 254, 250, raised=10)], handover.DRAINED, "h2", None),
])
def test_taker(peers, below, taker, reason):
    chosen, why = handover.taker("VI_1", peers, below)
    assert (chosen and chosen.host, why) == (taker, reason)


DRAINED_VI_1 = handover.Handover("VI_1", ("10.0.0.1",), True, (("h2", False),))
SYNCED_VI_2 = handover.Handover("VI_2", ("10.0.0.2",), False, (("h2", False),))


@pytest.mark.parametrize("handovers, peers, verdict", [
    # healthy peer: everything may go
    ((DRAINED_VI_1, SYNCED_VI_2), {"VI_1": [backup()], "VI_2": [backup()]},
     handover.Verdict()),
    # the healthy taker has nopreempt: the drain will not move VI_1, the stop may
    ((DRAINED_VI_1,), {"VI_1": [backup(nopreempt=True)]}, handover.Verdict(kept=("10.0.0.1",))),
    # nopreempt, but the peer is stopped: refused (no graceful stop into nothing)
    ((DRAINED_VI_1,), {"VI_1": [backup(state="STOPPED", nopreempt=True)]},
     handover.Verdict(refused=("10.0.0.1",),
                      reason="no healthy peer can take VI_1 (h2: keepalived is not running)")),
    # a sync group's VIP goes with the stop only to a healthy peer
    ((SYNCED_VI_2,), {"VI_2": [backup(failing=["chk"], effective=70)]},
     handover.Verdict(refused=("10.0.0.2",), reason="the peer that would take VI_2 is not "
                      "healthy: h2: check script(s) failing: chk")),
    # one instance refused, the other fine
    ((DRAINED_VI_1, SYNCED_VI_2), {"VI_1": [backup(state="FAULT")], "VI_2": [backup()]},
     handover.Verdict(refused=("10.0.0.1",),
                      reason="no healthy peer can take VI_1 (h2: state FAULT)")),
])
def test_decide(handovers, peers, verdict):
    assert handover.decide(handovers, peers) == verdict


def test_peer_from_a_status():
    from pyinfra_keepalived.facts.keepalived import InstanceStatus, VrrpStatus
    status = VrrpStatus(True, {"VI_1": InstanceStatus("VI_1", "BACKUP", 90, 70)},
                        failing_scripts=("chk", "chk_vi_2"))
    config = handover.Configured("h2", True, 10, ("chk",))
    # only the scripts VI_1 tracks count: chk_vi_2 (another instance's) fails unseen
    assert handover.peer(config, status, "VI_1") == Peer("h2", "BACKUP", 90, 70, ("chk",),
                                                         True, 10)
    assert handover.peer(config, status, "VI_9").state == "NOT LOADED"
    assert handover.peer(config, VrrpStatus(False, {}), "VI_1").state == "STOPPED"
    assert handover.peer(config, None, "VI_1").state == handover.UNREACHABLE


@pytest.mark.parametrize("failing, reason", [
    (("chk_vi_2",), None),  # another instance's script: VI_1's handover goes on
    (("chk_vi_1", "chk_vi_2"), "check script(s) failing: chk_vi_1"),
])
def test_only_the_instances_own_scripts_make_a_peer_unhealthy(failing, reason):
    from pyinfra_keepalived.facts.keepalived import InstanceStatus, VrrpStatus
    status = VrrpStatus(True, {"VI_1": InstanceStatus("VI_1", "BACKUP", 90, 90)},
                        failing_scripts=failing)
    peer = handover.peer(handover.Configured("h2", False, 0, ("chk_vi_1",)), status, "VI_1")
    assert handover.problem(peer) == reason


# -- the plan, from the inventory --

def plan_of(instances, sync_groups=None, peers=("VI_1",), peer_data=None):
    base = {"name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
            "virtual_ipaddresses": ["192.168.1.100/24"]}
    mine = [{**base, **instance} for instance in instances]
    hosts = [("h1", {"keepalived_vrrp_instances": mine, "keepalived_priority": 100,
                     "keepalived_sync_groups": sync_groups or {}}),
             ("h2", {"keepalived_vrrp_instances": [{**base, "name": name, **instance,
                                                    **(peer_data or {})}
                                                   for name, instance in zip(peers, mine)],
                     "keepalived_priority": 90, "keepalived_state": "BACKUP",
                     "keepalived_sync_groups": sync_groups or {}})]
    settings = check_hosts(hosts, warn=lambda _: None)
    return handover.plan(settings["h1"], [settings["h2"]]), settings["h1"]


def test_plan_drains_what_it_can_and_stops_the_rest():
    plan, _ = plan_of([{}])
    assert (plan.drain_vips, plan.stop_vips, plan.wait, plan.drain_wait) == (
        ("192.168.1.100",), (), 13, 7)
    assert plan.handovers == (handover.Handover("VI_1", ("192.168.1.100",), True,
                                                (handover.Configured("h2", False, 0),)),)
    plan, settings = plan_of([{"priority": 255}])
    assert (plan.drain_vips, plan.stop_vips) == ((), ("192.168.1.100",))
    assert not plan.handovers[0].drainable
    assert not render.drainable(settings, settings.instances[0])
    second = {"name": "VI_2", "virtual_router_id": 52,
              "virtual_ipaddresses": ["192.168.1.101/24"]}
    plan, _ = plan_of([{}, second], sync_groups={"VG": {"instances": ["VI_1", "VI_2"]}},
                      peers=("VI_1", "VI_2"))
    assert plan.drain_vips == () and plan.stop_vips == ("192.168.1.100", "192.168.1.101")


def test_plan_leaves_out_instances_no_other_host_has():
    second = {"name": "VI_2", "virtual_router_id": 52,
              "virtual_ipaddresses": ["2001:db8:0::0100/64"], "advert_int": 3}
    plan, _ = plan_of([{}, second])
    assert plan.instances == ("VI_1", "VI_2") and plan.drain_vips == ("192.168.1.100",)
    assert [h.instance for h in plan.handovers] == ["VI_1"]
    assert (plan.wait, plan.drain_wait) == (19, 15)  # the slowest advert_int counts


def test_plan_waits_for_the_hosts_checks_to_be_good_again():
    hosts = [(name, {"keepalived_vrrp_instances": [{
        "name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
        "virtual_ipaddresses": ["192.168.1.100/24"], "track_scripts": ["chk"]}],
        "keepalived_check_scripts": [{"name": "chk.sh", "vrrp_name": "chk",
                                      "template": "check_systemd_service.sh.j2",
                                      "service_name": "ssh.service", "interval": 5,
                                      "rise": 3, "timeout": 2, "weight": -20}],
        "keepalived_priority": priority}) for name, priority in (("h1", 100), ("h2", 90))]
    settings = check_hosts(hosts, warn=lambda _: None)
    assert handover.plan(settings["h1"], [settings["h2"]]).wait == 3 + 10 + 5 * 3 + 2


def script(vrrp_name, weight, interval=2, rise=1):
    return {"name": f"{vrrp_name}.sh", "vrrp_name": vrrp_name, "weight": weight,
            "template": "check_systemd_service.sh.j2", "service_name": "ssh.service",
            "interval": interval, "rise": rise}


PROCESSES = {"haproxy": {"process": "haproxy", "weight": 7},
             "nginx": {"process": "nginx", "weight": -7}}


@pytest.mark.parametrize("scripts, tracked, interfaces, raised, processes", [
    ([script("chk", 10)], ["chk"], [], 10, []),  # a GOOD check's positive weight counts
    ([script("chk", -20)], ["chk"], [], 0, []),  # a negative one only while it fails
    ([script("chk", 10)], [], [], 0, []),  # a script it does not track: nothing
    ([], [], [{"interface": "eth1", "weight": 15}], 15, []),  # an interface's, while up
    ([script("chk", 200)], ["chk"], [{"interface": "eth1", "weight": 50}], 250, []),
    ([], [], [], 7, ["haproxy", "nginx"]),  # a running process's positive weight
    ([], [], [], 3, ["haproxy weight 3"]),  # the instance's own weight for it
    ([], [], [], 0, ["nginx weight -3"]),  # a negative one only while it is missing
])
def test_plan_judges_each_peer_by_its_priority_while_all_it_tracks_is_well(
        scripts, tracked, interfaces, raised, processes):
    hosts = [(name, {"keepalived_vrrp_instances": [{
        "name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
        "virtual_ipaddresses": ["192.168.1.100/24"], "track_scripts": tracked,
        "track_interfaces": interfaces, "track_processes": processes}],
        "keepalived_check_scripts": scripts, "keepalived_priority": priority,
        "keepalived_track_processes": PROCESSES})
        for name, priority in (("h1", 130), ("h2", 90))]
    settings = check_hosts(hosts, warn=lambda _: None)
    [peer] = handover.plan(settings["h1"], [settings["h2"]]).handovers[0].peers
    assert peer == handover.Configured("h2", False, raised, tuple(tracked))


BFDS = {"gw": {"neighbor_ip": "192.168.1.254", "weight": 9},
        "gw6": {"neighbor_ip": "2001:db8::fe", "weight": -9}}


@pytest.mark.parametrize("tracked, raised", [
    (["gw", "gw6"], 9),  # a BFD session's positive weight, while it is up
    (["gw weight 4"], 4),  # the instance's own weight for it
    (["gw6 weight -4"], 0),  # a negative one only while it is down
    ([], 0),
])
def test_plan_counts_the_bfd_sessions_a_peer_tracks(tracked, raised):
    hosts = [(name, {"keepalived_vrrp_instances": [{
        "name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
        "virtual_ipaddresses": ["192.168.1.100/24"], "track_bfds": tracked}],
        "keepalived_priority": priority, "keepalived_bfd_instances": BFDS})
        for name, priority in (("h1", 130), ("h2", 90))]
    settings = check_hosts(hosts, warn=lambda _: None)
    [peer] = handover.plan(settings["h1"], [settings["h2"]]).handovers[0].peers
    assert peer == handover.Configured("h2", False, raised, ())


def test_plan_waits_only_for_the_checks_its_instances_track():
    hosts = [(name, {"keepalived_vrrp_instances": [{
        "name": "VI_1", "interface": "eth0", "virtual_router_id": 51,
        "virtual_ipaddresses": ["192.168.1.100/24"], "track_scripts": ["chk"]}],
        "keepalived_check_scripts": [script("chk", -20, interval=5, rise=3),
                                     script("other", -20, interval=60, rise=5)],
        "keepalived_priority": priority}) for name, priority in (("h1", 100), ("h2", 90))]
    settings = check_hosts(hosts, warn=lambda _: None)
    assert handover.plan(settings["h1"], [settings["h2"]]).wait == 3 + 10 + 5 * 3


def test_plan_knows_which_peer_has_nopreempt_and_waits_out_preempt_delay():
    plan, _ = plan_of([{"state": "BACKUP"}], peer_data={"nopreempt": True})
    assert [(peer.host, peer.nopreempt) for peer in plan.handovers[0].peers] == [("h2", True)]
    plan, _ = plan_of([{"state": "BACKUP"}], peer_data={"preempt_delay": 30})
    assert plan.drain_wait == 7 + 30  # the peer waits that long before it takes over


# -- the restart step reads the peers when it runs --

def status_lines(state="BACKUP", effective=90, script="GOOD"):
    """KeepalivedStatus's output (the filtered dump) of a peer of VI_1."""
    return ["## now 100", "## running 42", "------< VRRP Topology >------",
            " VRRP Instance = VI_1", f"   State = {state}", "   Priority = 90",
            f"   Effective priority = {effective}", "------< VRRP Scripts >------",
            " VRRP Script = check_ssh", f"   Status = {script}", "## addresses"]


@pytest.mark.parametrize("peer, refused, reason", [
    (status_lines(), "", ""),
    (status_lines(effective=70, script="BAD"), "192.168.1.100",
     "the peer that would take VI_1 is not healthy: {peer}: check script(s) failing: "
     "check_ssh"),
    (status_lines(state="FAULT"), "192.168.1.100",
     "no healthy peer can take VI_1 ({peer}: state FAULT)"),
])
def test_holders_step_carries_the_peers_verdict(peer, refused, reason, recorder):
    distro = "debian"
    group = {"keepalived_package_version": "1:2.2.7-1+b2"}
    probes = up_to_date_probes(make_state(distro, group_data=group), "1:2.2.7-1")
    state = make_state(distro, probes=probes, group_data=group,
                       responses={name: {'echo "## addresses"': peer}
                                  for name in ("@fake/host-01", "@fake/host-02")})
    for host in deploy(state):
        other = next(h.name for h in state.inventory if h is not host)
        [holders] = [c for c in op_commands(host, recorder) if "(holders stage)" in c]
        assert shlex.split(holders)[-3:] == ["", refused, reason.format(peer=other)]


# -- the host side: hand_over, through uninstall's stop.sh --

def run_stop(tmp_path, holds_after_drain, kept="", refused="", reason="", drain_wait="1",
             clock=None, locked=False):
    """stop.sh in a real shell: a stub `ip` shows the VIP until the drain is written
    (unless `holds_after_drain`), a stub systemctl logs its arguments. `clock`: a fake
    clock's environment (tests/fakeclock.py); `locked`: under the deploy lock (lock.sh, its
    files in tmp_path), as sent."""
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    drain = tmp_path / "drain"
    keep = "true" if holds_after_drain else f"[ ! -s {drain} ] || grep -qx 0 {drain}"
    (stubs / "ip").write_text(f"#!/bin/sh\n{keep} && "
                              "echo '2: eth0    inet 192.168.1.100/24 scope global'\ntrue\n")
    (stubs / "systemctl").write_text(f"#!/bin/sh\necho \"$*\" >> {tmp_path}/systemctl\n")
    for stub in ("ip", "systemctl"):
        os.chmod(stubs / stub, 0o755)
    lock = ([state_files.LOCK_SCRIPT + "\n" + handover.STOP_SCRIPT, "stop",
             str(tmp_path / "lock"), str(tmp_path / "holder"), "5", "uninstall"] if locked
            else [handover.STOP_SCRIPT, "stop"])
    environment = {**os.environ, **(clock or {})}
    environment["PATH"] = f"{stubs}:{environment['PATH']}"
    return subprocess.run(
        ["sh", "-c", *lock, "h1", str(drain), drain_wait, "192.168.1.100", "",
         kept, refused, reason], capture_output=True, text=True, env=environment,
        timeout=60)  # (a guard: a wait that never ends fails the test, not the suite)


def systemctl_calls(tmp_path):
    log = tmp_path / "systemctl"
    return log.read_text().splitlines() if log.exists() else []


def test_stop_after_the_peer_took_the_vip(tmp_path):
    result = run_stop(tmp_path, holds_after_drain=False)
    assert result.returncode == 0, result.stderr
    assert "drained, a peer took them" in result.stdout
    assert systemctl_calls(tmp_path) == ["stop keepalived.service"]


def test_no_stop_when_no_peer_took_the_vip(tmp_path):
    result = run_stop(tmp_path, holds_after_drain=True)
    assert result.returncode == 1
    assert "no peer took 192.168.1.100 within 1 s of the drain" in result.stderr
    assert "keepalived was NOT stopped" in result.stderr
    assert systemctl_calls(tmp_path) == []
    assert (tmp_path / "drain").read_text() == "0\n"  # undrained


def test_no_drain_and_no_stop_when_the_peers_refuse(tmp_path):
    result = run_stop(tmp_path, holds_after_drain=False, refused="192.168.1.100",
                      reason="no healthy peer can take VI_1 (h2: state FAULT)")
    assert result.returncode == 1
    assert ("no healthy peer can take VI_1 (h2: state FAULT); it holds 192.168.1.100; "
            "keepalived was NOT stopped") in result.stderr
    assert systemctl_calls(tmp_path) == [] and not (tmp_path / "drain").exists()


def test_kept_vip_goes_with_the_stop(tmp_path):
    result = run_stop(tmp_path, holds_after_drain=True, kept="192.168.1.100")
    assert result.returncode == 0, result.stderr
    assert systemctl_calls(tmp_path) == ["stop keepalived.service"]


@pytest.mark.parametrize("uptime, centiseconds", [
    ("12.34", 1234), ("0.08", 8), ("21474836.47", 2147483647),
    # past 2^31 centiseconds (248.5 days): mawk's printf %d stopped the clock here
    ("21474836.48", 2147483648), ("86400000.00", 8640000000),
])
def test_monotonic_clock_in_centiseconds_from_the_uptime(uptime, centiseconds, tmp_path):
    (tmp_path / "uptime").write_text(f"{uptime} 1.00\n")
    result = subprocess.run(["sh", "-c", handover.HANDOVER_FUNCTIONS
                             + 'now; seconds 1234; seconds 5'], capture_output=True, text=True,
                            env={**os.environ, "uptime_file": str(tmp_path / "uptime")})
    assert result.stdout.split() == [str(centiseconds), "12.34", "0.05"], result.stderr


def test_the_clock_advances_and_a_wait_times_out_after_248_days_of_uptime(tmp_path):
    """With an uptime past 2^31 centiseconds the clock still moves (a fake uptime that
    the stub `sleep` moves on) and the drain's wait ends: no peer took the VIP within
    its 1 s, the host is undrained and keepalived not stopped."""
    result = run_stop(tmp_path, holds_after_drain=True, clock=fake_clock(tmp_path))
    assert result.returncode == 1
    assert "no peer took 192.168.1.100 within 1 s of the drain" in result.stderr
    assert systemctl_calls(tmp_path) == []
    assert (tmp_path / "drain").read_text() == "0\n"
    assert float(uptime_now(tmp_path)) >= float(LONG_UPTIME) + 1


@pytest.mark.parametrize("lock_wait, stopped", [(0, True), (2, True), (2.01, False),
                                                 (119, False)])
def test_no_handover_when_the_lock_was_waited_for(lock_wait, stopped, tmp_path):
    """The peers' verdict was read before the lock was had: when another run held the
    lock more than 2 s meanwhile (it may have restarted the peer), the host refuses the
    handover, nothing changed (not drained, not stopped)."""
    result = run_stop(tmp_path, holds_after_drain=False, locked=True,
                      clock=fake_clock(tmp_path, flock_wait=lock_wait))
    assert (result.returncode == 0) == stopped, result.stderr
    assert systemctl_calls(tmp_path) == (["stop keepalived.service"] if stopped else [])
    if not stopped:
        assert (f"the peers' state was read over {lock_wait:.2f} s ago, another run held "
                "the lock meanwhile; run again; keepalived was NOT stopped") in result.stderr
        assert not (tmp_path / "drain").exists()
