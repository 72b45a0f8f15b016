"""The operator's track_file and vrrp_track_process blocks, what instances and sync groups
track, and use_vmac (model.tracking_blocks): table cases, data in, every message out (host,
key path, value, what is allowed), and the rendered lines."""

import pytest

from .hostdata import DROP, host_01, instance, read, rendered

pytestmark = pytest.mark.unit

MAINT = {"file": "/run/keepalived/maint"}
HAPROXY = {"process": "haproxy", "weight": -30}
VI = "keepalived_vrrp_instances[0]"


def with_tracking(files=None, processes=None, role_processes=None, groups=None,
                  instances=None, **vi):
    """host-01 (VI_1, check_ssh without weight) with the tracking keys given."""
    data = host_01(**vi) if instances is None else host_01(instances=instances)
    for key, value in (("keepalived_track_files", files),
                       ("keepalived_track_processes", processes),
                       ("keepalived_track_processs", role_processes),
                       ("keepalived_sync_groups", groups)):
        if value is not None:
            data[key] = value
    return data


VI_2 = instance(name="VI_2", interface="eth1", virtual_router_id=52, track_scripts=[],
                priority=100)
SYNCED = {"VG": {"instances": ["VI_1", "VI_2"]}}

OWN, ITSELF = "is one of the deploy's own files", ", which it writes and removes itself"


def init_file_case(path, where, overwrite=False, **data):
    """A track_file at `path` that keepalived writes (init_file; `overwrite`), on host-01
    with `data`: (the data, its one error, which says `where` the file is)."""
    files = {"maint": {"file": path, "init_file": True, "init_file_overwrite": overwrite}}
    writes = ("overwrites it with a number at every start and reload" if overwrite else
              "writes a number into it at start when it does not exist")
    return ({**with_tracking(files=files), **data},
            [f"host-01: keepalived_track_files.maint.file = '{path}': {where}: with "
             f"init_file, keepalived (as root) {writes}; use a file of its own under /run "
             "or /var/lib/<name>, or remove init_file"])


