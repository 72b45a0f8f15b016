"""keepalived's LVS half: `virtual_server`, `real_server` and their health checkers,
`virtual_server_group`, and the global `lvs_sync_daemon` and `lvs_timeouts`.

Data keys follow the Ansible role evrardjp/ansible-keepalived (`keepalived_virtual_servers`,
`keepalived_virtual_server_groups`; `real_servers`, `tcp_checks`, `misc_check`, `http_get`,
... as that role names them), so its host_vars carry across; numbers it writes as text
('53') are read as numbers. Each block is declared once here, validated whole by
`reading.read_block`; the rules between its fields are the named `check_*` functions below.

LVS needs IPVS in the host's kernel: keepalived with any virtual server on a kernel without
it terminates whole, VRRP included. `Lvs.used` tells the deploy to show IPVS on the host
before such a config goes live (facts.probe, deploys.install).
"""

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, ClassVar

from pydantic import BeforeValidator, Field

from .problems import NOT_SHOWN, Problems
from .readers import address_family
from .reading import Block, read_block
from .types import (
    CommandLine,
    Derived,
    DnsName,
    Flag,
    Interface,
    IpAddress,
    Name,
    User,
    checked,
    choice,
    matching,
    seconds,
    whole,
    whole_text,
)


def _number(kind):
    """`kind` (a whole number type), also given as text ('53', as the Ansible role's
    examples write them)."""
    return Annotated[kind, BeforeValidator(whole_text)]


Port = _number(whole(1, 65535))
Fwmark = _number(whole(1, 2**32 - 1, "must be a whole number 1-4294967295 (a firewall "
                                      "mark)"))
Timeout = _number(seconds(0.000001, 4294, 6, "must be a number of seconds 0.000001-4294 (at "
                                            "most 6 decimals)"))
HEX_RE = re.compile(r"(?:[0-9A-Fa-f]{2})+")
Hex = matching(HEX_RE, "hexadecimal bytes, e.g. 0a1b2c")
Digest = matching(re.compile(r"[0-9A-Fa-f]{32}"), "an MD5 digest: 32 hexadecimal digits "
                                                  "(genhash prints it)")
STATUS_RE = re.compile(r"[1-5][0-9]{2}(?:-[1-5][0-9]{2})?")
StatusCode = Annotated[
    checked(str, lambda text: bool(STATUS_RE.fullmatch(text)),
            "must be an HTTP status code 100-599, or a range of them, e.g. 200-299",
            {"type": ["string", "integer"]}),
    BeforeValidator(lambda value: str(value) if isinstance(value, int)
                    and not isinstance(value, bool) else value)]
# rendered between double quotes: no quote, backslash (keepalived unescapes it), brace, #
# or ! (they would end the value or the line)
Regex = matching(re.compile(r"(?:(?![{}#!\"\\])[\x20-\x7e])+"),
                 "a PCRE2 pattern of printable characters without double quotes, "
                 "backslashes, braces, # or ! (e.g. [Oo][Kk], status: *up)")
REGEX_OPTIONS = ("allow_empty_class", "alt_bsux", "auto_callout", "caseless",
                 "dollar_endonly", "dotall", "dupnames", "extended", "firstline",
                 "match_unset_backref", "multiline", "never_ucp", "never_utf",
                 "no_auto_capture", "no_auto_possess", "no_dotstar_anchor",
                 "no_start_optimize", "ucp", "ungreedy", "utf", "never_backslash_c",
                 "alt_circumflex", "alt_verbnames", "use_offset_limit")
RegexStack = matching(re.compile(r"[1-9][0-9]{0,9} [1-9][0-9]{0,9}"),
                      "two sizes in bytes, START MAX, e.g. \"32768 131072\"")
UrlPath = matching(re.compile(r"/(?:(?![{}#!\"'])[\x21-\x7e])*"),
                   "a URL path starting with /, without spaces, quotes, braces, # or !")
# 192.168.1.100 or a range of the last IPv4 byte, 192.168.1.100-120 (virtual_server_group)
IP_RANGE_RE = re.compile(r"(?P<ip>[0-9A-Fa-f:.]+)(?:-(?P<last>[0-9]{1,3}))?")


def _address_range(text):
    match = IP_RANGE_RE.fullmatch(text)
    if not match:
        return False
    try:
        address = ipaddress.ip_address(match["ip"])
    except ValueError:
        return False
    last = match["last"]
    return last is None or (address.version == 4 and
                            int(str(address).rsplit(".", 1)[1]) < int(last) <= 255)


AddressRange = checked(str, _address_range, "must be an IPv4 or IPv6 address, or an IPv4 "
                       "range of its last byte (e.g. 192.168.1.100-120)",
                       {"type": "string"})
Netmask = checked(str, lambda text: _netmask(text) is not None, "must be a netmask, e.g. "
                  "255.255.255.0 (IPv4) or a prefix length 1-128 (IPv6)",
                  {"type": ["string", "integer"]}, strict=False)


def _netmask(text):
    if str(text).isdigit():
        return int(text) if 1 <= int(text) <= 128 else None
    try:
        return ipaddress.ip_network(f"0.0.0.0/{text}").prefixlen
    except ValueError:
        return None


SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
              "mh")
Scheduler = choice(*SCHEDULERS)
Method = choice("NAT", "DR", "TUN")


# -- the health checkers of a real_server --

Warmup = _number(whole(0, 4294, "must be a whole number of seconds 0-4294"))
Retries = _number(whole(0, 2**31 - 1, "must be a whole number 0 or more"))


class Timing(Block):
    """When a checker runs (every checker but FILE_CHECK)."""

    warmup: Warmup | None = Field(None, description="at most this many seconds random "
                                  "delay before the first check")
    retry: Retries | None = Field(None, description="retries before the check fails "
                                  "(default 1)")
    delay_before_retry: Timeout | None = Field(None, description="seconds between retries")
    delay_loop: Timeout | None = Field(None, description="seconds between checks (default: "
                                       "the virtual server's)")


class Checker(Timing):
    """What every connecting checker (TCP_CHECK, HTTP_GET, ...) has."""

    KEYWORD: ClassVar = ""

    connect_ip: IpAddress | None = Field(None, description="address to check (default: "
                                         "the real server's)")
    connect_port: Port | None = Field(None, description="port to check (default: the real "
                                      "server's)")
    bindto: IpAddress | None = Field(None, description="source address of the check")
    bind_port: Port | None = Field(None, description="source port of the check")
    bind_if: Interface | None = Field(None, description="interface of an IPv6 link-local "
                                      "bindto")
    connect_timeout: Timeout | None = Field(None, description="seconds (default 5)")
    fwmark: Fwmark | None = Field(None, description="firewall mark of the check's packets")
    nb_get_retry: Retries | None = Field(None, description="the old spelling of retry (a "
                                         "warning)")

    def options(self):
        """((keyword, value), ...) of what is set, in field order (nb_get_retry rendered as
        retry)."""
        renamed = {"nb_get_retry": "retry"}
        return tuple((renamed.get(key, key), getattr(self, key)) for key in self.keys()
                     if key not in self.OWN and getattr(self, key) not in (None, False))

    OWN: ClassVar = ()  # keys rendered on lines of their own (urls)


class TcpCheck(Checker):
    """`TCP_CHECK { }`: the port accepts a connection."""

    KEYWORD: ClassVar = "TCP_CHECK"


class PingCheck(Checker):
    """`PING_CHECK { }`: the real server answers an ICMP echo."""

    KEYWORD: ClassVar = "PING_CHECK"


class HttpUrl(Block):
    """One `url { }` of an HTTP_GET or SSL_GET."""

    path: UrlPath = Field(description="the path asked for (required), e.g. /health")
    digest: Digest | None = Field(None, description="MD5 of the expected body")
    status_code: StatusCode | None = Field(None, description="expected status (default "
                                           "200-299), e.g. 200 or 200-299")
    virtualhost: DnsName | None = Field(None, description="Host: header for this url")
    regex: Regex | None = Field(None, description="a PCRE2 pattern the body must match")
    regex_no_match: Flag | None = Field(None, description="with regex: a match fails the "
                                        "check")
    regex_options: list[choice(*REGEX_OPTIONS)] = Field([], description="with regex: PCRE2 "
                                                        "options, e.g. [caseless]")
    regex_stack: RegexStack | None = Field(None, description="with regex: \"START MAX\" bytes "
                                           "of PCRE2's JIT stack")
    regex_min_offset: _number(whole(0, 2**31 - 1)) | None = Field(
        None, description="with regex: bytes of the body skipped before matching")
    regex_max_offset: _number(whole(1, 2**31 - 1)) | None = Field(
        None, description="with regex: bytes of the body after which matching stops")

    # the keys that refine regex (keepalived ignores them without it)
    REGEX_KEYS: ClassVar = ("regex_no_match", "regex_options", "regex_stack",
                            "regex_min_offset", "regex_max_offset")


class HttpGet(Checker):
    """`HTTP_GET { }`: each url answers as expected. Its urls as `urls`, or one url the
    Ansible role's way (url_path, url_digest, status_code)."""

    KEYWORD: ClassVar = "HTTP_GET"
    OWN: ClassVar = ("urls", "url_path", "url_digest", "status_code")

    urls: list[HttpUrl] = Field([], description="the urls checked (or url_path)")
    url_path: UrlPath | None = Field(None, description="the one url's path (the Ansible "
                                     "role's key)")
    url_digest: Digest | None = Field(None, description="the one url's MD5 digest")
    status_code: StatusCode | None = Field(None, description="the one url's expected status")
    virtualhost: DnsName | None = Field(None, description="Host: header (default: the "
                                        "virtual server's virtualhost)")
    http_protocol: choice("1.0", "1.0C", "1.1") | None = Field(
        None, description="HTTP version asked with (default 1.0)")
    fast_recovery: Flag | None = Field(None, description="check the urls without waiting "
                                       "delay_loop between them (up sooner)")

    @property
    def all_urls(self):
        """The urls, the Ansible role's one url included."""
        if self.url_path is None:
            return tuple(self.urls)
        return (HttpUrl(path=self.url_path, digest=self.url_digest,
                        status_code=self.status_code), *self.urls)


