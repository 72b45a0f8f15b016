"""Checks across hosts: the peers of one VRRP instance must agree, and failover must work.

Instances of different hosts are one virtual router (peers) when any of these holds:

- they have the same name;
- they send each other adverts by unicast: one's unicast_src_ip is in the other's
  unicast_peers;
- they have the same VRID and address family, and the networks of their VIPs (each VIP's
  address with its prefix) overlap, unless both are unicast (unicast adverts go only to
  the peers listed). The deploy cannot see the hosts' real networks before touching them,
  so "the same network" is the one the VIPs are in: a VIP lives on the segment of the
  interface it is added to, and hosts that share a VIP network and a VRID hear each
  other's adverts. Interface names are not compared across hosts (eth0 on one host, ens18
  on the next, same segment); on one host, one interface is one network (see
  validate.py: one VRID per family and interface).

keepalived checks none of this (each host sees only its own config), so these mistakes
otherwise show up as a split brain or a failover that never happens.
"""

import dataclasses
import ipaddress
from collections import defaultdict

from .instance import UNICAST_FROM_INVENTORY
from .keys import VRRP_GROUPS
from .problems import Problems
from .tracking import first_verdict_seconds

# Attributes every peer of an instance must have alike, with what goes wrong otherwise.
MUST_AGREE = {
    "virtual_router_id": "peers with different VRIDs ignore each other: both become MASTER",
    "virtual_ipaddresses": "peers would move different addresses",
    "advert_int": "keepalived drops adverts whose interval differs from its own",
    "auth_type": "peers reject each other's adverts: both become MASTER",
    "auth_pass": "peers reject each other's adverts: both become MASTER",
    "effective_version": "VRRPv2 and VRRPv3 adverts do not match: both become MASTER (set "
                         "vrrp_version or version alike)",
    "unicast_peers": "a multicast peer never hears a unicast one: both become MASTER",
    "multicast_group": "peers sending their adverts to different multicast groups "
                       "(keepalived_global_defs' vrrp_mcast_group4/6) never hear each "
                       "other: both become MASTER",
}


def peers_by_instance(all_settings):
    """{instance name: [(host, index, instance), ...]}, in inventory order."""
    peers = defaultdict(list)
    for settings in all_settings:
        for index, instance in enumerate(settings.instances):
            peers[instance.name].append((settings.host, index, instance))
    return peers


def holders(settings_by_host):
    """{instance name: ([vip address], [host])}: the hosts configured for each instance
    (those that can hold its VIPs) and its VIPs' addresses, without prefix, in inventory
    order (`settings_by_host`: {host: Settings})."""
    return {name: (list(dict.fromkeys(vip.address.split("/")[0] for _, _, instance in peers
                                      for vip in instance.virtual_ipaddresses)),
                   [host for host, _, _ in peers])
            for name, peers in peers_by_instance(settings_by_host.values()).items()}


def master_down_interval(instance, priority=None):
    """Seconds a backup of `instance` at `priority` (default: its configured one) waits
    without an advert before it becomes MASTER (RFC 3768 / 5798 6.1): 3 x advert_int +
    Skew_Time, which is (256 - priority) / 256 s, in VRRPv3 times advert_int. Every
    instance starts as BACKUP, so this is also how long a start takes to elect a MASTER."""
    skew = (256 - (instance.priority if priority is None else priority)) / 256
    if instance.effective_version == 3:
        skew *= instance.advert_int
    return 3 * instance.advert_int + skew


def settle_seconds(settings_by_host, name):
    """Seconds instance `name` may take, from a start, reload or restart of its hosts
    (`settings_by_host`: {host: Settings}), to elect its MASTER: the longest of its hosts'
    Master_Down_Interval, plus its tracked check scripts' first verdict
    (tracking.first_verdict_seconds) and its preempt_delay. (The caller adds a margin.)"""
    longest = 0.0
    for settings in settings_by_host.values():
        for instance in settings.instances:
            if instance.name != name:
                continue
            longest = max(longest, master_down_interval(instance)
                          + first_verdict_seconds(instance, settings.scripts)
                          + (instance.preempt_delay or 0))
    return longest


def vip_networks(instance):
    """The networks of the instance's VIPs (each address with its prefix; none: a host
    address), in the order given, without repeats."""
    networks = [ipaddress.ip_interface(vip.address).network
                for vip in instance.virtual_ipaddresses]
    return list(dict.fromkeys(networks))


def _is_unicast(instance):
    return instance.unicast_peers is not None


def _sends_to(instance, other):
    """`instance` lists `other`'s address among its unicast peers."""
    return (isinstance(instance.unicast_peers, tuple) and other.unicast_src_ip is not None
            and other.unicast_src_ip in instance.unicast_peers)


