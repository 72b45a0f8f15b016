"""keepalived's command-line options (keepalived_daemon_options): which the deploy
allows, and why the others are refused (`option_problem`, the message of the key's type
in `keys`); the rules between them and the rest of the host's data.

Called by `validate.read_host`; the same rules as there: errors name the key, the value
and what is allowed.
"""

import re
import shlex

from .hidden import SECRET_LINE_RE
from .problems import did_you_mean

# keepalived's command-line options (long form; keepalived 2.2.7's `keepalived --help`)
# that keep VRRP running as the deploy expects. Each maps to what may follow the option's
# name, as a regular expression, and how to write it ("" and "no value": a plain flag).
# None of the values can hold a space, a quote, `$`, `|` or a backslash: the options file
# is read by systemd and the words reach keepalived's command line as they are.
NO_VALUE = ("", "no value")
ALLOWED_OPTIONS = {
    "--vrrp": NO_VALUE,  # only the VRRP process (no LVS checker)
    "--no_bfd": NO_VALUE,
    "--all": NO_VALUE,  # start every process, even one with nothing configured
    "--log-console": NO_VALUE,
    "--log-detail": NO_VALUE,  # listed twice: extra detail
    "--log-facility": (r"=([0-7]|local[0-7]|user|daemon)",
                       "=0 to =7, =local0 to =local7, =user or =daemon"),
    "--no-syslog": NO_VALUE,
    "--umask": (r"=0[0-7]{1,3}", "an octal mask with a leading 0, e.g. =0077 (keepalived "
                                 "reads 22 as decimal)"),
    "--release-vips": NO_VALUE,  # drop the VIPs also when a reload makes a master a backup
    "--dont-release-ipvs": NO_VALUE,  # LVS only
    "--dump-conf": NO_VALUE,
    "--address-monitoring": NO_VALUE,
    "--snmp": NO_VALUE,
    "--snmp-agent-socket": (r"=[A-Za-z0-9_./:@-]+", "the AgentX socket, e.g. "
                                                     "=tcp:localhost:705 or =/var/agentx/master"),
    "--core-dump": NO_VALUE,
    "--core-dump-pattern": (r"(=[A-Za-z0-9_./%@+-]+)?",
                            "no value or a core_pattern without a pipe or spaces, "
                            "e.g. =/var/tmp/core.%e.%p"),
}
REPEATABLE = {"--log-detail": 2}  # option: how often it may be listed

# Options refused, with the reason: they switch VRRP off or move it out of sight, break
# what the deploy relies on (pid files, the tested config, the unit), or are no daemon
# option at all.
WITHOUT_VRRP = "keepalived would run without VRRP: "
REFUSED_OPTIONS = {
    "--check": WITHOUT_VRRP + "only the LVS health checker runs and no host holds a VIP",
    "--namespace": "keepalived would run VRRP in that network namespace: the VIPs would be "
                   "added there, not where clients reach the host",
    "--dont-release-vrrp": "a stopped keepalived would leave its VIPs up: at every stop or "
                           "restart the new holder and the old one both answer for them "
                           "(split brain)",
    "--dont-respawn": "a VRRP process that dies would not be started again: keepalived "
                      "exits with status 0 instead, and systemd's Restart=on-failure does "
                      "not restart a clean exit",
    "--config-id": "keepalived would read other '@id' config lines than the deploy's "
                   "keepalived -t gate tests (which uses the host name)",
    "--use-file": "the deploy validates and promotes keepalived_config_file; set that instead",
    "--dont-fork": "the packaged unit decides it (Debian's passes it already)",
    "--pid": "the packaged unit and the status fact expect the default pid files",
    "--vrrp_pid": "the packaged unit and the status fact expect the default pid files",
    "--checkers_pid": "the packaged unit expects the default pid files",
    "--bfd_pid": "the packaged unit expects the default pid files",
    "--config-test": "not a daemon option: the deploy runs keepalived -t itself",
    "--genhash": "not a daemon option", "--signum": "not a daemon option",
    "--version": "not a daemon option", "--help": "not a daemon option",
    "--config-fd": "not a daemon option (keepalived's own, for its config test)",
    "--all-config": "the deploy's keepalived -t gate already checks every included file",
    "--log-file": "Debian's keepalived is built without it and refuses to start with it "
                  "(\"-g requires configure option --enable-log-file\")",
}
SHORT_OPTIONS = {
    "-P": "--vrrp", "-C": "--check", "-B": "--no_bfd", "-l": "--log-console",
    "-D": "--log-detail", "-S": "--log-facility", "-G": "--no-syslog", "-u": "--umask",
    "-X": "--release-vips", "-V": "--dont-release-vrrp", "-I": "--dont-release-ipvs",
    "-R": "--dont-respawn", "-d": "--dump-conf", "-a": "--address-monitoring",
    "-x": "--snmp", "-A": "--snmp-agent-socket", "-m": "--core-dump",
    "-M": "--core-dump-pattern", "-i": "--config-id", "-s": "--namespace",
    "-f": "--use-file", "-n": "--dont-fork", "-p": "--pid", "-r": "--vrrp_pid",
    "-c": "--checkers_pid", "-b": "--bfd_pid", "-t": "--config-test", "-T": "--genhash",
    "-v": "--version", "-h": "--help", "-e": "--all-config", "-g": "--log-file",
}


