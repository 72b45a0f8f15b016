"""Host level (firewall, sysctl, systemd drop-in, daemon options): the exact commands sent,
via pyinfra's ``@fake`` connector, for Debian and RHEL-family hosts.

The deploy reads the host-level state in its one probe (``KeepalivedProbe``, whose last
section is the host-state fact); ``host_level.remove`` reads the host-state fact alone
(``: keepalived-host-state``). Its answer is scripted here with ``host_state()``. What the
firewall script itself does on nftables and iptables is tested in
tests/test_vrrp_firewall.py (network namespaces) and tests/e2e/test_host_level.py.
"""

import os
import shlex
import signal
import subprocess

import pytest
from pyinfra.api import FileUploadCommand, StringCommand
from pyinfra.api.deploy import add_deploy
from pyinfra.api.operations import run_ops

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.facts.host_level import KeepalivedHostLevel
from pyinfra_keepalived.host_paths import (
    DROPIN,
    FIREWALL_COMMAND,
    NEEDRESTART_CONF,
    SYSCTL_FILE,
)
from pyinfra_keepalived.model.blocks import HostLevel
from pyinfra_keepalived.operations import (
    host_level,
    host_level_work,
    state_files,
    uploads,
)
from pyinfra_keepalived.operations.firewall import FIREWALL_SCRIPT, installed_command
from pyinfra_keepalived.operations.uploads import sha256
from pyinfra_keepalived.render import config as render
from pyinfra_keepalived.render import host_level as render_host
from testhosts.polling import wait_for

from .fakehosts import (
    CLEANUP,
    DNF,
    DROPIN_CONTENT,
    DROPIN_OPS,
    DROPIN_SENT,
    FRESH_DROPIN_OPS,
    GROUP_DATA,
    HOSTS,
    NEEDRESTART_CONTENT,
    NEEDRESTART_OPS,
    NEEDRESTART_SENT,
    PATHS,
    RESTART_STEPS,
    START,
    STOPPED,
    TRANSACTION,
    assert_one_probe,
    cleanup,
    containing,
    deploy,
    fact_commands,
    file_install,
    file_read,
    file_sent,
    host_state,
    make_state,
    op_commands,
    readable,
    running_probe,
    sent,
    settings_of,
    sysctl_value,
    tree_lines,
    unlocked,
)

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("recorder")]

RULES = ("112", "4,eth0,,224.0.0.18")  # the example's instance: multicast on eth0
ADD = "vrrp-firewall add 112 4,eth0,,224.0.0.18"
PRUNE = "vrrp-firewall prune 112 4,eth0,,224.0.0.18"
INSTALL_SCRIPT = file_sent(FIREWALL_COMMAND, "755")
RELOAD = "systemctl reload keepalived.service"


def fresh(distro, state_lines, group_data=None, service=STOPPED):
    """Fresh hosts (nothing installed) whose host-level state is `state_lines` and whose
    keepalived.service is `service` (ActiveState, UnitFileState)."""
    return make_state(distro, group_data=group_data,
                      probes={name: {"state": state_lines, "service": service}
                              for name in HOSTS})


def converged(distro, state_lines, group_data=None, drifted=None):
    """Running hosts whose host-level state is `state_lines`; config tree up to date but
    for the file named `drifted` (under conf.d), if given."""
    settings = settings_of(make_state(distro, group_data=group_data))
    probes = {}
    for name in HOSTS:
        files = render.config_files(settings[name])
        old = {f"{settings[name].paths.config_dir}/{drifted}": "# old\n"} if drifted else {}
        probes[name] = running_probe("2.2.8-1.el9", tree_lines(files, content_of=old),
                                     state=state_lines)
    return make_state(distro, group_data=group_data, probes=probes)


def firewall_commands(commands):
    return [c for c in commands if c.startswith("sh -c ") and "vrrp-firewall" in c]


def with_ah():
    instance = {**GROUP_DATA["keepalived_vrrp_instances"][0], "auth_type": "AH"}
    return {"keepalived_vrrp_instances": [instance]}


# -- firewall --

@pytest.mark.parametrize("distro", ["debian", "rocky"])
def test_active_firewall_is_opened_before_keepalived_starts(distro, recorder):
    state = fresh(distro, host_state(firewall="nftables missing"))
    for host in deploy(state):
        commands = op_commands(host, recorder)
        allow = [c for c in commands if c.endswith(ADD)]
        assert len(allow) == 1 and allow[0].startswith("sh -c ")
        assert FIREWALL_SCRIPT.splitlines()[0] in allow[0]  # the script itself, inline
        assert not any(c.endswith(PRUNE) for c in commands)  # no former peer's rule
        stream = sent(host, recorder)
        installed = stream.index(INSTALL_SCRIPT[-1])
        assert stream[installed - 2:installed + 1] == INSTALL_SCRIPT
        # firewall and drop-in before the package (neither needs it; the drop-in is then
        # loaded with the unit the package brings), the config and the start after it
        package = containing(commands, " 'install keepalived' ")
        assert ("dnf install" if distro == "rocky" else "apt-get -y") in commands[package]
        assert commands.index(allow[0]) < commands.index(FRESH_DROPIN_OPS[-1]) < package \
            < containing(commands, TRANSACTION) == containing(commands, START[0])


