"""The pure parts of the benchmark harness (bench/): arithmetic, parsing, targets, report.
No docker and no timing: the measurements themselves run with `python3 -m bench`."""

import os
import subprocess
import time

import pytest

from bench import report, stats, targets
from bench.execs import ExecWatcher
from bench.triggers import Triggers

pytestmark = pytest.mark.unit

# Shaped like `pyinfra -vv` 3.10 output: a fact (two-line command), an operation, and two
# hosts interleaved.
VERBOSE = """\
    [host-01] Connected
[host-01] >>> sudo -H -n sh -c 'for i in `cat /etc/passwd`; do
    echo $i; done'
[host-02] >>> sudo -H -n sh -c 'cat /etc/group'
    [host-01] Loaded fact server.Users
[host-01] >>> sudo -H -n sh -c 'useradd -r keepalived_script'
    [host-02] Loaded fact server.Groups
[host-01] >>> sudo -H -n sh -c 'uname -s'
    [host-01] Success
    [host-01] Loaded fact server.Os
[host-02] >>> sudo -H -n sh -c 'systemctl start keepalived.service'
"""


def test_count_commands_tells_facts_from_operations():
    assert stats.count_commands(VERBOSE) == {
        "host-01": {"facts": 2, "operations": 1},
        "host-02": {"facts": 1, "operations": 1},
    }


def test_count_commands_ignores_colours():
    assert stats.count_commands("\x1b[1m[host-01] >>> uname\x1b[0m\n"
                                "    \x1b[32m[host-01] Loaded fact server.Os\x1b[0m\n") == {
        "host-01": {"facts": 1, "operations": 0}}


def test_median_and_slope():
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([]) is None
    assert stats.slope([(1, 1.0), (5, 3.0), (5, 3.0), (10, 5.5)]) == pytest.approx(0.5)
    assert stats.slope([(5, 1.0), (5, 2.0)]) is None


def test_grand_total():
    output = "    Grand total   \x1b[1m12\x1b[0m      2         -       10 \n"
    assert stats.grand_total(output) == (12, 2, 0, 10)
    with pytest.raises(ValueError, match="Grand total"):
        stats.grand_total("--> Connecting to hosts...")


def test_observer_log_first_answer_and_mac_changes():
    polls = stats.parse_observer("100.00 02:42:ac:1a:00:02\n100.03 lost\n100.06 -\n"
                                 "100.09 02:42:AC:1A:00:03\nend\n100.12 02:42:ac:1a:00:03\n")
    assert polls == [(100.0, "02:42:ac:1a:00:02"), (100.03, None), (100.06, None),
                     (100.09, "02:42:ac:1a:00:03"), (100.12, "02:42:ac:1a:00:03")]
    assert stats.first_answer(polls, "02:42:ac:1a:00:03", after=100.01) == pytest.approx(0.08)
    assert stats.first_answer(polls, "02:42:ac:1a:00:04", after=100.01) is None
    assert stats.mac_changes(polls) == 1


def test_state_transitions():
    journal = ("(VI_1) Entering BACKUP STATE (init)\nReload complete\n"
               "(VI_1) Entering MASTER STATE\n")
    assert stats.state_transitions(journal) == ["BACKUP", "MASTER"]


def deploy(noop5, noop10, noop20, cold10):
    size = lambda noop, cold=30.0: {"cold": [cold], "noop": [noop]}  # noqa: E731
    return {"sizes": {"5": size(noop5), "10": size(noop10, cold10), "20": size(noop20)}}


def verdicts(rows):
    return {figure: verdict for figure, _, _, verdict in rows}


def test_deploy_targets():
    assert verdicts(targets.deploy_rows(deploy(1.0, 1.9, 1.5, 21.0))) == {
        "no-op re-run, N=10": "met", "no-op time N=20 / N=5": "met",
        "cold converge, N=10": "met"}
    assert verdicts(targets.deploy_rows(deploy(1.0, 2.0, 1.6, 22.0))) == {
        "no-op re-run, N=10": "MISSED", "no-op time N=20 / N=5": "MISSED",
        "cold converge, N=10": "MISSED"}
    assert set(verdicts(targets.deploy_rows({"sizes": {}})).values()) == {"not measured"}


