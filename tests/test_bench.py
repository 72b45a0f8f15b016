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


def test_fit_line_and_pair_ratio():
    intercept, slope, r_squared = stats.fit_line([(1, 1.5), (5, 3.5), (10, 6.0)])
    assert (intercept, slope, r_squared) == (pytest.approx(1.0), pytest.approx(0.5),
                                             pytest.approx(1.0))
    assert stats.fit_line([(1, 1.0), (2, 3.0), (3, 2.0)])[2] == pytest.approx(0.25)
    assert stats.fit_line([(5, 1.0)]) is None
    # each run over the floor run beside it, then the median: 1.1, 1.2, 1.05
    assert stats.pair_ratio([1.1, 2.4, 2.1], [1.0, 2.0, 2.0]) == pytest.approx(1.1)
    assert stats.pair_ratio([1.0, 2.0], [1.0]) == 1.0  # an unpaired run is left out
    assert stats.pair_ratio([], []) is None and stats.pair_ratio(None, [1.0]) is None


def test_memory_of_docker_stats():
    assert stats.memory_bytes("60.82MiB") == round(60.82 * 2 ** 20)
    assert stats.memory_bytes("1.5GiB") == 3 * 2 ** 29
    assert stats.memory_bytes("0B") == 0 and stats.memory_bytes("2kB") == 2000
    with pytest.raises(ValueError, match="not a size"):
        stats.memory_bytes("12 apples")
    assert stats.memory_in_use("kt-b-host-01\t60MiB / 23.54GiB\n"
                               "kt-b-host-02\t1GiB / 23.54GiB\n\n") == {
        "kt-b-host-01": 60 * 2 ** 20, "kt-b-host-02": 2 ** 30}


def sized(noop, probe, connect, cold=(), package=()):
    return {"noop": list(noop), "noop_probe": list(probe), "noop_connect": list(connect),
            "cold": list(cold), "package": list(package)}


def verdicts(rows):
    return {figure: verdict for figure, _, _, verdict in rows}


RATIO_FIGURES = ("cold converge / package floor, N=10", "no-op / probe floor, N=10",
                 "no-op seconds per host / connect floor's, N=5-20")


def test_deploy_targets_are_ratios_to_the_floors():
    """Cold over package floor and no-op over probe floor at N=10 (median of the pairs)
    within 1.05x; the no-op's seconds per host within 1.2x of the connect floor's; met or
    MISSED only when the whole interval is on one side of the limit."""
    met = {"5": sized([0.599, 0.601], [0.58], [0.499, 0.501]),
           "10": sized([0.795, 0.805, 0.8], [0.78, 0.8, 0.78], [], cold=[40, 35],
                       package=[38.5, 34]),
           "20": sized([1.199, 1.201], [1.1], [1.009, 1.011])}  # 40 / 34 ms per host
    assert verdicts(targets.deploy_rows({"sizes": met})) == dict.fromkeys(RATIO_FIGURES, "met")
    missed = {**met, "10": sized([0.85, 0.9, 0.86], [0.78, 0.8, 0.78], [], cold=[40, 35],
                                 package=[37, 33]),
              "20": sized([1.399, 1.401], [1.1], [1.009, 1.011])}
    assert verdicts(targets.deploy_rows({"sizes": missed})) == dict.fromkeys(RATIO_FIGURES,
                                                                             "MISSED")
    rows = targets.deploy_rows({"sizes": met})
    assert rows[0][1] == ("1.034x (2 pairs; 50.0 % interval 1.029-1.039x; "
                          "medians 37.50 s / 36.25 s)")
    assert rows[1][1] == ("1.019x (3 pairs; 75.0 % interval 1.006-1.026x; "
                          "medians 0.80 s / 0.78 s)")
    assert rows[2][1] == "1.18x (40.0 / 34.0 ms per host; +/-2 SE 1.16-1.20x)"
    # absolute times are no verdicts: a slow machine with slow floors meets the targets
    slow = {count: {key: [value * 10 for value in values] for key, values in size.items()}
            for count, size in met.items()}
    assert verdicts(targets.deploy_rows({"sizes": slow})) == dict.fromkeys(RATIO_FIGURES, "met")
    assert set(verdicts(targets.deploy_rows({"sizes": {}})).values()) == {"not measured"}
    flat = {"1": sized([0.6], [0.58], [0.6]), "2": sized([0.7], [0.6], [0.5])}
    assert targets.deploy_rows({"sizes": flat})[2][3] == "not measured"  # floor slope < 0


