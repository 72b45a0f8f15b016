"""Jump hosts that serve SSH clients across a failover (issue 14), on two Debian 12 hosts.

A hung sshd (its listener stopped with SIGSTOP: the unit stays "active") moves the VIP
with the shipped banner check, check_ssh_banner.sh.j2, and does not with the unit check
of the example (the control, first, so the test can fail); an sshd stopped (systemctl
stop) moves it too, and the journal shows it was the banner check that failed (exit 1;
the unit check exits 3). sshd refuses a bad new host key before any is installed
(check_host_keys.sh). Then a real OpenSSH client in
a third container logs in through the VIP with StrictHostKeyChecking=yes and the file
known_hosts.py writes, before and after a failover and after the failback; the control:
the same client with the key it trusted on first use is refused after the failover.
Last, shared host keys (keepalived_ssh_host_keys: "shared"): a client that trusted the
VIP on first use logs in after the failover (with per-host keys, the control, it is
refused); the test goes back to per-host keys at its end. status.py says, with --json
keeping stdout pure JSON, that the holders' keys differ (per-host) or are the same (shared).
Each test ends with the VIP back on host-01 and sshd running.
"""

import json
import shlex
import subprocess
import time

import pytest

from pyinfra_keepalived.operations.shared_keys import CHECK_KEYS
from testhosts.polling import wait_for
from testhosts.vrrp_timing import check_failure_time, master_down_interval, skew_time

from .conftest import converge, pyinfra, record, totals
from .scenarios import kill_keepalived

pytestmark = pytest.mark.e2e

MASTER, BACKUP = "host-01", "host-02"
INTERVAL, FALL, BANNER_TIMEOUT = 2, 2, 1
# a failing check's first run may start up to an interval after the fault, and fails only
# when its wait for the banner runs out
THEORY = check_failure_time(fall=FALL, interval=INTERVAL, priority=90) + BANNER_TIMEOUT
SSHD = "$(systemctl show -p MainPID --value ssh.service)"  # the listener, not sessions

BANNER_CHECK = {
    "name": "check_sshd.sh", "template": "check_ssh_banner.sh.j2", "vrrp_name": "check_ssh",
    "interval": INTERVAL, "fall": FALL, "rise": 2, "weight": -20,
    "vars": {"port": 22, "banner_timeout": BANNER_TIMEOUT},
}


@pytest.fixture(scope="module", autouse=True)
def converged(cluster):
    converge(cluster)  # the example's check: ssh.service active


def banner_inventory(cluster, tmp_path):
    return cluster.derived_inventory(str(tmp_path / "inventory.py"), lambda data: {
        **data, "keepalived_check_scripts": [BANNER_CHECK]})


def hang_sshd(cluster, host):
    code, output = cluster.run(host, f"kill -STOP {SSHD}")
    assert code == 0, output
    assert cluster.run(host, "systemctl is-active ssh.service")[1].strip() == "active"


def resume_sshd(cluster, host):
    cluster.run(host, f"kill -CONT {SSHD}")


def test_hung_sshd_with_the_unit_check_keeps_the_vip(cluster):
    """The control: check_systemd_service.sh.j2 sees ssh.service active, so the VIP stays
    on a master whose sshd answers nobody."""
    cursor = cluster.journal_cursor(MASTER)
    hang_sshd(cluster, MASTER)
    try:
        moved = wait_for(lambda: cluster.holders() != [MASTER], timeout=THEORY + 1)
    finally:
        resume_sshd(cluster, MASTER)
    assert moved is None, f"VIP held by {cluster.holders()} with the unit check"
    assert "VRRP_Script(check_ssh) failed" not in cluster.journal_since(MASTER, cursor)


def test_hung_sshd_with_the_banner_check_moves_the_vip_and_back(cluster, tmp_path):
    converge(cluster, banner_inventory(cluster, tmp_path))
    assert wait_for(lambda: "VRRP_Script(check_ssh) succeeded" in cluster.run(
        MASTER, "journalctl -u keepalived --no-pager -o cat")[1], timeout=10) is not None
    script = cluster.run(MASTER, "cat /etc/keepalived/scripts/check_sshd.sh")[1]
    assert "check_ssh_banner 127.0.0.1 22" in script

    start = time.monotonic()
    hang_sshd(cluster, MASTER)
    try:
        moved = wait_for(lambda: cluster.holders() == [BACKUP], timeout=THEORY + 5,
                         since=start)
    finally:
        resumed = time.monotonic()
        resume_sshd(cluster, MASTER)
    assert moved is not None, f"VIP held by {cluster.holders()} with sshd hung"
    record("bookworm: sshd hung (SIGSTOP), banner check -> VIP moved", moved, THEORY)
    assert moved <= THEORY + 1, f"took {moved:.2f} s, theory {THEORY:.2f} s"
    journal = cluster.run(MASTER, "journalctl -u keepalived --no-pager -o cat")[1]
    assert "VRRP_Script(check_ssh) failed" in journal

    back = wait_for(lambda: cluster.holders() == [MASTER], timeout=15, since=resumed)
    assert back is not None, f"VIP held by {cluster.holders()} after sshd resumed"


