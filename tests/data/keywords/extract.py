"""The keywords of a keepalived.conf(5) man page, one "BLOCK KEYWORD" line each, as committed
in this folder (keepalived-VERSION.txt). Made from the Debian packages the test hosts install
(bullseye 2.1.5, bookworm 2.2.7, trixie 2.3.3):

    docker run --rm -v "$PWD:/out" -w /out IMAGE apt-get download keepalived   # each image
    dpkg-deb -x keepalived_*VERSION*.deb x && zcat x/usr/share/man/man5/keepalived.conf.5.gz \
        | python3 tests/data/keywords/extract.py > tests/data/keywords/keepalived-VERSION.txt

A keyword is a word set in bold at the start of a line of the page (`\\fBkeyword`); its
block is the man page section it is in (BLOCKS). Sections that only repeat other sections'
keywords as examples (conditional configuration, parameter substitution, sequence and list
blocks) and the overview sections are left out, as are bold words that are no keywords
(section titles such as GLOBAL, notes: capitalised words without "_").
"""

import re
import sys

# man page section -> the block its keywords belong to (None: not read)
BLOCKS = {
    "DESCRIPTION": "top",  # include and its variants
    "Global definitions": "global_defs",
    "Linkbeat interfaces": "top",
    "Static track groups": "track_group",
    "Static routes/addresses/rules": "top",
    "Track files": "track_file",
    "VRRP track processes": "vrrp_track_process",
    "BFD CONFIGURATION": "bfd_instance",
    "VRRP script(s)": "vrrp_script",
    "VRRP synchronization group(s)": "vrrp_sync_group",
    "VRRP gratuitous ARP and unsolicited neighbour advert delay group(s)": "garp_group",
    "VRRP instance(s)": "vrrp_instance",
    "Virtual server group(s)": "virtual_server_group",
    "Virtual server(s)": "virtual_server",
}
SECTION_RE = re.compile(r'^\.SH\s+"?(.*?)"?\s*$')
KEYWORD_RE = re.compile(r"^\s*\\fB([A-Za-z_][A-Za-z0-9_]*)")
NOT_KEYWORDS = {"keepalived"}  # the program, in DESCRIPTION


def keywords(text):
    """["BLOCK KEYWORD", ...] of a man page's text, each once, in page order."""
    block, found = None, {}
    for line in text.splitlines():
        section = SECTION_RE.match(line)
        if section:
            block = BLOCKS.get(section.group(1))
            continue
        word = KEYWORD_RE.match(line)
        if block is None or not word or word.group(1) in NOT_KEYWORDS:
            continue
        name = word.group(1)
        if name[0].isupper() and "_" not in name:  # GLOBAL, Note, NOT, Important, ...
            continue
        found.setdefault(f"{block} {name}", None)
    return list(found)


if __name__ == "__main__":
    print("\n".join(keywords(sys.stdin.buffer.read().decode(errors="replace"))))