def test_deploy_targets_inconclusive_when_the_limit_is_inside_the_spread():
    # per-pair ratios 1.026, 1.077, 1.051 (median just over 1.05, min below): and 1.04,
    # 1.06 for the cold converge (median 1.05 within the limit, max above)
    sizes = {"5": sized([0.6, 0.62], [], [0.5, 0.53]),
             "10": sized([0.8, 0.84, 0.82], [0.78, 0.78, 0.78], [], cold=[104, 106],
                         package=[100, 100]),
             "20": sized([1.2, 1.17], [], [1.0, 1.04])}  # slopes 38 / 34 ms, noisy
    assert verdicts(targets.deploy_rows({"sizes": sizes})) == dict.fromkeys(
        RATIO_FIGURES, "inconclusive")
    # one pair, or one run at each N, gives no interval: inconclusive, whatever the ratio
    single = {"5": sized([0.6], [], [0.5]),
              "10": sized([0.8], [0.79], [], cold=[40], package=[39]),
              "20": sized([1.2], [], [1.01])}
    assert verdicts(targets.deploy_rows({"sizes": single})) == dict.fromkeys(
        RATIO_FIGURES, "inconclusive")


def test_judged_against_an_interval():
    assert targets.judged((0.9, 1.04, 0.875), 1.05) == "met"
    assert targets.judged((0.9, 1.05), 1.05) == "met"
    assert targets.judged((1.051, 1.2), 1.05) == "MISSED"
    assert targets.judged((1.0, 1.2), 1.05) == "inconclusive"
    assert targets.judged(None, 1.05) == "inconclusive"


def test_median_interval_of_the_sign_test():
    assert stats.median_interval([]) is None and stats.median_interval([1.0]) is None
    # 2 to 7 values: the smallest to the largest, which holds the median 1 - 2 / 2^n
    assert stats.median_interval([1.2, 1.0]) == (1.0, 1.2, 0.5)
    assert stats.median_interval([1.3, 1.0, 1.1, 1.2]) == (1.0, 1.3, 0.875)
    low, high, held = stats.median_interval([5, 1, 4, 2, 3, 7, 6])
    assert (low, high, held) == (1, 7, pytest.approx(1 - 2 / 128))
    # 12 values: the 3rd smallest to the 3rd largest (96.1 %; the 4th: 85.4 % < 90 %)
    low, high, held = stats.median_interval(list(range(12, 0, -1)))
    assert (low, high) == (3, 10) and held == pytest.approx(1 - 2 * 79 / 4096)
    assert stats.median_interval(list(range(12)), coverage=0.8)[:2] == (3, 8)
    assert stats.pair_ratios([2.0, 3.0, 4.0], [1.0, 0, 2.0]) == [2.0, 2.0]


def test_slope_error_of_the_least_squares_fit():
    assert stats.slope_error([(1, 1.0), (2, 2.0)]) is None  # no freedom left
    assert stats.slope_error([(1, 1.0), (1, 2.0), (1, 3.0)]) is None  # one x
    assert stats.slope_error([(1, 1.0), (2, 2.0), (3, 3.0)]) == 0.0
    # residues -1/3, 2/3, -1/3 about y = 1/3 + x; 3 - 2 points of freedom; x spread 2
    assert stats.slope_error([(1, 1.0), (2, 3.0), (3, 3.0)]) == pytest.approx(
        ((2 / 3) / 1 / 2) ** 0.5)


def test_reference_ratios_at_the_quoted_n():
    sizes = {"2": sized([1.08], [], [], cold=[7.25]), "10": sized([1.2], [], [], cold=[32.0])}
    rows = {(what, hosts): ratios for what, hosts, _, _, *ratios
            in targets.reference_ratios(sizes)}
    assert rows[("Ansible role (10 forks, pipelining)", 2)] == [
        pytest.approx(0.5), pytest.approx(0.2)]
    assert rows[("straightforward pyinfra deploy", 10)] == [
        pytest.approx(32 / 30), pytest.approx(1.2 / 2.9)]
    assert rows[("straightforward pyinfra deploy", 20)] == [None, None]


def test_report_shows_ratios_fit_memory_and_quoted_references():
    size10 = {**sized([1.5, 1.4], [1.4, 1.4], [1.0, 1.1], cold=[25.0, 23.0, 24.0],
                      package=[24.0, 22.0, 23.0]),
              "cold_max_rss_kib": [60000], "noop_max_rss_kib": [58000],
              "memory_bytes": [600 * 2 ** 20],
              "commands": {"host-01": {"facts": 1, "operations": 0}}}
    results = {"machine": {"date": "2026-11-24 22:00 UTC", "nproc": 2},
               "deploy": {"sizes": {"10": size10, "20": sized([2.0], [1.9], [1.5])}}}
    text = report.markdown(results)
    assert ("| 10 | 24.00 (3) | 23.00 | 1.043x | 1.45 (2) | 1.05 | 1.40 | 1.036x | 1 + 0 "
            "| 57 / 59 | 600 (60 per host) |") in text
    assert "| cold converge / package floor, N=10 | 1.043x (3 pairs;" in text
    assert "no-op 0.90 s + 55.0 ms x N (r\u00b2 0.976)" in text
    assert "quoted from issue 5, not measured here" in text
    assert "| straightforward pyinfra deploy | 10 | 30.0 | 2.9 | 0.80x | 0.50x |" in text
    assert "2026-11-24 22:00 UTC" in text and "2 cores" in text


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


