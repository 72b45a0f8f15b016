"""A host's parsed keepalived.conf (`conf_parse`) mapped to this deploy's host data, and
the data of several hosts split into group data (what the hosts of an instance share)
and host data (what differs: priority, state, unicast_src_ip, router_id, ...).

Table-driven: `BLOCKS` maps each top-level block this model types to its reader (VRRP,
static, tracking and LVS blocks); a block not in it is reported "not typed yet", a
keyword the deploy deliberately does not take with its reason (`REFUSED`). Inside a
block, `_fields` reads every keyword its block class declares (`_scalars`: a field of that
name) and the nested blocks of a table (`INSTANCE`, `GLOBAL_DEFS`, `VIRTUAL_SERVER`,
`REAL_SERVER`, ...). Each value is checked by its field's type (`keys`): a value the
model refuses is not mapped, with the model's message as the reason. Older spellings
(`lb_algo`, `nb_get_retry`, ...) are read as today's, each translation recorded. Every
line not mapped is an `Unmapped` (file:line, the line, the reason): nothing is dropped
silently.

Scripts: read from a live host (adopt.py), the files a config names come with it
(`map_config(nodes, scripts={path: text})`): a `vrrp_script` whose `script` is such a
file (no arguments) becomes a check script from a template of its text
(`Mapping.templates`), a `notify*` line a notify script with its content; each moves
into the deploy's scripts dir (`Mapping.renamed`: the comparison reads the original
config with the new paths). Any other script stays the command it is (`check_script`,
a notify command: model.commands), but one in the deploy's scripts dir (the first
deploy replaces that directory).
"""

import copy
import dataclasses
import re
from dataclasses import dataclass, field
from types import UnionType
from typing import Annotated, Union, get_args, get_origin

from pydantic import BaseModel

from .blocks import Paths
from .commands import command_problem
from .conf_equiv import OLD_SPELLINGS
from .hidden import mask_text
from .instance import UNICAST_FROM_INVENTORY
from .keys import (
    GlobalDefs,
    HostData,
    IpRule,
    NotifyScript,
    SyncGroup,
    TrackInterface,
    VirtualIp,
    VirtualRoute,
    VrrpInstance,
    VrrpScript,
)
from .lvs import (
    CHECKERS,
    GroupMember,
    HttpUrl,
    LvsSyncDaemon,
    LvsTimeouts,
    RealServer,
    VirtualServer,
    VirtualServerGroup,
)
from .problems import Problems
from .reading import field_type, read_block, read_value
from .tracking_blocks import TrackedItem, TrackFile, TrackProcess
from .types import whole_text

NOT_TYPED = "not typed yet"
SCRIPTS_DIR_PROGRAM = ("a program in {dir}, which the first deploy replaces with its own: "
                       "move it elsewhere (and what uses it)")
# what ends Jinja's {% raw %} block: {% endraw %}, with Jinja's - or + modifier
JINJA_RAW_END = re.compile(r"{%[-+]?\s*endraw")
# keepalived's values for what a vrrp_script leaves out, written out (the model's differ)
SCRIPT_DEFAULTS = {"interval": 1, "fall": 1, "rise": 1}
SCRIPT_KEYWORDS = ("interval", "weight", "fall", "rise", "timeout", "user", "init_fail")
FLOAT_RE = re.compile(r"[+-]?[0-9]*\.[0-9]+")
# Keywords keepalived reads that the deploy deliberately does not take, and why.
REFUSED = {
    "net_namespace": "a network namespace: the deploy runs keepalived in the host's own "
                     "(its unit, probes and firewall work there)",
    "lvs_sync_daemon_interface": "the old per-instance spelling of global_defs' "
                                 "lvs_sync_daemon: write `lvs_sync_daemon IFACE INSTANCE` in "
                                 "global_defs (keepalived_lvs_sync_daemon)",
    "host": "SMTP_CHECK's host blocks (keepalived 1.x): the model has one connect_ip per "
            "checker; write an SMTP_CHECK per host",
}
FWMARK_PROTOCOL = ("keepalived ignores the protocol of a fwmark virtual server (the mark "
                   "selects the packets); the deploy leaves it out")
NO_MEMBERS = "a sync group without instances: keepalived drops it"
OUTSIDE_GROUP = "an instance name outside group { }: keepalived ignores it (Unknown keyword)"
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


