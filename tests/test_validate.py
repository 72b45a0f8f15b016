"""Unit tests for the keepalived host-data validation (pyinfra_keepalived.model.validate, pyinfra_keepalived.model.peers).

Host data is plain dicts shaped like the seed example: group_data/jump_hosts.py's VI_1 and
check_ssh, with host-01 at priority 100 (MASTER) and host-02 at 90 (BACKUP). Every error is
asserted through str(problem): host, key path, value and what is allowed.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from pyinfra_keepalived.render.config import config_files, script_content

from .hostdata import (
    DROP,
    assert_error,
    assert_valid,
    check,
    check_fails,
    host,
    host_01,
    host_02,
    instance,
    read,
    script,
)

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[1]


# -- the seed example --------------------------------------------------------------------

def test_seed_example_is_valid_without_warnings():
    settings, warnings = check(("host-01", host_01()), ("host-02", host_02()))

    assert warnings == []
    vi_1 = settings["host-01"].instances[0], settings["host-02"].instances[0]
    assert [i.priority for i in vi_1] == [100, 90]
    assert [i.state for i in vi_1] == ["MASTER", "BACKUP"]
    assert [str(vip) for vip in vi_1[0].virtual_ipaddresses] == ["192.168.1.100/24"]
    assert settings["host-01"].scripts[0].weight == -20


# -- per-host rules: read_host -----------------------------------------------------------

@pytest.mark.parametrize("vrid, shown", [
    (0, "0"), (256, "256"), ("51", "'51'"), (True, "True"), (None, "None"),
], ids=["0", "256", "string", "bool", "null"])
def test_vrid_must_be_whole_number_1_to_255(vrid, shown):
    assert_error(host_01(virtual_router_id=vrid),
                 f"host-01: keepalived_vrrp_instances[0].virtual_router_id = {shown}: "
                 "must be a whole number 1-255")


def test_vrid_missing_is_required():
    """A missing key says it is required, with its description (reading.read_block)."""
    assert_error(host_01(virtual_router_id=DROP),
                 "host-01: keepalived_vrrp_instances[0].virtual_router_id: required: VRID, "
                 "the same on every peer")


@pytest.mark.parametrize("priority, shown", [
    (0, "0"), (256, "256"), ("100", "'100'"), (True, "True"),
], ids=["0", "256", "string", "bool"])
def test_priority_must_be_whole_number_1_to_255(priority, shown):
    assert_error(host_01(priority=priority),
                 f"host-01: keepalived_vrrp_instances[0].priority = {shown}: "
                 "must be a whole number 1-255 (255 only for the address owner)")


def test_priority_missing_is_an_error_naming_the_host_level_fallback():
    assert_error(host_01(priority=DROP),
                 "host-01: keepalived_vrrp_instances[0].priority = None: required: 1-255, "
                 "here or as keepalived_priority in the host's data")


def test_keepalived_priority_fills_in_and_instance_priority_wins():
    from_host = assert_valid({**host_01(priority=DROP), "keepalived_priority": 90})
    own = assert_valid({**host_01(priority=100), "keepalived_priority": 90})

    assert from_host.instances[0].priority == 90
    assert own.instances[0].priority == 100


def test_invalid_keepalived_priority_error_names_keepalived_priority():
    assert_error({**host_01(priority=DROP), "keepalived_priority": 0},
                 "host-01: keepalived_priority = 0: must be a whole number 1-255")


@pytest.mark.parametrize("set_on", ["instance", "keepalived_priority"])
def test_priority_255_with_track_scripts_is_an_error(set_on):
    data = host_01(priority=255 if set_on == "instance" else DROP)
    if set_on == "keepalived_priority":
        data["keepalived_priority"] = 255
    assert_error(data, "host-01: keepalived_vrrp_instances[0].priority = 255: 255 makes this "
                       "host the address owner, and keepalived then ignores track_scripts "
                       "weights; use 1-254")


def test_priority_255_without_track_scripts_is_only_a_warning():
    settings, errors, warnings = read(host_01(priority=255, track_scripts=[], scripts=[]))

    assert errors == []
    assert settings.instances[0].priority == 255
    assert any("host-01: keepalived_vrrp_instances[0].priority = 255: 255 marks the address "
               "owner" in warning and "use 1-254 otherwise" in warning for warning in warnings)


@pytest.mark.parametrize("state, suggestion", [("master", "MASTER"), ("backup", "BACKUP")])
def test_state_must_be_upper_case_with_did_you_mean(state, suggestion):
    assert_error(host_01(state=state),
                 f"host-01: keepalived_vrrp_instances[0].state = '{state}': must be one of "
                 f"MASTER, BACKUP (did you mean '{suggestion}'?)")


@pytest.mark.parametrize("instance_state, keepalived_state, expected", [
    (DROP, None, "MASTER"),
    (DROP, "BACKUP", "BACKUP"),
    ("MASTER", "BACKUP", "MASTER"),
], ids=["default", "keepalived_state-fallback", "instance-wins"])
def test_state_default_and_keepalived_state_fallback(instance_state, keepalived_state, expected):
    data = host_01(state=instance_state)
    if keepalived_state is not None:
        data["keepalived_state"] = keepalived_state

    assert assert_valid(data).instances[0].state == expected


def test_auth_type_must_be_pass_or_ah():
    assert_error(host_01(auth_type="md5"),
                 "host-01: keepalived_vrrp_instances[0].auth_type = 'md5': "
                 "must be one of PASS, AH")


@pytest.mark.parametrize("password", ["secret123", "se cret", ""],
                         ids=["9-characters", "space", "empty"])
def test_auth_pass_must_be_1_to_8_characters_and_is_never_shown(password):
    error = assert_error(host_01(auth_pass=password),
                         "host-01: keepalived_vrrp_instances[0].auth_pass = <hidden>: must be "
                         "1-8 characters without spaces, quotes, braces, # or ! (keepalived "
                         "silently truncates longer passwords)")
    if password:
        assert password not in error
        assert password not in str(check_fails(("host-01", host_01(auth_pass=password))))


@pytest.mark.parametrize("password", ["$_SEQ", "p$_PWD", "a$_RAND"])
def test_auth_pass_holds_no_parameter_of_keepalived(password):
    """keepalived substitutes its own parameters in auth_pass (2.2.7: a$_RANDOM became
    a21451): another password on each host, whose peers drop each other's adverts."""
    error = assert_error(host_01(auth_pass=password),
                         "host-01: keepalived_vrrp_instances[0].auth_pass = <hidden>: must "
                         "not hold $_: keepalived substitutes its own parameters there "
                         "($_RANDOM, $_PWD, ...), another password on each host")
    assert password not in error


