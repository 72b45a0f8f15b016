"""Operator-owned config files (`keepalived_include_files`): whatever the model does not
type (a top-level block, keywords of a newer keepalived), shipped from the project.

    keepalived_include_files:
      - src: files/keepalived/extra.conf    # one file (name: to rename it)
      - src: files/keepalived.d             # every *.conf file of a directory

Each file goes into the include dir of the config tree (conf.d/include/, `Paths`), part
of the same generation as the rest (operations/transaction.sh): it goes live with the
deploy's own files in one swap, gated by the same `keepalived -t`, and keepalived.conf
includes it by name. Being the deploy's own, it is never removed as a leftover; a file
taken out of the list leaves with the next run. A file that holds an auth_pass is
installed 600 and its diff is masked, like the instances' file.

Checked here, on the control machine, before any host is touched: a file or a directory
of *.conf files, each UTF-8 text of at most MAX_BYTES, lines without control characters
(tabs pass), quotes and braces that close within the file (`readers.extra_lines_problem`),
an `include` (or includer, ...) of its own only of a file shipped beside it (a name, no
path; wherever keepalived reads one: after an `@ID` prefix, a brace, a continued line):
nothing outside the tree is read by keepalived through it; no parameter in a keyword's
place (it may expand to an include); none of the keywords extra_lines refuse
(`readers.REFUSED_RAW`); no SSL `password` (a secret the file would show).
"""

import os
import re
from dataclasses import dataclass

from pydantic import Field

from .conf_parse import PARAMETER_DEF_RE
from .hidden import mask_text
from .problems import Problems
from .readers import REFUSED_RAW, extra_lines_problem, read_list
from .reading import Block, read_block
from .types import Text, matching

MAX_BYTES = 256 * 1024
INCLUDE_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,250}\.conf")
INCLUDE_NAME_ALLOWED = ("a file name ending in .conf (letters, digits and _ . -, not "
                        "starting with . or -)")
# what an include line of a shipped file may name: a file beside it, or a glob of them
SIBLING_RE = re.compile(r"[A-Za-z0-9_*?][A-Za-z0-9_.*?-]*")
# include and its variants (includer: include_check readable, ...: keepalived.conf(5))
INCLUDE_KEYWORDS = ("include", "includea", "includeb", "includem", "includer", "includew")
# a line only some keepalived read (`@ID line`, `@^ID line`): its line is read all the same
CONDITIONAL_PREFIX_RE = re.compile(r"^@\^?\S*\s*")


class IncludeFile(Block):
    """An operator's config file or directory (`keepalived_include_files[]`)."""

    src: Text = Field(description="a file, or a directory of *.conf files, on the control "
                                  "machine; relative: to the current directory (required)")
    name: matching(INCLUDE_NAME_RE, INCLUDE_NAME_ALLOWED) | None = Field(
        None, description="the file's name on the host (default: its own; not for a "
                          "directory)")


# its keys are shown in messages (no secret)
Problems.public_keys(IncludeFile.keys())


@dataclass(frozen=True)
class OperatorFile:
    """A validated operator file: its name in the include dir and its text."""

    name: str
    content: str

    @property
    def statements(self):
        """Each statement keepalived may read in the file as one line of text (`_statements`:
        after a conditional prefix, a brace of a one-line block, across continued lines)."""
        return tuple(" ".join(words) for _, line in _logical_lines(self.content.split("\n"))
                     for words in _statements(line))

    @property
    def secret(self):
        """It holds an auth_pass: installed 600, its digest salted, its diff masked."""
        return mask_text(self.content) != self.content


def content_problem(text):
    """What is wrong with the text of an operator file, as "line N: ..." (or for the
    whole file), or None."""
    lines = text.split("\n")
    shape = extra_lines_problem([line.replace("\t", " ") for line in lines])
    if shape:
        index, _, message = shape
        return f"line {index + 1}: {message}" if index is not None else message
    for number, line in _logical_lines(lines):
        shown = ("(not shown: a password in it)" if "password" in line.split()
                 else repr(mask_text(line.strip())))
        for words in _statements(line):
            if words[0] == "password":  # (not shown: it is a secret)
                return (f"line {number}: password: an SSL key's password would be shown in "
                        "diffs and left readable by others; use a key file without a "
                        "password, readable by root only")
            if words[0] in INCLUDE_KEYWORDS and (
                    len(words) != 2 or not SIBLING_RE.fullmatch(words[1].strip('"'))):
                return (f"line {number}: {shown}: an include of its own may only name "
                        "files shipped beside it (a name or a glob, no path): keepalived "
                        "would read a file outside the config tree the deploy tests")
            if words[0].startswith("$") and not PARAMETER_DEF_RE.fullmatch(" ".join(words)):
                return (f"line {number}: {shown}: a parameter in a keyword's place: it may "
                        "expand to an include the deploy cannot check; write the keyword "
                        "itself")
            if words[0] in REFUSED_RAW:
                return f"line {number}: {shown}: {words[0]} {REFUSED_RAW[words[0]]}"
    return None


