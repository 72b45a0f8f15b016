"""Every keyword of keepalived.conf(5) of the keepalived versions the test hosts run
(tests/data/keywords/keepalived-VERSION.txt, made by extract.py there), each listed once:
typed (the model's key that renders it), raw-only (written in extra_lines, with why) or
refused (with why). tests/test_keyword_coverage.py proves each list; this module also
writes the docs page of the counts:

    python3 -m tests.keywords   # rewrites docs/keywords.md
"""

import os
import sys

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "keywords")
REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = os.path.join(REPO_DIR, "docs", "keywords.md")
VERSIONS = ("2.1.5", "2.2.7", "2.3.3")
# blocks whose keywords extra_lines can hold
RAW_BLOCKS = ("global_defs", "vrrp_instance", "vrrp_script")


def _ids(block, words):
    return {f"{block} {word}": None for word in words.split()}


# keyword -> Block.key of model.keys that renders it (the block itself: the HostData key)
TYPED = {
    "top include": "HostData.keepalived_config_dir",
    "top static_ipaddress": "HostData.keepalived_static_ipaddresses",
    "top static_routes": "HostData.keepalived_static_routes",
    "top static_rules": "HostData.keepalived_static_rules",
    "global_defs global_defs": "HostData.keepalived_global_defs",
    **{f"global_defs {word}": f"GlobalDefs.{word}" for word in (
        "router_id notification_email notification_email_from smtp_server "
        "smtp_connect_timeout enable_script_security script_user vrrp_skip_check_adv_addr "
        "vrrp_strict vrrp_check_unicast_src vrrp_garp_interval vrrp_gna_interval "
        "vrrp_garp_master_delay vrrp_garp_master_repeat vrrp_garp_master_refresh "
        "max_auto_priority dynamic_interfaces vrrp_version vrrp_mcast_group4 "
        "vrrp_mcast_group6 vrrp_startup_delay vrrp_lower_prio_no_advert "
        "vrrp_higher_prio_send_advert vrrp_priority checker_priority bfd_priority "
        "vrrp_no_swap checker_no_swap bfd_no_swap vrrp_notify_fifo vrrp_notify_fifo_script "
        "enable_snmp_vrrp enable_snmp_checker enable_snmp_rfc snmp_socket enable_traps "
        "smtp_alert lvs_flush vrrp_rt_priority checker_rt_priority bfd_rt_priority "
        "vrrp_rlimit_rttime checker_rlimit_rttime bfd_rlimit_rttime enable_dbus "
        "enable_snmp_rfcv2 enable_snmp_rfcv3 vrrp_garp_lower_prio_delay "
        "vrrp_garp_lower_prio_repeat vrrp_garp_master_refresh_repeat vrrp_min_garp "
        "smtp_helo_name no_email_faults smtp_alert_vrrp vrrp_notify_priority_changes "
        "notify_fifo notify_fifo_script").split()},
    "vrrp_script vrrp_script": "HostData.keepalived_check_scripts",
    "vrrp_script script": "VrrpScript.template",
    **{f"vrrp_script {word}": f"VrrpScript.{word}" for word in
       "interval timeout weight rise fall user init_fail".split()},
    "vrrp_instance vrrp_instance": "HostData.keepalived_vrrp_instances",
    "vrrp_instance authentication": "VrrpInstance.auth_type",
    "vrrp_instance virtual_ipaddress": "VrrpInstance.virtual_ipaddresses",
    "vrrp_instance virtual_ipaddress_excluded": "VrrpInstance.virtual_ipaddresses_excluded",
    "vrrp_instance track_interface": "VrrpInstance.track_interfaces",
    "vrrp_instance track_script": "VrrpInstance.track_scripts",
    "vrrp_instance unicast_peer": "VrrpInstance.unicast_peers",
    "vrrp_instance no_accept": "VrrpInstance.accept",
    **{f"vrrp_instance {word}": f"VrrpInstance.{word}" for word in (
        "state interface virtual_router_id priority advert_int auth_type auth_pass version "
        "native_ipv6 nopreempt preempt_delay garp_master_delay garp_master_refresh "
        "unicast_src_ip virtual_routes notify_master notify_backup notify_fault notify_stop "
        "notify notify_master_rx_lower_pri mcast_src_ip track_src_ip dont_track_primary "
        "accept promote_secondaries skip_check_adv_addr strict_mode debug garp_master_repeat "
        "garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat "
        "lower_prio_no_advert higher_prio_send_advert kernel_rx_buf_size smtp_alert "
        "notify_priority_changes virtual_rules unicast_ttl check_unicast_src").split()},
    "bfd_instance bfd_instance": "HostData.keepalived_bfd_instances",
    **{f"bfd_instance {word}": f"BfdInstance.{word}" for word in (
        "neighbor_ip source_ip min_rx min_tx idle_tx multiplier passive ttl hoplimit "
        "max_hops weight").split()},
    "vrrp_instance track_bfd": "VrrpInstance.track_bfds",
    "vrrp_sync_group track_bfd": "SyncGroup.track_bfds",
    "vrrp_sync_group vrrp_sync_group": "HostData.keepalived_sync_groups",
    "vrrp_sync_group group": "SyncGroup.instances",
    "vrrp_sync_group track_interface": "SyncGroup.track_interfaces",
    "vrrp_sync_group track_script": "SyncGroup.track_scripts",
    **{f"vrrp_sync_group {word}": f"SyncGroup.{word}" for word in
       "notify_master notify_backup notify_fault notify_stop notify smtp_alert".split()},
    # tracking (model.tracking_blocks): track_file and vrrp_track_process blocks, what
    # instances and sync groups track of them, and the vmac of an instance
    "vrrp_instance track_file": "VrrpInstance.track_files",
    "vrrp_instance track_process": "VrrpInstance.track_processes",
    **{f"vrrp_instance {word}": f"VrrpInstance.{word}" for word in
       "use_vmac vmac_xmit_base use_vmac_addr".split()},
    "vrrp_sync_group track_file": "SyncGroup.track_files",
    "vrrp_sync_group track_process": "SyncGroup.track_processes",
    "track_file track_file": "HostData.keepalived_track_files",
    **{f"track_file {word}": f"TrackFile.{word}" for word in "file weight init_file".split()},
    "vrrp_track_process vrrp_track_process": "HostData.keepalived_track_processes",
    **{f"vrrp_track_process {word}": f"TrackProcess.{word}" for word in (
        "process weight quorum quorum_max fork_delay terminate_delay delay "
        "full_command").split()},
    # LVS (model.lvs): virtual_server, its real servers and their checkers (the checkers'
    # shared keys are declared once, on Timing and Checker), virtual_server_group and the
    # global lvs_sync_daemon and lvs_timeouts
    "global_defs lvs_sync_daemon": "HostData.keepalived_lvs_sync_daemon",
    "global_defs lvs_timeouts": "HostData.keepalived_lvs_timeouts",
    "virtual_server_group virtual_server_group": "HostData.keepalived_virtual_server_groups",
    "virtual_server_group fwmark": "VirtualServerGroup.fwmark",
    "virtual_server virtual_server": "HostData.keepalived_virtual_servers",
    "virtual_server real_server": "VirtualServer.real_servers",
    **{f"virtual_server {word}": f"VirtualServer.{word}" for word in (
        "fwmark group ip_family protocol lvs_sched lvs_method delay_loop persistence_timeout "
        "persistence_granularity quorum hysteresis quorum_up quorum_down sorry_server "
        "sorry_server_inhibit alpha omega ha_suspend virtualhost inhibit_on_failure "
        "persistence_engine ops").split()},
    # (the man page's sh-port, sh-fallback, mh-port, mh-fallback: extract.py reads sh, mh)
    "virtual_server sh": "VirtualServer.sh_port",
    "virtual_server mh": "VirtualServer.mh_port",
    **{f"virtual_server {word}": f"RealServer.{word}" for word in
       "weight uthreshold lthreshold notify_up notify_down".split()},
    **{f"virtual_server {keyword}": f"RealServer.{key}" for keyword, key in (
        ("TCP_CHECK", "tcp_checks"), ("HTTP_GET", "http_get"), ("SSL_GET", "ssl_get"),
        ("MISC_CHECK", "misc_check"), ("DNS_CHECK", "dns_checks"),
        ("SMTP_CHECK", "smtp_checks"), ("UDP_CHECK", "udp_checks"),
        ("PING_CHECK", "ping_checks"), ("FILE_CHECK", "file_checks"))},
    **{f"virtual_server {word}": f"Timing.{word}" for word in
       "warmup retry delay_before_retry".split()},
    **{f"virtual_server {word}": f"Checker.{word}" for word in
       "connect_ip connect_port bindto bind_port bind_if connect_timeout".split()},
    "virtual_server url": "HttpGet.urls",
    "virtual_server http_protocol": "HttpGet.http_protocol",
    "virtual_server fast_recovery": "HttpGet.fast_recovery",
    **{f"virtual_server {word}": f"HttpUrl.{word}" for word in (
        "path digest status_code regex regex_no_match regex_options regex_stack "
        "regex_min_offset regex_max_offset").split()},
    "virtual_server enable_sni": "SslGet.enable_sni",
    **{f"virtual_server {word}": f"DnsCheck.{word}" for word in "type name".split()},
    "virtual_server helo_name": "SmtpCheck.helo_name",
    **{f"virtual_server {word}": f"UdpCheck.{word}" for word in "payload require_reply".split()},
    **{f"virtual_server {word}": f"MiscCheck.{word}" for word in
       "misc_path misc_timeout misc_dynamic user".split()},
    "virtual_server track_file": "FileCheck.track_file",
}

