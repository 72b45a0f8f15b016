"""No secret leaves its file: not in an error message, not in a diff, not in a fact.

- Validation: every message about a value that is or holds a secret, exactly
  (pyinfra_keepalived.model.problems.shown decides how every value is shown); a pyinfra HiddenValue as
  auth_pass is checked and rendered by its real value.
- The host-side masking (sed, pyinfra_keepalived.model.hidden.sed_mask) agrees with the controller's
  (pyinfra_keepalived.model.hidden.mask_text), run on the same lines.
- The config tree fact in a real shell: a secret file's digest is salted, its plain
  digest is not printed, and change detection stays exact.
(--diff and -vvv through pyinfra's fake connector: tests/test_commands.py, section 4.)
"""

import hashlib
import os
import shlex
import subprocess

import pytest
from pyinfra.api import HiddenValue, StringCommand

from pyinfra_keepalived.facts import keepalived as facts
from pyinfra_keepalived.model import fleet as inventory_check
from pyinfra_keepalived.model.hidden import SECRET_LINE_ERE, mask_text, sed_mask
from pyinfra_keepalived.model.problems import Problem, shown
from pyinfra_keepalived.render import config as render
from tests.hostdata import check_fails, host_01, host_02, read, script

pytestmark = pytest.mark.unit

PASSWORD = "s3cr3tpw"  # 8 characters: valid
INSTANCE_KEYS = ("name, interface, state, virtual_router_id, priority, virtual_ipaddresses, "
                 "advert_int, auth_type, auth_pass, track_scripts, version, native_ipv6, "
                 "nopreempt, preempt_delay, garp_master_delay, garp_master_refresh, "
                 "unicast_src_ip, unicast_peers, track_interfaces, virtual_ipaddresses_excluded, "
                 "virtual_routes, notify_master, notify_backup, notify_fault, notify_stop, notify, "
                 "extra_lines, track_processes, track_processs, track_files, use_vmac, "
                 "vmac_xmit_base, use_vmac_addr, notify_master_rx_lower_pri, mcast_src_ip, "
                 "track_src_ip, dont_track_primary, accept, promote_secondaries, "
                 "skip_check_adv_addr, strict_mode, debug, garp_master_repeat, "
                 "garp_master_refresh_repeat, garp_lower_prio_delay, garp_lower_prio_repeat, "
                 "lower_prio_no_advert, higher_prio_send_advert, kernel_rx_buf_size, smtp_alert, "
                 "notify_priority_changes, virtual_rules, unicast_ttl, check_unicast_src, "
                 "track_bfds")
HIDDEN_ELSEWHERE = ("is a pyinfra HiddenValue, a secret: only auth_pass takes one (its file is "
                    "readable by root only; this value would land in a file every user can "
                    "read)")


def with_instances(value):
    data = host_01()
    data["keepalived_vrrp_instances"] = value
    return data


def with_data(**data):
    return {**host_01(), **data}


