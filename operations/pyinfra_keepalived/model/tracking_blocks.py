"""The operator's tracked files and processes (`track_file`, `vrrp_track_process` blocks),
the instances and sync groups that track them, and an instance's VRRP virtual MAC
(`use_vmac`): their blocks, and the rules between their keys and the rest of a host's data.

Data keys follow the Ansible role evrardjp/ansible-keepalived: `keepalived_track_files`
and `keepalived_track_processs` (its spelling, accepted beside `keepalived_track_processes`),
mappings of name to block; `track_files` and `track_processs` / `track_processes` in
instances and sync groups, lists of names (each optionally "NAME weight W").

Every block is read with `reading.read_block`; the rules between keys are the named `check_*`
functions below, each adding errors (or warnings that name the fix) to `problems`.
`read_tracking` is what `validate.read_host` calls, once the instances and sync groups are
read.
"""

import re
from typing import Annotated, ClassVar

from pydantic import Field

from ..host_paths import DRAIN_FILE, DRAIN_TRACKER, RUN_DIR, STATE_DIR
from .problems import did_you_mean, public_keys
from .readers import read_mapping
from .reading import Block, Entry, OrLine, entry_line, read_block, read_value
from .types import (
    Derived,
    FilePath,
    Flag,
    Interface,
    Name,
    Says,
    choice,
    matching,
    seconds,
    whole,
)

# A process and its parameters as keepalived matches them: words without quotes, braces,
# # or ! (each a word of keepalived's parser), one space apart.
PROCESS_WORD = r"(?:(?![{}#!\"'])[\x21-\x7e])+"
PROCESS_RE = re.compile(f"{PROCESS_WORD}(?: {PROCESS_WORD})*")
COMM_LENGTH = 15  # the kernel keeps this much of a process name (/proc/PID/comm)


class TrackFile(Block):
    """A `track_file NAME { }` block (`keepalived_track_files.NAME`): a file holding a
    number, which times `weight` is added to the priority of the instances that track it
    (a missing or unreadable file counts as 0)."""

    name: Derived[str] = Field(None, description="its key in keepalived_track_files")
    file: FilePath = Field(description="the file keepalived reads (required), e.g. "
                               "/run/keepalived/maintenance")
    weight: whole(-254, 254) = Field(1, description="the number in the file is multiplied "
                                     "by it; 0: any number but 0 means FAULT")
    init_file: Flag = Field(False, description="keepalived writes init_file_value to the "
                            "file (as root) at start when it does not exist: not in a "
                            "system or the deploy's own directory")
    init_file_value: whole(-254, 254) | None = Field(None, description="with init_file: the "
                                                     "number written (default 0)")
    init_file_overwrite: Flag = Field(False, description="with init_file: also when the "
                                      "file exists (every start and reload resets it)")


class TrackProcess(Block):
    """A `vrrp_track_process NAME { }` block (`keepalived_track_processes.NAME`): whether
    enough processes of a name run. Needs the kernel's process-event connector, which
    answers only in the initial network namespace (not in a container: docs, tracking)."""

    name: Derived[str] = Field(None, description="its key in keepalived_track_processes")
    process: matching(PROCESS_RE, "a process name or path, optionally followed by its "
                                  "parameters, one space apart (no quotes, braces, # or !)") \
        = Field(description="the process name (as in /proc/PID/comm, at most 15 "
                            "characters) or its path and parameters (required)")
    param_match: choice("exact", "initial", "partial") | None = Field(
        None, description="how the parameters match: exact (also: no parameters), "
                          "initial (the last may be longer), partial (the first ones)")
    weight: whole(-254, 254) | None = Field(None, description="added to the priority (>0: "
                                            "while enough run; <0: while not); unset: "
                                            "too few means FAULT")
    quorum: whole(1, 65535) | None = Field(None, description="processes needed (default 1)")
    quorum_max: whole(0, 65535) | None = Field(None, description="more than this many is a "
                                               "failure (0: any is)")
    delay: seconds(0.000001, 3600) | None = Field(None, description="sets fork_delay and "
                                                  "terminate_delay")
    fork_delay: seconds(0.000001, 3600) | None = Field(None, description="seconds a new "
                                                       "process must run before it counts")
    terminate_delay: seconds(0.000001, 3600) | None = Field(
        None, description="seconds after the quorum is lost before it counts as lost")
    full_command: Flag = Field(False, description="match the whole command line "
                               "(/proc/PID/cmdline) instead of the name")

    @property
    def options(self):
        """((keyword, value), ...) of the optional keywords set, in keepalived's order."""
        return tuple((key, getattr(self, key)) for key in (
            "weight", "quorum", "quorum_max", "delay", "fork_delay", "terminate_delay")
            if getattr(self, key) is not None)


