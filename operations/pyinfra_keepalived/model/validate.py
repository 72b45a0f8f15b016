"""Turn pyinfra host data into typed Settings, checking it all in one place.

Errors are for what keepalived would reject or silently change; they stop the run
before any host is touched. Warnings are for what keepalived accepts but is probably
a mistake; they name the fix and the run goes on.

Data keys follow the original Ansible role (see README). Per-host `keepalived_priority`
and `keepalived_state` fill in instances that do not set their own.
"""

import ipaddress
import os
from collections.abc import Mapping

from . import host_level as validate_host
from . import script_data, shared_keys
from .blocks import Paths, Settings
from .commands import read_command
from .includes import read_include_files
from .instance import (
    HostContext,
    read_instance,
    read_sync_groups,
)
from .keys import (
    BASE_DIR,
    SCRIPT_USER,
    VRRP_GROUPS,
    AbsolutePath,
    BannerCheckVars,
    DnsName,
    GlobalDefs,
    HostData,
    NotifyScript,
    VrrpScript,
    Word,
    in_base_dir,
    read_field,
    read_value,
)
from .lvs import read_lvs
from .problems import NOT_SHOWN, Problems
from .readers import (
    read_extra_lines,
    read_list,
    read_mapping,
)
from .tracking_blocks import read_tracking
from .versions import warn_unknown_to_pinned

# Host data keys and their defaults (None: derived or optional): model.keys declares them.
DATA_KEYS = {name: HostData.default(name) for name in HostData.keys()}
SCRIPT_KEYS = VrrpScript.keys()
# The shipped SSH banner check and its template vars (read_banner_check_vars).
BANNER_CHECK_TEMPLATE = "check_ssh_banner.sh.j2"
BANNER_CHECK_VARS = BannerCheckVars.keys()
ROOT_SCRIPT_WARNING = (
    "runs the script as root: keepalived's script security (enable_script_security, on "
    "here) exists so that a script, and whatever it calls, runs with no more rights than "
    "it needs, and a flaw in it or a writable file on its path does not give root; {fix}")

NOTIFY_SCRIPT_KEYS = NotifyScript.keys()
GLOBAL_DEFS_KEYS = GlobalDefs.keys()

Problems.public_keys(DATA_KEYS, SCRIPT_KEYS, NOTIFY_SCRIPT_KEYS, GLOBAL_DEFS_KEYS)
# What pyinfra_keepalived/operations/transaction.sh keeps in the base dir: the generations, the link to the
# live one and the one before, the staging dir of earlier versions, and its temporary links.
RESERVED_NAMES = (".generations", ".current", ".previous", ".staging")
RESERVED_SUFFIXES = (".pyinfra-new", ".pyinfra-old")


# -- one reader per block --

def read_path(problems, key, value):
    """An absolute, normalised path without a trailing slash, or None after an error."""
    if read_value(problems, key, AbsolutePath, value) is None:
        return None
    path = value.rstrip("/") or "/"
    if os.path.normpath(path) != path:
        problems.error(key, value, "must be a normalised absolute path (no . or .. parts)")
        return None
    return path


