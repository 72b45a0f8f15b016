"""Validate the keepalived data of every host in the inventory, once per run.

Called by the deploy for each host before it adds any operation. The first call reads
all hosts (peer checks need them all, including hosts outside --limit); any error stops
the run before pyinfra executes anything, so no host is touched.
"""

from pyinfra import logger

from ..per_run import once_per_run
from . import validate
from .lvs_dr import derive_real_servers
from .peers import check_peers, derive_unicast_peers
from .problems import KeepalivedDataError, grouped
from .shared_keys import check_holders


def check_inventory(inventory):
    """Return {host name: Settings} for every host, or raise KeepalivedDataError (checked
    once per inventory: the deploy asks for each host)."""
    return once_per_run("checked inventory", lambda: check_hosts(
        [(host.name, host.data.dict()) for host in inventory]), run=inventory)


def check_hosts(hosts, warn=logger.warning):
    """`hosts`: [(name, data)]. Returns {name: Settings}; warns, or raises on errors."""
    settings, errors, warnings = {}, [], []
    for name, data in hosts:
        host_settings, problems = validate.read_host(name, data)
        errors += problems.errors
        warnings += problems.warnings
        if host_settings:
            settings[name] = host_settings
    if not errors:
        peer_problems = check_peers(list(settings.values()))
        settings = derive_unicast_peers(settings, peer_problems)
        check_holders(settings, peer_problems)
        settings = derive_real_servers(settings, peer_problems)
        for problems in peer_problems.values():
            errors += problems.errors
            warnings += problems.warnings
    for line in grouped(warnings):  # (each distinct warning once, with its hosts)
        warn(f"keepalived data warning: {line}")
    if errors:
        raise KeepalivedDataError(errors)
    return settings
