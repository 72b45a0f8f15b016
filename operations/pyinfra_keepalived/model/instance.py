"""Read one `keepalived_vrrp_instances[]` entry, and a host's sync groups, into Settings.

Called by `pyinfra_keepalived.model.validate.read_host`; the same rules apply as there: errors for what
keepalived would reject or silently change, warnings (naming the fix) for what it accepts
but is probably a mistake. Checks that need other hosts are in `pyinfra_keepalived.model.peers`.
"""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from .hidden import unhide
from .keys import (
    GroupName,
    IpAddress,
    SyncGroup,
    TrackInterface,
    VirtualIp,
    VirtualRoute,
    VrrpInstance,
    read_block,
    read_field,
    read_value,
    shorthand,
    vip_address_problem,
    whole_text,
)
from .problems import did_you_mean, public_keys
from .readers import (
    WORD_RE,
    read_extra_lines,
    read_list,
    read_mapping,
)

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


# Their values may be shown inside a mapping that a message shows (pyinfra_keepalived.model.problems).
public_keys(INSTANCE_KEYS, VIP_OPTIONS, ROUTE_OPTIONS, SYNC_GROUP_KEYS, TRACK_OPTIONS)


# -- entries written as "ADDRESS keyword value ..." or as a mapping --

def read_entry(problems, key, value, options):
    """A list entry given as a string ("192.168.1.100/24 dev eth1") or a mapping
    ({"address": "192.168.1.100/24", "dev": "eth1"}). Returns a dict of `options`
    (the first option is the positional one), or None after an error."""
    first = options[0]
    if isinstance(value, str):
        try:
            entry = shorthand(value, options)
        except ValueError:
            problems.error(key, value, f"must be {first.upper()} followed by keyword value "
                           f"pairs ({', '.join(options[1:])}), "
                           f"or a mapping of {', '.join(options)}")
            return None
    elif isinstance(value, Mapping):
        entry = dict(value)
    else:
        problems.error(key, value, f"must be a string or a mapping of {', '.join(options)}")
        return None
    unknown = [option for option in entry if option not in options]
    for option in unknown:
        problems.unknown_key(f"{key}.{option}", option, options, what="option")
    if first not in entry:
        problems.error(f"{key}.{first}", None, "required")
    return None if unknown or first not in entry else entry


def read_virtual_ip(problems, key, value, interface):
    entry = read_entry(problems, key, value, VIP_OPTIONS)
    if entry is None:
        return None
    text = entry["address"]
    wrong = vip_address_problem(text)
    if wrong:
        problems.error(key, value, wrong)
        return None
    address = ipaddress.ip_interface(str(text).strip())
    if "/" not in str(text):
        problems.warn(key, value,
                      f"no prefix: keepalived adds it as /{address.network.prefixlen}; "
                      "write the subnet's prefix, e.g. "
                      f"{address.ip}/{24 if address.version == 4 else 64}")
    options = {}
    if entry.get("dev") is not None:
        options["dev"] = read_field(problems, f"{key}.dev", VirtualIp, "dev", entry["dev"])
    if entry.get("label") is not None:
        options["label"] = label = read_field(problems, f"{key}.label", VirtualIp, "label",
                                              entry["label"])
        device = options.get("dev") or interface
        if label and address.version == 6:
            problems.error(f"{key}.label", label, "IPv6 addresses have no labels")
            options["label"] = None
        elif label and not label.startswith(f"{device}:"):
            problems.warn(f"{key}.label", label, "ip(8) wants a label that starts with the "
                          f"interface name: use {device}:NAME")
    if entry.get("scope") is not None:
        options["scope"] = read_field(problems, f"{key}.scope", VirtualIp, "scope",
                                      entry["scope"])
    if None in options.values():
        return None
    written = str(address) if "/" in str(text) else str(address.ip)
    return VirtualIp(address=written, **options)


