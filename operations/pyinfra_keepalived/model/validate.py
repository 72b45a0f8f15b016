"""Turn pyinfra host data into typed Settings, checking it all in one place.

Errors are for what keepalived would reject or silently change; they stop the run
before any host is touched. Warnings are for what keepalived accepts but is probably
a mistake; they name the fix and the run goes on.

Each block is read by `reading.read_block` (one pydantic validation against its class in
`keys`, `lvs`, ...); what follows are the rules between keys. Data keys follow the
original Ansible role (docs/data-keys.md lists them). Per-host `keepalived_priority` and `keepalived_state`
fill in instances that do not set their own.
"""

import ipaddress
import os
from collections.abc import Mapping

from . import host_level as validate_host
from . import script_data, shared_keys
from .bfd import read_bfd
from .blocks import HostLevel, Paths, Settings
from .commands import read_command
from .hidden import mask_text
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
    BannerCheckVars,
    GlobalDefs,
    HostData,
    NotifyScript,
    UnitName,
    VrrpScript,
    in_base_dir,
)
from .lvs import read_lvs
from .lvs_dr import REAL_SERVER_KEY
from .problems import NOT_SHOWN, Problems
from .readers import (
    read_extra_lines,
    read_list,
    read_mapping,
)
from .reading import field_type, read_block, read_value
from .static import read_static
from .tracking_blocks import read_tracking
from .types import AbsolutePath
from .versions import warn_unknown_to_pinned
from .vrrp_options import (
    check_global_options,
    check_instances_options,
    read_fifo_script,
    read_group_options,
    with_multicast_groups,
)

# Host data keys and their defaults (None: derived or optional): model.keys declares them.
DATA_KEYS = {name: HostData.default(name) for name in HostData.keys()}
SCRIPT_KEYS = VrrpScript.keys()
# The shipped SSH banner check (its template vars: read_banner_check_vars).
BANNER_CHECK_TEMPLATE = "check_ssh_banner.sh.j2"
ROOT_SCRIPT_WARNING = (
    "runs the script as root: keepalived's script security (enable_script_security, on "
    "here) exists so that a script, and whatever it calls, runs with no more rights than "
    "it needs, and a flaw in it or a writable file on its path does not give root; {fix}")

# Host data keys read by their field's type alone (HostData, in one model_validate); the
# others have readers of their own below.
TYPED_KEYS = (
    "keepalived_check_script_user", "keepalived_package_version", "keepalived_package_proxy",
    "keepalived_unicast_src_ip", "keepalived_ssh_port", "keepalived_ssh_host_keys",
    "keepalived_firewall", "keepalived_nonlocal_bind", "keepalived_systemd_restart",
    "keepalived_systemd_restart_sec", "keepalived_lock_wait", "keepalived_verify",
    "keepalived_verify_wait", "keepalived_commit_without_peers", "keepalived_priority",
    "keepalived_state", "keepalived_vip_names", "keepalived_daemon_options")
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
    """`keepalived_global_defs` (`GlobalDefs`, with the script user and the extra_lines
    read apart); a block of defaults after an error (the host is refused, the checks
    still to come see keepalived's defaults)."""
    key = "keepalived_global_defs"
    given = read_mapping(problems, key, data.get(key, {}))
    check_global_script_user(problems, given, script_user)
    extra_lines = read_extra_lines(problems, f"{key}.extra_lines", given.get("extra_lines", []))
    check_mcast_groups(problems, extra_lines)
    global_defs = read_block(problems, key, GlobalDefs, given, script_user=script_user,
                             extra_lines=extra_lines)
    if global_defs is None:
        return GlobalDefs(script_user=script_user)
    if not global_defs.enable_script_security:
        problems.warn(f"{key}.enable_script_security", False,
                      "scripts may then run as root from writable paths; leave it on "
                      "(the deploy already makes scripts root-owned 755)")
    return global_defs


