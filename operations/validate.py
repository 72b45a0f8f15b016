"""Turn pyinfra host data into typed Settings, checking it all in one place.

Errors are for what keepalived would reject or silently change; they stop the run
before any host is touched. Warnings are for what keepalived accepts but is probably
a mistake; they name the fix and the run goes on.

Data keys follow the original Ansible role (see README). Per-host `keepalived_priority`
and `keepalived_state` fill in instances that do not set their own.
"""

import ipaddress
import math
import os
import re
from collections.abc import Mapping

import jinja2

from . import render, validate_host
from .problems import Problems, did_you_mean
from .settings import (
    DEFAULT_BASE_DIR,
    DEFAULT_SCRIPT_USER,
    GlobalDefs,
    Paths,
    Settings,
    VrrpInstance,
    VrrpScript,
)

# Host data keys and their defaults (None: derived or optional).
DATA_KEYS = {
    "keepalived_base_dir": DEFAULT_BASE_DIR,
    "keepalived_config_file": "{{ keepalived_base_dir }}/keepalived.conf",
    "keepalived_config_dir": "{{ keepalived_base_dir }}/conf.d",
    "keepalived_check_scripts_dir": "{{ keepalived_base_dir }}/scripts",
    "keepalived_check_script_user": DEFAULT_SCRIPT_USER,
    "keepalived_global_defs": {},
    "keepalived_vrrp_instances": [],
    "keepalived_check_scripts": [],
    # Not in the Ansible role:
    "keepalived_priority": None,  # default priority of this host's instances
    "keepalived_state": None,  # default state of this host's instances
    "keepalived_package_version": None,  # pin, e.g. "1:2.2.7-1+b2" (apt) or "2.2.8" (dnf)
    **validate_host.DATA_KEYS,  # firewall, sysctl, systemd drop-in, daemon options
}

INSTANCE_KEYS = [
    "name", "interface", "state", "virtual_router_id", "priority", "virtual_ipaddresses",
    "advert_int", "auth_type", "auth_pass", "track_scripts",
]
SCRIPT_KEYS = [
    "name", "template", "vrrp_name", "service_name", "interval", "weight", "fall", "rise",
    "timeout", "user", "vars",
]
# global_defs keywords we accept, and the kind of value each takes.
GLOBAL_DEFS_KEYS = {
    "router_id": "word",
    "notification_email": "words",
    "notification_email_from": "word",
    "smtp_server": "word",
    "smtp_connect_timeout": "count",
    "enable_script_security": "flag",
    "script_user": "word",
    "vrrp_skip_check_adv_addr": "flag",
    "vrrp_strict": "flag",
    "vrrp_garp_interval": "seconds",
    "vrrp_gna_interval": "seconds",
    "vrrp_garp_master_delay": "count",
    "vrrp_garp_master_repeat": "count",
    "vrrp_garp_master_refresh": "count",
    "max_auto_priority": "count",
    "dynamic_interfaces": "flag",
}

STATES = ("MASTER", "BACKUP")
AUTH_TYPES = ("PASS", "AH")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
WORD_RE = re.compile(r"^[^\s{}#!\"]+$")
INTERFACE_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,15}$")
PATH_RE = re.compile(r"^/[A-Za-z0-9_./-]*$")
BASE_DIR_VAR_RE = re.compile(r"\{\{\s*keepalived_base_dir\s*\}\}")


# -- small typed readers: each returns the value, or None after reporting an error --

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def read_int(problems, key, value, low, high, allowed=None):
    if not _is_int(value) or not low <= value <= high:
        problems.error(key, value, allowed or f"must be a whole number {low}-{high}")
        return None
    return value


def read_seconds(problems, key, value):
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        problems.error(key, value, "must be a number of seconds greater than 0")
        return None
    return value


def read_choice(problems, key, value, choices):
    if value not in choices:
        problems.error(key, value, f"must be one of {', '.join(choices)}"
                       + did_you_mean(str(value).upper(), choices))
        return None
    return value