def read_paths(problems, data):
    base_dir = read_path(problems, "keepalived_base_dir",
                         data.get("keepalived_base_dir", BASE_DIR))
    if base_dir is None:
        return Paths()
    if base_dir.count("/") < 2:
        problems.error("keepalived_base_dir", base_dir, "must be a directory of its own, two "
                       "levels deep or more (e.g. /etc/keepalived): the deploy replaces the "
                       "files in it and uninstall removes it")
        return Paths()

    def inside(key, default_leaf):
        value = in_base_dir(data.get(key, DATA_KEYS[key]), base_dir)
        path = read_path(problems, key, value)
        if path is None:
            return f"{base_dir}/{default_leaf}"
        if not path.startswith(base_dir + "/"):
            problems.error(key, path, f"must be inside keepalived_base_dir ({base_dir}): the "
                           "deploy validates and replaces that tree as one")
        elif any(part in RESERVED_NAMES or part.endswith(RESERVED_SUFFIXES)
                 for part in path[len(base_dir) + 1:].split("/")):
            problems.error(key, path, "must not use a name the deploy keeps in "
                           f"{base_dir} for itself: {', '.join(RESERVED_NAMES)}, "
                           f"*{', *'.join(RESERVED_SUFFIXES)} (pyinfra_keepalived/operations/transaction.sh)")
        return path

    paths = Paths(
        base_dir=base_dir,
        config_file=inside("keepalived_config_file", "keepalived.conf"),
        config_dir=inside("keepalived_config_dir", "conf.d"),
        scripts_dir=inside("keepalived_check_scripts_dir", "scripts"),
    )
    if paths.config_file != Paths().config_file:
        problems.warn("keepalived_config_file", paths.config_file,
                      f"keepalived as packaged reads {Paths().config_file}: this file is "
                      "only loaded if keepalived is started with --use-file pointing to it; "
                      f"keep keepalived_base_dir at {BASE_DIR} unless you start "
                      "keepalived yourself")
    return paths


def read_global_defs(problems, data, script_user):
    given = read_mapping(problems, "keepalived_global_defs", data.get("keepalived_global_defs", {}))
    problems.unknown_keys("keepalived_global_defs", given, GLOBAL_DEFS_KEYS)
    for keyword, value in given.items():
        key = f"keepalived_global_defs.{keyword}"
        if keyword == "notification_email":
            words = read_list(problems, key, value)
            if isinstance(value, (list, tuple)) and not words:
                problems.error(key, value, "must list at least one address (keepalived "
                               "rejects an empty block); leave the key out instead")
            for i, word in enumerate(words):
                read_value(problems, f"{key}[{i}]", Word, word)
        elif keyword in GLOBAL_DEFS_KEYS and keyword != "extra_lines":
            read_field(problems, key, GlobalDefs, keyword, value)

    if "script_user" in given and given["script_user"] != script_user:
        problems.error("keepalived_global_defs.script_user", given["script_user"],
                       f"conflicts with keepalived_check_script_user ({script_user!r}); "
                       "set only keepalived_check_script_user")
    security = given.get("enable_script_security", True)
    if security is False:
        problems.warn("keepalived_global_defs.enable_script_security", False,
                      "scripts may then run as root from writable paths; leave it on "
                      "(the deploy already makes scripts root-owned 755)")
    extra_lines = read_extra_lines(problems, "keepalived_global_defs.extra_lines",
                                   given.get("extra_lines", []))
    check_mcast_groups(problems, extra_lines)
    return GlobalDefs.built(problems, given, where="keepalived_global_defs", script_user=script_user,
                            enable_script_security=security is not False,
                            extra_lines=extra_lines)


def check_mcast_groups(problems, extra_lines):
    """A multicast group set in global_defs' extra_lines (vrrp_mcast_group4/6) is where
    the host firewall lets multicast adverts in: it must be a multicast address of the
    family its keyword names."""
    for i, line in enumerate(extra_lines):
        words = line.split()
        family = {"vrrp_mcast_group4": 4, "vrrp_mcast_group6": 6}.get(words[0] if words else "")
        if family is None:
            continue
        try:
            group = ipaddress.ip_address(words[1] if len(words) == 2 else "")
        except ValueError:
            group = None
        if group is None or group.version != family or not group.is_multicast:
            problems.error(f"keepalived_global_defs.extra_lines[{i}]", line,
                           f"must be {words[0]} and one IPv{family} multicast address "
                           f"(e.g. {VRRP_GROUPS[family]})")


def check_unicast_source(global_defs, instances):
    """vrrp_check_unicast_src on by default where an instance is unicast: keepalived then
    drops adverts from any address but the instance's unicast_peers (it skips the TTL
    check for unicast, so anyone who reaches unicast_src_ip could otherwise take the
    VIP). Set false, it stays off."""
    if global_defs.vrrp_check_unicast_src is None and any(
            instance.unicast_peers is not None for instance in instances):
        return global_defs.model_copy(update={"vrrp_check_unicast_src": True})
    return global_defs


