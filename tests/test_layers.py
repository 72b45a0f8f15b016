"""The package's architecture, checked: its subpackages are layers, and a module imports
only from its own layer or the ones before it, never from a later one, and no two modules
import each other (directly or round a longer loop).

    model -> render -> facts -> operations -> deploys

Below them all: `shipped` (the files that ship with the package), `per_run` (values
worked out once per run) and `host_paths` (where the deploy's files are on a host, and the
constants layers share), which import no layer.
"""

import ast
import importlib
import importlib.util
import os

import pytest

import pyinfra_keepalived

pytestmark = pytest.mark.unit

PACKAGE_DIR = os.path.dirname(pyinfra_keepalived.__file__)
BASE = ("shipped", "per_run", "host_paths")  # modules of the package root, below every layer
LAYERS = ("model", "render", "facts", "operations", "deploys")


def modules():
    """{dotted name relative to the package: path} of every module of the package (a
    subpackage's __init__ as the subpackage's own name, e.g. "facts")."""
    found = {name: os.path.join(PACKAGE_DIR, f"{name}.py") for name in BASE}
    for layer in LAYERS:
        for name in os.listdir(os.path.join(PACKAGE_DIR, layer)):
            if name == "__init__.py":
                found[layer] = os.path.join(PACKAGE_DIR, layer, name)
            elif name.endswith(".py"):
                found[f"{layer}.{name[:-3]}"] = os.path.join(PACKAGE_DIR, layer, name)
    return found


# What the package's root gives lazily (its __getattr__), and where it comes from.
ROOT_NAMES = {"keepalived": "deploys.install"}


def imports_of(module, path):
    """The package modules `module` imports (relative imports resolved; a subpackage
    imported as a whole counts as its layer). Star imports and importlib are refused:
    what they load cannot be read here."""
    is_package = os.path.basename(path) == "__init__.py"
    package = module.split(".") if is_package else module.split(".")[:-1]
    known = modules()
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.split(".")[0] == "pyinfra_keepalived":
                target = node.module.removeprefix("pyinfra_keepalived").lstrip(".")
            elif node.module == "importlib":
                raise AssertionError(f"{module} imports importlib: the layers cannot be read")
            else:
                continue
            for alias in node.names:
                assert alias.name != "*", f"{module}: a star import from {target!r}"
                candidate = f"{target}.{alias.name}" if target else alias.name
                if candidate in known:
                    names.add(candidate)
                elif not target and alias.name in ROOT_NAMES:
                    names.add(ROOT_NAMES[alias.name])
                elif target:
                    names.add(target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                assert alias.name != "importlib", f"{module} imports importlib"
                if alias.name.split(".")[0] == "pyinfra_keepalived":
                    names.add(alias.name.removeprefix("pyinfra_keepalived").lstrip("."))
    unknown = {name for name in names if name and name not in known}
    assert not unknown, f"{module} imports {unknown}: not modules of the package"
    return {name for name in names if name}


def layer_of(module):
    """0 for the base modules, then 1, 2, ... in the order of LAYERS."""
    name = module.split(".")[0]
    return 0 if name in BASE else 1 + LAYERS.index(name)


def test_hidden_imports_against_the_layers_are_seen(tmp_path, monkeypatch):
    """The ways of importing a later layer that the reading must not miss: a whole
    subpackage, a relative import of a subpackage under another name, the package's
    lazy `keepalived`, an absolute import."""
    for text, target in [("from .. import deploys", "deploys"),
                         ("from .. import operations as ops", "operations"),
                         ("from .. import keepalived", "deploys.install"),
                         ("from pyinfra_keepalived import deploys", "deploys"),
                         ("import pyinfra_keepalived.facts.probe", "facts.probe"),
                         ("def f():\n    from ..facts import probe", "facts.probe")]:
        path = tmp_path / "fake.py"
        path.write_text(text + "\n")
        assert imports_of("model.fake", str(path)) == {target}, text
    for text in ("from ..deploys import *", "import importlib"):
        path = tmp_path / "fake.py"
        path.write_text(text + "\n")
        with pytest.raises(AssertionError):
            imports_of("model.fake", str(path))


def test_every_module_is_in_a_layer():
    top = {name for name in os.listdir(PACKAGE_DIR) if name.endswith(".py")}
    # (__main__: `python3 -m pyinfra_keepalived`, above every layer: it runs deploys.offline)
    assert top == {"__init__.py", "__main__.py", *(f"{name}.py" for name in BASE)}
    main = imports_of("__main__", os.path.join(PACKAGE_DIR, "__main__.py"))
    assert main == {"deploys.offline"}


def test_imports_run_one_way():
    against = [f"{module} imports {target}"
               for module, path in sorted(modules().items())
               for target in sorted(imports_of(module, path))
               if layer_of(target) > layer_of(module)]
    assert against == []


def cycles(graph):
    """Every import loop of `graph` ({module: modules it imports}), as "a -> b -> a"."""
    found = []

    def visit(module, trail):
        for target in sorted(graph[module]):
            if target in trail:
                found.append(" -> ".join([*trail[trail.index(target):], target]))
            elif target not in done:
                visit(target, [*trail, target])
        done.add(module)

    done = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    return found


def test_no_import_cycles():
    assert cycles({module: imports_of(module, path) for module, path in modules().items()}) == []


REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENTRY_POINTS = ("deploy.py", "status.py", "drill.py", "backup.py", "uninstall.py",
                "known_hosts.py", "bench/only_connect.py", "bench/only_probe.py",
                "bench/only_package.py")


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_entry_points_import_what_the_package_has(entry_point):
    """The deploy files pyinfra runs (the repository's and the bench's floors) import
    names the package still has: a file that moved or a name that went fails here, not
    only in an end-to-end run or a benchmark."""
    tree = ast.parse(open(os.path.join(REPO_DIR, entry_point)).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pyinfra_keepalived"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}") is not None, \
                    f"{entry_point}: {node.module} has no {alias.name}"


# The repository's own packages beside the library (the library's are read above).
OWN_PACKAGES = ("bench", "testhosts", "tests")


def own_imports(path, module):
    """The modules of OWN_PACKAGES that `module` (at `path`) imports, at its top or lazily
    inside a function (a lazy import dodges a cycle only until the function runs)."""
    package = module.split(".") if path.endswith("__init__.py") else module.split(".")[:-1]
    targets = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom):
            base = (".".join(package[:len(package) - (node.level - 1)]) if node.level else "")
            target = ".".join(filter(None, [base, node.module or ""]))
            targets.update(f"{target}.{alias.name}" for alias in node.names)
            targets.add(target)
        elif isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
    return targets


def test_no_import_cycles_in_the_repository():
    """bench/, testhosts/ and tests/ too: no two modules import each other, not even
    lazily."""
    paths = {}
    for top in OWN_PACKAGES:
        for folder, _, files in os.walk(os.path.join(REPO_DIR, top)):
            for name in files:
                if name.endswith(".py"):
                    relative = os.path.relpath(os.path.join(folder, name), REPO_DIR)
                    module = relative[:-3].replace(os.sep, ".").removesuffix(".__init__")
                    paths[module] = os.path.join(REPO_DIR, relative)
    graph = {module: own_imports(path, module) & set(paths) - {module}
             for module, path in paths.items()}
    assert cycles(graph) == []
