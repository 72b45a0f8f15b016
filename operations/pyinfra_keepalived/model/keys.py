"""The host data, declared once: one class per keepalived block, one field per key.

Each field carries its type, with the rules of its value (range, pattern, allowed
values: the types of `model.types`, each with the message that says what it allows), its
default and one line of documentation. `HostData.model_validate` checks every value
against them; the validation (`validate`, `instance`, `host_level`) reads each block
with `reading.read_block` (pydantic validates it once, and each refusal becomes a message
naming host, key path, value and what the type allows) and adds the rules between fields
(a VIP's family, unicast peers, VRRPv3 and auth, ...) as named checks. The validated
block is what render receives. Values that are not host data keys but derived by the
validator are declared too, typed `Derived[...]`: no key, no schema, no table row.

Here are the blocks of global_defs, the scripts, the VRRP instances and sync groups, and
`HostData`, the host's keys; the blocks added later live in modules of their own
(`lvs`, `bfd`, `tracking_blocks`, `includes`), which this module imports: their classes
are the types of the fields here.

From these classes also come: the keys `validate` accepts (any other is an error with a
"did you mean"), the defaults given to `blocks.Paths` and `blocks.HostLevel`, the docs'
table of keys and the JSON Schema for host_vars/group_vars YAML (`model.schema`).

A default of None means: unset (optional, or derived, as the description says); a field
whose type has no `| None` refuses an explicit null.
"""

import ipaddress
import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, ConfigDict, Field, Strict
from pydantic.json_schema import WithJsonSchema

from ..host_paths import LOCK_WAIT_SECONDS
from .bfd import BfdInstances
from .commands import command_problem
from .hidden import unhide
from .host_level import option_problem
from .includes import IncludeFile
from .lvs import LvsSyncDaemon, LvsTimeouts, VirtualServer, VirtualServerGroup
from .problems import did_you_mean
from .readers import (
    NAME_RE,
    PASSWORD_RE,
    PROXY_RE,
    VERSION_RE,
    WORD_RE,
    address_family,
)
from .reading import Block, Entry, OrLine, entry_line
from .script_data import (
    CHECK_SCRIPT_TEMPLATES,
    NOTIFY_SCRIPT_TEMPLATES,
    TEMPLATE_ALLOWED,
    TEMPLATE_RE,
    UNIT_ALLOWED,
    UNIT_RE,
    is_unit_name,
    template_vars_problems,
)
from .tracking_blocks import TrackedList, TrackFiles, TrackProcesses, VmacName
from .types import (
    Also,
    CommandLine,
    Count,
    Derived,
    DnsName,
    FileName,
    FilePath,
    Flag,
    Interface,
    IpAddress,
    KeptWhole,
    Label,
    Lines,
    Name,
    OnEntry,
    Says,
    Text,
    User,
    Word,
    address_text,
    checked,
    choice,
    matching,
    seconds,
    whole,
)

# -- types of these blocks' fields --

CHECK_TEMPLATE_EXAMPLE = "check_systemd_service.sh.j2"
CheckTemplate = checked(
    str, lambda value: bool(TEMPLATE_RE.fullmatch(value)), lambda value: (
        f"required: a template name, e.g. {CHECK_TEMPLATE_EXAMPLE}" if value in (None, "")
        else "must be " + TEMPLATE_ALLOWED.format(shipped=", ".join(CHECK_SCRIPT_TEMPLATES))),
    {"type": "string", "pattern": f"^(?:{TEMPLATE_RE.pattern})$"})
# (a notify script's template that is no name at all is asked for by an example)
NotifyTemplate = checked(
    str, lambda value: bool(TEMPLATE_RE.fullmatch(value)), lambda value: (
        "must be " + TEMPLATE_ALLOWED.format(shipped=", ".join(NOTIFY_SCRIPT_TEMPLATES))
        if isinstance(value, str) and value else
        f"must be a template name, e.g. {NOTIFY_SCRIPT_TEMPLATES[0]}"),
    {"type": "string", "pattern": f"^(?:{TEMPLATE_RE.pattern})$"})
ScriptText = checked(str, lambda text: text.startswith("#!"), "must be the script's text, "
                     "starting with #! (keepalived executes the file directly)",
                     {"type": "string", "pattern": "^#!"})
def _password_says(value):
    """What auth_pass must be: a word of 1-8 characters; without keepalived's parameters
    (the one rule a word of WORD_RE can break: readers.PASSWORD_RE)."""
    if (isinstance(value, str) and 1 <= len(value) <= 8 and WORD_RE.fullmatch(value)
            and not PASSWORD_RE.fullmatch(value)):
        return ("must not hold $_: keepalived substitutes its own parameters there "
                "($_RANDOM, $_PWD, ...), another password on each host")
    return ("must be 1-8 characters without spaces, quotes, braces, # or ! (keepalived "
            "silently truncates longer passwords)")


AuthPass = Annotated[
    # text, or a whole number as YAML reads `auth_pass: 1234` (not true, 1.5 or nan); a
    # pyinfra HiddenValue: its real value
    checked(str, lambda value: bool(PASSWORD_RE.fullmatch(value)), _password_says, {}),
    Field(min_length=1, max_length=8),
    BeforeValidator(lambda value: str(unhide(value)) if isinstance(unhide(value), int)
                    and not isinstance(unhide(value), bool) else unhide(value)),
    WithJsonSchema({"type": ["string", "integer"], "pattern": f"^(?:{PASSWORD_RE.pattern})$",
                    "minLength": 1, "maxLength": 8}), Also("int")]
GroupName = matching(NAME_RE, "a group name of letters, digits and _ . -")
PackageVersion = Annotated[
    matching(VERSION_RE, "a package version, e.g. 1:2.2.7-1+b2 (apt) or 2.2.8 (dnf): a "
                         "digit, then letters, digits and . + ~ : _ -"),
    # YAML reads 2.2 as a number
    BeforeValidator(lambda value: str(value) if isinstance(value, (int, float)) else value),
    WithJsonSchema({"type": ["string", "number"]}), Also("int", "float")]
