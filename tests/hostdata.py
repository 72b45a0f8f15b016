"""Host data for the validation tests: plain dicts shaped like the seed example
(group_data/jump_hosts.py's VI_1 and check_ssh, host-01 at priority 100 (MASTER) and host-02
at 90 (BACKUP)), and the helpers that read and check it."""

import copy

import pytest

from pyinfra_keepalived.model.problems import KeepalivedDataError
from pyinfra_keepalived.render import script_data as inventory_check
from pyinfra_keepalived.render.config import config_files

DROP = object()  # pass as an override to remove that key

CHECK_SSH = {
    "name": "check_ssh.sh",
    "template": "check_systemd_service.sh.j2",
    "vrrp_name": "check_ssh",
    "service_name": "ssh.service",
    "interval": 2,
    "weight": -20,
}
VI_1 = {
    "name": "VI_1",
    "interface": "eth0",
    "virtual_router_id": 51,
    "virtual_ipaddresses": ["192.168.1.100/24"],
    "auth_type": "PASS",
    "auth_pass": "1234",
    "track_scripts": ["check_ssh"],
}


# -- helpers -----------------------------------------------------------------------------

def _apply(base, overrides):
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if value is DROP:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def script(**overrides):
    """The seed's check_ssh script, with overrides."""
    return _apply(CHECK_SSH, overrides)


def instance(**overrides):
    """The seed's VI_1 instance, with overrides."""
    return _apply(VI_1, overrides)


def host(priority=100, state="MASTER", *, scripts=None, instances=None, **instance_overrides):
    """One host's data: VI_1 (priority and state set on the instance) and check_ssh."""
    if instances is None:
        instances = [instance(priority=priority, state=state, **instance_overrides)]
    return {
        "keepalived_vrrp_instances": instances,
        "keepalived_check_scripts": [script()] if scripts is None else scripts,
    }


def host_01(priority=100, state="MASTER", **overrides):
    return host(priority, state, **overrides)


def host_02(priority=90, state="BACKUP", **overrides):
    return host(priority, state, **overrides)


def read(data, name="host-01"):
    """(Settings or None, [error str], [warning str]) for one host."""
    settings, problems = inventory_check.read_host(name, data)
    return settings, [str(p) for p in problems.errors], [str(p) for p in problems.warnings]


def assert_error(data, expected, name="host-01"):
    """`data` is rejected with an error containing `expected`; returns that error."""
    settings, errors, _ = read(data, name)
    assert settings is None
    matching = [error for error in errors if expected in error]
    assert matching, f"no error contains {expected!r}; errors: {errors}"
    return matching[0]


def rendered(data, name):
    """The content of the config file `name` (a base name) rendered for host-01's valid
    `data`, or None where it is not rendered."""
    settings, errors, _ = read(data)
    assert errors == [], errors
    return {path.rpartition("/")[2]: file.content
            for path, file in config_files(settings).items()}.get(name)


def assert_valid(data, name="host-01"):
    settings, errors, _ = read(data, name)
    assert errors == []
    assert settings is not None
    return settings


def check(*hosts):
    """check_hosts on (name, data) pairs: (settings by host, [warning str])."""
    warnings = []
    settings = inventory_check.check_hosts(list(hosts), warn=warnings.append)
    return settings, warnings


def check_fails(*hosts):
    """check_hosts on (name, data) pairs must raise: returns the KeepalivedDataError."""
    warnings = []
    with pytest.raises(KeepalivedDataError) as raised:
        inventory_check.check_hosts(list(hosts), warn=warnings.append)
    return raised.value