def _inner_type(block, name):
    """The type of `block`'s field `name` under Annotated and `| None`."""
    annotation = block.model_fields[name].annotation
    members = [member for member in get_args(annotation) if member is not type(None)] \
        if get_origin(annotation) in (Union, UnionType) else [annotation]
    if len(members) != 1:
        return annotation
    member = members[0]
    return get_args(member)[0] if get_origin(member) is Annotated else member


def _is_flag(block, name):
    return _inner_type(block, name) is bool


def _scalars(block):
    """The keywords of `block` written as `keyword [value]`: its fields that are no
    list, mapping or block."""
    return tuple(name for name in block.keys() if name in block.model_fields
                 and get_origin(_inner_type(block, name)) not in (list, dict)
                 and not isinstance(_inner_type(block, name), type(BaseModel)))


def _checked(mapping, node, block, name, value):
    """`value` if `block`'s field `name` takes it, else None (the line unmapped with
    the model's message)."""
    problems = Problems("adopt")
    result = read_value(problems, name, field_type(block, name), value)
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
    """A keyword with a value (several words: one command line) or none (a flag) into
    `target[name]`."""
    if node.block:
        return mapping.skip(node, "takes no block here")
    if node.args and _is_flag(block, name):
        return mapping.skip(node, "a flag here: takes no value")
    words = " ".join(node.args).split()
    value = True if not words else _value(words[0]) if len(words) == 1 else " ".join(words)
    value = _checked(mapping, node, block, name, value)
    if value is not None:
        target[name] = value
    return None


def _fields(mapping, node, block, target, nested=None, keywords=None):
    """`node`'s lines into `target` by `block`'s `keywords` (default: its `_scalars`)
    and the `nested` readers ({keyword: reader(mapping, child, target)}); any other line
    unmapped."""
    scalars = _scalars(block) if keywords is None else keywords
    for child in node.children:
        keyword = child.keyword if child.keyword in REFUSED else _keyword(mapping, child)
        if nested and keyword in nested:
            nested[keyword](mapping, child, target)
        elif keyword in scalars:
            _scalar(mapping, child, block, keyword, target)
        else:
            mapping.skip(child, REFUSED.get(keyword, NOT_TYPED))
    return target


def _entries(target_key, kind):
    """A reader of a block of lines, each an entry of `kind`, into `target[target_key]`
    (an address listed again unmapped: keepalived adds it once)."""
    def read(mapping, node, target):
        if not node.block or node.args:
            return mapping.skip(node, "a block of lines here")
        lines, addresses = [], set()
        for child in node.children:
            address = child.keyword.split("/")[0] if kind is VirtualIp else id(child)
            if address in addresses:
                mapping.skip(child, f"{address} is listed already: keepalived adds it once "
                             "(the config lists it twice)")
            elif _entry(mapping, child, kind) is not None:
                lines.append(child.text())
                addresses.add(address)
        if lines:
            target.setdefault(target_key, []).extend(lines)
        return None
    return read


# -- global_defs --

def _script_user(mapping, node, given):
    if len(node.args) != 1:
        return mapping.skip(node, "a script group: not typed yet")
    user = _checked(mapping, node, HostData, "keepalived_check_script_user", node.args[0])
    if user is not None:
        mapping.data["keepalived_check_script_user"] = user
    return None


def _notification_email(mapping, node, given):
    if not node.block or node.args:
        return mapping.skip(node, "a block of addresses here")
    addresses = [entry.keyword for entry in node.children if not entry.args]
    for entry in node.children:
        if entry.args:
            mapping.skip(entry, "one address per line")
    if addresses and _checked(mapping, node, GlobalDefs, "notification_email", addresses):
        given["notification_email"] = addresses
    return None


def _pairs(key, block, leading=()):
    """A reader of a line `LEADING... keyword value ...` into host data `key`, a `block`."""
    def read(mapping, node, given):
        words = " ".join(node.args).split()
        data = dict(zip(leading, words))
        rest = words[len(leading):]
        if node.block or len(words) < len(leading) or len(rest) % 2:
            first = " ".join(word.upper() for word in leading)
            return mapping.skip(node, f"must be {first + ' then ' if first else ''}keyword "
                                "value pairs")
        data.update((rest[index], whole_text(rest[index + 1]))
                    for index in range(0, len(rest), 2))
        problems = Problems("adopt")
        read_block(problems, key, block, data)
        if problems.errors:
            return mapping.skip(node, f"refused by the model: {problems.errors[0].message}")
        mapping.data[key] = data
        return None
    return read


