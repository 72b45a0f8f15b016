"""Keyword coverage: every keyword of keepalived.conf(5) of 2.1.5, 2.2.7 and 2.3.3 is listed
once in tests/keywords.py, as typed (the model has the key, and the coverage example or
the seed renders the keyword), raw-only (in a block with extra_lines, with why) or refused
(with why; the validation refuses what it says it refuses); docs/keywords.md is current."""

import importlib.util
import os

import pytest

from pyinfra_keepalived.model import bfd, keys
from pyinfra_keepalived.model.fleet import check_hosts
from pyinfra_keepalived.model.vrrp_options import REFUSED_RAW
from pyinfra_keepalived.render import config as render

from . import keywords
from .coverage_example import COVERAGE_HOSTS
from .hostdata import assert_error, host_01, instance
from .seed import SEED_HOSTS

pytestmark = pytest.mark.unit

CLASSES = keywords.classes()
ALL_MAN = {keyword for version in keywords.VERSIONS
           for keyword in keywords.man_keywords(version)}


def rendered_first_words():
    """The first word of every line of the files the coverage example and the seed render."""
    words = set()
    for hosts in (COVERAGE_HOSTS, SEED_HOSTS):
        for settings in check_hosts(hosts, warn=lambda message: None).values():
            for file in render.config_files(settings).values():
                words |= {line.split()[0] for line in file.content.splitlines()
                          if line.split() and not line.lstrip().startswith("#")}
    return words


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
        block, key = path.split(".")
        # (blocks of the model's own modules beside keys: model.bfd)
        assert key in getattr(keys, block, getattr(bfd, block, None)).keys(), (keyword, path)
        assert keyword.split()[1] in words, f"{keyword} ({path}) renders nowhere"


def test_raw_only_keywords_are_in_blocks_with_extra_lines():
    for keyword, reason in CLASSES["raw-only"].items():
        assert keyword.split()[0] in keywords.RAW_BLOCKS or reason == keywords.LVS, keyword
    for block in ("GlobalDefs", "VrrpInstance", "VrrpScript"):
        assert "extra_lines" in getattr(keys, block).keys()


def test_keywords_refused_in_extra_lines_are_refused():
    refused = [keyword.split()[1] for keyword, reason in CLASSES["refused"].items()
               if "REFUSED_RAW" in reason]
    assert sorted(refused) == sorted(REFUSED_RAW)
    for word in refused:
        assert_error({**host_01(), "keepalived_global_defs": {"extra_lines": [f"{word} x"]}},
                     f"host-01: keepalived_global_defs.extra_lines[0] = '{word} x': {word} ")


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
