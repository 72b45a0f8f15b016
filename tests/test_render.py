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
    }
    secret = [path for path, file in files.items() if file.secret]
    assert secret == ["/etc/keepalived/conf.d/20-vrrp_instances.conf"]


def test_host_priority_and_state_reach_the_instance():
    host_01 = files_text("host-01")
    host_02 = files_text("host-02")
    assert "    state             MASTER\n" in host_01
    assert "    priority          100\n" in host_01
    assert "    state             BACKUP\n" in host_02
    assert "    priority          90\n" in host_02


def files_text(host):
    return render.config_files(SETTINGS[host])["/etc/keepalived/conf.d/20-vrrp_instances.conf"].content
