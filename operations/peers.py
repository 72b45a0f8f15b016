"""Checks across hosts: the peers of one VRRP instance must agree, and failover must work.

Hosts share an instance when their instances have the same name. keepalived checks none
of this (each host sees only its own config), so these mistakes otherwise show up as a
split brain or a failover that never happens.
"""

import dataclasses
from collections import defaultdict

from .problems import Problems
from .validate_instance import UNICAST_FROM_INVENTORY

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
}


def _peers_by_instance(all_settings):
    """{instance name: [(host, index, instance), ...]}"""
    peers = defaultdict(list)
    for settings in all_settings:
        for index, instance in enumerate(settings.instances):
            peers[instance.name].append((settings.host, index, instance))
    return peers


def _compared(instance, attribute):
    """What peers must have alike: VIP addresses in any order (their dev may differ per
    host), and unicast or not (each host lists the others, so the lists differ)."""
    value = getattr(instance, attribute)
    if attribute == "virtual_ipaddresses":
        return sorted(vip.address for vip in value)
    if attribute == "unicast_peers":
        return "multicast" if value is None else "unicast"
    return value


def _shown(attribute, value):
    return "<hidden>" if attribute == "auth_pass" else value


def check_agreement(problems, name, peers):
    first_host, _, first = peers[0]
    for host, index, instance in peers[1:]:
        for attribute, consequence in MUST_AGREE.items():
            mine, theirs = _compared(instance, attribute), _compared(first, attribute)
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


def check_peers(all_settings):
    """Return {host: Problems} for every problem between hosts."""
    problems = {settings.host: Problems(settings.host) for settings in all_settings}
    scripts = {settings.host: {script.vrrp_name: script for script in settings.scripts}
               for settings in all_settings}
    for name, peers in _peers_by_instance(all_settings).items():
        if len(peers) > 1:
            check_agreement(problems, name, peers)
        check_failover(problems, name, peers, scripts)
    return problems


def derive_unicast_peers(settings_by_host, problems):
    """Fill in `unicast_peers: "inventory"`: each host's peers are the unicast_src_ip of the
    other hosts that have the instance. Returns {host: Settings}; errors go to `problems`."""
    peers = _peers_by_instance(settings_by_host.values())
    derived = {}
    for host, settings in settings_by_host.items():
        instances = []
        for index, instance in enumerate(settings.instances):
            if instance.unicast_peers == UNICAST_FROM_INVENTORY:
                addresses = _other_addresses(problems, host, index, instance,
                                             peers[instance.name])
                instance = dataclasses.replace(instance, unicast_peers=addresses)
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
