"""The firewall script (pyinfra_keepalived/operations/vrrp_firewall.sh) against real nftables and iptables rulesets,
each in a network namespace of its own (rulesets are per namespace: the machine's own
firewall is never read or changed). Needs root, `ip netns`, nft and iptables; skipped
otherwise. That the rule really lets VRRP through is shown end to end in
tests/e2e/test_host_level.py.
"""

import os
import shutil
import subprocess
import uuid

import pytest

from pyinfra_keepalived.facts.host_level import status_command
from pyinfra_keepalived.operations.firewall import FIREWALL_SCRIPT

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(os.geteuid() != 0 or not all(map(shutil.which, ["ip", "nft", "iptables"])),
                       reason="needs root, ip, nft and iptables"),
]

DROP_TABLE = """table inet filter {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        iif lo accept
        tcp dport 22 accept
    }
}
"""


@pytest.fixture
def netns():
    name = f"kvt-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield lambda *args, stdin=None: run(name, *args, stdin=stdin)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)


def run(namespace, *args, stdin=None):
    result = subprocess.run(["ip", "netns", "exec", namespace, *args], input=stdin,
                            capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout, result.stderr


def script(ns, action, *protocols):
    return ns("sh", "-c", FIREWALL_SCRIPT, "vrrp-firewall", action, *protocols)


def ruleset(ns):
    return ns("nft", "list", "ruleset")[1]


def test_nftables_drop_policy_gets_one_rule_at_the_top_and_loses_it_again(netns):
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    original = ruleset(netns)
    assert script(netns, "status", "112")[1] == "nftables missing\n"

    assert script(netns, "allow", "112")[0] == 0
    assert script(netns, "status", "112")[1] == "nftables ok\n"
    chain = netns("nft", "list", "chain", "inet", "filter", "input")[1].splitlines()
    assert chain[3].strip() == 'meta l4proto vrrp accept comment "keepalived-vrrp 112"'
    opened = ruleset(netns)

    assert script(netns, "allow", "112")[0] == 0  # already open: nothing changes
    assert ruleset(netns) == opened

    # AH added (an instance now uses auth_type AH): the rule is replaced, not doubled
    assert script(netns, "status", "112", "51")[1] == "nftables missing\n"
    assert script(netns, "allow", "112", "51")[0] == 0
    assert script(netns, "status", "112", "51")[1] == "nftables ok\n"
    assert ruleset(netns).count("keepalived-vrrp") == 1
    assert 'meta l4proto { ah, vrrp } accept comment "keepalived-vrrp 112 51"' in ruleset(netns)

    assert script(netns, "remove")[0] == 0
    assert ruleset(netns) == original


def test_nftables_every_input_chain_is_opened(netns):
    two_tables = DROP_TABLE + DROP_TABLE.replace("inet filter", "ip other").replace(
        "priority filter", "priority 10")
    assert netns("nft", "-f", "-", stdin=two_tables)[0] == 0
    assert script(netns, "allow", "112")[0] == 0
    assert ruleset(netns).count('comment "keepalived-vrrp 112"') == 2
    assert script(netns, "status", "112")[1] == "nftables ok\n"
    assert script(netns, "remove")[0] == 0
    assert "keepalived-vrrp" not in ruleset(netns)


def test_iptables_drop_policy(netns):
    assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")[0] == 0
    original = netns("iptables", "-S", "INPUT")[1]
    assert script(netns, "status", "112", "51")[1] == "iptables missing\n"

    assert script(netns, "allow", "112", "51")[0] == 0
    assert script(netns, "status", "112", "51")[1] == "iptables ok\n"
    rules = netns("iptables", "-S", "INPUT")[1].splitlines()
    assert rules[1:3] == ["-A INPUT -p vrrp -m comment --comment keepalived-vrrp -j ACCEPT",
                          "-A INPUT -p ah -m comment --comment keepalived-vrrp -j ACCEPT"]
    assert script(netns, "allow", "112", "51")[0] == 0
    assert netns("iptables", "-S", "INPUT")[1].splitlines() == rules

    assert script(netns, "allow", "112")[0] == 0  # AH no longer used
    assert netns("iptables", "-S", "INPUT")[1].count("keepalived-vrrp") == 1

    assert script(netns, "remove")[0] == 0
    assert netns("iptables", "-S", "INPUT")[1] == original


def test_iptables_rule_text_is_never_run(netns, tmp_path):
    """Someone else's rules whose comments hold our tag and shell syntax: the script neither
    runs that text (the old `eval "iptables $rule"` did, as root, at every keepalived start)
    nor deletes those rules, nor counts them as its own."""
    ran = [tmp_path / name for name in ("dollar", "backtick", "semicolon")]
    comments = [f"keepalived-vrrp $(touch {ran[0]})", f"keepalived-vrrp `touch {ran[1]}`",
                f"keepalived-vrrp; touch {ran[2]}"]
    assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    for port, comment in zip((80, 81, 82), comments):
        assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", str(port), "-m",
                     "comment", "--comment", comment, "-j", "ACCEPT")[0] == 0
    # the same form as ours, but another protocol and target: not ours either
    assert netns("iptables", "-A", "INPUT", "-p", "udp", "-m", "comment", "--comment",
                 "keepalived-vrrp", "-j", "DROP")[0] == 0
    original = netns("iptables", "-S", "INPUT")[1]

    assert script(netns, "status", "112")[1] == "iptables missing\n"
    assert script(netns, "allow", "112")[0] == 0
    assert script(netns, "status", "112")[1] == "iptables ok\n"
    assert script(netns, "allow", "112")[0] == 0
    assert script(netns, "remove")[0] == 0

    assert netns("iptables", "-S", "INPUT")[1] == original
    assert [path.name for path in ran if path.exists()] == []


