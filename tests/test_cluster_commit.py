"""Changes the peers of an instance must agree on commit on all of them together
(operations.cluster_commit): the decision "is this an agreement change" (table cases), the
phases' commands through pyinfra's ``@fake`` connector (see tests/test_commands.py), and
transaction.sh's prepare / commit / discard run by a real shell against the real
`keepalived -t` in a temporary directory (tests/gate.py). What a real cluster sees (pings,
holders, journal) is in tests/e2e/test_deploy_safety.py.
"""

import concurrent.futures
import logging
import shlex
import subprocess
import time
from dataclasses import dataclass
from types import SimpleNamespace

import pyinfra
import pytest
from pyinfra.api import StringCommand
from pyinfra.api.exceptions import DeployError
from pyinfra.api.operations import run_ops
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_host, ctx_inventory, ctx_state

from pyinfra_keepalived.deploys.install import keepalived
from pyinfra_keepalived.facts.keepalived import KeepalivedTree, MaskedFileContents
from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.model.hidden import mask_text
from pyinfra_keepalived.model.peers import agreement
from pyinfra_keepalived.operations import cluster_commit
from pyinfra_keepalived.operations.config_tree import PREPARED, transaction
from pyinfra_keepalived.render import config as render
from pyinfra_keepalived.shipped import with_variables

from . import hostdata
from .fakehosts import (
    HOSTS,
    SECRET,
    deploy,
    make_state,
    op_commands,
    operation_names,
    running_probe,
    settings_of,
    tree_lines,
    up_to_date_probes,
)
from .gate import NEEDS_KEEPALIVED, UNLOCKED, live, run_transaction, write_tree
from .seed import SEED_HOSTS

pytestmark = pytest.mark.unit

SETTINGS = check_hosts(SEED_HOSTS, warn=lambda message: None)["host-01"]
FILES = render.config_files(SETTINGS)
CONF_D = SETTINGS.paths.config_dir
INSTANCES = f"{CONF_D}/20-vrrp_instances.conf"
AGREEMENT = f"{CONF_D}/agreement-VI_1.txt"


def settings_with(**instance):
    data = [(name, {**host, "keepalived_vrrp_instances": [
        {**host["keepalived_vrrp_instances"][0], **instance}]}) for name, host in SEED_HOSTS]
    return check_hosts(data, warn=lambda message: None)["host-01"]


def tree_of(settings, drop=()):
    """The KeepalivedTree of a host that runs `settings`' tree (without the paths `drop`)."""
    files = {path: file for path, file in render.config_files(settings).items()
             if path not in drop}
    return KeepalivedTree().process(tree_lines(files))


# (what the host's tree holds, paths missing from it) -> changed instances
AGREEMENT_CASES = {
    "up to date": (SETTINGS, (), ()),
    "VIP list": (settings_with(virtual_ipaddresses=["192.168.1.100/24", "192.168.1.101/24"]),
                 (), ("VI_1",)),
    "VIPs in another order only": (
        settings_with(virtual_ipaddresses=["192.168.1.100/24"]), (), ()),
    "auth_pass": (settings_with(auth_pass="other"), (), ("VI_1",)),
    "VRID": (settings_with(virtual_router_id=52), (), ("VI_1",)),
    "advert_int": (settings_with(advert_int=2), (), ("VI_1",)),
    "priority only": (settings_with(priority=120), (), ()),
    "nopreempt only": (settings_with(nopreempt=True, state="BACKUP"), (), ()),
    "a tree of an earlier deploy, instances changed": (
        settings_with(virtual_router_id=52), (AGREEMENT,), ("VI_1",)),
    "a tree of an earlier deploy, instances as wanted": (SETTINGS, (AGREEMENT,), ()),
    "a new host (no tree)": (SETTINGS, tuple(FILES), ()),
}


@pytest.mark.parametrize("case", list(AGREEMENT_CASES))
def test_agreement_changes(case):
    running, drop, expected = AGREEMENT_CASES[case]
    tree = tree_of(running, drop)
    assert cluster_commit.agreement_changes(SETTINGS, FILES, tree) == expected


def test_a_new_instance_is_no_agreement_change():
    """An instance the host does not run yet has nothing to disagree with."""
    more = {"name": "VI_2", "interface": "eth0", "virtual_router_id": 52,
            "virtual_ipaddresses": ["192.168.1.150/24"]}
    two = check_hosts([(name, {**host, "keepalived_vrrp_instances": [
        *host["keepalived_vrrp_instances"], more]}) for name, host in SEED_HOSTS],
        warn=lambda message: None)["host-01"]
    tree = tree_of(SETTINGS)
    assert cluster_commit.agreement_changes(two, render.config_files(two), tree) == ()


