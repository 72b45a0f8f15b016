"""Adopting live hosts (adopt.py): the fact's command run here, with sh, on a tree laid out
as a host's (facts/live_config.sh: includes, scripts, the secret line), its output read by
the fact and adopted as deploys.adopt does (check and notify scripts from the files; bad
input an error naming the host, nothing written)."""

import os
import stat
import subprocess

import pytest

from pyinfra_keepalived.deploys import adopt, offline
from pyinfra_keepalived.facts.live_config import (
    KeepalivedLiveConfig,
    keystream,
    unmasked,
)
from pyinfra_keepalived.model import adopt_map, conf_parse, fleet

pytestmark = pytest.mark.unit

SECRET = "p@ssw0rd"
CHECK = "#!/bin/sh\n# {{ not jinja }}\nexec pidof sshd >/dev/null\n"
NOTIFY = "#!/bin/sh\necho \"$@\" >> /run/state\n"
CONFIG = """global_defs {
    router_id %(host)s
}
vrrp_script chk {
    script "%(root)s/check.sh"
    weight -20
}
include conf.d/*.conf
"""
INSTANCE = """vrrp_instance VI_1 {
    interface eth0
    state %(state)s
    virtual_router_id 51
    priority %(priority)s
    authentication {
        auth_type PASS
        auth_pass "%(secret)s"
    }
    virtual_ipaddress {
        10.0.0.100/24
    }
    track_script {
        chk
    }
    notify_master "%(root)s/notify.sh master"
}
"""


def host_tree(directory, host="lb1", priority=100, state="MASTER"):
    """A hand-configured host's /etc/keepalived at `directory`; returns its config path."""
    values = {"host": host, "root": directory, "state": state, "priority": priority,
              "secret": SECRET}
    os.makedirs(f"{directory}/conf.d", exist_ok=True)
    for name, text, mode in (("keepalived.conf", CONFIG % values, 0o644),
                             ("conf.d/vi.conf", INSTANCE % values, 0o600),
                             ("check.sh", CHECK, 0o755), ("notify.sh", NOTIFY, 0o755)):
        with open(f"{directory}/{name}", "w") as handle:
            handle.write(text)
        os.chmod(f"{directory}/{name}", mode)
    return f"{directory}/keepalived.conf"


def read_live(config_file):
    """The fact, its command run here (as the host would) and its output processed; and
    that output."""
    fact = KeepalivedLiveConfig()
    command = fact.command(config_file)
    result = subprocess.run(["sh", "-c", command.get_raw_value()], capture_output=True,
                            text=True, env={**os.environ, "PATH": "/usr/bin:/bin"})
    assert "*MASKED*" in command.get_masked_value()  # (the key is never printed)
    return fact.process(result.stdout.splitlines()), result.stdout


def test_keystream_round_trip():
    key, line = "k" * 32, f"auth_pass {SECRET}".encode()
    stream = keystream(key, "/etc/x.conf", "7", len(line) + 40)
    assert len(stream) == len(line) + 40
    sent = bytes((byte + k) % 256 for byte, k in zip(line, stream)).hex()
    assert unmasked(sent, key, "/etc/x.conf", "7") == line


def test_the_fact_reads_config_includes_and_scripts_and_never_sends_the_secret(tmp_path):
    config = host_tree(str(tmp_path))
    live, output = read_live(config)
    assert SECRET not in output and SECRET.encode().hex() not in output
    assert sorted(live.files) == sorted([config, f"{tmp_path}/conf.d/vi.conf",
                                         f"{tmp_path}/check.sh", f"{tmp_path}/notify.sh"])
    assert live.files[f"{tmp_path}/conf.d/vi.conf"] == open(f"{tmp_path}/conf.d/vi.conf").read()
    assert live.files[f"{tmp_path}/check.sh"] == CHECK


@pytest.mark.parametrize("case, message", [
    ("loop", "include loop"),
    ("missing include", "no file matches"),
    ("binary", "is a binary file"),
    ("large", "MB a keepalived config or script can reasonably be"),
    ("no config", "no such file"),
])
def test_bad_input_is_an_error_naming_the_host_and_nothing_is_written(tmp_path, case, message):
    root = tmp_path / "host"
    config = host_tree(str(root))
    with open(config, "a") as handle:
        if case == "loop":
            handle.write("include conf.d/../keepalived.conf\n")
        elif case == "missing include":
            handle.write("include nosuch/*.conf\n")
        elif case == "binary":
            handle.write("include blob.conf\n")
            (root / "blob.conf").write_bytes(b"\x7fELF\x00\x01")
        elif case == "large":
            handle.write("include big.conf\n")
            (root / "big.conf").write_text("# " + "x" * conf_parse.MAX_FILE_BYTES + "\n")
    if case == "no config":
        os.remove(config)
    live, _ = read_live(config)
    out = tmp_path / "out"
    with pytest.raises(offline.OfflineError) as raised:
        adopt.adopted({"lb1": live}, config)
    assert str(raised.value).startswith("lb1: ") and message in str(raised.value)
    assert not out.exists()