UnitName = checked(str, is_unit_name, f"must be {UNIT_ALLOWED}",
                   {"type": "string", "pattern": f"^(?:{UNIT_RE.pattern})$"})
Proxy = matching(PROXY_RE, "an http:// URL with a host, e.g. http://apt-cache.example:3142")
DaemonOption = checked(str, lambda option: option_problem(option) is None, option_problem,
                       {"type": "string", "pattern": "^--"})


def template_vars(reserved):
    """A script's `vars`: {identifier: one line of text, a number, true/false or a list
    of those}; `reserved`: the names its template gets from the script itself."""
    return checked(dict[str, Any], lambda value: not any(
        template_vars_problems("vars", value, reserved)),
        "must be a mapping of names to values", {"type": "object"}, strict=False)


# -- keepalived_global_defs --

# microseconds of realtime CPU between blocking calls: not below keepalived's default (the
# kernel kills a realtime process that runs longer: its VIPs would flap)
RtTime = whole(10000, 2**31 - 1, "must be a whole number of microseconds 10000 (keepalived's "
               "default) or more: the kernel kills a realtime process that runs longer")
SNMP_SOCKET_RE = re.compile(r"(?:(?:udp|tcp)6?:[A-Za-z0-9.:\[\]-]+|unix:/[A-Za-z0-9_./-]+)")
NOTIFY = "a script of keepalived_notify_scripts, optionally followed by arguments"
NotifyCommand = Annotated[str, Strict(), Says(
    lambda value: f"{command_problem(value)} (or name a script of keepalived_notify_scripts)")]


def multicast(family):
    """A multicast address of IPv`family`."""
    def test(value):
        address = address_text(value)
        return address is not None and ipaddress.ip_address(address).version == family \
            and ipaddress.ip_address(address).is_multicast and address
    return checked(str, test, f"must be an IPv{family} multicast address, e.g. "
                   f"{VRRP_GROUPS[family]}", {"type": "string"})


# Where multicast adverts go unless vrrp_mcast_group4/6 say otherwise (RFC 5798 5.1.1.2,
# 5.1.2.2; keepalived's defaults).
VRRP_GROUPS = {4: "224.0.0.18", 6: "ff02::12"}