class TrackedItem(Entry):
    """One line of an instance's or sync group's track_file / track_process list: "NAME
    [weight W]" or a mapping."""

    NUMBERS: ClassVar = ("weight",)

    name: Name = Field(description="the block's name (required)")
    weight: whole(-254, 254) | None = Field(None, description="instead of the block's weight")

    def __str__(self):
        return entry_line(self, "name", ("weight",))


TrackedList = Annotated[
    list[Annotated[TrackedItem, OrLine()]],
    Says("must be a list of names, each optionally followed by weight W (-254-254), or "
         "mappings of name and weight")]
VmacName = Annotated[Flag | Interface, Says(
    "must be true, false or the macvlan's name: 1-15 letters, digits and _ . @ - (no "
    "spaces, / or :; not starting with @)")]
TrackFiles = dict[Name, TrackFile]
TrackProcesses = dict[Name, TrackProcess]

public_keys(TrackFile.keys(), TrackProcess.keys(), TrackedItem.keys())

# Where keepalived must never write a track_file's init_file (it writes as root, at every
# start and reload with overwrite): the system's own files, devices and kernel settings.
SYSTEM_DIRS = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
               "/boot", "/root", "/home", "/var/lib/dpkg", "/var/lib/rpm", "/dev", "/proc",
               "/sys")
OWN_FILE = "use a file of its own under /run or /var/lib/<name>"

FILES, PROCESSES, ROLE_PROCESSES = ("keepalived_track_files", "keepalived_track_processes",
                                    "keepalived_track_processs")


# -- the blocks --

def read_blocks(problems, key, block, value):
    """{name: block} of a mapping of names to blocks (`keepalived_track_files`, ...); a
    block that is refused is left out (its errors reported)."""
    blocks = {}
    for name, given in read_mapping(problems, key, value).items():
        if read_value(problems, f"{key}[{name!r}]", Name, name) is None:
            continue
        read = read_block(problems, f"{key}.{name}", block, given, name=name)
        if read is not None:
            blocks[name] = read
    return blocks


def one_spelling(problems, where, given, key, role_key):
    """The value of `key` or of the Ansible role's spelling `role_key` in `given` (a
    mapping of host data or of a block): both set is an error."""
    if given.get(key) and given.get(role_key):
        value = given[role_key]  # (entries read already are shown as their lines)
        shown = [str(item) if isinstance(item, Block) else item for item in value] if \
            isinstance(value, (list, tuple)) else value
        problems.error(f"{where}{role_key}", shown, f"is the Ansible role's "
                       f"spelling of {key}, which is set too: keep one of them")
    return given.get(key) or given.get(role_key)


def under(path, directories):
    """The first of `directories` that holds `path` (normalised, absolute), or None."""
    return next((directory for directory in directories
                 if path == directory or path.startswith(f"{directory}/")), None)


def check_track_file(problems, key, track_file, paths):
    """A track file is not the deploy's drain (its name or its file); one keepalived
    writes (init_file) is none of the deploy's own files (`paths`: the config tree; its
    state and run files) nor in a system directory (SYSTEM_DIRS); init_file's value and
    overwrite need init_file."""
    reserved = track_file.name == DRAIN_TRACKER or track_file.name.startswith(
        f"{DRAIN_TRACKER}_")
    if reserved:
        problems.error(f"{key}[{track_file.name!r}]", track_file.name,
                       f"is the deploy's drain ({DRAIN_TRACKER}, {DRAIN_TRACKER}_INSTANCE): "
                       "give your track_file another name")
    if track_file.file == DRAIN_FILE or track_file.file.startswith(f"{DRAIN_FILE}."):
        problems.error(f"{key}.{track_file.name}.file", track_file.file,
                       f"is the deploy's drain file ({DRAIN_FILE}, {DRAIN_FILE}.INSTANCE), "
                       "which it writes before each restart: use a file of your own")
    elif track_file.init_file:
        writes = ("overwrites it with a number at every start and reload"
                  if track_file.init_file_overwrite else
                  "writes a number into it at start when it does not exist")
        # (the deploy's state and run files: the directories and the files beside them,
        # e.g. the record of a user it created, which uninstall trusts)
        own = (f"{paths.base_dir}/*" if under(track_file.file, (paths.base_dir,)) else
               next((f"{name}*" for name in (STATE_DIR, RUN_DIR)
                     if track_file.file.startswith(name)), None))
        system = under(track_file.file, SYSTEM_DIRS)
        if own or system:
            where = (f"is one of the deploy's own files ({own}), which it writes and "
                     "removes itself" if own else f"is under {system}, a system directory")
            problems.error(f"{key}.{track_file.name}.file", track_file.file,
                           f"{where}: with init_file, keepalived (as root) {writes}; "
                           f"{OWN_FILE}, or remove init_file")
    for option in ("init_file_value", "init_file_overwrite"):
        if getattr(track_file, option) not in (None, False) and not track_file.init_file:
            problems.warn(f"{key}.{track_file.name}.{option}", getattr(track_file, option),
                          "has no effect without init_file: true; set init_file or remove "
                          "it")


