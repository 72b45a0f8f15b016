"""Migration: host_vars/ and group_vars/ written for the Ansible role, loaded unchanged
(pyinfra_keepalived.model.ansible_vars), validated and rendered like the Python example.

tests/ansible_role/ holds the seed README's own YAML examples, verbatim.
"""

import difflib
import os
import re

import pytest
from pyinfra.api import Config, Inventory, State

from pyinfra_keepalived import host_paths
from pyinfra_keepalived.model.ansible_vars import (
    AnsibleVarsError,
    ansible_group,
    load_vars,
)
from pyinfra_keepalived.model.fleet import check_hosts, check_inventory
from pyinfra_keepalived.render import config as render

from .seed import SEED_HOSTS

pytestmark = pytest.mark.unit

ROLE_DIR = os.path.join(os.path.dirname(__file__), "ansible_role")
REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED_README = "/work/shared/seed/keepalived-role-README.ja.md"
NAMES = ["host-01", "host-02"]


@pytest.fixture(autouse=True)
def away_from_the_repo_group_data(tmp_path, monkeypatch):
    """Run where no group_data/jump_hosts.py is (the repo's example would shadow the YAML;
    test_group_data_file_that_would_override_the_yaml_is_an_error goes back there)."""
    monkeypatch.chdir(tmp_path)


def role_hosts():
    """(name, data) of each host as pyinfra would merge it: group vars, then host vars."""
    hosts, group_data = ansible_group("jump_hosts", NAMES, vars_dir=ROLE_DIR)
    return [(name, {**group_data, **data}) for name, data in hosts]


def rendered(hosts):
    settings = check_hosts(hosts, warn=lambda message: None)
    return {name: render.config_files(settings[name]) for name in settings}


@pytest.mark.skipif(not os.path.exists(SEED_README), reason="seed README not on this machine")
def test_fixtures_are_the_seed_readme_examples_verbatim():
    blocks = re.findall(r"```yaml\n(.*?)```", open(SEED_README).read(), re.S)
    host_vars = [block for block in blocks if block.startswith("# host-01")][0]
    split = host_vars.index("# host-02")

    def fixture(*parts):
        return open(os.path.join(ROLE_DIR, *parts)).read()

    assert fixture("host_vars", "host-01.yml") == host_vars[:split].rstrip("\n") + "\n"
    assert fixture("host_vars", "host-02.yml") == host_vars[split:]
    assert fixture("group_vars", "jump_hosts.yml") in blocks


def test_seed_yaml_loads_as_the_role_wrote_it():
    hosts, group_data = ansible_group("jump_hosts", NAMES, vars_dir=ROLE_DIR)
    assert group_data == {"keepalived_check_scripts": [{
        "name": "check_ssh.sh", "template": "check_systemd_service.sh.j2",
        "vrrp_name": "check_ssh", "service_name": "ssh.service", "interval": 2,
        "weight": -10}]}
    assert [name for name, _ in hosts] == NAMES
    assert hosts[1][1]["keepalived_vrrp_instances"][0] == {
        "name": "VI_1", "interface": "eth0", "state": "BACKUP", "virtual_router_id": 51,
        "priority": 90, "virtual_ipaddresses": ["192.168.1.100/24"],
        "track_scripts": ["check_ssh"]}


def test_seed_yaml_validates_with_only_the_known_weight_warning():
    warnings = []
    settings = check_hosts(role_hosts(), warn=warnings.append)
    assert sorted(settings) == NAMES
    assert len(warnings) == 1, warnings
    assert "host-01: keepalived_check_scripts[0].weight = -10" in warnings[0]
    assert "the VIP never moves" in warnings[0] and "Use weight -11 or lower" in warnings[0]


