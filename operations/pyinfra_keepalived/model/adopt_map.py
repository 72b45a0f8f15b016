"""A host's parsed keepalived.conf (`conf_parse`) mapped to this deploy's host data, and
the data of several hosts split into group data (what the hosts of an instance share)
and host data (what differs: priority, state, unicast_src_ip, router_id, ...).

Table-driven: `BLOCKS` maps each top-level block this model types to its reader; a
block not in it is reported "not typed yet" (adding LVS, track_process, ... is one
entry). Inside a block, `INSTANCE_KEYWORDS` and `GLOBAL_DEFS` do the same per keyword.
Each value is checked by its field's type (`keys`): a value the model refuses is not
mapped, with the model's message as the reason. Every line not mapped is an `Unmapped`
(file:line, the line, the reason): nothing is dropped silently.

Scripts: read from a live host (adopt.py), the files a config names come with it
(`map_config(nodes, scripts={path: text})`): a `vrrp_script` whose `script` is such a
file becomes a check script from a template of its text (`Mapping.templates`), a
`notify*` line a notify script with its content; each moves into the deploy's scripts
dir (`Mapping.renamed`: the comparison reads the original config with the new paths).
Without the files (the command line's adopt) they stay unmapped.
"""

import copy
import dataclasses
import re
from dataclasses import dataclass, field

from .blocks import Paths
from .conf_equiv import OLD_SPELLINGS
from .hidden import mask_text
from .instance import UNICAST_FROM_INVENTORY
from .keys import (
    GlobalDefs,
    HostData,
    NotifyScript,
    TrackInterface,
    VirtualIp,
    VirtualRoute,
    VrrpInstance,
    VrrpScript,
    read_block,
    read_field,
    whole_text,
)
from .problems import Problems

NOT_TYPED = "not typed yet"
SCRIPT_COMMAND = "a script given as a command: needs command-line scripts"
SCRIPT_ARGUMENTS = "a check script with arguments: needs command-line scripts"
JINJA_RAW_END = re.compile(r"{%-?\s*endraw")
# keepalived's values for what a vrrp_script leaves out, written out (the model's differ)
SCRIPT_DEFAULTS = {"interval": 1, "fall": 1, "rise": 1}
SCRIPT_KEYWORDS = ("interval", "weight", "fall", "rise", "timeout", "user")
FLOAT_RE = re.compile(r"[+-]?[0-9]*\.[0-9]+")
# What differs per host, and the host data key each goes to when it is the same for all
# of a host's instances (else it stays in the host's own instances).
PER_HOST_KEYS = {"priority": "keepalived_priority", "state": "keepalived_state",
                 "unicast_src_ip": "keepalived_unicast_src_ip"}


@dataclass(frozen=True)
class Unmapped:
    """A line of the config that is not in the data, and why."""

    where: str  # file:line
    text: str  # the line (an auth_pass masked)
    reason: str

    def __str__(self):
        return f"{self.where}: {self.text}: {self.reason}"


@dataclass
class Mapping:
    """One host's config as host data, what was left out, and the old spellings read."""

    data: dict = field(default_factory=dict)
    unmapped: list = field(default_factory=list)
    translations: list = field(default_factory=list)  # (file:line, old, new)
    skipped: set = field(default_factory=set)  # id() of the nodes skipped
    scripts: dict | None = None  # {path on the host: text} of the scripts read with it
    templates: dict = field(default_factory=dict)  # {template name: text} of check scripts
    renamed: dict = field(default_factory=dict)  # {script's path: its path in the scripts dir}
    tracked: set = field(default_factory=set)  # vrrp_script names mapped

    def skip(self, node, reason):
        self.unmapped.append(Unmapped(node.where, mask_text(node.text()), reason))
        self.skipped.add(id(node))

    def mapped_tree(self, nodes):
        """`nodes` (the tree this mapping read) without the lines it skipped, nor the
        blocks that leaves empty: what the data says."""
        kept = []
        for node in nodes:
            if id(node) in self.skipped:
                continue
            children = self.mapped_tree(node.children)
            if node.children and not children:
                continue
            kept.append(dataclasses.replace(node, args=self._renamed(node.args),
                                            children=children))
        return tuple(kept)

    def renamed_tree(self, nodes):
        """`nodes` whole, the scripts at their paths in the scripts dir."""
        return tuple(dataclasses.replace(node, args=self._renamed(node.args),
                                         children=self.renamed_tree(node.children))
                     for node in nodes)

    def _renamed(self, args):
        return tuple(" ".join(self.renamed.get(word, word) for word in arg.split(" "))
                     for arg in args)


