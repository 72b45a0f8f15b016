"""Unit tests for shared SSH host keys (keepalived_ssh_host_keys: "shared",
operations.shared_keys): the data's checks, and the commands the deploy sends through
pyinfra's @fake connector, with nothing secret on any command line."""

import logging
import os
import shlex
import signal
import subprocess

import pytest
from pyinfra.api import StringCommand

from pyinfra_keepalived.facts import keepalived as facts
from pyinfra_keepalived.host_paths import LOCK_FILE, LOCK_HOLDER
from pyinfra_keepalived.operations.shared_keys import CHECK_KEYS, RELOAD
from pyinfra_keepalived.operations.state_files import LOCK_SCRIPT, locked_install
from pyinfra_keepalived.operations.uploads import sha256
from testhosts.polling import wait_for

from .fakehosts import (
    CLEANUP,
    LOCK_ARGS,
    MAKE_TEMP,
    PROBE_FACT,
    TEMP,
    assert_one_probe,
    deploy,
    fact_commands,
    make_state,
    op_commands,
    probe_output,
    sent,
    unlocked,
    up_to_date_probes,
)
from .hostdata import assert_error, check, check_fails, host_01, host_02, read

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("recorder")]

KEY = "/etc/ssh/ssh_host_ed25519_key"


def key_dir(path, types=("ed25519",)):
    path.mkdir(exist_ok=True)
    for key_type in types:
        subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "test",
                        "-f", str(path / f"ssh_host_{key_type}_key")], check=True)
    return str(path)


def shared(directory):
    return {"keepalived_ssh_host_keys": "shared", "keepalived_ssh_host_keys_dir": directory}


# -- the data's checks --

def test_shared_keys_are_read(tmp_path):
    directory = key_dir(tmp_path / "keys", ("ed25519", "rsa"))
    settings, errors, warnings = read({**host_01(), **shared(directory)})
    assert errors == [] and warnings == []
    pairs = settings.ssh_host_keys.pairs
    assert [pair.name for pair in pairs] == ["ssh_host_ed25519_key", "ssh_host_rsa_key"]
    assert "PRIVATE KEY" not in repr(settings)  # (a secret: not in repr())


def test_per_host_is_the_default_and_reads_nothing():
    assert read(host_01())[0].ssh_host_keys is None


def edit(path, name, change):
    change(os.path.join(path, name))
    return path


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: {"keepalived_ssh_host_keys": "same"},
     "keepalived_ssh_host_keys = 'same': must be one of: per-host, shared"),
    (lambda tmp: {"keepalived_ssh_host_keys": "shared"},
     "keepalived_ssh_host_keys_dir = None: must be a directory on the control machine with "
     "ssh_host_*_key files (mode 600) and their .pub when keepalived_ssh_host_keys is "
     "'shared' (allowed: per-host, shared)"),
    (lambda tmp: shared(f"{tmp}/nowhere"),
     "keepalived_ssh_host_keys_dir = '{tmp}/nowhere': {tmp}/nowhere is not a directory on "
     "the control machine"),
    (lambda tmp: shared(str(tmp)),
     "keepalived_ssh_host_keys_dir = '{tmp}': {tmp} holds no ssh_host_*_key file"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), "ssh_host_ed25519_key",
                             lambda p: os.chmod(p, 0o640))),
     "keepalived_ssh_host_keys_dir = '{tmp}/k': {tmp}/k/ssh_host_ed25519_key has mode 640: a private key must be 600 or stricter "
     "(chmod 600 {tmp}/k/ssh_host_ed25519_key)"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), "ssh_host_ed25519_key.pub", os.remove)),
     "keepalived_ssh_host_keys_dir = '{tmp}/k': {tmp}/k/ssh_host_ed25519_key: No such file or directory "
     "({tmp}/k/ssh_host_ed25519_key.pub)"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), "ssh_host_ed25519_key",
                             lambda p: open(p, "w").write("not a key\n"))),
     "keepalived_ssh_host_keys_dir = '{tmp}/k': {tmp}/k/ssh_host_ed25519_key is not an SSH private key without passphrase"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), "ssh_host_ed25519_key.pub",
                             lambda p: os.replace(key_dir(tmp / "other") +
                                                  "/ssh_host_ed25519_key.pub", p))),
     "keepalived_ssh_host_keys_dir = '{tmp}/k': {tmp}/k/ssh_host_ed25519_key.pub does not match {tmp}/k/ssh_host_ed25519_key"),
])
def test_errors_name_host_key_path_and_allowed_values(tmp_path, make, expected):
    assert_error({**host_01(), **make(tmp_path)},
                 "host-01: " + expected.format(tmp=tmp_path))


