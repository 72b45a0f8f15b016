"""Test 12 of issue 3: converge (1), re-run (2) and crash failover (4) on Debian 11 and 13
(keepalived 2.1.5 and 2.3.x). Debian 12 runs them in test_converge.py and test_failover.py.
On Debian 11: the gate refuses what 2.1.5's `keepalived -t` finds, though it exits 0.

Then every rendered config the unit tests check with this machine's keepalived 2.2.7
(tests/gate_cases.py; tests/test_conf_gate.py) is checked by each release's own keepalived,
through the deploy's gate, with the keywords a release does not know yet
(pyinfra_keepalived.model.versions) taken out for it, and named unknown by it."""

import io
import os
import re
import tarfile

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.model.versions import version_tuple
from pyinfra_keepalived.operations.config_tree import CONFIG_TEST
from pyinfra_keepalived.render import config as render

from ..gate_cases import ACCEPTED, for_version
from .conftest import VipWatch, checksums, cluster_of, pyinfra
from .scenarios import (
    check_converged,
    check_second_run_changes_nothing,
    crash_failover_and_return,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["bullseye", "trixie"])
def cluster(request):
    yield from cluster_of(2, request.param)


def test_converge(cluster):
    check_converged(cluster, pyinfra(cluster.inventory_path, "-y"))


def test_second_run_changes_nothing(cluster):
    check_second_run_changes_nothing(cluster)


def test_a_keyword_2_1_5_does_not_know_never_goes_live(cluster, tmp_path):
    """keepalived 2.1.5's -t exits 0 on an unknown keyword (down_timer_adverts came with
    2.2): the gate refuses on what it prints (operations/config_test.sh), on every host;
    nothing goes live, the VIP stays where it is. (Before, it went live.)"""
    if cluster.release != "bullseye":
        pytest.skip("2.3.x knows the keyword; its -t exit status was always the verdict")
    inventory = cluster.derived_inventory(str(tmp_path / "inventory.py"), lambda data: {
        **data, "keepalived_vrrp_instances": [
            {**instance, "extra_lines": ["down_timer_adverts 3"]}
            for instance in data["keepalived_vrrp_instances"]]})
    before = {host: checksums(cluster, host) for host in cluster.hosts}
    links = {host: cluster.run(host, "readlink /etc/keepalived/.current")[1]
             for host in cluster.hosts}

    with VipWatch(cluster, cluster.vip()) as watch:
        result = pyinfra(inventory, "-y")

    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "keepalived -t rejected the new config (exit 5); the live config was NOT " \
           "changed" in output, output
    assert "(/etc/keepalived/conf.d/20-vrrp_instances.conf: Line " in output, output
    assert "Unknown keyword 'down_timer_adverts'" in output, output
    for host in cluster.hosts:
        assert checksums(cluster, host) == before[host], host
        assert cluster.run(host, "readlink /etc/keepalived/.current")[1] == links[host]
    master, backup = cluster.hosts
    assert watch.samples[master] and set(watch.samples[master]) == {1}, watch.samples
    assert set(watch.samples[backup]) == {0}, watch.samples


@pytest.mark.parametrize("crash", ["SIGKILL", "pause"])
def test_crash_failover_and_return(cluster, crash):
    crash_failover_and_return(cluster, crash)


# -- every rendered config checked by this release's keepalived -------------------------

TREES = "/var/tmp/kt-versions"  # (not /tmp: a tmpfs, which docker's put_archive misses)
CHECK_TREES = CONFIG_TEST + open(os.path.join(os.path.dirname(__file__),
                                               "check_trees.sh")).read()