def _value(word):
    """A word as the type it reads as: a whole number, a number, or text."""
    return float(word) if FLOAT_RE.fullmatch(word) else whole_text(word)


def _checked(mapping, node, block, name, value):
    """`value` if `block`'s field `name` takes it, else None (the line unmapped with
    the model's message)."""
    problems = Problems("adopt")
    result = read_field(problems, name, block, name, value)
    if problems.errors:
        mapping.skip(node, f"refused by the model: {problems.errors[0].message}")
        return None
    return value if not isinstance(result, str) else result


def _entry(mapping, node, kind):
    """A list entry (an address line) as its line, if the model's `kind` reads it."""
    problems = Problems("adopt")
    read_block(problems, node.keyword, kind, node.text())
    if problems.errors:
        mapping.skip(node, f"refused by the model: {problems.errors[0].message}")
        return None
    return node.text()


def _keyword(mapping, node):
    """The node's keyword in today's spelling (an old one translated and reported)."""
    if node.keyword in OLD_SPELLINGS:
        mapping.translations.append((node.where, node.keyword, OLD_SPELLINGS[node.keyword]))
        return OLD_SPELLINGS[node.keyword]
    return node.keyword


def _scalar(mapping, node, block, name, target):
    """A keyword with one value (or none: a flag) into `target[name]`."""
    if block.model_fields[name].annotation is bool:
        if node.args or node.block:
            return mapping.skip(node, "a flag here: takes no value")
        target[name] = True
        return None
    if len(node.args) != 1 or node.block:
        return mapping.skip(node, "takes one value here")
    value = _checked(mapping, node, block, name, _value(node.args[0]))
    if value is not None:
        target[name] = value
    return None


# -- global_defs --

def _global_defs(mapping, node):
    given = mapping.data.setdefault("keepalived_global_defs", {})
    for child in node.children:
        keyword = _keyword(mapping, child)
        if keyword == "script_user":
            if len(child.args) != 1:
                mapping.skip(child, "a script group: not typed yet")
                continue
            user = _checked(mapping, child, HostData, "keepalived_check_script_user",
                            child.args[0])
            if user is not None:
                mapping.data["keepalived_check_script_user"] = user
        elif keyword == "notification_email" and child.block and not child.args:
            addresses = [entry.keyword for entry in child.children if not entry.args]
            for entry in child.children:
                if entry.args:
                    mapping.skip(entry, "one address per line")
            if addresses and _checked(mapping, child, GlobalDefs, keyword, addresses):
                given[keyword] = addresses
        elif keyword in GlobalDefs.keys() and keyword not in ("extra_lines",
                                                              "notification_email"):
            _scalar(mapping, child, GlobalDefs, keyword, given)
        else:
            mapping.skip(child, NOT_TYPED)


# -- scripts: files read from the host, else commands (until command-line scripts are typed)

def _script_file(mapping, node, command):
    """(path, words after it) of a script line's command when its file was read with the
    config; else None (the node unmapped)."""
    words = command.split()
    if mapping.scripts is None or not words:
        mapping.skip(node, SCRIPT_COMMAND)
        return None
    if words[0] not in mapping.scripts:
        mapping.skip(node, f"{words[0]}: the file was not read (not an absolute path to a "
                     "file of the host, or a parameter in it)")
        return None
    return words[0], words[1:]


def _moved(mapping, path, name):
    mapping.renamed[path] = f"{Paths().scripts_dir}/{name}"


def _check_script(mapping, node):
    lines = [child for child in node.children if child.keyword == "script"]
    if len(node.args) != 1 or len(lines) != 1 or len(lines[0].args) != 1:
        return mapping.skip(node, SCRIPT_COMMAND if mapping.scripts is None else
                            "a vrrp_script needs one name and one script line")
    found = _script_file(mapping, node, lines[0].args[0])
    if found is None:
        return None
    path, arguments = found
    text = mapping.scripts[path]
    if arguments:
        return mapping.skip(node, SCRIPT_ARGUMENTS)
    if JINJA_RAW_END.search(text):
        return mapping.skip(node, f"{path} holds Jinja's endraw: it cannot be a template")
    name = path.rsplit("/", 1)[1]
    script = {"name": name, "template": name, "vrrp_name": node.args[0], **SCRIPT_DEFAULTS}
    for child in node.children:
        if child.keyword in SCRIPT_KEYWORDS:
            _scalar(mapping, child, VrrpScript, child.keyword, script)
        elif child.keyword != "script":
            mapping.skip(child, NOT_TYPED)
    mapping.data.setdefault("keepalived_check_scripts", []).append(script)
    # (a template renders its text as it is)
    mapping.templates[name] = (text if not re.search(r"{[{%#]", text)
                               else "{% raw %}" + text + "{% endraw %}")
    mapping.tracked.add(node.args[0])
    _moved(mapping, path, name)
    return None