class GlobalDefs(Block):
    """`global_defs { }` keywords (`keepalived_global_defs`); `true` renders the bare
    keyword."""

    # rendered on lines of their own; `options` are the others
    OWN_LINES: ClassVar = ("script_user", "enable_script_security", "extra_lines")

    router_id: Word = Field(None, description="this host's name in emails and SNMP")
    notification_email: Annotated[list[Word], Field(min_length=1), Says(
        lambda value: "must list at least one address (keepalived rejects an empty block); "
                      "leave the key out instead" if isinstance(value, (list, tuple))
        else "must be a list")] = Field(None, description="addresses to mail on state "
                                              "changes (at least one)")
    notification_email_from: Word = Field(None, description="sender of those mails")
    smtp_server: Word = Field(None, description="SMTP server for those mails")
    smtp_connect_timeout: whole(1, 4294) = Field(None, description="seconds")
    enable_script_security: Flag = Field(True, description="scripts run as the script "
                                         "user, not root; off is a warning")
    script_user: Word = Field(None, description="set keepalived_check_script_user "
                                     "instead (the same or an error)")
    vrrp_skip_check_adv_addr: Flag = Field(None, description="skip checking adverts' "
                                                  "addresses")
    vrrp_strict: Flag = Field(None, description="strict RFC compliance")
    vrrp_check_unicast_src: Flag = Field(
        None, description="drop unicast adverts whose source is not in unicast_peers "
                          "(default: on when an instance is unicast)")
    vrrp_garp_interval: seconds(0.000001, 4294) = Field(
        None, description="delay between gratuitous ARPs")
    vrrp_gna_interval: seconds(0.000001, 4294) = Field(
        None, description="delay between unsolicited neighbour adverts")
    vrrp_garp_master_delay: whole(0, 4294) = Field(
        None, description="seconds before the second set of GARPs after becoming MASTER")
    vrrp_garp_master_repeat: Count = Field(
        None, description="GARPs sent at once")
    vrrp_garp_master_refresh: whole(0, 4294) = Field(
        None, description="seconds between GARP refreshes as MASTER (0: none)")
    max_auto_priority: whole(-1, 99) = Field(
        None, description="realtime scheduling priority (-1: off)")
    dynamic_interfaces: Flag = Field(None, description="interfaces may come and go")
    vrrp_version: choice(2, 3) = Field(None, description="VRRP version of every "
                                              "instance (default 2; IPv6 is always 3)")
    extra_lines: Lines = Field([], description="raw lines for global_defs, not validated "
                               "(keepalived -t checks them)")
    vrrp_mcast_group4: multicast(4) = Field(
        None, description="IPv4 group of multicast adverts (default 224.0.0.18); the host "
                          "firewall lets adverts to it in")
    vrrp_mcast_group6: multicast(6) = Field(
        None, description="IPv6 group of multicast adverts (default ff02::12)")
    vrrp_startup_delay: seconds(0, 4294) = Field(
        None, description="seconds VRRP waits after keepalived starts (e.g. for bonds to "
                          "come up)")
    vrrp_lower_prio_no_advert: Flag = Field(
        None, description="a master that receives a lower priority advert sends none back "
                          "(default for the instances' lower_prio_no_advert)")
    vrrp_higher_prio_send_advert: Flag = Field(
        None, description="a master that receives a higher priority advert sends one before "
                          "it steps down (default for higher_prio_send_advert)")
    vrrp_priority: whole(-20, 19) = Field(None, description="nice value of the VRRP process")
    checker_priority: whole(-20, 19) = Field(None, description="nice value of the checker "
                                             "(LVS) process")
    bfd_priority: whole(-20, 19) = Field(None, description="nice value of the BFD process")
    vrrp_no_swap: Flag = Field(None, description="lock the VRRP process in memory")
    checker_no_swap: Flag = Field(None, description="lock the checker process in memory")
    bfd_no_swap: Flag = Field(None, description="lock the BFD process in memory")
    vrrp_notify_fifo: FilePath = Field(
        None, description="a FIFO keepalived writes every VRRP state change to")
    vrrp_notify_fifo_script: NotifyCommand = Field(
        None, description=NOTIFY + ", run with the FIFO's name (needs vrrp_notify_fifo)")
    enable_snmp_vrrp: Flag = Field(None, description="keepalived's VRRP MIB over AgentX")
    enable_snmp_checker: Flag = Field(None, description="keepalived's checker MIB over "
                                      "AgentX")
    enable_snmp_rfc: Flag = Field(None, description="the VRRP MIBs of RFC 2787 and 6527")
    snmp_socket: matching(SNMP_SOCKET_RE, "an AgentX socket, e.g. udp:127.0.0.1:705, "
                                          "tcp:127.0.0.1:705 or unix:/var/agentx/master") = \
        Field(None, description="the SNMP master agent's AgentX socket (default "
                                "unix:/var/agentx/master)")
    enable_traps: Flag = Field(None, description="send SNMP traps")
    smtp_alert: Flag = Field(None, description="mail on every state change (default of the "
                             "instances' and sync groups' smtp_alert)")
    lvs_flush: Flag = Field(None, description="flush the LVS table when keepalived starts")
    vrrp_rt_priority: whole(1, 99) = Field(None, description="realtime scheduling priority "
                                          "of the VRRP process")
    checker_rt_priority: whole(1, 99) = Field(None, description="realtime scheduling "
                                             "priority of the checker process")
    bfd_rt_priority: whole(1, 99) = Field(None, description="realtime scheduling priority "
                                         "of the BFD process")
    vrrp_rlimit_rttime: RtTime = Field(None, description="microseconds of CPU the realtime "
                                       "VRRP process may use between blocking calls")
    checker_rlimit_rttime: RtTime = Field(None, description="the same, checker process")
    bfd_rlimit_rttime: RtTime = Field(None, description="the same, BFD process")
    enable_dbus: Flag = Field(None, description="keepalived's D-Bus interface")
    enable_snmp_rfcv2: Flag = Field(None, description="the VRRP MIB of RFC 2787 only")
    enable_snmp_rfcv3: Flag = Field(None, description="the VRRP MIB of RFC 6527 only")
    vrrp_garp_lower_prio_delay: whole(0, 4294) = Field(
        None, description="seconds before the second set of GARPs after a lower priority "
                          "advert")
    vrrp_garp_lower_prio_repeat: Count = Field(None, description="GARPs sent after a lower "
                                               "priority advert")
    vrrp_garp_master_refresh_repeat: Count = Field(None, description="GARPs sent at each "
                                                   "refresh as MASTER")
    vrrp_min_garp: Flag = Field(None, description="one GARP/NA on becoming MASTER, no "
                                "second set")
    no_email_faults: Flag = Field(None, description="no mail for FAULT states")
    smtp_alert_vrrp: Flag = Field(None, description="mail on VRRP state changes (default "
                                  "of the instances' smtp_alert; smtp_alert: all)")
    vrrp_notify_priority_changes: Flag = Field(
        None, description="write priority changes to the notify FIFOs (default of the "
                          "instances' notify_priority_changes)")
    notify_fifo: FilePath = Field(None, description="a FIFO keepalived writes every "
                                      "state change to (VRRP and LVS)")
    notify_fifo_script: NotifyCommand = Field(
        None, description=NOTIFY + ", run with the FIFO's name (needs notify_fifo)")
    smtp_helo_name: Word = Field(None, description="name in the SMTP HELO (default: the "
                                 "host name)")
    # commands: one quoted string (keepalived reads a word after the script as its user)
    COMMANDS: ClassVar = ("vrrp_notify_fifo_script", "notify_fifo_script")
    # FIFO -> the script that reads it
    FIFOS: ClassVar = {"vrrp_notify_fifo": "vrrp_notify_fifo_script",
                       "notify_fifo": "notify_fifo_script"}

    @property
    def options(self):
        """((keyword, value), ...): the keywords set, but those of OWN_LINES; a value True
        renders the bare keyword, False nothing; a command in quotes."""
        return tuple((key, f'"{value}"' if key in self.COMMANDS else value)
                     for key, value in ((key, getattr(self, key)) for key in self.keys())
                     if key not in self.OWN_LINES and value is not None)

    @property
    def mcast_groups(self):
        """{4: address, 6: address}: where multicast adverts go: keepalived's default
        groups, those set by vrrp_mcast_group4/6, or by extra_lines (the later line)."""
        groups = {family: getattr(self, f"vrrp_mcast_group{family}") or group
                  for family, group in VRRP_GROUPS.items()}
        for line in self.extra_lines:
            words = line.split()
            for family in groups:
                if len(words) >= 2 and words[0] == f"vrrp_mcast_group{family}":
                    groups[family] = words[1]
        return groups


# -- keepalived_check_scripts[] --