def tree_archive(cases):
    """A tar of each case's rendered tree for each of its hosts, at TREES' name/CASE/HOST/
    (paths relative to /etc/keepalived, the files' modes, root-owned)."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for case, hosts in cases.items():
            settings = check_hosts(hosts, warn=lambda message: None)
            for host, host_settings in settings.items():
                for path, file in render.config_files(host_settings).items():
                    data = file.content.encode()
                    relative = os.path.relpath(path, "/etc/keepalived")
                    info = tarfile.TarInfo(os.path.join(os.path.basename(TREES), case, host,
                                                        relative))
                    info.size, info.mode = len(data), int(file.mode, 8)
                    tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


@pytest.fixture(scope="module")
def checked(cluster):
    """(version, {case: {key path: first version} of the keywords taken out for it},
    {CASE/HOST: (exit status, keepalived's messages)}): each case as this release's
    keepalived gets it (gate_cases.for_version), and as given where that took keywords out
    (CASE+unknown), checked on host-01 by the deploy's gate (config_test.sh)."""
    host = cluster.hosts[0]
    if cluster.run(host, "command -v keepalived")[0] != 0:  # (test_converge did not run)
        result = pyinfra(cluster.inventory_path, "-y")
        assert result.returncode == 0, result.stdout + result.stderr
    version = version_tuple(cluster.run(host, "keepalived --version 2>&1")[1].split()[1])
    given, unknown = {}, {}
    for case, hosts in ACCEPTED.items():
        given[case], taken = for_version(hosts, version)
        if taken:
            given[f"{case}+unknown"], unknown[case] = hosts, taken
    container = cluster.container(host)
    cluster.run(host, f"rm -rf {TREES}")
    assert container.put_archive(os.path.dirname(TREES), tree_archive(given))
    result = container.exec_run(["sh", "-c", CHECK_TREES, "check-trees", TREES,
                                 "/etc/keepalived"])
    output = result.output.decode(errors="replace")
    assert result.exit_code == 0, output
    verdicts = {}
    for block in output.split("=== ")[1:]:
        head, _, messages = block.partition("\n")
        tree, rc = head.rsplit(" ", 1)
        verdicts[tree] = int(rc), messages.strip()
    assert set(verdicts) == {f"{case}/{name}" for case, hosts in given.items()
                             for name, _ in hosts}, output
    return version, unknown, verdicts


def release_of(cluster, version):
    return f"{cluster.release} (keepalived {'.'.join(map(str, version))})"


# What a version says of a config it accepts, declared here (every other message fails the
# test): first version that no longer says it -> the message (a regular expression).
NOTES_BEFORE = {
    # An IPv6 instance without unicast peers whose first VIP is not link-local (RFC 5798
    # 5.2.9): keepalived 2.1.5 says so and runs it the same; 2.2 and later say it only
    # under vrrp_strict (2.2.7 and 2.3.3 checked here).
    "2.2.0": r"\(VI_\d+\) the first IPv6 VIP address must be link local",
}


def unexplained(version, messages):
    """The lines of `messages` that NOTES_BEFORE does not declare for `version`."""
    notes = [note for first, note in NOTES_BEFORE.items() if version < version_tuple(first)]
    return [line for line in messages.splitlines()
            if not any(re.fullmatch(note, line) for note in notes)]


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_rendered_config_is_accepted_by_this_keepalived(cluster, checked, case):
    version, unknown, verdicts = checked
    for host, _ in ACCEPTED[case]:
        rc, messages = verdicts[f"{case}/{host}"]
        assert (rc, unexplained(version, messages)) == (0, []), (
            f"{release_of(cluster, version)} rejects (or warns for) case {case!r} of {host}"
            f"{f' without {sorted(unknown[case])}' if case in unknown else ''}: exit {rc}\n"
            f"{messages}")


def test_keywords_it_does_not_know_yet_are_named_by_it(cluster, checked):
    """The keywords model.versions says this release does not know yet: its keepalived
    -t names each as unknown in the cases that give them (it is not a silent skip). (2.3.x
    knows them all: there the cases above give it every one.)"""
    version, unknown, verdicts = checked
    for case, taken in unknown.items():
        for host, _ in ACCEPTED[case]:
            rc, messages = verdicts[f"{case}+unknown/{host}"]
            for where in taken:
                keyword = where.rsplit(".", 1)[-1]
                assert f"Unknown keyword '{keyword}'" in messages, (
                    f"{release_of(cluster, version)}, case {case!r} of {host}: FIRST_VERSION "
                    f"says it does not know {where} (first {taken[where]}), but it does not "
                    f"name it: exit {rc}\n{messages}")
