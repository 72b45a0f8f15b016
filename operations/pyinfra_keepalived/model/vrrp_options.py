"""Rules between the VRRP keywords typed beyond the seed role: an instance's source
address and accept mode, the VIPs' broadcast, virtual_rules, the notify FIFO's script and
a sync group's notify scripts and tracking.

Each keyword is read by its field's type (`model.keys`: `reading.Block.built`); what
these add are the rules where keywords interact, as errors (keepalived would refuse or
silently change it) or warnings naming the fix. Called by `model.validate.read_host`.
"""

import ipaddress

from .instance import read_notify
from .keys import VRRP_GROUPS
from .problems import did_you_mean
from .readers import REFUSED_RAW
from .static import check_broadcast, check_rule


def check_raw_keywords(problems, key, lines):
    """No line of extra_lines (`key`) starts with a keyword of REFUSED_RAW."""
    for position, line in enumerate(lines):
        words = line.split()
        if words and words[0] in REFUSED_RAW:
            problems.error(f"{key}[{position}]", line, f"{words[0]} {REFUSED_RAW[words[0]]}")


def check_instances_options(problems, instances):
    """`check_instance_options` of each instance read (None: refused)."""
    for index, instance in enumerate(instances):
        if instance is not None:
            check_instance_options(problems, index, instance)


def check_instance_options(problems, index, instance):
    """mcast_src_ip: a multicast instance's, of its family (a unicast one sets
    unicast_src_ip: keepalived reads both as one); track_src_ip needs a source address;
    the VIPs' brd; the rules of virtual_rules."""
    where = f"keepalived_vrrp_instances[{index}]"
    source = instance.mcast_src_ip
    if source is not None and instance.unicast_peers is not None:
        problems.error(f"{where}.mcast_src_ip", source, "is unicast_src_ip under another "
                       "name for a unicast instance (keepalived reads both as one); set "
                       "unicast_src_ip instead")
    elif source is not None and ipaddress.ip_address(source).version != instance.family:
        problems.error(f"{where}.mcast_src_ip", source, f"is IPv"
                       f"{ipaddress.ip_address(source).version} but the instance is IPv"
                       f"{instance.family}: keepalived sends adverts of the instance's family")
    if instance.track_src_ip and source is None and instance.unicast_src_ip is None:
        problems.warn(f"{where}.track_src_ip", True, "has no effect without mcast_src_ip "
                      "(or unicast_src_ip): set the source address, or remove track_src_ip")
    for key in ("virtual_ipaddresses", "virtual_ipaddresses_excluded"):
        for position, address in enumerate(getattr(instance, key)):
            check_broadcast(problems, f"{where}.{key}[{position}]", address)
    for position, rule in enumerate(instance.virtual_rules):
        check_rule(problems, f"{where}.virtual_rules[{position}]", rule)
    check_raw_keywords(problems, f"{where}.extra_lines", instance.extra_lines)


def check_global_options(problems, global_defs):
    """enable_dbus with vrrp_no_swap: keepalived 2.1.5 (Debian 11) without CAP_IPC_LOCK
    (in a container, say) cannot start the VRRP process's D-Bus thread in locked memory:
    the process dies and restarts in a loop (seen: 4 starts in 6 s; 2.2.7 and 2.3.3
    run), its VIPs flapping; keepalived -t does not see it."""
    if global_defs.enable_dbus and global_defs.vrrp_no_swap:
        problems.error("keepalived_global_defs.enable_dbus", True, "with vrrp_no_swap makes "
                       "the VRRP process of keepalived 2.1.5 (Debian 11) without CAP_IPC_LOCK "
                       "die and restart in a loop (its D-Bus thread cannot start in locked "
                       "memory): the VIPs flap; drop vrrp_no_swap or enable_dbus")