def check_global_script_user(problems, given, script_user):
    """global_defs' script_user is keepalived_check_script_user's (set only that)."""
    if "script_user" in given and given["script_user"] != script_user:
        problems.error("keepalived_global_defs.script_user", given["script_user"],
                       f"conflicts with keepalived_check_script_user ({script_user!r}); "
                       "set only keepalived_check_script_user")


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
    """`keepalived_check_scripts[]` (`VrrpScript`): its vrrp_name defaults to its file
    name's stem, its user to the script user; its vars and extra_lines are read apart
    (`read_script_vars`, `read_extra_lines`)."""
    where = f"keepalived_check_scripts[{index}]"
    given = item if isinstance(item, Mapping) else {}
    name = given.get("name")
    defaults = {}  # what the script's keys default to here
    if "user" not in given:
        defaults["user"] = script_user
    if "vrrp_name" not in given and isinstance(name, str):
        defaults["vrrp_name"] = name.rsplit(".", 1)[0]
    source_read, command = read_script_source(problems, where, given)
    if "check_script" in given:  # (read as a command)
        defaults["check_script"] = str(command) if command else None
    template_vars = read_script_vars(problems, where, given)
    extra_lines = read_extra_lines(problems, f"{where}.extra_lines",
                                   given.get("extra_lines", []))
    script = read_block(problems, where, VrrpScript, {**given, **defaults} if given else item,
                        path=None if command else f"{paths.scripts_dir}/{name}",
                        vars=template_vars or {}, extra_lines=extra_lines)
    if script is None or template_vars is None or not source_read:
        return None
    if script.template == BANNER_CHECK_TEMPLATE:
        banner = read_banner_check_vars(problems, f"{where}.vars", given.get("vars", {}),
                                        script.interval, script.timeout)
        if banner is None:
            return None
        script = script.model_copy(update={"vars": {**script.vars, **banner}})
    warn_script_user(problems, f"{where}.user", script.user, script_user)
    return script


def read_script_vars(problems, where, given):
    """A check script's `vars` (`script_data.read_template_vars`), its service_name (the
    key's, else the var's) a systemd unit name; None after an error."""
    template_vars = script_data.read_template_vars(
        problems, f"{where}.vars", given.get("vars", {}), VrrpScript.TEMPLATE_KEYS)
    if template_vars is None:
        return None
    if given.get("service_name") is not None:
        template_vars["service_name"] = given["service_name"]  # (its type: the key's)
    elif template_vars.get("service_name") is not None and read_value(
            problems, f"{where}.vars.service_name", UnitName,
            template_vars["service_name"]) is None:
        return None
    return template_vars


def warn_script_user(problems, key, user, script_user):
    """A script run as root, or as a user the deploy does not create: a warning."""
    if user == "root" and script_user != "root":
        problems.warn(key, user, ROOT_SCRIPT_WARNING.format(
            fix=f"leave user unset: the script then runs as {script_user!r}, the default "
                "script user (keepalived_check_script_user)"))
    elif user not in (script_user, "root"):
        problems.warn(key, user,
                      f"the deploy creates only {script_user!r}; make sure {user!r} exists on "
                      "the host or keepalived drops this script")


def read_script_source(problems, where, given):
    """(read, Command or None): a check script has exactly one of its template (a file
    this deploy renders, its type: VrrpScript's) and its check_script (a command,
    model.commands); `read`: False after an error (reported)."""
    template, command = given.get("template"), given.get("check_script")
    if template == "" and command is None:  # (given, but empty: its own key's error)
        problems.error(f"{where}.template", template, "required: a template name, e.g. "
                       "check_systemd_service.sh.j2 (or, instead, check_script: a command)")
        return False, None
    if (template is None or template == "") == (command is None):
        problems.error(where, NOT_SHOWN, "needs exactly one of template (a template name, "
                       "e.g. check_systemd_service.sh.j2) or check_script (a command, e.g. "
                       "\"pgrep -x haproxy\")")
        return False, None
    if command is None:
        return True, None
    wrong = [key for key in ("vars", "service_name") if given.get(key) not in (None, {})]
    for key in wrong:
        problems.error(f"{where}.{key}", given[key], "is for a template: a check_script "
                       "gets its values as arguments")
    command = read_command(problems, f"{where}.check_script", command)
    return command is not None and not wrong, command


def check_no_secret_in_readable_lines(problems, global_defs, scripts):
    """No auth_pass in the raw lines of global_defs or of a check script: their files are
    readable by every user of the host (only the instances' file is root's alone), and
    keepalived reads a password only in an instance's authentication block."""
    raw = [("keepalived_global_defs.extra_lines", global_defs.extra_lines)]
    raw += [(f"keepalived_check_scripts[{index}].extra_lines", script.extra_lines)
            for index, script in enumerate(scripts) if script is not None]
    for key, lines in raw:
        for position, line in enumerate(lines):
            if mask_text(line) != line:
                problems.error(f"{key}[{position}]", line, "holds a password, in a file every "
                               "user of the host can read: set auth_pass on the instance "
                               "(its file is root's only); for an SSL key, a key file without a "
                               "password, readable by root only")


