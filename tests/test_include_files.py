"""keepalived_include_files (model.includes): the operator's own config files, read and
checked on the control machine, uploaded into conf.d/include/ with the rest of the tree
and included from keepalived.conf."""

import pytest

from pyinfra_keepalived.facts.keepalived import TreeEntry, digest
from pyinfra_keepalived.model.blocks import Paths
from pyinfra_keepalived.operations.config_tree import transaction, tree_work
from pyinfra_keepalived.render.config import config_files

from .hostdata import assert_error, assert_valid, host_01

pytestmark = pytest.mark.unit

BLOCK = "vrrp_script chk_operator {\n\tscript \"/bin/true\"  # a comment {\n\tinterval 5\n}\n"
INCLUDE = "/etc/keepalived/conf.d/include"


def plain(words):
    """Command words as text (a QuoteString as its value)."""
    return " ".join(str(getattr(word, "obj", word)) for word in words)


def shipped(tmp_path, files, entries):
    """Host data whose keepalived_include_files are `entries` (src relative to tmp_path),
    with `files` ({relative path: text or bytes}) written there first."""
    for relative, content in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return {**host_01(), "keepalived_include_files": [
        {**entry, "src": str(tmp_path / entry["src"])} if "src" in entry else entry
        for entry in entries]}


def test_a_file_and_a_directory_are_uploaded_and_included(tmp_path):
    data = shipped(tmp_path, {"extra.conf": BLOCK, "d/a.conf": "# a\n", "d/b.conf": "# b\n",
                              "d/.keep": ""},
                   [{"src": "extra.conf", "name": "zz-extra.conf"}, {"src": "d"}])

    files = config_files(assert_valid(data))

    assert {path: (file.mode, file.secret) for path, file in files.items()
            if path.startswith(INCLUDE)} == {
        f"{INCLUDE}/zz-extra.conf": ("644", False), f"{INCLUDE}/a.conf": ("644", False),
        f"{INCLUDE}/b.conf": ("644", False)}
    assert files[f"{INCLUDE}/zz-extra.conf"].content == BLOCK  # as shipped, tabs and all
    assert files["/etc/keepalived/keepalived.conf"].content.endswith(
        "include /etc/keepalived/conf.d/*.conf\n"
        "# The operator's own files (keepalived_include_files), as shipped: not validated by "
        "this\n# deploy (keepalived -t still checks them).\n"
        f"include {INCLUDE}/zz-extra.conf\ninclude {INCLUDE}/a.conf\n"
        f"include {INCLUDE}/b.conf\n")


def test_a_file_with_a_password_is_a_secret(tmp_path):
    data = shipped(tmp_path, {"vi.conf": "vrrp_instance X {\n  authentication {\n"
                                         "    auth_pass s3cret\n  }\n}\n"}, [{"src": "vi.conf"}])

    file = config_files(assert_valid(data))[f"{INCLUDE}/vi.conf"]

    assert (file.mode, file.secret) == ("600", True)  # masked diff, salted digest


def test_without_include_files_no_include_line_and_no_directory():
    files = config_files(assert_valid(host_01()))

    assert "include" not in files["/etc/keepalived/keepalived.conf"].content.split(
        "conf.d/*.conf")[1]
    assert "conf.d/include" not in plain(transaction(Paths(), "/tmp/u", list(files.values())))


def test_the_include_dir_is_staged_and_its_files_are_never_leftovers(tmp_path):
    data = shipped(tmp_path, {"extra.conf": BLOCK}, [{"src": "extra.conf"}])
    files = config_files(assert_valid(data))
    paths = Paths()
    tree = {path: TreeEntry(kind="regular file", mode=file.mode, user="root", group="root",
                            sha256=digest(file.content)) for path, file in files.items()}
    tree |= {path: TreeEntry(kind="directory", mode="755", user="root", group="root")
             for path in (paths.base_dir, paths.scripts_dir, paths.config_dir, INCLUDE)}

    work = tree_work(files, paths, tree)
    assert (work.changed, work.stale) == ((), ())  # up to date: nothing to do
    without = config_files(assert_valid(host_01()))
    assert tree_work(without, paths, tree).stale == (f"{INCLUDE}/extra.conf",)  # taken out
    words = plain(transaction(paths, "/tmp/u", list(files.values())))
    assert "dir conf.d/include" in words and "conf.d/include/extra.conf" in words