def _logical_lines(lines):
    """(number, line) of `lines` as keepalived reads them: a line ending in a backslash
    continued on the next (model.conf_parse), numbered by its first."""
    continued, first = "", 0
    for number, line in enumerate(lines, 1):
        if line.rstrip().endswith("\\"):
            continued += line.rstrip()[:-1] + " "
            first = first or number
            continue
        yield first or number, continued + line
        continued, first = "", 0
    if continued:
        yield first, continued


def _statements(line):
    """The words of each statement of a line that keepalived may read as one of its own
    (after a conditional `@ID`/`@^ID` prefix, and after each brace of a one-line block):
    where an include would be read."""
    line = CONDITIONAL_PREFIX_RE.sub("", line.strip())
    return [piece.split() for piece in re.split(r"[{}]", line) if piece.split()]


def _sources(problems, key, src):
    """[(name, path)] of the files an entry's `src` ships (`key`: the entry's key path)."""
    path = src if os.path.isabs(src) else os.path.join(os.getcwd(), src)
    if os.path.isfile(path):
        return [(os.path.basename(path), path)]
    if not os.path.isdir(path):
        problems.error(f"{key}.src", src, f"is neither a file nor a directory ({path})")
        return []
    names = sorted(name for name in os.listdir(path) if not name.startswith("."))
    wrong = [name for name in names if not INCLUDE_NAME_RE.fullmatch(name)
             or not os.path.isfile(os.path.join(path, name))]
    if wrong or not names:
        problems.error(f"{key}.src", src, f"must be a directory of *.conf files only ("
                       f"{INCLUDE_NAME_ALLOWED}); it holds "
                       + (", ".join(wrong) if wrong else "none"))
        return []
    return [(name, os.path.join(path, name)) for name in names]


def _read(problems, key, src, path):
    """The text of the file at `path`, or None after an error on `key` naming `src`."""
    try:
        if os.path.getsize(path) > MAX_BYTES:
            problems.error(key, src, f"{os.path.basename(path)} is larger than "
                           f"{MAX_BYTES // 1024} KiB: ship less, or type it in the host data")
            return None
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except OSError as error:
        problems.error(key, src, f"cannot be read: {error.strerror}")
        return None
    except UnicodeDecodeError:
        problems.error(key, src, f"{os.path.basename(path)} must be UTF-8 text")
        return None
    wrong = content_problem(text)
    if wrong:
        problems.error(key, src, f"{os.path.basename(path)}, {wrong}")
        return None
    return text


def read_include_files(problems, data):
    """(OperatorFile, ...) of keepalived_include_files, each name once; () after an
    error."""
    files, seen = [], {}
    for index, item in enumerate(read_list(problems, "keepalived_include_files",
                                           data.get("keepalived_include_files", []))):
        key = f"keepalived_include_files[{index}]"
        entry = read_block(problems, key, IncludeFile, item)
        if entry is None:
            continue
        sources = _sources(problems, key, entry.src)
        if entry.name is not None and sources:
            if len(sources) > 1 or os.path.basename(entry.src.rstrip("/")) != sources[0][0]:
                problems.error(f"{key}.name", entry.name, "is for a file: a directory's "
                               "files keep their names")
                continue
            sources = [(entry.name, sources[0][1])]
        for name, path in sources:
            if not INCLUDE_NAME_RE.fullmatch(name):
                problems.error(f"{key}.src", entry.src, f"the name {name!r} must be "
                               f"{INCLUDE_NAME_ALLOWED}: give one with name")
                continue
            if name in seen:
                problems.error(f"{key}.src", entry.src, f"ships {name}, as "
                               f"keepalived_include_files[{seen[name]}] does: each name once")
                continue
            seen[name] = index
            text = _read(problems, f"{key}.src", entry.src, path)
            if text is not None:
                files.append(OperatorFile(name=name, content=text))
    return () if problems.errors else tuple(files)