def read_script(problems, index, item, paths, script_user):
    where = f"keepalived_check_scripts[{index}]"
    if not isinstance(item, Mapping):
        problems.error(where, item, "must be a mapping with at least name and template")
        return None
    problems.unknown_keys(where, item, SCRIPT_KEYS)

    name = read_field(problems, f"{where}.name", VrrpScript, "name", item.get("name"))
    template, command = read_script_source(problems, where, item)
    vrrp_name = item.get("vrrp_name", name.rsplit(".", 1)[0] if name else None)
    vrrp_name = read_field(problems, f"{where}.vrrp_name", VrrpScript, "vrrp_name", vrrp_name)
    def number(name):
        default = VrrpScript.default(name)
        value = item.get(name, default)
        if value is None and default is None:
            return None  # optional, unset (weight, timeout)
        return read_field(problems, f"{where}.{name}", VrrpScript, name, value)

    interval, timeout, weight, fall, rise = map(number, ("interval", "timeout", "weight",
                                                         "fall", "rise"))
    user = read_field(problems, f"{where}.user", VrrpScript, "user",
                      item.get("user", script_user))
    if user == "root" and script_user != "root":
        problems.warn(f"{where}.user", user, ROOT_SCRIPT_WARNING.format(
            fix=f"leave user unset: the script then runs as {script_user!r}, the default "
                "script user (keepalived_check_script_user)"))
    elif user not in (None, script_user, "root"):
        problems.warn(f"{where}.user", user,
                      f"the deploy creates only {script_user!r}; make sure {user!r} exists on "
                      "the host or keepalived drops this script")
    template_vars = script_data.read_template_vars(
        problems, f"{where}.vars", item.get("vars", {}), VrrpScript.TEMPLATE_KEYS)
    if template == BANNER_CHECK_TEMPLATE and template_vars is not None:
        template_vars = read_banner_check_vars(problems, f"{where}.vars", template_vars,
                                               interval, timeout)
    if template_vars is not None:
        if item.get("service_name") is not None:
            template_vars["service_name"] = item["service_name"]
        service_key = f"{where}.service_name" if item.get("service_name") is not None else (
            f"{where}.vars.service_name")
        if template_vars.get("service_name") is not None and read_field(
                problems, service_key, VrrpScript, "service_name",
                template_vars["service_name"]) is None:
            template_vars = None
    extra_lines = read_extra_lines(problems, f"{where}.extra_lines", item.get("extra_lines", []))
    if None in (name, vrrp_name, interval, fall, rise, user, template_vars) or (
            template is None and command is None):
        return None

    return VrrpScript.built(
        problems, item, where=where, vrrp_name=vrrp_name,
        path=None if command else f"{paths.scripts_dir}/{name}",
        check_script=str(command) if command else None, interval=interval,
        weight=weight, fall=fall, rise=rise, timeout=timeout, user=user, vars=template_vars,
        extra_lines=extra_lines,
    )


def read_script_source(problems, where, item):
    """(template, Command) of a check script: exactly one of its template (a file this
    deploy renders) and its check_script (a command, model.commands); None for the other,
    and for one that is wrong (reported)."""
    template, command = item.get("template"), item.get("check_script")
    if (template is None or template == "") == (command is None):
        problems.error(where, NOT_SHOWN, "needs exactly one of template (a template name, "
                       "e.g. check_systemd_service.sh.j2) or check_script (a command, e.g. "
                       "\"pgrep -x haproxy\")")
        return None, None
    if command is not None:
        for key in ("vars", "service_name"):
            if item.get(key) not in (None, {}):
                problems.error(f"{where}.{key}", item[key], "is for a template: a "
                               "check_script gets its values as arguments")
        return None, read_command(problems, f"{where}.check_script", command)
    return read_field(problems, f"{where}.template", VrrpScript, "template", template), None