def test_seed_yaml_renders_the_python_example_but_for_its_two_documented_differences():
    """group_data/jump_hosts.py is the same cluster with auth_pass set (as in the seed's
    manual steps) and weight -20 (-10 never fails over): nothing else differs."""
    from_yaml, from_python = rendered(role_hosts()), rendered(SEED_HOSTS)
    for name in NAMES:
        assert from_yaml[name].keys() == from_python[name].keys()
        changed = {}
        for path, file in from_python[name].items():
            diff = [line for line in difflib.unified_diff(
                file.content.splitlines(), from_yaml[name][path].content.splitlines(),
                lineterm="", n=0) if line[:1] in "+-" and line[:3] not in ("---", "+++")]
            if diff:
                changed[os.path.basename(path)] = diff
        assert changed == {
            "10-vrrp_scripts.conf": ["-    weight   -20", "+    weight   -10"],
            "20-vrrp_instances.conf": [
                "-", "-    authentication {", "-        auth_type PASS",
                "-        auth_pass 1234", "-    }"],
            "agreement-VI_1.txt": ["-auth_type PASS", "-auth_pass 1234", "+auth_type None",
                                   "+auth_pass None"],
        }, changed


def test_seed_yaml_with_the_two_fixes_renders_the_python_example_exactly():
    hosts = role_hosts()
    for _, data in hosts:
        data["keepalived_check_scripts"] = [{**data["keepalived_check_scripts"][0],
                                             "weight": -20}]
        data["keepalived_vrrp_instances"] = [{**data["keepalived_vrrp_instances"][0],
                                              "auth_type": "PASS", "auth_pass": "1234"}]
    from_yaml, from_python = rendered(hosts), rendered(SEED_HOSTS)
    for name in NAMES:
        assert {path: file.content for path, file in from_yaml[name].items()} == \
            {path: file.content for path, file in from_python[name].items()}


def test_both_carry_the_drain_the_role_never_rendered():
    """What the role's own templates would write differs from both in one block: the
    deploy's drains (track_files, see pyinfra_keepalived/render/config.py): the host's, which
    rolling restarts use, and the instance's, which the drill uses."""
    for name, files in rendered(role_hosts()).items():
        scripts = files["/etc/keepalived/conf.d/10-vrrp_scripts.conf"].content
        instances = files["/etc/keepalived/conf.d/20-vrrp_instances.conf"].content
        assert f'track_file pyinfra_drain {{\n    file   "{host_paths.DRAIN_FILE}"\n' \
               "    weight 1\n}\n" in scripts
        assert (f'track_file pyinfra_drain_VI_1 {{\n    file   "{host_paths.DRAIN_FILE}.VI_1"\n'
                "    weight 1\n}\n") in scripts
        assert ("    track_file {\n        pyinfra_drain\n        pyinfra_drain_VI_1\n    }\n"
                in instances)


def test_a_pyinfra_inventory_built_from_the_yaml():
    hosts, group_data = ansible_group("jump_hosts", NAMES, vars_dir=ROLE_DIR)
    inventory = Inventory((hosts, {}), jump_hosts=(NAMES, group_data))
    State(inventory, Config())
    settings = check_inventory(inventory)
    assert [settings[name].instances[0].priority for name in NAMES] == [100, 90]
    assert settings["host-01"].scripts[0].weight == -10


# -- the loader's own rules --

def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_precedence_and_directories_and_connection_keys(tmp_path):
    write(tmp_path / "group_vars" / "all.yml", "keepalived_state: BACKUP\nx: all\ny: all\n")
    write(tmp_path / "group_vars" / "lb.yaml", "x: group\n")
    write(tmp_path / "host_vars" / "a" / "10-main.yml",
          "ansible_host: 10.0.0.5\nansible_user: ops\nansible_become: true\ny: host\n")
    write(tmp_path / "host_vars" / "a" / "20-more.yaml", "y: host2\n")
    write(tmp_path / "host_vars" / "a" / "notes.txt", "not: read\n")
    hosts, group_data = ansible_group("lb", ["a", "b"], vars_dir=str(tmp_path))
    assert group_data == {"keepalived_state": "BACKUP", "x": "group", "y": "all"}
    assert hosts == [("a", {"ssh_hostname": "10.0.0.5", "ssh_user": "ops", "_sudo": True,
                            "y": "host2"}),
                     ("b", {})]


def test_empty_and_missing_files(tmp_path):
    write(tmp_path / "empty.yml", "# nothing yet\n")
    assert load_vars(str(tmp_path / "empty")) == {}
    assert load_vars(str(tmp_path / "missing")) == {}