def read_word(problems, key, value, pattern=WORD_RE, allowed="a single word"):
    if not isinstance(value, str) or not pattern.match(value):
        problems.error(key, value, f"must be {allowed}")
        return None
    return value


def read_list(problems, key, value):
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        problems.error(key, value, "must be a list")
        return []
    return list(value)


def read_mapping(problems, key, value):
    if not isinstance(value, Mapping):
        problems.error(key, value, "must be a mapping of keys to values")
        return {}
    return value


# -- one reader per block --

def read_path(problems, key, value):
    """An absolute, normalised path without a trailing slash, or None after an error."""
    if read_word(problems, key, value, PATH_RE,
                 "an absolute path of letters, digits and _ . - /") is None:
        return None
    path = value.rstrip("/") or "/"
    if os.path.normpath(path) != path:
        problems.error(key, value, "must be a normalised absolute path (no . or .. parts)")
        return None
    return path


def read_paths(problems, data):
    base_dir = read_path(problems, "keepalived_base_dir",
                         data.get("keepalived_base_dir", DEFAULT_BASE_DIR))
    if base_dir is None:
        return Paths()

    def inside(key, default_leaf):
        value = data.get(key, DATA_KEYS[key])
        if isinstance(value, str):
            value = BASE_DIR_VAR_RE.sub(base_dir, value)
        path = read_path(problems, key, value)
        if path is None:
            return f"{base_dir}/{default_leaf}"
        if not path.startswith(base_dir + "/"):
            problems.error(key, path, f"must be inside keepalived_base_dir ({base_dir}): the "
                           "deploy validates and replaces that tree as one")
        return path

    return Paths(
        base_dir=base_dir,
        config_file=inside("keepalived_config_file", "keepalived.conf"),
        config_dir=inside("keepalived_config_dir", "conf.d"),
        scripts_dir=inside("keepalived_check_scripts_dir", "scripts"),
    )


def read_global_defs(problems, data, script_user):
    given = read_mapping(problems, "keepalived_global_defs", data.get("keepalived_global_defs", {}))
    problems.unknown_keys("keepalived_global_defs", given, GLOBAL_DEFS_KEYS)
    for keyword, value in given.items():
        kind = GLOBAL_DEFS_KEYS.get(keyword)
        key = f"keepalived_global_defs.{keyword}"
        if kind == "flag" and not isinstance(value, bool):
            problems.error(key, value, "must be true or false")
        elif kind == "count":
            read_int(problems, key, value, 0, 2**31 - 1, "must be a whole number 0 or more")
        elif kind == "seconds":
            read_seconds(problems, key, value)
        elif kind == "word":
            read_word(problems, key, value)
        elif kind == "words":
            for i, word in enumerate(read_list(problems, key, value)):
                read_word(problems, f"{key}[{i}]", word)

    if "script_user" in given and given["script_user"] != script_user:
        problems.error("keepalived_global_defs.script_user", given["script_user"],
                       f"conflicts with keepalived_check_script_user ({script_user!r}); "
                       "set only keepalived_check_script_user")
    security = given.get("enable_script_security", True)
    if security is False:
        problems.warn("keepalived_global_defs.enable_script_security", False,
                      "scripts may then run as root from writable paths; leave it on "
                      "(the deploy already makes scripts root-owned 755)")
    options = tuple((keyword, value) for keyword, value in given.items()
                    if keyword in GLOBAL_DEFS_KEYS
                    and keyword not in ("script_user", "enable_script_security"))
    return GlobalDefs(script_user=script_user, enable_script_security=security is not False,
                      options=options)