ERRORS = {
    "file-required": (
        with_tracking(files={"maint": {"weight": 2}}, track_files=["maint"]),
        ["host-01: keepalived_track_files.maint.file: required: the file keepalived reads"]),
    "file-relative": (
        with_tracking(files={"maint": {"file": "run/maint"}}, track_files=["maint"]),
        ["host-01: keepalived_track_files.maint.file = 'run/maint': must be a normalised "
         "absolute path of a file: letters, digits and _ . - /, no . or .. parts, no // or "
         "trailing /"]),
    "file-weight-range": (
        with_tracking(files={"maint": {**MAINT, "weight": 255}}, track_files=["maint"]),
        ["host-01: keepalived_track_files.maint.weight = 255: must be a whole number "
         "-254-254"]),
    "file-unknown-key": (
        with_tracking(files={"maint": {**MAINT, "wieght": 2}}, track_files=["maint"]),
        ["host-01: keepalived_track_files.maint.wieght: unknown key (did you mean "
         "'weight'?); allowed: file, weight, init_file, init_file_value, "
         "init_file_overwrite"]),
    "file-bad-name": (
        with_tracking(files={"my maint": MAINT}),
        ["host-01: keepalived_track_files['my maint'] = 'my maint': must be a name of "
         "letters, digits and _ . -"]),
    "process-name-not-text": (
        with_tracking(processes={0: None}, track_processes=["haproxy"]),
        ["host-01: keepalived_track_processes[0] = 0: must be a name of letters, digits and "
         "_ . -",
         "host-01: keepalived_vrrp_instances[0].track_processes[0] = 'haproxy': names no "
         "block of keepalived_track_processes; defined: none"]),
    "file-is-the-drain-name": (
        with_tracking(files={"pyinfra_drain": MAINT}),
        ["host-01: keepalived_track_files['pyinfra_drain'] = 'pyinfra_drain': is the "
         "deploy's drain (pyinfra_drain, pyinfra_drain_INSTANCE): give your track_file "
         "another name"]),
    "file-is-an-instance-drain-name": (
        with_tracking(files={"pyinfra_drain_VI_1": MAINT}),
        ["host-01: keepalived_track_files['pyinfra_drain_VI_1'] = 'pyinfra_drain_VI_1': is "
         "the deploy's drain (pyinfra_drain, pyinfra_drain_INSTANCE): give your track_file "
         "another name"]),
    "file-is-the-drain-file": (
        with_tracking(files={"maint": {"file": "/run/pyinfra-keepalived.drain.VI_1"}}),
        ["host-01: keepalived_track_files.maint.file = '/run/pyinfra-keepalived.drain.VI_1': "
         "is the deploy's drain file (/run/pyinfra-keepalived.drain, "
         "/run/pyinfra-keepalived.drain.INSTANCE), which it writes before each restart: use "
         "a file of your own"]),
    "init-file-overwrites-a-system-file": init_file_case(
        "/etc/passwd", "is under /etc, a system directory", overwrite=True),
    "init-file-creates-a-system-file": init_file_case(
        "/usr/lib/maint", "is under /usr, a system directory"),
    "init-file-overwrites-a-kernel-setting": init_file_case(
        "/proc/sys/net/ipv4/ip_forward", "is under /proc, a system directory", overwrite=True),
    "init-file-overwrites-the-deploys-config": init_file_case(
        "/etc/keepalived/conf.d/20-vrrp_instances.conf", f"{OWN} (/etc/keepalived/*){ITSELF}",
        overwrite=True),
    "init-file-in-a-moved-base-dir": init_file_case(
        "/srv/ha/keepalived/maint", f"{OWN} (/srv/ha/keepalived/*){ITSELF}",
        keepalived_base_dir="/srv/ha/keepalived"),
    "init-file-in-the-deploys-state-dir": init_file_case(
        "/var/lib/pyinfra-keepalived/maint", f"{OWN} (/var/lib/pyinfra-keepalived*){ITSELF}"),
    "init-file-makes-a-created-user-record": init_file_case(
        "/var/lib/pyinfra-keepalived.created-user.www-data",
        f"{OWN} (/var/lib/pyinfra-keepalived*){ITSELF}"),
    "init-file-overwrites-the-deploys-lock": init_file_case(
        "/run/pyinfra-keepalived/lock", f"{OWN} (/run/pyinfra-keepalived*){ITSELF}",
        overwrite=True),
    "tracked-file-undefined": (
        with_tracking(files={"maint": MAINT}, track_files=["mant"]),
        ["host-01: keepalived_vrrp_instances[0].track_files[0] = 'mant': names no block of "
         "keepalived_track_files (did you mean 'maint'?); defined: maint"]),
    "tracked-file-twice": (
        with_tracking(files={"maint": MAINT}, track_files=["maint", "maint weight 2"]),
        ["host-01: keepalived_vrrp_instances[0].track_files[1] = 'maint': is tracked twice "
         "(also keepalived_vrrp_instances[0].track_files[0]): keepalived counts it once; "
         "keep one"]),
    "tracked-file-bad-weight": (
        with_tracking(files={"maint": MAINT}, track_files=["maint weight x"]),
        ["host-01: keepalived_vrrp_instances[0].track_files[0].weight = 'x': must be a "
         "whole number -254-254"]),
    "process-required": (
        with_tracking(processes={"haproxy": {"weight": 2}}),
        ["host-01: keepalived_track_processes.haproxy.process: required: the process name "
         "(as in /proc/PID/comm, at most 15 characters) or its path and parameters"]),
    "process-quoted": (
        with_tracking(processes={"haproxy": {"process": 'haproxy "-f x"'}}),
        ["host-01: keepalived_track_processes.haproxy.process = 'haproxy \"-f x\"': must be "
         "a process name or path, optionally followed by its parameters, one space apart "
         "(no quotes, braces, # or !)"]),
    "process-param-match": (
        with_tracking(processes={"haproxy": {**HAPROXY, "param_match": "Initial"}}),
        ["host-01: keepalived_track_processes.haproxy.param_match = 'Initial': must be one "
         "of exact, initial, partial"]),
    "process-delay": (
        with_tracking(processes={"haproxy": {**HAPROXY, "delay": 0}}),
        ["host-01: keepalived_track_processes.haproxy.delay = 0: must be a number of seconds "
         "with at most 6 decimals, 0.000001-3600"]),
    "process-quorum": (
        with_tracking(processes={"haproxy": {**HAPROXY, "quorum": 3, "quorum_max": 2}}),
        ["host-01: keepalived_track_processes.haproxy.quorum = 3: is more than quorum_max "
         "(2): keepalived ignores it; lower it or raise quorum_max"]),
    "process-name-too-long": (
        with_tracking(processes={"p": {"process": "a-very-long-daemon"}}),
        ["host-01: keepalived_track_processes.p.process = 'a-very-long-daemon': never "
         "matches the process name keepalived compares it with (/proc/PID/comm: at most 15 "
         "characters, no path); give that name, or set full_command: true to match the "
         "command line"]),
    "process-path-by-name": (
        with_tracking(processes={"p": {"process": "/usr/sbin/haproxy"}}),
        ["host-01: keepalived_track_processes.p.process = '/usr/sbin/haproxy': never "
         "matches the process name keepalived compares it with (/proc/PID/comm: at most 15 "
         "characters, no path); give that name, or set full_command: true to match the "
         "command line"]),
    "processes-both-spellings": (
        with_tracking(processes={"haproxy": HAPROXY}, role_processes={"nginx": HAPROXY}),
        ["host-01: keepalived_track_processs = {'nginx': <hidden>}: is the Ansible role's spelling of keepalived_track_processes, which is set "
         "too: keep one of them"]),
    "instance-both-spellings": (
        with_tracking(processes={"haproxy": HAPROXY}, track_processes=["haproxy"],
                      track_processs=["haproxy"]),
        ["host-01: keepalived_vrrp_instances[0].track_processs = ['haproxy']: is the "
         "Ansible role's spelling of track_processes, which is set too: keep one of them"]),
    "tracked-process-undefined": (
        with_tracking(role_processes={"haproxy": HAPROXY}, track_processs=["nginx"]),
        ["host-01: keepalived_vrrp_instances[0].track_processes[0] = 'nginx': names no "
         "block of keepalived_track_processs; defined: haproxy"]),
    "synced-file-default-weight": (
        with_tracking(files={"maint": MAINT}, groups=SYNCED, instances=[
            instance(priority=100, track_scripts=[], track_files=["maint"]), VI_2]),
        ["host-01: keepalived_vrrp_instances[0].track_files[0] = 'maint': tracks with "
         "weight 1: keepalived ignores tracking weights of an instance in a sync group; "
         "track it with weight 0 (\"maint weight 0\": a failure means FAULT)"]),
    "synced-process-weight": (
        with_tracking(processes={"haproxy": HAPROXY}, groups=SYNCED, instances=[
            instance(priority=100, track_scripts=[], track_processes=["haproxy"]), VI_2]),
        ["host-01: keepalived_vrrp_instances[0].track_processes[0] = 'haproxy': tracks with "
         "weight -30: keepalived ignores tracking weights of an instance in a sync group; "
         "track it with weight 0 (\"haproxy weight 0\": a failure means FAULT)"]),
    "owner-file-weight": (
        with_tracking(files={"maint": MAINT}, priority=255, track_scripts=[],
                      track_files=["maint weight 5"]),
        ["host-01: keepalived_vrrp_instances[0].track_files[0] = 'maint weight 5': tracks "
         "with weight 5: priority 255 (the address owner) ignores tracking weights; track "
         "it with weight 0 (\"maint weight 0\": a failure means FAULT)"]),
    "group-tracks-undefined": (
        with_tracking(files={"maint": MAINT}, groups={"VG": {**SYNCED["VG"],
                                                             "track_files": ["mnt"]}},
                      instances=[instance(priority=100, track_scripts=[]), VI_2]),
        ["host-01: keepalived_sync_groups.VG.track_files[0] = 'mnt': names no block of "
         "keepalived_track_files (did you mean 'maint'?); defined: maint"]),
    "group-weight-with-owner": (
        with_tracking(files={"maint": MAINT}, groups={"VG": {**SYNCED["VG"],
                                                             "track_files": ["maint"]}},
                      instances=[instance(priority=255, track_scripts=[]), VI_2]),
        ["host-01: keepalived_sync_groups.VG.track_files[0] = 'maint': tracks with weight 1: "
         "VI_1 has priority 255, and keepalived then ignores the group's tracking weights; "
         "track it with weight 0 (\"maint weight 0\": a failure means FAULT)"]),
    "use_vmac-bad-name": (
        with_tracking(use_vmac="vrrp 51"),
        ["host-01: keepalived_vrrp_instances[0].use_vmac = 'vrrp 51': must be true, false or "
         "the macvlan's name: 1-15 letters, digits and _ . @ - (no spaces, / or :; not "
         "starting with @)"]),
    "vmac_xmit_base-without-use_vmac": (
        with_tracking(vmac_xmit_base=True),
        ["host-01: keepalived_vrrp_instances[0].vmac_xmit_base = True: needs use_vmac "
         "(keepalived ignores it without); set use_vmac or remove it"]),
    "use_vmac_addr-without-use_vmac": (
        with_tracking(use_vmac=False, use_vmac_addr=True),
        ["host-01: keepalived_vrrp_instances[0].use_vmac_addr = True: needs use_vmac "
         "(keepalived ignores it without); set use_vmac or remove it"]),
    "use_vmac-unicast-without-xmit-base": (
        {**with_tracking(use_vmac=True, unicast_peers=["192.168.1.3"]),
         "keepalived_unicast_src_ip": "192.168.1.2"},
        ["host-01: keepalived_vrrp_instances[0].use_vmac = True: with unicast_peers needs "
         "vmac_xmit_base: true (keepalived sends unicast adverts on the base interface "
         "only)"]),
    "use_vmac-an-interface": (
        with_tracking(use_vmac="eth0"),
        ["host-01: keepalived_vrrp_instances[0].use_vmac = 'eth0': names eth0, an interface "
         "of this host's instances: keepalived makes a macvlan of its own; give it another "
         "name"]),
    "use_vmac-twice": (
        with_tracking(instances=[
            instance(priority=100, use_vmac=True),
            instance(name="VI_2", priority=100, virtual_router_id=52, track_scripts=[],
                     use_vmac="vrrp.51", virtual_ipaddresses=["192.168.1.101/24"])]),
        ["host-01: keepalived_vrrp_instances[1].use_vmac = 'vrrp.51': makes the macvlan "
         "vrrp.51, as keepalived_vrrp_instances[0] does: give each its own name (use_vmac: "
         "NAME)"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_bad_tracking_data_is_an_error_naming_host_key_value_and_what_is_allowed(case):
    data, expected = ERRORS[case]
    settings, errors, _ = read(data)
    assert settings is None
    assert errors == expected


WARNINGS = {
    "init-value-without-init_file": (
        with_tracking(files={"maint": {**MAINT, "init_file_value": -10}},
                      track_files=["maint"]),
        "host-01: keepalived_track_files.maint.init_file_value = -10: has no effect without "
        "init_file: true; set init_file or remove it"),
    "role-process-without-weight": (
        with_tracking(role_processes={"haproxy": {"process": "haproxy"}},
                      track_processs=["haproxy"]),
        "host-01: keepalived_track_processs.haproxy.weight = None: is unset: too few "
        "processes put the instances that track it in FAULT (the Ansible role rendered "
        "weight 1 here); set the weight you mean"),
}


@pytest.mark.parametrize("case", list(WARNINGS))
def test_probable_mistakes_are_warnings_that_name_the_fix(case):
    data, expected = WARNINGS[case]
    settings, errors, warnings = read(data)
    assert errors == [] and settings is not None
    assert warnings == [expected]


RENDERED = {
    "track-file": (
        with_tracking(files={"maint": {**MAINT, "weight": -2, "init_file": True,
                                       "init_file_value": 0, "init_file_overwrite": True}},
                      track_files=["maint"]),
        "05-track.conf",
        '\ntrack_file maint {\n    file   "/run/keepalived/maint"\n    weight -2\n'
        '    init_file 0 overwrite\n}\n'),
    "track-file-defaults": (
        with_tracking(files={"maint": {**MAINT, "init_file": True}}, track_files=["maint"]),
        "05-track.conf",
        '\ntrack_file maint {\n    file   "/run/keepalived/maint"\n    weight 1\n'
        '    init_file\n}\n'),
    "track-process": (
        with_tracking(role_processes={"haproxy": {
            "process": "/usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg", "param_match": "exact",
            "weight": -30, "quorum": 1, "quorum_max": 4, "delay": 0.5, "fork_delay": 1,
            "terminate_delay": 2.25, "full_command": True}}, track_processs=["haproxy"]),
        "05-track.conf",
        "\nvrrp_track_process haproxy {\n"
        "    process /usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg\n    param_match\n"
        "    weight -30\n    quorum 1\n    quorum_max 4\n    delay 0.5\n    fork_delay 1\n"
        "    terminate_delay 2.25\n    full_command\n}\n"),
    "instance-tracks-beside-the-drain": (
        with_tracking(files={"maint": MAINT}, processes={"haproxy": HAPROXY},
                      track_files=["maint"],
                      track_processes=[{"name": "haproxy", "weight": -40}]),
        "20-vrrp_instances.conf",
        "    track_file {\n        pyinfra_drain\n        pyinfra_drain_VI_1\n        maint\n"
        "    }\n\n    track_process {\n        haproxy weight -40\n    }\n"),
    "use_vmac": (
        with_tracking(use_vmac=True, vmac_xmit_base=True, use_vmac_addr=True),
        "20-vrrp_instances.conf",
        "    advert_int        1\n    use_vmac\n    vmac_xmit_base\n    use_vmac_addr\n"),
    "use_vmac-named": (
        with_tracking(use_vmac="vmac51"),
        "20-vrrp_instances.conf", "    advert_int        1\n    use_vmac vmac51\n\n"),
    "sync-group-tracks": (
        with_tracking(files={"maint": MAINT}, processes={"haproxy": HAPROXY}, groups={
            "VG": {**SYNCED["VG"], "track_files": ["maint weight 0"],
                   "track_processs": ["haproxy"]}},
            instances=[instance(priority=100, track_scripts=[]), VI_2]),
        "20-vrrp_instances.conf",
        "        VI_2\n    }\n\n    track_file {\n        maint weight 0\n    }\n\n"
        "    track_process {\n        haproxy\n    }\n}\n"),
}


@pytest.mark.parametrize("case", list(RENDERED))
def test_tracking_renders(case):
    data, name, expected = RENDERED[case]
    assert expected in rendered(data, name)


@pytest.mark.parametrize("path", ["/etc/keepalived/maint", "/var/lib/ha/maint"])
def test_a_file_keepalived_only_reads_may_be_anywhere(path):
    """Without init_file keepalived only reads the file (a system or the deploy's own
    directory included); with it, a file of its own under /var/lib is taken."""
    init = {"init_file": True, "init_file_overwrite": True} if path.startswith("/var") else {}
    settings, errors, warnings = read(with_tracking(files={"maint": {"file": path, **init}},
                                                    track_files=["maint"]))
    assert errors == [] and warnings == [] and settings is not None


def test_no_tracking_blocks_no_file():
    assert rendered(host_01(track_scripts=DROP), "05-track.conf") is None