class SslGet(HttpGet):
    """`SSL_GET { }`: HTTP_GET over TLS."""

    KEYWORD: ClassVar = "SSL_GET"

    enable_sni: Flag | None = Field(None, description="send the virtualhost as SNI")


class DnsCheck(Checker):
    """`DNS_CHECK { }`: the real server answers a DNS query."""

    KEYWORD: ClassVar = "DNS_CHECK"

    type: choice("A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA") | None = Field(
        None, description="query type (default SOA)")
    name: DnsName | None = Field(None, description="name asked for (default .)")


class SmtpCheck(Checker):
    """`SMTP_CHECK { }`: the real server greets with 220 and answers HELO."""

    KEYWORD: ClassVar = "SMTP_CHECK"

    helo_name: DnsName | None = Field(None, description="name sent with HELO")


class UdpCheck(Checker):
    """`UDP_CHECK { }`: a UDP payload is answered (or no ICMP error comes back)."""

    KEYWORD: ClassVar = "UDP_CHECK"

    payload: Hex | None = Field(None, description="bytes sent, in hex (keepalived 2.2 and "
                                "later: 2.1 ignores it)")
    require_reply: Hex | None = Field(None, description="the reply must start with these "
                                      "bytes (hex)")
    min_reply_length: _number(whole(0, 65535)) | None = Field(
        None, description="bytes (keepalived 2.2 and later)")
    max_reply_length: _number(whole(0, 65535)) | None = Field(
        None, description="bytes (keepalived 2.2 and later)")


class MiscCheck(Timing):
    """`MISC_CHECK { }`: a command decides (exit 0: up); it runs as the script user."""

    KEYWORD: ClassVar = "MISC_CHECK"

    misc_path: CommandLine = Field(description="the command (required): an absolute path or a "
                               "script of keepalived_notify_scripts, then arguments")
    misc_timeout: _number(whole(1, 4294, "must be a whole number of seconds 1-4294")) | \
        None = Field(None, description="seconds before the command counts as failed")
    misc_dynamic: Flag | None = Field(None, description="the exit code sets the weight (2-255: "
                                      "weight = code - 2)")
    user: User | None = Field(None, description="user it runs as (default: "
                              "keepalived_check_script_user)")
    command: Derived[str] = Field(None, description="misc_path with a script's path filled in")
    run_as: Derived[str] = Field(None, description="user, or the script user")


class FileCheck(Block):
    """`FILE_CHECK { }`: a track_file's number sets the real server's weight (0 or less:
    down)."""

    KEYWORD: ClassVar = "FILE_CHECK"

    track_file: Name = Field(description="the name of a track_file block (required)")
    weight: _number(whole(-254, 254)) | None = Field(None, description="multiplies the "
                                                     "file's number")
    warmup: Warmup | None = Field(None, description="seconds of random delay before the "
                                  "first read")


# the checker keys of a real server (the Ansible role's names) and their blocks
CHECKERS = {"tcp_checks": TcpCheck, "http_get": HttpGet, "ssl_get": SslGet,
            "misc_check": MiscCheck, "dns_checks": DnsCheck, "smtp_checks": SmtpCheck,
            "udp_checks": UdpCheck, "ping_checks": PingCheck, "file_checks": FileCheck}


class RealServer(Block):
    """`real_server IP PORT { }` (`real_servers[]` of a virtual server)."""

    ip: IpAddress = Field(description="the real server's address (required)")
    port: Port | None = Field(None, description="its port (default: the virtual server's; "
                              "DR and TUN cannot map ports)")
    weight: _number(whole(0, 65535)) | None = Field(None, description="its share (default 1; "
                                                    "0: no new connections)")
    inhibit_on_failure: Flag | None = Field(None, description="on failure set the weight to 0 "
                                            "instead of removing it")
    uthreshold: _number(whole(0, 2**31 - 1)) | None = Field(None, description="most "
                                                            "connections")
    lthreshold: _number(whole(0, 2**31 - 1)) | None = Field(None, description="connections "
                                                            "below which it takes more again")
    notify_up: CommandLine | None = Field(None, description="command run when it comes up")
    notify_down: CommandLine | None = Field(None, description="command run when it goes down")
    tcp_checks: list[TcpCheck] = Field([], description="TCP_CHECK blocks")
    http_get: list[HttpGet] = Field([], description="HTTP_GET blocks")
    ssl_get: list[SslGet] = Field([], description="SSL_GET blocks")
    misc_check: list[MiscCheck] = Field([], description="MISC_CHECK blocks")
    dns_checks: list[DnsCheck] = Field([], description="DNS_CHECK blocks")
    smtp_checks: list[SmtpCheck] = Field([], description="SMTP_CHECK blocks")
    udp_checks: list[UdpCheck] = Field([], description="UDP_CHECK blocks")
    ping_checks: list[PingCheck] = Field([], description="PING_CHECK blocks")
    file_checks: list[FileCheck] = Field([], description="FILE_CHECK blocks")
    commands: Derived[dict] = Field({}, description="notify_up/notify_down with a script's "
                                    "path filled in")

    @property
    def checks(self):
        """Every checker block, in the order of CHECKERS."""
        return tuple(check for key in CHECKERS for check in getattr(self, key))