def test_the_agreement_is_what_peers_must_have_alike():
    text = agreement(SETTINGS.instances[0])
    assert text.splitlines() == [
        "virtual_router_id 51", "virtual_ipaddresses 192.168.1.100/24", "advert_int 1",
        "auth_type PASS", "auth_pass 1234", "effective_version 2", "unicast_peers multicast"]
    assert FILES[AGREEMENT].secret and FILES[AGREEMENT].mode == "600"
    assert not render.agreement_file(SETTINGS.paths, settings_with(
        auth_type=None, auth_pass=None).instances[0]).secret


@dataclass
class Meta:
    """An OperationMeta as commit_refusals reads it."""
    complete: bool
    success: bool = True

    def is_complete(self):
        return self.complete

    def did_succeed(self):
        return self.success


PEERS = {"VI_1": ["host-02"], "VI_2": ["host-03"]}
NOTHING = cluster_commit.NOTHING_TO_CHANGE
FAILURE_CASES = {
    "every peer prepared": ({"host-02": Meta(True), "host-03": Meta(True)}, None),
    "a peer had nothing to change": ({"host-02": Meta(True), "host-03": NOTHING}, None),
    "a peer's prepare failed": ({"host-02": Meta(True), "host-03": Meta(True, False)},
                                "host-03 (a peer of VI_2) could not prepare the config"),
    "a peer failed before": ({"host-02": Meta(False), "host-03": Meta(True)},
                             "host-02 (a peer of VI_1) failed before it prepared the config"),
    "a peer failed while the run was planned (no plan)": (
        {"host-03": Meta(True)}, "host-02 (a peer of VI_1) failed before it prepared the config"),
}


def chain(hosts):
    """{host name: Settings}: host-01 has VI_1 (peer host-02) and VI_2 (peer host-03)."""
    instances = {"host-01": ["VI_1", "VI_2"], "host-02": ["VI_1"], "host-03": ["VI_2"]}
    return {name: SimpleNamespace(host=name, instances=[SimpleNamespace(name=instance)
                                                        for instance in instances[name]],
                                  host_level=SimpleNamespace(commit_without_peers=without))
            for name, without in hosts.items()}


EVERY_CHANGE = {"host-01": ("VI_1", "VI_2"), "host-02": ("VI_1",), "host-03": ("VI_2",)}


@pytest.mark.parametrize("case", list(FAILURE_CASES))
def test_prepare_failures(case):
    planned, expected = FAILURE_CASES[case]
    everyone = chain({"host-01": False, "host-02": False, "host-03": False})
    changed = {"host-01": ("VI_1", "VI_2")} | {
        name: EVERY_CHANGE[name] for name, plan in planned.items() if plan is not NOTHING}
    planned = {"host-01": Meta(True), **planned}
    assert cluster_commit.commit_refusals(planned, changed, everyone, set()).get(
        "host-01") == expected


CHAIN_CASES = {
    # host-03's prepare fails: host-01 is its peer; host-02 is host-01's peer on VI_1 only
    "a refusal spreads along the chain": (
        {"host-01": Meta(True), "host-02": Meta(True), "host-03": Meta(True, False)},
        EVERY_CHANGE, set(), {}, {
            "host-01": "host-03 (a peer of VI_2) could not prepare the config",
            "host-02": "host-03 (linked to host-02 through the peers of changed instances) "
                       "could not prepare the config"}),
    "every host prepared": (
        {"host-01": Meta(True), "host-02": Meta(True), "host-03": Meta(True)},
        EVERY_CHANGE, set(), {}, {}),
    "a host with nothing to change stops the chain": (
        {"host-01": NOTHING, "host-02": Meta(True), "host-03": Meta(True, False)},
        {"host-02": ("VI_1",), "host-03": ("VI_2",)}, set(), {}, {}),
    "a peer failed while planned: no plan, its peers refuse": (
        {"host-01": Meta(True), "host-02": Meta(True)},
        {"host-01": ("VI_1", "VI_2"), "host-02": ("VI_1",)}, {"host-03"}, {}, {
            "host-01": "host-03 (a peer of VI_2) failed before it prepared the config",
            "host-02": "host-03 (linked to host-02 through the peers of changed instances) "
                       "failed before it prepared the config"}),
    "a peer with nothing to change that failed since": (
        {"host-01": Meta(True), "host-02": Meta(True), "host-03": NOTHING},
        {"host-01": ("VI_1", "VI_2"), "host-02": ("VI_1",)}, {"host-03"}, {}, {
            "host-01": "host-03 (a peer of VI_2) failed before it prepared the config",
            "host-02": "host-03 (linked to host-02 through the peers of changed instances) "
                       "failed before it prepared the config"}),
    "a peer outside the run, allowed by keepalived_commit_without_peers": (
        {"host-01": Meta(True), "host-02": Meta(True)},
        {"host-01": ("VI_1", "VI_2"), "host-02": ("VI_1",)}, set(), {"host-01": True}, {}),
}