GLOBAL_DEFS = {
    "script_user": _script_user,
    "notification_email": _notification_email,
    "lvs_sync_daemon": _pairs("keepalived_lvs_sync_daemon", LvsSyncDaemon,
                              ("interface", "instance")),
    "lvs_timeouts": _pairs("keepalived_lvs_timeouts", LvsTimeouts),
}


def _global_defs(mapping, node):
    _fields(mapping, node, GlobalDefs, mapping.data.setdefault("keepalived_global_defs", {}),
            GLOBAL_DEFS)


# -- scripts: files read from the host become the deploy's, others stay commands --

def _command(mapping, node, text):
    """`text` as a command line the model takes, else None (the node unmapped)."""
    words = text.split()
    program = words[0] if words else ""
    scripts_dir = Paths().scripts_dir
    if program.startswith(f"{scripts_dir}/"):
        mapping.skip(node, f"{program}: " + SCRIPTS_DIR_PROGRAM.format(dir=scripts_dir))
        return None
    wrong = command_problem(text)
    if wrong:
        mapping.skip(node, f"refused by the model: {wrong}")
        return None
    return " ".join(words)


def _script_file(mapping, command):
    """The path of a script line's program when its file was read with the config and
    it takes no arguments (it becomes the deploy's), else None (it stays a command)."""
    words = command.split()
    if mapping.scripts is None or len(words) != 1 or words[0] not in mapping.scripts:
        return None
    return words[0]


def programs(nodes):
    """The first word of every script and notify line of `nodes` (a parsed tree): the
    programs the config runs (what facts.live_config reads as scripts)."""
    found = set()
    for node in nodes:
        if (node.keyword == "script" or node.keyword.startswith("notify")) and node.args:
            found.add(node.args[0].split()[0])
        found |= programs(node.children)
    return found


def _moved(mapping, path, name):
    mapping.renamed[path] = f"{Paths().scripts_dir}/{name}"


def _check_template(mapping, node, path):
    """The script data of a check script's file read from the host (its text a template
    of the operator's templates/), or None (unmapped)."""
    text = mapping.scripts[path]
    if JINJA_RAW_END.search(text):
        mapping.skip(node, f"{path} holds Jinja's endraw: it cannot be a template")
        return None
    name = path.rsplit("/", 1)[1]
    # (a template renders its text as it is)
    mapping.templates[name] = (text if not re.search(r"{[{%#]", text)
                               else "{% raw %}" + text + "{% endraw %}")
    _moved(mapping, path, name)
    return {"name": name, "template": name}


def _check_script(mapping, node):
    lines = [child for child in node.children if child.keyword == "script"]
    if len(node.args) != 1 or len(lines) != 1 or not lines[0].args:
        return mapping.skip(node, "a vrrp_script needs one name and one script line")
    command = " ".join(lines[0].args)
    path = _script_file(mapping, command)
    if path is not None:
        source = _check_template(mapping, node, path)
    else:
        command = _command(mapping, lines[0], command)
        source = None if command is None else {"name": node.args[0], "check_script": command}
    if source is None:
        return mapping.skip(node, f"its script line is not mapped ({lines[0].where})")
    script = {**source, "vrrp_name": node.args[0], **SCRIPT_DEFAULTS}
    _fields(mapping, node, VrrpScript, script, {"script": lambda *_: None}, SCRIPT_KEYWORDS)
    mapping.data.setdefault("keepalived_check_scripts", []).append(script)
    mapping.tracked.add(node.args[0])
    return None