CONTAINER = "4477d4ea86921028b84a8298f48058783c847b82c34cdb7167c0c994d6f8a03e"
CPU_STAT = "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 0\n"


@pytest.mark.parametrize("path, text, seconds", [
    (f"cpuacct/docker/{CONTAINER}/cpuacct.usage", "1847626585\n", 1.847626585),  # v1
    (f"system.slice/docker-{CONTAINER}.scope/cpu.stat", CPU_STAT, 2.5),  # v2, systemd
    (f"docker/{CONTAINER}/cpu.stat", CPU_STAT, 2.5),  # v2, cgroupfs driver
    (f"docker/{CONTAINER}/cpu.stat", "user_usec 20\n", None),  # no usage line
    (f"cpuacct/docker/{CONTAINER}/cpuacct.usage", "", None),
    ("cpuacct/docker/another/cpuacct.usage", "12\n", None),  # not this container's
])
def test_cgroup_cpu_seconds_of_a_container(tmp_path, path, text, seconds):
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_text(text)
    assert stats.cgroup_cpu_seconds(CONTAINER, root=str(tmp_path)) == (
        None if seconds is None else pytest.approx(seconds))


def cpu(controller, hosts):
    return {"controller": list(controller), "hosts": list(hosts)}


def test_report_cpu_per_host_table_and_what_the_probe_adds():
    sizes = {"5": {**sized([1.0], [0.9], [0.8]), "cpu": {
                 "noop_connect": cpu([0.5, 0.7], [0.3, None]), "noop_probe": cpu([0.7], [0.5]),
                 "noop": cpu([0.8], [0.55])}},
             "10": {**sized([1.5], [1.4], [1.0]), "cpu": {
                 "noop_connect": cpu([0.9], [0.6]), "noop_probe": cpu([1.3], [0.95]),
                 "noop": cpu([1.5], [1.05]), "cold": cpu([1.0], [40.0])}},
             "20": sized([2.0], [1.9], [1.5])}  # measured before CPU was recorded
    assert targets.cpu_per_host(sizes["5"], "noop_connect", "5", "controller") == 120.0
    assert targets.cpu_per_host(sizes["5"], "noop_connect", "5", "hosts") == 60.0
    assert targets.cpu_per_host(sizes["20"], "noop", "20", "hosts") is None
    # slopes: hosts connect 60, probe 90 ms per host; controller connect 50 (0.6, 0.9 at
    # 5 and 10: mean 0.6 at 5), probe 120
    added = targets.cpu_added(sizes, "noop_probe", "noop_connect")
    assert added == {"hosts": pytest.approx(30.0), "controller": pytest.approx(60.0)}
    assert targets.cpu_added(sizes, "cold", "noop")["hosts"] is None  # one N of cold
    assert report.cpu_sentence({"5": sizes["5"]}) == ""  # no slope from one N
    text = report.markdown({"deploy": {"sizes": sizes}})
    assert "| Hosts | connect | probe | no-op | package | cold |" in text
    assert "| 5 | 120 / 60 | 140 / 100 | 160 / 110 | - / - | - / - |" in text
    assert "| 10 | 90 / 60 | 130 / 95 | 150 / 105 | - / - | 100 / 4000 |" in text
    assert "| 20 |" not in text.split("Controller / test hosts")[1].split("\n\n")[1]
    assert ("Per host (slopes of CPU seconds against N), the probe adds 30.0 ms of host "
            "CPU and 60.0 ms of controller CPU over the connect floor; the no-op adds "
            "10.0 ms of host CPU and 20.0 ms of controller CPU over the probe floor.") in text
    assert "the hosts' CPU is left out" in text  # a run whose cgroups were not read


def test_report_renders_the_saved_results_without_the_new_keys():
    """Results saved before ABBA order and CPU figures (docs/bench/results.json without
    those keys) still render, their order described as it was, with no CPU table."""
    import json
    with open(os.path.join(os.path.dirname(__file__), "..", report.PLOTS,
                           "results.json")) as f:
        results = json.load(f)
    deploy = {key: value for key, value in results["deploy"].items() if key != "order"}
    deploy["sizes"] = {count: {key: value for key, value in size.items() if key != "cpu"}
                       for count, size in deploy["sizes"].items()}
    results = {**results, "deploy": deploy}
    text = report.markdown(results)
    assert "each pair ran the floor, then the deploy" in text
    assert "ms per host:" not in text and "Per host (slopes" not in text
    assert "## Deploy speed" in text and "## Failover speed" in text
    assert set(verdicts(targets.deploy_rows(results["deploy"])).values()) <= {
        "met", "MISSED", "inconclusive"}
    abba = {**results, "deploy": {**results["deploy"], "order": "ABBA"}}
    assert "pairs 2, 4, ... the cold converge first" in report.markdown(abba)