@pytest.mark.parametrize("password", ["a$b", "$x_y", "p_$"])
def test_auth_pass_may_hold_a_dollar_that_is_no_parameter_of_keepalived(password):
    """keepalived substitutes only its own ($_NAME) and defined parameters: a `$` else is
    the password's."""
    assert_valid(host_01(auth_pass=password))


@pytest.mark.parametrize("auth_type", ["PASS", "AH"])
def test_auth_type_without_auth_pass_is_an_error(auth_type):
    assert_error(host_01(auth_type=auth_type, auth_pass=DROP),
                 f"host-01: keepalived_vrrp_instances[0].auth_pass = None: "
                 f"required with auth_type {auth_type}")


def test_auth_pass_without_auth_type_defaults_to_pass():
    vi_1 = assert_valid(host_01(auth_type=DROP)).instances[0]

    assert (vi_1.auth_type, vi_1.auth_pass) == ("PASS", "1234")


def test_integer_auth_pass_is_accepted_as_string():
    assert assert_valid(host_01(auth_pass=1234)).instances[0].auth_pass == "1234"


@pytest.mark.parametrize("vips, expected", [
    (["192.168.1.300/24"], "virtual_ipaddresses[0] = '192.168.1.300/24': must be an IPv4 or "
                           "IPv6 address with a prefix, e.g. 192.168.1.100/24"),
    (["192.168.1.0/24"], "virtual_ipaddresses[0] = '192.168.1.0/24': is the network or "
                         "broadcast address of its subnet"),
    (["192.168.1.255/24"], "virtual_ipaddresses[0] = '192.168.1.255/24': is the network or "
                           "broadcast address of its subnet"),
    (["192.168.1.100/24", "2001:db8::100/64"],
     "virtual_ipaddresses = ['192.168.1.100/24', '2001:db8::100/64']: mixes IPv4 and IPv6"),
    (["192.168.1.100/24", "192.168.1.100/24"],
     "virtual_ipaddresses = ['192.168.1.100/24', '192.168.1.100/24']: "
     "lists 192.168.1.100 twice"),
    ([], "virtual_ipaddresses = []: required: at least one virtual IP address"),
    ("192.168.1.100/24", "virtual_ipaddresses = '192.168.1.100/24': must be a list"),
], ids=["invalid", "network-address", "broadcast-address", "mixed-families", "duplicate",
        "empty", "not-a-list"])
def test_virtual_ipaddresses_errors(vips, expected):
    assert_error(host_01(virtual_ipaddresses=vips),
                 f"host-01: keepalived_vrrp_instances[0].{expected}")


def test_vip_without_prefix_is_a_warning_not_an_error():
    settings, errors, warnings = read(host_01(virtual_ipaddresses=["192.168.1.100"]))

    assert errors == []
    assert [str(vip) for vip in settings.instances[0].virtual_ipaddresses] == ["192.168.1.100"]
    assert any("host-01: keepalived_vrrp_instances[0].virtual_ipaddresses[0] = "
               "'192.168.1.100': no prefix: keepalived adds it as /32" in warning
               and "e.g. 192.168.1.100/24" in warning for warning in warnings)