INCLUDE_FILE = ("write the block in an operator include file (keepalived_include_files); "
                "keepalived -t checks it")
LVS_INCLUDE = ("LVS details none of the typed keys carries and none of the modules compared "
               "types (the generic scheduler flags flag-1..3, SNMP names, the sorry server's "
               "own method, SSL_GET's TLS compliance, per-server mails and failure logs; "
               "BFD_CHECK, which names a bfd_instance; the SSL block of SSL_GET's client "
               "certificate, with a key file that has no password): " + INCLUDE_FILE + " and the deploy shows the host's kernel "
               "has IPVS for it, as for a typed virtual server")


# reason -> keywords written in extra_lines, or in an operator include file (INCLUDE_FILE)
RAW_ONLY = {
    LVS_INCLUDE: _ids("virtual_server", (
        "flag smtp_alert snmp_name sorry_server_lvs_method log_all_failures tls_compliant "
        "BFD_CHECK ca certificate key")),
    "LVS details of global_defs beyond lvs_sync_daemon and lvs_timeouts (netlink buffers, "
    "IPVS's nftables, SNMP statistics, the checker's mails and FIFO)": _ids("global_defs", (
        "lvs_flush_on_stop lvs_flush_onstop lvs_netlink_cmd_rcv_bufs "
        "lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs "
        "lvs_netlink_monitor_rcv_bufs_force lvs_notify_fifo lvs_notify_fifo_script "
        "nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark "
        "snmp_rs_stats_update_interval snmp_vs_stats_update_interval no_checker_emails "
        "checker_log_all_failures smtp_alert_checker rs_init_notifies")),
    "top-level blocks the model does not type (rarely used: GARP groups, tracking groups, "
    "link polling): " + INCLUDE_FILE: {
        **_ids("top", "linkbeat_interfaces"),
        **_ids("garp_group", "garp_group garp_interval gna_interval interface interfaces"),
        **_ids("track_group", "track_group group"),
    },
    "include's variants (include_check's checks) in an operator include file, naming only "
    "files shipped beside it, as its include (" + INCLUDE_FILE + ")":
        _ids("top", "includea includeb includem includer includew"),
    "an ipvlan instead of use_vmac's macvlan (keepalived 2.2 and later): the host level sets "
    "the sysctls of a macvlan only": _ids("vrrp_instance", "use_ipvlan"),
    "tuning of keepalived's processes (names, CPU affinity, realtime scheduling, resource "
    "limits, netlink and socket buffers): host-specific, rarely set": _ids("global_defs", (
        "bfd_cpu_affinity bfd_process_name "
        "checker_cpu_affinity checker_process_name "
        "child_wait_time ipvs_process_name process_name process_names vrrp_cpu_affinity "
        "vrrp_process_name min_auto_priority_delay "
        "process_monitor_rcv_bufs process_monitor_rcv_bufs_force vrrp_netlink_cmd_rcv_bufs "
        "vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs "
        "vrrp_netlink_monitor_rcv_bufs_force vrrp_rx_bufs_multiplier vrrp_rx_bufs_policy "
        "random_seed umask")),
    "keepalived's own files, reloads and debugging (the deploy owns the config tree and "
    "its reloads; these change neither)": _ids("global_defs", (
        "tmp_config_directory config_save_dir use_pid_dir use_symlink_paths "
        "reload_check_config reload_file reload_repeat reload_time_file state_file_location "
        "stats_file_location json_file_location json_version data_use_instance "
        "fifo_write_vrrp_states_on_reload include_check log_unknown_vrids")),
    "mail, SNMP, D-Bus and FIFO details beyond the typed ones": _ids("global_defs", (
        "dbus_service_name dbus_no_interface_name")),
    "commands run at keepalived's start and stop, outside the deploy's check of scripts "
    "(security, user): a notify script of keepalived_notify_scripts is the typed way":
        _ids("global_defs", "startup_script startup_script_timeout shutdown_script "
                            "shutdown_script_timeout"),
    "GARP, advert and interface details beyond the typed ones (their defaults are "
    "keepalived's)": {
        **_ids("global_defs", (
            "vrrp_garp_extra_if "
            "vrrp_down_timer_adverts v3_checksum_as_v2 linkbeat_use_polling default_interface "
            "vmac_prefix vmac_addr_prefix")),
        **_ids("vrrp_instance", (
            "down_timer_adverts garp_extra_if "
            "old_unicast_checksum timer_expired_backup unicast_fault_no_peer "
            "v3_checksum_as_v2 preempt")),
    },
    "deprecated in an instance (keepalived 2.2.7 and 2.3.3: -t refuses it, so the gate keeps "
    "it from going live): global_defs' linkbeat_use_polling":
        _ids("vrrp_instance", "linkbeat_use_polling"),
    "keepalived's own firewalling with nftables: the deploy manages the host firewall "
    "(keepalived_firewall); keepalived's table is its own, beside it": _ids("global_defs", (
        "nftables nftables_counters nftables_ifindex nftables_priority")),
    "addressing the model types otherwise (unicast_peers and the VIPs): these change where "
    "adverts go or which VIPs there are, which the host firewall and the peers' agreement "
    "could not see": _ids("vrrp_instance", "mcast_dst_ip no_virtual_ipaddress vrf"),
}