# (data, the exact error; every secret in data contains "s3cr3t")
SECRET_MESSAGES = {
    "instances-as-mapping": (
        with_instances({"name": "VI_1", "interface": "eth0", "auth_pass": PASSWORD}),
        "host-01: keepalived_vrrp_instances = {'name': 'VI_1', 'interface': 'eth0', "
        "'auth_pass': <hidden>}: must be a list"),
    "instances-by-name": (
        with_instances({"VI_1": {"name": "VI_1", "auth_pass": PASSWORD}}),
        "host-01: keepalived_vrrp_instances = {'VI_1': <hidden>}: must be a list"),
    "instance-as-list": (
        with_instances([["VI_1", {"auth_pass": PASSWORD, "priority": 100}]]),
        "host-01: keepalived_vrrp_instances[0] = ['VI_1', {'auth_pass': <hidden>, "
        "'priority': 100}]: must be a mapping with name, interface, virtual_router_id, "
        "priority and virtual_ipaddresses"),
    "misspelt-auth_pass": (
        host_01(auth_pass=None, auth_passwd=PASSWORD),
        "host-01: keepalived_vrrp_instances[0].auth_passwd: unknown key (did you mean "
        f"'auth_pass'?); allowed: {INSTANCE_KEYS}"),
    "unknown-key-with-a-secret-value": (
        host_01(pw=PASSWORD),
        f"host-01: keepalived_vrrp_instances[0].pw: unknown key; allowed: {INSTANCE_KEYS}"),
    "unknown-top-level-key": (
        with_data(keepalived_auth_pass=PASSWORD),
        "host-01: keepalived_auth_pass: unknown key (did you mean 'keepalived_ssh_port'?); "
        "allowed: keepalived_base_dir, keepalived_config_file, keepalived_config_dir, "
        "keepalived_check_scripts_dir, keepalived_check_script_user, keepalived_global_defs, "
        "keepalived_vrrp_instances, keepalived_check_scripts, keepalived_priority, "
        "keepalived_state, keepalived_package_version, keepalived_package_proxy, "
        "keepalived_notify_scripts, keepalived_sync_groups, keepalived_unicast_src_ip, "
        "keepalived_vip_names, keepalived_ssh_port, keepalived_ssh_host_keys, keepalived_ssh_host_keys_dir, "
        "keepalived_firewall, keepalived_nonlocal_bind, keepalived_systemd_restart, "
        "keepalived_systemd_restart_sec, keepalived_daemon_options, keepalived_lock_wait, "
        "keepalived_verify, keepalived_verify_wait, "
        "keepalived_commit_without_peers, keepalived_track_processes, "
        "keepalived_track_processs, keepalived_track_files, keepalived_include_files, "
        "keepalived_virtual_servers, "
        "keepalived_virtual_server_groups, keepalived_lvs_sync_daemon, "
        "keepalived_lvs_timeouts, keepalived_static_ipaddresses, "
        "keepalived_static_routes, keepalived_static_rules, keepalived_lvs_real_server, "
        "keepalived_bfd_instances"),
    "unknown-vip-option": (
        host_01(virtual_ipaddresses=[{"address": "192.168.1.100/24", "secret": PASSWORD}]),
        "host-01: keepalived_vrrp_instances[0].virtual_ipaddresses[0].secret: unknown option;"
        " allowed: address, dev, label, scope, brd"),
    "auth_pass-too-long": (
        host_01(auth_pass="s3cr3tpw9"),
        "host-01: keepalived_vrrp_instances[0].auth_pass = <hidden>: must be 1-8 characters "
        "without spaces, quotes, braces, # or ! (keepalived silently truncates longer "
        "passwords)"),
    "auth_pass-with-a-space": (
        host_01(auth_pass="s3cr3t x"),
        "host-01: keepalived_vrrp_instances[0].auth_pass = <hidden>: must be 1-8 characters "
        "without spaces, quotes, braces, # or ! (keepalived silently truncates longer "
        "passwords)"),
    "hidden-auth_pass-too-long": (
        host_01(auth_pass=HiddenValue("s3cr3tpw9")),
        "host-01: keepalived_vrrp_instances[0].auth_pass = <hidden>: must be 1-8 characters "
        "without spaces, quotes, braces, # or ! (keepalived silently truncates longer "
        "passwords)"),
    "hidden-value-in-vars": (
        host_01(scripts=[script(vars={"token": HiddenValue("s3cr3t")})]),
        f"host-01: keepalived_check_scripts[0].vars.token = <hidden>: {HIDDEN_ELSEWHERE}"),
    "hidden-value-as-interface": (
        host_01(interface=HiddenValue("s3cr3t0")),
        f"host-01: keepalived_vrrp_instances[0].interface = <hidden>: {HIDDEN_ELSEWHERE}"),
    "extra_lines-entry": (
        host_01(extra_lines=["auth_pass s3cr3t }"]),
        "host-01: keepalived_vrrp_instances[0].extra_lines[0] = 'auth_pass ********': closes "
        "a brace it did not open: it would end the block early"),
    "extra_lines-two-lines": (
        host_01(extra_lines=["smtp_alert\n  auth_pass s3cr3t"]),
        "host-01: keepalived_vrrp_instances[0].extra_lines[0] = 'smtp_alert\\n  auth_pass "
        "********': must be one line of text (printable: no newline or other control "
        "character)"),
    "extra_lines-list": (
        host_01(extra_lines=["authentication {", "AUTH_PASS s3cr3t"]),
        "host-01: keepalived_vrrp_instances[0].extra_lines = ['authentication {', "
        "'AUTH_PASS ********']: leaves 1 brace(s) open: close every block the lines open"),
    "global_defs-as-list": (
        with_data(keepalived_global_defs=[{"auth_pass": PASSWORD}]),
        "host-01: keepalived_global_defs = [{'auth_pass': <hidden>}]: must be a mapping of "
        "keys to values"),
    "notify-script-vars": (
        with_data(keepalived_notify_scripts=[{"name": "n.sh", "vars": {"api_key": "s3cr3t"}}]),
        "host-01: keepalived_notify_scripts[0] = {'name': 'n.sh', 'vars': {'api_key': "
        "<hidden>}}: needs exactly one of template (a template name, e.g. "
        "notify_record_state.sh.j2) or content (the script's text)"),
}