def read_script(problems, index, item, paths, script_user):
    where = f"keepalived_check_scripts[{index}]"
    if not isinstance(item, Mapping):
        problems.error(where, item, "must be a mapping with at least name and template")
        return None
    problems.unknown_keys(where, item, SCRIPT_KEYS)

    name = read_word(problems, f"{where}.name", item.get("name"), NAME_RE,
                     "a file name of letters, digits and _ . -")
    template = item.get("template")
    if not isinstance(template, str) or not template:
        problems.error(f"{where}.template", template,
                       f"required: a template name, e.g. {render.CHECK_SCRIPT_TEMPLATES[0]}")
        template = None
    vrrp_name = item.get("vrrp_name", name.rsplit(".", 1)[0] if name else None)
    vrrp_name = read_word(problems, f"{where}.vrrp_name", vrrp_name, NAME_RE,
                          "a name of letters, digits and _ . -")
    interval = read_seconds(problems, f"{where}.interval", item.get("interval", 2))
    timeout = item.get("timeout")
    if timeout is not None:
        timeout = read_seconds(problems, f"{where}.timeout", timeout)
    weight = item.get("weight")
    if weight is not None:
        weight = read_int(problems, f"{where}.weight", weight, -253, 253)
    fall = read_int(problems, f"{where}.fall", item.get("fall", 2), 1, 2**31 - 1,
                    "must be a whole number 1 or more")
    rise = read_int(problems, f"{where}.rise", item.get("rise", 2), 1, 2**31 - 1,
                    "must be a whole number 1 or more")
    user = read_word(problems, f"{where}.user", item.get("user", script_user), NAME_RE,
                     "a user name")
    if user not in (None, script_user, "root"):
        problems.warn(f"{where}.user", user,
                      f"the deploy creates only {script_user!r}; make sure {user!r} exists on "
                      "the host or keepalived drops this script")
    template_vars = dict(read_mapping(problems, f"{where}.vars", item.get("vars", {})))
    if item.get("service_name") is not None:
        template_vars["service_name"] = item["service_name"]
    if None in (name, template, vrrp_name, interval, fall, rise, user):
        return None

    script = VrrpScript(
        name=name, vrrp_name=vrrp_name, template=template,
        path=f"{paths.scripts_dir}/{name}", interval=interval, weight=weight, fall=fall,
        rise=rise, timeout=timeout, user=user,
        template_vars=tuple(template_vars.items()),
    )
    try:
        content = render.check_script(script)
    except render.TemplateNotFound as error:
        problems.error(f"{where}.template", template, str(error))
        return None
    except jinja2.UndefinedError as error:
        problems.error(f"{where}.template", template,
                       f"the template needs a value that is not set ({error.message}); "
                       "set it on this script (e.g. service_name) or under its vars")
        return None
    return VrrpScript(**{**script.__dict__, "content": content})


def read_vips(problems, key, value):
    addresses, written = [], []
    items = read_list(problems, key, value) if value is not None else []
    if not items:
        problems.error(key, value, "required: at least one virtual IP address")
    for i, text in enumerate(items):
        item_key = f"{key}[{i}]"
        try:
            address = ipaddress.ip_interface(str(text).strip())
        except ValueError:
            problems.error(item_key, text, "must be an IPv4 or IPv6 address with a prefix, "
                           "e.g. 192.168.1.100/24 or 2001:db8::100/64")
            continue
        if "/" not in str(text):
            problems.warn(item_key, text,
                          f"no prefix: keepalived adds it as /{address.network.prefixlen}; "
                          "write the subnet's prefix, e.g. "
                          f"{address.ip}/{24 if address.version == 4 else 64}")
        elif address.network.prefixlen < address.max_prefixlen - 1 and address.ip in (
                address.network.network_address, address.network.broadcast_address):
            problems.error(item_key, text, "is the network or broadcast address of its subnet")
            continue
        addresses.append(address)
        written.append(str(address) if "/" in str(text) else str(address.ip))
    families = {address.version for address in addresses}
    if len(families) > 1:
        problems.error(key, value, "mixes IPv4 and IPv6: keepalived keeps only one family per "
                       "instance; put the IPv6 addresses in an instance of their own")
    seen = set()
    for address in addresses:
        if address.ip in seen:
            problems.error(key, value, f"lists {address.ip} twice")
        seen.add(address.ip)
    return tuple(written)


