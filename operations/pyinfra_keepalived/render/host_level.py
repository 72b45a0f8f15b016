"""Render the small host files around keepalived: systemd drop-in, sysctl, daemon options,
needrestart's config snippet.

Pure functions, no pyinfra (operations.host_level uploads what these return).
"""

from .config import keepalived_value

HEADER = "# Managed by pyinfra (keepalived deploy)"
NONLOCAL_BIND = {"ipv4": "net.ipv4.ip_nonlocal_bind", "ipv6": "net.ipv6.ip_nonlocal_bind"}
# Units that load a firewall ruleset at boot: the VRRP rule goes in after them.
FIREWALL_UNITS = "nftables.service netfilter-persistent.service firewalld.service"


def service_dropin(host_level, firewall_command=None):
    """keepalived.service drop-in: restart on failure, start once the network is up, and
    (with `firewall_command`) let VRRP through the firewall before each start."""
    lines = [f"{HEADER}: how systemd runs keepalived.", "[Unit]",
             "Wants=network-online.target", "After=network-online.target"]
    if firewall_command:
        lines.append(f"After={FIREWALL_UNITS}")
    lines += ["", "[Service]", f"Restart={host_level.restart}",
              f"RestartSec={keepalived_value(host_level.restart_sec)}"]
    if firewall_command:
        # "-": a firewall that cannot be changed must not keep keepalived down.
        lines.append(f"ExecStartPre=-{firewall_command}")
    return "\n".join(lines) + "\n"


def sysctl_file(families):
    """/etc/sysctl.d file that sets ip_nonlocal_bind for `families` ("ipv4", "ipv6")."""
    return "\n".join([f"{HEADER}: services may bind the VIP before this host holds it.",
                      *[f"{NONLOCAL_BIND[family]} = 1" for family in families]]) + "\n"


# The interface under a VRRP virtual MAC's macvlan must not give clients its own MAC for
# the VIP, which lives on the macvlan: arp_ignore 1 and arp_filter 1 (it answers no ARP
# for it: keepalived 2.2.7 sets both itself while the macvlan exists,
# keepalived/vrrp/vrrp_if_config.c) and arp_announce 2 (its own ARP requests name its
# own address, not the VIP: keepalived does not set it, and without it a client that a
# VIP holder asks for its MAC learns the interface's MAC for the VIP: seen on the test
# hosts).
VMAC_PARENT_SYSCTLS = {"arp_ignore": 1, "arp_filter": 1, "arp_announce": 2}


def vmac_interfaces(instances):
    """The interfaces under the macvlans of `instances` with use_vmac, each once, sorted."""
    return tuple(sorted({instance.interface for instance in instances
                         if instance.use_vmac is not False}))


def arp_sysctl_file(purpose, interfaces, values):
    """/etc/sysctl.d file that sets `values` ({key: value} of net/ipv4/conf/IFACE/) on
    `interfaces` (keys in the slash form: an interface name may hold a dot)."""
    return "\n".join([f"{HEADER}: {purpose}",
                      *[f"net/ipv4/conf/{interface}/{key} = {value}" for interface in interfaces
                        for key, value in values.items()]]) + "\n"


def vmac_sysctl_file(interfaces):
    """/etc/sysctl.d file that sets VMAC_PARENT_SYSCTLS on `interfaces`."""
    return arp_sysctl_file("the interfaces under VRRP virtual MACs give clients no MAC of "
                           "theirs for the VIPs.", interfaces, VMAC_PARENT_SYSCTLS)


# An LVS-DR real server holds the virtual addresses on lo and must never answer ARP for
# them (the director's VRRP master does): arp_ignore 1 (answer only for addresses of the
# interface asked on) and arp_announce 2 (its own ARP requests name an address of the
# interface they leave by, never a VIP), on all and on lo (the kernel uses the higher of
# all's and the interface's). IPv6 needs none: neighbour discovery answers only for
# addresses of the interface asked on.
DR_SYSCTLS = {"arp_ignore": 1, "arp_announce": 2}
DR_INTERFACES = ("all", "lo")


def dr_sysctl_file():
    """/etc/sysctl.d file of an LVS-DR real server (DR_SYSCTLS)."""
    return arp_sysctl_file("an LVS-DR real server answers no ARP for the virtual "
                           "addresses on its lo.", DR_INTERFACES, DR_SYSCTLS)


def host_prefix(address):
    """192.0.2.10 -> 192.0.2.10/32, 2001:db8::10 -> 2001:db8::10/128"""
    return f"{address}/{128 if ':' in address else 32}"


def dr_unit(vips):
    """The systemd unit that puts an LVS-DR real server's virtual addresses (`vips`, plain
    addresses) on lo at each boot (before the network is up: the real server's services
    may bind them), with `ip addr replace` (idempotent). No ExecStop: a stop or restart
    of the unit never takes an address away (the deploy removes those it dropped)."""
    return "\n".join([
        f"{HEADER}: the LVS-DR virtual addresses this real server accepts packets for.",
        "[Unit]", "Description=LVS direct-routing virtual addresses on lo",
        "DefaultDependencies=no", "After=systemd-sysctl.service",
        "Before=network-pre.target", "Wants=network-pre.target", "",
        "[Service]", "Type=oneshot", "RemainAfterExit=yes",
        *[f"ExecStart=/sbin/ip addr replace {host_prefix(vip)} dev lo" for vip in vips], "",
        "[Install]", "WantedBy=multi-user.target"]) + "\n"


DR_EXEC_PREFIX = "ExecStart=/sbin/ip addr replace "


def dr_unit_addresses(lines):
    """The addresses (ADDRESS/PREFIX) a dr_unit's `lines` (read from the host) put on lo."""
    return [line[len(DR_EXEC_PREFIX):].split()[0] for line in lines
            if line.startswith(DR_EXEC_PREFIX) and line.endswith(" dev lo")]


def options_file(variable, options):
    """/etc/default/keepalived (DAEMON_ARGS) or /etc/sysconfig/keepalived
    (KEEPALIVED_OPTIONS): keepalived's command line, read only when it starts."""
    return (f"{HEADER}: keepalived's options, read when it starts.\n"
            "# A change here restarts keepalived (VIPs move to a backup and back).\n"
            f'{variable}="{" ".join(options)}"\n')


def needrestart_conf():
    """/etc/needrestart/conf.d snippet (Perl, evaluated by needrestart as root after its
    needrestart.conf) that keeps needrestart from restarting keepalived itself: a host whose
    keepalived binary was replaced by a rollout that stopped before its restart would
    otherwise be restarted by the next apt run's needrestart, every such host at once.
    needrestart lists it under "Service restarts being deferred" instead."""
    return (f"{HEADER}: needrestart never restarts keepalived by itself.\n"
            "# A restart drops this host's VIPs: the deploy restarts keepalived, one host at a\n"
            "# time, on its next run (a restart it could not finish is marked pending).\n"
            "$nrconf{override_rc}{qr(^keepalived\\.service$)} = 0;\n")