@pytest.mark.parametrize("data, expected", SECRET_MESSAGES.values(), ids=SECRET_MESSAGES)
def test_no_message_shows_a_secret(data, expected):
    settings, errors, warnings = read(data)

    assert settings is None
    assert expected in errors, errors
    assert not any("s3cr3t" in message for message in errors + warnings)
    error = check_fails(("host-01", data))
    assert "s3cr3t" not in str(error) and "s3cr3t" not in repr(error.errors)


def test_peers_that_differ_in_auth_pass_show_neither():
    first, second = host_01(auth_pass="s3cr3tA"), host_02(auth_pass=HiddenValue("s3cr3tB"))

    error = check_fails(("host-01", first), ("host-02", second))

    assert str(error.errors[0]) == (
        "host-02: keepalived_vrrp_instances[0].auth_pass = <hidden>: differs from host-01's "
        "VI_1 (<hidden>): peers reject each other's adverts: both become MASTER; use the same "
        "value on every host")
    assert "s3cr3t" not in str(error)


# -- HiddenValue ---------------------------------------------------------------------------

@pytest.mark.parametrize("given, real", [(HiddenValue(PASSWORD), PASSWORD),
                                         (HiddenValue(1234), "1234")], ids=["text", "int"])
def test_hidden_auth_pass_is_rendered_by_its_real_value(given, real):
    settings, errors, warnings = read(host_01(auth_pass=given))

    assert errors == [] and warnings == []
    assert settings.instances[0].auth_pass == real
    rendered = render.config_files(settings)[f"{settings.paths.config_dir}"
                                             "/20-vrrp_instances.conf"]
    assert f"auth_pass {real}\n" in rendered.content
    assert "*MASKED*" not in rendered.content
    assert real not in repr(settings)  # a Settings printed by mistake holds no secret


def test_hidden_auth_pass_on_one_host_agrees_with_plain_on_the_other():
    first, second = host_01(auth_pass=PASSWORD), host_02(auth_pass=HiddenValue(PASSWORD))

    result = inventory_check.check_hosts([("host-01", first), ("host-02", second)],
                                         warn=lambda _: None)
    assert result["host-02"].instances[0].auth_pass == PASSWORD


# -- how values are shown ------------------------------------------------------------------

@pytest.mark.parametrize("key, value, expected", [
    ("a.auth_pass", "x", "<hidden>"),
    ("a.auth_pass", None, "None"),  # not given: no secret
    ("a.interface", HiddenValue("eth0"), "<hidden>"),
    ("a.auth_passwd", "x", "<hidden>"),
    ("a.vars.db_password", "x", "<hidden>"),
    ("a.vars.api_token", "x", "<hidden>"),
    ("a.extra_lines[3]", "  auth_pass x y", "'  auth_pass ********'"),
    ("a[0]", {"name": "VI_1", "auth_pass": "x", 7: "y"}, "{'name': 'VI_1', 'auth_pass': "
                                                           "<hidden>, 7: <hidden>}"),
    ("a", ({"priority": 1.5}, [True, None]), "({'priority': 1.5}, [True, None])"),
    ("a", {"priority": HiddenValue("1")}, "{'priority': <hidden>}"),
    ("a", object(), "<object>"),
    ("a.virtual_router_id", 256, "256"),
    ("a.auth_type", "md5", "'md5'"),
])
def test_shown(key, value, expected):
    assert shown(key, value) == expected


def test_a_problem_repr_holds_no_value():
    assert "s3cr3t" not in repr(Problem("host-01", "k.auth_pass", "s3cr3t", "m"))


# -- masking on the host and here agree ------------------------------------------------------

