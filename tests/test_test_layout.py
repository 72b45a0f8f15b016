"""The tests' own layout: no test module imports another test module. Shared fixtures live in
conftest.py files, shared helpers in modules of their own (tests/fakehosts.py,
tests/hostdata.py, ...)."""

import ast
import os

import pytest

pytestmark = pytest.mark.unit

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def python_files():
    """{dotted module name: path} of every .py file under tests/."""
    found = {}
    for directory, _, names in os.walk(TESTS_DIR):
        package = os.path.relpath(directory, os.path.dirname(TESTS_DIR)).replace(os.sep, ".")
        for name in names:
            if name.endswith(".py"):
                found[f"{package}.{name[:-3]}"] = os.path.join(directory, name)
    return found


def imported_modules(module, path):
    """The dotted names `module` imports (relative imports resolved; for `from X import Y`
    both X and X.Y, since Y may be a module)."""
    package = module.rpartition(".")[0]
    names = set()
    with open(path) as file:
        tree = ast.parse(file.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_test_module(name):
    return name.rpartition(".")[2].startswith("test_")


def test_no_test_module_imports_another_test_module():
    files = python_files()
    assert "tests.test_test_layout" in files
    offending = {module: sorted(name for name in imported_modules(module, path)
                                if name in files and is_test_module(name))
                 for module, path in files.items()}
    assert {module: names for module, names in offending.items() if names} == {}