def test_dropin_runs_the_installed_script_before_each_start(recorder):
    state = fresh("debian", host_state(firewall="iptables missing"))
    settings = settings_of(state)["@fake/host-01"]
    content = render_host.service_dropin(settings.host_level, installed_command(PATHS))
    # the live config's peers (through .current): never deleting a rule
    assert (f"ExecStartPre=-{FIREWALL_COMMAND} add --peers-file "
            "/etc/keepalived/.current/conf.d/vrrp-firewall-peers.txt\n") in content
    assert "After=nftables.service netfilter-persistent.service firewalld.service\n" in content
    for host in deploy(state):
        assert sha256(content) != sha256(DROPIN_CONTENT)
        assert sent(host, recorder).count(FRESH_DROPIN_OPS[-1]) == 1


def test_ah_instances_open_protocol_51_too(recorder):
    state = fresh("rocky", host_state(firewall="firewalld missing"), group_data=with_ah())
    for host in deploy(state):
        assert [c.rsplit("' vrrp-firewall ")[1] for c in firewall_commands(
            op_commands(host, recorder))] == ["add 112 51 4,eth0,,224.0.0.18"]
        assert " vrrp-firewall status 112 51 4,eth0,,224.0.0.18; " in fact_commands(
            host, recorder)[0]


def test_no_firewall_active_auto_leaves_it_alone(recorder):
    state = fresh("debian", host_state(firewall="none ok"))
    for host in deploy(state):
        assert firewall_commands(op_commands(host, recorder)) == []
        assert INSTALL_SCRIPT[-1] not in sent(host, recorder)


def test_firewall_false_skips_even_the_probe(recorder):
    state = fresh("debian", host_state(firewall="nftables missing"),
                  group_data={"keepalived_firewall": False})
    for host in deploy(state):
        assert firewall_commands(op_commands(host, recorder)) == []
        assert "vrrp-firewall status" not in fact_commands(host, recorder)[0]
        assert INSTALL_SCRIPT[-1] not in sent(host, recorder)


def test_firewall_true_installs_the_start_hook_without_an_active_firewall(recorder):
    state = fresh("debian", host_state(firewall="none ok"),
                  group_data={"keepalived_firewall": True})
    for host in deploy(state):
        assert INSTALL_SCRIPT[-1] in sent(host, recorder)
        assert firewall_commands(op_commands(host, recorder)) == []  # nothing to open now


def up_to_date_state(needrestart=NEEDRESTART_CONTENT, **host_level_data):
    """Host-state lines of a host where everything host-level is already as wanted (but
    for needrestart's snippet when `needrestart` is other content, or None: missing)."""
    level = HostLevel(**host_level_data)
    return host_state(firewall="nftables ok", needrestart=False, files={
        FIREWALL_COMMAND: FIREWALL_SCRIPT,
        DROPIN: render_host.service_dropin(level, installed_command(PATHS)),
        **({NEEDRESTART_CONF: needrestart} if needrestart is not None else {})})


def test_up_to_date_host_gets_nothing_and_one_fact(recorder):
    """Idempotent, and the host level costs no fact of its own: its state (firewall
    included) comes with the one probe per host."""
    state = converged("rocky", up_to_date_state())
    for host in deploy(state):
        assert op_commands(host, recorder) == []
        assert_one_probe(host, recorder)
        assert " vrrp-firewall status 112 4,eth0,,224.0.0.18; " in fact_commands(
            host, recorder)[0]


@pytest.mark.parametrize("status, drifted, expected", [
    ("missing", None, ["add"]),
    ("stale", None, ["prune"]),
    ("missing+stale", "20-vrrp_instances.conf", ["add", "config", "prune"]),
], ids=["rule-gone", "former-peer-rule", "peer-changed"])
def test_rules_are_added_before_the_config_and_former_peers_deleted_after_it(
        recorder, status, drifted, expected):
    """On a converged host (no restart): a missing rule is added before the config step,
    nothing deleted; a former peer's rule is deleted after it, when every host runs the
    config without that peer."""
    lines = up_to_date_state()
    lines[0] = f"firewall nftables {status}"
    state = converged("rocky", lines, drifted=drifted)
    steps = {ADD: "add", PRUNE: "prune", TRANSACTION: "config"}
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert [step for command in commands for text, step in steps.items()
                if text in command] == expected
        assert len(commands) == len(expected) + bool(drifted)  # (+ the new file's upload)