def test_empty_vip_list_is_reported_alongside_other_errors():
    data = host_01(virtual_ipaddresses=[])
    data["keepalived_check_script_user"] = "not a user"  # an unrelated error, read earlier

    assert_error(data, "host-01: keepalived_vrrp_instances[0].virtual_ipaddresses = []: "
                       "required: at least one virtual IP address")


@pytest.mark.parametrize("interface", ["eth0/x", "e" * 16, "a b", "eth0:1", "@host-01"],
                         ids=["slash", "16-characters", "space", "colon", "leading-at"])
def test_interface_must_be_a_valid_name(interface):
    assert_error(host_01(interface=interface),
                 f"host-01: keepalived_vrrp_instances[0].interface = '{interface}': must be an "
                 "interface name: 1-15 letters, digits and _ . @ - (no spaces, / or :; not "
                 "starting with @)")


@pytest.mark.parametrize("interface", ["eth0", "e" * 15, "bond0.100", "veth1@if2"])
def test_valid_interface_names_are_accepted(interface):
    assert assert_valid(host_01(interface=interface)).instances[0].interface == interface


def test_instance_names_must_be_unique():
    second = instance(priority=100, virtual_router_id=52,
                      virtual_ipaddresses=["192.168.1.101/24"])
    assert_error(host(instances=[instance(priority=100), second]),
                 "host-01: keepalived_vrrp_instances[1].name = 'VI_1': duplicates "
                 "keepalived_vrrp_instances[0]; instance names must be unique")


def _two_instances(second_interface):
    vi_2 = instance(name="VI_2", priority=100, interface=second_interface,
                    virtual_ipaddresses=["192.168.1.101/24"])
    return host(instances=[instance(priority=100), vi_2])


def test_same_vrid_on_same_interface_is_an_error():
    assert_error(_two_instances("eth0"),
                 "host-01: keepalived_vrrp_instances[1].virtual_router_id = 51: VI_1 already "
                 "uses VRID 51 for IPv4 on eth0; each needs its own VRID (1-255)")


def test_same_vrid_on_different_interfaces_is_fine():
    settings = assert_valid(_two_instances("eth1"))

    assert [i.virtual_router_id for i in settings.instances] == [51, 51]


@pytest.mark.parametrize("tracked", ["check_sh", "check_ssh.sh"])
def test_track_scripts_must_name_a_defined_script(tracked):
    assert_error(host_01(track_scripts=[tracked]),
                 f"host-01: keepalived_vrrp_instances[0].track_scripts[0] = '{tracked}': names "
                 "no check script in keepalived_check_scripts (track by their vrrp_name) "
                 "(did you mean 'check_ssh'?); defined: check_ssh")


@pytest.mark.parametrize("weight", [-254, 254])
def test_weight_outside_253_is_an_error(weight):
    assert_error(host_01(scripts=[script(weight=weight)]),
                 f"host-01: keepalived_check_scripts[0].weight = {weight}: "
                 "must be a whole number -253-253")


@pytest.mark.parametrize("weight", [-253, 253])
def test_weight_253_is_accepted(weight):
    assert assert_valid(host_01(scripts=[script(weight=weight)])).scripts[0].weight == weight


@pytest.mark.parametrize("key, value, allowed", [
    ("interval", 0, "must be a whole number of seconds 1-4294"),
    ("interval", -1, "must be a whole number of seconds 1-4294"),
    ("fall", 0, "must be a whole number 1 or more"),
    ("rise", 0, "must be a whole number 1 or more"),
])
def test_script_timing_must_be_positive(key, value, allowed):
    assert_error(host_01(scripts=[script(**{key: value})]),
                 f"host-01: keepalived_check_scripts[0].{key} = {value}: {allowed}")


def _renamed_instances_key():
    data = host_01()
    data["keepalived_vrrp_instanes"] = data.pop("keepalived_vrrp_instances")
    return data


@pytest.mark.parametrize("make_data, key, suggestion, allowed_start", [
    (_renamed_instances_key, "keepalived_vrrp_instanes",
     "keepalived_vrrp_instances", "keepalived_base_dir, "),
    (lambda: host_01(advrt_int=1), "keepalived_vrrp_instances[0].advrt_int",
     "advert_int", "name, interface, "),
    (lambda: host_01(scripts=[script(wieght=-20)]), "keepalived_check_scripts[0].wieght",
     "weight", "name, template, "),
    (lambda: {**host_01(), "keepalived_global_defs": {"router_idd": "lb1"}},
     "keepalived_global_defs.router_idd", "router_id", "router_id, "),
], ids=["top-level", "instance", "script", "global_defs"])
def test_unknown_keys_are_errors_with_did_you_mean(make_data, key, suggestion, allowed_start):
    """The key and the "did you mean", not the value: an unknown key may be a misspelt
    secret (tests/test_secrets.py)."""
    assert_error(make_data(), f"host-01: {key}: unknown key (did you mean '{suggestion}'?); "
                              f"allowed: {allowed_start}")


