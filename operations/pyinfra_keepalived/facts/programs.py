"""The programs that check and notify commands run (model.commands), as the host has them:
read by the probe (KeepalivedProbe's `programs` section, programs.sh) and judged here.

keepalived finds a program only when it is there and executable by the script's user, and
with enable_script_security it silently drops a script whose program, or a directory
above it, is not root-owned or is writable by a non-root group or by others (sticky
directories such as /tmp pass): `program_problem` says which of these a program fails,
so that the deploy refuses the host before the config goes live (deploys.install).
"""

from dataclasses import dataclass, field

from pyinfra.api.exceptions import DeployError

from ..model.commands import SEARCH_PATH, program_uses
from ..shipped import shell_script, with_variables

SECURITY = ("keepalived's enable_script_security would drop the script: it runs nothing "
            "that anyone but root can change")


@dataclass(frozen=True)
class ProgramFound:
    """One program as the host has it."""

    path: str = ""  # where it was found ("": a bare name not on SEARCH_PATH)
    real: str = ""  # that path with every link resolved
    # {path: (mode (octal text), uid, gid, kind)} of `real` and each directory above it
    parts: dict = field(default_factory=dict)


def probe_section(programs):
    """Shell text for the probe: the `programs` section of `programs` (validated words)."""
    return with_variables(shell_script("facts/programs.sh"), probe_programs=" ".join(programs),
                          probe_search=" ".join(SEARCH_PATH))


def parse_section(lines):
    """{program: ProgramFound} of the probe's `programs` section."""
    found = {}
    current = None
    for line in lines:
        kind, _, rest = line.strip().partition("|")
        if kind == "program":
            program, path, real = (rest.split("|") + ["", ""])[:3]
            current = found[program] = ProgramFound(path=path, real=real or path)
        elif kind == "stat" and current is not None and rest.count("|") >= 4:
            mode, uid, gid, what, path = rest.split("|", 4)
            current.parts[path] = (mode, uid, gid, what)
    return found


def _mode(text):
    try:
        return int(text, 8)
    except ValueError:
        return 0


def _above(path):
    """The directories above `path`, nearest first, up to /."""
    while path not in ("", "/"):
        path = path.rpartition("/")[0] or "/"
        yield path


def program_problem(found, user, security=True):
    """What keeps keepalived from running the program `found` (ProgramFound, or None: the
    probe said nothing of it) as `user`, or None: words that follow "the program P". `security`:
    enable_script_security."""
    if found is None:
        return "was not checked on the host (the probe's answer lacks it)"
    if not found.path:
        return (f"is not found on the host's PATH ({':'.join(SEARCH_PATH)}): install it, or "
                "give its absolute path")
    real, parts = found.real, found.parts
    problem = _file_problem(real, parts, user) or (
        _security_problem(real, parts) if security else None)
    if problem and real != found.path:
        return f"({found.path}, a link to {real}) {problem}"
    return problem


def _file_problem(real, parts, user):
    """Why `user` cannot run the file `real` (the probe's `parts`), or None."""
    if real not in parts:
        return "does not exist on the host"
    mode, _, _, kind = parts[real]
    if kind != "regular file":
        return f"is a {kind}, not a program file"
    # root may run any file with an x bit; another user (not in its group: the deploy's
    # script user is a system user of its own) needs the others' bits all the way
    if not _mode(mode) & (0o111 if user == "root" else 0o001):
        return f"is not executable by {user} (mode {mode})"
    for directory in _above(real):
        if user != "root" and directory in parts and not _mode(parts[directory][0]) & 0o001:
            return (f"is in {directory}, which {user} may not search (mode "
                    f"{parts[directory][0]})")
    return None


def _security_problem(real, parts):
    """Which of `real` and the directories above it anyone but root may change, or
    None."""
    for path in (real, *_above(real)):
        where = "" if path == real else f"is in {path}, which "
        if path not in parts:
            return f"could not be checked: {path} was not read on the host"
        mode, uid, gid, kind = parts[path]
        sticky = kind == "directory" and _mode(mode) & 0o1000
        if uid != "0":
            return f"{where}is owned by uid {uid}, not root; {SECURITY}"
        if not sticky and _mode(mode) & 0o002:
            return f"{where}is writable by others (mode {mode}); {SECURITY}"
        if not sticky and gid != "0" and _mode(mode) & 0o020:
            return f"{where}is writable by group {gid} (mode {mode}); {SECURITY}"
    return None


def usable_programs(settings, programs):
    """{bare name: absolute path} of the programs the check and notify commands of
    `settings` name without a path, as the host found them (`programs`: the probe's
    {program: ProgramFound}), for render.config.config_files; a DeployError naming the
    host, each key path, its command and what is wrong when a program cannot run there
    (program_problem): raised while the run is prepared, so no host is changed."""
    security = settings.global_defs.enable_script_security
    wrong = [f"{use.key} = {str(use.command)!r}: the program {use.command.program!r} "
             f"{problem}"
             for use in program_uses(settings)
             for problem in [program_problem(programs.get(use.command.program), use.user,
                                             security)] if problem]
    if wrong:
        raise DeployError(f"{settings.host}: " + "; ".join(wrong) + ". Nothing was changed "
                          "(on no host: the run stops before any change)")
    return {program: found.path for program, found in programs.items()
            if not program.startswith("/")}