# The drop-in's start hook, as written: the live config's peers file (through .current)
START_HOOK = (f"{FIREWALL_COMMAND} add --peers-file "
              "/etc/keepalived/.current/conf.d/vrrp-firewall-peers.txt")
PEERS_FILE = "/etc/keepalived/conf.d/vrrp-firewall-peers.txt"
UNICAST = {"keepalived_vrrp_instances": [{**GROUP_DATA["keepalived_vrrp_instances"][0],
                                          "unicast_src_ip": "10.0.0.1",
                                          "unicast_peers": ["10.0.0.3"]}]}


def hosts_of(distro, dropin, status, group_data=None, without=(), script=FIREWALL_SCRIPT):
    """Running hosts whose config tree is the one rendered from the default data (the
    live config: its peers are the multicast group) but for the paths in `without`; the
    firewall script `script` installed, the drop-in `dropin`, the firewall status `status`."""
    settings = settings_of(make_state(distro))
    probes = {}
    for name in HOSTS:
        files = {path: file for path, file in render.config_files(settings[name]).items()
                 if path not in without}
        probes[name] = running_probe("2.2.8-1.el9", tree_lines(files), state=host_state(
            firewall=status, files={FIREWALL_COMMAND: script,
                                    DROPIN: render_host.service_dropin(HostLevel(), dropin)}))
    return make_state(distro, group_data=group_data, probes=probes)


def steps_of(commands):
    """Each command as the step it is: add, prune (the firewall script inline), dropin
    (written and systemd reloaded), script (the installed copy), config (the transaction
    in one command), prepare and commit (its two phases: operations.cluster_commit)."""
    steps = []
    for command in commands:
        if firewall_commands([command]):
            steps.append(command.rsplit("' vrrp-firewall ")[1].split()[0])
        elif command.endswith(f" {DROPIN} && systemctl daemon-reload"):
            steps.append("dropin")
        elif f" {FIREWALL_COMMAND}" in command and " install " in command:
            steps.append("script")
        else:
            steps += [{"apply": "config"}.get(mode, mode)
                      for mode in ("apply", "prepare", "commit")
                      if f" {mode} /etc/keepalived " in command]
    return steps


def test_a_peer_change_leaves_the_dropin_alone_and_prunes_after_the_config(recorder):
    """The peers change (multicast group -> a unicast peer): the new peer's rule is added
    before the config (nothing deleted), the config step (here in two phases: the peers
    must agree on unicast) makes the new peers file live with the config, the former
    peer's rule goes after it. The drop-in, which reads the
    live peers file, stays as it is: a keepalived start before the config step (a crash,
    a reboot, the config step failing) lets in the peers of the config it loads, the old
    one (the drop-in of the version before named the NEW peers, and deleted the others)."""
    state = hosts_of("debian", START_HOOK, "nftables missing+stale", group_data=UNICAST)
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert steps_of(commands) == ["add", "prepare", "commit", "prune"]
        assert commands[0].endswith("vrrp-firewall add 112 4,,10.0.0.3,10.0.0.1")
        assert commands[-1].endswith("vrrp-firewall prune 112 4,,10.0.0.3,10.0.0.1")
        assert not any("daemon-reload" in command for command in commands)


def test_a_host_of_the_version_before_gets_the_start_hook_before_its_config(recorder):
    """A host deployed by the version before: its drop-in calls `allow` with the peers as
    arguments (from this script version on, that only adds), its tree has no peers file.
    The drop-in gets the start hook before the config step (until that step makes the
    peers file live, a start lets VRRP in from anywhere: more, never fewer), the config
    step brings the peers file; nothing is pruned (the probe found no former peer's rule)."""
    old_dropin = f"{FIREWALL_COMMAND} allow 112 4,eth0,,224.0.0.18"
    state = hosts_of("debian", old_dropin, "nftables ok", without=(PEERS_FILE,),
                     script="#!/bin/sh\n# the version before\n")
    for host in deploy(state):
        commands = op_commands(host, recorder)
        # (the script first: the old drop-in's `allow` then only adds)
        assert steps_of(commands) == ["script", "dropin", "config"]
        assert sent(host, recorder)[3:6] == file_sent(DROPIN, "644", make_dir=True,
                                                      then="systemctl daemon-reload")
        assert " conf.d/vrrp-firewall-peers.txt " in commands[-1]  # (with the config)