class VrrpScript(Block):
    """A check script (`keepalived_check_scripts[]`): its file in the scripts dir, and its
    `vrrp_script` block."""

    # What its template sees besides `vars` (which may not shadow these).
    TEMPLATE_KEYS: ClassVar = ("name", "vrrp_name", "template", "path", "interval", "weight",
                               "fall", "rise", "timeout", "user")

    name: FileName = Field(description="file name in the scripts dir (required), e.g. "
                       "check_ssh.sh")
    template: CheckTemplate | None = Field(None, description="template file name, from "
                                           "./templates/ or the shipped templates/scripts/ "
                                           "(this or check_script)")
    vrrp_name: Name = Field(None, description="the name instances track it by "
                                   "(default: name without extension)")
    service_name: UnitName | None = Field(None, description="a systemd unit name, for the "
                                      "template")
    interval: whole(1, 4294, "must be a whole number of seconds 1-4294") = Field(
        2, description="seconds between runs")
    weight: whole(-253, 253) | None = Field(None, description="added to the priority (>0: "
                                            "while it succeeds; <0: while it fails); unset: "
                                            "a failure means FAULT")
    fall: whole(1, 2**31 - 1, "must be a whole number 1 or more") = Field(
        2, description="failures in a row before it counts as failed")
    rise: whole(1, 2**31 - 1, "must be a whole number 1 or more") = Field(
        2, description="successes in a row before it counts as passing")
    timeout: whole(1, 4294, "must be a whole number of seconds 1-4294") | None = Field(
        None, description="seconds before a run counts as failed (default: interval)")
    user: User = Field(None, description="user it runs as (default: "
                              "keepalived_check_script_user; root: a warning)")
    vars: template_vars(TEMPLATE_KEYS) = Field(
        {}, description="other values for the template (identifiers; one line of text, "
                        "numbers, booleans or lists of those)")
    extra_lines: Lines = Field([], description="raw lines for the vrrp_script block")
    path: Derived[str | None] = Field(None, description="absolute path of the script on the "
                                      "host (None for a check_script)")
    check_script: CommandLine | None = Field(
        None, description="a command instead of a script file (this or template), e.g. "
                          "\"pgrep -x haproxy\": checked on the host before it goes live")
    init_fail: Flag = Field(False, description="the script counts as failed until it "
                            "succeeds rise times (default: as passing)")

    def template_variables(self):
        """What the script's template sees: its own keys, and the vars given for it."""
        return {**{key: getattr(self, key) for key in self.TEMPLATE_KEYS},
                **{key: value for key, value in self.vars.items() if value is not None}}


class BannerCheckVars(Block):
    """`vars` of the shipped check_ssh_banner.sh.j2."""

    address: IpAddress = Field("127.0.0.1", description="where sshd listens (IPv4 or IPv6)")
    port: whole(1, 65535) = Field(22, description="sshd's port")
    banner_timeout: seconds(0.01, 4294, 2) | None = Field(
        None, description="seconds to wait for the banner (default 1, or half the interval "
                          "or timeout when shorter; must be less than both)")


# -- keepalived_notify_scripts[] --

class NotifyScript(Block):
    """A notify script file (`keepalived_notify_scripts[]`), named by instances' notify_*
    keys: from a template or given content."""

    TEMPLATE_KEYS: ClassVar = ("name", "path")  # what its template sees besides `vars`

    name: FileName = Field(description="file name in the scripts dir (required)")
    template: NotifyTemplate | None = Field(None, description="template file name (this or "
                                            "content)")
    content: ScriptText | None = Field(None, description="the script's text, starting with #! "
                                 "(this or template)")
    vars: template_vars(TEMPLATE_KEYS) = Field({}, description="values for the template")
    path: Derived[str] = Field(None, description="absolute path of the script on the host")

    def template_variables(self):
        """What the script's template sees: its name and path, and the vars given for it."""
        return {**{key: getattr(self, key) for key in self.TEMPLATE_KEYS}, **self.vars}


# -- keepalived_vrrp_instances[] and their entries --

def vip_address_problem(text):
    """Why `text` is no VIP address (ADDRESS/PREFIX, or ADDRESS: a warning elsewhere), or
    None."""
    try:
        address = ipaddress.ip_interface(str(text).strip())
    except ValueError:
        return ("must be an IPv4 or IPv6 address with a prefix, e.g. 192.168.1.100/24 or "
                "2001:db8::100/64")
    if "/" in str(text) and address.network.prefixlen < address.max_prefixlen - 1 and \
            address.ip in (address.network.network_address,
                           address.network.broadcast_address):
        return "is the network or broadcast address of its subnet"
    return None


def _network(text):
    """The network `text` writes (no host bits set), or None."""
    try:
        return ipaddress.ip_network(text)
    except ValueError:
        return None


def _vip_address(text):
    """The address as ipaddress writes it (its prefix kept, or none), or None."""
    if vip_address_problem(text) is not None:
        return None
    address = ipaddress.ip_interface(text.strip())
    return str(address) if "/" in text else str(address.ip)


VipAddress = Annotated[
    checked(str, _vip_address, lambda text: "required: address with prefix, e.g. "
            "192.168.1.100/24" if text is None else vip_address_problem(text),
            {"type": "string"}), OnEntry()]
RouteTo = checked(str, lambda text: text == "default" or _network(text) is not None,
                  "must be a network (192.168.2.0/24, 2001:db8:2::/64, with no host bits "
                  "set) or default", {"type": "string"})
RouteTable = Annotated[Name, BeforeValidator(lambda value: value if isinstance(value, str)
                                             else str(value)),
                       Says("must be a routing table number or name")]


class VirtualIp(Entry):
    """One `virtual_ipaddress { }` line: "ADDRESS [dev D] [label L] [scope S]" or a
    mapping."""

    address: VipAddress = Field(description="address with prefix, e.g. 192.168.1.100/24 "
                          "(required)")
    dev: Interface | None = Field(None, description="interface (default: the instance's)")
    label: Label | None = Field(None, description="IPv4 only, e.g. eth0:vip")
    scope: choice("global", "site", "link", "host", "nowhere") | None = Field(
        None, description="address scope")
    brd: IpAddress | None = Field(None, description="IPv4 broadcast address (keepalived's "
                                  "brd or broadcast)")

    def __str__(self):
        return entry_line(self, "address", ("brd", "dev", "label", "scope"))


class VirtualRoute(Entry):
    """One `virtual_routes { }` line: "TO [via V] [dev D] ..." or a mapping."""

    to: RouteTo = Field(description="a network, e.g. 192.168.2.0/24, or default (required)")
    via: IpAddress | None = Field(None, description="gateway address")
    dev: Interface | None = Field(None, description="interface (default: the instance's)")
    src: IpAddress | None = Field(None, description="source address")
    metric: whole(0, 2**32 - 1) | None = Field(None, description="route metric")
    NUMBERS: ClassVar = ("metric",)

    table: RouteTable | None = Field(
        None, description="routing table number or name")
    scope: choice("global", "site", "link", "host", "nowhere") | None = Field(
        None, description="route scope")

    def __str__(self):
        return entry_line(self, "to", ("src", "via", "dev", "scope", "table", "metric"))


