"""The package's command line (`python3 -m pyinfra_keepalived`): what needs no host.

    render INVENTORY [--host NAME] --out DIR   the files each host would get, at
                                               DIR/<host>/<path on the host>
    adopt --out DIR [NAME=]FILE...             hand-written keepalived.conf files as this
                                               deploy's data (DIR/inventory.py, group_data/)
    adopt --root COPIES --out DIR NAME[=PATH]...   the same, each host's files from a copy
                                               of its / at COPIES/NAME

Neither connects to any host: `render` loads the inventory and its group_data/ as pyinfra
does (pyinfra_cli's own loader) and validates it as a deploy does (the same messages);
`adopt` reads files on this machine. Exit codes: 0 done; 1 adopt incomplete (lines not
mapped, or a difference between the config and its render); 2 bad input (data refused,
a config that cannot be read): nothing written.
"""

import argparse
import os
import pprint
import sys
import tempfile

from ..host_paths import DROPIN, NEEDRESTART_CONF, OPTIONS_FILES, SYSCTL_FILE
from ..model import adopt_map, conf_equiv, conf_parse
from ..model.blocks import Paths
from ..model.problems import KeepalivedDataError
from ..operations.firewall import installed_command
from ..render import config as render_config
from ..render import host_level as render_host
from ..render import script_data
from ..render.firewall import firewall_rules

INCOMPLETE_FILE = "ADOPT-INCOMPLETE.txt"
CONFIG_FILE = Paths().config_file  # (where keepalived as packaged reads it)


class OfflineError(Exception):
    """Bad input: its message is printed, nothing is written, exit 2."""


# -- render --

def load_inventory(path):
    """[(host name, data)] of the inventory file `path` and the group_data/ beside it, as
    pyinfra loads them (no host is contacted)."""
    from pyinfra.api import State
    from pyinfra.context import ctx_state
    from pyinfra_cli.inventory import make_inventory_from_files
    from pyinfra_cli.util import PYTHON_CODES

    if not os.path.isfile(path):
        raise OfflineError(f"{path}: no such inventory file")
    path = os.path.abspath(path)
    # pyinfra keeps each file's compiled code by its name: read the files as they are now
    # (adopt writes an inventory, then loads it; a process may do that more than once)
    for name in [name for name in PYTHON_CODES if name.startswith(os.path.dirname(path))]:
        del PYTHON_CODES[name]
    try:
        with ctx_state.use(State(check_for_changes=False)):  # (as pyinfra's CLI loads it)
            inventory = make_inventory_from_files(path)
    except Exception as error:  # (the inventory is the operator's Python: any error)
        raise OfflineError(f"{path}: the inventory failed to load: "
                           f"{type(error).__name__}: {error}") from None
    return [(host.name, host.data.dict()) for host in inventory]


def host_files(settings):
    """{path: ManagedFile} of every file the deploy writes on the host of `settings`: the
    config tree and its scripts, and the host-level files (the firewall hook in the
    drop-in only where keepalived_firewall is true and there are peers to let in: "auto"
    depends on the host; the daemon
    options at Debian's path)."""
    files = dict(render_config.config_files(settings))
    level = settings.host_level
    firewall = (installed_command(settings.paths)
                if level.firewall == "on" and firewall_rules(settings) else None)
    extra = [(DROPIN, render_host.service_dropin(level, firewall)),
             (NEEDRESTART_CONF, render_host.needrestart_conf())]
    if level.nonlocal_bind:
        extra.append((SYSCTL_FILE, render_host.sysctl_file(level.nonlocal_bind)))
    if level.daemon_options is not None:
        path, variable = OPTIONS_FILES["apt"]
        extra.append((path, render_host.options_file(variable, level.daemon_options)))
    for path, content in extra:
        files[path] = render_config.ManagedFile(path=path, content=content, mode="644")
    return files


def rendered_hosts(inventory_path, only=None, warn=None):
    """{host: {path: ManagedFile}} of the inventory's hosts (`only`: that one), validated
    all together as a deploy validates them (peer checks need every host)."""
    hosts = load_inventory(inventory_path)
    names = [name for name, _ in hosts]
    if only is not None and only not in names:
        raise OfflineError(f"--host {only}: not in {inventory_path} (hosts: "
                           f"{', '.join(names) or 'none'})")
    try:
        settings = script_data.check_hosts(hosts, warn=warn or _warn)
    except KeepalivedDataError as error:
        raise OfflineError(str(error)) from None
    for name in settings:
        host_dir("", name)  # (before anything is written)
    return {name: host_files(host_settings) for name, host_settings in settings.items()
            if only is None or name == only}


def host_dir(out, host):
    """out/<host>: the host's name must be a name of its own (a directory in `out`)."""
    if not host or host in (".", "..") or "/" in host or "\0" in host:
        raise OfflineError(f"host {host!r}: its name is no directory name; rename the host")
    return os.path.join(out, host)