@pytest.mark.parametrize("case", list(CHAIN_CASES))
def test_commit_refusals_of_a_chain(case):
    planned, changed, failed, without, expected = CHAIN_CASES[case]
    everyone = chain({name: without.get(name, False)
                      for name in ("host-01", "host-02", "host-03")})
    assert cluster_commit.commit_refusals(planned, changed, everyone, failed) == expected


@pytest.mark.parametrize("running, expected", [
    ({"host-01", "host-02", "host-03"}, []),
    ({"host-01", "host-02"}, [("VI_2", "host-03")]),
    ({"host-01"}, [("VI_1", "host-02"), ("VI_2", "host-03")]),
])
def test_absent_peers(running, expected):
    assert cluster_commit.absent_peers(PEERS, running) == expected


# -- the phases' commands --

PHASE_WORDS = {
    # mode: (arguments of transaction(), the words after the script that matter)
    "apply": ({"uploaded": "/u", "files": [FILES[AGREEMENT]]},
              ["apply", "/etc/keepalived", "/u", "G", "/var/lib/pyinfra-keepalived/reload-pending",
               "keepalived.conf", "0", "dir", "scripts", "dir", "conf.d",
               "file", "0", "600", "conf.d/agreement-VI_1.txt", "link"]),
    "prepare": ({"uploaded": "/u", "files": [FILES[AGREEMENT]], "hold": 180},
                ["prepare", "/etc/keepalived", "/u", "G",
                 "/var/lib/pyinfra-keepalived/reload-pending", "keepalived.conf", "180", "dir"]),
    "commit": ({"links": True}, ["commit", "/etc/keepalived", "-", "G",
                                 "/var/lib/pyinfra-keepalived/reload-pending",
                                 "keepalived.conf", "0", "link", "scripts"]),
    "discard": ({}, ["discard", "/etc/keepalived", "-", "G",
                     "/var/lib/pyinfra-keepalived/reload-pending", "keepalived.conf", "0"]),
}


LOCK_WAIT = 'flock -w "$lock_wait" 9'  # lock.sh's wait for the deploy lock (not the
# commit lock's short wait of transaction.sh)


@pytest.mark.parametrize("mode", list(PHASE_WORDS))
def test_phase_words(mode):
    arguments, expected = PHASE_WORDS[mode]
    words = shlex.split(StringCommand(*transaction(
        SETTINGS.paths, mode=mode, generation="G", **arguments)).get_raw_value())
    start = words.index(mode)
    assert words[start:start + len(expected)] == expected
    locked = any(LOCK_WAIT in word for word in words)  # lock.sh: waits for the lock
    assert locked == (mode in ("apply", "prepare"))  # commit, discard: the holder's lock
    assert (PREPARED in " ".join(words)) == (mode == "prepare")  # prepare_check.sh


PREPARE, COMMIT = ("Keepalived | Prepare the keepalived config (VI_1: its peers must take "
                   "it together)", "Keepalived | Commit the keepalived config on every peer "
                   "together (VI_1)")
TWO_VIPS = {"keepalived_vrrp_instances": [{
    **SEED_HOSTS[0][1]["keepalived_vrrp_instances"][0],
    "virtual_ipaddresses": ["192.168.1.100/24", "192.168.1.101/24"]}]}


def vip_change_state(responses=None):
    """Two running hosts that run the seed's one VIP; the data says two VIPs."""
    return make_state("debian", probes=up_to_date_probes(make_state("debian"), "1:2.2.7-1"),
                      group_data=TWO_VIPS, responses=responses)


def test_an_agreement_change_is_prepared_then_committed_on_every_host(recorder):
    state = vip_change_state()
    for host in deploy(state):
        names = operation_names(state, host)
        assert PREPARE in names and COMMIT in names
        assert names.index(PREPARE) + 1 == names.index(COMMIT)
        commands = op_commands(host, recorder)
        assert len(commands) == 3, commands  # upload dir; prepare; commit (no extra step)
        assert " prepare /etc/keepalived " in commands[1] and PREPARED in commands[1]
        assert " commit /etc/keepalived " in commands[2] and LOCK_WAIT not in commands[2]


