"""A corpus of named bad inputs (issue 11): data that would reach a shell, a config line or
a file it was not meant for, numbers out of what keepalived or systemd read, and inputs
that used to end in a traceback. Each must be an error naming the host, the key path and
what is allowed, before any host is touched.

Every case here was accepted, or ended in a traceback, or was refused for another reason
(see docs/validation.md, "What the validation refuses"). The table is checked through
`render.script_data.read_host`: the model's `validate.read_host` (the entry point of
`model.fleet.check_hosts`), then the host's scripts rendered, as the deploy's
`render.script_data.check_inventory` does.
"""

import pytest

from pyinfra_keepalived.model import validate
from pyinfra_keepalived.render import script_data

from .hostdata import DROP, host_01, instance, script

pytestmark = pytest.mark.unit

RECORD = {"name": "record.sh", "template": "notify_record_state.sh.j2",
          "vars": {"log_file": "/tmp/transitions.log"}}
UNIT = "must be a systemd unit name"
TEMPLATE = "must be a template file name (letters, digits and _ . -, no path)"
IDENTIFIER = "the name must be an identifier"
RESERVED = "is a name the template gets from the script itself"
VAR_VALUE = "must be one line of printable text, a finite number, true/false, or a list"
ONE_LINE = "must be one line of text (printable"
CLOSES = "closes a brace it did not open"
SCRIPT = "keepalived_check_scripts[0]"
NOTIFY = "keepalived_notify_scripts[0]"
VI = "keepalived_vrrp_instances[0]"


def with_script(**overrides):
    return host_01(scripts=[script(**overrides)])


def with_instance(**overrides):
    return host_01(**overrides)


def with_notify(**overrides):
    item = {**RECORD, **overrides}
    item = {key: value for key, value in item.items() if value is not DROP}
    return {**host_01(instances=[instance(priority=100, notify="record.sh")]),
            "keepalived_notify_scripts": [item]}


def with_global_defs(**keywords):
    return {**host_01(), "keepalived_global_defs": keywords}


def with_data(**data):
    return {**host_01(), **data}


