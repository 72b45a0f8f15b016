"""Check and notify scripts given as a command line, not as a managed file.

Real configs say `script "killall -0 haproxy"` or `script "/usr/bin/pgrep asterisk"`: an
existing program with arguments. `keepalived_check_scripts[].check_script` (the name the
Ansible role evrardjp/ansible-keepalived uses) and the notify keys of instances take one:

- the program: an absolute, normalised path, or a bare name that the host's probe finds
  on SEARCH_PATH (facts.programs) and the deploy renders as the absolute path it found;
- its arguments: single words of printable ASCII, without the characters keepalived's
  parsers read as something else: " ' \\ (quotes and escapes of its script parser), braces
  (blocks), # and ! (comments). Anything else needs a script file (template or content).

keepalived runs the command without a shell (execve, the words as its arguments), and the
deploy renders it inside "double quotes"; no word reaches a shell of this deploy either
(the probe's are quoted). Whether the program is there, executable and safe under
enable_script_security is checked on the host before the config goes live (facts.programs,
deploys.install).
"""

import os
import re
from dataclasses import dataclass

# Where the probe looks for a bare program name: systemd's default PATH for services (what
# keepalived.service runs with), written out so every host resolves alike.
SEARCH_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
PROGRAM_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}")
PROGRAM_PATH_RE = re.compile(r"/[A-Za-z0-9_.+/-]*")
# A word of printable ASCII as WORD_RE (no braces, # ! or "), without ' and \ either.
ARGUMENT_RE = re.compile(r"(?:(?![{}#!\"'\\])[\x21-\x7e])+")
# keepalived's own parameters, which it replaces in every config line, quoted or not
# ($_INSTANCE, $_RANDOM, $_PWD: a vrrp_script's `script "/bin/true $_INSTANCE $_RANDOM
# $_PWD $NOPE"` ran as '/usr/bin/true' 'a2id' '10925' '/tmp/a2k' '$NOPE' on 2.2.7). (${
# is refused with the braces; $NAME is replaced only when a config file defines NAME.)
BUILTIN_PARAMETER_RE = re.compile(r"\$_")
COMMAND_ALLOWED = (
    "must be a command: a program (an absolute path, or a name found on the host's PATH "
    f"{':'.join(SEARCH_PATH)}) and its arguments, each a single word without quotes, "
    "backslashes, braces, # or ! (for more, write a script file: template or content)")


@dataclass(frozen=True)
class Command:
    """A command line, read: the program as given and its argument words."""

    program: str
    args: tuple = ()

    def __str__(self):
        return " ".join((self.program, *self.args))

    @property
    def bare(self):
        """Whether the program is a name the host resolves on SEARCH_PATH."""
        return not self.program.startswith("/")


def command_problem(text):
    """Why `text` is no command line (COMMAND_ALLOWED, or a more precise reason), or
    None."""
    words = text.split() if isinstance(text, str) else []
    if not words:
        return COMMAND_ALLOWED
    program = words[0]
    if program.startswith("/"):
        if not PROGRAM_PATH_RE.fullmatch(program) or os.path.normpath(program) != program \
                or program.endswith("/"):
            return (f"the program {program!r} must be a normalised absolute path of letters, "
                    "digits and _ . + - /, or a name found on the host's PATH")
    elif not PROGRAM_NAME_RE.fullmatch(program):
        return (f"the program {program!r} must be an absolute path or a name of letters, "
                "digits and _ . + - (not starting with . + or -)")
    bad = [word for word in words[1:] if not ARGUMENT_RE.fullmatch(word)]
    if bad:
        return (f"argument {bad[0]!r} must be a single word without quotes, backslashes, "
                "braces, # or ! (for more, write a script file: template or content)")
    if not text.isprintable():
        return "must be one line, its words separated by spaces (no tab or newline)"
    replaced = [word for word in words[1:] if BUILTIN_PARAMETER_RE.search(word)]
    if replaced:
        return (f"argument {replaced[0]!r}: keepalived replaces $_NAME by a parameter of its "
                "own ($_INSTANCE, $_RANDOM, $_PWD, ...), so the program would not get this "
                "word (for a $_ in an argument, write a script file: template or content)")
    return None


def read_command(problems, key, text):
    """The Command of `text`, or None after an error on `key`."""
    wrong = command_problem(text)
    if wrong:
        problems.error(key, text, wrong)
        return None
    return read_words(text)


def resolved(line, programs):
    """A command line (text) with its program replaced by the path the host resolved it
    to (`programs`: {bare name: absolute path}); as it is for a path or a name not
    resolved (the goldens, a config rendered without a probe: keepalived searches its own
    PATH then)."""
    program, _, rest = line.partition(" ")
    return " ".join(filter(None, (programs.get(program, program), rest)))


@dataclass(frozen=True)
class ProgramUse:
    """A program a host's config runs: where (key path), as which user, the command."""

    key: str
    user: str
    command: Command


def program_uses(settings):
    """[ProgramUse] of every check script, notify key (of instances, sync groups and
    global_defs' FIFOs) and LVS command of `settings` that is a command (not a file of
    this deploy's scripts dir)."""
    uses = [ProgramUse(f"keepalived_check_scripts[{index}].check_script", script.user,
                       read_words(script.check_script))
            for index, script in enumerate(settings.scripts) if script.check_script]
    user = settings.global_defs.script_user
    managed = {script.path for script in settings.notify_scripts}
    lines = [(f"keepalived_vrrp_instances[{index}].{keyword}", line)
             for index, instance in enumerate(settings.instances)
             for keyword, line in instance.notify_commands]
    lines += [(f"keepalived_sync_groups.{group.name}.{keyword}", line)
              for group in settings.sync_groups for keyword, line in group.notify_commands]
    lines += [(f"keepalived_global_defs.{key}", getattr(settings.global_defs, key))
              for key in settings.global_defs.FIFOS.values()
              if getattr(settings.global_defs, key) is not None]
    lines = [(where, line, user) for where, line in lines]
    # (MISC_CHECK runs as its own user)
    lines += [("keepalived_virtual_servers", line, run_as or user)
              for line, run_as in settings.lvs.runs]
    for where, line, run_as in lines:
        command = read_words(line)
        if command.program not in managed:
            uses.append(ProgramUse(where, run_as, command))
    return uses


def read_words(line):
    """The Command of a line validated already."""
    program, *args = line.split()
    return Command(program, tuple(args))