def test_nftables_rule_text_is_never_run_nor_taken_for_ours(netns, tmp_path):
    ran = tmp_path / "ran"
    table = DROP_TABLE.replace(
        "tcp dport 22 accept",
        f'tcp dport 22 accept\n        tcp dport 80 accept comment "keepalived-vrrp $(touch {ran})"'
        '\n        tcp dport 81 accept comment "keepalived-vrrp-other"')
    assert netns("nft", "-f", "-", stdin=table)[0] == 0
    original = ruleset(netns)
    assert script(netns, "allow", "112")[0] == 0
    assert script(netns, "status", "112")[1] == "nftables ok\n"
    assert script(netns, "remove")[0] == 0
    assert ruleset(netns) == original
    assert not ran.exists()


@pytest.mark.parametrize("protocol", ["112;id", "$(id)", "vrrp", "-1"])
def test_protocols_must_be_numbers(netns, protocol):
    code, output, error = script(netns, "allow", "112", protocol)
    assert (code, output) == (2, "")
    assert error == f"vrrp-firewall: protocol must be a number: {protocol}\n"


def test_no_firewall_nothing_to_do(netns):
    assert script(netns, "status", "112")[1] == "none ok\n"
    assert script(netns, "allow", "112")[0] == 0
    assert ruleset(netns) == ""
    assert script(netns, "remove")[0] == 0


def test_the_probes_status_is_the_scripts(netns):
    """facts.host_level.status_command (the script only where a firewall may be) answers
    as the script does, with no ruleset, an nft drop table, and an iptables rule too."""
    def both():
        return (netns("sh", "-c", status_command(("112", "51")))[1],
                script(netns, "status", "112", "51")[1])

    assert both() == ("none ok\n",) * 2
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert both() == ("nftables missing\n",) * 2
    assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "2222", "-j", "ACCEPT")[0] == 0
    assert both() == ("iptables+nftables missing\n",) * 2
    assert script(netns, "allow", "112", "51")[0] == 0
    assert both() == ("iptables+nftables ok\n",) * 2


def test_nftables_backend_leaves_iptables_nft_chains_alone(netns):
    """An empty iptables INPUT chain (ACCEPT, no rules) next to the operator's nft table:
    the rule goes into the nft table only; iptables-nft's chain is the iptables backend's."""
    assert netns("iptables", "-P", "INPUT", "ACCEPT")[0] == 0  # ip filter INPUT, empty
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert "chain INPUT" in ruleset(netns)
    assert script(netns, "allow", "112")[0] == 0
    assert netns("iptables", "-S", "INPUT")[1] == "-P INPUT ACCEPT\n"
    assert script(netns, "status", "112")[1] == "nftables ok\n"