def test_a_binary_program_stays_a_command(tmp_path):
    """`script "/usr/bin/pgrep haproxy"`: the fact does not send a binary; its command
    maps as it is (check_script), no error."""
    config = host_tree(str(tmp_path))
    (tmp_path / "check.sh").write_bytes(b"\x7fELF\x00\x01")
    live, _ = read_live(config)
    assert live.refused == {f"{tmp_path}/check.sh": "binary"}
    mappings, _ = adopt.adopted({"lb1": live}, config)
    assert mappings["lb1"].data["keepalived_check_scripts"] == [
        {"name": "chk", "check_script": f"{tmp_path}/check.sh", "vrrp_name": "chk",
         "interval": 1, "fall": 1, "rise": 1, "weight": -20}]
    assert mappings["lb1"].unmapped == []


def test_a_config_keepalived_rejects_is_an_error_with_its_messages(tmp_path):
    config = host_tree(str(tmp_path))
    live, _ = read_live(config)
    rejected = type(live)(files=live.files, test_code=5,
                          test_output=("(Line 9) Unknown keyword 'nosuch'",))
    with pytest.raises(offline.OfflineError, match=r"lb1: keepalived rejects .* exit 5\): "
                                                   r"\(Line 9\) Unknown keyword 'nosuch'"):
        adopt.adopted({"lb1": rejected}, config)


def test_scripts_become_a_check_template_and_a_notify_script(tmp_path):
    config = host_tree(str(tmp_path))
    live, _ = read_live(config)
    mappings, _ = adopt.adopted({"lb1": live}, config)
    mapping = mappings["lb1"]
    assert mapping.unmapped == []
    assert mapping.data["keepalived_check_scripts"] == [
        {"name": "check.sh", "template": "check.sh", "vrrp_name": "chk", "interval": 1,
         "fall": 1, "rise": 1, "weight": -20}]
    assert mapping.templates == {"check.sh": "{% raw %}" + CHECK + "{% endraw %}"}
    assert mapping.data["keepalived_notify_scripts"] == [{"name": "notify.sh",
                                                          "content": NOTIFY}]
    instance = mapping.data["keepalived_vrrp_instances"][0]
    assert instance["track_scripts"] == ["chk"]
    assert instance["notify_master"] == "notify.sh master"
    assert instance["auth_pass"] == SECRET
    # keepalived's default script user: keepalived_script where it exists, else root
    assert mapping.data["keepalived_check_script_user"] == "root"


def test_without_the_files_scripts_stay_commands():
    tree = conf_parse.parse_text('vrrp_script c {\n script "/bin/c"\n}\n')
    for scripts in (None, {}):
        mapping = adopt_map.map_config(tree, scripts=scripts)
        assert (mapping.unmapped, mapping.templates) == ([], {})
        assert mapping.data["keepalived_check_scripts"] == [
            {"name": "c", "check_script": "/bin/c", "vrrp_name": "c", "interval": 1,
             "fall": 1, "rise": 1}]


def test_two_hosts_adopt_whole_and_render_the_same(tmp_path, monkeypatch):
    """Both hosts read, mapped, written (data 600, the check script in ./templates/), and
    the render compared with each live config: nothing unmapped, no difference."""
    lives = {}
    for host, priority, state in (("lb1", 100, "MASTER"), ("lb2", 90, "BACKUP")):
        lives[host] = read_live(host_tree(str(tmp_path / host), host, priority, state))[0]
    # the hosts' files at one path each, as on two hosts
    for host in lives:
        lives[host] = type(lives[host])(files={
            path.replace(str(tmp_path / host), "/etc/keepalived"): text.replace(
                str(tmp_path / host), "/etc/keepalived")
            for path, text in lives[host].files.items()})
    monkeypatch.chdir(tmp_path)
    mappings, trees = adopt.adopted(lives, "/etc/keepalived/keepalived.conf")
    lines = offline.adopt_into("out", mappings, trees, templates_dir="templates")
    assert lines == []
    assert (tmp_path / "templates" / "check.sh").read_text().endswith(CHECK + "{% endraw %}")
    for path in ("out/inventory.py", "out/group_data/vrrp_vi_1.py"):
        assert stat.S_IMODE(os.stat(tmp_path / path).st_mode) == 0o600
    group = (tmp_path / "out/group_data/vrrp_vi_1.py").read_text()
    assert SECRET in group and "keepalived_notify_scripts" in group
    tree = offline.rendered_hosts("out/inventory.py")
    script = tree["lb1"]["/etc/keepalived/scripts/check.sh"]
    assert script.content == CHECK


