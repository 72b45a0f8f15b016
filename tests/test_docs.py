"""The documentation: a short README that points at pages that exist, and a site (MkDocs,
docs/) whose generated reference covers the package and whose links all resolve.

- the README is at most 150 lines, keeps the two commands, and each of its links to a
  file (and to a heading in a page) resolves;
- the operations' reference (docs/hooks.py, rendered at build time) has every
  `@operation`, fact and `@deploy` of the package, found here by importing the modules
  rather than by reading their source as the generator does, each with its docstring;
- `mkdocs build --strict` passes (a broken link or anchor fails it), as in .ci/run.
(The key table of docs/data-keys.md is checked in tests/test_model_keys.py.)
"""

import importlib
import importlib.util
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from markdown.extensions.toc import slugify
from pyinfra.api import FactBase

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MAX_README_LINES = 150


def load_hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hooks = load_hooks()


def test_readme_is_short():
    assert len(README.read_text().splitlines()) <= MAX_README_LINES


def test_readme_keeps_the_two_commands():
    text = README.read_text()
    for command in ("bash setup.sh && python3 -m testhosts demo",
                    "bash setup.sh && python3 -m pytest"):
        assert f"```sh\n{command}\n```" in text, command


def headings(page):
    """The anchors MkDocs gives a page's headings (outside code blocks)."""
    anchors, fence = set(), False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (match := re.match(r"#{1,6} (.*)", line)):
            anchors.add(slugify(re.sub(r"[`*]", "", match.group(1)), "-"))
    return anchors


def local_links(text):
    """(path, anchor) of each Markdown link that is not a URL."""
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if not re.match(r"[a-z]+:", target):
            path, _, anchor = target.partition("#")
            yield path, anchor


def test_readme_links_point_at_files_and_headings_that_exist():
    links = list(local_links(README.read_text()))
    assert any(path.startswith("docs/") for path, _ in links)
    for path, anchor in links:
        target = REPO / path
        assert target.is_file(), f"README links to {path}, which does not exist"
        if anchor:
            assert anchor in headings(target), f"README links to {path}#{anchor}: no such heading"


def test_link_check_catches_a_missing_page_and_heading():
    """The check above fails on what it is there to catch."""
    assert "use-it-on-your-hosts" in headings(REPO / "docs" / "getting-started.md")
    assert "no-such-heading" not in headings(REPO / "docs" / "getting-started.md")
    assert list(local_links("[a](docs/x.md#y) [b](https://example.invalid/z)")) \
        == [("docs/x.md", "y")]


def package_members():
    """(module, name, docstring) of each operation, fact and deploy the package defines,
    from the imported modules of its operations, facts and deploys layers (module:
    `operations.config_tree`)."""
    found = []
    for layer in ("operations", "facts", "deploys"):
        package = importlib.import_module(f"pyinfra_keepalived.{layer}")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            where = f"{layer}.{info.name}"
            for name, value in vars(module).items():
                wrapped = getattr(value, "__wrapped__", None)
                if inspect.isclass(value) and issubclass(value, FactBase) \
                        and value is not FactBase and value.__module__ == module.__name__:
                    found.append((where, name, value.__doc__))
                elif wrapped is not None and wrapped.__module__ == module.__name__ and (
                        hasattr(value, "is_idempotent") or hasattr(value, "deploy_name")):
                    found.append((where, name, wrapped.__doc__))
    return found


def test_reference_has_every_operation_fact_and_deploy_with_its_docstring():
    members = package_members()
    names = {name for _, name, _ in members}
    assert {"config_tree", "KeepalivedProbe", "keepalived"} <= names, names
    page = "\n" + hooks.reference()
    for module, name, doc in members:
        assert f"\n## {module}\n" in page, f"{module} missing from the reference"
        section = page.split(f"\n## {module}\n")[1].split("\n## ")[0]
        assert f"### {name}\n" in section, f"{module}: {name} missing from the reference"
        if doc:
            first = inspect.cleandoc(doc).splitlines()[0].replace("``", "`").strip()
            assert first.replace("<", "&lt;") in page, f"{name}'s docstring missing"


@pytest.mark.parametrize("docstring, expected", [
    ("Do it.\n\n+ files: the files\n+ lock_wait: seconds,\n  at most 3600\n\nMore.",
     "Do it.\n\n- `files`: the files\n- `lock_wait`: seconds,\n  at most 3600\n\nMore.\n"),
    ("Text\n+ a, b: both", "Text\n\n- `a, b`: both\n"),
    ("Use ``x``:\n\n.. code:: python\n\n    op(name=\"x\")\n\nAfter.",
     "Use `x`:\n\n```python\nop(name=\"x\")\n```\n\nAfter.\n"),
    ("Ends in code:\n\n.. code:: python\n\n    op()\n", "Ends in code:\n\n```python\nop()\n```\n"),
    ("To <dir>/<run time>, `<kept>`", "To &lt;dir>/&lt;run time>, `<kept>`\n"),
    (None, "*(no docstring)*\n"),
], ids=["arguments", "list-after-text", "code-block", "code-at-end", "html", "none"])
def test_docstrings_become_markdown(docstring, expected):
    assert hooks.markdown(docstring) == expected


def test_reference_reads_operations_facts_and_deploys_from_source():
    source = '''
from pyinfra.api import FactBase, deploy, operation

@operation()
def op(a, b=1):
    """Op."""

@deploy("D")
def dep():
    """Dep."""

class Fact(FactBase[str]):
    """Fact."""
    def command(self, path):
        return "cat " + path

def helper():
    """Not documented."""
'''
    assert hooks.documented(source) == [
        ("op", "@operation()\ndef op(a, b=1)", "Op."),
        ("dep", "@deploy('D')\ndef dep()", "Dep."),
        ("Fact", "host.get_fact(Fact, path)", "Fact."),
    ]


@pytest.mark.parametrize("src_uri, text, expected", [
    ("index.md", "[r](../BENCHMARKS.md)", "[r](benchmark-results.md)"),
    ("reference/operations.md", "[r](../../BENCHMARKS.md)", "[r](../benchmark-results.md)"),
    ("index.md", "[r](../../BENCHMARKS.md)", "[r](../../BENCHMARKS.md)"),
    ("index.md", "[r](other/BENCHMARKS.md)", "[r](other/BENCHMARKS.md)"),
], ids=["top", "nested", "outside-the-repository", "another-file"])
def test_links_to_benchmarks_md_lead_to_its_page(src_uri, text, expected):
    assert hooks.linked_results(text, src_uri) == expected


def test_site_builds_in_strict_mode(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                             "--site-dir", str(tmp_path / "site")], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "reference" / "operations" / "index.html").is_file()
    assert (tmp_path / "site" / "benchmark-results" / "index.html").is_file()
    assert not (tmp_path / "site" / "hooks.py").exists()