def option_problem(option):
    """Why `option` is no keepalived command-line option the deploy allows (in long form),
    or None."""
    if not isinstance(option, str):
        return "must be a keepalived option, e.g. --log-detail"
    name = option.partition("=")[0]
    allowed = f"; allowed: {', '.join(ALLOWED_OPTIONS)}"
    if name in SHORT_OPTIONS and SHORT_OPTIONS[name] in REFUSED_OPTIONS:
        long_form = SHORT_OPTIONS[name]
        return f"{name} is {long_form}, not allowed: {REFUSED_OPTIONS[long_form]}{allowed}"
    if name in SHORT_OPTIONS:
        return (f"write the long form {SHORT_OPTIONS[name]} (the options file is easier to "
                "read that way)")
    if name in REFUSED_OPTIONS:
        return f"not allowed: {REFUSED_OPTIONS[name]}{allowed}"
    if name not in ALLOWED_OPTIONS:
        return f"unknown keepalived option{did_you_mean(name, ALLOWED_OPTIONS)}{allowed}"
    pattern, how = ALLOWED_OPTIONS[name]
    if not re.fullmatch(pattern, option[len(name):]):
        return f"{name} takes {how}"
    return None


def check_daemon_options(problems, options):
    """An option listed more often than keepalived reads it (`REPEATABLE`) is an error."""
    names = [option.partition("=")[0] for option in options or ()]
    for name in sorted({name for name in names if names.count(name) > REPEATABLE.get(name, 1)}):
        problems.error("keepalived_daemon_options", list(options),
                       f"lists {name} {names.count(name)} times" if name in REPEATABLE
                       else f"lists {name} twice")


DUMP_CONF = "--dump-conf"


def password_holders(global_defs, scripts, instances, include_files=()):
    """What in this host's config holds a password: an instance's auth_pass, auth_pass in
    an extra_lines entry or in an operator's include file (model.includes), each named.
    Blocks that failed validation are None."""
    holders = [f"{instance.name}'s auth_pass" for instance in instances
               if instance and instance.auth_pass is not None]
    blocks = [("global_defs", global_defs), *((block.name, block)
                                              for block in (*scripts, *instances) if block)]
    holders += [f"an extra_lines entry of {name}" for name, block in blocks
                if block and any(SECRET_LINE_RE.search(line) for line in block.extra_lines)]
    holders += [f"the include file {file.name}" for file in include_files if file.secret]
    return holders


def refuse_dump_conf(problems, daemon_options, global_defs, scripts, instances,
                     include_files=()):
    """--dump-conf makes keepalived log its whole config, every auth_pass in it, at each
    start and reload: an error where this host's config holds one (`password_holders`)."""
    if DUMP_CONF not in (daemon_options or ()):
        return
    holders = password_holders(global_defs, scripts, instances, include_files)
    if holders:
        problems.error(f"keepalived_daemon_options[{daemon_options.index(DUMP_CONF)}]",
                       DUMP_CONF, f"not allowed on a host whose config holds a password "
                       f"({', '.join(holders)}): keepalived would write its whole config, "
                       "the password included, to the journal at every start and reload "
                       "(readable by the adm and systemd-journal groups, and sent on by log "
                       "collectors); remove it (keepalived_daemon_options = ['--log-detail'] "
                       "logs the state changes without the config)")