def read_banner_check_vars(problems, key, given, interval, timeout):
    """The vars of the shipped check_ssh_banner.sh.j2 (`BannerCheckVars`), with their
    defaults: where sshd listens, and how long to wait for its banner. That wait must end
    before the check's interval and its timeout (keepalived's default timeout is the
    interval): keepalived counts a check still running then as failed. None after an
    error."""
    banner = read_block(problems, key, BannerCheckVars, given)
    if banner is None:
        return None
    limit = interval if timeout is None or interval is None else min(interval, timeout)
    wait = banner.banner_timeout
    if wait is None:
        wait = 1 if limit is None else min(1, limit / 2)
    if limit is not None and wait >= limit:
        names = "interval" if limit == interval else "timeout"
        problems.error(f"{key}.banner_timeout", wait,
                       f"must be less than the check's {names} ({limit} s): keepalived "
                       "counts a check still running then as failed")
        return None
    return {"address": banner.address, "port": banner.port, "banner_timeout": wait}


def check_vip_names(problems, names, instances):
    """keepalived_vip_names: {VIP address (no prefix): [DNS name]}, the names clients reach
    a VIP by (known_hosts.py lists them): each address must be a VIP of this host."""
    vips = {vip.address.split("/")[0] for instance in instances if instance
            for vip in instance.virtual_ipaddresses}
    for address, listed in names.items():
        if address not in vips:
            problems.error(f"keepalived_vip_names[{address!r}]", list(listed), "is not a VIP "
                           "of this host's keepalived_vrrp_instances "
                           f"({', '.join(sorted(vips)) or 'none'}); write the address "
                           "without prefix")


def read_ssh_host_keys(problems, data, mode):
    """keepalived_ssh_host_keys_dir when keepalived_ssh_host_keys (`mode`, validated) is
    "shared": the key files, read and checked (model.shared_keys). Returns SharedKeys, or
    None for per-host keys."""
    directory = data.get("keepalived_ssh_host_keys_dir")
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
    """`keepalived_notify_scripts[]`: a script file from a template or given content
    (`NotifyScript`; its vars: `script_data.read_template_vars`)."""
    where = f"keepalived_notify_scripts[{index}]"
    given = item if isinstance(item, Mapping) else {}
    template_vars = script_data.read_template_vars(
        problems, f"{where}.vars", given.get("vars", {}), NotifyScript.TEMPLATE_KEYS)
    script = read_block(problems, where, NotifyScript, item, vars=template_vars or {},
                        path=f"{paths.scripts_dir}/{given.get('name')}")
    if script is None or template_vars is None:
        return None
    if (script.template is None) == (script.content is None):
        problems.error(where, item, "needs exactly one of template (a template name, e.g. "
                       f"{script_data.NOTIFY_SCRIPT_TEMPLATES[0]}) or content (the script's text)")
        return None
    return script


def unicast_address(host, data, typed):
    """(address, key): this host's own VRRP address for unicast, and where it came from:
    keepalived_unicast_src_ip (`typed`: validated), else ssh_hostname or the inventory
    name if an IP address."""
    if data.get("keepalived_unicast_src_ip") is not None:
        return typed.keepalived_unicast_src_ip, "keepalived_unicast_src_ip"
    for key, value in (("ssh_hostname", data.get("ssh_hostname")), ("host name", host)):
        try:
            return str(ipaddress.ip_address(value)), key
        except ValueError:
            continue
    return None, "keepalived_unicast_src_ip"


