"""model.conf_parse: keepalived's syntax as table cases (text in, tree out; bad input:
the error with its file and line, no traceback), and every sample config Debian's
keepalived ships parsed."""

import glob
import os

import pytest

from pyinfra_keepalived.model.conf_parse import (
    MAX_FILE_BYTES,
    ConfParseError,
    DiskSource,
    MemorySource,
    Node,
    parse,
    parse_text,
)

pytestmark = pytest.mark.unit

SAMPLES = "/usr/share/doc/keepalived/samples"


def outline(nodes):
    """A tree as nested lists: [keyword, *args] or [keyword, *args, [children]]."""
    return [[node.keyword, *node.args, *([outline(node.children)] if node.block else [])]
            for node in nodes]


CASES = {
    "comments # and !, also inside a word": (
        "# top\n! also\nrouter_id lb1#comment\nsmtp_server a!b c\n",
        [["router_id", "lb1"], ["smtp_server", "a"]]),
    "a quoted string is one word, comment characters kept": (
        'script "/bin/check --x # y ! z"\n',
        [["script", "/bin/check --x # y ! z"]]),
    "brace on the keyword's line": (
        "global_defs {\n  router_id a\n}\n",
        [["global_defs", [["router_id", "a"]]]]),
    "brace on a line of its own": (
        "vrrp_instance VI_1\n{\n  state MASTER\n}\n",
        [["vrrp_instance", "VI_1", [["state", "MASTER"]]]]),
    "several keywords on one line, braces not spaced": (
        "virtual_ipaddress{10.0.0.1/24}\nglobal_defs { router_id a }\n",
        [["virtual_ipaddress", [["10.0.0.1/24"]]], ["global_defs", [["router_id", "a"]]]]),
    "nested blocks closed on one line": (
        "a { b { c 1 } d }\n",
        [["a", [["b", [["c", "1"]]], ["d"]]]]),
    "an empty block": ("track_script {\n}\n", [["track_script", []]]),
    "parameters, $NAME and ${NAME}": (
        "$IF=eth0\n$VRID=51\ninterface $IF\nvirtual_router_id ${VRID}0\n",
        [["interface", "eth0"], ["virtual_router_id", "510"]]),
    "$NAME only before a space or the end; a name not defined stays": (
        "$IF=eth0\nx $IF.1 $IF\tz\nscript \"/bin/c $HOME\"\n",
        [["x", "$IF.1", "eth0", "z"], ["script", "/bin/c $HOME"]]),
    "a line continued with a backslash": (
        "notification_email \\\n  { a@b }\n",
        [["notification_email", [["a@b"]]]]),
    "whitespace and tabs": ("\t priority\t\t100   \n\n", [["priority", "100"]]),
}


@pytest.mark.parametrize("text, tree", CASES.values(), ids=CASES.keys())
def test_parses(text, tree):
    assert outline(parse_text(text)) == tree


def test_nodes_know_their_file_and_line():
    tree = parse_text("global_defs {\n\n  router_id a\n}\n", path="/x/k.conf")
    assert tree == (Node("global_defs", (), (Node("router_id", ("a",)),), block=True),)
    assert (tree[0].where, tree[0].children[0].where) == ("/x/k.conf:1", "/x/k.conf:3")


CONDITIONAL = "@high priority 170\n@low priority 85\n@^high weight 5\nstate BACKUP\n"


@pytest.mark.parametrize("config_id, tree", [
    ("high", [["priority", "170"], ["state", "BACKUP"]]),
    ("low", [["priority", "85"], ["weight", "5"], ["state", "BACKUP"]]),
    ("other", [["weight", "5"], ["state", "BACKUP"]]),
])
def test_conditional_lines_expanded_for_a_config_id(config_id, tree):
    assert outline(parse_text(CONDITIONAL, config_id=config_id)) == tree


def test_includes_globs_sorted_relative_paths_and_inside_blocks():
    source = MemorySource({
        "/etc/k/keepalived.conf": "include conf.d/*.conf\nvrrp_instance A {\n"
                                  "  include /etc/k/vips.inc\n}\n",
        "/etc/k/conf.d/20-b.conf": "b 2\n",
        "/etc/k/conf.d/10-a.conf": "a 1\n",
        "/etc/k/conf.d/sub/30-c.conf": "c 3\n",  # (a glob's * stops at /)
        "/etc/k/vips.inc": "virtual_ipaddress { 10.0.0.1/24 }\n",
    })
    tree = parse("/etc/k/keepalived.conf", source)
    assert outline(tree) == [["a", "1"], ["b", "2"],
                             ["vrrp_instance", "A", [["virtual_ipaddress", [["10.0.0.1/24"]]]]]]
    assert tree[0].where == "/etc/k/conf.d/10-a.conf:1"


def test_disk_source_reads_absolute_includes_under_its_root(tmp_path):
    (tmp_path / "etc/keepalived/conf.d").mkdir(parents=True)
    (tmp_path / "etc/keepalived/keepalived.conf").write_text(
        "include /etc/keepalived/conf.d/*.conf\n")
    (tmp_path / "etc/keepalived/conf.d/00-a.conf").write_text("global_defs { router_id x }\n")
    tree = parse("/etc/keepalived/keepalived.conf", DiskSource(tmp_path))
    assert outline(tree) == [["global_defs", [["router_id", "x"]]]]


