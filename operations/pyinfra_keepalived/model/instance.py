"""Read one `keepalived_vrrp_instances[]` entry, and a host's sync groups, into Settings.

Called by `pyinfra_keepalived.model.validate.read_host`; the same rules apply as there: errors for what
keepalived would reject or silently change, warnings (naming the fix) for what it accepts
but is probably a mistake. Checks that need other hosts are in `pyinfra_keepalived.model.peers`.
"""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, replace

from .commands import command_problem, read_command
from .keys import (
    GroupName,
    SyncGroup,
    TrackInterface,
    VirtualIp,
    VirtualRoute,
    VrrpInstance,
)
from .problems import did_you_mean, public_keys
from .readers import (
    address_family,
    read_extra_lines,
    read_mapping,
)
from .reading import read_block, read_value

INSTANCE_KEYS = VrrpInstance.keys()
UNICAST_FROM_INVENTORY = "inventory"
VIP_OPTIONS = VirtualIp.keys()
ROUTE_OPTIONS = VirtualRoute.keys()
TRACK_OPTIONS = TrackInterface.keys()
SYNC_GROUP_KEYS = SyncGroup.keys()


@dataclass(frozen=True)
class HostContext:
    """What an instance of one host may refer to, read before its instances."""

    script_names: frozenset  # vrrp_names of the check scripts
    notify_paths: dict  # notify script file name -> path on the host
    vrrp_version: int  # global_defs' vrrp_version (2 unless set)
    address: str | None  # the host's own VRRP address for unicast, if known
    address_key: str  # where that address came from, for messages
    state: str | None = None  # keepalived_state, validated (None: unset or refused)
    priority: int | None = None  # keepalived_priority, validated (None: unset or refused)
    priority_refused: bool = False  # keepalived_priority was given and refused


# Their values may be shown inside a mapping that a message shows (pyinfra_keepalived.model.problems).
public_keys(INSTANCE_KEYS, VIP_OPTIONS, ROUTE_OPTIONS, SYNC_GROUP_KEYS, TRACK_OPTIONS)


# -- rules between an instance's keys --

def check_vips(problems, where, instance):
    """One family for the VIPs; no address twice, in either list; a VIP without prefix
    and a label that ip(8) does not expect are warnings, a label on IPv6 an error."""
    vips, excluded = instance.virtual_ipaddresses, instance.virtual_ipaddresses_excluded
    if len({address_family(vip.address) for vip in vips}) > 1:
        problems.error(f"{where}.virtual_ipaddresses", [str(vip) for vip in vips],
                       "mixes IPv4 and IPv6: keepalived keeps only one family per instance; "
                       "put the IPv6 addresses in an instance of their own (or in "
                       "virtual_ipaddresses_excluded)")
    seen = set()
    for key, listed in (("virtual_ipaddresses", vips), ("virtual_ipaddresses_excluded", excluded)):
        for i, vip in enumerate(listed):
            address = ipaddress.ip_interface(vip.address)
            if address.ip in seen:
                problems.error(f"{where}.{key}", [str(vip) for vip in listed],
                               f"lists {address.ip} twice")
            seen.add(address.ip)
            if "/" not in vip.address:
                problems.warn(f"{where}.{key}[{i}]", str(vip),
                              f"no prefix: keepalived adds it as /{address.network.prefixlen}; "
                              "write the subnet's prefix, e.g. "
                              f"{address.ip}/{24 if address.version == 4 else 64}")
            device = vip.dev or instance.interface
            if vip.label and address.version == 6:
                problems.error(f"{where}.{key}[{i}].label", vip.label,
                               "IPv6 addresses have no labels")
            elif vip.label and not vip.label.startswith(f"{device}:"):
                problems.warn(f"{where}.{key}[{i}].label", vip.label, "ip(8) wants a label "
                              f"that starts with the interface name: use {device}:NAME")


def check_routes(problems, where, instance):
    """A route's via and src are of its family; its dev defaults to the instance's
    interface. The routes, or None after an error."""
    routes = []
    for i, route in enumerate(instance.virtual_routes):
        family = None if route.to == "default" else ipaddress.ip_network(route.to).version
        for option in ("via", "src"):
            ip = getattr(route, option)
            version = ip and ipaddress.ip_address(ip).version
            if ip is not None and family is not None and version != family:
                problems.error(f"{where}.virtual_routes[{i}].{option}", ip,
                               f"is IPv{version} but the route is IPv{family}")
                return None
        routes.append(route if route.dev else route.model_copy(
            update={"dev": instance.interface}))
    return tuple(routes)