NO_RAW_GROUP = ("a sync group has no extra_lines; not typed (notify_priority_changes: the "
                "parser of 2.1.5 does not know it in a sync group, although its man page "
                "lists it)")
# reason -> keywords the deploy refuses (the validation, or no way to write them)
REFUSED = {
    NO_RAW_GROUP: _ids("vrrp_sync_group", (
        "notify_deleted notify_priority_changes sync_group_tracking_weight")),
    "FILE_CHECK's dynamic: the man pages list it, but keepalived 2.2.7's parser does not "
    "know it (keepalived -t: Unknown keyword 'dynamic'), so the gate keeps it from going "
    "live (the Ansible role renders it)": _ids("virtual_server", "dynamic"),
    "the SSL block's password (of an encrypted key file) in an operator include file "
    "(model.includes): it would be shown in diffs and left readable by others; use a key "
    "file without a password, readable by root only": _ids("virtual_server", "password"),
    "a bfd_instance's events go to both of keepalived's processes (vrrp, checker: one "
    "of them only), with one port for both hop counts (multihop: keepalived 2.3 or later; "
    "the deploy runs 2.1.5 too); not typed": _ids("bfd_instance", "checker vrrp multihop"),
    "deprecated: keepalived -t refuses it (the validation says so and names the fix)":
        _ids("vrrp_sync_group", "global_tracking"),
    "refused in extra_lines and in operator include files (model.readers.REFUSED_RAW, "
    "which says why)": _ids(
        "global_defs", "net_namespace net_namespace_ipvs namespace_with_ipsets instance "
                       "vrrp_iptables vrrp_ipsets"),
}