class TrackInterface(Entry):
    """One `track_interface { }` line: "NAME [weight W]" or a mapping."""

    NUMBERS: ClassVar = ("weight",)

    interface: Interface = Field(description="another interface than the instance's (required)")
    weight: whole(-253, 253) | None = Field(None, description="added to the priority while "
                                            "down; unset: down means FAULT")

    def __str__(self):
        return entry_line(self, "interface", ("weight",))


RuleAddress = checked(str, lambda text: text == "all" or _network(text) is not None,
                      "must be an address, a network (e.g. 192.168.2.0/24) or all",
                      {"type": "string"})


class IpRule(Entry):
    """One `virtual_rules { }` / `static_rules { }` line, ip-rule(8) style: "from F table
    T ..." (keyword value pairs) or a mapping."""

    NUMBERS: ClassVar = ("priority", "fwmark")

    from_: RuleAddress | None = Field(None, alias="from", description="source address or "
                                      "network, or all")
    to: RuleAddress | None = Field(None, description="destination address or network")
    iif: Interface | None = Field(None, description="incoming interface")
    oif: Interface | None = Field(None, description="outgoing interface")
    fwmark: whole(0, 2**32 - 1) | None = Field(None, description="firewall mark")
    priority: whole(0, 2**32 - 1) = Field(description="rule priority, ip rule's preference "
                                          "(required: keepalived refuses a rule without)")
    table: RouteTable = Field(
        description="routing table the rule looks up, number or name (required)")

    @classmethod
    def from_line(cls, line):
        words = line.split()
        if not words or len(words) % 2:
            raise ValueError("not keyword value pairs")
        return dict(zip(words[::2], words[1::2]))

    @classmethod
    def line_says(cls):
        return f"keyword value pairs ({', '.join(cls.keys())})"

    def __str__(self):
        words = [(key, getattr(self, name)) for key, name in (
            ("from", "from_"), ("to", "to"), ("iif", "iif"), ("oif", "oif"),
            ("fwmark", "fwmark"), ("priority", "priority"), ("table", "table"))]
        return " ".join(f"{key} {value}" for key, value in words if value is not None)