def check_track_interfaces(problems, where, instance):
    for i, track in enumerate(instance.track_interfaces):
        if track.interface == instance.interface:
            problems.error(f"{where}.track_interfaces[{i}].interface", track.interface,
                           "is the instance's own interface, which keepalived always tracks "
                           "(and ignores here); list other interfaces")


def check_advert_int(problems, key, advert_int, version):
    if version == 3:
        if advert_int > 40.95 or advert_int < 0.01 or round(advert_int * 100, 6) % 1:
            problems.error(key, advert_int, "VRRPv3 adverts are 0.01-40.95 seconds in steps "
                           "of 0.01 (keepalived rounds anything else)")
    elif advert_int != int(advert_int) or advert_int > 255:
        problems.error(key, advert_int, "VRRPv2 adverts are whole seconds 1-255 (keepalived "
                       "rounds anything else); sub-second adverts need VRRP version 3 "
                       "(version: 3 here, or vrrp_version: 3 in keepalived_global_defs)")


def check_auth(problems, where, instance, version):
    if instance.auth_type is None:
        return
    if version == 3:
        problems.error(f"{where}.auth_type", instance.auth_type, "VRRP version 3 (also every "
                       "IPv6 instance) has no authentication: keepalived ignores it; remove "
                       "auth_type and auth_pass")
    if instance.auth_pass is None:
        problems.error(f"{where}.auth_pass", None,
                       f"required with auth_type {instance.auth_type}")


def check_preemption(problems, where, instance):
    """nopreempt and preempt_delay only work from state BACKUP."""
    nopreempt, delay = instance.nopreempt, instance.preempt_delay
    for key, value in (("nopreempt", nopreempt), ("preempt_delay", delay)):
        if value and instance.state == "MASTER":
            problems.error(f"{where}.{key}", value, "needs state BACKUP: keepalived clears it "
                           "for an initial state MASTER; set state BACKUP on every host (the "
                           "highest priority still wins the first election)")
    if nopreempt and instance.priority == 255:
        problems.error(f"{where}.nopreempt", True, "keepalived clears nopreempt at priority "
                       "255 (the address owner always preempts); use priority 1-254")
    if nopreempt and delay is not None:
        problems.error(f"{where}.preempt_delay", delay, "has no effect with nopreempt "
                       "(keepalived -t refuses the pair); remove one of them")


def check_unicast(problems, where, instance, family, context):
    """(unicast_src_ip, unicast_peers): peers are addresses, none yet for "inventory"
    (peers.py derives them from the other hosts of the instance); None after an error."""
    peers_value, src = instance.unicast_peers, instance.unicast_src_ip
    if peers_value is None:
        if src is not None:
            problems.error(f"{where}.unicast_src_ip", src, "needs unicast_peers (a list of "
                           f"addresses, or {UNICAST_FROM_INVENTORY!r}): without peers "
                           "keepalived ignores it and uses multicast")
            return None
        return None, None
    src_key = f"{where}.unicast_src_ip" if src is not None else context.address_key
    src = src or context.address
    if src is not None and ipaddress.ip_address(src).version != family:
        problems.error(src_key, src, f"is IPv{ipaddress.ip_address(src).version} "
                       f"but the instance is IPv{family}: keepalived drops unicast peers of "
                       f"the other family; set an IPv{family} unicast_src_ip on the instance "
                       "(or keepalived_unicast_src_ip)")
        return None
    if peers_value == UNICAST_FROM_INVENTORY:
        if src is None:
            problems.error("keepalived_unicast_src_ip", None, f"required for {where}."
                           f"unicast_peers {UNICAST_FROM_INVENTORY!r}: the host's own VRRP "
                           "address is not known (set keepalived_unicast_src_ip, or "
                           "ssh_hostname to an IP address, or unicast_src_ip on the instance)")
        return src, ()
    if not peers_value:
        problems.error(f"{where}.unicast_peers", list(peers_value), "required: at least one "
                       f"peer address, or {UNICAST_FROM_INVENTORY!r}")
    peers = []
    for i, peer in enumerate(peers_value):
        version = ipaddress.ip_address(peer).version
        if version != family:
            problems.error(f"{where}.unicast_peers[{i}]", peer, f"is IPv{version} but "
                           f"the instance is IPv{family}: keepalived drops it")
        elif peer in peers:
            problems.error(f"{where}.unicast_peers[{i}]", peer, "is listed twice")
        elif peer == src:
            problems.warn(f"{where}.unicast_peers[{i}]", peer, "is this host's own address "
                          f"(unicast_src_ip); leave it out, or use unicast_peers "
                          f"{UNICAST_FROM_INVENTORY!r} to derive the peers")
        else:
            peers.append(peer)
    return src, tuple(peers)


