"""Check and notify scripts rendered, and a template's own errors (syntax, an undefined
value, a filter that fails) reported as errors naming the host and key, never a traceback,
for every host before any host is touched (`check_hosts`, `check_inventory`: the model's
checks, then every host's scripts rendered).

What the templates receive is read and checked in the model (`model.script_data`).
"""

import jinja2
from pyinfra import logger

from ..model import fleet, validate
from ..model.problems import KeepalivedDataError, Problems
from ..per_run import once_per_run
from . import config as render


def rendered(problems, key, template, variables):
    """The script rendered from `template` with `variables`, or None after an error
    reported on `key` (the script's template key)."""
    try:
        return render.script_file(template, variables)
    except render.TemplateNotFound as error:
        problems.error(key, template, str(error))
    except jinja2.UndefinedError as error:
        problems.error(key, template,
                       f"the template needs a value that is not set ({error.message}); "
                       "set it on this script (e.g. service_name) or under its vars")
    except jinja2.TemplateSyntaxError as error:
        problems.error(key, template, f"the template has a syntax error: {error.message} "
                       f"(line {error.lineno} of {error.filename or error.name})")
    except Exception as error:  # an operator template may fail in any way: never a traceback
        problems.error(key, template, "the template failed to render: "
                       f"{type(error).__name__}: {error}")
    return None


def check_scripts(settings, problems):
    """Render every check and notify script of one host; errors go to `problems`, on the
    script's template key."""
    for where, scripts in (("keepalived_check_scripts", settings.scripts),
                           ("keepalived_notify_scripts", settings.notify_scripts)):
        for index, script in enumerate(scripts):
            if script.template is not None:
                rendered(problems, f"{where}[{index}].template", script.template,
                         script.template_variables())


def read_host(host, data):
    """`model.validate.read_host`, then the host's scripts rendered: (Settings or None,
    Problems)."""
    settings, problems = validate.read_host(host, data)
    if settings is not None:
        check_scripts(settings, problems)
    return (None if problems.errors else settings), problems


def all_scripts_render(settings):
    """`settings` ({name: Settings}) once every host's scripts rendered; else
    KeepalivedDataError naming each template that fails, by host and key."""
    errors = []
    for host_settings in settings.values():
        problems = Problems(host_settings.host)
        check_scripts(host_settings, problems)
        errors += problems.errors
    if errors:
        raise KeepalivedDataError(errors)
    return settings


def check_hosts(hosts, warn=logger.warning):
    """`model.fleet.check_hosts`, then every host's scripts rendered: {name: Settings}, or
    KeepalivedDataError."""
    return all_scripts_render(fleet.check_hosts(hosts, warn))


def check_inventory(inventory):
    """`model.fleet.check_inventory` (the model's checks, once per inventory), then every
    host's scripts rendered, once per inventory too: {host name: Settings}, or
    KeepalivedDataError."""
    return once_per_run("scripts rendered",
                        lambda: all_scripts_render(fleet.check_inventory(inventory)),
                        run=inventory)