# (case id, host data, key path, what the message says is allowed / wrong)
CASES = [
    # -- values templates receive: a unit name is a unit name --
    ("service_name-newline-command", with_script(service_name="ssh.service\ntouch /tmp/x #"),
     f"{SCRIPT}.service_name", UNIT),
    ("service_name-semicolon", with_script(service_name="ssh.service; reboot"),
     f"{SCRIPT}.service_name", UNIT),
    ("service_name-command-substitution", with_script(service_name="$(reboot)"),
     f"{SCRIPT}.service_name", UNIT),
    ("service_name-leading-dash-option", with_script(service_name="-Hroot@evil.example"),
     f"{SCRIPT}.service_name", "not starting with"),
    ("service_name-int", with_script(service_name=5), f"{SCRIPT}.service_name", UNIT),
    ("service_name-list", with_script(service_name=["ssh"]), f"{SCRIPT}.service_name", UNIT),
    ("service_name-unknown-suffix", with_script(service_name="ssh.app"),
     f"{SCRIPT}.service_name", "with a dot in the name, write the suffix"),
    ("service_name-empty", with_script(service_name=""), f"{SCRIPT}.service_name", UNIT),
    ("service_name-space", with_script(service_name="ssh service"),
     f"{SCRIPT}.service_name", UNIT),
    ("service_name-in-vars-semicolon",
     with_script(service_name=DROP, vars={"service_name": "ssh; reboot"}),
     f"{SCRIPT}.vars.service_name", UNIT),
    # -- vars: identifiers, not the script's own keys, printable one-line values --
    ("vars-int-key", with_script(vars={1: "x"}), f"{SCRIPT}.vars[1]", IDENTIFIER),
    ("vars-tuple-key", with_script(vars={("a",): "x"}), f"{SCRIPT}.vars[('a',)]", IDENTIFIER),
    ("vars-key-item", with_script(vars={"item": "x"}), f"{SCRIPT}.vars.item", RESERVED),
    ("vars-key-script", with_script(vars={"script": "x"}), f"{SCRIPT}.vars.script", RESERVED),
    ("vars-key-shadows-path", with_script(vars={"path": "/tmp/x"}), f"{SCRIPT}.vars.path",
     RESERVED),
    ("vars-key-not-identifier", with_script(vars={"log-file": "x"}),
     f"{SCRIPT}.vars['log-file']", IDENTIFIER),
    ("vars-value-mapping", with_script(vars={"x": {"a": 1}}), f"{SCRIPT}.vars.x", VAR_VALUE),
    ("vars-value-nan", with_script(vars={"x": float("nan")}), f"{SCRIPT}.vars.x", VAR_VALUE),
    ("vars-value-nul", with_script(vars={"x": "a\x00b"}), f"{SCRIPT}.vars.x", VAR_VALUE),
    ("vars-value-list-of-mappings", with_script(vars={"x": [{"a": 1}]}), f"{SCRIPT}.vars.x",
     VAR_VALUE),
    ("notify-vars-newline", with_notify(vars={"log_file": "/tmp/x\ntouch /tmp/y"}),
     f"{NOTIFY}.vars.log_file", VAR_VALUE),
    ("notify-vars-key-name", with_notify(vars={"log_file": "/tmp/x", "name": "y"}),
     f"{NOTIFY}.vars.name", RESERVED),
    ("notify-vars-key-item", with_notify(vars={"log_file": "/tmp/x", "item": "y"}),
     f"{NOTIFY}.vars.item", RESERVED),
    # -- templates come from the template folders only --
    ("template-absolute-path", with_script(template="/etc/passwd"), f"{SCRIPT}.template",
     TEMPLATE),
    ("template-ssh-key", with_script(template="/root/.ssh/id_rsa"), f"{SCRIPT}.template",
     TEMPLATE),
    ("template-dotdot", with_script(template="../../../etc/passwd"), f"{SCRIPT}.template",
     TEMPLATE),
    ("template-subfolder", with_script(template="sub/check.sh.j2"), f"{SCRIPT}.template",
     TEMPLATE),
    ("template-dotdot-alone", with_script(template=".."), f"{SCRIPT}.template", TEMPLATE),
    ("template-hidden-file", with_script(template=".env"), f"{SCRIPT}.template", TEMPLATE),
    ("template-from-cwd", with_script(template="deploy.py"), f"{SCRIPT}.template",
     "template not found in"),
    ("template-list", with_script(template=["x.j2"]), f"{SCRIPT}.template", TEMPLATE),
    ("notify-template-absolute", with_notify(template="/root/.ssh/id_rsa"),
     f"{NOTIFY}.template", TEMPLATE),
    ("template-syntax-error", with_script(template="broken.sh.j2"), f"{SCRIPT}.template",
     "the template has a syntax error"),
    ("template-fails-to-render", with_script(template="failing.sh.j2"), f"{SCRIPT}.template",
     "the template failed to render: ZeroDivisionError"),
    # -- full matches: a trailing newline is not part of a name --
    ("instance-name-trailing-newline", with_instance(name="VI_1\n"), f"{VI}.name",
     "must be a name of letters"),
    ("interface-trailing-newline", with_instance(interface="eth0\n"), f"{VI}.interface",
     "must be an interface name"),
    ("auth_pass-trailing-newline", with_instance(auth_pass="1234\n"), f"{VI}.auth_pass",
     "must be 1-8 characters"),
    ("auth_pass-non-ascii", with_instance(auth_pass="pässwd"), f"{VI}.auth_pass",
     "must be 1-8 characters"),
    ("vip-label-trailing-newline",
     with_instance(virtual_ipaddresses=[{"address": "192.168.1.100/24", "label": "eth0:1\n"}]),
     f"{VI}.virtual_ipaddresses[0].label", "must be a label"),
    ("route-table-trailing-newline",
     with_instance(virtual_routes=[{"to": "192.168.2.0/24", "table": "100\n"}]),
     f"{VI}.virtual_routes[0].table", "must be a routing table"),
    ("notify-argument-nul", with_notify() | {"keepalived_vrrp_instances": [
        instance(priority=100, notify_master="record.sh MA\x00STER")]},
     f"{VI}.notify_master", "must be a single word"),
    ("daemon-option-trailing-newline",
     with_data(keepalived_daemon_options=["--log-facility=local0\n"]),
     "keepalived_daemon_options[0]", "--log-facility takes =0 to =7"),
    ("router_id-trailing-newline", with_global_defs(router_id="r1\n"),
     "keepalived_global_defs.router_id", "must be a single word"),
    ("router_id-nul", with_global_defs(router_id="r1\x00"),
     "keepalived_global_defs.router_id", "must be a single word"),
    ("notification_email-trailing-newline",
     with_global_defs(notification_email=["ops@example.com\n"]),
     "keepalived_global_defs.notification_email[0]", "must be a single word"),
    # -- what keepalived reads at the start of a line: "@ID rest" (a conditional line: only
    # the keepalived whose config id, by default its host name, is ID reads it, without
    # "@ID"), "$NAME=value" (defines a parameter), "$NAME" (replaced where one is defined).
    # keepalived -t 2.2.7 of `track_interface { @host-01 }` with -i host-01: exit 0, the
    # entry gone; `notification_email { $X=bogus @host-01 }`: "empty notification_email
    # block" and `$X` on a later line read as the keyword bogus --
    ("track_interface-conditional-line",
     with_instance(track_interfaces=["@host-01"]),
     f"{VI}.track_interfaces[0].interface", "not starting with @"),
    ("track_interface-conditional-line-mapping",
     with_instance(track_interfaces=[{"interface": "@host-01", "weight": -50}]),
     f"{VI}.track_interfaces[0].interface", "not starting with @"),
    ("sync-group-track_interface-conditional-line",
     {**host_01(instances=[instance(priority=100),
                           instance(name="VI_2", virtual_router_id=52, priority=100,
                                    virtual_ipaddresses=["192.168.1.101/24"])]),
      "keepalived_sync_groups": {"G1": {"instances": ["VI_1", "VI_2"],
                                        "track_interfaces": ["@host-01"]}}},
     "keepalived_sync_groups.G1.track_interfaces[0].interface", "not starting with @"),
    ("notification_email-conditional-line", with_global_defs(notification_email=["@host-01"]),
     "keepalived_global_defs.notification_email[0]", "not starting with @"),
    ("notification_email-parameter-definition",
     with_global_defs(notification_email=["$X=include"]),
     "keepalived_global_defs.notification_email[0]", "no quotes, braces, # ! or $"),
    ("router_id-parameter", with_global_defs(router_id="${X}"),
     "keepalived_global_defs.router_id", "no quotes, braces, # ! or $"),
    # -- a file keepalived opens, written once: the deploy's drain file is refused as a
    # track_file (init_file overwrite would reset the drain the rolling restart writes), and
    # /run//, /run/./ or /tmp/../run/ must not get past that --
    ("track_file-drain-file-double-slash",
     with_data(keepalived_track_files={"t1": {"file": "/run//pyinfra-keepalived.drain",
                                              "init_file": True,
                                              "init_file_overwrite": True}}),
     "keepalived_track_files.t1.file", "no . or .. parts, no // or trailing /"),
    ("track_file-drain-file-dot",
     with_data(keepalived_track_files={"t1": {"file": "/run/./pyinfra-keepalived.drain.VI_1"}}),
     "keepalived_track_files.t1.file", "no . or .. parts"),
    ("track_file-dotdot",
     with_data(keepalived_track_files={"t1": {"file": "/tmp/../run/pyinfra-keepalived.drain"}}),
     "keepalived_track_files.t1.file", "no . or .. parts"),
    ("track_file-leading-double-slash",
     with_data(keepalived_track_files={"t1": {"file": "//run/pyinfra-keepalived.drain"}}),
     "keepalived_track_files.t1.file", "no . or .. parts, no // or trailing /"),
    # -- a file keepalived (as root) writes with init_file: never a system file nor one of
    # the deploy's own (the auditor saw /etc/passwd's content replaced by 0) --
    ("track_file-init-overwrite-etc-passwd",
     with_data(keepalived_track_files={"t1": {"file": "/etc/passwd", "init_file": True,
                                              "init_file_overwrite": True}}),
     "keepalived_track_files.t1.file", "is under /etc, a system directory"),
    ("track_file-init-overwrite-own-config",
     with_data(keepalived_track_files={"t1": {
         "file": "/etc/keepalived/conf.d/20-vrrp_instances.conf", "init_file": True,
         "init_file_overwrite": True}}),
     "keepalived_track_files.t1.file", "is one of the deploy's own files (/etc/keepalived/*)"),
    ("track_file-init-device",
     with_data(keepalived_track_files={"t1": {"file": "/dev/sda", "init_file": True,
                                              "init_file_overwrite": True}}),
     "keepalived_track_files.t1.file", "use a file of its own under /run or /var/lib/<name>"),
    ("track_file-init-root-home",
     with_data(keepalived_track_files={"t1": {"file": "/root/.ssh/authorized_keys",
                                              "init_file": True}}),
     "keepalived_track_files.t1.file", "is under /root, a system directory"),
    ("notify_fifo-dotdot", with_global_defs(notify_fifo="/run/../etc/passwd"),
     "keepalived_global_defs.notify_fifo", "no . or .. parts"),
    ("vrrp_notify_fifo-trailing-slash", with_global_defs(vrrp_notify_fifo="/run/fifo/"),
     "keepalived_global_defs.vrrp_notify_fifo", "no // or trailing /"),
    ("script-user-trailing-newline", with_data(keepalived_check_script_user="nobody\n"),
     "keepalived_check_script_user", "must be a user name"),
    ("script-user-leading-dash", with_script(user="-o"), f"{SCRIPT}.user",
     "must be a user name"),
    ("base-dir-trailing-newline", with_data(keepalived_base_dir="/etc/keepalived\n"),
     "keepalived_base_dir", "must be an absolute path"),
    ("proxy-trailing-newline", with_data(keepalived_package_proxy="http://cache:3142\n"),
     "keepalived_package_proxy", "must be an http:// URL"),
    ("package-version-shell", with_data(keepalived_package_version="1.0;reboot"),
     "keepalived_package_version", "must be a package version"),
    ("package-version-trailing-newline", with_data(keepalived_package_version="2.2.7\n"),
     "keepalived_package_version", "must be a package version"),
    ("sync-group-name-trailing-newline", with_data(keepalived_sync_groups={
        "G1\n": {"instances": ["VI_1", "VI_2"]}}),
     "keepalived_sync_groups['G1\\n']", "must be a group name"),
    # -- script file names --
    ("script-name-dotdot", with_script(name=".."), f"{SCRIPT}.name", "not . or .."),
    ("notify-name-dot", with_notify(name="."), f"{NOTIFY}.name", "not . or .."),
    # -- extra_lines cannot end their block --
    ("extra_lines-brace-in-comment", with_global_defs(extra_lines=["smtp_alert # {", "}"]),
     "keepalived_global_defs.extra_lines[1]", CLOSES),
    ("extra_lines-brace-after-bang", with_instance(extra_lines=["smtp_alert ! {", "}"]),
     f"{VI}.extra_lines[1]", CLOSES),
    ("extra_lines-close-then-open", with_global_defs(
        extra_lines=["} global_defs { script_user root"]),
     "keepalived_global_defs.extra_lines[0]", CLOSES),
    ("extra_lines-nul", with_global_defs(extra_lines=["vrrp_min_garp true\x00"]),
     "keepalived_global_defs.extra_lines[0]", ONE_LINE),
    ("extra_lines-vertical-tab", with_script(extra_lines=["rise 2\x0bfall 3"]),
     f"{SCRIPT}.extra_lines[0]", ONE_LINE),
    ("extra_lines-open-quote", with_global_defs(extra_lines=['router_id "r1 {']),
     "keepalived_global_defs.extra_lines[0]", 'leaves a " open'),
    # -- every number that reaches a file has a range --
    ("restart_sec-1e308", with_data(keepalived_systemd_restart_sec=1e308),
     "keepalived_systemd_restart_sec", "0.001-3600"),
    ("restart_sec-too-many-decimals", with_data(keepalived_systemd_restart_sec=0.0001),
     "keepalived_systemd_restart_sec", "at most 3 decimals"),
    ("restart_sec-2-hours", with_data(keepalived_systemd_restart_sec=7200),
     "keepalived_systemd_restart_sec", "0.001-3600"),
    ("interval-fraction", with_script(interval=0.5), f"{SCRIPT}.interval",
     "whole number of seconds 1-4294"),
    ("interval-4295", with_script(interval=4295), f"{SCRIPT}.interval",
     "whole number of seconds 1-4294"),
    ("interval-1e308", with_script(interval=1e308), f"{SCRIPT}.interval",
     "whole number of seconds 1-4294"),
    # a bare `interval:` in YAML is None: an error, as before the model was declared once
    ("interval-null", with_script(interval=None), f"{SCRIPT}.interval",
     "whole number of seconds 1-4294"),
    ("fall-null", with_script(fall=None), f"{SCRIPT}.fall", "whole number 1 or more"),
    ("rise-null", with_script(rise=None), f"{SCRIPT}.rise", "whole number 1 or more"),
    ("timeout-huge", with_script(timeout=10**30), f"{SCRIPT}.timeout",
     "whole number of seconds 1-4294"),
    ("timeout-fraction", with_script(timeout=2.5), f"{SCRIPT}.timeout",
     "whole number of seconds 1-4294"),
    ("smtp_connect_timeout-4295", with_global_defs(smtp_connect_timeout=4295),
     "keepalived_global_defs.smtp_connect_timeout", "whole number 1-4294"),
    ("smtp_connect_timeout-0", with_global_defs(smtp_connect_timeout=0),
     "keepalived_global_defs.smtp_connect_timeout", "whole number 1-4294"),
    ("vrrp_garp_interval-too-fine", with_global_defs(vrrp_garp_interval=1e-7),
     "keepalived_global_defs.vrrp_garp_interval", "at most 6 decimals, 0.000001-4294"),
    ("vrrp_gna_interval-5000", with_global_defs(vrrp_gna_interval=5000),
     "keepalived_global_defs.vrrp_gna_interval", "0.000001-4294"),
    ("vrrp_garp_master_delay-huge", with_global_defs(vrrp_garp_master_delay=100000),
     "keepalived_global_defs.vrrp_garp_master_delay", "whole number 0-4294"),
    ("vrrp_garp_master_repeat-0", with_global_defs(vrrp_garp_master_repeat=0),
     "keepalived_global_defs.vrrp_garp_master_repeat", "whole number 1-2147483647"),
    ("vrrp_garp_master_refresh-4295", with_global_defs(vrrp_garp_master_refresh=4295),
     "keepalived_global_defs.vrrp_garp_master_refresh", "whole number 0-4294"),
    ("max_auto_priority-100", with_global_defs(max_auto_priority=100),
     "keepalived_global_defs.max_auto_priority", "whole number -1-99"),
    ("garp_master_refresh-huge", with_instance(garp_master_refresh=100000),
     f"{VI}.garp_master_refresh", "whole number of seconds, 0-4294"),
    ("garp_master_delay-4295", with_instance(garp_master_delay=4295),
     f"{VI}.garp_master_delay", "whole number of seconds, 0-4294"),
    ("preempt_delay-too-fine", with_instance(state="BACKUP", preempt_delay=1e-9),
     f"{VI}.preempt_delay", "0-1000 (at most 6 decimals)"),
]

