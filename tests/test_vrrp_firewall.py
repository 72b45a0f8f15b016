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
from pyinfra_keepalived.model.blocks import Paths
from pyinfra_keepalived.operations.firewall import FIREWALL_SCRIPT, live_peers_path
from pyinfra_keepalived.render.firewall import peers_content, peers_path

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


PEER = "4,,10.0.0.2,10.0.0.1"  # a unicast peer's adverts to this host's address
OTHER_PEER = "4,,10.0.0.4,10.0.0.1"
GROUP = "4,vrrp0,,224.0.0.18"  # multicast adverts on the instance's interface
PEER_RULE = 'ip saddr 10.0.0.2 ip daddr 10.0.0.1 meta l4proto vrrp accept comment "keepalived-vrrp"'
# An operator's rules that look like ours but are not (another action, or more to them)
LOOK_ALIKES = ('meta l4proto vrrp drop comment "keepalived-vrrp 112"',
               'ip saddr 10.0.0.2 ip daddr 10.0.0.1 meta l4proto vrrp counter packets 0 bytes 0 '
               'accept comment "keepalived-vrrp"')


def nft_chain(ns):
    """The rules of inet filter input, as `nft list` prints them."""
    return [line.strip() for line in ns("nft", "list", "chain", "inet", "filter",
                                        "input")[1].splitlines()[3:-2]]


def test_nftables_drop_policy_gets_the_peers_rules_at_the_top_and_loses_them_again(netns):
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    original = ruleset(netns)
    assert script(netns, "status", "112", PEER, GROUP)[1] == "nftables missing\n"

    assert script(netns, "prune", "112", PEER, GROUP)[0] == 0
    assert script(netns, "status", "112", PEER, GROUP)[1] == "nftables ok\n"
    assert sorted(nft_chain(netns)[:2]) == sorted([
        PEER_RULE, 'iifname "vrrp0" ip daddr 224.0.0.18 meta l4proto vrrp accept comment '
                   '"keepalived-vrrp"'])
    opened = ruleset(netns)

    assert script(netns, "prune", "112", PEER, GROUP)[0] == 0  # already open: nothing changes
    assert ruleset(netns) == opened

    # AH added (an instance now uses auth_type AH): rules added, none doubled
    assert script(netns, "status", "112", "51", PEER, GROUP)[1] == "nftables missing\n"
    assert script(netns, "prune", "112", "51", PEER, GROUP)[0] == 0
    assert script(netns, "status", "112", "51", PEER, GROUP)[1] == "nftables ok\n"
    assert ruleset(netns).count("keepalived-vrrp") == 4

    assert script(netns, "remove")[0] == 0
    assert ruleset(netns) == original