def read_instance(problems, index, item, data, script_names):
    where = f"keepalived_vrrp_instances[{index}]"
    if not isinstance(item, Mapping):
        problems.error(where, item, "must be a mapping with name, interface, "
                       "virtual_router_id, priority and virtual_ipaddresses")
        return None
    problems.unknown_keys(where, item, INSTANCE_KEYS)

    name = read_word(problems, f"{where}.name", item.get("name"), NAME_RE,
                     "a name of letters, digits and _ . -")
    interface = read_word(problems, f"{where}.interface", item.get("interface"), INTERFACE_RE,
                          "an interface name: 1-15 letters, digits and _ . @ - (no spaces, / or :)")
    # Host-level defaults are reported under their own key when they are what is wrong.
    state_key = f"{where}.state" if "state" in item else "keepalived_state"
    state = item.get("state", data.get("keepalived_state") or "MASTER")
    state = read_choice(problems, state_key, state, STATES)
    vrid = read_int(problems, f"{where}.virtual_router_id", item.get("virtual_router_id"), 1, 255)

    priority_key = f"{where}.priority" if "priority" in item else "keepalived_priority"
    priority = item.get("priority", data.get("keepalived_priority"))
    if priority is None:
        problems.error(f"{where}.priority", None,
                       "required: 1-255, here or as keepalived_priority in the host's data")
    else:
        priority = read_int(problems, priority_key, priority, 1, 255,
                            "must be a whole number 1-255 (255 only for the address owner)")

    advert_int = read_seconds(problems, f"{where}.advert_int", item.get("advert_int", 1))
    if advert_int is not None and (advert_int != int(advert_int) or advert_int > 255):
        problems.error(f"{where}.advert_int", advert_int,
                       "VRRPv2 adverts are whole seconds 1-255 (keepalived rounds anything else)")
        advert_int = None

    vips = read_vips(problems, f"{where}.virtual_ipaddresses", item.get("virtual_ipaddresses"))

    auth_type = item.get("auth_type")
    auth_pass = item.get("auth_pass")
    if auth_pass is not None and auth_type is None:
        auth_type = "PASS"
    if auth_type is not None:
        auth_type = read_choice(problems, f"{where}.auth_type", auth_type, AUTH_TYPES)
        if auth_pass is None:
            problems.error(f"{where}.auth_pass", None, f"required with auth_type {auth_type}")
        else:
            auth_pass = str(auth_pass)
            if not 1 <= len(auth_pass) <= 8 or not WORD_RE.match(auth_pass):
                # repr of the value would print the secret: show its length only
                problems.error(f"{where}.auth_pass", f"<{len(auth_pass)} characters>",
                               "must be 1-8 characters without spaces, quotes, braces, # or ! "
                               "(keepalived silently truncates longer passwords)")
                auth_pass = None

    tracked = []
    for i, script in enumerate(read_list(problems, f"{where}.track_scripts",
                                         item.get("track_scripts", []))):
        if isinstance(script, str) and script in script_names:
            tracked.append(script)
        else:
            defined = ", ".join(sorted(script_names)) or "none"
            problems.error(f"{where}.track_scripts[{i}]", script,
                           "names no check script in keepalived_check_scripts (track by their "
                           f"vrrp_name){did_you_mean(script, script_names)}; defined: {defined}")

    if priority == 255 and tracked:
        problems.error(f"{where}.priority", 255, "255 makes this host the address owner, and "
                       "keepalived then ignores track_scripts weights; use 1-254")
    elif priority == 255:
        problems.warn(f"{where}.priority", 255, "255 marks the address owner (the host whose "
                      "own address is the VIP): it always preempts at once; use 1-254 otherwise")

    if None in (name, interface, state, vrid, priority, advert_int) or not vips:
        return None
    return VrrpInstance(
        name=name, interface=interface, state=state, virtual_router_id=vrid, priority=priority,
        virtual_ipaddresses=vips, advert_int=advert_int, auth_type=auth_type,
        auth_pass=auth_pass, track_scripts=tuple(tracked),
    )