def read_virtual_ips(problems, key, value, interface, required):
    """(VirtualIp, ...) of virtual_ipaddresses or virtual_ipaddresses_excluded."""
    if value is None and not required:
        return ()
    items = read_list(problems, key, value) if value is not None else []
    if required and not items:
        problems.error(key, value, "required: at least one virtual IP address")
    vips = [read_virtual_ip(problems, f"{key}[{i}]", text, interface)
            for i, text in enumerate(items)]
    vips = [vip for vip in vips if vip is not None]
    if len(vips) < len(items):
        return ()
    return tuple(vips)


def check_vip_lists(problems, where, vips, excluded):
    """One family for the VIPs; no address twice, in either list."""
    families = {_family(vip.address) for vip in vips}
    if len(families) > 1:
        problems.error(f"{where}.virtual_ipaddresses", [str(vip) for vip in vips],
                       "mixes IPv4 and IPv6: keepalived keeps only one family per instance; "
                       "put the IPv6 addresses in an instance of their own (or in "
                       "virtual_ipaddresses_excluded)")
    seen = set()
    for key, listed in (("virtual_ipaddresses", vips), ("virtual_ipaddresses_excluded", excluded)):
        for vip in listed:
            ip = ipaddress.ip_interface(vip.address).ip
            if ip in seen:
                problems.error(f"{where}.{key}", [str(vip) for vip in listed],
                               f"lists {ip} twice")
            seen.add(ip)


def _family(text):
    return ipaddress.ip_interface(text).version


def read_route(problems, key, value, interface):
    entry = read_entry(problems, key, value, ROUTE_OPTIONS)
    if entry is None:
        return None
    to = entry["to"]
    if read_field(problems, f"{key}.to", VirtualRoute, "to",
                  to if to == "default" else str(to)) is None:
        return None
    family = None if to == "default" else ipaddress.ip_network(str(to)).version
    route = {"to": to}
    for option in ("via", "src"):
        if entry.get(option) is not None:
            ip = read_field(problems, f"{key}.{option}", VirtualRoute, option, entry[option])
            version = ip and ipaddress.ip_address(ip).version
            if ip is not None and family is not None and version != family:
                problems.error(f"{key}.{option}", entry[option],
                               f"is IPv{version} but the route is IPv{family}")
                ip = None
            route[option] = ip
    route["dev"] = read_field(problems, f"{key}.dev", VirtualRoute, "dev",
                              entry.get("dev", interface))
    if entry.get("metric") is not None:
        route["metric"] = read_field(problems, f"{key}.metric", VirtualRoute, "metric",
                                     whole_text(entry["metric"]))
    if entry.get("table") is not None:
        route["table"] = read_field(problems, f"{key}.table", VirtualRoute, "table",
                                    str(entry["table"]))
    if entry.get("scope") is not None:
        route["scope"] = read_field(problems, f"{key}.scope", VirtualRoute, "scope",
                                    entry["scope"])
    if any(route.get(option) is None for option in entry):
        return None
    return VirtualRoute(**route)


def read_track_interface(problems, key, value, interface):
    entry = read_entry(problems, key, value, TRACK_OPTIONS)
    if entry is None:
        return None
    name = read_field(problems, f"{key}.interface", TrackInterface, "interface",
                      entry["interface"])
    weight = entry.get("weight")
    if weight is not None:
        weight = read_field(problems, f"{key}.weight", TrackInterface, "weight",
                            whole_text(weight))
    if name is not None and name == interface:
        problems.error(f"{key}.interface", name, "is the instance's own interface, which "
                       "keepalived always tracks (and ignores here); list other interfaces")
        return None
    if name is None or (entry.get("weight") is not None and weight is None):
        return None
    return TrackInterface(interface=name, weight=weight)


# -- the instance --

def read_advert_int(problems, key, value, version):
    advert_int = read_field(problems, key, VrrpInstance, "advert_int", value)
    if advert_int is None:
        return None
    if version == 3:
        if advert_int > 40.95 or advert_int < 0.01 or round(advert_int * 100, 6) % 1:
            problems.error(key, advert_int, "VRRPv3 adverts are 0.01-40.95 seconds in steps "
                           "of 0.01 (keepalived rounds anything else)")
            return None
    elif advert_int != int(advert_int) or advert_int > 255:
        problems.error(key, advert_int, "VRRPv2 adverts are whole seconds 1-255 (keepalived "
                       "rounds anything else); sub-second adverts need VRRP version 3 "
                       "(version: 3 here, or vrrp_version: 3 in keepalived_global_defs)")
        return None
    return advert_int