class SorryServer(Block):
    """`sorry_server IP PORT`: where connections go while no real server is up."""

    ip: IpAddress = Field(description="its address (required)")
    port: Port = Field(description="its port (required)")


class VirtualServer(Block):
    """`virtual_server IP PORT { }`, `virtual_server fwmark N { }` or `virtual_server group
    NAME { }` (`keepalived_virtual_servers[]`)."""

    ip: IpAddress | None = Field(None, description="the service address (with port; or "
                                 "fwmark, or group)")
    port: Port | None = Field(None, description="the service port (with ip)")
    fwmark: Fwmark | None = Field(None, description="a firewall mark instead of ip and port")
    group: Name | None = Field(None, description="a virtual_server_group instead of ip and "
                               "port")
    ip_family: choice("inet", "inet6") | None = Field(None, description="with fwmark: the "
                                                      "family (default inet)")
    protocol: choice("TCP", "UDP", "SCTP") = Field("TCP", description="the service's "
                                                   "protocol (not with fwmark: the mark "
                                                   "tells)")
    lvs_sched: Scheduler | None = Field(None, description="scheduler (default rr)")
    lb_algo: Scheduler | None = Field(None, description="the old spelling of lvs_sched (a "
                                      "warning)")
    lvs_method: Method | None = Field(None, description="forwarding (default DR, as the "
                                      "Ansible role's)")
    lb_kind: Method | None = Field(None, description="the old spelling of lvs_method (a "
                                   "warning)")
    delay_loop: Timeout | None = Field(None, description="seconds between checks (default "
                                       "60)")
    persistence_timeout: _number(whole(1, 2**31 - 1, "must be a whole number of seconds 1 "
                                                     "or more")) | None = Field(
        None, description="seconds a client sticks to its real server")
    persistence_granularity: Netmask | None = Field(
        None, description="netmask of clients that stick together (needs "
                          "persistence_timeout)")
    quorum: _number(whole(1, 2**31 - 1, "must be a whole number 1 or more")) | None = Field(
        None, description="least total weight of the real servers up for the service to be up")
    hysteresis: _number(whole(0, 2**31 - 1, "must be a whole number 0 or more")) | None = \
        Field(None, description="margin around quorum")
    quorum_up: CommandLine | None = Field(None, description="command run when quorum is reached")
    quorum_down: CommandLine | None = Field(None, description="command run when quorum is lost")
    sorry_server: SorryServer | None = Field(None, description="{ip, port}: used while no "
                                             "real server is up")
    sorry_server_inhibit: Flag | None = Field(None, description="keep the sorry server at "
                                              "weight 0 instead of removing it")
    alpha: Flag | None = Field(None, description="real servers start as down until checked")
    omega: Flag | None = Field(None, description="run quorum_down on shutdown")
    ha_suspend: Flag | None = Field(None, description="check only while a VRRP instance "
                                    "holds the address")
    virtualhost: DnsName | None = Field(None, description="Host: header of HTTP_GET and "
                                        "SSL_GET")
    inhibit_on_failure: Flag | None = Field(None, description="default of its real servers")
    real_servers: list[RealServer] = Field([], description="the real servers")
    persistence_engine: choice("sip") | None = Field(None, description="IPVS persistence "
                                                     "engine (sip: by Call-ID)")
    ops: Flag | None = Field(None, description="one-packet scheduling (UDP only)")
    sh_port: Flag | None = Field(None, description="lvs_sched sh: hash the port too (sh-port)")
    sh_fallback: Flag | None = Field(None, description="lvs_sched sh: another real server "
                                     "when the chosen one is down (sh-fallback)")
    mh_port: Flag | None = Field(None, description="lvs_sched mh: hash the port too (mh-port)")
    mh_fallback: Flag | None = Field(None, description="lvs_sched mh: another real server "
                                     "when the chosen one is down (mh-fallback)")
    sched: Derived[str] = Field("rr", description="lvs_sched, lb_algo or rr")
    method: Derived[str] = Field("DR", description="lvs_method, lb_kind or DR")
    commands: Derived[dict] = Field({}, description="quorum_up/quorum_down with a script's "
                                    "path filled in")

    # rendered as `keyword value` lines (True: the bare keyword), in this order
    OPTIONS: ClassVar = ("ip_family", "delay_loop", "protocol", "persistence_timeout",
                         "persistence_granularity", "quorum", "hysteresis", "alpha", "omega",
                         "ha_suspend", "virtualhost", "inhibit_on_failure",
                         "persistence_engine", "ops", "sh_port", "sh_fallback", "mh_port",
                         "mh_fallback")
    # scheduler flags: their keyword, and the scheduler they are for
    FLAGS: ClassVar = {"sh_port": ("sh-port", "sh"), "sh_fallback": ("sh-fallback", "sh"),
                       "mh_port": ("mh-port", "mh"), "mh_fallback": ("mh-fallback", "mh")}

    @property
    def address(self):
        """What follows `virtual_server`: "IP PORT", "fwmark N" or "group NAME"."""
        if self.group is not None:
            return f"group {self.group}"
        if self.fwmark is not None:
            return f"fwmark {self.fwmark}"
        return f"{self.ip} {self.port}"

    def options(self):
        """((keyword, value), ...) of OPTIONS set (no protocol for a fwmark: keepalived
        ignores it, with a warning)."""
        return tuple((self.FLAGS[key][0] if key in self.FLAGS else key, getattr(self, key))
                     for key in self.OPTIONS
                     if getattr(self, key) not in (None, False)
                     and not (key == "protocol" and self.fwmark is not None))