def check_track_scripts(problems, where, instance, context):
    for i, script in enumerate(instance.track_scripts):
        if script not in context.script_names:
            defined = ", ".join(sorted(context.script_names)) or "none"
            problems.error(f"{where}.track_scripts[{i}]", script,
                           "names no check script in keepalived_check_scripts (track by their "
                           f"vrrp_name){did_you_mean(script, context.script_names)}; "
                           f"defined: {defined}")


def read_notify(problems, where, commands, context):
    """{keyword: command} of the notify `commands` ((keyword, value), ... of an instance,
    a sync group or global_defs' FIFO scripts): a script of keepalived_notify_scripts (its
    path on the host) or a program (model.commands), and the arguments."""
    notify = {}
    for keyword, value in commands:
        key = f"{where}.{keyword}"
        words = value.split()
        name = words[0] if words else None
        defined = ", ".join(sorted(context.notify_paths)) or "none"
        hint = did_you_mean(name, context.notify_paths)
        if name not in context.notify_paths and hint:  # (a typo, not a program)
            problems.error(key, value, "must name a script of keepalived_notify_scripts, "
                           f"optionally followed by arguments{hint}; defined: {defined}")
            continue
        wrong = name not in context.notify_paths and command_problem(value)
        if wrong:
            problems.error(key, value, f"{wrong} (or name a script of "
                           f"keepalived_notify_scripts; defined: {defined})")
            continue
        command = read_command(problems, key, value)
        if command is not None:
            notify[keyword] = str(replace(command, program=context.notify_paths.get(
                command.program, command.program)))
    return notify


def check_priority(problems, where, instance):
    if instance.priority is None:
        problems.error(f"{where}.priority", None,
                       "required: 1-255, here or as keepalived_priority in the host's data")
    elif instance.priority == 255 and instance.track_scripts:
        problems.error(f"{where}.priority", 255, "255 makes this host the address owner, and "
                       "keepalived then ignores track_scripts weights; use 1-254")
    elif instance.priority == 255:
        problems.warn(f"{where}.priority", 255, "255 marks the address owner (the host whose "
                      "own address is the VIP): it always preempts at once; use 1-254 otherwise")


# -- the instance --