def link(mine, theirs):
    """Why two instances of different hosts are one virtual router (a phrase), or None."""
    if mine.name == theirs.name:
        return "the same name"
    for sender, receiver in ((mine, theirs), (theirs, mine)):
        if _sends_to(sender, receiver):
            return (f"unicast: {sender.unicast_src_ip} sends its adverts to "
                    f"{receiver.unicast_src_ip}")
    if (mine.virtual_router_id != theirs.virtual_router_id or mine.family != theirs.family
            or (_is_unicast(mine) and _is_unicast(theirs))):
        return None
    for network in vip_networks(mine):
        for other in vip_networks(theirs):
            if network.overlaps(other):
                shown = network if network.prefixlen <= other.prefixlen else other
                return f"same VRID {mine.virtual_router_id} and VIP network {shown}"
    return None


def virtual_routers(all_settings):
    """Groups of [(host, index, instance), ...] that are one virtual router (see the module
    docstring), in inventory order; an instance no other host shares is a group alone."""
    nodes = [(settings.host, index, instance) for settings in all_settings
             for index, instance in enumerate(settings.instances)]
    parent = list(range(len(nodes)))

    def root(number):
        while parent[number] != number:
            parent[number] = parent[parent[number]]
            number = parent[number]
        return number

    for first, (host, _, mine) in enumerate(nodes):
        for second in range(first + 1, len(nodes)):
            other_host, _, theirs = nodes[second]
            if other_host != host and link(mine, theirs):
                parent[root(second)] = root(first)
    groups = defaultdict(list)
    for number, node in enumerate(nodes):
        groups[root(number)].append(node)
    return list(groups.values())


def compared(instance, attribute):
    """What peers must have alike: VIP addresses in any order (their dev may differ per
    host), and unicast or not (each host lists the others, so the lists differ)."""
    value = getattr(instance, attribute)
    if attribute == "virtual_ipaddresses":
        return sorted(vip.address for vip in value)
    if attribute == "unicast_peers":
        return "multicast" if value is None else "unicast"
    if attribute == "multicast_group":
        return value or VRRP_GROUPS[instance.family]
    return value


def agreement(instance):
    """The text of what every peer of `instance` must have alike (MUST_AGREE, as
    `compared`), one attribute a line: two hosts whose texts differ drop each other's
    adverts. (It holds auth_pass: a secret when the instance has one.)"""
    def text(value):
        return " ".join(value) if isinstance(value, list) else value

    return "".join(f"{attribute} {text(agreed(instance, attribute))}\n"
                   for attribute in MUST_AGREE  # a default multicast group: no line
                   if attribute != "multicast_group" or instance.multicast_group)


def agreed(instance, attribute):
    """`compared`, but for a unicast instance its addresses: {unicast_src_ip} and its
    peers, sorted (the same set on every peer when each sets its source address), so
    that an address change goes live on the peers together."""
    if attribute == "unicast_peers" and instance.unicast_peers is not None:
        return sorted({str(address) for address in instance.unicast_peers}
                      | ({str(instance.unicast_src_ip)} if instance.unicast_src_ip else set()))
    return compared(instance, attribute)


def _shown(attribute, value):
    return "<hidden>" if attribute == "auth_pass" else value


def _why(peers, position):
    """(the earlier peer, why) that `peers[position]` is one virtual router with: the first
    peer if directly, else the first earlier one that is."""
    host, _, instance = peers[position]
    for other_host, _, other in peers[:position]:
        reason = other_host != host and link(instance, other)
        if reason:
            return other_host, other, reason
    return None, None, None


def check_agreement(problems, name, peers):
    first_host, _, first = peers[0]
    for position, (host, index, instance) in enumerate(peers[1:], start=1):
        if host == first_host:
            continue  # two instances of one host (validate.py checks those)
        if instance.name != name:
            other_host, other, reason = _why(peers, position)
            problems[host].error(
                f"keepalived_vrrp_instances[{index}].name", instance.name,
                f"is {other_host}'s {other.name} under another name ({reason}): keepalived "
                "pairs them, but status.py, drill.py and unicast_peers: \"inventory\" find "
                "the hosts of an instance by its name; use the same name on every host")
        for attribute, consequence in MUST_AGREE.items():
            mine, theirs = compared(instance, attribute), compared(first, attribute)
            if mine != theirs:
                problems[host].error(
                    f"keepalived_vrrp_instances[{index}].{attribute}", _shown(attribute, mine),
                    f"differs from {first_host}'s {name} ({_shown(attribute, theirs)}): "
                    f"{consequence}; use the same value on every host")


def effective_priority(instance, scripts_by_name, failing=None):
    """Priority while `failing` (a vrrp_name or None) fails and every other check passes."""
    priority = instance.priority
    for name in instance.track_scripts:
        weight = scripts_by_name[name].weight or 0
        if name == failing and weight < 0:
            priority += weight
        elif name != failing and weight > 0:
            priority += weight
    return max(1, min(254, priority))