def test_base_dir_template_of_the_role_is_kept_and_resolved(tmp_path):
    write(tmp_path / "group_vars" / "all.yml",
          'keepalived_base_dir: /etc/ka\n'
          'keepalived_config_dir: "{{ keepalived_base_dir }}/conf.d"\n')
    _, group_data = ansible_group("lb", [], vars_dir=str(tmp_path))
    hosts = [(name, {**group_data, **data}) for name, data in role_hosts()]
    settings = check_hosts(hosts, warn=lambda message: None)
    assert settings["host-01"].paths.config_dir == "/etc/ka/conf.d"


@pytest.mark.parametrize("text, message", [
    ("keepalived_vrrp_instances:\n  - name: VI_1\n    interface: '{{ ansible_default_ipv4.interface }}'\n",
     "keepalived_vrrp_instances[0].interface = '{{ ansible_default_ipv4.interface }}': "
     "Jinja expressions are not evaluated here"),
    ("keepalived_global_defs:\n  router_id: \"{% if x %}a{% endif %}\"\n",
     "keepalived_global_defs.router_id = "),
    ("keepalived_base_dir: \"{{ keepalived_base_dir }}\"\n", "keepalived_base_dir = "),
    ("auth: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
     "ansible-vault values are not supported"),
    ("- just\n- a list\n", "must hold a mapping of variable names to values, not list"),
    ("key: [unclosed\n", "not valid YAML"),
])
def test_what_cannot_be_used_is_an_error_naming_the_file(tmp_path, text, message):
    write(tmp_path / "group_vars" / "lb.yml", text)
    with pytest.raises(AnsibleVarsError) as error:
        ansible_group("lb", [], vars_dir=str(tmp_path))
    assert str(error.value).startswith(str(tmp_path / "group_vars" / "lb.yml") + ": ")
    assert message in str(error.value)


@pytest.mark.parametrize("text, key", [
    ("keepalived_vrrp_instances:\n  - name: VI_1\n    auth_pass: 's3cr3t{{ x }}'\n",
     "keepalived_vrrp_instances[0].auth_pass"),
    ("my_api_token: 's3cr3t{{ x }}'\n", "my_api_token"),
    ("keepalived_global_defs:\n  extra_lines: ['auth_pass s3cr3t{{ x }}']\n",
     "keepalived_global_defs.extra_lines[0]"),
])
def test_a_secret_in_a_refused_template_is_never_printed(tmp_path, text, key):
    """The message names the key, as every validation message does through
    problems.shown: a secret's value is masked there, never printed."""
    write(tmp_path / "group_vars" / "lb.yml", text)
    with pytest.raises(AnsibleVarsError) as error:
        ansible_group("lb", [], vars_dir=str(tmp_path))
    assert f"{key} = " in str(error.value)
    assert "Jinja expressions are not evaluated here" in str(error.value)
    assert "s3cr3t" not in str(error.value)


def test_group_data_file_that_would_override_the_yaml_is_an_error(tmp_path, monkeypatch):
    """pyinfra lets group_data/<group>.py win over the inventory's group data: the repo's
    own example group_data/jump_hosts.py would silently replace the YAML's check script."""
    monkeypatch.chdir(REPO_DIR)  # with the example group_data/jump_hosts.py
    with pytest.raises(AnsibleVarsError) as error:
        ansible_group("jump_hosts", NAMES, vars_dir=ROLE_DIR)
    assert str(error.value) == (
        f"{REPO_DIR}/group_data/jump_hosts.py also sets "
        "keepalived_check_scripts for group 'jump_hosts', and pyinfra lets that file win over "
        "group_vars/jump_hosts.yml: remove those keys from it (or the file), or give the "
        "group another name")

    write(tmp_path / "group_data" / "lb.py", "ssh_user = 'ops'\n")  # no overlap: fine
    write(tmp_path / "group_vars" / "lb.yml", "keepalived_state: BACKUP\n")
    monkeypatch.chdir(tmp_path)
    assert ansible_group("lb", [], vars_dir=str(tmp_path))[1] == {"keepalived_state": "BACKUP"}
