"""LVS direct-routing real servers among the inventory's hosts.

A host whose data says `keepalived_lvs_real_server: ADDRESS` (the address the directors
list it under, in a real_servers entry) serves every `lvs_method: DR` virtual server of
the inventory that lists that address: the host level puts those virtual addresses on
`lo` and sets the ARP sysctls (a DR real server must accept packets for the VIP, and
never answer ARP for it: the VRRP master does). The VIPs are said once, in the
directors' data; the real server only says who it is.
"""

import ipaddress
from dataclasses import replace

REAL_SERVER_KEY = "keepalived_lvs_real_server"  # (read by its field's type: validate)


def group_addresses(group):
    """The addresses of a virtual_server_group's members (a range of the last IPv4 byte
    expanded)."""
    for member in group.vips:
        first, _, last = member.ip.partition("-")
        start = ipaddress.ip_address(first)
        count = int(last) - int(first.rsplit(".", 1)[1]) + 1 if last else 1
        yield from (str(start + step) for step in range(count))


def dr_services(settings):
    """[(address of the real server, VIP, 'where')] of every DR virtual server of one
    director's `settings` (ip+port or group; a fwmark names no address)."""
    groups = {group.name: group for group in settings.lvs.groups}
    for index, server in enumerate(settings.lvs.virtual_servers):
        if server.method != "DR":
            continue
        where = f"{settings.host}: keepalived_virtual_servers[{index}]"
        vips = ((str(ipaddress.ip_address(server.ip)),) if server.ip is not None else
                tuple(group_addresses(groups[server.group])) if server.group in groups
                else ())
        for real in server.real_servers:
            yield from ((str(ipaddress.ip_address(real.ip)), vip, where) for vip in vips)


def vrrp_addresses(settings):
    """The addresses this host may hold through VRRP."""
    return {str(ipaddress.ip_interface(vip.address).ip) for instance in settings.instances
            for vip in instance.virtual_ipaddresses}


def derive_real_servers(settings_by_host, problems):
    """Each real server's `dr_vips` (sorted, each once) from every director's data;
    errors and warnings go to `problems` ({host: Problems})."""
    served = {}  # real server address -> {vip: where}
    for settings in settings_by_host.values():
        for address, vip, where in dr_services(settings):
            served.setdefault(address, {}).setdefault(vip, where)
    derived = dict(settings_by_host)
    for name, settings in settings_by_host.items():
        if settings.lvs_real_server is None:
            continue
        address = str(ipaddress.ip_address(settings.lvs_real_server))
        vips = served.get(address, {})
        if not vips:
            problems[name].warn(REAL_SERVER_KEY, settings.lvs_real_server,
                                "no lvs_method DR virtual server of the inventory lists this "
                                "address in its real_servers: nothing is set up for it; "
                                "list it in a director's keepalived_virtual_servers, or "
                                f"remove {REAL_SERVER_KEY}")
        own = vrrp_addresses(settings) | {vip for _, vip, _ in dr_services(settings)}
        for vip in sorted(own & set(vips)):
            problems[name].error(
                REAL_SERVER_KEY, settings.lvs_real_server,
                f"makes this host a DR real server of {vip} ({vips[vip]}), which this host "
                "also serves as a director (a VRRP VIP or a virtual server of its own): its "
                "IPVS would take the packets its peer director forwards to it and balance "
                "them again, and with the VIP on lo it could not tell them apart; a "
                "director may not be its own DR real server (allowed: the address of a "
                "host that holds none of these VIPs; or list the director as a real server "
                "only under lvs_method NAT)")
        derived[name] = replace(settings, dr_vips=tuple(sorted(vips, key=ipaddress.ip_address)))
    return derived