def test_dry_diff_of_an_agreement_change_shows_each_files_diff(recorder, caplog):
    """--dry --diff: the prepare step says what it changes, as the one-command step does
    (the VIP list: the instances file)."""
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    state = make_state("debian", probes=up_to_date_probes(make_state("debian"), "1:2.2.7-1"),
                       group_data=TWO_VIPS, diff=True)
    for host in deploy(state):
        assert PREPARE in operation_names(state, host)
    assert "Will modify /etc/keepalived/conf.d/20-vrrp_instances.conf" in caplog.text


def test_diff_of_an_agreement_change_of_auth_pass_shows_it_masked(recorder, caplog):
    """--diff of a change the peers must agree on (here auth_pass alone): the prepare step
    prints each file's diff from the host plan's TreeWork, old and new auth_pass masked
    as the one-command step masks them (the agreement file holds it too)."""
    caplog.set_level(logging.DEBUG, logger="pyinfra")
    settings = settings_of(make_state("debian"))
    probes, responses = {}, {}
    for name in HOSTS:
        paths = settings[name].paths
        files = render.config_files(settings[name])
        old = {path: files[path].content.replace(f"auth_pass {SECRET}", "auth_pass 0ldpass")
               for path in (render.instances_path(paths), render.agreement_path(paths, "VI_1"))}
        assert all(content != files[path].content for path, content in old.items())
        probes[name] = running_probe("1:2.2.7-1", tree_lines(files, content_of=old))
        responses[name] = {MaskedFileContents().command(path): mask_text(content).splitlines()
                           for path, content in old.items()}
    state = make_state("debian", probes=probes, responses=responses, diff=True)
    for host in deploy(state):
        assert PREPARE in operation_names(state, host)
    assert "Will modify /etc/keepalived/conf.d/agreement-VI_1.txt" in caplog.text
    assert "(only a hidden value changed: auth_pass)" in caplog.text
    assert SECRET not in caplog.text and "0ldpass" not in caplog.text


def test_a_change_peers_need_not_agree_on_stays_one_command(recorder):
    state = make_state("debian", probes=up_to_date_probes(make_state("debian"), "1:2.2.7-1"),
                       host_data={"@fake/host-01": {"keepalived_priority": 120}})
    hosts = deploy(state)
    assert not [name for host in hosts for name in operation_names(state, host)
                if "Prepare" in name or "Commit" in name]
    commands = op_commands(hosts[0], recorder)
    assert len(commands) == 2 and " apply /etc/keepalived " in commands[1]


def test_a_peer_that_failed_to_prepare_stops_the_commit_everywhere(recorder):
    state = vip_change_state(responses={"@fake/host-02": {PREPARED: {
        "success": False, "stderr": "keepalived -t rejected the new config"}}})
    first, second = deploy(state)
    commands = op_commands(first, recorder)
    assert " discard /etc/keepalived " in commands[-1]
    assert "not committed: @fake/host-02 (a peer of VI_1) could not prepare the config" \
        in commands[-1]
    assert not [command for command in commands if " commit /etc/keepalived " in command]
    assert len(op_commands(second, recorder)) == 2  # upload dir, prepare: failed, no more


def test_a_peer_outside_the_run_blocks_an_agreement_change(recorder):
    state = vip_change_state()
    state.fail_hosts({host for host in state.inventory if host.name == "@fake/host-02"})
    with pytest.raises(DeployError) as error:
        deploy(state)
    message = str(error.value)
    assert "VI_1: peer @fake/host-02" in message and "keepalived_commit_without_peers" in message
    assert "nothing was changed" in message


def test_the_option_lets_it_go_live_without_the_peer_with_a_warning(recorder, caplog):
    state = make_state("debian", probes=up_to_date_probes(make_state("debian"), "1:2.2.7-1"),
                       group_data={**TWO_VIPS, "keepalived_commit_without_peers": True})
    state.fail_hosts({host for host in state.inventory if host.name == "@fake/host-02"})
    host = deploy(state)[0]
    assert COMMIT in operation_names(state, host)
    assert "split brain" in caplog.text and "@fake/host-02" in caplog.text


# -- transaction.sh's phases, by a real shell --

def prepared_tree(base):
    return sorted(path.name for path in (base / ".generations").glob("*.prepared"))


