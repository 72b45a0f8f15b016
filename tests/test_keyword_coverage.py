"""Keyword coverage: every keyword of keepalived.conf(5) of 2.1.5, 2.2.7 and 2.3.3 is listed
once in tests/keywords.py, as typed (the model has the key, and the coverage example or the
seed renders the keyword in its block's file), raw-only (in a block with extra_lines, or in
an operator include file, with why) or refused (with why; the validation refuses what it
says it refuses); docs/keywords.md is current."""

import importlib.util
import os

import pytest

from pyinfra_keepalived.model import bfd, includes, keys, lvs, tracking_blocks
from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.model.readers import REFUSED_RAW
from pyinfra_keepalived.render import config as render

from . import keywords
from .coverage_example import COVERAGE_HOSTS, LVS_2_2_SERVERS
from .hostdata import assert_error, host_01, instance
from .seed import SEED_HOSTS

pytestmark = pytest.mark.unit

CLASSES = keywords.classes()
ALL_MAN = {keyword for version in keywords.VERSIONS
           for keyword in keywords.man_keywords(version)}


# the conf.d files (or keepalived.conf) the keywords of a block are rendered in
FILES = {
    "top": ("keepalived.conf", "05-static.conf"),
    "global_defs": ("00-global_defs.conf", "30-virtual_servers.conf"),
    "vrrp_script": ("10-vrrp_scripts.conf",),
    "vrrp_instance": ("20-vrrp_instances.conf",),
    "vrrp_sync_group": ("20-vrrp_instances.conf",),
    "track_file": ("05-track.conf",),
    "vrrp_track_process": ("05-track.conf",),
    "virtual_server": ("30-virtual_servers.conf",),
    "virtual_server_group": ("30-virtual_servers.conf",),
    "bfd_instance": ("05-bfd.conf",),
}


def block_class(name):
    """The Block class `name` of the model (keys, or the modules that build on it)."""
    for module in (keys, lvs, tracking_blocks, bfd):
        if hasattr(module, name):
            return getattr(module, name)
    raise AssertionError(f"no block {name} in the model")


def rendered_first_words():
    """{file name: the keywords its lines start with} over the configs of the coverage
    example (also with keywords of keepalived 2.2 and later) and the seed."""
    words = {}
    # keywords of keepalived 2.2 and later (test_conf_gate has 2.2.7's -t accept them)
    newer = [(name, {**data, "keepalived_virtual_servers": LVS_2_2_SERVERS,
                     "keepalived_vrrp_instances": [
                         dict(instance, use_vmac_addr=True) if instance.get("use_vmac")
                         else instance for instance in data["keepalived_vrrp_instances"]]})
             for name, data in COVERAGE_HOSTS]
    for hosts in (COVERAGE_HOSTS, SEED_HOSTS, newer):
        for settings in check_hosts(hosts, warn=lambda message: None).values():
            for path, file in render.config_files(settings).items():
                words.setdefault(os.path.basename(path), set()).update(
                    word for line in file.content.splitlines()
                    if line.split() and not line.lstrip().startswith("#")
                    for word in leading_keywords(line.split()))
    return words


def leading_keywords(words):
    """The keywords a config line starts with: its first word, and a virtual server's
    selector (`virtual_server fwmark 7 {`, `virtual_server group web {`); a scheduler flag
    as extract.py reads it (`sh-port`: sh)."""
    first = words[:2] if words[0] == "virtual_server" else words[:1]
    return first + [words[0].split("-")[0]]


@pytest.mark.parametrize("version", keywords.VERSIONS)
def test_every_keyword_of_the_man_page_is_listed_once(version):
    man = keywords.man_keywords(version)
    assert len(man) == len(set(man)) > 300
    unlisted = [keyword for keyword in man if not any(keyword in listed
                                                      for listed in CLASSES.values())]
    assert unlisted == [], "keywords of the man page in no list of tests/keywords.py"
    for keyword in man:
        assert sum(keyword in listed for listed in CLASSES.values()) == 1, keyword


def test_every_listed_keyword_is_in_a_man_page():
    stale = [keyword for listed in CLASSES.values() for keyword in listed
             if keyword not in ALL_MAN]
    assert stale == []


def test_lists_do_not_repeat_a_keyword():
    for groups in (keywords.RAW_ONLY, keywords.REFUSED):
        seen = [keyword for listed in groups.values() for keyword in listed]
        assert len(seen) == len(set(seen))