def write_tree(out, files_by_host):
    """Each host's files at out/<host>/<path>, with their modes."""
    for host, files in files_by_host.items():
        for path, file in files.items():
            _write(os.path.join(host_dir(out, host), path.lstrip("/")), file.content,
                   int(file.mode, 8))


def _write(path, content, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".new-")
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def render_command(arguments):
    files = rendered_hosts(arguments.inventory, arguments.host)
    write_tree(arguments.out, files)
    for host, host_files_ in files.items():
        print(f"{host}: {len(host_files_)} files in {os.path.join(arguments.out, host)}")
    return 0


# -- adopt --

def host_and_file(argument):
    """NAME=FILE, or FILE (the host named after the file: its name up to the first dot,
    or its directory's name for a keepalived.conf)."""
    name, sep, path = argument.partition("=")
    if sep and name and "/" not in name:
        return name, path
    stem = os.path.basename(argument).split(".")[0]
    if stem == "keepalived":
        stem = os.path.basename(os.path.dirname(os.path.abspath(argument))) or stem
    return stem, argument


def adopted(arguments, root=None):
    """({host: Mapping}, {host: parsed tree}): each FILE parsed (for its host's config
    id) and mapped; OfflineError on a config that cannot be read. Without `root`, FILE is
    a file here and an absolute include is refused; with it, the host's files are under
    root/<host>/ (a copy of its /) and FILE is their path on the host, NAME[=PATH]."""
    mappings, trees = {}, {}
    for argument in arguments:
        if root is None:
            host, path = host_and_file(argument)
            source = conf_parse.DiskSource(absolute_includes=False)
        else:
            host, _, path = argument.partition("=")
            path = path or CONFIG_FILE
            source = conf_parse.DiskSource(host_dir(root, host))
        host_dir("", host)
        if host in trees:
            raise OfflineError(f"{argument}: host {host} is given twice; name them NAME=FILE")
        try:
            trees[host] = conf_parse.parse(path, source, config_id=host)
        except (conf_parse.ConfParseError, OSError) as error:
            raise OfflineError(f"{host}: {error}") from None
        mappings[host] = adopt_map.map_config(trees[host])
    return mappings, trees


def _python(name, value):
    return f"{name} = {pprint.pformat(value, sort_dicts=False, width=92)}\n"


def data_files(mappings, incomplete=()):
    """{relative path: text} of the inventory.py and group_data/*.py of `mappings`, and
    with `incomplete` (the lines not mapped, where the render differs) INCOMPLETE_FILE."""
    groups, hosts = adopt_map.split_data({host: mapping.data
                                          for host, mapping in mappings.items()})
    header = ('"""Adopted by `python3 -m pyinfra_keepalived adopt` from hand-written '
              "keepalived.conf files.\n\n"
              + (f"INCOMPLETE: {len(incomplete)} problem(s) listed in {INCOMPLETE_FILE} (lines "
                 "not mapped: the deploy would drop them; where the render differs).\n"
                 if incomplete else "Every line was mapped; the render means the same.\n")
              + "Set each host's ssh_hostname (and ssh_user) before deploying.\n"
              '"""\n\n')
    inventory = header
    files = {}
    for group, (members, shared) in groups.items():
        inventory += _python(group, [(host, hosts[host]) for host in members])
        if shared:
            files[f"group_data/{group}.py"] = (
                f'"""Data the hosts of {group} share (adopted)."""\n\n'
                + "".join(_python(key, value) for key, value in shared.items()))
    files["inventory.py"] = inventory
    if incomplete:
        files[INCOMPLETE_FILE] = "\n".join(incomplete) + "\n"
    return files


def write_data(out, files):
    """The data files into `out` (mode 600: an auth_pass is in them); an INCOMPLETE_FILE
    of an earlier run goes when this one has none."""
    for relative, text in files.items():
        _write(os.path.join(out, relative), text, 0o600)
    if INCOMPLETE_FILE not in files and os.path.exists(os.path.join(out, INCOMPLETE_FILE)):
        os.remove(os.path.join(out, INCOMPLETE_FILE))


def deploy_own(path, text):
    """What the rendered config has that the deploy adds on its own (not from the data):
    script security and its user (also each vrrp_script's and MISC_CHECK's: the script
    user adopted), the unicast source check, the drain's trackers."""
    inside = path[-1:] if path else ()
    return (
        (inside and (inside[0].startswith("vrrp_script ") or inside[0] == "MISC_CHECK")
         and text.split()[0] == "user")
        or
        (inside and inside[0] == "global_defs" and text.split()[0] in (
            "enable_script_security", "script_user", "vrrp_check_unicast_src"))
        or text.startswith(f"track_file {render_config.DRAIN_TRACKER}")
        or (path[-1:] == ("track_file",) and text.startswith(render_config.DRAIN_TRACKER)))