class VrrpInstance(Block):
    """`vrrp_instance NAME { }` (`keepalived_vrrp_instances[]`)."""

    name: Name = Field(description="instance name, the same on every host (required)")
    interface: Interface = Field(description="interface VRRP runs on (required)")
    state: choice("MASTER", "BACKUP") = Field(
        None, description="initial state (default: keepalived_state, else MASTER)")
    virtual_router_id: whole(1, 255) = Field(description="VRID, the same on every peer "
                                             "(required)")
    priority: whole(1, 255, "must be a whole number 1-255 (255 only for the address "
                            "owner)") = Field(
        None, description="highest wins (required here or as keepalived_priority; 255 only "
                          "for the address owner)")
    virtual_ipaddresses: Annotated[
        list[Annotated[VirtualIp, OrLine()]], Field(min_length=1), Says(
            lambda value: "required: at least one virtual IP address"
            if value is None or isinstance(value, (list, tuple)) else "must be a list")] = Field(
        description="at least one virtual IP address, one family (required)")
    advert_int: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False), KeptWhole,
                          Says("must be a number of seconds greater than 0")] = Field(1, description="seconds between adverts: whole 1-255 (VRRPv2) "
                              "or 0.01-40.95 in steps of 0.01 (VRRPv3)")
    auth_type: choice("PASS", "AH") | None = Field(
        None, description="VRRPv2 only (default PASS when auth_pass is set)")
    auth_pass: AuthPass | None = Field(None, repr=False, description="1-8 characters, a "
                                         "secret (may be a pyinfra HiddenValue; never shown)")
    track_scripts: list[Text] = Field([], description="vrrp_names of check scripts")
    version: choice(2, 3) | None = Field(None, description="VRRP version (default: "
                                         "global_defs' vrrp_version; IPv6: 3)")
    native_ipv6: Flag = Field(False, description="IPv6 adverts without IPv6 VIPs")
    nopreempt: Flag = Field(False, description="a higher priority does not take over "
                            "(needs state BACKUP)")
    preempt_delay: seconds(0, 1000, 6, "must be a number of seconds 0-1000 (at most 6 "
                           "decimals)") | None = Field(
        None, description="seconds before a higher priority takes over (needs BACKUP)")
    garp_master_delay: whole(0, 4294, "must be a whole number of seconds, 0-4294") | None \
        = Field(None, description="seconds before the second set of GARPs")
    garp_master_refresh: whole(0, 4294, "must be a whole number of seconds, 0-4294") | None \
        = Field(None, description="seconds between GARP refreshes as MASTER")
    unicast_src_ip: IpAddress | None = Field(None, description="this host's address for unicast "
                                        "(default: keepalived_unicast_src_ip)")
    unicast_peers: Annotated[Literal["inventory"] | list[IpAddress], Says(
        'must be a list of addresses, or "inventory"')] | None = Field(
        None, description="peer addresses, or \"inventory\": the other hosts' of this "
                          "instance (unset: multicast)")
    track_interfaces: list[Annotated[TrackInterface, OrLine()]] = Field(
        [], description="other interfaces whose state counts")
    virtual_ipaddresses_excluded: list[Annotated[VirtualIp, OrLine()]] = Field(
        [], description="addresses moved along but not in adverts")
    virtual_routes: list[Annotated[VirtualRoute, OrLine()]] = Field([], description="routes moved "
                                                          "with the VIPs")
    notify_master: NotifyCommand | None = Field(None, description=NOTIFY + ", run on MASTER")
    notify_backup: NotifyCommand | None = Field(None, description=NOTIFY + ", run on BACKUP")
    notify_fault: NotifyCommand | None = Field(None, description=NOTIFY + ", run on FAULT")
    notify_stop: NotifyCommand | None = Field(None, description=NOTIFY + ", run on stop")
    notify: NotifyCommand | None = Field(None, description=NOTIFY + ", run on every change (with "
                                "INSTANCE NAME STATE PRIORITY)")
    extra_lines: Lines = Field([], description="raw lines for the vrrp_instance block")
    effective_version: Derived[int] = Field(2, description="the VRRP version keepalived "
                                            "uses: version, vrrp_version, 3 for IPv6")
    peers_from_inventory: Derived[bool] = Field(False, description="unicast_peers "
                                                "\"inventory\": model.peers fills them in")
    # (model.tracking_blocks: TrackedList, VmacName; the items it checks the names of)
    track_processes: TrackedList = Field([], description="names of "
                                           "keepalived_track_processes, each optionally "
                                           "with its own weight")
    track_processs: TrackedList = Field([], description="the Ansible role's spelling of "
                                          "track_processes (not both)")
    track_files: TrackedList = Field([], description="names of keepalived_track_files, "
                                       "each optionally with its own weight")
    use_vmac: VmacName = Field(False, description="true: the VIPs on a macvlan with the "
                                 "VRRP MAC 00:00:5e:00:01:VRID (named vrrp.VRID), or that "
                                 "macvlan's name")
    vmac_xmit_base: Flag = Field(False, description="with use_vmac: send and receive adverts "
                                 "on the base interface (needed with unicast_peers)")
    use_vmac_addr: Flag = Field(False, description="with use_vmac: a macvlan also for VIPs "
                                "on other interfaces or of the other family (keepalived "
                                "2.2.0 or later)")
    notify_master_rx_lower_pri: NotifyCommand | None = Field(
        None, description=NOTIFY + ", run when the master receives a lower priority advert")
    mcast_src_ip: IpAddress | None = Field(
        None, description="source address of multicast adverts (default: the interface's "
                          "first); unicast instances set unicast_src_ip")
    track_src_ip: Flag = Field(False, description="FAULT while mcast_src_ip / unicast_src_ip "
                               "is not on the host")
    dont_track_primary: Flag = Field(False, description="ignore faults of the instance's "
                                     "interface")
    accept: Flag | None = Field(None, description="true: accept packets to the VIPs as a "
                                "non-owner (accept); false: drop them (no_accept; default "
                                "with strict_mode)")
    promote_secondaries: Flag = Field(False, description="set promote_secondaries on the "
                                      "interface: removing a VIP keeps the other addresses "
                                      "of its subnet")
    skip_check_adv_addr: Flag | None = Field(
        None, description="skip checking the addresses of adverts from the current master "
                          "(default: global_defs' vrrp_skip_check_adv_addr)")
    strict_mode: Flag | None = Field(None, description="strict RFC compliance (default: "
                                     "global_defs' vrrp_strict)")
    debug: whole(0, 4) | None = Field(None, description="debug level")
    garp_master_repeat: Count | None = Field(
        None, description="GARPs sent at once on becoming MASTER")
    garp_master_refresh_repeat: Count | None = Field(
        None, description="GARPs sent at each refresh")
    garp_lower_prio_delay: whole(0, 4294) | None = Field(
        None, description="seconds before the second set of GARPs after a lower priority "
                          "advert")
    garp_lower_prio_repeat: Count | None = Field(
        None, description="GARPs sent after a lower priority advert")
    lower_prio_no_advert: Flag | None = Field(
        None, description="send no advert on receiving a lower priority one (default: "
                          "global_defs' vrrp_lower_prio_no_advert)")
    higher_prio_send_advert: Flag | None = Field(
        None, description="send an advert on receiving a higher priority one, before "
                          "stepping down (default: vrrp_higher_prio_send_advert)")
    kernel_rx_buf_size: Count | None = Field(
        None, description="bytes of the VRRP socket's receive buffer")
    smtp_alert: Flag | None = Field(None, description="mail on state changes (default: "
                                    "global_defs' smtp_alert)")
    notify_priority_changes: Flag | None = Field(
        None, description="write priority changes to the notify FIFO")
    virtual_rules: list[Annotated[IpRule, OrLine()]] = Field(
        [], description="ip rules moved with the VIPs")
    unicast_ttl: whole(0, 255) | None = Field(None, description="TTL / hop limit of unicast "
                                             "adverts")
    check_unicast_src: Flag = Field(False, description="drop unicast adverts whose source "
                                    "is not a unicast peer (global_defs' "
                                    "vrrp_check_unicast_src: every instance)")
    multicast_group: Derived[str | None] = Field(
        None, description="where its multicast adverts go when global_defs sets a group "
                          "other than keepalived's default (None: the default, or unicast)")

    NOTIFY_KEYS: ClassVar = ("notify_master", "notify_backup", "notify_fault", "notify_stop",
                             "notify", "notify_master_rx_lower_pri")
    # rendered as `keyword [value]` (options): true a bare keyword, false `keyword false`
    # where unset inherits global_defs (default None), else nothing
    OPTIONS: ClassVar = ("mcast_src_ip", "track_src_ip", "dont_track_primary",
                         "promote_secondaries", "skip_check_adv_addr", "strict_mode", "debug",
                         "garp_master_repeat", "garp_master_refresh_repeat",
                         "garp_lower_prio_delay", "garp_lower_prio_repeat",
                         "lower_prio_no_advert", "higher_prio_send_advert",
                         "kernel_rx_buf_size", "smtp_alert", "notify_priority_changes",
                         "unicast_ttl", "check_unicast_src")
    # keywords of extra_lines that change which addresses adverts come from or go to: the
    # typed keys (unicast_peers, unicast_src_ip) do not show them
    RAW_ADDRESSING: ClassVar = ("unicast_peer", "unicast_src_ip", "mcast_src_ip")
    # (model.bfd: the bfd instances it checks the names of)
    track_bfds: TrackedList = Field([], description="names of keepalived_bfd_instances, "
                                      "each optionally with its own weight")

    @property
    def raw_addressing(self):
        """The first keyword of RAW_ADDRESSING that extra_lines use, or None."""
        return next((line.split()[0] for line in self.extra_lines
                     if line.split() and line.split()[0] in self.RAW_ADDRESSING), None)

    @property
    def notify_commands(self):
        """((keyword, command), ...) of the notify keys set, e.g. ("notify_master",
        "/etc/keepalived/scripts/s.sh MASTER")."""
        return notify_commands(self)

    @property
    def options(self):
        """The lines of the OPTIONS set, and accept / no_accept."""
        lines = [option_line(self, key) for key in self.OPTIONS]
        if self.accept is not None:
            lines.append("accept" if self.accept else "no_accept")
        return tuple(line for line in lines if line)

    @property
    def family(self):
        """4 or 6: the address family of the VIPs, and of the VRRP adverts."""
        return address_family(self.virtual_ipaddresses[0].address)