def with_multicast_groups(global_defs, instances):
    """The instances (None: refused), each multicast one with the group its adverts go to
    where global_defs sets another than keepalived's default (model.peers: its peers must
    send to the same group)."""
    groups = {family: str(ipaddress.ip_address(group))
              for family, group in global_defs.mcast_groups.items()}
    return [instance if instance is None or instance.unicast_peers is not None
            or groups[instance.family] == VRRP_GROUPS[instance.family]
            else instance.model_copy(update={"multicast_group": groups[instance.family]})
            for instance in instances]


def read_fifo_script(problems, global_defs, context):
    """global_defs with its FIFO scripts (vrrp_notify_fifo_script, notify_fifo_script) as
    commands (the notify script's path and its arguments): each reads its FIFO, which must
    be set. (And its extra_lines hold no refused keyword.)"""
    check_raw_keywords(problems, "keepalived_global_defs.extra_lines", global_defs.extra_lines)
    scripts = {script: getattr(global_defs, script) for script in global_defs.FIFOS.values()}
    for fifo, script in global_defs.FIFOS.items():
        if scripts[script] is not None and getattr(global_defs, fifo) is None:
            problems.error(f"keepalived_global_defs.{script}", scripts[script], f"needs "
                           f"{fifo}: the FIFO keepalived writes and the script reads")
    return global_defs.model_copy(update=read_notify(
        problems, "keepalived_global_defs",
        [(key, value) for key, value in scripts.items() if value is not None], context))


def read_group_options(problems, groups, context, scripts, instances):
    """The sync groups with their notify keys as commands; their track_scripts name check
    scripts, no tracking of a group has a weight (keepalived ignores weights in a sync
    group: a failure means FAULT) or is also a member instance's (keepalived -t refuses
    that); global_tracking is refused (deprecated: keepalived -t fails on it)."""
    weights = {script.vrrp_name: script.weight for script in scripts if script}
    by_name = {instance.name: instance for instance in instances if instance}
    result = []
    for group in groups:
        where = f"keepalived_sync_groups.{group.name}"
        members = [by_name[name] for name in group.instances if name in by_name]
        check_group_tracking(problems, where, group, members)
        for position, name in enumerate(group.track_scripts):
            key = f"{where}.track_scripts[{position}]"
            if name not in context.script_names:
                problems.error(key, name, "names no check script in keepalived_check_scripts"
                               f"{did_you_mean(name, context.script_names)}; defined: "
                               f"{', '.join(sorted(context.script_names)) or 'none'}")
            elif weights.get(name):
                problems.error(key, name, "has a weight: keepalived ignores tracking weights "
                               "in a sync group; use a check script without weight (a "
                               "failure means FAULT)")
        for position, track in enumerate(group.track_interfaces):
            if track.weight:
                problems.error(f"{where}.track_interfaces[{position}].weight", track.weight,
                               "keepalived ignores tracking weights in a sync group; leave "
                               "weight unset (down means FAULT)")
        if group.global_tracking:
            problems.error(f"{where}.global_tracking", True, "is deprecated: keepalived -t "
                           "refuses it; list what the group tracks in its track_interfaces "
                           "and track_scripts instead")
        result.append(group.model_copy(update=read_notify(
            problems, where, group.notify_commands, context)))
    return tuple(result)


def check_group_tracking(problems, where, group, members):
    """What a sync group tracks is not also tracked by one of its instances (keepalived -t:
    "track_interface eth2 is configured on VRRP instance and sync group")."""
    for key, name_of in (("track_interfaces", lambda track: track.interface),
                         ("track_scripts", lambda name: name)):
        for position, tracked in enumerate(getattr(group, key)):
            also = [instance.name for instance in members
                    if name_of(tracked) in map(name_of, getattr(instance, key))]
            if also:
                problems.error(f"{where}.{key}[{position}]", name_of(tracked), "is also in "
                               f"{key} of instance {also[0]} of the group: keepalived refuses "
                               "both; keep it in one place")
