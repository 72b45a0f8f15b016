"""Whether two keepalived configs mean the same: each parsed tree (`conf_parse`)
normalised, then compared block by block.

The normal form leaves out what keepalived does not read differently: block order, the
order of keywords in a block, a line written twice, whitespace, quoting, comments, where a line is written
(file, line, includes), several blocks of the same name (two global_defs are one), a
number's spelling (1.0 is 1); and it writes keepalived's older spellings as the current
ones (`OLD_SPELLINGS`), each translation reported.
"""

import re
from collections import Counter
from dataclasses import dataclass

from .hidden import mask_text

# keepalived's older keywords and the ones it reads them as today.
OLD_SPELLINGS = {
    "lb_algo": "lvs_sched",
    "lb_kind": "lvs_method",
    "nb_get_retry": "retry",
    "lvs_sync_daemon_interface": "lvs_sync_daemon",
    "lvs_id": "router_id",
    "vrrp_track_file": "track_file",
    "vrrp_track_process": "track_process",
}
# What keepalived takes for a keyword a block leaves out: the same as written out.
DEFAULTS = {"vrrp_instance": ("state BACKUP", "priority 100", "advert_int 1"),
            "vrrp_script": ("interval 1", "fall 1", "rise 1")}
NUMBER_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


@dataclass(frozen=True)
class Normal:
    """A normalised keyword: its line (`text`) and, for a block, its keywords (sorted)."""

    text: str
    children: tuple | None = None  # None: no block


def _number(word):
    if not NUMBER_RE.fullmatch(word):
        return word
    value = float(word)
    return str(int(value)) if value.is_integer() else f"{value:.6f}".rstrip("0")


def normal_words(node):
    """The node's words as keepalived reads them: quoting and spacing left out (a quoted
    command and the same words unquoted compare equal), numbers in one spelling."""
    return [_number(word) for word in " ".join((node.keyword, *node.args)).split()]


def normalise(nodes, translations=None, defaults=()):
    """The normal form of `nodes` (a parsed tree): a tuple of `Normal`, sorted; a keyword
    keepalived defaults (`DEFAULTS`) written out where it is left out. Each old spelling
    translated is appended to `translations` as (file:line, old, new)."""
    blocks, leaves = {}, []
    for node in nodes:
        words = normal_words(node)
        if words[0] in OLD_SPELLINGS:
            if translations is not None:
                translations.append((node.where, words[0], OLD_SPELLINGS[words[0]]))
            words[0] = OLD_SPELLINGS[words[0]]
        text = " ".join(words)
        if node.block:
            blocks.setdefault(text, []).extend(node.children)
        elif Normal(text) not in leaves:  # (a line written twice says it once)
            leaves.append(Normal(text))
    given = {leaf.text.split()[0] for leaf in leaves}
    leaves += [Normal(text) for text in defaults if text.split()[0] not in given]
    merged = [Normal(text, normalise(children, translations,
                                     DEFAULTS.get(text.split()[0], ())))
              for text, children in blocks.items()]
    return tuple(sorted([*leaves, *merged], key=lambda item: (item.text, item.children or ())))


def _shown(normal):
    text = mask_text(normal.text)  # (an auth_pass is never shown)
    return text if normal.children is None else f"{text} {{ ... {len(normal.children)} lines }}"


def differences(first, second, names=("first", "second"), ignore=None, path=()):
    """What differs between two normal forms, block by block: a list of lines
    "BLOCK > BLOCK: only in NAME: LINE". `ignore(path, text)`: a line to leave out of
    both (path: the texts of the blocks it is in); a block left empty by it goes too."""
    def kept(items):
        result = []
        for item in items:
            if ignore is not None and ignore(path, item.text):
                continue
            if item.children is not None and item.children and ignore is not None and not [
                    child for child in item.children
                    if not ignore((*path, item.text), child.text)]:
                continue
            result.append(item)
        return result

    ours, theirs = kept(first), kept(second)
    where = " > ".join(path) or "(top level)"
    found = []
    leaves = [Counter(item.text for item in side if item.children is None)
              for side in (ours, theirs)]
    for index, name in enumerate(names):
        extra = leaves[index] - leaves[1 - index]
        found += [f"{where}: only in {name}: {_shown(item)}"
                  for item in sorted({Normal(text) for text in extra}, key=lambda i: i.text)]
    blocks = [{item.text: item.children for item in side if item.children is not None}
              for side in (ours, theirs)]
    for text in sorted(set(blocks[0]) | set(blocks[1])):
        if text not in blocks[1]:
            found.append(f"{where}: only in {names[0]}: {_shown(Normal(text, blocks[0][text]))}")
        elif text not in blocks[0]:
            found.append(f"{where}: only in {names[1]}: {_shown(Normal(text, blocks[1][text]))}")
        else:
            found += differences(blocks[0][text], blocks[1][text], names, ignore,
                                 (*path, mask_text(text)))
    return found