def test_iptables_rules_and_an_nft_drop_table_both_get_the_rule(netns):
    """An iptables INPUT rule of someone else's (fail2ban, libvirt, ...) next to the
    operator's nft drop-policy table: both filter input, both must let VRRP through."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "2222", "-j", "ACCEPT")[0] == 0
    assert script(netns, "status", "112")[1] == "iptables+nftables missing\n"
    assert script(netns, "allow", "112")[0] == 0
    assert script(netns, "status", "112")[1] == "iptables+nftables ok\n"
    assert 'comment "keepalived-vrrp 112"' in netns("nft", "list", "chain", "inet", "filter",
                                                    "input")[1]
    assert netns("iptables", "-S", "INPUT")[1].count("keepalived-vrrp") == 1
    assert script(netns, "remove")[0] == 0
    assert "keepalived-vrrp" not in ruleset(netns)


def test_unknown_action(netns):
    code, _, error = script(netns, "open")
    assert code == 2 and "usage: vrrp-firewall status|allow|remove" in error


FIREWALL_CMD_STUB = r"""#!/bin/sh
# firewall-cmd stand-in: rich rules kept one per line in $STUB/runtime and $STUB/permanent
echo "$*" >> "$STUB/calls"
store="$STUB/runtime"
for arg; do
    case $arg in
        --permanent) store="$STUB/permanent" ;;
    esac
done
touch "$store"
for arg; do
    case $arg in
        --query-rich-rule=*) grep -qxF "${arg#*=}" "$store"; exit ;;
        --add-rich-rule=*) grep -qxF "${arg#*=}" "$store" || echo "${arg#*=}" >> "$store" ;;
        --remove-rich-rule=*) grep -vxF "${arg#*=}" "$store" > "$store.new";
                              mv "$store.new" "$store" ;;
    esac
done
"""


def test_firewalld_rich_rules_runtime_and_permanent(netns, tmp_path):
    """firewalld is not installed here: a stand-in firewall-cmd keeps the rules in files
    (and systemctl says firewalld is active), inside an empty namespace."""
    (tmp_path / "firewall-cmd").write_text(FIREWALL_CMD_STUB)
    (tmp_path / "systemctl").write_text('#!/bin/sh\n[ "$*" = "is-active --quiet firewalld" ]\n')
    for stub in ("firewall-cmd", "systemctl"):
        (tmp_path / stub).chmod(0o755)

    def fw(action, *protocols):
        return netns("env", f"PATH={tmp_path}:{os.environ['PATH']}", f"STUB={tmp_path}",
                     "sh", "-c", FIREWALL_SCRIPT, "vrrp-firewall", action, *protocols)

    def rules(store):
        path = tmp_path / store
        return path.read_text().splitlines() if path.exists() else []

    assert fw("status", "112", "51")[1] == "firewalld missing\n"
    assert fw("allow", "112", "51")[0] == 0
    assert rules("runtime") == rules("permanent") == [
        'rule protocol value="112" accept', 'rule protocol value="51" accept']
    assert fw("status", "112", "51")[1] == "firewalld ok\n"
    calls = len(rules("calls"))
    assert fw("allow", "112", "51")[0] == 0
    assert all("--query-rich-rule" in call for call in rules("calls")[calls:])  # no change

    assert fw("remove")[0] == 0
    assert rules("runtime") == rules("permanent") == []
    assert fw("status", "112")[1] == "firewalld missing\n"


def test_iptables_nft_chain_alone_is_no_firewall(netns):
    """Docker, for one, leaves an empty iptables-nft INPUT chain (policy ACCEPT): nothing
    filters input, so there is nothing to open."""
    assert netns("iptables", "-P", "INPUT", "ACCEPT")[0] == 0
    assert "hook input" in netns("nft", "list", "chains")[1]
    assert script(netns, "status", "112")[1] == "none ok\n"


def test_no_action_is_the_usage(netns):
    code, _, error = netns("sh", "-c", FIREWALL_SCRIPT, "vrrp-firewall")
    assert code == 2 and "usage: vrrp-firewall" in error