def read_auth(problems, where, item, version):
    auth_type = item.get("auth_type")
    auth_pass = unhide(item.get("auth_pass"))  # a pyinfra HiddenValue: its real value
    if auth_pass is not None and auth_type is None:
        auth_type = "PASS"
    if auth_type is None:
        return None, None
    auth_type = read_field(problems, f"{where}.auth_type", VrrpInstance, "auth_type",
                           auth_type)
    if auth_type is not None and version == 3:
        problems.error(f"{where}.auth_type", auth_type, "VRRP version 3 (also every IPv6 "
                       "instance) has no authentication: keepalived ignores it; remove "
                       "auth_type and auth_pass")
    if auth_pass is None:
        problems.error(f"{where}.auth_pass", None, f"required with auth_type {auth_type}")
        return auth_type, None
    # (problems.shown() never prints an auth_pass: the message says what is allowed)
    return auth_type, read_field(problems, f"{where}.auth_pass", VrrpInstance, "auth_pass",
                                 auth_pass)


def read_preemption(problems, where, item, state, priority):
    """(nopreempt, preempt_delay): both only work from state BACKUP."""
    nopreempt = read_field(problems, f"{where}.nopreempt", VrrpInstance, "nopreempt",
                           item.get("nopreempt", False))
    delay = item.get("preempt_delay")
    if delay is not None:
        delay = read_field(problems, f"{where}.preempt_delay", VrrpInstance,
                           "preempt_delay", delay)
    for key, value in (("nopreempt", nopreempt), ("preempt_delay", delay)):
        if value and state == "MASTER":
            problems.error(f"{where}.{key}", value, "needs state BACKUP: keepalived clears it "
                           "for an initial state MASTER; set state BACKUP on every host (the "
                           "highest priority still wins the first election)")
    if nopreempt and priority == 255:
        problems.error(f"{where}.nopreempt", True, "keepalived clears nopreempt at priority "
                       "255 (the address owner always preempts); use priority 1-254")
    if nopreempt and delay is not None:
        problems.warn(f"{where}.preempt_delay", delay, "has no effect with nopreempt; remove "
                      "one of them")
    return bool(nopreempt), delay


def read_unicast(problems, where, item, family, context):
    """(unicast_src_ip, unicast_peers): peers are addresses, none yet for "inventory"
    (peers.py derives them from the other hosts of the instance)."""
    peers_value = item.get("unicast_peers")
    src_value = item.get("unicast_src_ip")
    if peers_value is None:
        if src_value is not None:
            problems.error(f"{where}.unicast_src_ip", src_value, "needs unicast_peers (a list "
                           f"of addresses, or {UNICAST_FROM_INVENTORY!r}): without peers "
                           "keepalived ignores it and uses multicast")
        return None, None

    src = context.address
    if src_value is not None:
        src = read_field(problems, f"{where}.unicast_src_ip", VrrpInstance, "unicast_src_ip",
                         src_value)
        if src is None:
            return None, None
    if src is not None and ipaddress.ip_address(src).version != family:
        problems.error(f"{where}.unicast_src_ip" if src_value is not None else
                       context.address_key, src, f"is IPv{ipaddress.ip_address(src).version} "
                       f"but the instance is IPv{family}: keepalived drops unicast peers of "
                       f"the other family; set an IPv{family} unicast_src_ip on the instance "
                       "(or keepalived_unicast_src_ip)")
        return None, None

    if peers_value == UNICAST_FROM_INVENTORY:
        if src is None:
            problems.error("keepalived_unicast_src_ip", None, f"required for {where}."
                           f"unicast_peers {UNICAST_FROM_INVENTORY!r}: the host's own VRRP "
                           "address is not known (set keepalived_unicast_src_ip, or "
                           "ssh_hostname to an IP address, or unicast_src_ip on the instance)")
        return src, ()
    peers, listed = [], read_list(problems, f"{where}.unicast_peers", peers_value)
    for i, value in enumerate(listed):
        peer = read_value(problems, f"{where}.unicast_peers[{i}]", IpAddress, value)
        if peer is None:
            continue
        version = ipaddress.ip_address(peer).version
        if version != family:
            problems.error(f"{where}.unicast_peers[{i}]", value, f"is IPv{version} but "
                           f"the instance is IPv{family}: keepalived drops it")
        elif peer in peers:
            problems.error(f"{where}.unicast_peers[{i}]", value, "is listed twice")
        elif peer == src:
            problems.warn(f"{where}.unicast_peers[{i}]", value, "is this host's own address "
                          f"(unicast_src_ip); leave it out, or use unicast_peers "
                          f"{UNICAST_FROM_INVENTORY!r} to derive the peers")
        else:
            peers.append(peer)
    if isinstance(peers_value, list) and not listed:
        problems.error(f"{where}.unicast_peers", peers_value, "required: at least one peer "
                       f"address, or {UNICAST_FROM_INVENTORY!r}")
    return src, tuple(peers)


