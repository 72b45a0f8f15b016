"""A checkout runs its own code: the tests and the top-level pyinfra files import this
checkout's `operations/pyinfra_keepalived`, even where another checkout of the project is
installed (an editable install is a path on sys.path; a decoy on PYTHONPATH, which comes
before any installed path, stands for it here)."""

import os
import subprocess
import sys

import pytest

import pyinfra_keepalived

pytestmark = pytest.mark.unit

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OWN_PACKAGE = os.path.join(REPO_DIR, "operations", "pyinfra_keepalived")
TOP_LEVEL = ("deploy.py", "status.py", "drill.py", "backup.py", "uninstall.py", "known_hosts.py")
# Run a top-level file as pyinfra does (exec'd with __file__ set); it stops at its first
# use of pyinfra's context, after its imports: then say which package it imported.
RUN_FILE = """
import runpy, sys
try:
    runpy.run_path(sys.argv[1])
except Exception:
    pass
print(sys.modules["pyinfra_keepalived"].__file__)
"""


@pytest.fixture
def decoy(tmp_path):
    """A PYTHONPATH whose `pyinfra_keepalived` is another checkout's (it fails when imported)."""
    package = tmp_path / "pyinfra_keepalived"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('the decoy checkout was imported')\n")
    return {**os.environ, "PYTHONPATH": str(tmp_path)}


def test_the_tests_import_this_checkout():
    assert os.path.dirname(pyinfra_keepalived.__file__) == OWN_PACKAGE


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_a_top_level_file_imports_this_checkout(name, decoy):
    done = subprocess.run([sys.executable, "-c", RUN_FILE, os.path.join(REPO_DIR, name)],
                          env=decoy, capture_output=True, text=True, cwd="/", timeout=120)
    assert done.returncode == 0, done.stderr
    assert os.path.dirname(done.stdout.strip()) == OWN_PACKAGE


def test_pytest_imports_this_checkout_whatever_is_on_pythonpath(decoy):
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_checkout.py::test_the_tests_import_this_checkout"],
                          env=decoy, capture_output=True, text=True, cwd=REPO_DIR, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
