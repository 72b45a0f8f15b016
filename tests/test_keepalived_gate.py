"""The validation gate (pyinfra_keepalived/operations/transaction.sh) run here against the real `keepalived -t`.

Rendered configs must be accepted and made live; configs keepalived rejects must leave the
live tree exactly as it was. Needs the keepalived binary (.ci/run installs it from apt).
"""

import os
import shutil
import signal
import subprocess

import pytest

from pyinfra_keepalived.operations.config_tree import TRANSACTION_SCRIPT
from pyinfra_keepalived.shipped import shell_script

from .gate import (
    LAYOUT,
    NEEDS_KEEPALIVED,
    live,
    promote_rejected,
    rendered,
    run_transaction,
    write_tree,
)

pytestmark = [pytest.mark.unit, NEEDS_KEEPALIVED]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def snapshot(root):
    return {str(path.relative_to(root)): path.read_bytes()
            for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("host", ["host-01", "host-02"])
def test_rendered_seed_config_is_accepted_and_made_live(trees, host):
    base, stage = trees
    files = rendered(base, host)
    write_tree(stage, files)
    (base / "conf.d" / "99-stale.conf").write_text("vrrp_instance OLD {\n}\n")

    result = run_transaction(stage, base)

    assert result.returncode == 0, result.stderr
    for relative, file in files.items():
        live = base / relative
        assert live.read_text() == file.content
        assert oct(live.stat().st_mode & 0o777) == oct(int(file.mode, 8))
    assert not (base / "conf.d" / "99-stale.conf").exists(), "stale conf.d file not removed"
    for relative, target in [(".current", ".generations/20261201T000000Z-abcdef"), *LAYOUT]:
        assert os.readlink(base / relative) == target


def test_non_root_script_user_is_still_validated(trees):
    """2.2.7 kills its own -t (143) when scripts run as non-root; the gate must still
    reject a broken config in that setup, not wave it through."""
    base, stage = trees
    files = rendered(base)
    files["conf.d/20-vrrp_instances.conf"] = files["conf.d/20-vrrp_instances.conf"].content \
        .replace("virtual_router_id 51", "virtual_router_id 300")
    write_tree(stage, files)
    before = live(base)

    result = run_transaction(stage, base)

    assert result.returncode != 0
    assert "VRID '300' not valid" in result.stderr
    assert "Terminated" not in result.stderr  # the shell's note on 2.2.7's self-kill
    assert live(base) == before


# case: ([(file, text, replacement), ...], what keepalived says)
BROKEN = {
    "unknown keyword": ([("conf.d/20-vrrp_instances.conf", "advert_int        1",
                          "advert_intervall 1")], "Unknown keyword 'advert_intervall'"),
    "VRID out of range": ([("conf.d/20-vrrp_instances.conf", "virtual_router_id 51",
                            "virtual_router_id 256")], "VRID '256' not valid"),
    "password truncated": ([("conf.d/20-vrrp_instances.conf", "auth_pass 1234",
                             "auth_pass 123456789")], "Truncating auth_pass"),
    "missing script user": ([("conf.d/00-global_defs.conf", "script_user nobody",
                              "script_user no_such_user_x")], "script user 'no_such_user_x'"),
    # an include that matches nothing: without -e, `-t` exits 0 on a config with no instance
    "include matches nothing": ([("keepalived.conf", "/conf.d/*.conf", "/conf.d/*.cfg")],
                                "No config files matched"),
    "missing interface": ([("conf.d/00-global_defs.conf", "    dynamic_interfaces\n", ""),
                           ("conf.d/20-vrrp_instances.conf", "interface         eth0",
                            "interface         ktnone0")],
                          "interface ktnone0 for vrrp_instance VI_1 doesn't exist"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_rejected_config_never_goes_live(trees, case):
    base, stage = trees
    replacements, message = BROKEN[case]
    files = {name: file.content for name, file in rendered(base).items()}
    for relative, old, new in replacements:
        assert old in files[relative]
        files[relative] = files[relative].replace(old, new)
    write_tree(stage, files)

    result = promote_rejected(stage, base, message)

    assert str(stage) not in result.stderr, "messages must name live paths, not the check copy"


def test_a_secret_keepalived_quotes_is_masked(trees):
    """keepalived quotes a line it cannot parse whole (an unterminated quote), an
    auth_pass value with it: the gate masks it as model.hidden does, never shows it."""
    base, stage = trees
    files = {name: file.content for name, file in rendered(base).items()}
    instances = "conf.d/20-vrrp_instances.conf"
    assert "auth_pass 1234" in files[instances]
    files[instances] = files[instances].replace("auth_pass 1234", 'auth_pass "s3cretQ')
    write_tree(stage, files)

    result = promote_rejected(stage, base, "Unterminated quote 'auth_pass ********")

    assert "s3cretQ" not in result.stdout + result.stderr


# -- the transaction around the gate: lock, generations, layout --

def test_a_second_run_waits_for_the_lock_then_fails_naming_the_holder(trees):
    """Another run holds the host's lock (flock, as lock.sh takes it): this one waits
    `wait` seconds, then fails with the holder's line (exit 75) and changes nothing."""
    base, stage = trees
    write_tree(stage, rendered(base))
    lock, holder = base.parent / "lock", base.parent / "holder"
    holder.write_text("pid 4242, login user ops, since 2026-12-01 07:00:00 UTC: a test\n")
    before = live(base)
    holding = subprocess.Popen(["flock", str(lock), "sleep", "30"], start_new_session=True)
    try:
        assert wait_for_lock_held(lock)
        result = run_transaction(stage, base, wait=1)
    finally:
        os.killpg(holding.pid, signal.SIGKILL)  # flock and the sleep that holds the lock
        holding.wait()
    assert result.returncode == 75, result.stderr
    assert "another keepalived deploy holds the lock" in result.stderr
    assert "pid 4242, login user ops, since 2026-12-01 07:00:00 UTC: a test" in result.stderr
    assert "nothing was changed on this host" in result.stderr
    assert live(base) == before
    # once the holder is gone (its lock died with it), the run goes through and says who
    # holds the lock now
    result = run_transaction(stage, base, wait=1)
    assert result.returncode == 0, result.stderr
    assert holder.read_text().startswith("pid ")
    assert "login user" in holder.read_text() and ": a test" in holder.read_text()


def wait_for_lock_held(lock, seconds=5):
    for _ in range(int(seconds / 0.05)):
        if subprocess.run(["flock", "-n", str(lock), "true"]).returncode != 0:
            return True
        subprocess.run(["sleep", "0.05"])
    return False


def test_only_the_live_and_the_previous_generation_are_kept(trees):
    """Each run makes a generation; .previous points at the one before (rollback, and
    the scripts a running keepalived resolved); older ones and what a dead run left
    (a .partial stage) go."""
    base, stage = trees
    files = rendered(base)
    names = [f"20261201T00000{n}Z-abcdef" for n in range(3)]
    for name in names:
        write_tree(stage, {**files, "conf.d/99-extra.conf": f"# {name}\n"})
        result = run_transaction(stage, base, generation=name)
        assert result.returncode == 0, result.stderr
        (base / ".generations" / "19990101T000000Z-dead00.partial").mkdir()
    result = run_transaction(stage, base, generation="20261201T000009Z-abcdef")
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(base / ".generations")) == [names[2], "20261201T000009Z-abcdef"]
    assert os.readlink(base / ".previous") == f".generations/{names[2]}"
    assert os.readlink(base / ".current") == ".generations/20261201T000009Z-abcdef"


def test_a_layout_cut_short_is_completed(trees):
    """A run killed between setting an earlier version's conf.d aside and linking it
    leaves no conf.d: the next run links it and drops what was set aside."""
    base, stage = trees
    files = rendered(base)
    write_tree(stage, files)
    assert run_transaction(stage, base).returncode == 0
    (base / "conf.d").unlink()
    (base / "conf.d.pyinfra-old").mkdir()
    result = run_transaction(stage, base, generation="20261201T000001Z-abcdef")
    assert result.returncode == 0, result.stderr
    assert os.readlink(base / "conf.d") == ".current/conf.d"
    assert not (base / "conf.d.pyinfra-old").exists()
    assert {name: data for name, (data, _) in live(base).items()} == {
        name: file.content.encode() for name, file in files.items()}


def fake_systemctl(directory, active=True):
    """A `systemctl` first on PATH that says keepalived is active (or not) and notes each
    reload in directory/reloads."""
    directory.mkdir(exist_ok=True)
    script = directory / "systemctl"
    script.write_text(f"""#!/bin/sh
case "$1" in
  is-active) exit {0 if active else 3} ;;
  reload) echo "$*" >> {directory}/reloads ;;
esac
""")
    script.chmod(0o755)
    return directory


def test_a_dropped_link_after_the_swap_still_reloads(trees, tmp_path):
    """The controller goes away (its end of the output pipe closes, as when SSH drops):
    the transaction still finishes on the host: swap, links, reload, marker cleared."""
    base, stage = trees
    write_tree(stage, rendered(base))
    fake = fake_systemctl(tmp_path / "bin")
    read, write = os.pipe()
    os.close(read)  # nobody reads this run's output any more
    try:
        result = run_transaction(stage, base, path=fake, stdout=write)
    finally:
        os.close(write)
    assert result.returncode == 0, result.stderr
    assert (fake / "reloads").read_text() == "reload keepalived.service\n"
    assert not (base.parent / "reload-pending").exists()
    assert os.readlink(base / ".current") == ".generations/20261201T000000Z-abcdef"
    assert os.readlink(base / "conf.d") == ".current/conf.d"


def test_a_running_keepalived_is_reloaded_and_the_marker_cleared(trees, tmp_path):
    base, stage = trees
    write_tree(stage, rendered(base))
    fake = fake_systemctl(tmp_path / "bin")
    result = run_transaction(stage, base, path=fake)
    assert result.returncode == 0, result.stderr
    assert "keepalived reloaded" in result.stdout
    assert (fake / "reloads").read_text() == "reload keepalived.service\n"
    assert not (base.parent / "reload-pending").exists()


def test_the_live_generation_survives_a_rejected_run_whatever_its_link_spells(trees):
    """.current may point at the live generation by an absolute path (a rollback by hand):
    it is still the live one, and a rejected run must not prune it."""
    base, stage = trees
    files = rendered(base)
    write_tree(stage, files)
    assert run_transaction(stage, base).returncode == 0
    live_dir = base / ".generations" / "20261201T000000Z-abcdef"
    (base / ".current").unlink()
    (base / ".current").symlink_to(live_dir)  # absolute
    before = live(base)
    broken = {**files, "conf.d/20-vrrp_instances.conf": files[
        "conf.d/20-vrrp_instances.conf"].content.replace("virtual_router_id 51",
                                                         "virtual_router_id 300")}
    shutil.rmtree(stage)
    write_tree(stage, broken)
    result = run_transaction(stage, base, generation="20261201T000001Z-abcdef")
    assert result.returncode != 0 and "the live config was NOT changed" in result.stderr
    assert live_dir.is_dir() and live(base) == before


def test_the_lock_lives_in_a_directory_only_root_can_use(tmp_path):
    """Any local user could hold a lock file in /run/lock against every deploy: the
    lock's directory is made mode 700 (root's) when it does not exist yet."""
    lock = tmp_path / "pyinfra-keepalived" / "lock"
    result = subprocess.run(
        ["sh", "-c", shell_script("operations/lock.sh") + "\necho got it",
         "pyinfra-keepalived", str(lock), str(lock.parent / "holder"), "1", "a test"],
        capture_output=True, text=True)
    assert result.returncode == 0 and "got it" in result.stdout, result.stderr
    assert oct(lock.parent.stat().st_mode & 0o777) == "0o700"
    assert "a test" in (lock.parent / "holder").read_text()


# -- the base dir: root's all the way (safe_base.sh), no link followed --

NOBODY = 65534


def refused(result, base, path, why):
    assert result.returncode == 1, result.stdout + result.stderr
    assert (f"keepalived base dir {base} is not safe: {path} {why}; another user could plant "
            "links that this root command would follow") in result.stderr
    assert "the live config was NOT changed" in result.stderr


def test_a_planted_generations_link_is_never_followed(trees, root_dir):
    """Someone who could write in the base dir once left .generations as a link to their
    victim's files: the prune's rm -rf would empty it. Refused before anything is done."""
    base, stage = trees
    victim = root_dir / "victim"
    victim.mkdir()
    (victim / "precious").write_text("keep me\n")
    (base / ".generations").symlink_to(victim)
    write_tree(stage, rendered(base))
    refused(run_transaction(stage, base), base, f"{base}/.generations",
            "is a symbolic link (never followed here: use the path it points to)")
    assert (victim / "precious").read_text() == "keep me\n"
    assert not (base / ".current").exists()


@pytest.mark.parametrize("make, why", [
    (lambda d: d.chmod(0o1777), "is writable by group or others (drwxrwxrwt)"),
    (lambda d: d.chmod(0o775), "is writable by group or others (drwxrwxr-x)"),
    (lambda d: os.chown(d, NOBODY, -1), f"is owned by uid {NOBODY}, not root"),
])
def test_a_base_dir_under_a_parent_others_can_change_is_refused(root_dir, make, why):
    """/tmp/keepalived and the like: nothing is made, read or removed there."""
    parent = root_dir / "parent"
    parent.mkdir(mode=0o755)
    make(parent)
    base, stage = parent / "keepalived", root_dir / "new"
    write_tree(stage, rendered(base))
    refused(run_transaction(stage, base), base, str(parent), why)
    assert not base.exists()


def test_a_link_on_the_way_to_the_base_dir_is_refused(root_dir):
    (root_dir / "real").mkdir(mode=0o755)
    (root_dir / "link").symlink_to(root_dir / "real")
    base, stage = root_dir / "link" / "keepalived", root_dir / "new"
    write_tree(stage, rendered(base))
    refused(run_transaction(stage, base), base, str(root_dir / "link"),
            "is a symbolic link (never followed here: use the path it points to)")
    assert not (root_dir / "real" / "keepalived").exists()


def test_the_base_dir_of_others_is_refused_also_for_a_pending_reload(trees):
    """The run with nothing new to stage (`-`) prunes too: checked first as well."""
    base, _ = trees
    os.chown(base, NOBODY, -1)
    result = subprocess.run(
        ["sh", "-c", shell_script("operations/lock.sh") + "\n" + TRANSACTION_SCRIPT,
         "pyinfra-keepalived", str(base.parent / "lock"), str(base.parent / "holder"), "5",
         "a test", "apply", str(base), "-", "G", str(base.parent / "reload-pending"),
         "keepalived.conf", "0"], capture_output=True, text=True)
    refused(result, base, str(base), f"is owned by uid {NOBODY}, not root")