def test_typed_keywords_are_model_keys_and_render():
    words = rendered_first_words()
    for keyword, path in CLASSES["typed"].items():
        name, key = path.split(".")
        assert key in block_class(name).keys(), (keyword, path)
        block, word = keyword.split()
        assert any(word in words.get(file, ()) for file in FILES[block]), \
            f"{keyword} ({path}) renders in none of {FILES[block]}"


def test_raw_only_keywords_are_in_blocks_with_extra_lines_or_include_files():
    for keyword, reason in CLASSES["raw-only"].items():
        block, word = keyword.split()
        if keywords.INCLUDE_FILE in reason:
            inside = "" if word == block else f"    {word} y\n"
            text = f"{word} x\n" if block == "top" else f"{block} x {{\n{inside}}}\n"
            assert includes.content_problem(text) is None, keyword
        else:
            assert block in keywords.RAW_BLOCKS, keyword
    for block in ("GlobalDefs", "VrrpInstance", "VrrpScript"):
        assert "extra_lines" in getattr(keys, block).keys()


def test_keywords_refused_in_extra_lines_are_refused():
    refused = [keyword.split()[1] for keyword, reason in CLASSES["refused"].items()
               if "REFUSED_RAW" in reason]
    assert sorted(refused) == sorted(REFUSED_RAW)
    for word in refused:
        assert_error({**host_01(), "keepalived_global_defs": {"extra_lines": [f"{word} x"]}},
                     f"host-01: keepalived_global_defs.extra_lines[0] = '{word} x': {word} ")
        assert includes.content_problem(f"global_defs {{\n    {word} x\n}}\n") == (
            f"line 2: '{word} x': {word} {REFUSED_RAW[word]}")


def test_an_ssl_password_is_refused_in_include_files_and_not_shown():
    problem = includes.content_problem("SSL {\n    password s3cret\n}\n")
    assert problem.startswith("line 2: password: ") and "s3cret" not in problem


def test_global_tracking_is_refused():
    data = {**host_01(track_scripts=[]), "keepalived_check_scripts": [],
            "keepalived_vrrp_instances": [
                instance(priority=100, state="MASTER", track_scripts=[]),
                instance(name="VI_2", priority=100, state="MASTER", interface="eth1",
                         virtual_router_id=52, virtual_ipaddresses=["192.168.2.100/24"],
                         track_scripts=[])],
            "keepalived_sync_groups": {"VG_1": {"instances": ["VI_1", "VI_2"],
                                                "global_tracking": True}}}
    assert_error(data, "keepalived_sync_groups.VG_1.global_tracking = True: is deprecated")


def test_docs_page_is_current():
    with open(keywords.PAGE) as handle:
        assert handle.read() == keywords.page(), "run: python3 -m tests.keywords"


def test_docs_page_gives_the_counts():
    text = keywords.page()
    for version in keywords.VERSIONS:
        number = keywords.counts(version)
        assert sum(number.values()) == len(keywords.man_keywords(version))
        assert (f"| {version} | {len(keywords.man_keywords(version))} | {number['typed']} | "
                f"{number['raw-only']} | {number['refused']} |") in text


def _extract():
    spec = importlib.util.spec_from_file_location(
        "extract", os.path.join(keywords.DATA_DIR, "extract.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.keywords


@pytest.mark.parametrize("page, expected", [
    (".SH VRRP instance(s)\n\\fBvrrp_instance \\fR<STRING> {\n    \\fBstate \\fRMASTER\n"
     "    # \\fBnot\\fR a keyword: a comment\n    \\fBstate\\fR BACKUP\n",
     ["vrrp_instance vrrp_instance", "vrrp_instance state"]),
    (".SH Global definitions\n    \\fBNOTE\\fR: x\n    \\fBvrrp_strict\\fR\n"
     ".SH Parameter substitution\n    \\fBpriority\\fR 100\n",
     ["global_defs vrrp_strict"]),
    (".SH DESCRIPTION\n\\fBkeepalived.conf\\fR is\n\\fBincluder\\fR FILENAME\n"
     ".SH Virtual server(s)\n        \\fBTCP_CHECK\\fR {\n",
     ["top includer", "virtual_server TCP_CHECK"]),
], ids=["block-and-keyword-once", "notes-and-examples-left-out", "top-and-checkers"])
def test_extract_reads_keywords_of_a_man_page(page, expected):
    assert _extract()(page) == expected
