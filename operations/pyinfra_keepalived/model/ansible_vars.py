"""Use host_vars/ and group_vars/ written for the original Ansible role, unchanged.

In inventory.py, build a pyinfra group from the Ansible vars directory:

    from pyinfra_keepalived.model.ansible_vars import ansible_group

    jump_hosts = ansible_group("jump_hosts", ["host-01", "host-02"], vars_dir="ansible")

Each host gets host_vars/<host>.yml (or every .yml/.yaml in host_vars/<host>/, in name
order, as Ansible reads them); the group gets group_vars/all.yml overlaid by
group_vars/<group>.yml. As in Ansible, host vars win over group vars, and a group's over
all. The keepalived_* keys are then validated like any other host data. Ansible's
connection variables are translated (ansible_host -> ssh_hostname, ...).

Not supported, and said so with the file and key: Jinja expressions (other than the
role's own `{{ keepalived_base_dir }}` in the three path keys) and ansible-vault values.
A group_data/<group>.py (under the current directory) that sets a key the group's YAML
sets too is an error: pyinfra would let it win.
"""

import ast
import os
from collections.abc import Mapping

import yaml
from pyinfra.api.exceptions import PyinfraError

from .problems import shown

# Ansible connection variables -> pyinfra's @ssh data keys.
CONNECTION_KEYS = {
    "ansible_host": "ssh_hostname",
    "ansible_port": "ssh_port",
    "ansible_user": "ssh_user",
    "ansible_ssh_private_key_file": "ssh_key",
    "ansible_become": "_sudo",
}
# Keys whose values may use {{ keepalived_base_dir }} (validate.read_paths resolves it).
BASE_DIR_KEYS = ("keepalived_config_file", "keepalived_config_dir",
                 "keepalived_check_scripts_dir")
YAML_ENDINGS = (".yml", ".yaml")


class AnsibleVarsError(PyinfraError):
    """A vars file that cannot be used as it is; the message names the file and key."""


def load_vars(path):
    """The variables of one Ansible vars file or directory (files merged in name order);
    {} when neither path, path.yml nor path.yaml exists."""
    files = _vars_files(path)
    merged = {}
    for file in files:
        merged.update(_load_file(file))
    return merged


def ansible_group(group, hosts, vars_dir="."):
    """A pyinfra inventory group ``([(host, host data), ...], group data)`` for `hosts`
    of the Ansible group `group`, read from `vars_dir`/host_vars and /group_vars."""
    group_data = {**load_vars(os.path.join(vars_dir, "group_vars", "all")),
                  **load_vars(os.path.join(vars_dir, "group_vars", group))}
    _refuse_shadowing(group, group_data)
    return (
        [(name, _pyinfra_data(load_vars(os.path.join(vars_dir, "host_vars", name))))
         for name in hosts],
        _pyinfra_data(group_data),
    )


def _refuse_shadowing(group, group_data):
    """pyinfra lets group_data/<group>.py win over the group data an inventory gives: a key
    set in both would silently ignore the YAML (the repo's example group_data/jump_hosts.py
    would, for a group named jump_hosts)."""
    path = os.path.join(os.getcwd(), "group_data", f"{group}.py")
    if not os.path.isfile(path):
        return
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    assigned = {target.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name)}
    both = sorted(assigned & set(group_data))
    if both:
        raise AnsibleVarsError(
            f"{path} also sets {', '.join(both)} for group {group!r}, and pyinfra lets that "
            f"file win over group_vars/{group}.yml: remove those keys from it (or the file), "
            "or give the group another name")


def _vars_files(path):
    if os.path.isdir(path):
        return [os.path.join(path, name) for name in sorted(os.listdir(path))
                if name.endswith(YAML_ENDINGS)]
    for candidate in (path, *(path + ending for ending in YAML_ENDINGS)):
        if os.path.isfile(candidate):
            return [candidate]
    return []


def _load_file(file):
    try:
        with open(file) as f:
            data = yaml.safe_load(f)
    except yaml.constructor.ConstructorError as error:
        if error.problem and "!vault" in error.problem:
            raise AnsibleVarsError(
                f"{file}: {error.problem_mark}: ansible-vault values are not supported; "
                "decrypt the value (ansible-vault decrypt) or give it as pyinfra data") \
                from None
        raise AnsibleVarsError(f"{file}: {error}") from None
    except yaml.YAMLError as error:
        raise AnsibleVarsError(f"{file}: not valid YAML: {error}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise AnsibleVarsError(f"{file}: must hold a mapping of variable names to values, "
                               f"not {type(data).__name__}")
    for key, value in data.items():
        _refuse_templates(file, str(key), value, allow_base_dir=key in BASE_DIR_KEYS)
    return dict(data)


def _refuse_templates(file, key, value, allow_base_dir=False):
    """Jinja is not evaluated: a value that needs it must be written out."""
    if isinstance(value, str):
        text = value.replace("{{ keepalived_base_dir }}", "") if allow_base_dir else value
        if "{{" in text or "{%" in text:
            raise AnsibleVarsError(
                f"{file}: {key} = {shown(key, value)}: Jinja expressions are not evaluated "
                "here; write the value itself (only {{ keepalived_base_dir }} in the path "
                "keys is understood)")
    elif isinstance(value, Mapping):
        for child, item in value.items():
            _refuse_templates(file, f"{key}.{child}", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_templates(file, f"{key}[{index}]", item)


def _pyinfra_data(variables):
    return {CONNECTION_KEYS.get(key, key): value for key, value in variables.items()}