def test_nftables_a_changed_peer_is_added_before_the_former_one_goes(netns):
    """`add` (before the config) only adds: the former peer is still let in, the status is
    "stale"; `prune` (once the config is live) deletes its rule."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", OTHER_PEER)[1] == "nftables missing+stale\n"
    assert script(netns, "add", "112", OTHER_PEER)[0] == 0
    assert script(netns, "status", "112", OTHER_PEER)[1] == "nftables stale\n"
    assert PEER_RULE in nft_chain(netns)
    assert script(netns, "prune", "112", OTHER_PEER)[0] == 0
    assert script(netns, "status", "112", OTHER_PEER)[1] == "nftables ok\n"
    assert nft_chain(netns)[0] == PEER_RULE.replace("10.0.0.2", "10.0.0.4")
    assert ruleset(netns).count("keepalived-vrrp") == 1


def test_nftables_rule_of_an_earlier_version_is_replaced(netns):
    """The rule an earlier version wrote (no peer limit) is ours: replaced, not kept."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert netns("nft", "insert", "rule", "inet", "filter", "input", "meta", "l4proto",
                 "{ 112, 51 }", "accept", "comment", '"keepalived-vrrp 112 51"')[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "nftables missing+stale\n"
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert nft_chain(netns) == [PEER_RULE, "ct state established,related accept",
                                'iif "lo" accept', "tcp dport 22 accept"]


def test_nftables_look_alike_rules_are_the_operators(netns):
    """An operator's rules with our comment but another action, or more to them, are not
    ours: never counted as the rules wanted, never deleted."""
    table = DROP_TABLE.replace("tcp dport 22 accept", "tcp dport 22 accept\n        "
                               + "\n        ".join(LOOK_ALIKES))
    assert netns("nft", "-f", "-", stdin=table)[0] == 0
    original = ruleset(netns)
    assert script(netns, "status", "112", PEER)[1] == "nftables missing\n"
    assert script(netns, "remove")[0] == 0
    assert ruleset(netns) == original
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "nftables ok\n"
    assert nft_chain(netns)[0] == PEER_RULE and nft_chain(netns)[-2:] == list(LOOK_ALIKES)
    assert script(netns, "remove")[0] == 0
    assert ruleset(netns) == original


def test_nftables_every_input_chain_gets_the_rules_of_its_family(netns):
    """An inet and an ip table get the IPv4 rules; an ip6 table the IPv6 ones only."""
    tables = DROP_TABLE + DROP_TABLE.replace("inet filter", "ip other").replace(
        "priority filter", "priority 10") + DROP_TABLE.replace("inet filter", "ip6 six").replace(
        "priority filter", "priority 20")
    assert netns("nft", "-f", "-", stdin=tables)[0] == 0
    assert script(netns, "prune", "112", PEER, "6,vrrp0,,ff02::12")[0] == 0
    assert ruleset(netns).count(PEER_RULE) == 2
    six = 'iifname "vrrp0" ip6 daddr ff02::12 meta l4proto vrrp accept comment "keepalived-vrrp"'
    assert ruleset(netns).count(six) == 2  # inet and ip6
    assert script(netns, "status", "112", PEER, "6,vrrp0,,ff02::12")[1] == "nftables ok\n"
    assert script(netns, "remove")[0] == 0
    assert "keepalived-vrrp" not in ruleset(netns)


def iptables_ours(ns, command="iptables"):
    return [line for line in ns(command, "-S", "INPUT")[1].splitlines() if "keepalived" in line]


IPT_PEER = "-A INPUT -s 10.0.0.2/32 -d 10.0.0.1/32 -p vrrp -m comment --comment keepalived-vrrp -j ACCEPT"


def test_iptables_drop_policy(netns):
    assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")[0] == 0
    original = netns("iptables", "-S", "INPUT")[1]
    assert script(netns, "status", "112", "51", PEER, GROUP)[1] == "iptables missing\n"

    assert script(netns, "prune", "112", "51", PEER, GROUP)[0] == 0
    assert script(netns, "status", "112", "51", PEER, GROUP)[1] == "iptables ok\n"
    rules = netns("iptables", "-S", "INPUT")[1].splitlines()
    assert sorted(rules[1:5]) == sorted([
        IPT_PEER, IPT_PEER.replace("vrrp", "ah", 1),
        "-A INPUT -d 224.0.0.18/32 -i vrrp0 -p vrrp -m comment --comment keepalived-vrrp "
        "-j ACCEPT",
        "-A INPUT -d 224.0.0.18/32 -i vrrp0 -p ah -m comment --comment keepalived-vrrp "
        "-j ACCEPT"])
    assert script(netns, "prune", "112", "51", PEER, GROUP)[0] == 0
    assert netns("iptables", "-S", "INPUT")[1].splitlines() == rules

    assert script(netns, "prune", "112", PEER)[0] == 0  # AH and the group no longer used
    assert iptables_ours(netns) == [IPT_PEER]

    assert script(netns, "remove")[0] == 0
    assert netns("iptables", "-S", "INPUT")[1] == original


def test_iptables_a_changed_peer_is_added_before_the_former_one_goes(netns):
    assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", OTHER_PEER)[1] == "iptables missing+stale\n"
    assert script(netns, "add", "112", OTHER_PEER)[0] == 0
    assert script(netns, "status", "112", OTHER_PEER)[1] == "iptables stale\n"
    assert sorted(iptables_ours(netns)) == [IPT_PEER, IPT_PEER.replace("10.0.0.2", "10.0.0.4")]
    assert script(netns, "prune", "112", OTHER_PEER)[0] == 0
    assert iptables_ours(netns) == [IPT_PEER.replace("10.0.0.2", "10.0.0.4")]
    assert script(netns, "status", "112", OTHER_PEER)[1] == "iptables ok\n"


def test_iptables_rule_of_an_earlier_version_is_replaced(netns):
    assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    assert netns("iptables", "-I", "INPUT", "1", "-p", "112", "-m", "comment", "--comment",
                 "keepalived-vrrp", "-j", "ACCEPT")[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "iptables missing+stale\n"
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert iptables_ours(netns) == [IPT_PEER]


def test_iptables_look_alike_rules_are_the_operators(netns):
    assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    for extra in (["-j", "DROP"], ["-m", "ttl", "--ttl-eq", "255", "-j", "ACCEPT"]):
        assert netns("iptables", "-A", "INPUT", "-s", "10.0.0.2", "-d", "10.0.0.1", "-p",
                     "vrrp", "-m", "comment", "--comment", "keepalived-vrrp", *extra)[0] == 0
    original = netns("iptables", "-S", "INPUT")[1]
    assert script(netns, "status", "112", PEER)[1] == "iptables missing\n"
    assert script(netns, "remove")[0] == 0
    assert netns("iptables", "-S", "INPUT")[1] == original
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "iptables ok\n"
    assert script(netns, "remove")[0] == 0
    assert netns("iptables", "-S", "INPUT")[1] == original


def test_ip6tables_gets_the_ipv6_rules(netns):
    assert netns("ip6tables", "-P", "INPUT", "DROP")[0] == 0
    six = "6,,2001:db8::2,2001:db8::1"
    assert script(netns, "status", "112", PEER, six)[1] == "ip6tables missing\n"
    assert script(netns, "prune", "112", PEER, six)[0] == 0
    assert script(netns, "status", "112", PEER, six)[1] == "ip6tables ok\n"
    assert iptables_ours(netns, "ip6tables") == [
        "-A INPUT -s 2001:db8::2/128 -d 2001:db8::1/128 -p vrrp -m comment --comment "
        "keepalived-vrrp -j ACCEPT"]
    assert iptables_ours(netns) == []  # iptables filters nothing: left alone
    assert script(netns, "remove")[0] == 0
    assert iptables_ours(netns, "ip6tables") == []


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

    assert script(netns, "status", "112", PEER)[1] == "iptables missing\n"
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "iptables ok\n"
    assert script(netns, "prune", "112", PEER)[0] == 0
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
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "nftables ok\n"
    assert script(netns, "remove")[0] == 0
    assert ruleset(netns) == original
    assert not ran.exists()


@pytest.mark.parametrize("argument", ["112;id", "$(id)", "vrrp", "-1", "4,eth0,,224.0.0.18;id",
                                      "4,eth 0,,", "4,,10.0.0.2", "5,,10.0.0.2,",
                                      "4,,10.0.0.2,10.0.0.1,x", "6,,FE80::1,"])
def test_arguments_must_be_numbers_or_peers(netns, argument):
    code, output, error = script(netns, "prune", "112", argument)
    assert (code, output) == (2, "")
    assert error == ("vrrp-firewall: neither a protocol number nor a peer "
                     f"(FAMILY,INTERFACE,SOURCE,DESTINATION): {argument}\n")


def test_no_firewall_nothing_to_do(netns):
    assert script(netns, "status", "112", PEER)[1] == "none ok\n"
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert ruleset(netns) == ""
    assert script(netns, "remove")[0] == 0


def test_allow_without_peers_leaves_the_rules_as_they_are(netns):
    """`allow 112`, as the drop-in of an earlier version calls it at keepalived's start
    (until the deploy writes the new drop-in): the rules in place stay."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert script(netns, "prune", "112", PEER)[0] == 0
    opened = ruleset(netns)
    assert script(netns, "allow", "112")[0] == 0
    assert ruleset(netns) == opened


# -- the start path (the keepalived.service drop-in): never deletes a rule --

def config_tree(tmp_path, generations):
    """A config tree laid out as transaction.sh leaves it: BASE/.generations/NAME each
    with its peers file ({NAME: rules}), BASE/.current the link to the first (the live
    one); returns (Paths, swap(NAME)), swap making NAME live as the commit does."""
    paths = Paths(base_dir=str(tmp_path / "keepalived"),
                  config_file=str(tmp_path / "keepalived/keepalived.conf"),
                  config_dir=str(tmp_path / "keepalived/conf.d"),
                  scripts_dir=str(tmp_path / "keepalived/scripts"))
    for name, rules in generations.items():
        file = tmp_path / "keepalived/.generations" / name / os.path.relpath(
            peers_path(paths), paths.base_dir)
        file.parent.mkdir(parents=True)
        file.write_text(peers_content(rules))

    def swap(name):
        link = tmp_path / "keepalived/.current"
        new = tmp_path / "keepalived/.current.pyinfra-new"
        new.symlink_to(f".generations/{name}")
        new.rename(link)

    swap(next(iter(generations)))
    return paths, swap


def start_hook(ns, paths):
    """What the drop-in runs before keepalived starts (operations.firewall.installed_command,
    the installed copy's arguments)."""
    return script(ns, "add", "--peers-file", live_peers_path(paths))


@pytest.mark.parametrize("firewall", ["nftables", "iptables"])
def test_a_start_lets_in_the_live_configs_peers_and_deletes_no_rule(netns, tmp_path, firewall):
    """The peers changed (PEER -> OTHER_PEER): the deploy added OTHER_PEER's rule, and the
    new config is prepared but NOT live (the config step failed, or a peer has not
    prepared yet). keepalived (re)starts: it loads the old config, whose peer PEER must
    still get in; the start hook reads the live tree's peers file and deletes nothing. Once
    the new config is live, a start adds its peers; only the deploy's prune deletes."""
    if firewall == "nftables":
        assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    else:
        assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
    status = f"{firewall} ok\n"
    paths, swap = config_tree(tmp_path, {"old": ("112", PEER),
                                         "new.prepared": ("112", OTHER_PEER)})
    assert script(netns, "prune", "112", PEER)[0] == 0  # the old config's rule
    assert script(netns, "add", "112", OTHER_PEER)[0] == 0  # the deploy, before the config
    assert start_hook(netns, paths)[0] == 0
    assert script(netns, "status", "112", PEER, OTHER_PEER)[1] == status  # none deleted

    assert script(netns, "remove")[0] == 0  # a reboot: the rules are gone
    assert start_hook(netns, paths)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == status  # the live config's peer

    swap("new.prepared")  # the commit: the new config is live
    assert start_hook(netns, paths)[0] == 0
    assert script(netns, "status", "112", PEER, OTHER_PEER)[1] == status
    assert script(netns, "prune", "112", OTHER_PEER)[0] == 0  # the deploy's prune, after it
    assert script(netns, "status", "112", OTHER_PEER)[1] == status


def test_allow_of_an_earlier_versions_drop_in_deletes_no_rule(netns):
    """The drop-in of the version before called `allow PROTOCOL... PEER...` (its peers
    then, maybe not those of the live config) at each start; with this script installed,
    that call only adds."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "allow", "112", OTHER_PEER)[0] == 0
    assert script(netns, "status", "112", PEER, OTHER_PEER)[1] == "nftables ok\n"


def test_a_tree_without_peers_file_lets_vrrp_in_from_anywhere(netns, tmp_path):
    """A config tree laid out by an earlier version of the deploy (no peers file: the
    first run of this version has not made its config live yet): the live config's peers
    are unknown, so VRRP and AH of both families are let in from anywhere, and no rule is
    deleted; the deploy's prune takes those rules out once its config is live."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert script(netns, "prune", "112", PEER)[0] == 0
    paths = Paths(base_dir=str(tmp_path / "keepalived"),
                  config_dir=str(tmp_path / "keepalived/conf.d"))
    code, _, error = start_hook(netns, paths)
    assert code == 0 and "VRRP and AH let in from anywhere" in error
    # (every rule wanted is there, and PEER's: not deleted)
    assert script(netns, "status", "112", "51", "4,,,", "6,,,")[1] == "nftables stale\n"
    assert PEER_RULE in nft_chain(netns)
    assert 'meta l4proto 112 accept comment "keepalived-vrrp"' in netns(
        "nft", "-p", "list", "chain", "inet", "filter", "input")[1]
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "nftables ok\n"


@pytest.mark.parametrize("line", ["112;id", "$(touch {ran})", "4,eth0,,224.0.0.18 x",
                                  "4,,10.0.0.2", " 112", "4,,10.0.0.2,10.0.0.1\r"])
def test_peers_file_lines_are_checked_as_arguments_are(netns, tmp_path, line):
    """Each line of the peers file (root runs it at every start) is a protocol number or
    a peer, checked as an argument is: else nothing changes, and the error names the file
    and the line."""
    ran = tmp_path / "ran"
    line = line.format(ran=ran)
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert script(netns, "prune", "112", PEER)[0] == 0
    opened = ruleset(netns)
    peers = tmp_path / "peers.txt"
    peers.write_text(f"# a comment\n112\n{OTHER_PEER}\n{line}\n")
    code, output, error = script(netns, "add", "--peers-file", str(peers))
    assert (code, output) == (2, "")
    assert error == (f"vrrp-firewall: {peers} line 4: neither a protocol number nor a peer "
                     f"(FAMILY,INTERFACE,SOURCE,DESTINATION): {line}\n").replace("\r\n", "\n")
    assert ruleset(netns) == opened and not ran.exists()


def test_peers_file_without_final_newline(netns, tmp_path):
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    peers = tmp_path / "peers.txt"
    peers.write_text(f"112\n{PEER}")
    assert script(netns, "add", "--peers-file", str(peers))[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "nftables ok\n"


def test_the_probes_status_is_the_scripts(netns):
    """facts.host_level.status_command (the script only where a firewall may be) answers
    as the script does, with no ruleset, an nft drop table, and an iptables rule too."""
    def both():
        return (netns("sh", "-c", status_command(("112", "51", PEER)))[1],
                script(netns, "status", "112", "51", PEER)[1])

    assert both() == ("none ok\n",) * 2
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert both() == ("nftables missing\n",) * 2
    assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "2222", "-j", "ACCEPT")[0] == 0
    assert both() == ("iptables+nftables missing\n",) * 2
    assert script(netns, "prune", "112", "51", PEER)[0] == 0
    assert both() == ("iptables+nftables ok\n",) * 2


def test_nftables_backend_leaves_iptables_nft_chains_alone(netns):
    """An empty iptables INPUT chain (ACCEPT, no rules) next to the operator's nft table:
    the rule goes into the nft table only; iptables-nft's chain is the iptables backend's."""
    assert netns("iptables", "-P", "INPUT", "ACCEPT")[0] == 0  # ip filter INPUT, empty
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert "chain INPUT" in ruleset(netns)
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert netns("iptables", "-S", "INPUT")[1] == "-P INPUT ACCEPT\n"
    assert script(netns, "status", "112", PEER)[1] == "nftables ok\n"


def test_iptables_rules_and_an_nft_drop_table_both_get_the_rule(netns):
    """An iptables INPUT rule of someone else's (fail2ban, libvirt, ...) next to the
    operator's nft drop-policy table: both filter input, both must let VRRP through."""
    assert netns("nft", "-f", "-", stdin=DROP_TABLE)[0] == 0
    assert netns("iptables", "-A", "INPUT", "-p", "tcp", "--dport", "2222", "-j", "ACCEPT")[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "iptables+nftables missing\n"
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert script(netns, "status", "112", PEER)[1] == "iptables+nftables ok\n"
    assert PEER_RULE in nft_chain(netns)
    assert iptables_ours(netns) == [IPT_PEER]
    assert script(netns, "remove")[0] == 0
    assert "keepalived-vrrp" not in ruleset(netns)


def test_unknown_action(netns):
    code, _, error = script(netns, "open")
    assert code == 2 and "usage: vrrp-firewall status|add|prune|remove" in error


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
        --list-rich-rules) cat "$store"; exit ;;
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

    ipv4 = 'rule family="ipv4" '
    peer = ipv4 + 'source address="10.0.0.2" destination address="10.0.0.1" protocol value="{}" accept'
    group = ipv4 + 'destination address="224.0.0.18" protocol value="{}" accept'
    # the rule of an earlier version (no peer limit), and an operator's look-alike
    operators = ipv4 + 'source address="10.0.0.2" protocol value="112" drop'
    for store in ("runtime", "permanent"):
        (tmp_path / store).write_text(f'rule protocol value="112" accept\n{operators}\n')
    assert fw("status", "112", "51", PEER, GROUP)[1] == "firewalld missing+stale\n"
    assert fw("prune", "112", "51", PEER, GROUP)[0] == 0
    assert rules("runtime") == rules("permanent")
    assert sorted(rules("runtime")) == sorted([
        operators, peer.format(112), peer.format(51), group.format(112), group.format(51)])
    assert fw("status", "112", "51", PEER, GROUP)[1] == "firewalld ok\n"
    calls = len(rules("calls"))
    assert fw("prune", "112", "51", PEER, GROUP)[0] == 0
    assert all("--list-rich-rules" in call for call in rules("calls")[calls:])  # no change

    assert fw("add", "112", OTHER_PEER)[0] == 0  # added, nothing removed
    assert fw("status", "112", OTHER_PEER)[1] == "firewalld stale\n"
    assert fw("prune", "112", OTHER_PEER)[0] == 0
    assert rules("runtime") == rules("permanent") == [
        operators, peer.format(112).replace("10.0.0.2", "10.0.0.4")]

    assert fw("remove")[0] == 0
    assert rules("runtime") == rules("permanent") == [operators]
    assert fw("status", "112", PEER)[1] == "firewalld missing\n"


def test_iptables_nft_chain_alone_is_no_firewall(netns):
    """Docker, for one, leaves an empty iptables-nft INPUT chain (policy ACCEPT): nothing
    filters input, so there is nothing to open."""
    assert netns("iptables", "-P", "INPUT", "ACCEPT")[0] == 0
    assert "hook input" in netns("nft", "list", "chains")[1]
    assert script(netns, "status", "112")[1] == "none ok\n"


def test_no_action_is_the_usage(netns):
    code, _, error = netns("sh", "-c", FIREWALL_SCRIPT, "vrrp-firewall")
    assert code == 2 and "usage: vrrp-firewall" in error


# -- real adverts through the rules --

RECEIVE = r"""
import socket, struct, sys
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
raw.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
               socket.inet_aton("224.0.0.18") + socket.inet_aton("10.0.0.1"))
raw.settimeout(20)
print("ready", flush=True)
while True:
    packet, (source, _) = raw.recvfrom(2048)
    payload = packet[(packet[0] & 15) * 4:].decode()
    print(payload, flush=True)
    if payload == "last":
        break
"""
SEND = r"""
import socket, sys
for item in sys.argv[1:]:
    source, destination, payload = item.split(",")
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    raw.bind((source, 0))
    raw.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(source))
    raw.sendto(payload.encode(), (destination, 0))
"""


@pytest.fixture
def linked(netns):
    """This namespace (the host, 10.0.0.1 on vrrp0) and a second one on the other end of
    a veth pair, whose addresses send adverts: 10.0.0.2 (the peer), 10.0.0.3 (not a
    peer). Returns send(*"SOURCE,DESTINATION,PAYLOAD"): the payloads the host received,
    in order (each sent after the others, then "last" from 10.0.0.9, which the test's
    ruleset lets in: whatever was let through arrived before it; no waiting for an
    absence)."""
    other = f"kvt-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", other], check=True)
    host = netns("ip", "netns", "identify")[1].strip()
    try:
        subprocess.run(["ip", "link", "add", "vrrp0", "netns", host, "type", "veth",
                        "peer", "name", "vrrp1", "netns", other], check=True)
        for namespace, link, addresses in ((host, "vrrp0", ["10.0.0.1/24"]),
                                           (other, "vrrp1", ["10.0.0.2/24", "10.0.0.3/24",
                                                             "10.0.0.9/24"])):
            for address in addresses:
                run(namespace, "ip", "address", "add", address, "dev", link)
            run(namespace, "ip", "link", "set", link, "up")
            run(namespace, "ip", "link", "set", "lo", "up")

        def send(*adverts):
            receiver = subprocess.Popen(["ip", "netns", "exec", host, "python3", "-c", RECEIVE],
                                        stdout=subprocess.PIPE, text=True)
            try:
                assert receiver.stdout.readline() == "ready\n"
                code, _, error = run(other, "python3", "-c", SEND, *adverts,
                                     "10.0.0.9,10.0.0.1,last")
                assert code == 0, error
                output, _ = receiver.communicate(timeout=30)
            finally:
                receiver.kill()
            return output.split()[:-1]
        yield send
    finally:
        subprocess.run(["ip", "netns", "del", other], check=True)


ADVERTS = ("10.0.0.3,10.0.0.1,stranger", "10.0.0.2,10.0.0.1,peer",
           "10.0.0.3,224.0.0.18,stranger-group", "10.0.0.2,224.0.0.18,group")


@pytest.mark.parametrize("firewall", ["nftables", "iptables"])
def test_the_peers_adverts_are_let_in_and_a_strangers_are_dropped(netns, linked, firewall):
    """Real adverts (IP protocol 112) from the peer and from another address of the same
    network: a unicast instance lets the peer's in, not the other's; a multicast instance
    lets the VRRP group in on its interface (keepalived checks the TTL there)."""
    if firewall == "nftables":
        marker = DROP_TABLE.replace("tcp dport 22 accept", "ip saddr 10.0.0.9 accept")
        assert netns("nft", "-f", "-", stdin=marker)[0] == 0
    else:
        assert netns("iptables", "-P", "INPUT", "DROP")[0] == 0
        assert netns("iptables", "-A", "INPUT", "-s", "10.0.0.9", "-j", "ACCEPT")[0] == 0
    assert linked(*ADVERTS) == []  # the drop policy: nothing
    assert script(netns, "prune", "112", PEER)[0] == 0
    assert linked(*ADVERTS) == ["peer"]
    assert script(netns, "prune", "112", GROUP)[0] == 0
    assert linked(*ADVERTS) == ["stranger-group", "group"]
    assert script(netns, "prune", "112", PEER, GROUP)[0] == 0
    assert linked(*ADVERTS) == ["peer", "stranger-group", "group"]