def check_track_process(problems, key, process, from_role):
    """quorum at most quorum_max; a process keepalived can match (matched by name, it is
    compared with the 15-character /proc/PID/comm); an unset weight read from the Ansible
    role's key (the role rendered weight 1 there)."""
    where = f"{key}.{process.name}"
    if None not in (process.quorum, process.quorum_max) and process.quorum > process.quorum_max:
        problems.error(f"{where}.quorum", process.quorum, f"is more than quorum_max "
                       f"({process.quorum_max}): keepalived ignores it; lower it or raise "
                       "quorum_max")
    # (parameters and param_match make keepalived match the command line too)
    by_name = " " not in process.process and process.param_match is None and \
        not process.full_command
    if by_name and ("/" in process.process or len(process.process) > COMM_LENGTH):
        problems.error(f"{where}.process", process.process, "never matches the process "
                       f"name keepalived compares it with (/proc/PID/comm: at most "
                       f"{COMM_LENGTH} characters, no path); give that name, or set "
                       "full_command: true to match the command line")
    if from_role and process.weight is None:
        problems.warn(f"{where}.weight", None, "is unset: too few processes put the "
                      "instances that track it in FAULT (the Ansible role rendered weight 1 "
                      "here); set the weight you mean")


# -- what instances and sync groups track --

def tracked(problems, where, block):
    """`block` (an instance or a sync group at `where`, validated) with its track_files
    and track_processes as TrackedItems (the processes of either spelling: both set is an
    error), and track_processs empty."""
    given = {key: [str(item) for item in getattr(block, key)]
             for key in ("track_processes", "track_processs")}
    processes = one_spelling(problems, f"{where}.", given, "track_processes",
                             "track_processs")
    return block.model_copy(update={
        "track_files": tuple(map(TrackedItem.model_validate, block.track_files)),
        "track_processes": tuple(map(TrackedItem.model_validate, processes or [])),
        "track_processs": ()})


def check_names(problems, key, tracked, names, blocks_key):
    """Each name tracked is one of `names` (the blocks of `blocks_key`), tracked once."""
    seen = {}
    for index, item in enumerate(tracked):
        if item.name in seen:
            problems.error(f"{key}[{index}]", item.name, f"is tracked twice (also "
                           f"{key}[{seen[item.name]}]): keepalived counts it once; keep one")
        seen.setdefault(item.name, index)
        if item.name not in names:
            defined = ", ".join(sorted(names)) or "none"
            problems.error(f"{key}[{index}]", item.name,
                           f"names no block of {blocks_key}"
                           f"{did_you_mean(item.name, names)}; defined: {defined}")


def weight_of(item, blocks):
    """The weight an item tracked with: its own, else its block's (unset: 0)."""
    block = blocks.get(item.name)
    return item.weight if item.weight is not None else (block.weight or 0) if block else 0


def check_weights(problems, key, tracked, blocks, why):
    """Every item of `tracked` has weight 0 (keepalived ignores, or drops, a weighted one
    here: `why`)."""
    for index, item in enumerate(tracked):
        if item.name in blocks and weight_of(item, blocks):
            problems.error(f"{key}[{index}]", str(item), f"tracks with weight "
                           f"{weight_of(item, blocks)}: {why}; track it with weight 0 "
                           f"(\"{item.name} weight 0\": a failure means FAULT)")


SYNCED = "keepalived ignores tracking weights of an instance in a sync group"
OWNER = "priority 255 (the address owner) ignores tracking weights"


def check_instance(problems, where, instance, kinds, synced):
    """What an instance (`tracked`) tracks is declared (`kinds`: read_tracking's), and is
    unweighted where keepalived ignores weights (in a sync group, or at priority 255)."""
    for key, blocks, blocks_key, names in kinds:
        check_names(problems, f"{where}.{key}", getattr(instance, key), names, blocks_key)
        if synced or instance.priority == 255:
            check_weights(problems, f"{where}.{key}", getattr(instance, key), blocks,
                          SYNCED if synced else OWNER)