MASKED_LINES = {
    "    auth_pass 1234": "    auth_pass ********",
    "\tauth_pass\t12 34 # comment": "\tauth_pass ********",
    "authentication { auth_type PASS auth_pass xy }": "authentication { auth_type PASS "
                                                       "auth_pass ********",
    "AUTH_PASS x": "AUTH_PASS ********",
    "auth_passwd x": "auth_pass ********",
    "auth_pass": "auth_pass ********",
    '  auth_pass "a b"': "  auth_pass ********",
    "virtual_router_id 51": "virtual_router_id 51",
    "# auth_type PASS": "# auth_type PASS",
    "": "",
    "unicode ünï auth_pass ö": "unicode ünï auth_pass ********",
    # the SSL block's password (SSL_GET's key): a statement's first word, in any block
    "    password Sup3rSecret": "    password ********",
    "\tpassword\tSup3r Secret": "\tpassword ********",
    "SSL { password OneLine }": "SSL { password ********",
    "SSL {password x": "SSL {password ********",
    "@lb1 password x": "@lb1 password ********",
    "  @^lb2\tPassword x": "  @^lb2\tPassword ********",
    "# password old": "# password ********",
    "    key /etc/ssl/private/lb.pem": "    key /etc/ssl/private/lb.pem",
    "    certificate /etc/ssl/lb.pem": "    certificate /etc/ssl/lb.pem",
    '    script "/usr/bin/check password"': '    script "/usr/bin/check password"',
    "    smtp_server 10.0.0.1 25": "    smtp_server 10.0.0.1 25",
}


def test_sed_on_the_host_masks_as_mask_text(tmp_path):
    text = "\n".join(MASKED_LINES) + "\n"
    path = tmp_path / "20-vrrp_instances.conf"
    path.write_text(text, encoding="utf-8")

    on_host = subprocess.run(["sh", "-c", sed_mask(shlex.quote(str(path)))],
                             capture_output=True, text=True, check=True).stdout

    assert on_host == mask_text(text) == "\n".join(MASKED_LINES.values()) + "\n"


def test_grep_on_the_host_finds_the_lines_sed_masks(tmp_path):
    """facts/live_config.sh keys the lines `grep -E` finds with SECRET_LINE_ERE: exactly
    those sed masks (a masked line not keyed would be lost, one keyed not masked sent)."""
    path = tmp_path / "keepalived.conf"
    path.write_text("\n".join(MASKED_LINES) + "\n", encoding="utf-8")
    found = subprocess.run(["grep", "-n", "-E", "-e", SECRET_LINE_ERE, str(path)],
                           capture_output=True, text=True, check=True).stdout
    masked = [f"{number}:{line}" for number, (line, shown) in
              enumerate(MASKED_LINES.items(), 1) if line != shown]
    assert found.splitlines() == masked


# -- the config tree's digests in a real shell -------------------------------------------------

def tree_in_shell(base, secret_content, salt):
    """KeepalivedTree run by sh on a tree under `base` (keepalived.conf, conf.d with a
    public and a secret file, scripts): (the printed lines, the processed fact)."""
    for directory in ("conf.d", "scripts"):
        os.makedirs(base / directory, exist_ok=True)
    (base / "keepalived.conf").write_text("include conf.d/*.conf\n")
    (base / "conf.d" / "00-global_defs.conf").write_text("global_defs {\n}\n")
    (base / "conf.d" / "20-vrrp_instances.conf").write_text(secret_content)
    (base / "scripts" / "check.sh").write_text("#!/bin/sh\n")
    (base / "conf.d" / "30-old.conf").write_text("auth_pass 0ld\n")  # not the deploy's
    secret = str(base / "conf.d" / "20-vrrp_instances.conf")
    public = [str(base / "keepalived.conf"), str(base / "conf.d" / "00-global_defs.conf"),
              str(base / "scripts" / "check.sh")]
    fact = facts.KeepalivedTree()
    command = fact.command(str(base / "keepalived.conf"),
                           [str(base), str(base / "scripts"), str(base / "conf.d")],
                           hashed=public, salted=[secret])
    assert salt not in command.get_masked_value()  # what pyinfra prints and logs
    output = subprocess.run(["sh", "-c", command.get_raw_value()], capture_output=True,
                            text=True, check=True).stdout
    return output, fact.process(output.splitlines()), secret


def test_secret_file_digest_is_salted_and_exact(tmp_path, monkeypatch):
    monkeypatch.setattr(facts, "RUN_SALT", "0123456789abcdef0123456789abcdef")
    content = f"vrrp_instance VI_1 {{\n    auth_pass {PASSWORD}\n}}\n"

    output, tree, secret = tree_in_shell(tmp_path, content, facts.RUN_SALT)

    assert hashlib.sha256(content.encode()).hexdigest() not in output
    assert tree[secret].salted and tree[secret].holds(content)
    assert not tree[secret].holds(content.replace(PASSWORD, "s3cr3tpx"))
    conf = str(tmp_path / "keepalived.conf")
    assert not tree[conf].salted and tree[conf].holds("include conf.d/*.conf\n")
    assert tree[str(tmp_path / "conf.d")].kind == "directory"
    assert tree[str(tmp_path / "conf.d" / "00-global_defs.conf")].sha256 is not None
    # a file not asked for gets no digest (an unmanaged file may hold an old password)
    old = str(tmp_path / "conf.d" / "30-old.conf")
    assert tree[old].kind == "regular file" and tree[old].sha256 is None