def test_stopped_sshd_with_the_banner_check_moves_the_vip_and_back(cluster, tmp_path):
    """sshd stopped (its unit too, not only SIGSTOP): the VIP moves, and it is the banner
    check that failed: it exits 1 on a refused connection, where the unit check
    (`systemctl is-active`) would exit 3, so this fails with the unit check in place."""
    converge(cluster, banner_inventory(cluster, tmp_path))  # no change after the test above
    assert "check_ssh_banner 127.0.0.1 22" in cluster.run(
        MASTER, "cat /etc/keepalived/scripts/check_sshd.sh")[1]
    cursor = cluster.journal_cursor(MASTER)
    start = time.monotonic()
    code, output = cluster.run(MASTER, "systemctl stop ssh.service")
    assert code == 0, output
    try:
        moved = wait_for(lambda: cluster.holders() == [BACKUP], timeout=THEORY + 5,
                         since=start)
        journal = cluster.journal_since(MASTER, cursor)
    finally:
        started = time.monotonic()
        cluster.run(MASTER, "systemctl start ssh.service")
    assert moved is not None, f"VIP held by {cluster.holders()} with sshd stopped"
    record("bookworm: sshd stopped, banner check -> VIP moved", moved, THEORY)
    assert moved <= THEORY + 1, f"took {moved:.2f} s, theory {THEORY:.2f} s"
    assert "VRRP_Script(check_ssh) failed (exited with status 1)" in journal, journal
    back = wait_for(lambda: cluster.holders() == [MASTER], timeout=15, since=started)
    assert back is not None, f"VIP held by {cluster.holders()} after sshd started"


def test_sshd_refuses_a_bad_new_host_key_before_any_is_installed(cluster):
    """check_host_keys.sh, the first step of the shared keys' install: a key sshd cannot
    load (truncated) fails it, with the live keys untouched; a good key passes."""
    upload = "/var/tmp/kt-check-keys"
    live = "/etc/ssh/ssh_host_ed25519_key"
    before = cluster.run(MASTER, f"sha256sum {live}")[1]
    code, output = cluster.run(MASTER, (
        f"rm -rf {upload} && mkdir -m 700 {upload} && "
        f"ssh-keygen -q -t ed25519 -N '' -f {upload}/0 && head -c 100 {upload}/0 > {upload}/1"))
    assert code == 0, output

    def check(*pairs):
        words = " ".join(f"{upload}/{number} {path}" for number, path in pairs)
        return cluster.run(MASTER, f"sh -c {shlex.quote(CHECK_KEYS)} check_host_keys {words}")

    try:
        assert check((0, live)) == (0, "")
        code, output = check((0, live), (1, "/etc/ssh/ssh_host_rsa_key"))
        assert code == 1, output
        assert ("sshd refuses the new host key for /etc/ssh/ssh_host_rsa_key: no key "
                "installed") in output, output
    finally:
        cluster.run(MASTER, f"rm -rf {upload}")
    assert cluster.run(MASTER, f"sha256sum {live}")[1] == before


def status_json(cluster, inventory=None):
    """status.py with --json: (its JSON, which must parse, from stdout; its stderr)."""
    result = pyinfra(inventory or cluster.inventory_path, "-y", "--json", deploy="status.py")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout), result.stderr


def test_status_says_the_holders_keys_differ_and_json_stays_clean(cluster):
    output, log = status_json(cluster)
    assert isinstance(output, dict), output
    assert "OK: every instance has exactly one MASTER" in log
    assert (f"instance VI_1: holders {MASTER}, {BACKUP} present different ecdsa, ed25519, "
            f"rsa keys: a client that trusted the VIP through {MASTER} is refused by "
            f"{BACKUP} unless its known_hosts lists both (run known_hosts.py) or "
            "keepalived_ssh_host_keys: shared") in log, log
    for host in cluster.hosts:  # each key's fingerprint as the host's ssh-keygen -l shows it
        shown = cluster.run(host, "for f in /etc/ssh/ssh_host_*_key.pub; do echo "
                                  "$(cut -d ' ' -f 1 $f) $(ssh-keygen -l -f $f | cut -d ' ' -f 2); "
                                  "done")[1].splitlines()
        assert len(shown) == 3, shown
        for line in shown:
            assert f"  {host} {line}" in log, log
        for _, key in cluster.host_keys(host):
            assert key not in log  # fingerprints only