def man_keywords(version):
    """The keywords of keepalived.conf(5) of `version`, as "BLOCK KEYWORD"."""
    with open(os.path.join(DATA_DIR, f"keepalived-{version}.txt")) as handle:
        return [line.strip() for line in handle if line.strip()]


def classes():
    """{"typed" | "raw-only" | "refused": {keyword: model key or reason}}."""
    return {
        "typed": dict(TYPED),
        "raw-only": {keyword: reason for reason, keywords in RAW_ONLY.items()
                     for keyword in keywords},
        "refused": {keyword: reason for reason, keywords in REFUSED.items()
                    for keyword in keywords},
    }


def counts(version):
    """{class: number} of the man page keywords of `version`."""
    listed = classes()
    return {name: sum(keyword in keywords for keyword in man_keywords(version))
            for name, keywords in listed.items()}


def page():
    """The text of docs/keywords.md."""
    lines = [
        "# keepalived.conf keywords",
        "",
        "<!-- Generated by `python3 -m tests.keywords` from tests/keywords.py and the man "
        "pages' keyword lists (tests/data/keywords/); tests/test_keyword_coverage.py keeps "
        "it current. -->",
        "",
        "Every keyword of `keepalived.conf(5)` of the keepalived versions the test hosts run "
        "(Debian 11: 2.1.5, Debian 12: 2.2.7, Debian 13: 2.3.3) is listed once: **typed** "
        "(a data key of the model renders it: see [Data keys](data-keys.md)), **raw-only** "
        "(write it in the block's `extra_lines`, or a block the model does not type in an "
        "[operator include file](keepalived-conf.md); keepalived -t still checks it) or "
        "**refused** (with why). A test fails when a keyword of a man page is in no list; "
        "the typed keywords cover every keyword the Ansible role evrardjp/ansible-keepalived, "
        "voxpupuli/puppet-keepalived and the sous-chefs keepalived cookbook type (LVS: "
        "[LVS](lvs.md); track_file, vrrp_track_process, vmac: [Tracking](tracking.md)).",
        "",
        "| keepalived | keywords | typed | raw-only | refused |",
        "|---|---|---|---|---|",
    ]
    for version in VERSIONS:
        number = counts(version)
        lines.append(f"| {version} | {len(man_keywords(version))} | {number['typed']} | "
                     f"{number['raw-only']} | {number['refused']} |")
    listed = classes()
    lines += ["", "## Typed", "", "| block | keyword | data key |", "|---|---|---|"]
    lines += [f"| {keyword.split()[0]} | `{keyword.split()[1]}` | `{key}` |"
              for keyword, key in sorted(listed["typed"].items())]
    for title, groups in (("Raw-only", RAW_ONLY), ("Refused", REFUSED)):
        lines += ["", f"## {title}", ""]
        for reason, keywords in groups.items():
            lines += [f"- {reason}: " + ", ".join(
                f"`{keyword.split()[1]}`" if keyword.split()[0] in ("top",) else
                f"`{keyword.split()[0]}.{keyword.split()[1]}`" for keyword in keywords)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    with open(PAGE, "w") as handle:
        handle.write(page())
    sys.stdout.write(f"wrote {PAGE}\n")