class GroupMember(Block):
    """One `IP PORT` line of a virtual_server_group (the Ansible role's `vips[]`)."""

    ip: AddressRange = Field(description="an address, or an IPv4 range of its last byte "
                             "(required)")
    port: Port = Field(description="the port (required)")


class VirtualServerGroup(Block):
    """`virtual_server_group NAME { }` (`keepalived_virtual_server_groups[]`). As in the
    Ansible role, a group may also carry the keys of a virtual server (real_servers, ...):
    that is `virtual_server group NAME`."""

    name: Name = Field(description="group name, what a virtual server's group names "
                       "(required)")
    vips: list[GroupMember] = Field([], description="{ip, port} of the services")
    fwmark: Fwmark | None = Field(None, description="a firewall mark in the group")


class LvsSyncDaemon(Block):
    """global_defs' `lvs_sync_daemon` (`keepalived_lvs_sync_daemon`): IPVS connection
    sync, master where the instance is MASTER."""

    interface: Interface = Field(description="interface the sync traffic uses (required)")
    instance: Name = Field(description="the VRRP instance whose state decides master or "
                           "backup (required)")
    id: _number(whole(0, 255)) | None = Field(None, description="sync id (default: the "
                                              "instance's VRID)")
    maxlen: _number(whole(1, 65507)) | None = Field(None, description="largest sync packet")
    port: Port | None = Field(None, description="UDP port (default 8848)")
    ttl: _number(whole(1, 255)) | None = Field(None, description="multicast TTL")
    group: IpAddress | None = Field(None, description="multicast group (default "
                                    "224.0.0.81)")

    def line(self):
        options = " ".join(f"{key} {getattr(self, key)}" for key in
                           ("id", "maxlen", "port", "ttl", "group")
                           if getattr(self, key) is not None)
        return f"{self.interface} {self.instance}" + (f" {options}" if options else "")


class LvsTimeouts(Block):
    """global_defs' `lvs_timeouts` (`keepalived_lvs_timeouts`): IPVS's connection
    timeouts."""

    tcp: _number(whole(1, 2**31 - 1, "must be a whole number of seconds 1 or more")) | \
        None = Field(None, description="seconds")
    tcpfin: _number(whole(1, 2**31 - 1, "must be a whole number of seconds 1 or more")) | \
        None = Field(None, description="seconds")
    udp: _number(whole(1, 2**31 - 1, "must be a whole number of seconds 1 or more")) | \
        None = Field(None, description="seconds")

    def line(self):
        return " ".join(f"{key} {getattr(self, key)}" for key in ("tcp", "tcpfin", "udp")
                        if getattr(self, key) is not None)


# The keywords that make keepalived need IPVS, however they are written: typed (Lvs.used),
# or a block or line of the operator's own (global_defs' extra_lines, an include file)
IPVS_KEYWORDS = ("virtual_server", "virtual_server_group", "lvs_sync_daemon", "lvs_timeouts")


def raw_lvs(lines):
    """Whether raw config lines have a block or line of IPVS_KEYWORDS."""
    return any(line.split()[:1] and line.split()[0] in IPVS_KEYWORDS for line in lines)


@dataclass(frozen=True)
class Lvs:
    """A host's validated LVS blocks (render.config renders them, 30-virtual_servers.conf)."""

    virtual_servers: tuple = ()
    groups: tuple = ()
    sync_daemon: LvsSyncDaemon | None = None
    timeouts: LvsTimeouts | None = None

    @property
    def used(self):
        """Whether keepalived needs IPVS for this config."""
        return bool(self.virtual_servers or self.groups or self.sync_daemon or self.timeouts)

    @property
    def runs(self):
        """((command line, user), ...) of each command the LVS blocks run: quorum_up/down
        and notify_up/down as the script user (None), MISC_CHECK as its own (run_as)."""
        return tuple((line, user) for server in self.virtual_servers
                     for line, user in (*((line, None) for line in server.commands.values()),
                                        *((line, None) for real in server.real_servers
                                          for line in real.commands.values()),
                                        *((check.command, check.run_as)
                                          for real in server.real_servers
                                          for check in real.misc_check)))

    @property
    def programs(self):
        """The first word of each command the LVS blocks run (`runs`): a path."""
        return frozenset(line.split()[0] for line, _ in self.runs)


