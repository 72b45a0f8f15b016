"""The package's architecture, checked: its subpackages are layers, and a module imports
only from its own layer or the ones before it, never from a later one, and no two modules
import each other (directly or round a longer loop).

    model -> render -> facts -> operations -> deploys

`shipped` (the files that ship with the package) sits below them all.
"""

import ast
import os

import pytest

import pyinfra_keepalived

pytestmark = pytest.mark.unit

PACKAGE_DIR = os.path.dirname(pyinfra_keepalived.__file__)
LAYERS = ("shipped", "model", "render", "facts", "operations", "deploys")


def modules():
    """{dotted name relative to the package: path} of every module of the package."""
    found = {}
    for layer in LAYERS[1:]:
        for name in os.listdir(os.path.join(PACKAGE_DIR, layer)):
            if name.endswith(".py") and name != "__init__.py":
                found[f"{layer}.{name[:-3]}"] = os.path.join(PACKAGE_DIR, layer, name)
    found["shipped"] = os.path.join(PACKAGE_DIR, "shipped.py")
    return found


def imports_of(module, path):
    """The package modules `module` imports (relative imports resolved)."""
    package = module.rpartition(".")[0].split(".") if "." in module else []
    names = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.startswith("pyinfra_keepalived"):
                target = node.module.removeprefix("pyinfra_keepalived").lstrip(".")
            else:
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}" if target else alias.name
                names.add(candidate if candidate in modules() else target)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pyinfra_keepalived."):
                    names.add(alias.name.removeprefix("pyinfra_keepalived."))
    return {name for name in names if name in modules()}


def layer_of(module):
    return LAYERS.index(module.split(".")[0])


def test_every_module_is_in_a_layer():
    top = {name for name in os.listdir(PACKAGE_DIR) if name.endswith(".py")}
    assert top == {"__init__.py", "shipped.py"}


def test_imports_run_one_way():
    against = [f"{module} imports {target}"
               for module, path in sorted(modules().items())
               for target in sorted(imports_of(module, path))
               if layer_of(target) > layer_of(module)]
    assert against == []


def test_no_import_cycles():
    graph = {module: imports_of(module, path) for module, path in modules().items()}
    cycles = []

    def visit(module, trail):
        for target in graph[module]:
            if target in trail:
                cycles.append(" -> ".join([*trail[trail.index(target):], target]))
            elif target not in done:
                visit(target, [*trail, target])
        done.add(module)

    done = set()
    for module in sorted(graph):
        if module not in done:
            visit(module, [module])
    assert cycles == []