BAD = {
    "an unclosed block": ("global_defs {\n router_id a\n", "k.conf:1", "never closed"),
    "a brace that closes nothing": ("a 1\n}\n", "k.conf:2", "closes no block"),
    "a brace that opens nothing": ("{\n", "k.conf:1", "opens a block for no keyword"),
    "an unclosed quote": ('script "/bin/x\n', "k.conf:1", "quoted string is not closed"),
    "keepalived's own parameters": ("router_id $_INSTANCE\n", "k.conf:1",
                                    "$_INSTANCE: keepalived's own parameters"),
    "a conditional line without a config id": ("@high priority 1\n", "k.conf:1",
                                               "-i id reads it"),
    "a missing include": ("a 1\ninclude nothere.conf\n", "k.conf:2", "no file matches"),
    "an include loop": ("include k.conf\n", "k.conf:1", "include loop: k.conf -> k.conf"),
    "a ~SEQ line": ("~SEQ(i, 1, 3) a $i\n", "k.conf:1", "~SEQ lines are not read"),
}


@pytest.mark.parametrize("text, where, message", BAD.values(), ids=BAD.keys())
def test_refuses_with_file_and_line(text, where, message):
    with pytest.raises(ConfParseError) as raised:
        parse("k.conf", MemorySource({"k.conf": text}))
    assert str(raised.value).startswith(where + ": ")
    assert message in str(raised.value)


def test_an_include_loop_through_two_files_names_both():
    source = MemorySource({"/a.conf": "include b.conf\n", "/b.conf": "x 1\ninclude a.conf\n"})
    with pytest.raises(ConfParseError, match=r"^/b.conf:2: include loop: /a.conf -> /b.conf "
                                             r"-> /a.conf$"):
        parse("/a.conf", source)


@pytest.mark.parametrize("content, message", [
    (b"\x1f\x8b\x08\x00binary\x00", "is a binary file"),
    (b"router_id \xff\xfe\n", "is not UTF-8 text"),
    (b"!" * (MAX_FILE_BYTES + 1), "more than the 10 MB"),
])
def test_refuses_binary_and_huge_files(tmp_path, content, message):
    path = tmp_path / "keepalived.conf"
    path.write_bytes(content)
    with pytest.raises(ConfParseError, match=message):
        parse(str(path))


def test_a_huge_included_file_is_refused_at_the_include(tmp_path):
    (tmp_path / "keepalived.conf").write_text("include big.conf\n")
    (tmp_path / "big.conf").write_bytes(b"# x\n" * (MAX_FILE_BYTES // 4 + 1))
    with pytest.raises(ConfParseError, match=r"keepalived.conf:1: .*big.conf is \d+ bytes"):
        parse(str(tmp_path / "keepalived.conf"))


# keepalived's top-level keywords the samples use
TOP_LEVEL = {"global_defs", "vrrp_script", "vrrp_instance", "vrrp_sync_group", "virtual_server",
             "virtual_server_group", "static_ipaddress", "static_routes", "static_rules",
             "net_namespace"}


def sample_configs():
    return sorted(glob.glob(f"{SAMPLES}/keepalived.conf.*"))


def test_the_samples_are_installed():
    assert len(sample_configs()) == 25


@pytest.mark.parametrize("path", sample_configs(), ids=os.path.basename)
def test_every_sample_config_parses(path):
    tree = parse(path, config_id="high")
    assert tree and {node.keyword for node in tree} <= TOP_LEVEL


def test_the_conditional_sample_is_refused_without_a_config_id():
    with pytest.raises(ConfParseError, match=r"conditional_conf:3: a conditional line"):
        parse(f"{SAMPLES}/keepalived.conf.conditional_conf")


def test_the_compressed_sample_is_refused_as_binary():
    with pytest.raises(ConfParseError, match="is a binary file"):
        parse(f"{SAMPLES}/sample_notify_fifo.sh.gz")


def test_an_absolute_include_of_a_hosts_copied_config_is_refused(tmp_path):
    """A host's config copied here: /etc/keepalived/... is the host's, never this machine's."""
    (tmp_path / "keepalived.conf").write_text("a 1\ninclude /etc/keepalived/conf.d/*.conf\n")
    with pytest.raises(ConfParseError, match=r"keepalived.conf:2: include /etc/keepalived/"
                                             r"conf.d/\*.conf: an absolute path names the host's"):
        parse(str(tmp_path / "keepalived.conf"), DiskSource(absolute_includes=False))


@pytest.mark.parametrize("text, config_id", [("@ auth_pass s3cretPW\n", "h"),
                                             ("@h2 auth_pass s3cretPW\n", None)])
def test_a_conditional_line_refused_never_shows_its_secret(text, config_id):
    """The refusal quotes the line: an auth_pass in it masked (adopt prints it)."""
    with pytest.raises(ConfParseError) as raised:
        parse("k.conf", MemorySource({"k.conf": text}), config_id=config_id)
    assert "s3cretPW" not in str(raised.value)
    assert "auth_pass ********" in str(raised.value)


@pytest.mark.parametrize("include", ["/../outside.conf", "../../../outside.conf",
                                     "/etc/../../outside.conf"])
def test_a_copy_of_a_host_reads_nothing_above_its_root(tmp_path, include):
    """adopt --root: a host's config is read under its copy's root; a '..' climbs no
    higher than the host's / (as on the host), never to this machine's files."""
    (tmp_path / "outside.conf").write_text("global_defs { router_id leaked }\n")
    (tmp_path / "h/etc/keepalived").mkdir(parents=True)
    (tmp_path / "h/etc/keepalived/keepalived.conf").write_text(f"include {include}\n")
    with pytest.raises(ConfParseError, match="no file matches"):
        parse("/etc/keepalived/keepalived.conf", DiskSource(tmp_path / "h"))