@pytest.mark.parametrize("advert_int, allowed", [
    (0.5, "VRRPv2 adverts are whole seconds 1-255"),
    (1.5, "VRRPv2 adverts are whole seconds 1-255"),
    (256, "VRRPv2 adverts are whole seconds 1-255"),
    (0, "must be a number of seconds greater than 0"),
    ("1", "must be a number of seconds greater than 0"),
])
def test_advert_int_must_be_whole_seconds(advert_int, allowed):
    assert_error(host_01(advert_int=advert_int),
                 f"host-01: keepalived_vrrp_instances[0].advert_int = {advert_int!r}: {allowed}")


def test_template_variable_missing_is_an_error_on_template():
    assert_error(host_01(scripts=[script(service_name=DROP)]),
                 "host-01: keepalived_check_scripts[0].template = 'check_systemd_service.sh.j2': "
                 "the template needs a value that is not set ('service_name' is undefined)")


def test_template_variable_may_come_from_vars():
    data = host_01(scripts=[script(service_name=DROP, vars={"service_name": "ssh.service"})])

    assert "ssh.service" in script_content(assert_valid(data).scripts[0])


@pytest.mark.parametrize("template, expected", [
    ("check_nothing.sh.j2", ".template = 'check_nothing.sh.j2': template not found in "),
    (DROP, ": needs exactly one of template (a template name, e.g. "
           "check_systemd_service.sh.j2) or check_script (a command, e.g. \"pgrep -x "
           "haproxy\")"),
], ids=["unknown", "missing"])
def test_template_must_exist(template, expected):
    error = assert_error(host_01(scripts=[script(template=template)]),
                         f"host-01: keepalived_check_scripts[0]{expected}")

    assert "check_systemd_service.sh.j2" in error  # names what is shipped


# -- check scripts given as a command (model.commands) --

def command_script(check_script, **overrides):
    return script(**{"template": DROP, "service_name": DROP, "name": "check_haproxy",
                     "vrrp_name": DROP, "check_script": check_script, **overrides})


def commanded(check_script, **overrides):
    return host_01(scripts=[command_script(check_script, **overrides)],
                   track_scripts=["check_haproxy"])


@pytest.mark.parametrize("given, rendered", [
    ("killall -0 haproxy", "killall -0 haproxy"),
    ("/usr/bin/pgrep   asterisk", "/usr/bin/pgrep asterisk"),
    ("/usr/local/bin/check_mysql.sh --primary --max-lag 30",
     "/usr/local/bin/check_mysql.sh --primary --max-lag 30"),
    ("test -e /run/a$b:c=d,e", "test -e /run/a$b:c=d,e"),
])
def test_check_script_may_be_a_command(given, rendered):
    settings = assert_valid(commanded(given))

    checks = settings.scripts[0]
    assert (checks.check_script, checks.path, checks.vrrp_name) == (rendered, None,
                                                                    "check_haproxy")
    files = config_files(settings)
    assert not any(path.endswith("check_haproxy") for path in files)  # no file of it
    conf = files["/etc/keepalived/conf.d/10-vrrp_scripts.conf"].content
    assert f'    script   "{rendered}"\n' in conf


def test_a_bare_program_is_rendered_as_the_host_resolved_it():
    settings = assert_valid(commanded("killall -0 haproxy", extra_lines=["init_fail"]))

    files = config_files(settings, {"killall": "/usr/bin/killall", "haproxy": "/x"})
    conf = files["/etc/keepalived/conf.d/10-vrrp_scripts.conf"].content
    assert '    script   "/usr/bin/killall -0 haproxy"\n' in conf  # (not the argument)


ARGUMENT_RULE = ("must be a single word without quotes, backslashes, braces, # or ! (for "
                 "more, write a script file: template or content)")