# their keys are shown in messages (none is a secret)
Problems.public_keys(*(block.keys() for block in (
    VirtualServer, RealServer, SorryServer, HttpUrl, VirtualServerGroup, GroupMember,
    LvsSyncDaemon, LvsTimeouts, *CHECKERS.values())))


# -- reading and the rules between fields --

SERVERS_KEY = "keepalived_virtual_servers"
GROUPS_KEY = "keepalived_virtual_server_groups"


def read_lvs(problems: Problems, data, instances, notify_paths, script_user):
    """The host's Lvs (None after errors). `instances`: its validated VRRP instances (None
    where refused); `notify_paths`: {notify script file name: path}; `script_user`: who
    MISC_CHECK commands run as unless they say."""
    raw_groups = data.get(GROUPS_KEY, [])
    raw_servers = data.get(SERVERS_KEY, [])
    if not isinstance(raw_groups, list) or not isinstance(raw_servers, list):
        for key, value in ((GROUPS_KEY, raw_groups), (SERVERS_KEY, raw_servers)):
            if not isinstance(value, list):
                problems.error(key, value, "must be a list")
        return None
    errors = len(problems.errors)
    groups, group_servers = [], []
    for index, item in enumerate(raw_groups):
        own, server = split_group(problems, f"{GROUPS_KEY}[{index}]", item)
        group = read_block(problems, f"{GROUPS_KEY}[{index}]", VirtualServerGroup, own)
        if group is not None:
            groups.append(group)
            check_group(problems, f"{GROUPS_KEY}[{index}]", group)
            if server:  # the Ansible role's virtual_server group NAME
                group_servers.append((f"{GROUPS_KEY}[{index}]", {**server, "group": group.name}))
    servers = []
    for where, item in [*((f"{SERVERS_KEY}[{index}]", item)
                          for index, item in enumerate(raw_servers)), *group_servers]:
        server = read_virtual_server(problems, where, item, notify_paths, script_user)
        if server is not None:
            servers.append((where, server))
    check_groups_named(problems, [(where, server) for where, server in servers], groups)
    check_duplicates(problems, servers)
    sync_daemon = timeouts = None
    if data.get("keepalived_lvs_sync_daemon") is not None:
        sync_daemon = read_block(problems, "keepalived_lvs_sync_daemon", LvsSyncDaemon,
                                 data["keepalived_lvs_sync_daemon"])
        if sync_daemon is not None:
            check_sync_instance(problems, sync_daemon, instances)
            check_sync_group(problems, sync_daemon)
    if data.get("keepalived_lvs_timeouts") is not None:
        timeouts = read_block(problems, "keepalived_lvs_timeouts", LvsTimeouts,
                              data["keepalived_lvs_timeouts"])
        if timeouts is not None and not timeouts.line():
            problems.error("keepalived_lvs_timeouts", {}, "must set at least one of tcp, "
                           "tcpfin, udp; leave the key out instead")
    if len(problems.errors) > errors:
        return None
    return Lvs(virtual_servers=tuple(server for _, server in servers), groups=tuple(groups),
               sync_daemon=sync_daemon, timeouts=timeouts)


def split_group(problems, where, item):
    """(the group's own keys, the keys of its virtual server) of a group item; a key of
    neither is an error naming both's keys."""
    if not isinstance(item, Mapping):
        return item, {}
    allowed = [*VirtualServerGroup.keys(), *(key for key in VirtualServer.keys()
                                            if key not in ("ip", "port", "fwmark", "group"))]
    problems.unknown_keys(where, item, allowed)
    own = {key: value for key, value in item.items() if key in VirtualServerGroup.keys()}
    server = {key: value for key, value in item.items() if key not in own and key in allowed}
    return own, server


def read_virtual_server(problems, where, item, notify_paths, script_user):
    """One virtual server, its spellings and commands resolved; None after an error."""
    errors = len(problems.errors)
    server = read_block(problems, where, VirtualServer, item)
    if server is None:
        return None
    check_address(problems, where, server)
    sched = old_spelling(problems, where, server, "lvs_sched", "lb_algo", "rr")
    method = old_spelling(problems, where, server, "lvs_method", "lb_kind", "DR")
    commands = resolve_commands(problems, where, server, ("quorum_up", "quorum_down"),
                                notify_paths)
    real_servers = []
    for index, real in enumerate(server.real_servers):
        real_where = f"{where}.real_servers[{index}]"
        real_servers.append(read_real_server(problems, real_where, real, notify_paths,
                                             script_user))
        check_port_mapping(problems, real_where, server, real, method)
        check_family(problems, f"{real_where}.ip", server, real.ip)
    if server.sorry_server is not None:
        check_family(problems, f"{where}.sorry_server.ip", server, server.sorry_server.ip)
    check_quorum(problems, where, server)
    check_persistence(problems, where, server)
    if "protocol" in item and server.fwmark is not None:
        problems.warn(f"{where}.protocol", server.protocol, "keepalived ignores the protocol "
                      "of a fwmark virtual server (the mark selects the packets); leave it out")
    if server.ha_suspend and server.fwmark is not None:
        problems.warn(f"{where}.ha_suspend", True, "keepalived ignores ha_suspend on a fwmark "
                      "virtual server (it clears it); leave it out")
    check_scheduler_flags(problems, where, server, sched)
    if server.sorry_server_inhibit and server.sorry_server is None:
        problems.warn(f"{where}.sorry_server_inhibit", True, "keepalived ignores it without "
                      "a sorry_server; set sorry_server or leave it out")
    if not server.real_servers:
        problems.error(f"{where}.real_servers", [], "required: at least one real server "
                       "(keepalived refuses a virtual server without one, sorry_server or "
                       "not)")
    if len(problems.errors) > errors:
        return None
    return server.model_copy(update={"sched": sched, "method": method, "commands": commands,
                                     "real_servers": real_servers})


