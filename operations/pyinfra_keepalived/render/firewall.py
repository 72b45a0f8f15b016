"""What the VRRP firewall lets in (operations.firewall, pyinfra_keepalived/operations/vrrp_firewall.sh),
worked out from Settings, and the file of the config tree that names it.

Pure functions, no pyinfra. The peers file goes live with the config it belongs to (the
config transaction swaps the whole tree at once): the keepalived.service drop-in's start
hook reads it from the live tree, so a start, whenever it comes, lets in the peers of the
config keepalived loads.
"""

import ipaddress

VRRP, AH = "112", "51"
PEERS_FILE_NAME = "vrrp-firewall-peers.txt"  # in the config dir (not a *.conf: not included)


def vrrp_protocols(settings):
    """IP protocols keepalived needs: VRRP, and AH when an instance uses auth_type AH."""
    if any(instance.auth_type == "AH" for instance in settings.instances):
        return (VRRP, AH)
    return (VRRP,)


def _address(text):
    """An address as nft, iptables and firewalld print it (IPv6 compressed, lower case)."""
    return ipaddress.ip_address(text).compressed


def vrrp_peers(settings):
    """What the firewall accepts adverts from, as the firewall script's peers
    ("FAMILY,INTERFACE,SOURCE,DESTINATION", an empty field not matched on), in instance
    order without repeats: a unicast instance's peers' addresses, to this host's
    unicast_src_ip where known; a multicast instance's VRRP group (global_defs'), on its
    interface; anywhere, for an instance whose extra_lines set its addresses (the model
    warns)."""
    groups = settings.global_defs.mcast_groups
    peers = []
    for instance in settings.instances:
        if instance.raw_addressing:
            peers.append(f"{instance.family},,,")
        elif instance.unicast_peers is None:
            peers.append(f"{instance.family},{instance.interface},,"
                         f"{_address(groups[instance.family])}")
        else:
            source = _address(instance.unicast_src_ip) if instance.unicast_src_ip else ""
            peers += [f"{instance.family},,{_address(peer)},{source}"
                      for peer in instance.unicast_peers]
    return tuple(dict.fromkeys(peers))


def firewall_rules(settings):
    """The firewall script's arguments after its action: the IP protocols, then the peers;
    () when the firewall is not to be managed (off, or no instance: nothing to let in)."""
    peers = vrrp_peers(settings)
    if settings.host_level.firewall == "off" or not peers:
        return ()
    return (*vrrp_protocols(settings), *peers)


def peers_path(paths):
    """The peers file of the config tree (`paths`: its Paths)."""
    return f"{paths.config_dir}/{PEERS_FILE_NAME}"


def peers_content(rules):
    """The peers file for `rules` (firewall_rules): one argument of the firewall script a
    line, as `vrrp-firewall add --peers-file FILE` reads them (it checks each line as it
    checks an argument)."""
    return ("# Managed by pyinfra (keepalived deploy): what the host firewall lets VRRP in "
            "from while this config is live\n"
            "# (keepalived-vrrp-firewall add --peers-file, before each keepalived start): "
            "IP protocols, then FAMILY,INTERFACE,SOURCE,DESTINATION\n"
            + "".join(f"{rule}\n" for rule in rules))