def test_peers_file_goes_live_with_the_config():
    """The peers file is part of the config tree: the transaction swaps it with the config
    (a prepared tree is not live: the drop-in reads it through .current)."""
    settings = settings_of(make_state("debian", group_data=UNICAST))["@fake/host-01"]
    files = render.config_files(settings)
    assert files[PEERS_FILE].mode == "644" and not files[PEERS_FILE].secret
    assert [line for line in files[PEERS_FILE].content.splitlines()
            if not line.startswith("#")] == ["112", "4,,10.0.0.3,10.0.0.1"]
    off = settings_of(make_state("debian", group_data={**UNICAST, "keepalived_firewall": False}))
    assert PEERS_FILE not in render.config_files(off["@fake/host-01"])


def test_unicast_peers_are_the_rules(recorder):
    """A unicast instance: the peers' addresses to this host's (unicast_src_ip), one
    argument each; IPv6 addresses as the firewalls print them."""
    instance = {**GROUP_DATA["keepalived_vrrp_instances"][0],
                "unicast_src_ip": "10.0.0.1", "unicast_peers": ["10.0.0.2", "10.0.0.3"]}
    ipv6 = {**instance, "name": "VI_6", "virtual_router_id": 52,
            "virtual_ipaddresses": ["2001:db8::100/64"], "auth_type": None,
            "auth_pass": None, "unicast_src_ip": "2001:DB8:0::1",
            "unicast_peers": ["2001:db8::2"]}
    ipv6 = {key: value for key, value in ipv6.items() if value is not None}
    state = fresh("debian", host_state(firewall="nftables missing"),
                  group_data={"keepalived_vrrp_instances": [instance, ipv6]})
    for host in deploy(state):
        assert [c.rsplit("' vrrp-firewall ")[1] for c in firewall_commands(
            op_commands(host, recorder))][0] == (
            "add 112 4,,10.0.0.2,10.0.0.1 4,,10.0.0.3,10.0.0.1 6,,2001:db8::2,2001:db8::1")


# -- systemd drop-in --

def test_dropin_content():
    assert DROPIN_CONTENT == (
        "# Managed by pyinfra (keepalived deploy): how systemd runs keepalived.\n"
        "[Unit]\nWants=network-online.target\nAfter=network-online.target\n\n"
        "[Service]\nRestart=on-failure\nRestartSec=5\n")


def test_changed_dropin_reloads_systemd_not_keepalived(recorder):
    lines = host_state(files={DROPIN: "[Service]\nRestart=no\n"})
    state = converged("rocky", lines, group_data={"keepalived_systemd_restart_sec": 2})
    for host in deploy(state):
        assert op_commands(host, recorder) == DROPIN_OPS
        assert sent(host, recorder) == DROPIN_SENT


def test_systemd_reload_left_pending_is_done(recorder):
    """The drop-in is as it should be, but systemd says it has not loaded it (a run that
    died between writing and reloading, or a change by hand): the reload alone."""
    settings = settings_of(make_state("rocky"))
    probes = {name: running_probe("2.2.8-1.el9",
                                  tree_lines(render.config_files(settings[name])),
                                  reload_needed=True) for name in HOSTS}
    for host in deploy(make_state("rocky", probes=probes)):
        assert op_commands(host, recorder) == ["systemctl daemon-reload"]


def test_changed_dropin_before_an_upgrade_is_reloaded_by_the_package_step(recorder):
    """Drop-in and package both change: the drop-in goes first without a reload, the
    package step reloads after the install (where systemd needs it), one reload."""
    pin = {"keepalived_package_version": "2.2.9"}
    settings = settings_of(make_state("rocky", group_data=pin))
    probes = {name: running_probe("2.2.8-1.el9",
                                  tree_lines(render.config_files(settings[name])),
                                  state=host_state(files={DROPIN: "[Service]\nRestart=no\n"}))
              for name in HOSTS}
    for host in deploy(make_state("rocky", probes=probes, group_data=pin)):
        commands = op_commands(host, recorder)
        assert commands[:2] == FRESH_DROPIN_OPS
        assert commands[2].endswith(f" always '{DNF} keepalived-2.2.9'")
        assert not any("daemon-reload" in command for command in commands[:2])


def test_masked_unit_is_unmasked_before_start(recorder):
    state = fresh("debian", host_state(), service=("inactive", "masked"))
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert commands.index("systemctl unmask keepalived.service") \
            < containing(commands, START[0])


def test_unmasked_unit_is_not_unmasked(recorder):
    state = converged("rocky", up_to_date_state())
    for host in deploy(state):
        assert "systemctl unmask keepalived.service" not in op_commands(host, recorder)


# -- needrestart's snippet --