def read_real_server(problems, where, real, notify_paths, script_user):
    commands = resolve_commands(problems, where, real, ("notify_up", "notify_down"),
                                notify_paths)
    misc = []
    for index, check in enumerate(real.misc_check):
        resolved = resolve_command(problems, f"{where}.misc_check[{index}].misc_path",
                                   check.misc_path, notify_paths)
        misc.append(check.model_copy(update={"command": resolved,
                                             "run_as": check.user or script_user}))
    for key in ("http_get", "ssl_get"):
        for index, check in enumerate(getattr(real, key)):
            check_urls(problems, f"{where}.{key}[{index}]", check)
            for number, url in enumerate(check.urls):
                check_regex(problems, f"{where}.{key}[{index}].urls[{number}]", url)
    for key in CHECKERS:
        for index, check in enumerate(getattr(real, key)):
            check_retry(problems, f"{where}.{key}[{index}]", check)
    return real.model_copy(update={"commands": commands, "misc_check": misc})


def check_address(problems, where, server):
    """A virtual server names exactly one of ip with port, fwmark, or group."""
    named = [key for key in ("ip", "fwmark", "group") if getattr(server, key) is not None]
    if len(named) != 1:
        problems.error(where, NOT_SHOWN if not named else {key: getattr(server, key)
                                                            for key in named},
                       "must name exactly one of ip (with port), fwmark or group, not "
                       + (" and ".join(named) if named else "none"))
    elif (server.ip is None) != (server.port is None):
        key = "port" if server.port is None else "ip"
        problems.error(f"{where}.{key}", None, "required with "
                       + ("ip" if key == "port" else "port") + ": a virtual server by "
                       "address is ip and port (or use fwmark or group)")
    if server.ip_family is not None and server.fwmark is None:
        problems.error(f"{where}.ip_family", server.ip_family, "only with fwmark: an address "
                       "or group tells its family")


def old_spelling(problems, where, server, new, old, default):
    """The value of key `new` or its old spelling `old` (a warning naming the new one;
    both given and different: an error), else `default`."""
    given, older = getattr(server, new), getattr(server, old)
    if older is not None and given is not None and older != given:
        problems.error(f"{where}.{old}", older, f"contradicts {new} ({given}); keep only "
                       f"{new}")
    elif older is not None:
        problems.warn(f"{where}.{old}", older, f"is the old spelling: write {new}: {older}")
    return given or older or default


def resolve_command(problems, key, command, notify_paths):
    """A command (types.CommandLine: model.commands' rule, as every command the config
    runs) with its first word, a script of keepalived_notify_scripts by file name,
    replaced by that script's path; an absolute path stays (a program name is not looked
    up on the host's PATH here). None after an error."""
    first, _, rest = command.partition(" ")
    if first.startswith("/"):
        return command
    if first in notify_paths:
        return " ".join([notify_paths[first], *rest.split()])
    problems.error(key, command, "must start with an absolute path or the file name of a "
                   "script of keepalived_notify_scripts (defined: "
                   f"{', '.join(sorted(notify_paths)) or 'none'})")
    return None


def resolve_commands(problems, where, block, keys, notify_paths):
    return {key: resolve_command(problems, f"{where}.{key}", getattr(block, key), notify_paths)
            for key in keys if getattr(block, key) is not None}


def check_port_mapping(problems, where, server, real, method):
    """DR and TUN forward packets unchanged: a real server listens on the virtual
    server's port (only NAT maps ports)."""
    if method in ("DR", "TUN") and real.port is not None and server.port is not None and \
            real.port != server.port:
        problems.error(f"{where}.port", real.port, f"differs from the virtual server's port "
                       f"({server.port}): lvs_method {method} cannot map ports (only NAT "
                       "can); use the same port or lvs_method NAT")


def check_family(problems, key, server, address):
    """A real (or sorry) server of the virtual server's address family."""
    family = (address_family(server.ip) if server.ip is not None else
              6 if server.ip_family == "inet6" else 4 if server.fwmark is not None else None)
    if family is not None and address_family(address) != family:
        problems.error(key, address, f"is IPv{address_family(address)} but the virtual server is "
                       f"IPv{family}: use an IPv{family} address")


