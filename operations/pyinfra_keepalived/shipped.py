"""The files that ship inside the package: the Jinja2 templates (`templates/`) and the
shell scripts the hosts run (`*.sh`, each beside the module that sends it).

Found through importlib.resources, so they are read the same way from a checkout
(`operations/pyinfra_keepalived/` is the package, its `templates` a link to the
repository's `templates/`) and from an installed wheel (`pyinfra_keepalived/templates/`).
"""

import functools
import shlex
from importlib.resources import files

PACKAGE = __name__.rpartition(".")[0]  # "pyinfra_keepalived"


def path(relative: str) -> str:
    """The file system path of a shipped file or folder, e.g. path("templates")."""
    return str(files(PACKAGE).joinpath(*relative.split("/")))


@functools.cache
def shell_script(relative: str) -> str:
    """The text of a shipped shell script, e.g. shell_script("operations/lock.sh")."""
    return files(PACKAGE).joinpath(*relative.split("/")).read_text()


def with_variables(script: str, **variables) -> str:
    """Shell text: `script` after an assignment of each of `variables` (values quoted), the
    way a shipped script that runs inline (no `sh -c`: no process more) takes arguments;
    without a final newline, so that more commands may follow it after a `;`."""
    assignments = "".join(f"{name}={shlex.quote(str(value))}\n"
                          for name, value in variables.items())
    return assignments + script.rstrip("\n")


TEMPLATES_DIR = path("templates")