def read_banner_check_vars(problems, key, given, interval, timeout):
    """The vars of the shipped check_ssh_banner.sh.j2, with their defaults: where sshd
    listens, and how long to wait for its banner. That wait must end before the check's
    interval and its timeout (keepalived's default timeout is the interval): keepalived
    counts a check still running then as failed. None after an error."""
    problems.unknown_keys(key, given, BANNER_CHECK_VARS)
    address = read_field(problems, f"{key}.address", BannerCheckVars, "address",
                         given.get("address", BannerCheckVars.default("address")))
    port = read_field(problems, f"{key}.port", BannerCheckVars, "port",
                      given.get("port", BannerCheckVars.default("port")))
    limit = interval if timeout is None or interval is None else min(interval, timeout)
    wait = given.get("banner_timeout", 1 if limit is None else min(1, limit / 2))
    wait = read_field(problems, f"{key}.banner_timeout", BannerCheckVars, "banner_timeout",
                      wait)
    if None not in (wait, limit) and wait >= limit:
        names = "interval" if limit == interval else "timeout"
        problems.error(f"{key}.banner_timeout", wait,
                       f"must be less than the check's {names} ({limit} s): keepalived "
                       "counts a check still running then as failed")
        return None
    if None in (address, port, wait) or set(given) - set(BANNER_CHECK_VARS):
        return None
    return {"address": address, "port": port, "banner_timeout": wait}


def read_vip_names(problems, data, instances):
    """keepalived_vip_names: {VIP address (no prefix): [DNS name]}, the names clients reach
    a VIP by (known_hosts.py lists them). Each address must be a VIP of this host."""
    given = read_mapping(problems, "keepalived_vip_names", data.get("keepalived_vip_names", {}))
    vips = {vip.address.split("/")[0] for instance in instances if instance
            for vip in instance.virtual_ipaddresses}
    for address, names in given.items():
        key = f"keepalived_vip_names[{address!r}]"
        if address not in vips:
            problems.error(key, names, "is not a VIP of this host's keepalived_vrrp_instances"
                           f" ({', '.join(sorted(vips)) or 'none'}); write the address "
                           "without prefix")
        for index, name in enumerate(read_list(problems, key, names)):
            read_value(problems, f"{key}[{index}]", DnsName, name)


def read_ssh_host_keys(problems, data):
    """keepalived_ssh_host_keys ("per-host" or "shared") and, when shared,
    keepalived_ssh_host_keys_dir: the key files, read and checked (operations.shared_keys).
    Returns SharedKeys, or None for per-host keys."""
    mode = data.get("keepalived_ssh_host_keys", DATA_KEYS["keepalived_ssh_host_keys"])
    directory = data.get("keepalived_ssh_host_keys_dir")
    if mode not in shared_keys.MODES:
        problems.error("keepalived_ssh_host_keys", mode,
                       f"must be one of: {', '.join(shared_keys.MODES)}")
        return None
    if mode == "per-host":
        if directory is not None:
            problems.warn("keepalived_ssh_host_keys_dir", directory, "is set but "
                          "keepalived_ssh_host_keys is 'per-host': the keys are not used")
        return None
    if not isinstance(directory, str) or not directory:
        problems.error("keepalived_ssh_host_keys_dir", directory,
                       "must be a directory on the control machine with ssh_host_*_key "
                       "files (mode 600) and their .pub when keepalived_ssh_host_keys is "
                       "'shared' (allowed: per-host, shared)")
        return None
    pairs, errors = shared_keys.read_key_dir(directory)
    for error in errors:
        problems.error("keepalived_ssh_host_keys_dir", directory, error)
    return shared_keys.SharedKeys(directory=os.path.abspath(directory), pairs=pairs)