def test_noop_ratio_shows_the_floors_beside_it():
    results = deploy(1.0, 1.9, 1.6, 21.0)
    for count, connect, probe in (("5", 0.5, 0.6), ("10", 0.6, 0.8), ("20", 0.7, 1.02)):
        results["sizes"][count].update(noop_connect=[connect], noop_probe=[probe],
                                       noop_max_rss_kib=[61440], cold_max_rss_kib=[61440])
    row = [row for row in targets.deploy_rows(results) if row[0] == "no-op time N=20 / N=5"]
    assert row == [("no-op time N=20 / N=5",
                    "1.60x (floors here: connect and sudo only 1.40x, probe only 1.70x)",
                    "<= 1.5x", "MISSED")]
    text = report.markdown({"deploy": results})
    assert "| 20 | 30.00 (1 runs) | 1.60 | 0.70 | 1.02 | - | 60 / 60 |" in text
    assert "connect and sudo only 1.40x, probe only 1.70x." in text


def test_failover_targets():
    kinds = {"sigkill": {"theory": 3.65, "times": [3.4, 3.5, 3.6, 4.2, 3.3]},
             "fast": {"theory": 0.365, "times": [0.33, 0.35, 0.51]},
             "stop": {"theory": 0.65, "times": [0.6, None]}}
    assert verdicts(targets.failover_rows({"kinds": kinds})) == {
        "sigkill: median": "met", "sigkill: max of 5": "MISSED",  # 4.2 > 3.65 + 0.5
        "fast: median": "met", "fast: max of 3": "MISSED",  # 0.51 >= 0.5
        "stop: median": "met", "stop: max of 2": "MISSED"}  # a trial without answer
    kinds = {"sigkill": {"theory": 3.65, "times": [2.7, 2.9, 3.0]}}
    assert verdicts(targets.failover_rows({"kinds": kinds}))["sigkill: median"] == "MISSED"


def test_reload_targets_count_transitions_and_mac_changes():
    reload = {"changes": 20, "lost": 0, "mac_changes": 0,
              "transitions": {"host-01": [], "host-02": []}}
    assert set(verdicts(targets.reload_rows(reload)).values()) == {"met"}
    reload["transitions"]["host-02"] = ["MASTER"]
    assert verdicts(targets.reload_rows(reload)) == {
        "reload: lost polls (20 changes)": "met",
        "reload: state transitions + MAC changes": "MISSED"}


def test_report_tables_show_targets_and_quoted_references():
    results = {"machine": {"date": "2026-11-24 22:00 UTC", "nproc": 2},
               "deploy": {"sizes": {"10": {"cold": [25.0, 23.0, 24.0], "noop": [1.5],
                                           "cold_max_rss_kib": [60000],
                                           "noop_max_rss_kib": [58000],
                                           "commands": {"host-01": {"facts": 9,
                                                                    "operations": 1}}}}}}
    text = report.markdown(results)
    assert "| cold converge, N=10 | 24.00 s | < 22 s | **MISSED** |" in text
    assert "| no-op re-run, N=10 | 1.50 s | < 2.0 s | met |" in text
    assert "| 10 | 24.00 (3 runs) | 1.50 | - | - | 9 + 1 | 57 / 59 |" in text
    assert "quoted from issue 5, not measured here" in text
    assert "| Ansible role (10 forks, pipelining) | 10 | 64.0 | 24.0 |" in text
    assert "2026-11-24 22:00 UTC" in text and "2 cores" in text


def vrrp_frame(source, priority, header_words=5):
    ip = bytes([0x40 | header_words, 0, 0, 40, 0, 0, 0, 0, 255, 112, 0, 0,
                *map(int, source.split(".")), 224, 0, 0, 18]) + bytes(4 * (header_words - 5))
    return b"\x01\x00\x5e\x00\x00\x12" + b"\x02\x42\xac\x1a\x00\x02" + b"\x08\x00" + ip + bytes(
        [0x21, 51, priority, 1, 0, 1, 0, 0])