# needrestart 3.6's choice for a service it found running an old binary, in batch or
# automatic mode (/usr/sbin/needrestart): restart unless the first regex of override_rc
# that matches the unit's name says 0. The snippet is evaluated as its conf.d files are.
NEEDRESTART_CHOICE = r"""
our %nrconf = (override_rc => {qr(^dbus) => 0});
eval do { local(@ARGV, $/) = $ARGV[0]; <> }; die $@ if $@;
for my $rc (@ARGV[1..$#ARGV]) {
    my $restart = 1;
    foreach my $re (keys %{$nrconf{override_rc}}) {
        next unless($rc =~ /$re/);
        $restart = $nrconf{override_rc}->{$re};
        last;
    }
    print "$rc $restart\n";
}
"""


def test_needrestart_snippet_keeps_needrestart_from_restarting_keepalived_only(tmp_path):
    """Read by Perl as needrestart reads it: keepalived.service is never restarted by
    needrestart; other units (and look-alike names) as before."""
    snippet = tmp_path / "pyinfra-keepalived.conf"
    snippet.write_text(render_host.needrestart_conf())
    units = ["keepalived.service", "keepalived-exporter.service", "nginx.service",
             "dbus.service"]
    result = subprocess.run(["perl", "-e", NEEDRESTART_CHOICE, str(snippet), *units],
                            capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:-1] == [
        "keepalived.service 0", "keepalived-exporter.service 1", "nginx.service 1",
        "dbus.service 0"]


@pytest.mark.parametrize("distro", ["debian", "rocky"])
def test_needrestart_snippet_goes_in_before_the_package_step(distro, recorder):
    """A fresh host (needrestart installed or not: it reads the snippet from the moment it
    is installed): written before the package step, so that a rollout that stops after
    replacing keepalived's binary leaves no restart to the next apt run's needrestart."""
    state = fresh(distro, host_state(needrestart=False))
    for host in deploy(state):
        commands = op_commands(host, recorder)
        assert NEEDRESTART_SENT[2] in commands
        assert commands.index(NEEDRESTART_SENT[2]) < containing(commands, " 'install keepalived' ")
        stream = sent(host, recorder)
        installed = stream.index(NEEDRESTART_SENT[2])
        assert stream[installed - 2:installed + 1] == NEEDRESTART_SENT
        assert f" {NEEDRESTART_CONF} " in fact_commands(host, recorder)[0]  # (its digest)


@pytest.mark.parametrize("content, expected", [
    (None, NEEDRESTART_OPS),  # missing: written
    ("$nrconf{override_rc}{qr(^keepalived)} = 1;\n", NEEDRESTART_OPS),  # changed: written back
    (NEEDRESTART_CONTENT, []),  # as the deploy writes it: nothing
], ids=["missing", "changed", "in-place"])
def test_needrestart_snippet_changed_only_when_its_content_differs(content, expected,
                                                                    recorder):
    for host in deploy(converged("rocky", up_to_date_state(needrestart=content))):
        assert op_commands(host, recorder) == expected
        assert_one_probe(host, recorder)


# -- sysctl ip_nonlocal_bind --

def test_nonlocal_bind_is_persisted_and_applied(recorder):
    state = converged("rocky", up_to_date_state(), group_data={"keepalived_nonlocal_bind": True})
    for host in deploy(state):
        assert sent(host, recorder) == file_sent(SYSCTL_FILE, "644",
                                                 then=f"sysctl -q -p {SYSCTL_FILE}")
    assert render_host.sysctl_file(("ipv4", "ipv6")).splitlines()[1:] == [
        "net.ipv4.ip_nonlocal_bind = 1", "net.ipv6.ip_nonlocal_bind = 1"]


@pytest.mark.parametrize("running, expected", [
    ("0", [f"sysctl -q -p {SYSCTL_FILE}"]),  # file in place, value reset: applied again
    ("1", []),  # in place and applied: nothing
])
def test_nonlocal_bind_file_in_place(running, expected, recorder):
    content = render_host.sysctl_file(("ipv4",))
    lines = up_to_date_state() + [f"{sha256(content)}  {SYSCTL_FILE}",
                                  sysctl_value("net.ipv4.ip_nonlocal_bind", running)]
    state = converged("rocky", lines, group_data={"keepalived_nonlocal_bind": ["ipv4"]})
    for host in deploy(state):
        assert op_commands(host, recorder) == expected


@pytest.mark.parametrize("file_lines", [
    render_host.sysctl_file(("ipv4", "ipv6")).splitlines(),
    # The file is read from the host: a line whose key is no sysctl name (shell text)
    # never reaches the root command; the others are quoted.
    ["net.ipv4.ip_nonlocal_bind = 1", "x; touch /tmp/owned = 1", "$(reboot) = 1",
     "-net.ipv6.ip_nonlocal_bind = 1", "; a.b = 1"],
])
def test_nonlocal_bind_turned_off_removes_file_and_resets_values(file_lines, recorder):
    lines = up_to_date_state() + [f"{sha256(chr(10).join(file_lines))}  {SYSCTL_FILE}",
                                  *file_read(SYSCTL_FILE, file_lines)]
    state = converged("rocky", lines)
    for host in deploy(state):
        assert op_commands(host, recorder) == [
            f"rm -f {SYSCTL_FILE}",
            "sysctl -q -w net.ipv4.ip_nonlocal_bind=0 net.ipv6.ip_nonlocal_bind=0"]