def lock_free(base):
    return subprocess.run(["flock", "-n", str(base.parent / "lock"), "true"]).returncode == 0


@pytest.fixture
def new_tree(trees):
    base, stage = trees
    write_tree(stage, {"keepalived.conf": "global_defs {\n  dynamic_interfaces\n}\n"})
    # an earlier apply: the live generation the phases start from
    assert run_transaction(stage, base).returncode == 0
    write_tree(stage, {"keepalived.conf": "global_defs {\n  dynamic_interfaces\n"
                                          "  router_id new\n}\n"})
    return base, stage


@NEEDS_KEEPALIVED
def test_prepare_leaves_the_live_tree_and_holds_the_lock_until_the_commit(new_tree):
    base, stage = new_tree
    before = live(base)
    prepared = run_transaction(stage, base, mode="prepare", generation="G1", hold=30)
    assert prepared.returncode == 0, prepared.stderr
    assert "not found" not in prepared.stderr  # the script whole, as the deploy sends it
    assert "not live yet" in prepared.stdout
    assert live(base) == before and prepared_tree(base) == ["G1.prepared"]
    assert not lock_free(base)  # held for the commit
    committed = run_transaction(None, base, mode="commit", generation="G1")
    assert committed.returncode == 0, committed.stderr
    assert "router_id new" in (base / "keepalived.conf").read_text()
    assert prepared_tree(base) == [] and lock_free(base)


@NEEDS_KEEPALIVED
def test_discard_leaves_the_live_tree_and_lets_the_lock_go(new_tree):
    base, stage = new_tree
    before = live(base)
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=30).returncode == 0
    discarded = run_transaction(None, base, mode="discard", generation="G1")
    assert discarded.returncode == 0, discarded.stderr
    assert live(base) == before and prepared_tree(base) == [] and lock_free(base)


def run_out(base):
    """Wait until the holder of a prepared tree let the lock go (its time ran out)."""
    subprocess.run(["sh", "-c", f"while ! flock -n {base.parent / 'lock'} true; do sleep 0.1; "
                                "done"], timeout=10)


@NEEDS_KEEPALIVED
def test_a_prepared_tree_whose_lock_ran_out_is_committed_if_no_run_came_between(new_tree):
    """A peer took long to prepare: the hold ran out; nothing happened on this host
    meanwhile, so its own run's commit takes the lock again and goes ahead."""
    base, stage = new_tree
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=1).returncode == 0
    run_out(base)
    committed = run_transaction(None, base, mode="commit", generation="G1")
    assert committed.returncode == 0, committed.stderr
    assert "taken again" in committed.stdout
    assert "router_id new" in (base / "keepalived.conf").read_text() and lock_free(base)


@NEEDS_KEEPALIVED
def test_a_prepared_tree_is_never_committed_after_another_run(new_tree):
    """A run stopped between the phases: its hold runs out, the next run changes the host
    (and removes what was prepared): a late commit of the stale tree is refused."""
    base, stage = new_tree
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=1).returncode == 0
    run_out(base)
    write_tree(stage, {"keepalived.conf": "global_defs {\n  dynamic_interfaces\n"
                                          "  router_id next\n}\n"})
    assert run_transaction(stage, base, generation="G2").returncode == 0  # the next run
    assert prepared_tree(base) == []
    after = live(base)
    refused = run_transaction(None, base, mode="commit", generation="G1")
    assert refused.returncode == 1 and "another run came in between" in refused.stderr
    assert live(base) == after and lock_free(base)


@NEEDS_KEEPALIVED
def test_a_second_prepare_does_not_wait_for_the_first(new_tree):
    """Two runs preparing on the same hosts in opposite order would wait for each other:
    the second fails at once (prepare_check.sh), naming the first."""
    base, stage = new_tree
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=30).returncode == 0
    second = run_transaction(stage, base, mode="prepare", generation="G2", hold=30, wait=20)
    assert second.returncode == 75, second.stderr
    assert "another keepalived deploy prepared a config" in second.stderr
    run_transaction(None, base, mode="discard", generation="G1")


@NEEDS_KEEPALIVED
def test_a_rejected_prepare_leaves_nothing(trees):
    base, stage = trees
    before = live(base)
    write_tree(stage, {"keepalived.conf": "frobnicate\n"})
    rejected = run_transaction(stage, base, mode="prepare", generation="G1", hold=30)
    assert rejected.returncode != 0 and "NOT changed" in rejected.stderr
    assert live(base) == before and prepared_tree(base) == [] and lock_free(base)