def _notify_script(mapping, node, target):
    """A notify line into `target` (an instance), its file a notify script."""
    if len(node.args) != 1 or node.block:
        return mapping.skip(node, "takes one command here")
    found = _script_file(mapping, node, node.args[0])
    if found is None:
        return None
    path, arguments = found
    name = path.rsplit("/", 1)[1]
    script = {"name": name, "content": mapping.scripts[path]}
    problems = Problems("adopt")
    read_block(problems, "keepalived_notify_scripts[]", NotifyScript, script)
    if problems.errors:
        return mapping.skip(node, f"{path} refused by the model: {problems.errors[0].message}")
    scripts = mapping.data.setdefault("keepalived_notify_scripts", [])
    if script not in scripts:
        scripts.append(script)
    target[node.keyword] = " ".join((name, *arguments))
    _moved(mapping, path, name)
    return None


# -- vrrp_instance --

def _entries(target_key, kind):
    def read(mapping, node, instance):
        if not node.block or node.args:
            return mapping.skip(node, "a block of lines here")
        lines = [line for line in (_entry(mapping, child, kind) for child in node.children)
                 if line is not None]
        if lines:
            instance.setdefault(target_key, []).extend(lines)
        return None
    return read


def _unicast_peers(mapping, node, instance):
    peers = []
    for child in node.children:
        if child.args:
            mapping.skip(child, "a peer with options: not typed yet")
        elif _checked(mapping, child, HostData, "keepalived_unicast_src_ip", child.keyword):
            peers.append(child.keyword)
    if peers:
        instance.setdefault("unicast_peers", []).extend(peers)


def _authentication(mapping, node, instance):
    for child in node.children:
        if child.keyword in ("auth_type", "auth_pass"):
            _scalar(mapping, child, VrrpInstance, child.keyword, instance)
        else:
            mapping.skip(child, NOT_TYPED)
    if isinstance(instance.get("auth_pass"), int):  # (a password of digits stays text)
        instance["auth_pass"] = next(child.args[0] for child in node.children
                                     if child.keyword == "auth_pass")


def _track_script(mapping, node, instance):
    for child in node.children:
        if child.args:
            mapping.skip(child, "a per-instance weight: not typed yet")
        elif child.keyword not in mapping.tracked:
            mapping.skip(child, f"tracks vrrp_script {child.keyword}, which is not mapped")
        else:
            instance.setdefault("track_scripts", []).append(child.keyword)


def _notify(mapping, node, instance):
    _notify_script(mapping, node, instance)


def _typed(mapping, node, instance):
    _scalar(mapping, node, VrrpInstance, node.keyword, instance)


INSTANCE_KEYWORDS = {
    **{name: _typed for name in (
        "state", "interface", "virtual_router_id", "priority", "advert_int", "version",
        "native_ipv6", "nopreempt", "preempt_delay", "garp_master_delay",
        "garp_master_refresh", "unicast_src_ip")},
    "authentication": _authentication,
    "unicast_peer": _unicast_peers,
    "virtual_ipaddress": _entries("virtual_ipaddresses", VirtualIp),
    "virtual_ipaddress_excluded": _entries("virtual_ipaddresses_excluded", VirtualIp),
    "virtual_routes": _entries("virtual_routes", VirtualRoute),
    "track_interface": _entries("track_interfaces", TrackInterface),
    "track_script": _track_script,
    **{name: _notify for name in VrrpInstance.NOTIFY_KEYS},
}


def _instance(mapping, node):
    if len(node.args) != 1:
        return mapping.skip(node, "an instance needs one name")
    # keepalived's defaults written out: the deploy's own differ (it starts an instance
    # without state as MASTER) or are required (priority)
    instance = {"name": node.args[0], "state": "BACKUP", "priority": 100}
    for child in node.children:
        reader = INSTANCE_KEYWORDS.get(_keyword(mapping, child))
        if reader is None:
            mapping.skip(child, NOT_TYPED)
        else:
            reader(mapping, child, instance)
    mapping.data.setdefault("keepalived_vrrp_instances", []).append(instance)
    return None