def read_notify_script(problems, index, item, paths):
    """`keepalived_notify_scripts[]`: a script file from a template or given content."""
    where = f"keepalived_notify_scripts[{index}]"
    if not isinstance(item, Mapping):
        problems.error(where, item, "must be a mapping with name, and template or content")
        return None
    problems.unknown_keys(where, item, NOTIFY_SCRIPT_KEYS)
    name = read_field(problems, f"{where}.name", NotifyScript, "name", item.get("name"))
    template, content = item.get("template"), item.get("content")
    template_vars = script_data.read_template_vars(
        problems, f"{where}.vars", item.get("vars", {}), NotifyScript.TEMPLATE_KEYS)
    if (template is None) == (content is None):
        problems.error(where, item, "needs exactly one of template (a template name, e.g. "
                       f"{script_data.NOTIFY_SCRIPT_TEMPLATES[0]}) or content (the script's text)")
        return None
    if template is not None and (not isinstance(template, str) or not template):
        problems.error(f"{where}.template", template, "must be a template name, e.g. "
                       f"{script_data.NOTIFY_SCRIPT_TEMPLATES[0]}")
        return None
    for key, value in (("template", template), ("content", content)):
        if value is not None and read_field(problems, f"{where}.{key}", NotifyScript, key,
                                            value) is None:
            return None
    if name is None or template_vars is None:
        return None
    return NotifyScript.built(problems, item, where=where, path=f"{paths.scripts_dir}/{name}", vars=template_vars)


def unicast_address(problems, host, data):
    """(address, key): this host's own VRRP address for unicast, and where it came from:
    keepalived_unicast_src_ip, else ssh_hostname or the inventory name if an IP address."""
    if data.get("keepalived_unicast_src_ip") is not None:
        return read_field(problems, "keepalived_unicast_src_ip", HostData,
                          "keepalived_unicast_src_ip", data["keepalived_unicast_src_ip"]), \
            "keepalived_unicast_src_ip"
    for key, value in (("ssh_hostname", data.get("ssh_hostname")), ("host name", host)):
        try:
            return str(ipaddress.ip_address(value)), key
        except ValueError:
            continue
    return None, "keepalived_unicast_src_ip"