# -- sysctl under a VRRP virtual MAC --

def with_vmac(use_vmac=True):
    instance = {**GROUP_DATA["keepalived_vrrp_instances"][0], "use_vmac": use_vmac}
    return {"keepalived_vrrp_instances": [instance]}


APPLY = (f"sh -c {shlex.quote(host_level.SYSCTL_APPLY)} sysctl-apply "
         f"{host_paths.VMAC_SYSCTL_FILE}")


@pytest.mark.parametrize("use_vmac", [True, "vmac51"])
def test_vmac_parent_sysctls_are_persisted_and_applied_where_they_can_be(use_vmac, recorder):
    for host in deploy(converged("rocky", up_to_date_state(), group_data=with_vmac(use_vmac))):
        assert sent(host, recorder) == file_sent(host_paths.VMAC_SYSCTL_FILE, "644",
                                                 then=APPLY)
    assert render_host.vmac_sysctl_file(("eth0", "eth0.100")).splitlines()[1:] == [
        "net/ipv4/conf/eth0/arp_ignore = 1", "net/ipv4/conf/eth0/arp_filter = 1",
        "net/ipv4/conf/eth0/arp_announce = 2", "net/ipv4/conf/eth0.100/arp_ignore = 1",
        "net/ipv4/conf/eth0.100/arp_filter = 1", "net/ipv4/conf/eth0.100/arp_announce = 2"]


@pytest.mark.parametrize("use_vmac, expected", [
    (True, []),  # in place: nothing
    (False, [f"rm -f {host_paths.VMAC_SYSCTL_FILE}"]),  # no vmac left: the file goes
])
def test_vmac_sysctl_file_in_place(use_vmac, expected, recorder):
    content = render_host.vmac_sysctl_file(("eth0",))
    lines = up_to_date_state() + [f"{sha256(content)}  {host_paths.VMAC_SYSCTL_FILE}"]
    for host in deploy(converged("rocky", lines, group_data=with_vmac(use_vmac))):
        assert op_commands(host, recorder) == expected


def test_sysctl_apply_skips_a_read_only_proc_sys(tmp_path):
    """The apply step as a real shell: where /proc/sys cannot be written it says so and
    succeeds (a container: keepalived sets the values itself), else sysctl -p runs."""
    result = subprocess.run(["sh", "-c", host_level.SYSCTL_APPLY.replace(
        "/proc/sys/net/ipv4/conf/all/arp_ignore", str(tmp_path / "absent")),
        "sysctl-apply", "/etc/sysctl.d/x.conf"], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, (
        "sysctl-apply: /proc/sys is read-only here (a container?): /etc/sysctl.d/x.conf "
        "not applied now\n"))


@pytest.mark.parametrize("key, valid", [
    ("net.ipv4.ip_nonlocal_bind", True), ("net.ipv4.conf.eth0/1.rp_filter", True),
    ("kernel.core_pattern", True), ("net", False), ("-w", False), ("a.b c", False),
    ("a.b;id", False), ("net.ipv4.$(id)", False), ("a.b\nc", False), ("'a.b'", False),
])
def test_sysctl_key_pattern(key, valid):
    assert bool(host_level_work.SYSCTL_KEY_RE.fullmatch(key)) is valid


# -- daemon options --

def under_lock(commands, what="write keepalived's daemon options", wait=120):
    """`commands` with each one sent under the deploy lock (`what`, waiting `wait` s) as
    the command it wraps; the others as they are."""
    prefix = state_files.LOCK_SCRIPT + "\n"
    lock = ["pyinfra-keepalived", host_paths.LOCK_FILE, host_paths.LOCK_HOLDER, str(wait),
            what]
    plain = []
    for command in commands:
        # an upload's clean-up runs outside the lock: "trap ... TERM && sh -c LOCKED ..."
        cleanup, _, rest = (command.partition(" TERM && ") if command.startswith("trap ")
                            else ("", "", command))
        cleanup += " TERM" if cleanup else ""
        words = shlex.split(rest) if rest.startswith("sh -c ") else []
        locked = words[:2] == ["sh", "-c"] and words[3:] == lock
        inner = (words[2][len(prefix):] if locked and words[2].startswith(prefix)
                 else None)
        plain.append(command if inner is None else
                     f"{cleanup} && {inner}" if cleanup else inner)
    return plain


OPTIONS = ["--log-detail", "--log-facility=local1"]


