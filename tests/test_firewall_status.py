"""The probe's firewall status (facts.host_level.status_command): the firewall script's
`status`, started only where it could find a firewall, with the answer the script itself
gives in every case. Run by sh with fake firewall tools on PATH (a `sh` there logs each
start of the script); tests/test_vrrp_firewall.py runs it against real rulesets.
"""

import os
import shlex
import shutil
import subprocess

import pytest

from pyinfra_keepalived.facts.host_level import FIREWALL_SCRIPT, status_command

pytestmark = pytest.mark.unit

NO_INPUT_HOOK = """table ip nat {
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
	}
}"""
INPUT_HOOK = """table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
	}
}"""


def fake(directory, name, text):
    path = directory / name
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)


@pytest.fixture
def bin_dir(tmp_path):
    """A PATH of the text tools the script uses, and a `sh` that logs every start (the
    script's `sh -c`)."""
    directory = tmp_path / "bin"
    directory.mkdir()
    for tool in ("grep", "awk", "sed", "sort", "tr", "getent"):
        os.symlink(shutil.which(tool), directory / tool)
    fake(directory, "sh", f'echo started >> {tmp_path / "log"}\nexec /bin/sh "$@"\n')
    return directory


def run(bin_dir, command):
    log = bin_dir.parent / "log"
    if log.exists():
        log.unlink()
    result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True,
                            env={"PATH": str(bin_dir)}, timeout=30)
    return result.stdout, log.exists()


def script_status(bin_dir, *rules):
    """What the script itself prints for `status RULES`, always started."""
    return run(bin_dir, " ".join(["sh", "-c", shlex.quote(FIREWALL_SCRIPT), "vrrp-firewall",
                                  "status", *rules]))[0]


RULES = ("112", "4,eth0,,224.0.0.18")


IPTABLES = 'case "$1 $2" in "-S INPUT") echo "{}" ;; *) exit 1 ;; esac\n'
NFT_ANSWERS = 'case "$*" in "list chains" | "-t -p list ruleset") echo "$LISTING" ;; *) ;; esac\n'


@pytest.mark.parametrize("tools, answer, started", [
    ({}, "none ok\n", False),
    ({"nft": "LISTING=''\n" + NFT_ANSWERS}, "none ok\n", False),
    ({"nft": f"LISTING='{NO_INPUT_HOOK}'\n" + NFT_ANSWERS}, "none ok\n", False),
    ({"nft": f"LISTING='{INPUT_HOOK}'\n" + NFT_ANSWERS}, "nftables missing\n", True),
    ({"iptables": IPTABLES.format("-P INPUT ACCEPT")}, "none ok\n", True),
    ({"iptables": IPTABLES.format("-A INPUT -p tcp -j ACCEPT")}, "iptables missing\n", True),
    ({"firewall-cmd": "exit 1\n"}, "none ok\n", True),
], ids=["no-tools", "nft-empty", "nft-no-input-hook", "nft-input-hook", "iptables-accept",
        "iptables-rule", "firewall-cmd-inactive"])
def test_status_is_the_scripts_and_starts_it_only_where_a_firewall_may_be(
        bin_dir, tools, answer, started):
    for name, text in tools.items():
        fake(bin_dir, name, text)
    assert script_status(bin_dir, *RULES) == answer
    assert run(bin_dir, status_command(RULES)) == (answer, started)


@pytest.mark.parametrize("rule", ["1x", "4,eth0,,224.0.0.18;id", "5,,10.0.0.1,", "6,eth0,,FF02::12",
                                  "4,,10.0.0.2,10.0.0.1,"])
def test_an_argument_the_script_refuses_is_left_to_it(bin_dir, rule):
    assert status_command(("112", rule)).startswith("sh -c ")
    assert run(bin_dir, status_command(("112", rule))) == ("", True)