# Host names that would break out of the header comment of 20-vrrp_instances.conf.
BAD_HOST_NAMES = [
    ("host-name-newline-global_defs", "host-01\nglobal_defs {\n script_user root\n}\n#"),
    ("host-name-carriage-return", "host-01\rvrrp_instance X {"),
    ("host-name-nul", "host-01\x00"),
    ("host-name-line-separator", "host-01\u2028x"),
    ("host-name-empty", ""),
]


@pytest.fixture(autouse=True)
def operator_templates(tmp_path, monkeypatch):
    """An operator's ./templates/ with a template that does not parse and one that fails."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.sh.j2").write_text("#!/bin/sh\n{% if %}\n")
    (tmp_path / "templates" / "failing.sh.j2").write_text("#!/bin/sh\n{{ 1 // 0 }}\n")
    (tmp_path / "deploy.py").write_text("secret = 1\n")
    monkeypatch.chdir(tmp_path)


def errors_of(data, name="host-01"):
    settings, problems = script_data.read_host(name, data)
    errors = [str(problem) for problem in problems.errors]
    assert settings is None, "accepted"
    return errors


def test_the_corpus_is_large_enough():
    ids = [case[0] for case in CASES] + [case[0] for case in BAD_HOST_NAMES]
    assert len(ids) == len(set(ids)) >= 60


@pytest.mark.parametrize("data, key, allowed", [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_bad_input_is_an_error_naming_host_key_and_what_is_allowed(data, key, allowed):
    errors = errors_of(data)
    matching = [error for error in errors
                if error.startswith(f"host-01: {key} = ") and allowed in error]
    assert matching, f"no error on {key} saying {allowed!r}; errors: {errors}"


@pytest.mark.parametrize("name", [case[1] for case in BAD_HOST_NAMES],
                         ids=[case[0] for case in BAD_HOST_NAMES])
def test_host_name_that_could_leave_the_header_comment_is_an_error(name):
    errors = errors_of(host_01(), name)
    assert any(error.startswith(f"{ascii(name)}: host name = ") and
               "must be one line of printable text" in error for error in errors), errors


@pytest.mark.parametrize("data, key", [
    (with_script(user="root"), f"{SCRIPT}.user"),
    (with_data(keepalived_check_script_user="root"), "keepalived_check_script_user"),
], ids=["check-script-user-root", "script-user-root"])
def test_scripts_as_root_are_accepted_with_a_warning_that_says_why(data, key):
    settings, problems = validate.read_host("host-01", data)
    assert settings is not None
    warnings = [str(problem) for problem in problems.warnings if problem.key == key]
    assert warnings and "runs the script as root: keepalived's script security" in warnings[0]
    assert "default script user" in warnings[0]


def test_shipped_templates_quote_values_and_keep_them_out_of_comments():
    """With any value, the script is the benign one with the value as one quoted word."""
    import shlex

    from pyinfra_keepalived.render import config as render

    for template, key in [("check_systemd_service.sh.j2", "service_name"),
                          ("notify_record_state.sh.j2", "log_file")]:
        value = "a'b\nreboot # $(id) {"
        content = render.script_file(template, {key: value})
        benign = render.script_file(template, {key: "BENIGN"})
        assert content.replace(shlex.quote(value), "BENIGN") == benign
        assert content.count(shlex.quote(value)) == 1


@pytest.mark.parametrize("template", ["/etc/passwd", "../x.j2", "sub/x.j2", ".x"])
def test_render_itself_takes_no_template_path(template):
    from pyinfra_keepalived.render import config as render

    with pytest.raises(render.TemplateNotFound, match="not a path"):
        render.script_file(template, {})


def test_header_comment_renders_any_host_name_on_one_line():
    from pyinfra_keepalived.model.blocks import Settings
    from pyinfra_keepalived.render import config as render

    files = render.config_files(Settings(host="h\nglobal_defs {\n}"))
    header = [f.content for path, f in files.items() if path.endswith("20-vrrp_instances.conf")]
    assert header[0].splitlines()[0].endswith("VRRP instances of h?global_defs {?}.")