# -- vrrp_sync_group --

def _sync_group(mapping, node):
    if len(node.args) != 1:
        return mapping.skip(node, "a sync group needs one name")
    members = []
    for child in node.children:
        if child.keyword == "group" and child.block:
            members += [entry.keyword for entry in child.children]
        elif child.keyword in VrrpInstance.NOTIFY_KEYS:
            mapping.skip(child, SCRIPT_COMMAND)
        else:
            mapping.skip(child, NOT_TYPED)
    mapping.data.setdefault("keepalived_sync_groups", {})[node.args[0]] = {
        "instances": members}
    return None


BLOCKS = {
    "global_defs": _global_defs,
    "vrrp_script": _check_script,
    "vrrp_instance": _instance,
    "vrrp_sync_group": _sync_group,
}


def map_config(nodes, scripts=None):
    """The host data of one host's parsed config (`nodes`): a `Mapping`. `scripts`:
    {path: text} of the script files it names, read with it (else scripts are unmapped).
    In the config's order, as keepalived reads it: a track_script of a vrrp_script written
    further down is one keepalived ignores ("not found"), and so is it here (unmapped)."""
    mapping = Mapping(scripts=scripts)
    for node in nodes:
        reader = BLOCKS.get(_keyword(mapping, node))
        if reader is None:
            mapping.skip(node, NOT_TYPED)
        elif not node.block:
            mapping.skip(node, "a block: needs its { }")
        else:
            reader(mapping, node)
    return mapping


# -- several hosts: group data and host data --

def _hoisted(hosts_data, key):
    """Move instance key `key` to its host data key where each host's instances all have
    one value for it (else leave it in the instances)."""
    values = {}
    for host, data in hosts_data.items():
        found = {repr(item.get(key)) for item in data.get("keepalived_vrrp_instances", [])}
        if len(found) != 1 or "None" in found:
            return
        values[host] = data["keepalived_vrrp_instances"][0][key]
    for host, data in hosts_data.items():
        data[PER_HOST_KEYS[key]] = values[host]
        for item in data["keepalived_vrrp_instances"]:
            del item[key]


def _peers_from_inventory(hosts_data):
    """unicast_peers "inventory" where each host's peers are the other hosts'
    keepalived_unicast_src_ip."""
    addresses = {host: data.get("keepalived_unicast_src_ip")
                 for host, data in hosts_data.items()}
    if None in addresses.values() or len(addresses) < 2:
        return
    for host, data in hosts_data.items():
        others = sorted(address for other, address in addresses.items() if other != host)
        for item in data.get("keepalived_vrrp_instances", []):
            if sorted(item.get("unicast_peers") or ["-"]) != others:
                return
    for data in hosts_data.values():
        for item in data.get("keepalived_vrrp_instances", []):
            item["unicast_peers"] = UNICAST_FROM_INVENTORY


def group_name(instance_names):
    """A group's name (a Python identifier: inventory.py's variable) from its instances."""
    words = "_".join(instance_names) or "no_instances"
    return "vrrp_" + re.sub(r"[^A-Za-z0-9_]", "_", words).lower()


def split_data(hosts_data):
    """`hosts_data`: {host: data}. Returns ({group: (hosts, group data)}, {host: host
    data}): the hosts with the same instances form a group; a key whose value all its
    hosts share is group data, any other stays host data."""
    by_instances = {}
    for host, data in hosts_data.items():
        names = tuple(item["name"] for item in data.get("keepalived_vrrp_instances", []))
        by_instances.setdefault(group_name(names), {})[host] = copy.deepcopy(data)
    groups, hosts = {}, {}
    for name, members in by_instances.items():
        for key in PER_HOST_KEYS:
            _hoisted(members, key)
        _peers_from_inventory(members)
        shared = {}
        keys = {key for data in members.values() for key in data}
        for key in sorted(keys):
            values = [data.get(key) for data in members.values()]
            if len(members) > 1 and key not in PER_HOST_KEYS.values() and all(
                    value == values[0] for value in values) and values[0] is not None:
                shared[key] = values[0]
        groups[name] = (list(members), shared)
        for host, data in members.items():
            hosts[host] = {key: value for key, value in data.items() if key not in shared}
    return groups, hosts