NOBODY = 65534  # (the tests run as root: they can hand a file to another user)


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: shared(edit(key_dir(tmp / "k"), ".", lambda p: os.chmod(p, 0o775))),
     "{tmp}/k has mode 775: writable by group or others, who could plant a key pair that "
     "every host would present (chmod go-w {tmp}/k)"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), ".", lambda p: os.chmod(p, 0o1777))),
     "{tmp}/k has mode 1777: writable by group or others"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), ".", lambda p: os.chown(p, NOBODY, -1))),
     "{tmp}/k is owned by nobody: only the deploy's user (root) or root may own it, or "
     "its owner could plant a key pair that every host would present"),
    (lambda tmp: shared(edit(key_dir(tmp / "k"), "ssh_host_ed25519_key",
                             lambda p: os.chown(p, NOBODY, -1))),
     "{tmp}/k/ssh_host_ed25519_key is owned by nobody, not by root who runs the deploy: a "
     "private key it gives every host must be this user's own (chown root "
     "{tmp}/k/ssh_host_ed25519_key)"),
])
def test_keys_others_could_plant_are_refused(tmp_path, make, expected):
    """Beyond the private key's mode: its owner is the deploy's user, and nobody else can
    write in its directory."""
    assert_error({**host_01(), **make(tmp_path)},
                 f"host-01: keepalived_ssh_host_keys_dir = '{tmp_path}/k': "
                 + expected.format(tmp=tmp_path))


def test_a_passphrase_is_refused(tmp_path):
    directory = tmp_path / "k"
    directory.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret phrase",
                    "-f", str(directory / "ssh_host_ed25519_key")], check=True)
    assert_error({**host_01(), **shared(str(directory))},
                 "is not an SSH private key without passphrase")


def test_dir_without_shared_warns(tmp_path):
    _, errors, warnings = read({**host_01(), "keepalived_ssh_host_keys_dir": str(tmp_path)})
    assert errors == []
    assert warnings == [f"host-01: keepalived_ssh_host_keys_dir = '{tmp_path}': is set but "
                        "keepalived_ssh_host_keys is 'per-host': the keys are not used"]


def test_every_host_of_an_instance_uses_the_same_keys(tmp_path):
    one, other = key_dir(tmp_path / "one"), key_dir(tmp_path / "other")
    check(("host-01", {**host_01(), **shared(one)}), ("host-02", {**host_02(), **shared(one)}))
    error = check_fails(("host-01", {**host_01(), **shared(one)}), ("host-02", host_02()))
    assert [str(e) for e in error.errors] == [
        f"host-02: keepalived_ssh_host_keys = 'per-host': differs from host-01's ('shared' "
        f"from {one}), which can hold the VIPs of VI_1 too: every host of an instance must "
        "use the same keys (allowed: per-host, shared; the same keepalived_ssh_host_keys_dir "
        "contents)"]
    error = check_fails(("host-01", {**host_01(), **shared(one)}),
                        ("host-02", {**host_02(), **shared(other)}))
    assert "host-02: keepalived_ssh_host_keys = 'shared': differs from host-01's" in str(
        error.errors[0])


# -- what is sent --

def key_lines(directory, content_of=None, mode="600", missing=False):
    """The probe's ssh-host-keys section: sshd has one HostKey, ed25519."""
    if missing:
        return [f"key|{KEY}|missing", f"key|{KEY}.pub|missing"]
    private = open(f"{directory}/ssh_host_ed25519_key").read()
    public = open(f"{directory}/ssh_host_ed25519_key.pub").read()
    private = (content_of or {}).get(KEY, private)
    return [f"key|{KEY}|{mode}|root|root|{facts.digest(private, salted=True)}  -",
            f"key|{KEY}.pub|644|root|root|{facts.digest(public, salted=True)}  -"]


def keys_state(tmp_path, section, verbose=False):
    directory = key_dir(tmp_path / "keys")
    group_data = shared(directory)
    base = make_state("rocky", group_data=group_data)
    probes = up_to_date_probes(base)
    responses = {}
    for name, probe in probes.items():
        responses[name] = {PROBE_FACT: [*probe_output("rocky", **probe), "## ssh-host-keys",
                                        *section(directory)]}
    state = make_state("rocky", probes=probes, responses=responses, group_data=group_data)
    if verbose:
        state.print_fact_info = state.print_fact_input = state.print_fact_output = True
        state.print_input = state.print_output = True
    return state, directory


CHECK = f"sh -c {shlex.quote(CHECK_KEYS)} check_host_keys {TEMP}/0 {KEY}"  # before any install
INSTALL = " ".join([
    CHECK, "&&",
    "install -o root -g root -m 600", f"{TEMP}/0", KEY, "&&",
    "install -o root -g root -m 644", f"{TEMP}/1", f"{KEY}.pub", "&&",
    "sh -c", shlex.quote(RELOAD)])


