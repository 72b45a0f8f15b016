"""Adopt hosts that already run keepalived, configured by hand: read each host's live
config and write it as this deploy's data (`adopt.py` at the top level).

    pyinfra inventory.py adopt.py --data adopt_out=adopted

Reads, per host, in one command (facts.live_config): keepalived.conf, every file it
includes and the scripts it names, and keepalived's own test of it. Then, on this
machine, as `python3 -m pyinfra_keepalived adopt` does (deploys.offline): each config
parsed (model.conf_parse), mapped (model.adopt_map), written into `adopt_out`
(inventory.py and group_data/, mode 600) with the check scripts as templates in
./templates/, rendered and compared with the live config. Nothing changes on a host.

Exit codes: 0 every line mapped and the render means the same; 1 incomplete (the lines,
the differences listed, ADOPT-INCOMPLETE.txt); 2 bad input, nothing written (a config
keepalived rejects or that cannot be read as keepalived reads it, a binary or over-large
file, an include loop or a missing include, a host not read).

`compare` (adopt_check.py) is the proof, whenever the operator runs it: each host's live
config, read the same way, against the render of the inventory (both parsed and
normalised, the scripts at their path in the scripts dir and their texts compared),
every difference listed block by block; exit 0 the same, 1 differences, 2 bad input.
"""

import os
import re

from pyinfra import logger, state

from ..facts.live_config import KeepalivedLiveConfig
from ..model import adopt_map, conf_equiv, conf_parse
from ..model.blocks import Paths
from ..model.problems import KeepalivedDataError
from ..per_run import once_per_run
from ..render import config as render_config
from ..render.script_data import check_inventory
from .offline import OfflineError, adopt_into, deploy_own, host_dir, summary
from .status import dry_run

TEMPLATES_DIR = "templates"  # the operator's, where the deploy looks for check scripts first
EXIT_INCOMPLETE, EXIT_BAD_INPUT = 1, 2
# keepalived -t: 0 accepted; 143 keepalived 2.2.7's own -t killed itself (a script under
# a non-root user): no answer (the parse still reads every line). 6, SECURITY VIOLATION,
# is the highest code of those reported: accepted only when keepalived says nothing else
# than the violation it runs with all the same (scripts as root without
# enable_script_security: the deploy turns it on) and warnings; a config error it also
# reports (5) would be hidden behind it.
TEST_PASSED = (0, 143)
SECURITY_VIOLATION = 6
TOLERATED_RE = re.compile(r"SECURITY VIOLATION - scripts are being executed but "
                          r"script_security not enabled|WARNING")


def keepalived_accepts(live):
    """Whether keepalived -t on the host accepted the live config (or could not say)."""
    if live.test_code in (None, *TEST_PASSED):
        return True
    return live.test_code == SECURITY_VIOLATION and all(
        TOLERATED_RE.search(line) for line in live.test_output)


def live_tree(name, live, config_file):
    """The parsed tree of one host's live config (`live`: a LiveConfig); OfflineError
    naming the host and the file on bad input. A binary program a script line names
    (`script "/usr/bin/pgrep haproxy"`) is no bad input: the command stays."""
    tree = error = None
    if config_file in live.files:
        try:
            tree = conf_parse.parse(config_file, conf_parse.MemorySource(live.contents()),
                                    config_id=name)
        except conf_parse.ConfParseError as parse_error:
            error = parse_error
    programs = adopt_map.programs(tree or ())
    for path, why in live.refused.items():
        if why == "binary" and path not in programs:
            raise OfflineError(f"{name}: {path} is a binary file, not a keepalived config "
                               "or script")
        if why.startswith("large"):
            raise OfflineError(f"{name}: {path} is {why.split()[1]} bytes: more than the "
                               f"{conf_parse.MAX_FILE_BYTES // (1024 * 1024)} MB a keepalived "
                               "config or script can reasonably be; refused")
    if config_file not in live.files:
        raise OfflineError(f"{name}: {config_file}: no such file (keepalived_config_file "
                           "names the live config)")
    if error is not None:  # (after the refusals: a binary include is named as such)
        raise OfflineError(f"{name}: {error}")
    if not keepalived_accepts(live):
        raise OfflineError(f"{name}: keepalived rejects {config_file} (keepalived -t exit "
                           f"{live.test_code}): " + "; ".join(live.test_output[:10]))
    return tree


def adopted(lives, config_file):
    """({host: Mapping}, {host: tree}) of the hosts' LiveConfigs; OfflineError."""
    mappings, trees = {}, {}
    for name, live in lives.items():
        host_dir("", name)
        trees[name] = live_tree(name, live, config_file)
        mapping = adopt_map.map_config(trees[name], scripts=live.files)
        # keepalived runs scripts as keepalived_script if that user exists, else as root
        mapping.data.setdefault("keepalived_check_script_user",
                                live.default_script_user or "root")
        mapping.unmapped += removed_files(live)
        mappings[name] = mapping
    return mappings, trees


