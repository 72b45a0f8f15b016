"""Render Settings into the files that make up /etc/keepalived on a host.

Pure functions, no pyinfra: the deploy uploads what these return, and the tests compare
it with expected files and feed it to the real `keepalived -t`.
"""

import functools
import os
import shlex
from dataclasses import dataclass

import jinja2

from ..host_paths import DRAIN_FILE, DRAIN_TRACKER
from ..model.commands import resolved
from ..model.peers import agreement
from ..model.script_data import SHIPPED_SCRIPT_TEMPLATES
from ..shipped import TEMPLATES_DIR
from .firewall import firewall_rules, peers_content, peers_path

# The deploy's drain (DRAIN_FILE; operations.state_files, pyinfra_keepalived/operations/restart.sh):
# a keepalived track_file whose number is added to the priority of every instance that tracks
# it (weight 1; keepalived clamps the result at 1). Writing -253 into the file hands a VIP
# to the next priority with no reply lost, without a reload; a missing file counts as 0.
# On tmpfs: a reboot undrains. (Its track_file is named DRAIN_TRACKER.)


def instance_drain(name):
    """(track_file name, file) of the drain of the one instance `name`: what the drill
    writes to move that instance alone (the host's drain above moves them all)."""
    return f"{DRAIN_TRACKER}_{name}", f"{DRAIN_FILE}.{name}"


def drainable(settings, instance):
    """Whether the drain may lower `instance`'s priority: not for the address owner
    (priority 255 ignores tracking) and not in a sync group (keepalived ignores or
    misuses weights there); those are handed over with a graceful stop instead."""
    synced = {name for group in settings.sync_groups for name in group.instances}
    return instance.priority != 255 and instance.name not in synced


def instances_path(paths):
    """The file of the vrrp_instance blocks (with their auth_pass: 600, a secret)."""
    return f"{paths.config_dir}/20-vrrp_instances.conf"


def agreement_path(paths, name):
    """Where the host keeps what the peers of instance `name` must have alike (not a
    *.conf: keepalived does not read it): the deploy compares it to decide whether a
    change must go live on every peer together (operations.cluster_commit)."""
    return f"{paths.config_dir}/agreement-{name}.txt"


def agreement_file(paths, instance):
    """The ManagedFile of `instance`'s agreement (model.peers.agreement): root-only, and a
    secret (salted digest, masked diff) when it holds an auth_pass."""
    header = (f"# What every peer of {instance.name} must have alike; not read by keepalived "
              "(the deploy commits a change of it on all peers together)\n")
    return ManagedFile(path=agreement_path(paths, instance.name),
                       content=header + agreement(instance), mode="600",
                       secret=instance.auth_pass is not None)


class TemplateNotFound(ValueError):
    pass


@dataclass(frozen=True)
class ManagedFile:
    path: str  # absolute path on the host
    content: str
    mode: str  # e.g. "644"
    secret: bool = False  # holds auth_pass: never shown in a diff