@pytest.mark.parametrize("given, message", [
    ("pgrep 'haproxy'", f"argument \"'haproxy'\" {ARGUMENT_RULE}"),
    ('pgrep "a b"', f"argument '\"a' {ARGUMENT_RULE}"),
    ("pgrep a#b", f"argument 'a#b' {ARGUMENT_RULE}"),
    ("pgrep !x", f"argument '!x' {ARGUMENT_RULE}"),
    ("pgrep x}", f"argument 'x}}' {ARGUMENT_RULE}"),
    ("pgrep a\\b", f"argument 'a\\\\b' {ARGUMENT_RULE}"),
    ("../bin/pgrep x", "the program '../bin/pgrep' must be an absolute path or a name of "
                       "letters, digits and _ . + - (not starting with . + or -)"),
    ("-x pgrep", "the program '-x' must be an absolute path or a name of letters, digits "
                 "and _ . + - (not starting with . + or -)"),
    ("/usr/bin/../bin/pgrep", "the program '/usr/bin/../bin/pgrep' must be a normalised "
                              "absolute path of letters, digits and _ . + - /, or a name "
                              "found on the host's PATH"),
    ("", "must be a command: a program (an absolute path, or a name found on the host's "
         "PATH /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin) and its "
         "arguments, each a single word without quotes, backslashes, braces, # or ! (for "
         "more, write a script file: template or content)"),
    ("pgrep\nx", "must be one line, its words separated by spaces (no tab or newline)"),
    ("pgrep a\x00b", "argument 'a\\x00b' must be a single word"),
    # keepalived 2.2.7 ran `script "/bin/true $_INSTANCE ${_RANDOM} $_PWD $NOPE"` as
    # '/usr/bin/true' 'a2id' '10925' '/tmp/a2k' '$NOPE' (its --dump-conf)
    ("pgrep $_INSTANCE", "argument '$_INSTANCE': keepalived replaces $_NAME by a parameter "
                         "of its own ($_INSTANCE, $_RANDOM, $_PWD, ...), so the program would "
                         "not get this word (for a $_ in an argument, write a script file: "
                         "template or content)"),
    ("/usr/bin/test -d x$_PWD", "argument 'x$_PWD': keepalived replaces $_NAME"),
])
def test_check_script_command_errors(given, message):
    assert_error(commanded(given),
                 f"host-01: keepalived_check_scripts[0].check_script = {given!r}: {message}")


@pytest.mark.parametrize("overrides, key, message", [
    ({"template": "check_systemd_service.sh.j2"}, "",
     ": needs exactly one of template (a template name, e.g. check_systemd_service.sh.j2) or "
     "check_script"),
    ({"service_name": "ssh.service"}, ".service_name",
     " = 'ssh.service': is for a template: a check_script gets its values as arguments"),
    ({"vars": {"port": 22}}, ".vars",
     " = {'port': 22}: is for a template: a check_script gets its values as arguments"),
])
def test_check_script_is_a_command_or_a_template(overrides, key, message):
    assert_error(commanded("pgrep haproxy", **overrides),
                 f"host-01: keepalived_check_scripts[0]{key}{message}")


@pytest.mark.parametrize("config_dir", ["/etc/other/conf.d", "/etc/keepalived"])
def test_config_dir_outside_base_dir_is_an_error(config_dir):
    assert_error({**host_01(), "keepalived_config_dir": config_dir},
                 f"host-01: keepalived_config_dir = '{config_dir}': must be inside "
                 "keepalived_base_dir (/etc/keepalived)")


def test_config_dir_cannot_escape_base_dir_with_dotdot():
    assert_error({**host_01(), "keepalived_config_dir": "/etc/keepalived/../../tmp"},
                 "host-01: keepalived_config_dir = '/etc/keepalived/../../tmp': must be "
                 "a normalised absolute path (no . or .. parts)")


@pytest.mark.parametrize("base_dir, config_dir, expected", [
    (None, "{{ keepalived_base_dir }}/conf.d", "/etc/keepalived/conf.d"),
    ("/opt/keepalived", "{{ keepalived_base_dir }}/conf.d", "/opt/keepalived/conf.d"),
    ("/opt/keepalived", "{{keepalived_base_dir}}/conf.d", "/opt/keepalived/conf.d"),
])
def test_ansible_style_base_dir_default_is_accepted(base_dir, config_dir, expected):
    data = {**host_01(), "keepalived_config_dir": config_dir}
    if base_dir is not None:
        data["keepalived_base_dir"] = base_dir

    assert assert_valid(data).paths.config_dir == expected


@pytest.mark.parametrize("make_data, key", [
    (lambda: host_01(track_scripts=[{"name": "check_ssh"}]),
     "keepalived_vrrp_instances[0].track_scripts[0]"),
    (lambda: host_01(scripts=[script(vrrp_name=["check_ssh"])]),
     "keepalived_check_scripts[0].vrrp_name"),
], ids=["track_scripts-mapping", "vrrp_name-list"])
def test_unhashable_values_are_reported_not_crashed_on(make_data, key):
    assert_error(make_data(), f"host-01: {key} = ")


def test_infinite_advert_int_is_reported_not_crashed_on():
    assert_error(host_01(advert_int=float("inf")),
                 "host-01: keepalived_vrrp_instances[0].advert_int = inf")


# -- across hosts: check_hosts -----------------------------------------------------------