UNICAST_CASES = {
    "multicast": ({}, "unicast_peers multicast"),
    "unicast: the source and the peers, sorted": (
        {"unicast_src_ip": "10.0.0.9", "unicast_peers": ["10.0.0.3", "10.0.0.2"]},
        "unicast_peers 10.0.0.2 10.0.0.3 10.0.0.9"),
    "unicast: a peer's address changed": (
        {"unicast_src_ip": "10.0.0.9", "unicast_peers": ["10.0.0.4", "10.0.0.2"]},
        "unicast_peers 10.0.0.2 10.0.0.4 10.0.0.9"),
}


@pytest.mark.parametrize("case", list(UNICAST_CASES))
def test_the_agreement_holds_the_unicast_addresses(case):
    """An address change of a unicast instance commits on the peers together."""
    data, expected = UNICAST_CASES[case]
    settings = SimpleNamespace(**{**vars(SETTINGS.instances[0]), **{
        "unicast_src_ip": None, "unicast_peers": None, **data}})
    assert agreement(settings).splitlines()[-1] == expected


@pytest.fixture
def slow_systemctl(tmp_path):
    """A PATH dir whose systemctl says keepalived runs, after 3 s (`is-active`)."""
    bin_dir = tmp_path / "slow-bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text('#!/bin/sh\n[ "$1" = is-active ] && sleep 3\nexit 0\n')
    fake.chmod(0o755)
    return str(bin_dir)


@NEEDS_KEEPALIVED
def test_a_commit_under_way_keeps_the_lock_when_the_hold_runs_out(new_tree, slow_systemctl):
    """The holder's time runs out during a (slow) commit, and another run waits for the
    lock: the holder waits for the commit to end before it lets the lock go, so the other
    run comes after it, never between (it would prune the prepared tree under the commit)."""
    base, stage = new_tree
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=2).returncode == 0
    with concurrent.futures.ThreadPoolExecutor() as pool:
        commit = pool.submit(run_transaction, None, base, mode="commit", generation="G1",
                             path=slow_systemctl)
        time.sleep(0.5)  # (the order of the runs, not a timed assert)
        other = run_transaction(stage, base, wait=20, generation="G2", path=slow_systemctl)
        committed = commit.result()
    assert committed.returncode == 0, committed.stderr
    assert other.returncode == 0, other.stderr
    assert not (base.parent / "reload-pending").exists()


def commit_with_lock(base, lock_file, generation="G1"):
    """transaction.sh's commit, as the deploy sends it, with the lock at `lock_file`."""
    script = with_variables(UNLOCKED, lock_file=str(lock_file),
                            lock_holder=str(base.parent / "holder"))
    return subprocess.run(["sh", "-c", script, "pyinfra-keepalived", "commit", str(base), "-",
                           generation, str(base.parent / "reload-pending"), "keepalived.conf",
                           "0"], capture_output=True, text=True)


@NEEDS_KEEPALIVED
def test_the_retake_path_makes_the_lock_dir_a_reboot_emptied(new_tree, tmp_path):
    base, stage = new_tree
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=1).returncode == 0
    run_out(base)
    committed = commit_with_lock(base, tmp_path / "emptied-run" / "lock")
    assert committed.returncode == 0, committed.stderr
    assert "taken again" in committed.stdout
    assert "router_id new" in (base / "keepalived.conf").read_text()
    assert oct((tmp_path / "emptied-run").stat().st_mode & 0o777) == "0o700"


@NEEDS_KEEPALIVED
def test_the_retake_path_waits_out_an_instant_check_of_the_lock(new_tree):
    """Another run's prepare_check takes the lock for an instant: no spurious refusal."""
    base, stage = new_tree
    assert run_transaction(stage, base, mode="prepare", generation="G1", hold=1).returncode == 0
    run_out(base)
    lock = base.parent / "lock"
    with subprocess.Popen(["flock", str(lock), "sleep", "0.5"]) as check:
        subprocess.run(["sh", "-c", f"until ! flock -n {lock} true; do sleep 0.01; done"],
                       timeout=5)
        committed = commit_with_lock(base, lock)
    assert check.returncode == 0
    assert committed.returncode == 0, committed.stderr
    assert "router_id new" in (base / "keepalived.conf").read_text()


def stopped_peer_state(responses=None):
    """host-01 runs the seed's one VIP; host-02 has the same tree but keepalived stopped
    (enabled, inactive); the data says two VIPs."""
    probes = up_to_date_probes(make_state("debian"), "1:2.2.7-1")
    probes["@fake/host-02"] = {**probes["@fake/host-02"], "service": ("inactive", "enabled")}
    return make_state("debian", probes=probes, group_data=TWO_VIPS, responses=responses)