# -- an SSH client through the VIP --------------------------------------------------------

NAME = "jump.test"  # the VIP's DNS name, in the client's /etc/hosts and keepalived_vip_names
FAULTS = {  # how the master fails: (fault, repair, theory of the VIP's move)
    "stop": (lambda cluster: cluster.run(MASTER, "systemctl stop --no-block keepalived"),
             skew_time(priority=90)),
    "SIGKILL": (lambda cluster: kill_keepalived(cluster, MASTER),
                master_down_interval(priority=90)),
}


@pytest.fixture(scope="module")
def client(cluster):
    """A third container with OpenSSH's client, the deployer's key, and the VIP's name."""
    name = cluster.start_extra("client")
    cluster.put_file(name, "/root/id_deployer", open(cluster.key_path).read())
    cluster.run(name, f"echo '{cluster.vip().split('/')[0]} {NAME}' >> /etc/hosts")
    return name


@pytest.fixture(scope="module")
def vip_known_hosts(cluster, client, tmp_path_factory):
    """The file known_hosts.py writes (with the VIP's DNS name), copied to the client.
    What it reports is on stderr: with --json, stdout is pyinfra's JSON alone."""
    directory = tmp_path_factory.mktemp("known_hosts")
    vip = cluster.vip().split("/")[0]
    inventory = cluster.derived_inventory(str(directory / "inventory.py"), lambda data: {
        **data, "keepalived_vip_names": {vip: [NAME]}})
    path = directory / "known_hosts.vips"
    result = pyinfra(inventory, "-y", "--json", f"--data=known_hosts_file={path}",
                     deploy="known_hosts.py")
    assert result.returncode == 0, result.stdout + result.stderr
    json.loads(result.stdout)
    keys = sum(len(cluster.host_keys(host)) for host in cluster.hosts)
    assert f"wrote {path}: {keys} keys" in result.stderr, result.stderr
    content = path.read_text()
    for host in cluster.hosts:
        for key_type, key in cluster.host_keys(host):
            assert f"{NAME},{vip} {key_type} {key} {host}\n" in content
    cluster.put_file(client, "/root/known_hosts.vips", content, 0o644)
    return "/root/known_hosts.vips"


def login(cluster, client, known_hosts, target=None, strict="yes"):
    """(the host name the login reached, or None; ssh's output)"""
    target = target or cluster.vip().split("/")[0]
    code, output = cluster.run(client, (
        f"ssh -i /root/id_deployer -o BatchMode=yes -o ConnectTimeout=1 "
        f"-o StrictHostKeyChecking={strict} -o UserKnownHostsFile={known_hosts} "
        f"-o GlobalKnownHostsFile=/dev/null deployer@{target} hostname"))
    return (output.split()[-1] if code == 0 else None), output


@pytest.mark.parametrize("fault", FAULTS)
def test_ssh_client_follows_the_vip_with_the_known_hosts_file(cluster, client,
                                                              vip_known_hosts, fault):
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None
    first_use = f"/root/known_hosts.{fault}"  # trusted on first use: the master's key
    assert login(cluster, client, first_use, strict="accept-new")[0] == MASTER
    for target in (None, NAME):
        assert login(cluster, client, vip_known_hosts, target)[0] == MASTER, target

    cause, theory = FAULTS[fault]
    start = time.monotonic()
    cause(cluster)
    try:
        reached = wait_for(lambda: login(cluster, client, vip_known_hosts)[0] == BACKUP,
                           timeout=theory + 10, since=start, interval=0.1)
        refused = login(cluster, client, first_use)
        by_name = login(cluster, client, vip_known_hosts, NAME)
    finally:
        repaired = time.monotonic()
        cluster.run(MASTER, "systemctl start keepalived")
    assert reached is not None, f"{fault}: no login to {BACKUP} through the VIP"
    record(f"bookworm: keepalived {fault} -> first SSH login via VIP", reached, theory)
    assert by_name[0] == BACKUP, by_name[1]
    # the control: the client that trusted the master's key alone is refused
    assert refused[0] is None and "REMOTE HOST IDENTIFICATION HAS CHANGED" in refused[1], \
        refused[1]

    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15,
                    since=repaired) is not None, f"VIP held by {cluster.holders()}"
    assert wait_for(lambda: login(cluster, client, vip_known_hosts)[0] == MASTER,
                    timeout=5) is not None
    assert login(cluster, client, first_use)[0] == MASTER


