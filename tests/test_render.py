"""Rendered files of the seed example, compared with files checked into tests/expected/.

Regenerate after an intended template change with:
    UPDATE_EXPECTED=1 python3 -m pytest tests/test_render.py
and review the diff in git.
"""

import os

import pytest

from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.render import config as render

from .goldens import assert_match_expected
from .seed import SEED_HOSTS

pytestmark = pytest.mark.unit

EXPECTED_DIR = os.path.join(os.path.dirname(__file__), "expected")
SETTINGS = check_hosts(SEED_HOSTS, warn=lambda message: None)


@pytest.mark.parametrize("host", ["host-01", "host-02"])
def test_rendered_files_match_expected(host):
    assert_match_expected(render.config_files(SETTINGS[host]), os.path.join(EXPECTED_DIR, host))


def test_modes_and_secret_flag():
    files = render.config_files(SETTINGS["host-01"])
    modes = {os.path.relpath(path, "/etc/keepalived"): file.mode for path, file in files.items()}
    assert modes == {
        "keepalived.conf": "644",
        "conf.d/00-global_defs.conf": "644",
        "conf.d/10-vrrp_scripts.conf": "644",
        "conf.d/20-vrrp_instances.conf": "600",
        "scripts/check_ssh.sh": "755",
        "conf.d/agreement-VI_1.txt": "600",  # what VI_1's peers must have alike
        "conf.d/vrrp-firewall-peers.txt": "644",  # what the firewall lets in with this config
    }
    secret = [path for path, file in files.items() if file.secret]
    assert secret == ["/etc/keepalived/conf.d/20-vrrp_instances.conf",
                      "/etc/keepalived/conf.d/agreement-VI_1.txt"]  # (auth_pass)


def test_host_priority_and_state_reach_the_instance():
    host_01 = files_text("host-01")
    host_02 = files_text("host-02")
    assert "    state             MASTER\n" in host_01
    assert "    priority          100\n" in host_01
    assert "    state             BACKUP\n" in host_02
    assert "    priority          90\n" in host_02


def files_text(host):
    return render.config_files(SETTINGS[host])["/etc/keepalived/conf.d/20-vrrp_instances.conf"].content


def test_script_templates_compile_once_per_search_path_and_follow_edits(tmp_path,
                                                                        monkeypatch):
    """The check-script Environment is kept per search path (compiling a template costs
    more than rendering it, for every host): a template is compiled once, an edited one
    again, and another working directory has its own ./templates first."""
    first, second = tmp_path / "first", tmp_path / "second"
    for directory, text in ((first, "first {{ x }}\n"), (second, "second {{ x }}\n")):
        (directory / "templates").mkdir(parents=True)
        (directory / "templates" / "mine.sh.j2").write_text(text)
    monkeypatch.chdir(first)
    assert render.script_file("mine.sh.j2", {"x": 1}) == "first 1\n"
    environment = render._script_environment(tuple(render.check_script_search_path()))
    template = environment.get_template("mine.sh.j2")
    assert render.script_file("mine.sh.j2", {"x": 2}) == "first 2\n"
    assert environment.get_template("mine.sh.j2") is template  # not compiled again

    edited = first / "templates" / "mine.sh.j2"
    edited.write_text("edited {{ x }}\n")
    os.utime(edited, (edited.stat().st_atime, edited.stat().st_mtime + 10))
    assert render.script_file("mine.sh.j2", {"x": 3}) == "edited 3\n"

    monkeypatch.chdir(second)
    assert render.script_file("mine.sh.j2", {"x": 4}) == "second 4\n"