def test_a_stopped_peer_never_starts_on_an_agreement_its_running_peer_refused(recorder,
                                                                             monkeypatch):
    """host-01 (running the old VIP list) fails to prepare the new one and stays on it;
    host-02, whose keepalived is stopped, must not start on the new list: it would drop
    host-01's adverts (another VIP count) and become MASTER beside it (split brain) until
    a later run. Its start waits for the commit of its running peers, and goes with it."""
    state = stopped_peer_state(responses={"@fake/host-01": {PREPARED: {
        "success": False, "stderr": "another keepalived deploy prepared a config"}}})
    _, second = deploy_as_cli(state, monkeypatch)
    commands = op_commands(second, recorder)
    assert not [command for command in commands
                if "systemctl start keepalived.service" in command], commands
    # (the fake host's refusal command succeeds: the start step after it refuses as well)
    assert [command for command in commands if "not committed: @fake/host-01 (a peer of "
            "VI_1) could not prepare the config" in command], commands


def test_a_stopped_peer_of_an_agreement_change_commits_then_starts(recorder, monkeypatch):
    """No failure: the stopped host prepares and commits with its running peer, and
    starts keepalived in the step after the commit, once every peer's commit ran."""
    state = stopped_peer_state()
    _, second = deploy_as_cli(state, monkeypatch)
    names = operation_names(state, second)
    assert PREPARE in names and COMMIT in names
    commands = op_commands(second, recorder)
    assert " commit /etc/keepalived " in commands[-2]
    assert "systemctl start" not in commands[-2], commands[-2]
    assert commands[-1].endswith("systemctl start keepalived.service"), commands[-1]
    assert not state.failed_hosts


def test_a_stopped_peer_never_starts_beside_a_peer_whose_commit_failed(recorder, monkeypatch):
    """host-01 (running the old VIP list) prepares the new one, but its commit fails (e.g.
    its reload fails: it keeps running the old list). host-02, stopped, commits in the
    same step, at the same time: started in its commit's command it would run the new list
    beside host-01's old one (both MASTER). Its start is a later step, which asks."""
    state = stopped_peer_state(responses={"@fake/host-01": {" commit /etc/keepalived ": {
        "success": False, "stderr": "Job for keepalived.service failed"}}})
    _, second = deploy_as_cli(state, monkeypatch)
    commands = op_commands(second, recorder)
    assert not [command for command in commands
                if "systemctl start keepalived.service" in command], commands
    assert ("keepalived not started: @fake/host-01 (a peer of VI_1) changed what the peers "
            "must agree on and failed while committing it") in commands[-1], commands[-1]


# -- a host that starts keepalived in a run where its running peer's agreement change fails --

def starting_peer_state(host_02, responses=None, service=("inactive", "enabled")):
    """host-01 runs the seed's one VIP (its tree as that renders); host-02's keepalived is
    stopped (or `service`), with `host_02` its probe: "current" (its tree already what the
    new data renders) or "fresh" (no tree); the data says two VIPs."""
    old = up_to_date_probes(make_state("debian"), "1:2.2.7-1")
    new = up_to_date_probes(make_state("debian", group_data=TWO_VIPS), "1:2.2.7-1")
    second = {**new["@fake/host-02"], "service": service}
    if host_02 == "fresh":
        second["tree"] = ()
    probes = {"@fake/host-01": old["@fake/host-01"], "@fake/host-02": second}
    return make_state("debian", probes=probes, group_data=TWO_VIPS, responses=responses)


PREPARE_FAILS = {"@fake/host-01": {PREPARED: {
    "success": False, "stderr": "another keepalived deploy prepared a config"}}}
NOT_STARTED = ("keepalived not started: @fake/host-01 (a peer of VI_1) changed what the "
               "peers must agree on and could not prepare the config")


def deploy_as_cli(state, monkeypatch):
    """The deploy's operations added as the pyinfra CLI adds them (deploy.py run in each
    host's context) and ordered as it orders them: by the deploy's call stack, so a step
    runs on every host before the steps the deploy adds after it (pyinfra's API orders
    them by their count on each host instead); then run. Returns the hosts."""
    monkeypatch.setattr(pyinfra, "is_cli", True)
    state.set_stage(StateStage.Prepare)
    for one in state.inventory:
        with ctx_state.use(state), ctx_inventory.use(state.inventory), ctx_host.use(one):
            keepalived()
    state.set_stage(StateStage.Execute)
    run_ops(state)
    return list(state.inventory)