# -- A host's own options file (keepalived_daemon_options unset: the deploy leaves it alone)

# keepalived's getopt_long (keepalived/core/main.c, 2.1.5 to 2.3.x; every build option on):
# the short options that take an argument, required (the rest of the word, else the next
# word) or optional (only the rest of the word), and the long options that require one
# (`--pid FILE` takes the next word). Any other short option is a flag, and a cluster
# goes on after it (-dD, -Dd: both -d).
SHORT_REQUIRED = set("uSfpisrcbA")
SHORT_OPTIONAL = set("Mgt")
LONG_OPTIONS = {  # every long option: whether it requires an argument
    **dict.fromkeys((
        "vrrp", "check", "no_bfd", "all", "log-console", "log-detail", "all-config",
        "flush-log-file", "no-syslog", "release-vips", "dont-release-vrrp",
        "dont-release-ipvs", "dont-respawn", "dont-fork", "dump-conf", "genhash",
        "address-monitoring", "snmp", "core-dump", "no-mem-check", "mem-check-log",
        "version", "help", "log-file", "core-dump-pattern", "config-test", "perf", "debug",
    ), False),
    **dict.fromkeys((
        "use-file", "log-facility", "umask", "pid", "vrrp_pid", "checkers_pid", "bfd_pid",
        "snmp-agent-socket", "namespace", "config-id", "signum", "config-fd",
    ), True),
}


def long_option(word):
    """The long option `word` ("--NAME" or "--NAME=VALUE") is to getopt_long: NAME
    itself, or the one option NAME abbreviates; None when none or several."""
    name = word[2:].partition("=")[0]
    if name in LONG_OPTIONS:
        return name
    matches = [option for option in LONG_OPTIONS if option.startswith(name)]
    return matches[0] if name and len(matches) == 1 else None


def dumps_config(words):
    """Whether keepalived started with the command-line `words` would dump its config
    (-d, --dump-conf or an abbreviation of it, -d in a cluster of short options where
    getopt reads it as an option and not as an argument: -Dd, -dSl, not -S d... nor
    -fd.conf). --dump-conf=VALUE counts too (keepalived refuses to start on it; the fix
    is the same)."""
    words = list(words)
    argument = False  # the word is the argument of the option before it
    for word in words:
        if argument:
            argument = False
        elif word == "--":  # the end of the options
            return False
        elif word.startswith("--"):
            name = long_option(word)
            if name == "dump-conf":
                return True
            argument = bool(name) and LONG_OPTIONS[name] and "=" not in word
        elif word.startswith("-") and len(word) > 1:
            for index, letter in enumerate(word[1:], 1):
                if letter == "d":
                    return True
                if letter in SHORT_REQUIRED:
                    argument = index == len(word) - 1  # (else the rest is its argument)
                    break
                if letter in SHORT_OPTIONAL:
                    break
    return False


def option_words(lines, variable):
    """The words keepalived gets from `variable` (DAEMON_ARGS, KEEPALIVED_OPTIONS) as the
    lines of its options file set it (read from the host: hostile text, parsed here and
    never run): the last line that assigns it wins, as in systemd's EnvironmentFile; a
    value quoted as the shell would (a quote left open: its words, quotes dropped). The
    unit expands the value unquoted ($DAEMON_ARGS), so it splits at every space."""
    pattern = re.compile(rf"\s*(?:export\s+)?{re.escape(variable)}\s*=(.*)")
    values = [match.group(1) for line in lines if (match := pattern.fullmatch(line))]
    if not values:
        return []
    try:
        parts = shlex.split(values[-1])
    except ValueError:
        parts = [values[-1].replace('"', " ").replace("'", " ")]
    return [word for part in parts for word in part.split()]
