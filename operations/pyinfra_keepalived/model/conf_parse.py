"""keepalived's configuration syntax, parsed into a tree of `Node`s (pure: files come from
a `Source`, the disk's or a mapping's).

What keepalived reads, as its parser (keepalived/core/parser.c) reads it:
- `#` and `!` start a comment anywhere outside a quoted string (also inside a word);
- a quoted string ("a b") is one word, without its quotes;
- `{` and `}` are words of their own, written apart or not, on the keyword's line or on
  a line of their own; a block closed on the line it opens holds several keywords on
  one line (`virtual_ipaddress { 10.0.0.1/24 }`);
- `include PATTERN`: a glob, sorted, relative to the including file's directory; its
  lines count where the include is written (also inside a block);
- `$NAME=value` defines a parameter, `${NAME}` and `$NAME` (before a space or the
  line's end) use it further on; a name not defined stays as written;
- `@ID line` is read only by the keepalived started with `-i ID`, `@^ID line` by every
  other: expanded for a given `config_id`, else refused with the line.

A line keepalived would not read the same (a missing include, a loop of includes,
keepalived's own parameters ($_INSTANCE, ...), an unclosed quote or block, a binary or over-large file) is a
`ConfParseError` naming the file and line: nothing is guessed.
"""

import glob as globbing
import os
import re
from dataclasses import dataclass, field

from .hidden import mask_text

MAX_FILE_BYTES = 10 * 1024 * 1024  # keepalived's configs are small; larger is a mistake
PARAMETER_DEF_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)=(.*)")
# ${NAME} anywhere; $NAME only before a space, a tab or the end of the line (keepalived's)
PARAMETER_USE_RE = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)(?=[ \t]|$)")
CONDITIONAL_RE = re.compile(r"@(\^?)(\S+)\s*(.*)")


@dataclass(frozen=True)
class Node:
    """One keyword of a config: its words after it (`args`), the keywords of its block
    (`children`, when written with braces: `block`), and where it is written."""

    keyword: str
    args: tuple = ()
    children: tuple = ()
    file: str = field(default="", compare=False)
    line: int = field(default=0, compare=False)
    block: bool = False

    @property
    def where(self):
        return f"{self.file}:{self.line}"

    def text(self):
        """The keyword and its words, as one line (no block)."""
        return " ".join((self.keyword, *self.args))


class ConfParseError(ValueError):
    """A config keepalived would not read as written, at `file`:`line`."""

    def __init__(self, file, line, message):
        self.file, self.line = file, line
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