def test_parse_vrrp():
    assert stats.parse_vrrp(vrrp_frame("172.26.0.2", 100)) == ("172.26.0.2", 100)
    assert stats.parse_vrrp(vrrp_frame("172.26.0.3", 0, header_words=6)) == ("172.26.0.3", 0)
    icmp = bytearray(vrrp_frame("172.26.0.2", 100))
    icmp[14 + 9] = 1
    assert stats.parse_vrrp(bytes(icmp)) is None
    assert stats.parse_vrrp(b"\x00" * 12 + b"\x86\xdd" + bytes(60)) is None  # IPv6


def test_last_advert_that_kept_the_backup_waiting():
    adverts = [(10.0, "m", 100), (11.0, "b", 90), (11.0, "m", 100), (12.0, "m", 80),
               (13.0, "m", 80), (16.0, "m", 80)]
    assert stats.last_advert(adverts, "m", before=15.0, backup_priority=90) == (11.0, 100)
    assert stats.last_advert(adverts + [(14.0, "m", 0)], "m", 15.0, 90) == (14.0, 0)
    assert stats.last_advert(adverts, "m", before=10.0, backup_priority=90) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="the kernel's process events need root")
def test_exec_watcher_acts_right_after_a_matching_start():
    """The failover bench places a check's fault with it: the action runs once, for the
    program whose command line matches, after it started."""
    marker = f"bench-exec-{os.getpid()}"
    with ExecWatcher() as watcher:
        done = watcher.on_next("", (marker,), lambda: time.time())
        subprocess.run(["sh", "-c", "true", "not-it"], check=True)
        assert not done.done()
        started = time.time()
        # (not `sh -c "sleep 0.2"`: sh would become sleep at once, the marker gone)
        subprocess.run(["sh", "-c", "sleep 0.2; :", marker], check=True)
        moment, acted = done.result(timeout=5)
    assert started <= moment <= acted


def test_triggers_fire_once_and_not_after_cancel():
    """bench.triggers: an action runs once, at its first matching event; a cancelled
    one never runs (a placed fault given up must not fire later)."""
    triggers, ran = Triggers(), []
    kept = triggers.add(lambda event: event == "a", lambda: ran.append("kept") or 1)
    dropped = triggers.add(lambda event: event == "a", lambda: ran.append("dropped"))
    assert dropped.cancel()
    triggers.fire(10.0, "b")
    assert ran == [] and triggers
    triggers.fire(11.0, "a")
    triggers.fire(12.0, "a")
    assert ran == ["kept"] and kept.result(timeout=0) == (11.0, 1) and not triggers


def test_rolling_targets_and_longest_gap():
    from bench.stats import longest_gap
    polls = [(1.0, "aa"), (1.02, None), (1.04, "bb"), (1.5, "bb")]
    assert longest_gap(polls) == pytest.approx(0.46)
    rolling = {"options": {"restarts": 3, "lost": 1, "longest_gap": 0.46},
               "upgrade": {"restarts": 2, "lost": 0, "longest_gap": 1.2}}
    assert verdicts(targets.rolling_rows(rolling)) == {
        "rolling restart, daemon options: lost polls (3 restarts)": "MISSED",
        "rolling restart, daemon options: longest without an answer": "met",
        "rolling restart, package upgrade: lost polls (2 restarts)": "met",
        "rolling restart, package upgrade: longest without an answer": "MISSED"}
    assert set(verdicts(targets.rolling_rows(None)).values()) == {"not measured"}


def test_observer_log_with_round_trips():
    from bench.stats import parse_observer, reply_times
    log = "1.00 aa:bb 0.351\n1.02 lost\n1.04 aa:bb\n1.06 cc:dd 12.5\n"
    assert parse_observer(log) == [(1.0, "aa:bb"), (1.02, None), (1.04, "aa:bb"),
                                   (1.06, "cc:dd")]
    assert reply_times(log) == pytest.approx([0.000351, 0.0125])