@pytest.mark.parametrize("host_02", ["current", "fresh"])
def test_a_host_never_starts_beside_a_peer_that_kept_the_old_agreement(recorder, host_02,
                                                                       monkeypatch):
    """host-01 fails to prepare the new VIP list and keeps the old one. host-02, stopped,
    whose tree needs no agreement change (already the new list; or no tree at all: a new
    host), must not start on the new list beside it (both would be MASTER): its start,
    asked when it runs, after the commits, fails the host instead. Its config may go live
    (keepalived does not run it)."""
    state = starting_peer_state(host_02, responses=PREPARE_FAILS)
    _, second = deploy_as_cli(state, monkeypatch)
    commands = op_commands(second, recorder)
    assert not [command for command in commands
                if "systemctl start keepalived.service" in command], commands
    assert NOT_STARTED in commands[-1], commands[-1]
    assert (" apply /etc/keepalived " in commands[-1]) == (host_02 == "fresh")


@pytest.mark.parametrize("host_02", ["current", "fresh"])
def test_a_host_starts_once_its_running_peer_committed(recorder, host_02, monkeypatch):
    state = starting_peer_state(host_02)
    _, second = deploy_as_cli(state, monkeypatch)
    commands = op_commands(second, recorder)
    assert commands[-1].endswith("systemctl start keepalived.service"), commands[-1]
    assert not state.failed_hosts


def test_a_running_host_is_enabled_whatever_its_peers_commit(recorder, monkeypatch):
    """host-02 runs keepalived (its tree already the new list) but is not enabled at boot:
    its service step only enables it, which starts nothing beside host-01 (which fails to
    prepare and keeps the old list): the step is not refused, the host does not fail."""
    state = starting_peer_state("current", responses=PREPARE_FAILS,
                                service=("active", "disabled"))
    _, second = deploy_as_cli(state, monkeypatch)
    commands = op_commands(second, recorder)
    assert not [command for command in commands if "keepalived not started" in command]
    assert commands[-1].endswith("systemctl enable keepalived.service; }"), commands[-1]
    assert "@fake/host-02" not in {failed.name for failed in state.failed_hosts}


def settings_for(*hosts):
    """{name: Settings} of hosts (name, [instance names], priority)."""
    return check_hosts([(name, hostdata.host(instances=[
        hostdata.instance(name=instance, virtual_router_id=50 + number, priority=priority)
        for number, instance in enumerate(instances)])) for name, instances, priority in hosts],
        warn=lambda message: None)


@pytest.mark.parametrize("changed, planned, failed, refusals, expected", [
    ({}, {}, set(), {}, None),  # nobody changed an agreement
    ({"a": ("VI_1",)}, {"a": SimpleNamespace(is_complete=lambda: True,
                                             did_succeed=lambda: True)}, set(), {}, None),
    ({"a": ("VI_1",)}, {"a": SimpleNamespace(is_complete=lambda: True,
                                             did_succeed=lambda: False)}, set(), {},
     "a (a peer of VI_1) changed what the peers must agree on and could not prepare"),
    ({"a": ("VI_1",)}, {}, {"a"}, {}, "and failed before it prepared the config"),
    ({"a": ("VI_1",)}, {"a": SimpleNamespace(is_complete=lambda: True,
                                             did_succeed=lambda: True)}, set(),
     {"a": "c (a peer of VI_2) could not prepare the config"},
     "did not commit (c (a peer of VI_2) could not prepare the config)"),
    ({"a": ("VI_1",)}, {"a": SimpleNamespace(is_complete=lambda: True,
                                             did_succeed=lambda: True)}, {"a"}, {},
     "and failed while committing it"),
    # a change of an instance this host does not have: its old one is this host's too
    ({"a": ("VI_2",)}, {"a": SimpleNamespace(is_complete=lambda: True,
                                             did_succeed=lambda: False)}, set(), {}, None),
], ids=["no-change", "committed", "not-prepared", "failed-before", "refused",
        "failed-committing", "other-instance"])
def test_start_refusals(changed, planned, failed, refusals, expected):
    everyone = settings_for(("a", ["VI_1", "VI_2"], 100), ("b", ["VI_1"], 90))
    why = cluster_commit.start_refusals(planned, changed, everyone, failed, refusals, "b")
    assert (why is None) == (expected is None)
    if expected:
        assert expected in why and why.startswith("keepalived not started: a")