def _notify(mapping, node, target):
    """A notify line into `target` (an instance or a sync group): its file, read from
    the host, a notify script; else the command as it is."""
    command = " ".join(node.args)
    if not command or node.block:
        return mapping.skip(node, "takes one command here")
    program, *arguments = command.split()
    if mapping.scripts is None or program not in mapping.scripts:
        command = _command(mapping, node, command)
        if command is not None:
            target[node.keyword] = command
        return None
    name = program.rsplit("/", 1)[1]
    script = {"name": name, "content": mapping.scripts[program]}
    problems = Problems("adopt")
    read_block(problems, "keepalived_notify_scripts[]", NotifyScript, script)
    if problems.errors:
        return mapping.skip(node, f"{program} refused by the model: "
                            f"{problems.errors[0].message}")
    scripts = mapping.data.setdefault("keepalived_notify_scripts", [])
    if script not in scripts:
        scripts.append(script)
    target[node.keyword] = " ".join((name, *arguments))
    _moved(mapping, program, name)
    return None


# -- vrrp_instance, vrrp_sync_group --

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
    _fields(mapping, node, VrrpInstance, instance, keywords=("auth_type", "auth_pass"))
    if isinstance(instance.get("auth_pass"), int):  # (a password of digits stays text)
        instance["auth_pass"] = next(child.args[0] for child in node.children
                                     if child.keyword == "auth_pass")


def _track_script(mapping, node, target):
    for child in node.children:
        if child.args:
            mapping.skip(child, "a per-instance weight: the model has none (set the "
                         "check script's weight)")
        elif child.keyword not in mapping.tracked:
            mapping.skip(child, f"tracks vrrp_script {child.keyword}, which is not mapped")
        else:
            target.setdefault("track_scripts", []).append(child.keyword)


TRACKING = {
    "track_interface": _entries("track_interfaces", TrackInterface),
    "track_script": _track_script,
    "track_file": _entries("track_files", TrackedItem),
    "track_process": _entries("track_processes", TrackedItem),
    **{name: _notify for name in VrrpInstance.NOTIFY_KEYS},
}
INSTANCE = {
    **TRACKING,
    "authentication": _authentication,
    "unicast_peer": _unicast_peers,
    "virtual_ipaddress": _entries("virtual_ipaddresses", VirtualIp),
    "virtual_ipaddress_excluded": _entries("virtual_ipaddresses_excluded", VirtualIp),
    "virtual_routes": _entries("virtual_routes", VirtualRoute),
    "virtual_rules": _entries("virtual_rules", IpRule),
    "notify_master_rx_lower_pri": _notify,
}


def _instance(mapping, node):
    if len(node.args) != 1:
        return mapping.skip(node, "an instance needs one name")
    # keepalived's defaults written out: the deploy's own differ (it starts an instance
    # without state as MASTER) or are required (priority)
    instance = {"name": node.args[0], "state": "BACKUP", "priority": 100}
    _fields(mapping, node, VrrpInstance, instance, INSTANCE,
            [name for name in _scalars(VrrpInstance) if name != "name"])
    mapping.data.setdefault("keepalived_vrrp_instances", []).append(instance)
    return None


def _group_members(mapping, node, group):
    group["instances"] = group.get("instances", []) + [
        entry.keyword for entry in node.children]


def _sync_group(mapping, node):
    if len(node.args) != 1:
        return mapping.skip(node, "a sync group needs one name")
    for child in node.children:
        if not child.args and not child.block and child.keyword not in _scalars(SyncGroup):
            mapping.skip(child, OUTSIDE_GROUP)
    given = dataclasses.replace(node, children=tuple(
        child for child in node.children if id(child) not in mapping.skipped))
    group = _fields(mapping, given, SyncGroup, {"instances": []},
                    {**TRACKING, "group": _group_members})
    if not group["instances"]:
        return mapping.skip(node, NO_MEMBERS)
    mapping.data.setdefault("keepalived_sync_groups", {})[node.args[0]] = group
    return None


# -- blocks of the host: static addresses, routes and rules; track_file, track_process

def _host_entries(key, kind):
    read = _entries(key, kind)
    return lambda mapping, node: read(mapping, node, mapping.data)


def _named(key, block):
    """A reader of `KEYWORD NAME { }` into host data `key` by NAME, a `block`."""
    def read(mapping, node):
        if len(node.args) != 1:
            return mapping.skip(node, "needs one name")
        mapping.data.setdefault(key, {})[node.args[0]] = _fields(mapping, node, block, {})
        return None
    return read


# -- LVS: virtual_server, its real servers and checkers; virtual_server_group --