# -- shared host keys (keepalived_ssh_host_keys: "shared") --------------------------------

KEY_TYPES = ("rsa", "ecdsa", "ed25519")  # what Debian 12's sshd is configured with


def operator_keys(directory):
    """The operator's key directory: one ssh_host_<type>_key (600) and .pub per type."""
    directory.mkdir()
    for key_type in KEY_TYPES:
        subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "jump.test",
                        "-f", str(directory / f"ssh_host_{key_type}_key")], check=True)
    return str(directory)


def fail_over_and_back(cluster, client, known_hosts):
    """Stop the master's keepalived; (the login through the VIP once the backup holds it,
    seconds from the fault to it); start it again, the VIP back on the master."""
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15) is not None
    start = time.monotonic()
    cluster.run(MASTER, "systemctl stop --no-block keepalived")
    try:
        moved = wait_for(lambda: cluster.holders() == [BACKUP], timeout=15, since=start)
        assert moved is not None, f"VIP held by {cluster.holders()}"
        result = login(cluster, client, known_hosts)
        seconds = time.monotonic() - start
    finally:
        repaired = time.monotonic()
        cluster.run(MASTER, "systemctl start keepalived")
    assert wait_for(lambda: cluster.holders() == [MASTER], timeout=15,
                    since=repaired) is not None, f"VIP held by {cluster.holders()}"
    return result, seconds


def test_shared_host_keys_keep_a_client_that_trusted_the_vip_logging_in(cluster, client,
                                                                        tmp_path):
    # the control: per-host keys, a client that trusted the VIP on first use is refused
    control = "/root/known_hosts.control"
    assert login(cluster, client, control, strict="accept-new")[0] == MASTER
    refused, _ = fail_over_and_back(cluster, client, control)
    assert refused[0] is None and "REMOTE HOST IDENTIFICATION HAS CHANGED" in refused[1], \
        refused[1]

    keys = operator_keys(tmp_path / "keys")
    inventory = cluster.derived_inventory(str(tmp_path / "inventory.py"), lambda data: {
        **data, "keepalived_ssh_host_keys": "shared", "keepalived_ssh_host_keys_dir": keys})
    listeners = {host: cluster.run(host, f"echo {SSHD}")[1].strip() for host in cluster.hosts}
    try:
        converge(cluster, inventory)
        cluster.write_inventory()  # direct logins: the pinned keys follow (shared now)
        wanted = sorted(tuple(open(f"{keys}/ssh_host_{t}_key.pub").read().split()[:2])
                        for t in KEY_TYPES)
        for host in cluster.hosts:
            assert sorted(cluster.host_keys(host)) == wanted, host
            modes = cluster.run(host, "stat -c '%n %a %U:%G' /etc/ssh/ssh_host_*")[1]
            for key_type in KEY_TYPES:
                assert f"ssh_host_{key_type}_key 600 root:root" in modes, modes
                assert f"ssh_host_{key_type}_key.pub 644 root:root" in modes, modes
            # reloaded (SIGHUP, sshd re-executes itself in place), never restarted
            assert cluster.run(host, f"echo {SSHD}")[1].strip() == listeners[host], host
        again = pyinfra(inventory, "-y")  # direct logins with the new pins; no change
        assert again.returncode == 0, again.stdout + again.stderr
        assert totals(again)[1] == 0, again.stdout
        assert "Install the shared SSH host keys" not in again.stdout
        log = status_json(cluster, inventory)[1]
        assert (f"instance VI_1: holders {MASTER}, {BACKUP} present the same SSH host keys ("
                in log and "a client sees no change on failover" in log), log

        trusted = "/root/known_hosts.shared"
        assert login(cluster, client, trusted, strict="accept-new")[0] == MASTER
        reached, seconds = fail_over_and_back(cluster, client, trusted)
        assert reached[0] == BACKUP, reached[1]
        record("bookworm: keepalived stop, shared keys -> login via VIP", seconds,
               skew_time(priority=90))
        assert wait_for(lambda: login(cluster, client, trusted)[0] == MASTER,
                        timeout=5) is not None
    finally:  # back to per-host keys, as docs/day-2.md says, for the tests after this one
        for host in cluster.hosts:
            cluster.run(host, "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A && "
                              "systemctl reload ssh.service")
        cluster.write_inventory()
