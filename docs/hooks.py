"""MkDocs hooks (mkdocs.yml `hooks:`), run at build time:

- `reference/operations.md`: its marker is replaced by the reference of the package's
  `@operation` functions, facts (`FactBase` classes) and `@deploy` functions, each with
  its signature and docstring, read from the source (`ast`: nothing is imported, so the
  page shows this checkout's code whatever is installed);
- `benchmark-results.md`: BENCHMARKS.md, which stays at the repository root, as a page
  (its plots' paths made relative to docs/); a page's link to `../BENCHMARKS.md` (which
  works where the Markdown is read in the repository) leads there in the site.

    python3 docs/hooks.py   # print the operations' reference, as the site renders it
"""

import ast
import inspect
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "operations" / "pyinfra_keepalived"
MARKER = "<!-- reference:operations -->"
REFERENCE_PAGE = "reference/operations.md"
RESULTS_PAGE = "benchmark-results.md"

# the layers documented, in the order of the page
LAYERS = ("operations", "facts", "deploys")
DECORATORS = ("operation", "deploy")


def _decorator_name(node):
    """`operation` for @operation / @operation() / @api.operation(...)."""
    if isinstance(node, ast.Call):
        node = node.func
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)


def _is_fact(node):
    """A class whose bases include FactBase (or FactBase[...])."""
    for base in node.bases:
        if isinstance(base, ast.Subscript):
            base = base.value
        if _decorator_name(base) == "FactBase":
            return True
    return False


def documented(source):
    """(name, signature, docstring) of each `@operation` and `@deploy` function and each
    fact (`FactBase` class) of a module's source, in source order. The signature is the
    decorator and `def` line, or for a fact how it is asked (its `command`'s arguments)."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and _is_fact(node):
            command = next((item for item in node.body if isinstance(item, ast.FunctionDef)
                            and item.name == "command"), None)
            arguments = re.sub(r"^self(, )?", "", ast.unparse(command.args) if command else "")
            asked = ", ".join(filter(None, [node.name, arguments]))
            found.append((node.name, f"host.get_fact({asked})", ast.get_docstring(node)))
        elif isinstance(node, ast.FunctionDef):
            decorators = [item for item in node.decorator_list
                          if _decorator_name(item) in DECORATORS]
            if decorators:
                found.append((node.name, f"@{ast.unparse(decorators[0])}\n"
                              f"def {node.name}({ast.unparse(node.args)})",
                              ast.get_docstring(node)))
    return found


def _escape_html(text):
    """`<` outside code spans, so that `<run time>` in a docstring stays text."""
    parts = text.split("`")
    return "`".join(part.replace("<", "&lt;") if index % 2 == 0 else part
                    for index, part in enumerate(parts))


def markdown(docstring):
    """A docstring in pyinfra's style (``code``, `.. code:: python` blocks, `+ arg: meaning`
    lines) as Markdown."""
    if not docstring:
        return "*(no docstring)*\n"
    out, in_code, in_list, fence = [], False, False, None
    for line in inspect.cleandoc(docstring).split("\n"):
        if in_code:  # an indented block after `.. code::`, until a line that is not
            if not line.strip():
                if out[-1] != fence:  # (the blank line before the code is not code)
                    out.append("")
                continue
            if line.startswith("    "):
                out.append(line[4:])
                continue
            while not out[-1].strip():
                out.pop()
            out += ["```", ""]
            in_code = False
        code = re.match(r"\.\. code(?:-block)?::\s*(\w*)", line.strip())
        if code:
            fence = f"```{code.group(1)}"
            out.append(fence)
            in_code = True
            continue
        line = _escape_html(line.replace("``", "`"))
        argument = re.match(r"\+ ([\w, ]+):(.*)", line)
        if argument:
            if not in_list and out and out[-1].strip():
                out.append("")  # Markdown starts a list only after a blank line
            line = f"- `{argument.group(1)}`:{argument.group(2)}"
            in_list = True
        elif not line.strip():
            in_list = False
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    if in_code:
        out.append("```")
    return "\n".join(out) + "\n"


def reference():
    """The Markdown of the operations' reference page's generated part: a section per
    module (`operations.config_tree`, with the module's docstring), in the order of the
    layers, and in it each operation, fact or deploy with its signature and docstring."""
    parts = []
    for folder in LAYERS:
        for path in sorted((PACKAGE / folder).glob("*.py")):
            source = path.read_text()
            items = documented(source)
            if not items:
                continue
            parts.append(f"## {folder}.{path.stem}\n")
            module_doc = ast.get_docstring(ast.parse(source))
            if module_doc:
                parts.append(markdown(module_doc))
            for name, signature, docstring in items:
                parts.append(f"### {name}\n")
                parts.append(f"```python\n{signature}\n```\n")
                parts.append(markdown(docstring))
    return "\n".join(parts)


def benchmark_results():
    """BENCHMARKS.md as a page under docs/: its plots are in docs/bench/."""
    text = (REPO / "BENCHMARKS.md").read_text()
    return text.replace("](docs/bench/", "](bench/")


# MkDocs event hooks


def on_files(files, config):
    from mkdocs.structure.files import File

    files.append(File.generated(config, RESULTS_PAGE, content=benchmark_results()))
    return files


def linked_results(markdown_text, src_uri):
    """A page's links to the repository's BENCHMARKS.md made links to its page here."""
    to_root = "../" * src_uri.count("/")
    return re.sub(r"\]\(((?:\.\./)+)BENCHMARKS\.md\)",
                  lambda match: f"]({to_root}{RESULTS_PAGE})"
                  if match.group(1) == "../" + to_root else match.group(0), markdown_text)


def on_page_markdown(markdown_text, page, config, files):
    markdown_text = linked_results(markdown_text, page.file.src_uri)
    if page.file.src_uri == REFERENCE_PAGE:
        if MARKER not in markdown_text:
            raise ValueError(f"{REFERENCE_PAGE} lost its marker {MARKER}")
        return markdown_text.replace(MARKER, reference())
    return markdown_text


def on_serve(server, config, builder):
    """`mkdocs serve` rebuilds when the package's code or BENCHMARKS.md changes."""
    server.watch(str(PACKAGE))
    server.watch(str(REPO / "BENCHMARKS.md"))
    return server


if __name__ == "__main__":
    sys.stdout.write(reference())