@pytest.mark.parametrize("files, entries, key, message", [
    ({}, [{"src": "nothing.conf"}], ".src", "is neither a file nor a directory"),
    ({"d/a.conf": "", "d/notes.txt": ""}, [{"src": "d"}], ".src",
     "must be a directory of *.conf files only (a file name ending in .conf (letters, "
     "digits and _ . -, not starting with . or -)); it holds notes.txt"),
    ({"d/.keep": ""}, [{"src": "d"}], ".src", "must be a directory of *.conf files only"),
    ({"d/a.conf": ""}, [{"src": "d", "name": "b.conf"}], ".name",
     " = 'b.conf': is for a file: a directory's files keep their names"),
    ({"extra.txt": ""}, [{"src": "extra.txt"}], ".src",
     "the name 'extra.txt' must be a file name ending in .conf"),
    ({"a.conf": ""}, [{"src": "a.conf", "name": "../x.conf"}], ".name",
     " = '../x.conf': must be a file name ending in .conf"),
    ({"a.conf": "", "d/a.conf": ""}, [{"src": "a.conf"}, {"src": "d"}], "",
     "ships a.conf, as keepalived_include_files[0] does: each name once"),
    ({"a.conf": "#" * (256 * 1024 + 1)}, [{"src": "a.conf"}], ".src",
     "a.conf is larger than 256 KiB"),
    ({"a.conf": b"\xff\xfe"}, [{"src": "a.conf"}], ".src", "a.conf must be UTF-8 text"),
    ({"a.conf": "global_defs {\n  x\x1b\n}\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 2: must be one line of text (printable: no newline or other control "
     "character)"),
    ({"a.conf": "global_defs {\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, leaves 1 brace(s) open: close every block the lines open"),
    ({"a.conf": "}\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: closes a brace it did not open"),
    ({"a.conf": 'script "x\n'}, [{"src": "a.conf"}], ".src",
     'a.conf, line 1: leaves a " open'),
    ({"a.conf": "include /etc/shadow\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: 'include /etc/shadow': an include of its own may only name files "
     "shipped beside it (a name or a glob, no path)"),
    ({"a.conf": "  include ../x.conf\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: 'include ../x.conf': an include of its own may only name"),
    # keepalived reads an include also after a conditional prefix (@ID, @^ID: every
    # keepalived but ID's), after a brace of a one-line block, across a continued line
    # (\\) and from a parameter (model.conf_parse)
    ({"a.conf": "@^nohost include /etc/shadow\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: '@^nohost include /etc/shadow': an include of its own may only name"),
    ({"a.conf": "global_defs { include /etc/x.conf }\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: 'global_defs { include /etc/x.conf }': an include of its own"),
    ({"a.conf": "# x\ninclude \\\n  /etc/x.conf\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 2: 'include    /etc/x.conf': an include of its own may only name"),
    ({"a.conf": "$INC=include /etc/x.conf\n$INC auth_pass s3cret\n"}, [{"src": "a.conf"}],
     ".src", "a.conf, line 2: '$INC auth_pass ********': a parameter in a keyword's place: "
     "it may expand to an include the deploy cannot check; write the keyword itself"),
    # what extra_lines refuse (model.readers.REFUSED_RAW): VIPs in another namespace
    ({"a.conf": "@^x global_defs { vrrp_iptables }\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: '@^x global_defs { vrrp_iptables }': vrrp_iptables is refused by "
     "the keepalived -t of Debian's packages"),
    ({"a.conf": "SSL { password s3cret }\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: password: an SSL key's password would be shown"),
    ({"a.conf": "$P=x\n$P password s3cret\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 2: (not shown: a password in it): a parameter in a keyword's place"),
    ({"a.conf": "includer /etc/keepalived/other/*.conf\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: 'includer /etc/keepalived/other/*.conf': an include of its own may "
     "only name"),
    ({"a.conf": "global_defs {\n  vrrp_iptables\n}\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 2: 'vrrp_iptables': vrrp_iptables "),
    ({"a.conf": "net_namespace blue\n"}, [{"src": "a.conf"}], ".src",
     "a.conf, line 1: 'net_namespace blue': net_namespace "),
    ({"a.conf": "SSL {\n    password s3cret\n    key /etc/ssl/lb.key\n}\n"},
     [{"src": "a.conf"}], ".src", "a.conf, line 2: password: an SSL key's password would be "
     "shown in diffs and left readable by others; use a key file without a password, "
     "readable by root only"),
    ({}, [{"src": "a.conf", "mode": "777"}], ".mode", "unknown key"),
    ({}, [{"name": "a.conf"}], ".src", "required: a file, or a directory of *.conf files"),
])
def test_include_file_errors(tmp_path, files, entries, key, message):
    data = shipped(tmp_path, files, entries)
    index = 1 if "as keepalived_include_files[0]" in message else 0

    assert_error(data, f"host-01: keepalived_include_files[{index}]{key}")
    assert_error(data, message)


def test_parameters_defined_and_used_as_values_are_allowed(tmp_path):
    data = shipped(tmp_path, {"a.conf": "$PRIO=100\nvrrp_instance X {\n  priority $PRIO\n}\n"},
                   [{"src": "a.conf"}])
    assert len(assert_valid(data).include_files) == 1


def test_an_include_of_a_file_beside_it_is_allowed(tmp_path):
    data = shipped(tmp_path, {"d/a.conf": "include b.conf\ninclude \"c*.conf\"\n",
                              "d/b.conf": "", "d/c1.conf": ""}, [{"src": "d"}])

    assert len(assert_valid(data).include_files) == 3