def compared(trees, tree_dir, mappings):
    """{host: [difference]} between what each host's original config maps (`mappings`:
    its lines not mapped left out) and its render in tree_dir (what the deploy adds on
    its own left out)."""
    found = {}
    for host, tree in trees.items():
        tree = mappings[host].mapped_tree(tree)
        root = os.path.join(tree_dir, host)
        rendered = conf_parse.parse(CONFIG_FILE,
                                    conf_parse.DiskSource(root), config_id=host)
        found[host] = conf_equiv.differences(
            conf_equiv.normalise(tree), conf_equiv.normalise(rendered),
            ("original", "rendered"), ignore=deploy_own)
    return found


def script_templates(mappings, templates_dir):
    """{path in templates_dir: text} of the hosts' check scripts; a name whose text differs
    between hosts is given per host (HOST.NAME, its data changed to match). OfflineError
    when such a file exists there with another text (the operator's: never overwritten)."""
    texts = {}
    for host, mapping in mappings.items():
        for name, text in mapping.templates.items():
            texts.setdefault(name, {})[host] = text
    files = {}
    for name, by_host in texts.items():
        shared = len(set(by_host.values())) == 1
        for host, text in by_host.items():
            template = name if shared else f"{host}.{name}"
            for script in mappings[host].data.get("keepalived_check_scripts", []):
                if script["template"] == name:
                    script["template"] = template
            files[os.path.join(templates_dir, template)] = text
    for path, text in files.items():
        if os.path.exists(path) and open(path, encoding="utf-8", errors="replace").read() != text:
            raise OfflineError(f"{path} exists with another text: adopting would overwrite it; "
                               "move it away (or adopt from another directory)")
    return files


def adopt_into(out, mappings, trees, templates_dir=None):
    """Write `mappings` as data into `out` (and, `templates_dir` given, their check
    scripts there), render it and compare each host's render with its config (`trees`).
    Returns the lines to report (not mapped, differences, a render that fails): none when
    the adoption is complete."""
    templates = script_templates(mappings, templates_dir) if templates_dir else {}
    unmapped = [f"{host}: {item}" for host, mapping in mappings.items()
                for item in mapping.unmapped]
    for path, text in templates.items():  # (a host's script may hold credentials: 600,
        _write(path, text, 0o600)          # as the data; the deploy installs it root's 755)
    write_data(out, data_files(mappings, unmapped))
    problems = []
    with tempfile.TemporaryDirectory() as tree_dir:
        try:
            write_tree(tree_dir, rendered_hosts(os.path.join(out, "inventory.py"), warn=_warn))
        except OfflineError as error:
            problems.append(f"the adopted data does not render: {error}")
        else:
            problems += [f"{host}: differs: {line}" for host, found in
                         compared(trees, tree_dir, mappings).items() for line in found]
    if problems:  # (marked incomplete for these too)
        write_data(out, data_files(mappings, unmapped + problems))
    return unmapped + problems


def summary(out, mappings, lines):
    different = sum(": differs: " in line for line in lines)
    unmapped = sum(len(mapping.unmapped) for mapping in mappings.values())
    return (f"adopted {len(mappings)} host(s) into {out}: {unmapped} line(s) not "
            f"mapped, {different} difference(s) between the configs and their render"
            + ("; the data does not render" if any(line.startswith("the adopted")
                                                    for line in lines) else ""))


def adopt_command(arguments):
    mappings, trees = adopted(arguments.files, arguments.root)
    for host, mapping in mappings.items():
        for where, old, new in mapping.translations:
            print(f"{host}: {where}: {old} read as {new}")
    lines = adopt_into(arguments.out, mappings, trees)
    for line in lines:
        print(line, file=sys.stderr if line.startswith("the adopted") else sys.stdout)
    print(summary(arguments.out, mappings, lines))
    return 1 if lines else 0


def _warn(message):
    print(message, file=sys.stderr)


def parser():
    top = argparse.ArgumentParser(prog="python3 -m pyinfra_keepalived",
                                  description="keepalived configs without touching a host")
    commands = top.add_subparsers(dest="command", required=True)
    render = commands.add_parser("render", help="write the files each host would get")
    render.add_argument("inventory", metavar="INVENTORY")
    render.add_argument("--host", metavar="NAME", help="only this host's files")
    render.add_argument("--out", metavar="DIR", required=True)
    render.set_defaults(run=render_command)
    adopt = commands.add_parser("adopt", help="hand-written configs as this deploy's data")
    adopt.add_argument("--out", metavar="DIR", required=True)
    adopt.add_argument("--root", metavar="DIR", help="each host's files under DIR/NAME/ "
                       "(a copy of its /); then give NAME or NAME=PATH on the host")
    adopt.add_argument("files", metavar="[NAME=]FILE", nargs="+")
    adopt.set_defaults(run=adopt_command)
    return top


def main(argv=None):
    arguments = parser().parse_args(argv)
    try:
        return arguments.run(arguments)
    except OfflineError as error:
        print(error, file=sys.stderr)
        return 2
    except OSError as error:  # (writing the output: a full disk, no permission)
        print(f"cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return 2


def main_exit():
    """The console script's entry: `main`, its code the process's exit code."""
    sys.exit(main())