def test_a_template_of_the_operators_is_never_overwritten(tmp_path, monkeypatch):
    lives = {"lb1": read_live(host_tree(str(tmp_path / "lb1")))[0]}
    monkeypatch.chdir(tmp_path)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "check.sh").write_text("#!/bin/sh\nmine\n")
    mappings, trees = adopt.adopted(lives, str(tmp_path / "lb1" / "keepalived.conf"))
    with pytest.raises(offline.OfflineError, match="exists with another text"):
        offline.adopt_into("out", mappings, trees, templates_dir="templates")
    assert not (tmp_path / "out").exists()
    assert (tmp_path / "templates" / "check.sh").read_text() == "#!/bin/sh\nmine\n"


def test_the_proof_lists_differences_block_by_block(tmp_path, monkeypatch):
    """adopt_check.py's comparison for one host: the adopted data renders the same as
    the live config (its scripts moved into the scripts dir); a changed priority, and a
    changed check script, are each a difference; the auth_pass is never shown."""
    live = read_live(host_tree(str(tmp_path / "lb1")))[0]
    live = type(live)(files={path.replace(str(tmp_path / "lb1"), "/etc/keepalived"):
                             text.replace(str(tmp_path / "lb1"), "/etc/keepalived")
                             for path, text in live.files.items()})
    monkeypatch.chdir(tmp_path)
    mappings, trees = adopt.adopted({"lb1": live}, "/etc/keepalived/keepalived.conf")
    assert offline.adopt_into("out", mappings, trees, templates_dir="templates") == []

    def differences(edit=None):
        hosts = offline.load_inventory("out/inventory.py")
        if edit:
            hosts = [(name, edit(dict(data))) for name, data in hosts]
        settings = fleet.check_hosts(hosts, warn=lambda message: None)
        return adopt.host_differences(settings["lb1"], live)

    assert differences() == []
    assert differences(lambda data: {**data, "keepalived_priority": 50}) == [
        "vrrp_instance VI_1: only in live: priority 100",
        "vrrp_instance VI_1: only in rendered: priority 50"]
    (tmp_path / "templates" / "check.sh").write_text("#!/bin/sh\nexit 0\n")
    assert differences() == ["script /etc/keepalived/check.sh (to be "
                             "/etc/keepalived/scripts/check.sh): its text differs from the "
                             "render"]
    shown = differences(lambda data: {**data, "keepalived_vrrp_instances": [
        {**item, "auth_pass": "other"} for item in data["keepalived_vrrp_instances"]]})
    assert SECRET not in str(shown) and "other" not in str(shown) and shown


def on_host_paths(live, directory):
    """`live` as read from a host whose files are at /etc/keepalived (not `directory`)."""
    return type(live)(files={path.replace(directory, "/etc/keepalived"):
                             text.replace(directory, "/etc/keepalived")
                             for path, text in live.files.items()}, refused={
        path.replace(directory, "/etc/keepalived"): why for path, why in live.refused.items()})


@pytest.mark.parametrize("case, code", [("complete", 0), ("unmapped", 1), ("binary", 2),
                                        ("dry", 0)])
def test_adopt_hosts_exit_codes_and_what_is_written(tmp_path, monkeypatch, case, code):
    """adopt.py's run: 0 complete, 1 incomplete (ADOPT-INCOMPLETE.txt), 2 bad input with
    nothing written; --dry writes nothing."""
    lives = {}
    for host, priority, state in (("lb1", 100, "MASTER"), ("lb2", 90, "BACKUP")):
        directory = str(tmp_path / host)
        config = host_tree(directory, host, priority, state)
        if case == "unmapped" and host == "lb2":
            with open(config, "a") as handle:
                handle.write("garp_group {\n    garp_interval 1\n    interface eth0\n}\n")
        if case == "binary" and host == "lb2":
            with open(config, "a") as handle:
                handle.write("include blob.conf\n")
            (tmp_path / host / "blob.conf").write_bytes(b"\x7fELF\x00")
        lives[host] = on_host_paths(read_live(config)[0], directory)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(adopt, "read_hosts", lambda config_file: lives)
    monkeypatch.setattr(adopt, "dry_run", lambda: case == "dry")
    assert adopt.adopt_hosts(str(tmp_path / "out"), "/etc/keepalived/keepalived.conf") == code
    written = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.glob("*/**/*")
                     if path.is_file() and not path.parts[-2].startswith("lb")
                     and "conf.d" not in path.parts)
    if case in ("binary", "dry"):
        assert written == []
    else:
        assert written == sorted(["out/inventory.py", "out/group_data/vrrp_vi_1.py",
                                  "templates/check.sh"]
                                 + (["out/ADOPT-INCOMPLETE.txt"] if code else []))