@pytest.mark.parametrize("distro, path, variable", [
    ("debian", "/etc/default/keepalived", "DAEMON_ARGS"),
    ("ubuntu", "/etc/default/keepalived", "DAEMON_ARGS"),
    ("rocky", "/etc/sysconfig/keepalived", "KEEPALIVED_OPTIONS"),
    ("fedora", "/etc/sysconfig/keepalived", "KEEPALIVED_OPTIONS"),
])
def test_daemon_options_file_per_family_fresh_host_no_restart(distro, path, variable,
                                                              recorder):
    state = fresh(distro, host_state(),
                  group_data={"keepalived_daemon_options": OPTIONS})
    assert render_host.options_file(variable, tuple(OPTIONS)).endswith(
        f'\n{variable}="--log-detail --log-facility=local1"\n')
    for host in deploy(state):
        commands = under_lock(op_commands(host, recorder))
        assert commands.index(file_install(path, "644")) < containing(commands, START[0])
        assert not set(RESTART_STEPS) & set(readable(commands))  # a fresh start reads them


def test_changed_daemon_options_restart_running_keepalived_once(recorder):
    """Options and config both changed: one restart, and no reload of its own (the config
    transaction reloads a running keepalived; the restart then loads the options)."""
    state = converged("rocky", up_to_date_state() + [
        f"{sha256('KEEPALIVED_OPTIONS=-D')}  /etc/sysconfig/keepalived"],
        group_data={"keepalived_daemon_options": ["--log-detail"]},
        drifted="00-global_defs.conf")
    marker = shlex.join(["sh", "-c", state_files.FUNCTIONS + 'mark_pending "$@"',
                         "mark-restart", host_paths.RESTART_PENDING, "options"])
    for host in deploy(state):
        sent_commands = op_commands(host, recorder)
        options = [c for c in sent_commands if "/etc/sysconfig/keepalived" in c]
        assert len(options) == 1 and under_lock(options) != options  # under the lock
        commands = readable(under_lock(sent_commands))
        # the marker first, in the same command as the file, under the deploy lock: a run
        # that dies after it leaves the restart to the next run, and a restart in progress
        # cannot clear a marker it did not restart for
        install = file_install("/etc/sysconfig/keepalived", "644")
        rest = install.removeprefix(f"{CLEANUP} && ")
        assert f"{CLEANUP} && {marker} && {rest}" in commands
        assert commands[-3:] == RESTART_STEPS and commands.count(RESTART_STEPS[1]) == 1
        assert RELOAD not in commands


def test_unchanged_daemon_options_no_restart(recorder):
    content = render_host.options_file("KEEPALIVED_OPTIONS", ("--log-detail",))
    state = converged("rocky", up_to_date_state() + [
        f"{sha256(content)}  /etc/sysconfig/keepalived"],
        group_data={"keepalived_daemon_options": ["--log-detail"]})
    for host in deploy(state):
        assert op_commands(host, recorder) == []


def test_daemon_options_unset_leave_the_packaged_file_alone(recorder):
    state = converged("rocky", up_to_date_state() + [
        f"{sha256('anything')}  /etc/sysconfig/keepalived"])
    for host in deploy(state):
        assert not any("sysconfig" in c for c in sent(host, recorder))


# -- removal (for the uninstall deploy) --

HOST_STATE_FACT = ": keepalived-host-state"  # host_level.remove reads this fact alone


def removal(state_lines):
    state = make_state("debian", responses={name: {HOST_STATE_FACT: state_lines}
                                            for name in HOSTS})
    add_deploy(state, host_level.remove)
    run_ops(state)
    return list(state.inventory)


def test_remove_takes_out_rules_dropin_sysctl_and_needrestart_snippet(recorder):
    content = render_host.sysctl_file(("ipv4",))
    lines = host_state(files={FIREWALL_COMMAND: FIREWALL_SCRIPT, DROPIN: DROPIN_CONTENT,
                              SYSCTL_FILE: content}, sysctl_lines=content.splitlines())
    for host in removal(lines):
        # each command under the deploy lock (the uninstall deploy's step)
        commands, whats = zip(*[unlocked(command) for command in op_commands(host, recorder)])
        assert set(whats) == {"uninstall: remove the host level"}
        assert commands[0].startswith("sh -c ") and commands[0].endswith("vrrp-firewall remove")
        assert commands[1:] == (f"rm -f {FIREWALL_COMMAND}", f"rm -f {SYSCTL_FILE}",
                                "sysctl -q -w net.ipv4.ip_nonlocal_bind=0",
                                f"rm -f {DROPIN}", "systemctl daemon-reload",
                                # its directories too, where that leaves them empty
                                f"rm -f {NEEDRESTART_CONF} && rmdir --ignore-fail-on-non-empty "
                                "/etc/needrestart/conf.d /etc/needrestart")