def check_host_instances(problems, instances, scripts, notify_scripts, lvs_programs=()):
    """Checks between the instances and scripts of one host (`lvs_programs`: the paths
    the LVS blocks run, model.lvs.Lvs.programs: a notify script may be theirs)."""
    by_name = {}
    for index, instance in enumerate(instances):
        key = f"keepalived_vrrp_instances[{index}].name"
        if instance.name in by_name:
            problems.error(key, instance.name, f"duplicates keepalived_vrrp_instances"
                           f"[{by_name[instance.name]}]; instance names must be unique")
        by_name.setdefault(instance.name, index)

    by_router = {}
    for index, instance in enumerate(instances):
        family = instance.family
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

    files = {script.name: f"keepalived_check_scripts[{index}]"
             for index, script in enumerate(scripts) if script.path}
    notified = {command.split()[0] for instance in instances
                for _, command in instance.notify_commands} | set(lvs_programs)
    for index, script in enumerate(notify_scripts):
        where = f"keepalived_notify_scripts[{index}]"
        if script.name in files:
            problems.error(f"{where}.name", script.name, f"is also the file of {files[script.name]}"
                           "; scripts share the scripts dir: give each its own name")
        files.setdefault(script.name, where)
        if script.path not in notified:
            problems.warn(f"{where}.name", script.name, "is named by no instance's notify_* "
                          "key: it is installed but never runs; use it or remove it")


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
    printable = isinstance(host, str) and host.isprintable() and host.strip() != ""
    problems = Problems(host if printable else ascii(host))
    if not printable:
        problems.error("host name", host, "must be one line of printable text: it is written "
                       "into the header comment of the config files, where a newline would "
                       "start a config line")
    known = [key for key in data if isinstance(key, str) and key.startswith("keepalived_")]
    for key in known:
        if key not in DATA_KEYS:
            problems.unknown_key(key, key, DATA_KEYS)  # (did_you_mean: in unknown_key)
    problems.misplaced_hidden_values(data, DATA_KEYS)

    if data.get("_temp_dir") is not None:  # pyinfra's argument, as host data: uploads go there
        read_path(problems, "_temp_dir", data["_temp_dir"])
    paths = read_paths(problems, data)
    script_user = read_field(problems, "keepalived_check_script_user", HostData,
                             "keepalived_check_script_user",
                             data.get("keepalived_check_script_user", SCRIPT_USER)) or SCRIPT_USER
    if script_user == "root":
        problems.warn("keepalived_check_script_user", "root", ROOT_SCRIPT_WARNING.format(
            fix=f"leave keepalived_check_script_user unset (the default script user "
                f"{SCRIPT_USER!r}, which the deploy creates)"))
    global_defs = read_global_defs(problems, data, script_user)

    raw_scripts = read_list(problems, "keepalived_check_scripts",
                            data.get("keepalived_check_scripts", []))
    scripts = [read_script(problems, i, item, paths, script_user)
               for i, item in enumerate(raw_scripts)]
    notify_scripts = [read_notify_script(problems, i, item, paths) for i, item in enumerate(
        read_list(problems, "keepalived_notify_scripts",
                  data.get("keepalived_notify_scripts", [])))]
    address, address_key = unicast_address(problems, host, data)
    context = HostContext(
        script_names=frozenset(name for name in map(declared_vrrp_name, raw_scripts) if name),
        notify_paths={script.name: script.path for script in notify_scripts if script},
        vrrp_version=global_defs.vrrp_version or 2, address=address, address_key=address_key,
    )

    raw_instances = read_list(problems, "keepalived_vrrp_instances",
                              data.get("keepalived_vrrp_instances", []))
    instances = [read_instance(problems, i, item, data, context)
                 for i, item in enumerate(raw_instances)]

    if not raw_instances:
        problems.warn("keepalived_vrrp_instances", [], "no VRRP instance: keepalived will run "
                      "but hold no virtual IP; add instances or leave this host out")
    for key, field in (("keepalived_priority", "priority"), ("keepalived_state", "state")):
        if data.get(key) is not None and not raw_instances:
            problems.warn(key, data[key], "is set but the host has no keepalived_vrrp_instances")
        if data.get(key) is not None and all(isinstance(item, Mapping) and field in item
                                             for item in raw_instances):
            # no instance takes it (read_instance reads it where one does)
            read_field(problems, key, HostData, key, data[key])

    version = data.get("keepalived_package_version")
    if version is not None:
        version = read_field(problems, "keepalived_package_version", HostData,
                             "keepalived_package_version",
                             str(version) if isinstance(version, (str, int, float)) else version)
        warn_unknown_to_pinned(problems, data, version)
    proxy = data.get("keepalived_package_proxy")
    if proxy is not None:
        proxy = read_field(problems, "keepalived_package_proxy", HostData,
                           "keepalived_package_proxy", proxy)
    host_level = validate_host.read_host_level(problems, data)
    validate_host.refuse_dump_conf(problems, host_level.daemon_options, global_defs, scripts,
                                   instances)
    read_vip_names(problems, data, instances)
    lvs = read_lvs(problems, data, instances, context.notify_paths, script_user)
    ssh_port = read_field(problems, "keepalived_ssh_port", HostData, "keepalived_ssh_port",
                          data.get("keepalived_ssh_port", 22))
    ssh_host_keys = read_ssh_host_keys(problems, data)
    include_files = read_include_files(problems, data)

    if problems.errors:
        return None, problems
    global_defs = check_unicast_source(global_defs, instances)
    check_host_instances(problems, instances, scripts, notify_scripts, lvs.programs)
    sync_groups = read_sync_groups(problems, data.get("keepalived_sync_groups", {}),
                                   instances, scripts)
    instances, sync_groups, track_files, track_processes = read_tracking(
        problems, data, instances, sync_groups)
    if problems.errors:
        return None, problems
    settings = Settings(host=host, paths=paths, global_defs=global_defs, scripts=tuple(scripts),
                        instances=tuple(instances), package_version=version,
                        package_proxy=proxy,
                        notify_scripts=tuple(notify_scripts), sync_groups=sync_groups,
                        host_level=host_level, ssh_host_keys=ssh_host_keys,
                        ssh_port=ssh_port, track_files=track_files,
                        track_processes=track_processes, include_files=include_files,
                        lvs=lvs)
    return settings, problems