def read_instance(problems, index, item, data, context):
    """One `keepalived_vrrp_instances[]` entry (`VrrpInstance`, in one model_validate; its
    state and priority default to the host's), then the rules between its keys; the
    values derived from them (the effective version, the peers, the notify commands,
    the routes' dev) in their place. None after an error."""
    where = f"keepalived_vrrp_instances[{index}]"
    if not isinstance(item, Mapping):
        problems.error(where, item, "must be a mapping with name, interface, "
                       "virtual_router_id, priority and virtual_ipaddresses")
        return None
    values = dict(item)
    # the host's defaults, reported under their own keys when they are what is wrong
    # (validate.read_host: TYPED_KEYS)
    for name, default in (("state", context.state or "MASTER"), ("priority", context.priority)):
        if name not in item and default is not None:
            values[name] = default
    if item.get("auth_pass") is not None and item.get("auth_type") is None:
        values["auth_type"] = "PASS"
    extra_lines = read_extra_lines(problems, f"{where}.extra_lines", item.get("extra_lines", []))
    instance = read_block(problems, where, VrrpInstance, values, extra_lines=extra_lines)
    if instance is None:
        return None
    if instance.priority is None and context.priority_refused:
        return None  # keepalived_priority: reported
    errors = len(problems.errors)
    check_priority(problems, where, instance)
    check_vips(problems, where, instance)
    family = 6 if instance.native_ipv6 or address_family(
        instance.virtual_ipaddresses[0].address) == 6 else 4
    if instance.native_ipv6 and address_family(instance.virtual_ipaddresses[0].address) == 4:
        problems.error(f"{where}.native_ipv6", True, "makes the instance IPv6, and keepalived "
                       "then ignores its IPv4 virtual_ipaddresses; move them to an IPv4 "
                       "instance (or to virtual_ipaddresses_excluded)")
    if instance.version == 2 and family == 6:
        problems.error(f"{where}.version", 2, "IPv6 VRRP exists only as version 3: "
                       "keepalived silently uses 3; remove version or set 3")
    version = 3 if family == 6 else instance.version or context.vrrp_version
    check_advert_int(problems, f"{where}.advert_int", instance.advert_int, version)
    check_auth(problems, where, instance, version)
    check_preemption(problems, where, instance)
    unicast = check_unicast(problems, where, instance, family, context)
    check_track_scripts(problems, where, instance, context)
    check_track_interfaces(problems, where, instance)
    routes = check_routes(problems, where, instance)
    notify = read_notify(problems, where, instance.notify_commands, context)
    if len(problems.errors) > errors:
        return None
    unicast_src_ip, unicast_peers = unicast
    # what is derived from the validated keys
    instance = instance.model_copy(update={
        "effective_version": version, "unicast_src_ip": unicast_src_ip,
        "unicast_peers": unicast_peers,
        "peers_from_inventory": instance.unicast_peers == UNICAST_FROM_INVENTORY,
        "virtual_routes": routes, **notify})
    if instance.raw_addressing:
        problems.warn(f"{where}.extra_lines", list(extra_lines), f"sets "
                      f"{instance.raw_addressing}, which the host firewall rules cannot see: "
                      "they let this instance's VRRP in from anywhere; set unicast_peers "
                      "and unicast_src_ip instead")
    return instance


# -- sync groups --

def read_sync_groups(problems, value, instances, scripts):
    """`keepalived_sync_groups`: {name: {"instances": [instance names]}} (as in the role),
    each group read as a SyncGroup (`read_block`), then checked against the host's
    instances (`check_sync_group`)."""
    groups = read_mapping(problems, "keepalived_sync_groups", value)
    member_of = {}  # instance name -> its group
    result = []
    for group_name, given in groups.items():
        where = f"keepalived_sync_groups.{group_name}"
        read_value(problems, f"keepalived_sync_groups[{group_name!r}]", GroupName, group_name)
        group = read_block(problems, where, SyncGroup, given, name=str(group_name))
        if group is not None:
            check_sync_group(problems, where, group, instances, scripts, member_of)
            result.append(group)
    return tuple(result)


def check_sync_group(problems, where, group, instances, scripts, member_of):
    """Two or more instances of this host, each in one group only, none tracking with a
    weight (keepalived ignores weights in a sync group)."""
    by_name = {instance.name: instance for instance in instances}
    weights = {script.vrrp_name: script.weight for script in scripts}
    if len(group.instances) < 2:
        problems.error(f"{where}.instances", list(group.instances), "needs at least two "
                       "instances: keepalived drops a group of one")
    for i, member in enumerate(group.instances):
        key = f"{where}.instances[{i}]"
        if member not in by_name:
            problems.error(key, member, "is not an instance of this host"
                           f"{did_you_mean(member, by_name)}; instances: "
                           f"{', '.join(by_name) or 'none'}")
            continue
        if member in member_of:
            problems.error(key, member, f"is already in sync group {member_of[member]}: "
                           "an instance can be in one group only (keepalived ignores the "
                           "second)")
            continue
        member_of[member] = group.name
        instance = by_name[member]
        weighted = [f"track_scripts {name}" for name in instance.track_scripts
                    if weights.get(name)]
        weighted += [f"track_interfaces {track.interface}" for track in
                     instance.track_interfaces if track.weight]
        if weighted:
            problems.error(key, member, f"tracks with a weight ({', '.join(weighted)}): "
                           "keepalived ignores tracking weights in a sync group; use "
                           "weight 0 (unset: a failure means FAULT) in synced instances")