def removed_files(live):
    """An `Unmapped` for each file the first deploy would remove: in a directory it
    replaces with a link (conf.d/, scripts/), and not read with the config (a helper a
    check script calls, a config file no include names)."""
    return [adopt_map.Unmapped(path, "a file the config does not name",
                               f"{os.path.dirname(path)} becomes the deploy's: the first "
                               "deploy removes it; move it elsewhere (and what uses it)")
            for path in live.managed if path not in live.files]


def read_hosts(config_file):
    """{host: LiveConfig} of every host of the inventory; OfflineError when one is not
    read (unreachable: its data would be missing from the group)."""
    active = set(state.inventory.get_active_hosts())
    paths = Paths()
    lives = {host.name: host.get_fact(KeepalivedLiveConfig, config_file=config_file,
                                      managed_dirs=[paths.config_dir, paths.scripts_dir])
             for host in state.inventory if host in active}
    missing = [host.name for host in state.inventory if host.name not in lives]
    if missing:
        raise OfflineError(f"not read: {', '.join(missing)}; adopt every host of a cluster "
                           "together (group data is what they share)")
    return lives


def adopt_hosts(out, config_file):
    """The whole adoption, once for all hosts: the exit code."""
    try:
        mappings, trees = adopted(read_hosts(config_file), config_file)
        for host, mapping in mappings.items():
            for where, old, new in mapping.translations:
                logger.info(f"{host}: {where}: {old} read as {new}")
        if dry_run():
            lines = [f"{host}: {item}" for host, mapping in mappings.items()
                     for item in mapping.unmapped]
            logger.info(f"--dry: nothing written; {out} would get the data of "
                        f"{len(mappings)} host(s)")
        else:
            lines = adopt_into(out, mappings, trees, templates_dir=TEMPLATES_DIR)
    except OfflineError as error:
        logger.error(str(error))
        return EXIT_BAD_INPUT
    except OSError as error:
        logger.error(f"cannot write {error.filename}: {error.strerror}")
        return EXIT_BAD_INPUT
    for line in lines:
        logger.warning(line)
    logger.info(summary(out, mappings, lines))
    return EXIT_INCOMPLETE if lines else 0


def adopt(out="adopted", config_file=None):
    """Read every host's live config and write it as data into `out` (see the module):
    once per run, by the first host's deploy code; exit with its code when not 0."""
    config_file = config_file or Paths().config_file
    code = once_per_run(("adopt", out), lambda: adopt_hosts(os.path.abspath(out), config_file))
    if code:
        raise SystemExit(code)


# -- the proof: the inventory's render against each host's live config --

def host_differences(settings, live):
    """[difference] between a host's live config (`live`, its scripts at their path in
    the scripts dir) and what the deploy renders for it (`settings`), both parsed and
    normalised (model.conf_equiv), block by block; then each script whose text differs."""
    config_file = settings.paths.config_file
    files = render_config.config_files(settings)
    rendered = conf_parse.parse(config_file, conf_parse.MemorySource(
        {path: file.content for path, file in files.items()}), config_id=settings.host)
    tree = live_tree(settings.host, live, config_file)
    mapping = adopt_map.map_config(tree, scripts=live.files)
    found = conf_equiv.differences(
        conf_equiv.normalise(mapping.renamed_tree(tree)), conf_equiv.normalise(rendered),
        ("live", "rendered"), ignore=deploy_own)
    for old, new in sorted(mapping.renamed.items()):
        if new in files and files[new].content != live.files.get(old):
            found.append(f"script {old} (to be {new}): its text differs from the render")
    return found


def compare_hosts(config_file):
    """Log each host's differences; the exit code (0 none; 1 some; 2 bad input)."""
    try:
        lives = read_hosts(config_file)
        settings = check_inventory(state.inventory)
        found = {name: host_differences(settings[name], live) for name, live in lives.items()}
    except (OfflineError, KeepalivedDataError) as error:
        logger.error(str(error))
        return EXIT_BAD_INPUT
    for name, lines in found.items():
        for line in lines:
            logger.warning(f"{name}: differs: {line}")
        if not lines:
            logger.info(f"{name}: the rendered config means the same as the live one")
    return 1 if any(found.values()) else 0


def compare(config_file=None):
    """The proof, once per run (see compare_hosts); exit with its code when not 0."""
    config_file = config_file or Paths().config_file
    code = once_per_run("adopt check", lambda: compare_hosts(config_file))
    if code:
        raise SystemExit(code)