@pytest.mark.skipif(not os.path.exists("/usr/sbin/keepalived"), reason="no keepalived here")
def test_keepalived_itself_tests_the_live_config(tmp_path):
    """The fact's command runs keepalived -t on the config (this machine's keepalived, as
    a host's): a VRID keepalived refuses, which the parser reads, is an error with
    keepalived's own message; the config as written passes."""
    config = host_tree(str(tmp_path))
    environment = {**os.environ, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}

    def read():
        fact = KeepalivedLiveConfig()
        result = subprocess.run(["sh", "-c", fact.command(config).get_raw_value()],
                                capture_output=True, text=True, env=environment)
        return fact.process(result.stdout.splitlines())

    assert adopt.keepalived_accepts(read())
    vi = tmp_path / "conf.d" / "vi.conf"
    vi.write_text(vi.read_text().replace("virtual_router_id 51", "virtual_router_id 256"))
    live = read()
    with pytest.raises(offline.OfflineError, match=r"lb1: keepalived rejects .*VRID"):
        adopt.adopted({"lb1": live}, config)


def test_a_script_written_after_the_instance_that_tracks_it_is_not_tracked():
    """keepalived reads in order: it ignores a track_script of a vrrp_script written
    further down ("track script chk not found, ignoring..."); so does the mapping."""
    tree = conf_parse.parse_text(
        "vrrp_instance VI_1 {\n track_script {\n  chk\n }\n}\n"
        'vrrp_script chk {\n script "/bin/chk"\n}\n')
    mapping = adopt_map.map_config(tree, scripts={"/bin/chk": "#!/bin/sh\n"})
    assert [(item.text, item.reason) for item in mapping.unmapped] == [
        ("chk", "tracks vrrp_script chk, which is not mapped")]
    assert "track_scripts" not in mapping.data["keepalived_vrrp_instances"][0]


def test_a_file_the_first_deploy_would_remove_is_reported(tmp_path):
    """A helper beside the check script in a scripts/ directory (which the deploy replaces
    with its own): not named by the config, so the adoption is incomplete and says the
    first deploy would remove it; the deploy's own links are not listed."""
    config = host_tree(str(tmp_path))
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "lib.sh").write_text("helper() { :; }\n")
    os.symlink(str(tmp_path / "conf.d"), str(tmp_path / "linked"))
    fact = KeepalivedLiveConfig()
    command = fact.command(config, [str(tmp_path / "conf.d"), str(tmp_path / "scripts"),
                                    str(tmp_path / "linked")])
    result = subprocess.run(["sh", "-c", command.get_raw_value()], capture_output=True,
                            text=True, env={**os.environ, "PATH": "/usr/bin:/bin"})
    live = fact.process(result.stdout.splitlines())
    assert sorted(live.managed) == [f"{tmp_path}/conf.d/vi.conf", f"{tmp_path}/scripts/lib.sh"]
    mappings, _ = adopt.adopted({"lb1": live}, config)
    assert [str(item) for item in mappings["lb1"].unmapped] == [
        f"{tmp_path}/scripts/lib.sh: a file the config does not name: {tmp_path}/scripts "
        "becomes the deploy's: the first deploy removes it; move it elsewhere (and what "
        "uses it)"]


SSL_SECRETS = ("Sup3r$ecret pw", "0neLine")
SSL = """SSL {
    password %s
    key /etc/ssl/private/lb.pem
    certificate /etc/ssl/lb.pem
}
SSL { password %s }
""" % SSL_SECRETS


def test_an_ssl_password_is_never_sent_shown_or_written_in_clear(tmp_path, monkeypatch):
    """The SSL block's password (SSL_GET's key, in a file every user may read): the fact
    sends its line masked and keyed (what pyinfra prints with -vvv holds no secret), the
    controller reads the file exactly; adopt leaves the block unmapped, shown masked, and
    writes it nowhere in clear."""
    config = host_tree(str(tmp_path / "host"))
    with open(config, "a") as handle:
        handle.write(SSL)
    live, output = read_live(config)
    for secret in SSL_SECRETS:
        assert secret not in output and secret.encode().hex() not in output
    assert live.files[config] == open(config).read()
    monkeypatch.chdir(tmp_path)
    mappings, trees = adopt.adopted({"lb1": live}, config)
    shown = [str(item) for item in mappings["lb1"].unmapped]
    assert len(shown) == 2 and all("SSL" in line for line in shown)
    lines = offline.adopt_into("out", mappings, trees, templates_dir="templates")
    written = "".join(path.read_text() for path in (tmp_path / "out").rglob("*")
                      if path.is_file())
    for secret in SSL_SECRETS:
        assert not any(secret in line for line in shown + lines)
        assert secret not in written