@pytest.mark.parametrize("attribute, value, shown, first_shown", [
    ("virtual_router_id", 52, "52", "51"),
    ("virtual_ipaddresses", ["192.168.1.101/24"], "['192.168.1.101/24']",
     "['192.168.1.100/24']"),
    ("advert_int", 2, "2", "1"),
    ("auth_type", "AH", "'AH'", "PASS"),
    ("auth_pass", "s3cr3tB", "<hidden>", "<hidden>"),
])
def test_peers_must_agree(attribute, value, shown, first_shown):
    second = host_02(auth_pass="s3cr3tA")
    second["keepalived_vrrp_instances"][0][attribute] = value

    error = check_fails(("host-01", host_01(auth_pass="s3cr3tA")), ("host-02", second))

    assert [problem.host for problem in error.errors] == ["host-02"]
    assert str(error.errors[0]).startswith(
        f"host-02: keepalived_vrrp_instances[0].{attribute} = {shown}: "
        f"differs from host-01's VI_1 ({first_shown}): ")
    assert "use the same value on every host" in str(error.errors[0])
    assert "s3cr3t" not in str(error)


@pytest.mark.parametrize("overrides", [
    {"virtual_ipaddresses": ["192.168.1.101/24", "192.168.1.100/24"]},
    {"auth_pass": 1234},
], ids=["vip-order", "int-auth_pass"])
def test_peers_agree_when_only_the_spelling_differs(overrides):
    first = host_01(virtual_ipaddresses=["192.168.1.100/24", "192.168.1.101/24"])
    second = host_02(virtual_ipaddresses=["192.168.1.100/24", "192.168.1.101/24"])
    second["keepalived_vrrp_instances"][0].update(overrides)

    settings, _ = check(("host-01", first), ("host-02", second))

    assert set(settings) == {"host-01", "host-02"}


# Peers are matched by name, by unicast addresses, and by VRID on a shared VIP network
# (pyinfra_keepalived.model.peers): (host-01's instance overrides, host-02's, exact errors of the run).
RENAMED = ("host-02: keepalived_vrrp_instances[0].name = 'VI1': is host-01's VI_1 under "
           "another name ({why}): keepalived pairs them, but status.py, drill.py and "
           'unicast_peers: "inventory" find the hosts of an instance by its name; use the '
           "same name on every host")
SAME_NETWORK = "same VRID 51 and VIP network 192.168.1.0/24"
UNICAST_1 = {"unicast_src_ip": "192.168.1.11", "unicast_peers": ["192.168.1.12"]}
UNICAST_2 = {"unicast_src_ip": "192.168.1.12", "unicast_peers": ["192.168.1.11"]}


@pytest.mark.parametrize("first, second, errors", [
    ({}, {"name": "VI1"}, [RENAMED.format(why=SAME_NETWORK)]),
    ({}, {"name": "VI1", "virtual_ipaddresses": ["192.168.1.101/24"]}, [
        RENAMED.format(why=SAME_NETWORK),
        "host-02: keepalived_vrrp_instances[0].virtual_ipaddresses = ['192.168.1.101/24']: "
        "differs from host-01's VI_1 (['192.168.1.100/24']): peers would move different "
        "addresses; use the same value on every host"]),
    ({"auth_pass": "s3cr3tA"}, {"name": "VI1", "auth_pass": "s3cr3tB"}, [
        RENAMED.format(why=SAME_NETWORK),
        "host-02: keepalived_vrrp_instances[0].auth_pass = <hidden>: differs from "
        "host-01's VI_1 (<hidden>): peers reject each other's adverts: both become MASTER; "
        "use the same value on every host"]),
    # a /16 VIP beside a /24 one inside it: the wider network is the one they share
    ({"virtual_ipaddresses": ["192.168.1.100/16"]}, {"name": "VI1"}, [
        RENAMED.format(why="same VRID 51 and VIP network 192.168.0.0/16"),
        "host-02: keepalived_vrrp_instances[0].virtual_ipaddresses = ['192.168.1.100/24']: "
        "differs from host-01's VI_1 (['192.168.1.100/16']): peers would move different "
        "addresses; use the same value on every host"]),
    # interface names are not compared across hosts
    ({}, {"name": "VI1", "interface": "ens18"}, [RENAMED.format(why=SAME_NETWORK)]),
    # unicast peers hear each other whatever their VRIDs and networks
    (UNICAST_1, {"name": "VI1", "virtual_router_id": 52,
                 "virtual_ipaddresses": ["192.168.2.100/24"], **UNICAST_2}, [
        RENAMED.format(why="unicast: 192.168.1.12 sends its adverts to 192.168.1.11"),
        "host-02: keepalived_vrrp_instances[0].virtual_router_id = 52: differs from "
        "host-01's VI_1 (51): peers with different VRIDs ignore each other: both become "
        "MASTER; use the same value on every host",
        "host-02: keepalived_vrrp_instances[0].virtual_ipaddresses = ['192.168.2.100/24']: "
        "differs from host-01's VI_1 (['192.168.1.100/24']): peers would move different "
        "addresses; use the same value on every host"]),
    # one unicast, one multicast, same VRID and network: they are meant as peers
    (UNICAST_1, {"name": "VI1"}, [
        RENAMED.format(why=SAME_NETWORK),
        "host-02: keepalived_vrrp_instances[0].unicast_peers = 'multicast': differs from "
        "host-01's VI_1 (unicast): a multicast peer never hears a unicast one: both become "
        "MASTER; use the same value on every host"]),
], ids=["renamed", "renamed-other-vip", "renamed-other-password", "wider-prefix",
        "other-interface-name", "unicast-other-vrid", "unicast-beside-multicast"])