def test_host_state_command_as_a_real_shell_runs_it(tmp_path):
    """The fact's command, run by sh, reads back as asked: the scripted answers above are
    in the format the real command prints."""
    read, hashed = tmp_path / "60-x.conf", tmp_path / "hashed"
    read.write_text("net.ipv4.ip_nonlocal_bind = 1\nkey: value\n")
    hashed.write_text("content\n")
    fact = KeepalivedHostLevel()
    command = fact.command(firewall_status="echo 'nftables missing'",
                           files=[str(hashed), str(tmp_path / "missing")],
                           read=[str(read), str(tmp_path / "gone")],
                           sysctls=["kernel.ostype"], unit=False)
    result = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    state = fact.process(result.stdout.splitlines())
    assert (state.firewall, state.firewall_ok) == ("nftables", False)
    assert state.sha256 == {str(hashed): sha256("content\n")}
    assert state.lines == {str(read): ["net.ipv4.ip_nonlocal_bind = 1", "key: value"]}
    assert state.sysctl == {"kernel.ostype": "Linux"}


def test_remove_on_a_clean_host_does_nothing(recorder):
    for host in removal(host_state(needrestart=False)):
        assert op_commands(host, recorder) == []


def test_dropin_path():
    assert os.path.dirname(DROPIN) == "/etc/systemd/system/keepalived.service.d"


# -- how files go up (operations.uploads) --

def test_upload_goes_through_a_private_dir_as_the_login_user():
    """mkdir 700 and the SFTP upload as the login user (its own dir, readable by no one
    else); then ONE command, under the run's sudo, installs the file root-owned with its
    mode and runs what follows, and the dir goes when it ends (a trap: also on failure).
    A new dir for every upload."""
    first = list(uploads.upload("/etc/x.conf", "secret\n", "600", then=("echo", "done")))
    mkdir, upload, install = first
    directory = str(mkdir).split()[-1]
    assert str(mkdir) == f"mkdir -m 700 {directory}"
    assert directory.startswith("/var/tmp/keepalived-deploy.")
    assert isinstance(upload, FileUploadCommand)
    assert upload.dest == f"{directory}/0" and upload.src.read() == "secret\n"
    # not through sudo, su, doas or dzdo, whichever the run uses
    for escalation in ("_sudo", "_su_user", "_doas", "_dzdo", "_sudo_user"):
        assert not mkdir.connector_arguments[escalation]
        assert not upload.connector_arguments[escalation]
    assert str(install) == (f"{cleanup(directory)} && "
                            f"install -o root -g root -m 600 {directory}/0 /etc/x.conf && "
                            "echo done")
    assert install.connector_arguments == {}  # the run's own (sudo)
    second = list(uploads.upload("/etc/x.conf", "secret\n", "600"))
    assert str(second[0]) != str(mkdir)


@pytest.mark.parametrize("signal_name, code", [("HUP", 129), ("INT", 130), ("TERM", 143)])
def test_private_dir_goes_when_a_signal_ends_the_command_under_dash(tmp_path, signal_name,
                                                                    code):
    """A dropped SSH link (SIGHUP), a Ctrl-C or a stop (TERM) sent to the command's process
    group while a step runs: under dash, Debian's /bin/sh, which skips an EXIT trap when a
    signal kills it, the upload dir with its secret still goes, and the shell exits with
    the signal's code."""
    directory = tmp_path / "keepalived-deploy.x"
    directory.mkdir(mode=0o700)
    (directory / "0").write_text("auth_pass secret\n")
    words = uploads.installing(str(directory), [["sleep", "30"], ["echo", "not reached"]])
    shell = subprocess.Popen(["dash", "-c", str(StringCommand(*words))], text=True,
                             stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert wait_for(lambda: subprocess.run(["pgrep", "-g", str(shell.pid), "-x", "sleep"],
                                               capture_output=True).returncode == 0,
                        timeout=10)  # (a step runs)
        os.killpg(shell.pid, getattr(signal, f"SIG{signal_name}"))
        output, _ = shell.communicate(timeout=10)
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
    assert (shell.returncode, output) == (code, "")
    assert not directory.exists()


def test_private_dir_goes_even_when_the_install_fails(tmp_path):
    """The command's trap removes the upload dir (with a secret in it) on failure too."""
    directory = tmp_path / "keepalived-deploy.x"
    directory.mkdir(mode=0o700)
    (directory / "0").write_text("auth_pass secret\n")
    words = uploads.installing(str(directory), [["false"], ["echo", "not reached"]])
    result = subprocess.run(["sh", "-c", str(StringCommand(*words))], capture_output=True,
                            text=True)
    assert result.returncode != 0 and "not reached" not in result.stdout
    assert not directory.exists()