class DiskSource:
    """Files on this machine; an absolute path is taken under `root` (a rendered tree:
    its keepalived.conf includes /etc/keepalived/conf.d/*.conf, under root).
    `absolute_includes` False: an include of an absolute path is refused (a host's config
    copied here: its /etc/keepalived/... is the host's, not this machine's)."""

    def __init__(self, root="/", absolute_includes=True):
        self.root = os.path.abspath(root)
        self.absolute_includes = absolute_includes

    def _local(self, path):
        """An absolute path under `root`, its ".." resolved as on the host (none climbs
        above its /: a copy's config never reads this machine's files around it)."""
        if not os.path.isabs(path):
            return path
        return os.path.join(self.root, os.path.normpath(path).lstrip("/"))

    def size(self, path):
        try:
            return os.stat(self._local(path)).st_size
        except OSError:
            return None

    def read(self, path):
        with open(self._local(path), "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)

    def glob(self, pattern):
        local = self._local(pattern)
        found = sorted(path for path in globbing.glob(local) if os.path.isfile(path))
        if self.root == "/" or not os.path.isabs(pattern):
            return found
        return ["/" + os.path.relpath(path, self.root) for path in found]

    def identity(self, path):
        return os.path.realpath(self._local(path))


class MemorySource:
    """Files given as {path: text or bytes} (tests, and a host's files read over SSH)."""

    absolute_includes = True

    def __init__(self, files):
        self.files = {path: text.encode() if isinstance(text, str) else text
                      for path, text in files.items()}

    def size(self, path):
        content = self.files.get(path)
        return None if content is None else len(content)

    def read(self, path):
        return self.files[path]

    def glob(self, pattern):
        regex = _glob_regex(os.path.normpath(pattern))
        return sorted(path for path in self.files if regex.fullmatch(path))

    def identity(self, path):
        return os.path.normpath(path)


def _glob_regex(pattern):
    """A glob (* ? [...]) as a regex whose wildcards stop at "/", as glob's do."""
    parts = re.split(r"(\*|\?|\[[^]/]+\])", pattern)
    return re.compile("".join(
        "[^/]*" if part == "*" else "[^/]" if part == "?" else
        "[" + part[1:-1].replace("!", "^", 1) + "]" if part.startswith("[") and len(part) > 2
        else re.escape(part) for part in parts))


def _text(source, path, where):
    """The text of the file `path`, or ConfParseError: missing, too large, or binary."""
    size = source.size(path)
    if size is None:
        raise ConfParseError(*where, f"cannot read {path}: no such file")
    if size > MAX_FILE_BYTES:
        raise ConfParseError(*where, f"{path} is {size} bytes: more than the "
                             f"{MAX_FILE_BYTES // (1024 * 1024)} MB a keepalived config "
                             "can reasonably be; refused")
    content = source.read(path)
    if len(content) > MAX_FILE_BYTES:
        raise ConfParseError(*where, f"{path} is larger than "
                             f"{MAX_FILE_BYTES // (1024 * 1024)} MB; refused")
    if b"\0" in content:
        raise ConfParseError(*where, f"{path} is a binary file, not a keepalived config")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfParseError(*where, f"{path} is not UTF-8 text (byte {error.start}): "
                             "a binary file, not a keepalived config") from None


def _words(text, file, line):
    """The words of one line (comments gone, quotes removed, braces apart)."""
    words, index = [], 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
        elif char in "#!":
            break
        elif char == '"':
            end = text.find('"', index + 1)
            if end < 0:
                raise ConfParseError(file, line, "a quoted string is not closed on its line")
            words.append(text[index + 1:end])
            index = end + 1
        elif char in "{}":
            words.append(char)
            index += 1
        else:
            end = index
            while end < len(text) and not text[end].isspace() and text[end] not in '"{}#!':
                end += 1
            words.append(text[index:end])
            index = end
    return words


class _Reader:
    """The lines of a config and of what it includes, as (words, file, line), with
    parameters and conditional lines expanded."""

    def __init__(self, source, config_id):
        self.source, self.config_id = source, config_id
        self.parameters = {}

    def lines(self, path, including=(), where=("", 0)):
        identity = self.source.identity(path)
        if identity in including:
            chain = " -> ".join([*including[including.index(identity):], identity])
            raise ConfParseError(*where, f"include loop: {chain}")
        text = _text(self.source, path, where if where[0] else (path, 0))
        continued, first = "", 0
        for number, raw in enumerate(text.splitlines(), start=1):
            if raw.rstrip().endswith("\\"):  # a line continued on the next
                continued += raw.rstrip()[:-1] + " "
                first = first or number
                continue
            line, number, continued, first = continued + raw, first or number, "", 0
            yield from self._line(line.strip(), path, number, (*including, identity))
        if continued:
            yield from self._line(continued.strip(), path, first, (*including, identity))

    def _line(self, line, path, number, including):
        if line.startswith("@"):
            line = self._conditional(line, path, number)
            if line is None:
                return
        definition = PARAMETER_DEF_RE.fullmatch(line)
        if definition:
            self.parameters[definition[1]] = definition[2].strip()
            return
        line = self._expanded(line, path, number)
        words = _words(line, path, number)
        if words[:1] == ["include"]:
            yield from self._include(words, path, number, including)
        elif words:
            yield words, path, number

    def _conditional(self, line, path, number):
        match = CONDITIONAL_RE.fullmatch(line)
        if match is None:
            raise ConfParseError(path, number, f"a conditional line without an id: "
                                 f"{mask_text(line)!r}")
        if self.config_id is None:
            raise ConfParseError(path, number, "a conditional line (@id): only the keepalived "
                                 "started with -i id reads it; give the host's config id "
                                 f"(NAME=FILE names it) to read {mask_text(line)!r}")
        applies = (match[2] == self.config_id) != bool(match[1])
        return match[3] if applies else None

    def _expanded(self, line, path, number):
        def value(match):
            name = match[1] or match[2]
            if name in self.parameters:
                return self.parameters[name]
            if name.startswith("_"):
                raise ConfParseError(path, number, f"${name}: keepalived's own parameters "
                                     "(_INSTANCE, _PWD, ...) are not read here; write the value")
            return match[0]  # (keepalived leaves a name it does not know as written)
        if line.startswith("~SEQ"):
            raise ConfParseError(path, number, "~SEQ lines are not read here; write the "
                                 "lines out")
        return PARAMETER_USE_RE.sub(value, line)

    def _include(self, words, path, number, including):
        if len(words) != 2:
            raise ConfParseError(path, number, "include takes one path or pattern")
        pattern = words[1]
        if os.path.isabs(pattern) and not self.source.absolute_includes:
            raise ConfParseError(path, number, f"include {pattern}: an absolute path names the "
                                 "host's file, not this machine's; read the host's files from "
                                 "a copy of them (adopt --root DIR: DIR/<host>/etc/...)")
        if not os.path.isabs(pattern):
            pattern = os.path.join(os.path.dirname(path), pattern)
        found = self.source.glob(pattern)
        if not found:
            raise ConfParseError(path, number, f"include {words[1]}: no file matches "
                                 f"{pattern}")
        for included in found:
            yield from self.lines(included, including, where=(path, number))


def parse(path, source=None, config_id=None):
    """The tree of the config at `path` (and what it includes), read from `source` (default:
    this machine's disk) for the keepalived started with `-i config_id` (None: a
    conditional line is refused). Returns a tuple of top-level `Node`s; ConfParseError."""
    reader = _Reader(source or DiskSource(), config_id)
    top = []
    stack = []  # (children list, opening node) of the open blocks
    for words, file, line in reader.lines(path):
        children = stack[-1][0] if stack else top
        statement = []

        def flush():
            if statement:
                children.append(_Open(statement[0], tuple(statement[1:]), file, line))
                statement.clear()

        for word in words:
            if word == "{":
                if statement:
                    flush()
                elif not children or children[-1].block is not None:
                    raise ConfParseError(file, line, "'{' opens a block for no keyword")
                opened = children[-1]
                opened.block = []
                stack.append((opened.block, opened))
                children = opened.block
            elif word == "}":
                flush()
                if not stack:
                    raise ConfParseError(file, line, "'}' closes no block")
                stack.pop()
                children = stack[-1][0] if stack else top
            else:
                statement.append(word)
        flush()
    if stack:
        opened = stack[-1][1]
        raise ConfParseError(opened.file, opened.line,
                             f"the block of {opened.keyword} is never closed")
    return tuple(node.frozen() for node in top)


class _Open:
    """A node being read; `block` None until a '{' opens it."""

    def __init__(self, keyword, args, file, line):
        self.keyword, self.args, self.file, self.line = keyword, args, file, line
        self.block = None

    def frozen(self):
        return Node(self.keyword, self.args,
                    tuple(child.frozen() for child in self.block or ()),
                    self.file, self.line, self.block is not None)


def parse_text(text, config_id=None, path="keepalived.conf"):
    """`parse` of one text (and the files it includes: none can be found)."""
    return parse(path, MemorySource({path: text}), config_id)