def check_failover(problems, name, peers, scripts):
    """A failing check on a host must drop it strictly below the next host, or nothing moves."""
    healthy = sorted(
        ((effective_priority(instance, scripts[host]), host, index, instance)
         for host, index, instance in peers),
        key=lambda peer: peer[0], reverse=True,
    )
    for position, (priority, host, index, instance) in enumerate(healthy):
        if position > 0 and priority == healthy[position - 1][0]:
            problems[host].warn(
                f"keepalived_vrrp_instances[{index}].priority", instance.priority,
                f"{name} has the same effective priority {priority} on {healthy[position - 1][1]}"
                ": the higher IP address wins, which is rarely what you meant; give each "
                "host its own priority")
        below = healthy[position + 1:]
        if not below:
            continue
        next_priority, next_host = below[0][0], below[0][1]
        for check in instance.track_scripts:
            script = scripts[host][check]
            if not script.weight:
                continue  # weight 0: a failing check puts the instance into FAULT: it moves
            failed = effective_priority(instance, scripts[host], failing=check)
            if failed >= next_priority:
                needed = priority - next_priority + 1
                script_index = list(scripts[host]).index(check)
                problems[host].warn(
                    f"keepalived_check_scripts[{script_index}].weight", script.weight,
                    f"when {check} fails on {host}, {name} drops from {priority} to {failed}, "
                    f"not below {next_host}'s {next_priority}, so the VIP never moves (a backup "
                    f"takes over only with a strictly higher priority). Use weight -{needed} or "
                    "lower, or narrow the priority gap")


def check_alone(problems, peers):
    """A warning for an instance no other host of the inventory shares: nothing takes its
    VIPs over (legitimate when its backup is not in this inventory, or there is none)."""
    host, index, instance = peers[0]
    networks = ", ".join(map(str, vip_networks(instance)))
    problems[host].warn(
        f"keepalived_vrrp_instances[{index}].name", instance.name,
        f"{instance.name} (VRID {instance.virtual_router_id} on {networks}) is on {host} "
        "only: no other host of the inventory has an instance of that name, or of that "
        "VRID on that network, so nothing takes over its VIPs when it fails; add it to "
        "the hosts meant to back it up, or ignore this if its backup is outside this "
        "inventory")


def check_peers(all_settings):
    """Return {host: Problems} for every problem between hosts."""
    problems = {settings.host: Problems(settings.host) for settings in all_settings}
    scripts = {settings.host: {script.vrrp_name: script for script in settings.scripts}
               for settings in all_settings}
    for peers in virtual_routers(all_settings):
        name = peers[0][2].name
        if len({host for host, _, _ in peers}) > 1:
            check_agreement(problems, name, peers)
        elif len(all_settings) > 1:
            check_alone(problems, peers)
        check_failover(problems, name, peers, scripts)
    return problems


def derive_unicast_peers(settings_by_host, problems):
    """Fill in `unicast_peers: "inventory"`: each host's peers are the unicast_src_ip of the
    other hosts that have the instance. Returns {host: Settings}; errors go to `problems`."""
    peers = peers_by_instance(settings_by_host.values())
    derived = {}
    for host, settings in settings_by_host.items():
        instances = []
        for index, instance in enumerate(settings.instances):
            if instance.peers_from_inventory:
                addresses = _other_addresses(problems, host, index, instance,
                                             peers[instance.name])
                instance = instance.model_copy(update={"unicast_peers": addresses})
            instances.append(instance)
        derived[host] = dataclasses.replace(settings, instances=tuple(instances))
    return derived


def _other_addresses(problems, host, index, instance, peers):
    key = f"keepalived_vrrp_instances[{index}].unicast_peers"
    others = [(other, instance_of_other) for other, _, instance_of_other in peers
              if other != host]
    if not others:
        problems[host].error(key, UNICAST_FROM_INVENTORY, f"no other host of the inventory has "
                             f"{instance.name}, so there are no peers to derive; add its peers "
                             "to the inventory, or list their addresses")
    addresses = []
    for other, theirs in others:
        if theirs.unicast_src_ip is None:
            problems[host].error(key, UNICAST_FROM_INVENTORY, f"the address of peer {other} "
                                 "is not known: set its keepalived_unicast_src_ip (or its "
                                 f"ssh_hostname to an IP address, or unicast_src_ip on its "
                                 f"{instance.name})")
        elif theirs.unicast_src_ip in (instance.unicast_src_ip, *addresses):
            problems[host].error(key, UNICAST_FROM_INVENTORY, f"peer {other} has the address "
                                 f"{theirs.unicast_src_ip} of another host of {instance.name}; "
                                 "each host needs its own unicast_src_ip")
        else:
            addresses.append(theirs.unicast_src_ip)
    return tuple(addresses)