def test_peers_are_matched_by_vrid_and_network_not_only_by_name(first, second, errors):
    error = check_fails(("host-01", host_01(**first)), ("host-02", host_02(**second)))

    assert [str(problem) for problem in error.errors] == errors
    assert "s3cr3t" not in str(error)


def alone(host, name, vrid, network, index=0):
    return (f"keepalived data warning: {host}: keepalived_vrrp_instances[{index}].name = "
            f"{name!r}: {name} (VRID {vrid} on {network}) is on {host} only: no other host "
            "of the inventory has an instance of that name, or of that VRID on that network, "
            "so nothing takes over its VIPs when it fails; add it to the hosts meant to back "
            "it up, or ignore this if its backup is outside this inventory")


@pytest.mark.parametrize("second, warnings", [
    ({"name": "VI1", "virtual_ipaddresses": ["10.0.0.100/24"]},
     [alone("host-01", "VI_1", 51, "192.168.1.0/24"), alone("host-02", "VI1", 51, "10.0.0.0/24")]),
    ({"name": "VI1", "virtual_router_id": 52},
     [alone("host-01", "VI_1", 51, "192.168.1.0/24"),
      alone("host-02", "VI1", 52, "192.168.1.0/24")]),
    ({"name": "VI1", "virtual_ipaddresses": ["2001:db8::100/64"], "auth_type": DROP,
      "auth_pass": DROP},
     [alone("host-01", "VI_1", 51, "192.168.1.0/24"),
      alone("host-02", "VI1", 51, "2001:db8::/64")]),
    # both unicast, neither sending to the other: separate routers despite VRID and network
    ({"name": "VI1", "unicast_src_ip": "192.168.1.21", "unicast_peers": ["192.168.1.22"]},
     [alone("host-01", "VI_1", 51, "192.168.1.0/24"),
      alone("host-02", "VI1", 51, "192.168.1.0/24")]),
], ids=["other-network", "other-vrid", "other-family", "unicast-to-others"])
def test_instances_no_other_host_shares_are_a_warning(second, warnings):
    first = host_01(**UNICAST_1) if "unicast_peers" in second else host_01()
    settings, given = check(("host-01", first), ("host-02", host_02(**second)))

    assert set(settings) == {"host-01", "host-02"}
    assert [warning for warning in given if "is on host-0" in warning] == warnings


def test_an_instance_of_one_host_among_shared_ones_is_a_warning():
    vi_2 = instance(name="VI_2", priority=100, virtual_router_id=52,
                    virtual_ipaddresses=["192.168.1.101/24"])
    _, warnings = check(("host-01", host(instances=[instance(priority=100), vi_2])),
                        ("host-02", host_02()))

    assert [w for w in warnings if "only" in w] == [
        alone("host-01", "VI_2", 52, "192.168.1.0/24", index=1)]


def test_a_single_host_inventory_gives_no_alone_warning():
    _, warnings = check(("host-01", host_01()))

    assert warnings == []


def test_same_vrid_for_the_other_family_on_one_interface_is_fine():
    vi_6 = instance(name="VI_6", priority=100, virtual_ipaddresses=["2001:db8::100/64"],
                    auth_type=DROP, auth_pass=DROP)
    settings = assert_valid(host(instances=[instance(priority=100), vi_6]))

    assert [i.family for i in settings.instances] == [4, 6]


def test_equal_priorities_is_a_warning():
    _, warnings = check(("host-01", host_01()), ("host-02", host(100, "BACKUP")))

    assert any("host-02: keepalived_vrrp_instances[0].priority = 100: VI_1 has the same "
               "effective priority 100 on host-01" in warning for warning in warnings)


def test_seed_role_weight_minus_10_warns_that_the_vip_never_moves():
    weak = [script(weight=-10)]
    _, warnings = check(("host-01", host_01(scripts=weak)), ("host-02", host_02(scripts=weak)))

    matching = [w for w in warnings if "host-01: keepalived_check_scripts[0].weight = -10" in w]
    assert len(matching) == 1
    assert "drops from 100 to 90, not below host-02's 90" in matching[0]
    assert "the VIP never moves" in matching[0]
    assert "weight -11" in matching[0]


@pytest.mark.parametrize("weight", [-20, -11, DROP], ids=["-20", "-11", "none-means-fault"])
def test_weight_that_moves_the_vip_gives_no_warning(weight):
    scripts = [script(weight=weight)]
    _, warnings = check(("host-01", host_01(scripts=scripts)),
                        ("host-02", host_02(scripts=scripts)))

    assert not [w for w in warnings if "never moves" in w]