@pytest.mark.parametrize("secrets_there, public_there", [
    ((True, True), True), ((False, True), True), ((True, False), False),
    ((False, False), False), ((False, False), True),
], ids=["all", "first-secret-missing", "second-secret-missing-no-public",
        "no-secret-no-public", "no-secret"])
def test_one_sha256sum_for_the_public_files_and_the_first_secret(
        tmp_path, monkeypatch, secrets_there, public_there):
    """tree_digests in a real shell: the first secret file is salted through sha256sum's
    stdin (with the public files, one process), any further one with a pipe of its own;
    a missing file gets no line, and no plain digest of a secret is ever printed."""
    monkeypatch.setattr(facts, "RUN_SALT", "0123456789abcdef0123456789abcdef")
    secrets = [tmp_path / "20-vrrp_instances.conf", tmp_path / "21-more.conf"]
    public = [tmp_path / "keepalived.conf", tmp_path / "gone.conf"]
    for path, there in zip(secrets, secrets_there):
        if there:
            path.write_text(f"auth_pass {PASSWORD} {path.name}\n")
    if public_there:
        public[0].write_text("include conf.d/*.conf\n")
    words = facts.tree_digests([str(path) for path in public], [str(path) for path in secrets])
    command = StringCommand(*words)
    output = subprocess.run(["sh", "-c", command.get_raw_value()], capture_output=True,
                            text=True, check=True).stdout
    expected = [f"salted|{path}|{facts.digest(path.read_text(), salted=True)}  -"
                for path in secrets[:1] if path.exists()]
    expected += [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path}"
                 for path in public if path.exists()]
    expected += [f"salted|{path}|{facts.digest(path.read_text(), salted=True)}  -"
                 for path in secrets[1:] if path.exists()]
    assert output.splitlines() == expected
    for path in secrets:
        if path.exists():
            assert hashlib.sha256(path.read_bytes()).hexdigest() not in output
    assert facts.RUN_SALT not in command.get_masked_value()


def test_salt_is_new_every_run():
    run = ("import pyinfra_keepalived.facts.keepalived as f; print(f.RUN_SALT)")
    salts = {subprocess.run(["python3", "-c", run], capture_output=True, text=True,
                            check=True, cwd=os.path.dirname(os.path.dirname(__file__)))
             .stdout.strip() for _ in range(2)}
    assert len(salts) == 2 and all(len(salt) == 32 for salt in salts)


@pytest.mark.parametrize("value", [True, 1.5, float("nan"), ["12"], {"a": 1}])
def test_auth_pass_that_is_not_text_or_a_whole_number_is_refused(value):
    """str() would turn these into a password ("True", "nan"); refused, value hidden."""
    _, errors, _ = read(host_01(auth_pass=value))
    assert any(".auth_pass = <hidden>: must be 1-8 characters" in e for e in errors), errors


def test_auth_pass_given_as_a_whole_number_is_its_digits():
    settings, errors, _ = read(host_01(auth_pass=1234))
    assert errors == [] and settings.instances[0].auth_pass == "1234"


@pytest.mark.parametrize("data, key, shown", [
    ({"keepalived_global_defs": {"extra_lines": ["auth_pass s3cr3tpw"]}},
     "keepalived_global_defs.extra_lines[0]", "auth_pass ********"),
    ({"keepalived_check_scripts": [dict(script(), extra_lines=["x", "auth_pass s3cr3tpw"])]},
     "keepalived_check_scripts[0].extra_lines[1]", "auth_pass ********"),
    ({"keepalived_global_defs": {"extra_lines": ["password s3cr3tpw"]}},
     "keepalived_global_defs.extra_lines[0]", "password ********"),
])
def test_no_password_in_the_raw_lines_of_files_every_user_reads(data, key, shown):
    """global_defs' and check scripts' files are 644: a password there is refused, and the
    message masks it."""
    settings, errors, _ = read({**host_01(), **data})
    assert settings is None
    assert [error for error in errors if error.startswith(f"host-01: {key} ")] == [
        f"host-01: {key} = '{shown}': holds a password, in a file every user of "
        "the host can read: set auth_pass on the instance (its file is root's only); for "
        "an SSL key, a key file without a password, readable by root only"]