def read_notify(problems, where, item, context):
    """{keyword: command} for notify_master/backup/fault/stop and notify: the script's path
    on the host, and its arguments."""
    notify = {}
    for keyword in VrrpInstance.NOTIFY_KEYS:
        value = item.get(keyword)
        if value is None:
            continue
        key = f"{where}.{keyword}"
        words = value.split() if isinstance(value, str) else []
        name = words[0] if words else None
        if name not in context.notify_paths:
            defined = ", ".join(sorted(context.notify_paths)) or "none"
            problems.error(key, value, "must name a script of keepalived_notify_scripts, "
                           "optionally followed by arguments"
                           f"{did_you_mean(name, context.notify_paths)}; defined: {defined}")
            continue
        bad = [word for word in words[1:] if not WORD_RE.fullmatch(word) or "'" in word]
        if bad:
            problems.error(key, value, f"argument {bad[0]!r} must be a single word without "
                           "quotes, braces, # or !")
            continue
        notify[keyword] = " ".join([context.notify_paths[name], *words[1:]])
    return notify


def read_instance(problems, index, item, data, context):
    where = f"keepalived_vrrp_instances[{index}]"
    if not isinstance(item, Mapping):
        problems.error(where, item, "must be a mapping with name, interface, "
                       "virtual_router_id, priority and virtual_ipaddresses")
        return None
    problems.unknown_keys(where, item, INSTANCE_KEYS)

    name = read_field(problems, f"{where}.name", VrrpInstance, "name", item.get("name"))
    interface = read_field(problems, f"{where}.interface", VrrpInstance, "interface",
                           item.get("interface"))
    # Host-level defaults are reported under their own key when they are what is wrong.
    state_key = f"{where}.state" if "state" in item else "keepalived_state"
    state = item.get("state", data.get("keepalived_state") or "MASTER")
    state = read_field(problems, state_key, VrrpInstance, "state", state)
    vrid = read_field(problems, f"{where}.virtual_router_id", VrrpInstance,
                      "virtual_router_id", item.get("virtual_router_id"))

    priority_key = f"{where}.priority" if "priority" in item else "keepalived_priority"
    priority = item.get("priority", data.get("keepalived_priority"))
    if priority is None:
        problems.error(f"{where}.priority", None,
                       "required: 1-255, here or as keepalived_priority in the host's data")
    else:
        priority = read_field(problems, priority_key, VrrpInstance, "priority", priority)

    vips = read_virtual_ips(problems, f"{where}.virtual_ipaddresses",
                            item.get("virtual_ipaddresses"), interface, required=True)
    excluded = read_virtual_ips(problems, f"{where}.virtual_ipaddresses_excluded",
                                item.get("virtual_ipaddresses_excluded"), interface,
                                required=False)
    check_vip_lists(problems, where, vips, excluded)

    native_ipv6 = read_field(problems, f"{where}.native_ipv6", VrrpInstance, "native_ipv6",
                             item.get("native_ipv6", False))
    family = 6 if native_ipv6 or (vips and _family(vips[0].address) == 6) else 4
    if native_ipv6 and vips and _family(vips[0].address) == 4:
        problems.error(f"{where}.native_ipv6", True, "makes the instance IPv6, and keepalived "
                       "then ignores its IPv4 virtual_ipaddresses; move them to an IPv4 "
                       "instance (or to virtual_ipaddresses_excluded)")
    version = item.get("version")
    if version is not None:
        version = read_field(problems, f"{where}.version", VrrpInstance, "version", version)
    if version == 2 and family == 6:
        problems.error(f"{where}.version", 2, "IPv6 VRRP exists only as version 3: "
                       "keepalived silently uses 3; remove version or set 3")
    effective_version = 3 if family == 6 else version or context.vrrp_version

    advert_int = read_advert_int(problems, f"{where}.advert_int", item.get("advert_int", 1),
                                 effective_version)
    auth_type, auth_pass = read_auth(problems, where, item, effective_version)
    nopreempt, preempt_delay = read_preemption(problems, where, item, state, priority)
    garp = {}
    for key in ("garp_master_delay", "garp_master_refresh"):
        if item.get(key) is not None:
            garp[key] = read_field(problems, f"{where}.{key}", VrrpInstance, key, item[key])
    unicast_src_ip, unicast_peers = read_unicast(problems, where, item, family, context)

    tracked = []
    for i, script in enumerate(read_list(problems, f"{where}.track_scripts",
                                         item.get("track_scripts", []))):
        if isinstance(script, str) and script in context.script_names:
            tracked.append(script)
        else:
            defined = ", ".join(sorted(context.script_names)) or "none"
            problems.error(f"{where}.track_scripts[{i}]", script,
                           "names no check script in keepalived_check_scripts (track by their "
                           f"vrrp_name){did_you_mean(script, context.script_names)}; "
                           f"defined: {defined}")
    track_interfaces = tuple(
        read_track_interface(problems, f"{where}.track_interfaces[{i}]", value, interface)
        for i, value in enumerate(read_list(problems, f"{where}.track_interfaces",
                                            item.get("track_interfaces", []))))
    routes = tuple(
        read_route(problems, f"{where}.virtual_routes[{i}]", value, interface)
        for i, value in enumerate(read_list(problems, f"{where}.virtual_routes",
                                            item.get("virtual_routes", []))))
    notify = read_notify(problems, where, item, context)
    extra_lines = read_extra_lines(problems, f"{where}.extra_lines", item.get("extra_lines", []))

    if priority == 255 and tracked:
        problems.error(f"{where}.priority", 255, "255 makes this host the address owner, and "
                       "keepalived then ignores track_scripts weights; use 1-254")
    elif priority == 255:
        problems.warn(f"{where}.priority", 255, "255 marks the address owner (the host whose "
                      "own address is the VIP): it always preempts at once; use 1-254 otherwise")

    if None in (name, interface, state, vrid, priority, advert_int, *garp.values(),
                *track_interfaces, *routes) or not vips:
        return None
    # the keys as given (name, interface, virtual_router_id, version, garp_*: read above
    # as they are), with what was read or derived from them in their place
    instance = VrrpInstance.built(
        problems, item, where=where, state=state, priority=priority, virtual_ipaddresses=vips,
        auth_type=auth_type, auth_pass=auth_pass, track_scripts=tuple(tracked),
        effective_version=effective_version, native_ipv6=native_ipv6,
        nopreempt=nopreempt, preempt_delay=preempt_delay,
        unicast_src_ip=unicast_src_ip, unicast_peers=unicast_peers,
        peers_from_inventory=item.get("unicast_peers") == UNICAST_FROM_INVENTORY,
        track_interfaces=track_interfaces, virtual_ipaddresses_excluded=excluded,
        virtual_routes=routes, **notify, extra_lines=extra_lines,
    )
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