def check_group(problems, where, group, kinds, instances):
    """What a sync group (`tracked`) tracks is declared (as check_instance); weighted only
    if no member is the address owner (keepalived then sets the weight to 0)."""
    owners = [instance.name for instance in instances
              if instance.name in group.instances and instance.priority == 255]
    for key, blocks, blocks_key, names in kinds:
        check_names(problems, f"{where}.{key}", getattr(group, key), names, blocks_key)
        if owners:
            check_weights(problems, f"{where}.{key}", getattr(group, key), blocks,
                          f"{owners[0]} has priority 255, and keepalived then ignores the "
                          "group's tracking weights")


# -- use_vmac --

def vmac_name(instance):
    """The macvlan keepalived makes for `instance` (use_vmac), or None."""
    if instance.use_vmac is False:
        return None
    return f"vrrp.{instance.virtual_router_id}" if instance.use_vmac is True else \
        instance.use_vmac


def check_vmac(problems, where, instance, interfaces, names):
    """vmac_xmit_base and use_vmac_addr need use_vmac; unicast needs vmac_xmit_base; the
    macvlan's name is the instance's own (`names`: {name: the instance key that has
    it}, filled in here), not an interface of an instance (`interfaces`)."""
    name = vmac_name(instance)
    if name is None:
        for option in ("vmac_xmit_base", "use_vmac_addr"):
            if getattr(instance, option):
                problems.error(f"{where}.{option}", True, "needs use_vmac (keepalived "
                               "ignores it without); set use_vmac or remove it")
        return
    if instance.unicast_peers is not None and not instance.vmac_xmit_base:
        problems.error(f"{where}.use_vmac", instance.use_vmac, "with unicast_peers needs "
                       "vmac_xmit_base: true (keepalived sends unicast adverts on the base "
                       "interface only)")
    if name in interfaces:
        problems.error(f"{where}.use_vmac", instance.use_vmac, f"names {name}, an interface "
                       "of this host's instances: keepalived makes a macvlan of its own; "
                       "give it another name")
    elif name in names:
        problems.error(f"{where}.use_vmac", instance.use_vmac, f"makes the macvlan {name}, "
                       f"as {names[name]} does: give each its own name (use_vmac: NAME)")
    names.setdefault(name, where)


def read_tracking(problems, data, instances, sync_groups, paths):
    """(instances, sync groups, track files, track processes) of a host (`paths`: its
    config tree's, model.blocks.Paths), each a tuple:
    the instances and sync groups (read) with what they track as TrackedItems
    (`tracked`), the blocks of keepalived_track_files and keepalived_track_processes;
    after checking them all."""
    instances = tuple(tracked(problems, f"keepalived_vrrp_instances[{index}]", instance)
                      for index, instance in enumerate(instances))
    sync_groups = tuple(tracked(problems, f"keepalived_sync_groups.{group.name}", group)
                        for group in sync_groups)
    process_key = ROLE_PROCESSES if data.get(ROLE_PROCESSES) and not data.get(PROCESSES) \
        else PROCESSES
    given = {FILES: data.get(FILES) or {},
             PROCESSES: one_spelling(problems, "", data, PROCESSES, ROLE_PROCESSES) or {}}
    files = read_blocks(problems, FILES, TrackFile, given[FILES])
    processes = read_blocks(problems, process_key, TrackProcess, given[PROCESSES])
    # (key, blocks, their data key, the names declared there: a block given but refused
    # counts, its own error says what is wrong)
    kinds = tuple((key, blocks, blocks_key, {name for name in value if isinstance(name, str)}
                   if isinstance(value, dict) else set())
                  for key, blocks, blocks_key, value in (
                      ("track_files", files, FILES, given[FILES]),
                      ("track_processes", processes, process_key, given[PROCESSES])))
    for track_file in files.values():
        check_track_file(problems, FILES, track_file, paths)
    for process in processes.values():
        check_track_process(problems, process_key, process, process_key == ROLE_PROCESSES)

    synced = {name for group in sync_groups for name in group.instances}
    interfaces = {instance.interface for instance in instances}
    vmac_names = {}
    for index, instance in enumerate(instances):
        where = f"keepalived_vrrp_instances[{index}]"
        check_instance(problems, where, instance, kinds, instance.name in synced)
        check_vmac(problems, where, instance, interfaces, vmac_names)
    for group in sync_groups:
        check_group(problems, f"keepalived_sync_groups.{group.name}", group, kinds,
                    instances)
    return instances, sync_groups, tuple(files.values()), tuple(processes.values())