def notify_commands(block):
    """((keyword, command), ...) of `block`'s NOTIFY_KEYS that are set."""
    return tuple((key, getattr(block, key)) for key in block.NOTIFY_KEYS
                 if getattr(block, key) is not None)


def option_line(block, key):
    """`key` of `block` as a keepalived line: True the bare keyword; False `key false`
    where the field's default is None (unset inherits a global default), else nothing; a
    value `key value`; unset nothing."""
    value = getattr(block, key)
    if value is None or (value is False and block.default(key) is False):
        return None
    if isinstance(value, bool):
        return key if value else f"{key} false"
    return f"{key} {value}"


class SyncGroup(Block):
    """`vrrp_sync_group NAME { }` (`keepalived_sync_groups.NAME`)."""

    name: Derived[str] = Field(None, description="its key in keepalived_sync_groups")

    instances: list[Name] = Field(description="two or more instances of this host that "
                                  "change state together")
    track_processes: TrackedList = Field([], description="names of "
                                           "keepalived_track_processes, for every member")
    track_processs: TrackedList = Field([], description="the Ansible role's spelling of "
                                          "track_processes (not both)")
    track_files: TrackedList = Field([], description="names of keepalived_track_files, "
                                       "for every member")
    notify_master: NotifyCommand | None = Field(None, description=NOTIFY + ", run when the group "
                                       "becomes MASTER")
    notify_backup: NotifyCommand | None = Field(None, description=NOTIFY + ", run on BACKUP")
    notify_fault: NotifyCommand | None = Field(None, description=NOTIFY + ", run on FAULT")
    notify_stop: NotifyCommand | None = Field(None, description=NOTIFY + ", run on stop")
    notify: NotifyCommand | None = Field(None, description=NOTIFY + ", run on every change (with "
                                "GROUP NAME STATE)")
    smtp_alert: Flag | None = Field(None, description="mail on state changes (default: "
                                    "global_defs' smtp_alert)")
    global_tracking: Flag = Field(False, description="deprecated, refused (keepalived -t "
                                  "fails on it): use the group's track_* instead")
    track_interfaces: list[Annotated[TrackInterface, OrLine()]] = Field(
        [], description="interfaces whose fault puts the whole group in FAULT")
    track_scripts: Annotated[list[Annotated[str, Strict()]], Says(
        "must be a list of vrrp_names of check scripts")] = Field(
        [], description="vrrp_names of check scripts whose "
                                      "failure puts the whole group in FAULT")
    track_bfds: TrackedList = Field([], description="names of keepalived_bfd_instances, "
                                      "for every member")

    NOTIFY_KEYS: ClassVar = ("notify_master", "notify_backup", "notify_fault", "notify_stop",
                             "notify")
    OPTIONS: ClassVar = ("smtp_alert",)

    @property
    def notify_commands(self):
        """((keyword, command), ...) of the notify keys set."""
        return notify_commands(self)

    @property
    def options(self):
        """The lines of the OPTIONS set."""
        return tuple(line for line in map(lambda key: option_line(self, key), self.OPTIONS)
                     if line)


# -- the host's data --

BASE_DIR = "/etc/keepalived"
SCRIPT_USER = "keepalived_script"
BASE_DIR_VAR_RE = re.compile(r"\{\{\s*keepalived_base_dir\s*\}\}")


def in_base_dir(path, base_dir):
    """A path key's value with {{ keepalived_base_dir }} (its default's) filled in."""
    return BASE_DIR_VAR_RE.sub(base_dir, path) if isinstance(path, str) else path