def keepalived_value(value):
    """Numbers as keepalived reads them: 1.0 -> 1, 0.5 -> 0.5, 1e-06 -> 0.000001 (never
    an exponent; keepalived reads at most 6 decimals, the validation allows no more)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def shell_quote(value):
    """The `quote` filter: any value as one shell word (numbers and booleans as text)."""
    return shlex.quote(value if isinstance(value, str) else str(value))


def one_line(value):
    """The `one_line` filter, for values in comments: every character that is not
    printable (a newline would end the comment) becomes '?'."""
    return "".join(char if char.isprintable() else "?" for char in str(value))


def _environment(search_path):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search_path),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["keepalived_value"] = keepalived_value
    env.filters["quote"] = shell_quote
    env.filters["one_line"] = one_line
    env.filters["resolved"] = resolved
    return env


CONFIG_ENV = _environment([TEMPLATES_DIR])


@functools.lru_cache(maxsize=16)
def _script_environment(search_path):
    """The Environment of check-script templates for `search_path` (a tuple), kept: it holds
    the compiled templates (compiling one costs more than rendering it, for every host).
    Keyed by the path, which follows the working directory; an edited template is compiled
    again (jinja2 checks each template's file when it is asked for)."""
    return _environment(list(search_path))


def check_script_search_path():
    """Where check-script templates are looked up: the operator's ./templates first."""
    return [os.path.join(os.getcwd(), "templates"), os.path.join(TEMPLATES_DIR, "scripts")]


def script_file(template_name, variables):
    """Render a check or notify script from its template, a file name (no path: the
    template folders only) looked up in check_script_search_path(), with `variables`."""
    search_path = check_script_search_path()
    if (os.path.basename(template_name) != template_name or "\\" in template_name
            or template_name.startswith(".")):
        raise TemplateNotFound(f"must be a file name in {', '.join(search_path)}, not a path")
    env = _script_environment(tuple(search_path))
    try:
        template = env.get_template(template_name)
    except jinja2.TemplateNotFound:
        raise TemplateNotFound(
            f"template not found in {', '.join(search_path)}; "
            f"shipped: {', '.join(SHIPPED_SCRIPT_TEMPLATES)}") from None
    # `item` is what templates written for the Ansible role use.
    return template.render({**variables, "item": variables, "script": variables})


def script_content(script):
    """The text of a check or notify script: rendered from its template, or as given."""
    if script.template is None:
        return script.content
    return script_file(script.template, script.template_variables())


def config_files(settings, programs=None):
    """{path: ManagedFile} for the config tree of one host (check scripts, the agreement
    files and the firewall's peers file included). `programs`: {name: absolute path} of
    the programs that check and notify commands name without a path, as the host resolved
    them (facts.programs); a name not in it is rendered as given."""
    paths = settings.paths
    context = {
        "programs": programs or {},
        "host": settings.host,
        "paths": paths,
        "global_defs": settings.global_defs,
        "scripts": settings.scripts,
        "instances": settings.instances,
        "sync_groups": settings.sync_groups,
        "track_files": settings.track_files,
        "track_processes": settings.track_processes,
        "include_files": settings.include_files,
        "lvs": settings.lvs,
        "static": settings.static,
        "bfd_instances": settings.bfd_instances,
        "drain": {"file": DRAIN_FILE, "tracker": DRAIN_TRACKER,
                  "instances": {instance.name: instance_drain(instance.name)
                                for instance in settings.instances
                                if drainable(settings, instance)}},
    }

    def rendered(template, path, mode, secret=False):
        content = CONFIG_ENV.get_template(template).render(context)
        return ManagedFile(path=path, content=content, mode=mode, secret=secret)

    files = [
        rendered("keepalived.conf.j2", paths.config_file, "644"),
        rendered("conf.d/00-global_defs.conf.j2", f"{paths.config_dir}/00-global_defs.conf",
                 "644"),
        rendered("conf.d/10-vrrp_scripts.conf.j2", f"{paths.config_dir}/10-vrrp_scripts.conf",
                 "644"),
        rendered("conf.d/20-vrrp_instances.conf.j2", instances_path(paths), "600",
                 secret=True),
    ]
    if settings.track_files or settings.track_processes:  # (the operator's: tracking_blocks)
        files.append(rendered("conf.d/05-track.conf.j2", f"{paths.config_dir}/05-track.conf",
                              "644"))
    if settings.lvs.used:  # (only then: a host without LVS keeps its tree as it was)
        files.append(rendered("conf.d/30-virtual_servers.conf.j2",
                              f"{paths.config_dir}/30-virtual_servers.conf", "644"))
    if settings.bfd_instances:  # only where used (model.bfd)
        files.append(rendered("conf.d/05-bfd.conf.j2", f"{paths.config_dir}/05-bfd.conf",
                              "644"))
    if settings.static:  # only where used: other hosts' trees stay as they were
        files.append(rendered("conf.d/05-static.conf.j2", f"{paths.config_dir}/05-static.conf",
                              "644"))
    files += [ManagedFile(path=script.path, content=script_content(script), mode="755")
              for script in (*settings.scripts, *settings.notify_scripts) if script.path]
    files += [agreement_file(paths, instance) for instance in settings.instances]
    files += [ManagedFile(path=f"{paths.include_dir}/{file.name}", content=file.content,
                          mode="600" if file.secret else "644", secret=file.secret)
              for file in settings.include_files]
    # the firewall's peers for this config, live with it (render.firewall)
    rules = firewall_rules(settings)
    if rules:
        files.append(ManagedFile(path=peers_path(paths), content=peers_content(rules),
                                 mode="644"))
    return {file.path: file for file in files}
