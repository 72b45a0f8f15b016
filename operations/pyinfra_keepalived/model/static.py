"""Read a host's static blocks: `keepalived_static_ipaddresses`, `keepalived_static_routes`
and `keepalived_static_rules` (keepalived's `static_ipaddress`, `static_routes` and
`static_rules`: what keepalived keeps on the host whatever the VRRP state), and the
rules of an ip rule (also an instance's `virtual_rules`).

Each entry is read by its type (`model.reading.read_block`: VirtualIp, VirtualRoute, IpRule);
the rules between its keywords are the named checks below.
"""

import ipaddress
from dataclasses import dataclass

from .keys import IpRule, VirtualIp, VirtualRoute
from .problems import NOT_SHOWN
from .readers import address_family, read_list
from .reading import read_block


@dataclass(frozen=True)
class StaticBlocks:
    """The static blocks of a host (each a tuple of entries, rendered in that order)."""

    addresses: tuple[VirtualIp, ...] = ()
    routes: tuple[VirtualRoute, ...] = ()
    rules: tuple[IpRule, ...] = ()

    def __bool__(self):
        return bool(self.addresses or self.routes or self.rules)


def check_rule(problems, key, rule):
    """An ip rule's from and to are of one family."""
    families = {address_family(rule.from_), address_family(rule.to)} - {None}
    if len(families) > 1:
        problems.error(f"{key}.to", rule.to, f"is IPv{address_family(rule.to)} but from is "
                       f"IPv{address_family(rule.from_)}: an ip rule has one family")


def check_route(problems, key, route):
    """A route's via and src are of its destination's family."""
    for option in ("via", "src"):
        value = getattr(route, option)
        if value is not None and address_family(route.to) not in (None, address_family(value)):
            problems.error(f"{key}.{option}", value, f"is IPv{address_family(value)} but the route "
                           f"is IPv{address_family(route.to)}")


def check_static_address(problems, key, address, vips):
    """A static address names its interface (else keepalived puts it on default_interface,
    eth0), and is no VIP of this host (keepalived would remove it with the VIP)."""
    if address.dev is None:
        problems.error(f"{key}.dev", NOT_SHOWN, "required for a static address: keepalived "
                       "otherwise adds it to global_defs' default_interface (eth0)")
    ip = ipaddress.ip_interface(address.address).ip
    if ip in vips:
        problems.error(f"{key}.address", address.address, f"is also a VIP of instance "
                       f"{vips[ip]}: keepalived removes it when that instance is not MASTER; "
                       "keep it in one place")


def check_broadcast(problems, key, address):
    """A VIP's or static address's brd: IPv4, in the address's subnet."""
    if address.brd is None:
        return
    network = ipaddress.ip_interface(address.address).network
    if network.version == 6:
        problems.error(f"{key}.brd", address.brd, "IPv6 addresses have no broadcast address")
    elif ipaddress.ip_address(address.brd) not in network:
        problems.error(f"{key}.brd", address.brd, f"is not in the address's subnet {network}")


def _entries(problems, data, key, block):
    """The entries of list `key`, each read as `block`; None in place of a refused one."""
    return tuple(read_block(problems, f"{key}[{index}]", block, value) for index, value in
                 enumerate(read_list(problems, key, data.get(key, []))))


def read_static(problems, data, instances):
    """The host's StaticBlocks (`instances`: its VrrpInstances, None where refused)."""
    vips = {ipaddress.ip_interface(vip.address).ip: instance.name for instance in instances
            if instance for vip in (*instance.virtual_ipaddresses,
                                    *instance.virtual_ipaddresses_excluded)}
    addresses = _entries(problems, data, "keepalived_static_ipaddresses", VirtualIp)
    routes = _entries(problems, data, "keepalived_static_routes", VirtualRoute)
    rules = _entries(problems, data, "keepalived_static_rules", IpRule)
    for index, address in enumerate(addresses):
        if address is not None:
            check_static_address(problems, f"keepalived_static_ipaddresses[{index}]",
                                 address, vips)
            check_broadcast(problems, f"keepalived_static_ipaddresses[{index}]", address)
    for index, route in enumerate(routes):
        if route is not None:
            check_route(problems, f"keepalived_static_routes[{index}]", route)
    for index, rule in enumerate(rules):
        if rule is not None:
            check_rule(problems, f"keepalived_static_rules[{index}]", rule)
    return StaticBlocks(*(tuple(entry for entry in entries if entry is not None)
                          for entries in (addresses, routes, rules)))