def test_data_error_says_no_host_was_changed_and_lists_every_error():
    error = check_fails(("host-01", host_01(virtual_router_id=0, priority=0,
                                            interface="eth0/x")))

    assert len(error.errors) == 3
    assert "(3 error(s)); no host was changed" in str(error)
    for problem in error.errors:
        assert f"  - {problem}" in str(error)


def test_errors_of_all_hosts_are_reported_together():
    error = check_fails(("host-01", host_01(virtual_router_id=256)),
                        ("host-02", host_02(state="backup")))

    message = str(error)
    assert "host-01: keepalived_vrrp_instances[0].virtual_router_id = 256" in message
    assert "host-02: keepalived_vrrp_instances[0].state = 'backup'" in message
    assert {problem.host for problem in error.errors} == {"host-01", "host-02"}


# -- purity ------------------------------------------------------------------------------

INVALID_HOSTS = [
    host_01(virtual_router_id=0),
    host_01(priority=DROP),
    host_01(state="master"),
    host_01(auth_pass="secret123"),
    host_01(virtual_ipaddresses=["192.168.1.0/24"]),
    host_01(interface="a b"),
    host_01(track_scripts=["check_sh"]),
    host_01(advert_int=0.5),
    host_01(advrt_int=1),
    host_01(scripts=[script(weight=254)]),
    host_01(scripts=[script(service_name=DROP)]),
    host_01(scripts=[script(template="check_nothing.sh.j2")]),
    {**host_01(), "keepalived_config_dir": "/etc/other"},
    {**host_01(), "keepalived_global_defs": {"router_idd": "lb1"}},
]

PURITY_CHECK = """
import ast, sys
from pyinfra.context import ctx_config, ctx_host, ctx_inventory, ctx_state
from pyinfra_keepalived.render.script_data import check_hosts
from pyinfra_keepalived.model.problems import KeepalivedDataError

contexts = (ctx_config, ctx_host, ctx_inventory, ctx_state)
for data in ast.literal_eval(sys.stdin.read()):
    try:
        check_hosts([("host-01", data)], warn=lambda message: None)
    except KeepalivedDataError as error:
        assert error.errors, data
    else:
        raise AssertionError(f"accepted: {data}")
    assert not any(context.isset() for context in contexts)
print("pure", len(contexts))
"""


def test_invalid_data_is_rejected_without_any_pyinfra_state():
    # A fresh interpreter, so no pyinfra state/host/inventory/config can have been set up.
    result = subprocess.run([sys.executable, "-c", PURITY_CHECK], cwd=REPO, text=True,
                            input=repr(INVALID_HOSTS), capture_output=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure 4"


@pytest.mark.parametrize("base_dir", ["/", "/etc", "/opt"])
def test_base_dir_must_be_a_directory_of_its_own(base_dir):
    assert_error({**host_01(), "keepalived_base_dir": base_dir},
                 f"host-01: keepalived_base_dir = '{base_dir}': must be a directory of its "
                 "own, two levels deep or more")


def test_config_file_keepalived_does_not_read_is_a_warning():
    settings, errors, warnings = read({**host_01(), "keepalived_base_dir": "/opt/keepalived"})
    assert settings is not None and errors == []
    assert any("keepalived_config_file = '/opt/keepalived/keepalived.conf': keepalived as "
               "packaged reads /etc/keepalived/keepalived.conf" in w for w in warnings), warnings


def test_default_config_file_gives_no_path_warning():
    _, _, warnings = read(host_01())
    assert not any("keepalived_config_file" in w for w in warnings), warnings


@pytest.mark.parametrize("proxy", ["http://apt-cache:3142", "http://10.0.0.5", "https://c.ex/"])
def test_package_proxy_accepts_http_urls(proxy):
    assert assert_valid({**host_01(), "keepalived_package_proxy": proxy}).package_proxy == proxy


@pytest.mark.parametrize("proxy", ["apt-cache:3142", "http://a b", "http://x;reboot", 3142])
def test_package_proxy_must_be_an_http_url(proxy):
    assert_error({**host_01(), "keepalived_package_proxy": proxy},
                 f"host-01: keepalived_package_proxy = {proxy!r}: must be an http:// URL")


@pytest.mark.parametrize("key, value", [
    ("keepalived_config_dir", "/etc/keepalived/.generations"),
    ("keepalived_check_scripts_dir", "/etc/keepalived/.current/scripts"),
    ("keepalived_config_file", "/etc/keepalived/.previous"),
    ("keepalived_config_dir", "/etc/keepalived/conf.d.pyinfra-old"),
])
def test_paths_must_not_take_the_names_the_transaction_keeps(key, value):
    error = assert_error({**host_01(), key: value}, key)
    assert error == (f"host-01: {key} = {value!r}: must not use a name the deploy keeps in "
                     "/etc/keepalived for itself: .generations, .current, .previous, "
                     ".staging, *.pyinfra-new, *.pyinfra-old (pyinfra_keepalived/operations/transaction.sh)")