def check_quorum(problems, where, server):
    """A quorum the real servers' weights can reach, and a hysteresis below it (keepalived
    refuses one that is not: quorum 1 when unset)."""
    quorum = 1 if server.quorum is None else server.quorum
    total = sum(1 if real.weight is None else real.weight for real in server.real_servers)
    if server.quorum is not None and server.real_servers and quorum > total:
        problems.error(f"{where}.quorum", server.quorum, f"is more than the weights of all "
                       f"real servers together ({total}): the service would never be up; "
                       f"lower quorum to {total} or less")
    if server.hysteresis is not None and server.hysteresis >= quorum:
        problems.error(f"{where}.hysteresis", server.hysteresis, f"must be less than quorum "
                       f"({quorum}{', its default' if server.quorum is None else ''}): "
                       "keepalived refuses it")


def check_persistence(problems, where, server):
    if server.persistence_granularity is not None and server.persistence_timeout is None:
        problems.warn(f"{where}.persistence_granularity", server.persistence_granularity,
                      "has no effect without persistence_timeout; set it or leave this out")


def check_urls(problems, where, check):
    if check.url_path is None and not check.urls:
        problems.error(f"{where}.urls", [], "required: at least one url ({path, digest or "
                       "status_code}), or url_path")
    elif check.url_path is None and (check.url_digest or check.status_code):
        key = "url_digest" if check.url_digest else "status_code"
        problems.error(f"{where}.{key}", getattr(check, key), "belongs to url_path, which is "
                       "not set; give the url in urls or set url_path")


def check_regex(problems, where, url):
    """The keys that refine a url's regex are set only with it."""
    for key in url.REGEX_KEYS:
        value = getattr(url, key)
        if url.regex is None and value not in (None, False, [], ()):
            problems.warn(f"{where}.{key}", list(value) if isinstance(value, tuple) else value,
                          "keepalived ignores it without regex; set regex or leave it out")


def check_scheduler_flags(problems, where, server, sched):
    """sh-port and sh-fallback are for the sh scheduler, mh-* for mh; ops for UDP."""
    for key, (keyword, scheduler) in server.FLAGS.items():
        if getattr(server, key) and sched != scheduler:
            problems.warn(f"{where}.{key}", True, f"{keyword} is for lvs_sched {scheduler} "
                          f"(this one's is {sched}): set lvs_sched {scheduler} or leave it out")
    if server.ops and server.protocol != "UDP":
        problems.warn(f"{where}.ops", True, "one-packet scheduling is for UDP (this "
                      f"service's protocol is {server.protocol}): leave it out")


def check_retry(problems, where, check):
    if getattr(check, "nb_get_retry", None) is None:
        return
    if check.retry is not None:
        problems.error(f"{where}.nb_get_retry", check.nb_get_retry, "is the old spelling of "
                       "retry, which is set too; keep only retry")
    else:
        problems.warn(f"{where}.nb_get_retry", check.nb_get_retry, "is the old spelling: "
                      f"write retry: {check.nb_get_retry}")


def check_group(problems, where, group):
    if not group.vips and group.fwmark is None:
        problems.error(f"{where}.vips", [], "required: at least one {ip, port}, or fwmark")
    families = {address_family(vip.ip.split("-")[0]) for vip in group.vips}
    if len(families) > 1:
        problems.error(f"{where}.vips", [vip.ip for vip in group.vips], "mixes IPv4 and IPv6: "
                       "a group's services are of one family; make a group for each")


def check_groups_named(problems, servers, groups):
    names = {group.name for group in groups}
    seen = {}
    for index, group in enumerate(groups):
        if group.name in seen:
            problems.error(f"{GROUPS_KEY}[{index}].name", group.name, "duplicates "
                           f"{GROUPS_KEY}[{seen[group.name]}]; group names must be unique")
        seen.setdefault(group.name, index)
    for where, server in servers:
        if server.group is not None and server.group not in names:
            problems.error(f"{where}.group", server.group, "names no group of "
                           f"{GROUPS_KEY} (defined: {', '.join(sorted(names)) or 'none'})")


def check_duplicates(problems, servers):
    seen = {}
    for where, server in servers:
        identity = (server.address, server.protocol)
        if identity in seen:
            problems.error(f"{where}", server.address, f"duplicates {seen[identity]} (the "
                           f"same service, {server.protocol}); merge their real_servers")
        seen.setdefault(identity, where)


def check_sync_group(problems, sync_daemon):
    if sync_daemon.group is not None and not (
            ipaddress.ip_address(sync_daemon.group).version == 4
            and ipaddress.ip_address(sync_daemon.group).is_multicast):
        problems.error("keepalived_lvs_sync_daemon.group", sync_daemon.group, "must be an "
                       "IPv4 multicast address, e.g. 224.0.0.81 (the default)")


def check_sync_instance(problems, sync_daemon, instances):
    names = {instance.name for instance in instances if instance is not None}
    if sync_daemon.instance not in names:
        problems.error("keepalived_lvs_sync_daemon.instance", sync_daemon.instance,
                       "names no VRRP instance of this host (defined: "
                       f"{', '.join(sorted(names)) or 'none'})")