def _address(words):
    """{ip, port} (or {fwmark} or {group}) of a virtual or real server's words; None if
    they are none of those."""
    if len(words) == 2 and words[0] in ("fwmark", "group"):
        return {words[0]: whole_text(words[1])}
    if not 1 <= len(words) <= 2:
        return None
    return {name: whole_text(word) for name, word in zip(("ip", "port"), words)}


def _listed(key, block, nested=None):
    """A reader of `KEYWORD [IP PORT] { }` into `target[key]`, a list of `block`s."""
    def read(mapping, node, target):
        item = _address(node.args) if node.args else {}
        if item is None or not node.block:
            return mapping.skip(node, "must be KEYWORD [IP PORT] { ... }")
        target.setdefault(key, []).append(_fields(mapping, node, block, item, nested))
        return None
    return read


def _sorry_server(mapping, node, server):
    address = _address(node.args)
    if address is None or len(address) != 2 or node.block:
        return mapping.skip(node, "must be sorry_server IP PORT")
    server["sorry_server"] = address
    return None


URL = {"url": _listed("urls", HttpUrl)}
REAL_SERVER = {check.KEYWORD: _listed(key, check, URL if key in ("http_get", "ssl_get")
                                      else None)
               for key, check in CHECKERS.items()}
VIRTUAL_SERVER = {"real_server": _listed("real_servers", RealServer, REAL_SERVER),
                  "sorry_server": _sorry_server}


def _virtual_server(mapping, node):
    server = _address(node.args)
    if server is None:
        return mapping.skip(node, "must be virtual_server IP PORT, fwmark N or group NAME")
    _fields(mapping, node, VirtualServer, server, VIRTUAL_SERVER)
    if "fwmark" in server and server.pop("protocol", None):
        mapping.skip(next(child for child in node.children if child.keyword == "protocol"),
                     FWMARK_PROTOCOL)
    mapping.data.setdefault("keepalived_virtual_servers", []).append(server)
    return None


def _virtual_server_group(mapping, node):
    if len(node.args) != 1:
        return mapping.skip(node, "a virtual_server_group needs one name")
    group = {"name": node.args[0], "vips": []}
    for child in node.children:
        if child.keyword == "fwmark" and "fwmark" not in group:
            _scalar(mapping, child, VirtualServerGroup, "fwmark", group)
        elif child.keyword == "fwmark":
            mapping.skip(child, "a second fwmark: the model's group has one")
        elif len(child.args) == 1 and not child.block and _checked(
                mapping, child, GroupMember, "ip", child.keyword) and _checked(
                mapping, child, GroupMember, "port", whole_text(child.args[0])):
            group["vips"].append({"ip": child.keyword, "port": whole_text(child.args[0])})
        elif id(child) not in mapping.skipped:
            mapping.skip(child, "must be IP PORT (or IP-LAST PORT), or fwmark N")
    mapping.data.setdefault("keepalived_virtual_server_groups", []).append(group)
    return None


BLOCKS = {
    "global_defs": _global_defs,
    "vrrp_script": _check_script,
    "vrrp_instance": _instance,
    "vrrp_sync_group": _sync_group,
    "static_ipaddress": _host_entries("keepalived_static_ipaddresses", VirtualIp),
    "static_routes": _host_entries("keepalived_static_routes", VirtualRoute),
    "static_rules": _host_entries("keepalived_static_rules", IpRule),
    "track_file": _named("keepalived_track_files", TrackFile),
    "track_process": _named("keepalived_track_processes", TrackProcess),
    "virtual_server": _virtual_server,
    "virtual_server_group": _virtual_server_group,
}


def map_config(nodes, scripts=None):
    """The host data of one host's parsed config (`nodes`): a `Mapping`. `scripts`:
    {path: text} of the script files it names, read with it (those become the deploy's
    scripts; any other script stays the command it is).
    In the config's order, as keepalived reads it: a track_script of a vrrp_script written
    further down is one keepalived ignores ("not found"), and so is it here (unmapped)."""
    mapping = Mapping(scripts=scripts)
    for node in nodes:
        keyword = _keyword(mapping, node)
        reader = BLOCKS.get(keyword)
        if reader is None:
            mapping.skip(node, REFUSED.get(keyword, NOT_TYPED))
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