def check_host_instances(problems, instances, scripts):
    """Checks between the instances and scripts of one host."""
    by_name = {}
    for index, instance in enumerate(instances):
        key = f"keepalived_vrrp_instances[{index}].name"
        if instance.name in by_name:
            problems.error(key, instance.name, f"duplicates keepalived_vrrp_instances"
                           f"[{by_name[instance.name]}]; instance names must be unique")
        by_name.setdefault(instance.name, index)

    by_router = {}
    for index, instance in enumerate(instances):
        family = ipaddress.ip_interface(instance.virtual_ipaddresses[0]).version
        router = (instance.interface, instance.virtual_router_id, family)
        if router in by_router:
            other = instances[by_router[router]].name
            problems.error(f"keepalived_vrrp_instances[{index}].virtual_router_id",
                           instance.virtual_router_id,
                           f"{other} already uses VRID {instance.virtual_router_id} for IPv{family}"
                           f" on {instance.interface}; each needs its own VRID (1-255)")
        by_router.setdefault(router, index)

    for key, attribute in (("name", "name"), ("vrrp_name", "vrrp_name")):
        seen = {}
        for index, script in enumerate(scripts):
            value = getattr(script, attribute)
            if value in seen:
                problems.error(f"keepalived_check_scripts[{index}].{key}", value,
                               f"duplicates keepalived_check_scripts[{seen[value]}]")
            seen.setdefault(value, index)

    tracked = {name for instance in instances for name in instance.track_scripts}
    for index, script in enumerate(scripts):
        if script.vrrp_name not in tracked:
            problems.warn(f"keepalived_check_scripts[{index}].vrrp_name", script.vrrp_name,
                          "is tracked by no instance: keepalived runs it but it moves no VIP; "
                          "add it to an instance's track_scripts or remove it")


def declared_vrrp_name(item):
    """The name instances track a check script by, as written (None if unusable)."""
    if not isinstance(item, Mapping):
        return None
    name, vrrp_name = item.get("name"), item.get("vrrp_name")
    if vrrp_name is not None:
        return vrrp_name if isinstance(vrrp_name, str) else None
    return name.rsplit(".", 1)[0] if isinstance(name, str) else None


def read_host(host, data):
    """Read one host's data. Returns (Settings or None, Problems)."""
    problems = Problems(host)
    known = [key for key in data if key.startswith("keepalived_")]
    for key in known:
        if key not in DATA_KEYS:
            problems.error(key, data[key], f"unknown key{did_you_mean(key, DATA_KEYS)}; "
                           f"allowed: {', '.join(DATA_KEYS)}")

    paths = read_paths(problems, data)
    script_user = read_word(problems, "keepalived_check_script_user",
                            data.get("keepalived_check_script_user", DEFAULT_SCRIPT_USER),
                            NAME_RE, "a user name") or DEFAULT_SCRIPT_USER
    global_defs = read_global_defs(problems, data, script_user)

    raw_scripts = read_list(problems, "keepalived_check_scripts",
                            data.get("keepalived_check_scripts", []))
    scripts = [read_script(problems, i, item, paths, script_user)
               for i, item in enumerate(raw_scripts)]
    script_names = {name for name in map(declared_vrrp_name, raw_scripts) if name}

    raw_instances = read_list(problems, "keepalived_vrrp_instances",
                              data.get("keepalived_vrrp_instances", []))
    instances = [read_instance(problems, i, item, data, script_names)
                 for i, item in enumerate(raw_instances)]

    if not raw_instances:
        problems.warn("keepalived_vrrp_instances", [], "no VRRP instance: keepalived will run "
                      "but hold no virtual IP; add instances or leave this host out")
    for key in ("keepalived_priority", "keepalived_state"):
        if data.get(key) is not None and not raw_instances:
            problems.warn(key, data[key], "is set but the host has no keepalived_vrrp_instances")

    version = data.get("keepalived_package_version")
    if version is not None:
        version = read_word(problems, "keepalived_package_version", str(version))
    host_level = validate_host.read_host_level(problems, data)

    if problems.errors:
        return None, problems
    check_host_instances(problems, instances, scripts)
    if problems.errors:
        return None, problems
    settings = Settings(host=host, paths=paths, global_defs=global_defs, scripts=tuple(scripts),
                        instances=tuple(instances), package_version=version,
                        host_level=host_level)
    return settings, problems