def check_host_instances(problems, instances, scripts, notify_scripts, sync_groups=(),
                         global_defs=None, lvs_programs=()):
    """Checks between the instances (and sync groups, global_defs) and scripts of one
    host (`lvs_programs`: the paths the LVS blocks run, model.lvs.Lvs.programs: a notify
    script may be theirs)."""
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

    tracked = {name for block in (*instances, *sync_groups) for name in block.track_scripts}
    for index, script in enumerate(scripts):
        if script.vrrp_name not in tracked:
            problems.warn(f"keepalived_check_scripts[{index}].vrrp_name", script.vrrp_name,
                          "is tracked by no instance: keepalived runs it but it moves no VIP; "
                          "add it to an instance's track_scripts or remove it")

    files = {script.name: f"keepalived_check_scripts[{index}]"
             for index, script in enumerate(scripts) if script.path}
    notified = {command.split()[0] for block in (*instances, *sync_groups)
                for _, command in block.notify_commands} | set(lvs_programs)
    notified |= {getattr(global_defs, script).split()[0] for script in GlobalDefs.FIFOS.values()
                 if global_defs is not None and getattr(global_defs, script) is not None}
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

    typed = HostData.built(problems, {key: data[key] for key in TYPED_KEYS if key in data},
                           where="")
    if data.get("_temp_dir") is not None:  # pyinfra's argument, as host data: uploads go there
        read_path(problems, "_temp_dir", data["_temp_dir"])
    paths = read_paths(problems, data)
    script_user = typed.keepalived_check_script_user
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
    address, address_key = unicast_address(host, data, typed)
    context = HostContext(
        script_names=frozenset(name for name in map(declared_vrrp_name, raw_scripts) if name),
        notify_paths={script.name: script.path for script in notify_scripts if script},
        vrrp_version=global_defs.vrrp_version or 2, address=address, address_key=address_key,
        state=typed.keepalived_state, priority=typed.keepalived_priority,
        priority_refused=typed.keepalived_priority is None
        and data.get("keepalived_priority") is not None,
    )

    raw_instances = read_list(problems, "keepalived_vrrp_instances",
                              data.get("keepalived_vrrp_instances", []))
    instances = [read_instance(problems, i, item, data, context)
                 for i, item in enumerate(raw_instances)]
    check_instances_options(problems, instances)
    global_defs = read_fifo_script(problems, global_defs, context)
    check_global_options(problems, global_defs)
    check_no_secret_in_readable_lines(problems, global_defs, scripts)
    static = read_static(problems, data, instances)

    # (read here, not with TYPED_KEYS: its error is listed after the instances', as always)
    real_server = (None if data.get(REAL_SERVER_KEY) is None else read_value(
        problems, REAL_SERVER_KEY, field_type(HostData, REAL_SERVER_KEY), data[REAL_SERVER_KEY]))
    if not raw_instances and real_server is None:
        problems.warn("keepalived_vrrp_instances", [], "no VRRP instance: keepalived will run "
                      "but hold no virtual IP; add instances or leave this host out")
    for key in ("keepalived_priority", "keepalived_state"):
        if data.get(key) is not None and not raw_instances:
            problems.warn(key, data[key], "is set but the host has no keepalived_vrrp_instances")

    host_level = HostLevel.of(typed)
    validate_host.check_daemon_options(problems, host_level.daemon_options)
    if typed.keepalived_package_version is not None:
        warn_unknown_to_pinned(problems, data, typed.keepalived_package_version)
    include_files = read_include_files(problems, data)
    validate_host.refuse_dump_conf(problems, host_level.daemon_options, global_defs, scripts,
                                   instances, include_files)
    check_vip_names(problems, typed.keepalived_vip_names, instances)
    lvs = read_lvs(problems, data, instances, context.notify_paths, script_user)
    ssh_host_keys = read_ssh_host_keys(problems, data, typed.keepalived_ssh_host_keys)

    if problems.errors:
        return None, problems
    global_defs = check_unicast_source(global_defs, instances)
    instances = with_multicast_groups(global_defs, instances)
    sync_groups = read_group_options(problems, read_sync_groups(
        problems, data.get("keepalived_sync_groups", {}), instances, scripts), context, scripts,
        instances)
    check_host_instances(problems, instances, scripts, notify_scripts, sync_groups, global_defs,
                         lvs.programs)
    instances, sync_groups, track_files, track_processes = read_tracking(
        problems, data, instances, sync_groups, paths)
    instances, sync_groups, bfd_instances = read_bfd(problems, data, instances, sync_groups)
    if problems.errors:
        return None, problems
    settings = Settings(host=host, paths=paths, global_defs=global_defs, scripts=tuple(scripts),
                        instances=tuple(instances),
                        package_version=typed.keepalived_package_version,
                        package_proxy=typed.keepalived_package_proxy,
                        notify_scripts=tuple(notify_scripts), sync_groups=sync_groups,
                        host_level=host_level, ssh_host_keys=ssh_host_keys,
                        ssh_port=typed.keepalived_ssh_port, track_files=track_files,
                        track_processes=track_processes, include_files=include_files,
                        lvs=lvs, static=static, lvs_real_server=real_server,
                        bfd_instances=bfd_instances)
    return settings, problems