def test_differing_keys_are_installed_and_sshd_reloaded_under_the_lock(tmp_path, recorder):
    state, directory = keys_state(tmp_path, lambda d: key_lines(d, missing=True))
    for host in deploy(state):
        # the upload directory is removed by the shell outside the lock: also when the
        # lock cannot be had (a private key must not wait there for a later run)
        locked = (f"{CLEANUP} && sh -c {shlex.quote(LOCK_SCRIPT + chr(10) + INSTALL)} "
                  f"{LOCK_ARGS} {shlex.quote('shared SSH host keys')}")
        assert sent(host, recorder) == [MAKE_TEMP, f"upload {TEMP}/0", f"upload {TEMP}/1",
                                        locked]
        assert "systemctl reload" in RELOAD and "restart" not in RELOAD
        assert_one_probe(host, recorder)


def test_only_a_changed_private_key_is_sent_again(tmp_path, recorder):
    state, _ = keys_state(tmp_path, lambda d: key_lines(d, content_of={KEY: "old"}))
    for host in deploy(state):
        sent_command = op_commands(host, recorder)[1]
        assert sent_command.startswith(f"{CLEANUP} && ")  # outside the lock
        command, what = unlocked(sent_command[len(CLEANUP) + len(" && "):])
        assert what == "shared SSH host keys"
        assert command == (f"{CHECK} && "
                           f"install -o root -g root -m 600 {TEMP}/0 {KEY} && "
                           f"sh -c {shlex.quote(RELOAD)}")


def test_a_wrong_mode_is_a_change(tmp_path, recorder):
    state, _ = keys_state(tmp_path, lambda d: key_lines(d, mode="644"))
    for host in deploy(state):
        assert op_commands(host, recorder)[0] == MAKE_TEMP


def test_keys_in_place_cost_one_probe_and_nothing_else(tmp_path, recorder):
    state, _ = keys_state(tmp_path, key_lines)
    for host in deploy(state):
        assert op_commands(host, recorder) == []
        assert_one_probe(host, recorder)


def test_a_key_type_the_directory_lacks_fails_the_host_naming_the_path(tmp_path, recorder):
    state, _ = keys_state(tmp_path, lambda d: ["key|/etc/ssh/ssh_host_rsa_key|missing"])
    with pytest.raises(Exception) as raised:
        deploy(state)
    assert ("host-0" in str(raised.value) and "sshd's HostKey /etc/ssh/ssh_host_rsa_key has no ssh_host_rsa_key in "
            "keepalived_ssh_host_keys_dir") in str(raised.value)


def test_nothing_secret_on_any_command_line_or_in_the_log(tmp_path, caplog, capsys, recorder):
    """With -vvv pyinfra prints every command and fact output: no private key, no plain
    digest of one, not the salt; the probe reads the keys only when they are shared."""
    caplog.set_level(logging.DEBUG)
    state, directory = keys_state(tmp_path, lambda d: key_lines(d, content_of={KEY: "old"}),
                                  verbose=True)
    hosts = deploy(state)
    printed = caplog.text + "".join(capsys.readouterr())
    private = open(f"{directory}/ssh_host_ed25519_key").read()
    body = private.splitlines()[1]
    for host in hosts:
        commands = "\n".join(map(str, host.connector.executed_commands))
        for text in (commands, printed):
            assert body not in text and sha256(private) not in text
            assert facts.RUN_SALT not in text
        assert "t='*MASKED*'" in fact_commands(host, recorder)[0]
    plain = make_state("rocky")
    for host in deploy(plain):
        assert "ssh-host-keys" not in fact_commands(host, recorder)[0]


@pytest.mark.parametrize("lock_free", [True, False])
def test_the_upload_directory_goes_also_when_the_lock_cannot_be_had(tmp_path, lock_free):
    """The command that installs uploaded files under the deploy lock, run in a real
    shell: its upload directory (here holding a 'private key') is removed whether the
    steps ran or the lock was held by another run (exit 75, nothing changed)."""
    uploads = tmp_path / "keepalived-deploy.0123456789ab"
    uploads.mkdir(mode=0o700)
    (uploads / "0").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    lock, holder, done = tmp_path / "lock", tmp_path / "holder", tmp_path / "done"
    words = locked_install(str(uploads), [["touch", str(done)]], "a test", wait=1)
    command = (StringCommand(*words).get_raw_value()
               .replace(LOCK_FILE, str(lock)).replace(LOCK_HOLDER, str(holder)))
    other_run = None if lock_free else subprocess.Popen(
        ["flock", str(lock), "sleep", "30"], start_new_session=True)
    try:
        if other_run is not None:  # until the other run holds it
            assert wait_for(lambda: subprocess.run(["flock", "-n", str(lock), "true"])
                            .returncode != 0, timeout=5)
        result = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    finally:
        if other_run is not None:
            os.killpg(other_run.pid, signal.SIGKILL)  # flock and its sleep
            other_run.wait()
    assert (result.returncode, done.exists()) == ((0, True) if lock_free else (75, False)), \
        result.stderr
    assert not uploads.exists()
