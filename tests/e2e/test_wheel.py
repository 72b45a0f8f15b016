"""The library as another pyinfra project uses it: the wheel built from this checkout,
pip-installed into a fresh virtualenv, and a project of its own (an inventory, a
three-line deploy.py, an `operations/` package and a `templates/` folder of its own)
converges the test hosts, and a second run changes nothing.

What this shows: the wheel carries everything read at run time (templates, the hosts'
shell scripts), the import name `pyinfra_keepalived` does not shadow the project's own
`operations/`, and the project's templates are looked up before the shipped ones.
"""

import os
import shutil
import subprocess
import sys

import pytest

from testhosts.cluster import REPO_DIR

from .conftest import totals
from .scenarios import check_converged

pytestmark = pytest.mark.e2e

DEPLOY = """from pyinfra_keepalived import keepalived

keepalived()
"""
# The project's own package named like this repository's folder: an installed library
# called `operations` would be shadowed by it (pyinfra puts the project first on sys.path).
PROJECT_OPERATIONS = 'NAME = "the project\'s own operations package"\n'
PROJECT_TEMPLATE_MARK = "# the project's own template, found before the shipped one"


def run(*command, cwd, timeout=600):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=timeout)
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of the checkout's tracked files (what a clean clone
    has), so nothing untracked of this machine can slip into it."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=REPO_DIR, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        origin, copy = os.path.join(REPO_DIR, name), source / name
        if not os.path.lexists(origin):
            continue  # deleted in the work tree, not yet committed
        copy.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(origin):
            os.symlink(os.readlink(origin), copy)
        else:
            shutil.copy2(origin, copy)
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source),
        cwd=source)
    (built,) = out.glob("pyinfra_keepalived-*.whl")
    return built


@pytest.fixture(scope="module")
def project(cluster, wheel, tmp_path_factory):
    """(python of a fresh virtualenv with the wheel installed, the project's folder)."""
    venv = tmp_path_factory.mktemp("venv")
    # pyinfra and the other dependencies come from this machine's site-packages; the
    # library itself only from the wheel (the checkout's editable install is shadowed).
    run(sys.executable, "-m", "venv", "--system-site-packages", str(venv), cwd=venv)
    python = str(venv / "bin" / "python")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel), cwd=venv)

    folder = tmp_path_factory.mktemp("project")
    shutil.copy(cluster.inventory_path, folder / "inventory.py")
    (folder / "deploy.py").write_text(DEPLOY)
    (folder / "operations").mkdir()
    (folder / "operations" / "__init__.py").write_text(PROJECT_OPERATIONS)
    (folder / "templates").mkdir()
    shipped = open(os.path.join(REPO_DIR, "templates", "scripts",
                                "check_systemd_service.sh.j2")).read()
    first, rest = shipped.split("\n", 1)
    (folder / "templates" / "check_systemd_service.sh.j2").write_text(
        f"{first}\n{PROJECT_TEMPLATE_MARK}\n{rest}")
    return python, folder


def test_the_library_is_the_wheel_and_the_project_keeps_its_operations(project):
    python, folder = project
    shown = run(python, "-c", "import operations, pyinfra_keepalived; "
                "print(operations.NAME); print(pyinfra_keepalived.__file__)", cwd=folder)
    own, library = shown.stdout.splitlines()
    assert own == "the project's own operations package"
    assert library.startswith(os.path.dirname(os.path.dirname(python))), library
    assert not library.startswith(REPO_DIR)


def test_a_three_line_deploy_converges_the_hosts(cluster, project):
    python, folder = project
    result = subprocess.run([python, "-m", "pyinfra", "-y", "inventory.py", "deploy.py"],
                            cwd=folder, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=600)
    check_converged(cluster, result)
    for host in cluster.hosts:
        script = cluster.run(host, "cat /etc/keepalived/scripts/check_ssh.sh")[1]
        assert PROJECT_TEMPLATE_MARK in script, f"{host}: the shipped template was used"


def test_a_second_run_changes_nothing(project):
    python, folder = project
    result = run(python, "-m", "pyinfra", "-y", "inventory.py", "deploy.py", cwd=folder)
    operations, changed, errors, unchanged = totals(result)
    assert (changed, errors) == (0, 0) and unchanged == operations, result.stdout