class HostData(Block):
    """A host's keepalived_* keys (pyinfra host/group data, or Ansible host_vars/group_vars).
    Other keys (ssh_hostname, ...) are the inventory's; an unknown keepalived_* key is an
    error."""

    model_config = ConfigDict(extra="allow", frozen=True)  # (see model.schema)

    keepalived_base_dir: Text = Field(BASE_DIR, description="base directory, two levels "
                                      "deep or more")
    keepalived_config_file: Text = Field("{{ keepalived_base_dir }}/keepalived.conf",
                                         description="main file (another: a warning)")
    keepalived_config_dir: Text = Field("{{ keepalived_base_dir }}/conf.d",
                                        description="included files")
    keepalived_check_scripts_dir: Text = Field("{{ keepalived_base_dir }}/scripts",
                                               description="check and notify scripts")
    keepalived_check_script_user: User = Field(SCRIPT_USER, description="user scripts run "
                                               "as (created by the deploy; root: a warning)")
    keepalived_global_defs: GlobalDefs = Field({}, description="global_defs keywords")
    keepalived_vrrp_instances: list[VrrpInstance] = Field([], description="VRRP "
                                                              "instances")
    keepalived_check_scripts: list[VrrpScript] = Field([], description="check scripts")
    keepalived_priority: whole(1, 255, "must be a whole number 1-255 (255 only for the "
                               "address owner)") | None = Field(
        None, description="priority of this host's instances that set none")
    keepalived_state: choice("MASTER", "BACKUP") | None = Field(
        None, description="state of this host's instances that set none")
    keepalived_package_version: PackageVersion | None = Field(
        None, description="package pin, e.g. 1:2.2.7-1+b2 (apt) or 2.2.8 (dnf)")
    keepalived_package_proxy: Proxy | None = Field(
        None, description="HTTP proxy for the package download only, e.g. "
                          "http://apt-cache:3142")
    keepalived_notify_scripts: list[NotifyScript] = Field([], description="notify "
                                                              "script files")
    keepalived_sync_groups: dict[GroupName, SyncGroup] = Field({}, description="sync "
                                                              "groups by name")
    keepalived_unicast_src_ip: IpAddress | None = Field(
        None, description="this host's VRRP address, for unicast_peers \"inventory\" "
                          "(default: ssh_hostname if an IP address)")
    keepalived_vip_names: dict[Text, list[DnsName]] = Field(
        {}, description="DNS names of VIPs, {address: [name]}, for known_hosts.py")
    keepalived_ssh_port: whole(1, 65535) = Field(
        22, description="the port SSH clients use through the VIPs: known_hosts.py writes "
                        "[address]:port for another")
    keepalived_ssh_host_keys: Annotated[choice("per-host", "shared"), Says(
        "must be one of: per-host, shared")] = Field(
        "per-host", description="shared: every host presents the keys of "
                                "keepalived_ssh_host_keys_dir")
    keepalived_ssh_host_keys_dir: Text | None = Field(
        None, description="with shared: a directory on the control machine of "
                          "ssh_host_*_key (600) and .pub files")
    keepalived_firewall: Annotated[
        Literal["auto"] | Flag,
        Says("must be auto (open VRRP when a firewall is active), true (always manage it) or "
             "false (leave the firewall alone)")] = Field(
        "auto", description="auto: open VRRP in the active firewall; true: also set up a "
                            "start hook; false: leave the firewall alone")
    keepalived_nonlocal_bind: Annotated[
        Flag | list[Annotated[Literal["ipv4", "ipv6"], Says(
            lambda value: "must be one of ipv4, ipv6" + did_you_mean(value, ["ipv4", "ipv6"]))]],
        Says("must be a list of ipv4, ipv6, or true (both) or false")] = Field(
        False, description="net.ipv4/ipv6.ip_nonlocal_bind = 1: true (both) or [ipv4] / "
                           "[ipv6]")
    keepalived_systemd_restart: Annotated[
        choice("no", "on-failure", "on-abnormal", "always"),
        # YAML reads a bare `no` as false
        BeforeValidator(lambda value: "no" if value is False else value)] = Field(
        "on-failure", description="Restart= of keepalived.service")
    keepalived_systemd_restart_sec: seconds(0.001, 3600, 3) = Field(
        5, description="RestartSec= of keepalived.service")
    keepalived_daemon_options: Annotated[list[DaemonOption], Says("must be a list")] | None = Field(
        None, description="keepalived's command line, long options, e.g. [--log-detail]; "
                          "unset: the packaged file is kept")
    keepalived_lock_wait: whole(0, 3600) = Field(
        LOCK_WAIT_SECONDS, description="seconds a run waits for another run's lock on the host")
    keepalived_verify: Flag = Field(True, description="after a run that changed keepalived, "
                                    "wait until each instance it touched has one MASTER "
                                    "holding its VIPs; fail the run if not")
    keepalived_verify_wait: seconds(0, 3600, 3) = Field(
        10, description="seconds the verification waits beyond the instance's "
                        "Master_Down_Interval (and its check scripts' rise)")
    keepalived_commit_without_peers: Flag = Field(
        False, description="let a change the peers of an instance must agree on (VIPs, auth, "
                           "VRID, version, advert_int) go live on this host although a peer "
                           "is outside --limit or unreachable: both may hold the VIPs (split "
                           "brain) until that peer is deployed")
    keepalived_track_processes: TrackProcesses = Field(
        {}, description="vrrp_track_process blocks by name: processes whose presence "
                        "counts (see docs: tracking)")
    keepalived_track_processs: TrackProcesses = Field(
        {}, description="the Ansible role's spelling of keepalived_track_processes (not "
                        "both)")
    keepalived_track_files: TrackFiles = Field(
        {}, description="track_file blocks by name: files whose number, times the weight, "
                        "is added to the priority")
    # the operator's own files: a block of model.includes (which completes this class)
    keepalived_include_files: list[IncludeFile] = Field(
        [], description="operator config files (a file, or a directory of *.conf), uploaded "
                        "into conf.d/include/ and included: for what the keys do not type")
    # keepalived's LVS half: its blocks are model.lvs's (which completes this class)
    keepalived_virtual_servers: list[VirtualServer] = Field(
        [], description="LVS virtual servers (keepalived needs IPVS in the host's kernel)")
    keepalived_virtual_server_groups: list[VirtualServerGroup] = Field(
        [], description="LVS virtual_server_group blocks, by name")
    keepalived_lvs_sync_daemon: LvsSyncDaemon | None = Field(
        None, description="global_defs' lvs_sync_daemon: IPVS connection sync")
    keepalived_lvs_timeouts: LvsTimeouts | None = Field(
        None, description="global_defs' lvs_timeouts: IPVS connection timeouts")
    keepalived_static_ipaddresses: list[Annotated[VirtualIp, OrLine()]] = Field(
        [], description="addresses keepalived keeps on the host whatever the VRRP state "
                        "(static_ipaddress; each with its dev)")
    keepalived_static_routes: list[Annotated[VirtualRoute, OrLine()]] = Field(
        [], description="routes keepalived keeps whatever the VRRP state (static_routes)")
    keepalived_static_rules: list[Annotated[IpRule, OrLine()]] = Field(
        [], description="ip rules keepalived keeps whatever the VRRP state (static_rules)")
    keepalived_lvs_real_server: IpAddress | None = Field(
        None, description="this host is an LVS-DR real server under this address (as the "
                          "directors' real_servers list it): it gets their DR virtual "
                          "addresses on lo and the ARP sysctls (see docs: LVS)")
    keepalived_bfd_instances: BfdInstances = Field(
        {}, description="bfd_instance blocks by name: BFD sessions with neighbors, tracked "
                        "by instances and sync groups (see docs: tracking)")


