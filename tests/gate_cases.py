"""Configs every keepalived version the test hosts run must accept: the seed role (the
goldens' hosts) changed block by block (`ACCEPTED`), the coverage example and an LVS config
among them, as host data of two hosts.

The real `keepalived -t` checks them through the deploy's gate: this machine's 2.2.7 in
tests/test_conf_gate.py, 2.1.5 (Debian 11) and 2.3.x (Debian 13) in
tests/e2e/test_releases.py. A keyword a version does not know yet is declared in
pyinfra_keepalived.model.versions (FIRST_VERSION): `for_version` takes it out of the data
for that version, and the e2e test checks the version names it as unknown.
"""

import copy

from pyinfra_keepalived.model.versions import (
    FIRST_VERSION,
    keyword,
    places,
    version_tuple,
)

from .coverage_example import COVERAGE_HOSTS, LVS, NOTIFY_SCRIPTS
from .gate import PORTABLE
from .seed import SEED_HOSTS

ADDRESSES = {"host-01": "192.168.1.2", "host-02": "192.168.1.3"}


def seed_with(instance=None, more_instances=(), **data):
    """The seed hosts (portable), VI_1 changed by `instance` on every host (None removes a
    key), more instances, and host data."""
    hosts = []
    for name, host_data in SEED_HOSTS:
        host_data = copy.deepcopy({**host_data, **PORTABLE, "ssh_hostname": ADDRESSES[name],
                                   **data})
        vi_1 = {key: value for key, value in {**host_data["keepalived_vrrp_instances"][0],
                                              **(instance or {})}.items() if value is not None}
        host_data["keepalived_vrrp_instances"] = [vi_1, *more_instances]
        hosts.append((name, host_data))
    return hosts


NO_AUTH = {"auth_type": None, "auth_pass": None}
VI_2 = {"name": "VI_2", "interface": "eth1", "virtual_router_id": 52,
        "virtual_ipaddresses": ["10.1.0.200/24"]}
NOTIFY = [{"name": "record_state.sh", "template": "notify_record_state.sh.j2",
           "vars": {"log_file": "/tmp/transitions.log"}}]
BACKUP_BOTH = {"keepalived_state": "BACKUP"}

ACCEPTED = {
    "seed": seed_with(),  # (the goldens' hosts, portable)
    "unicast-from-inventory": seed_with({"unicast_peers": "inventory"}),
    "unicast-by-hand": seed_with({"unicast_src_ip": "192.168.1.9",
                                 "unicast_peers": ["192.168.1.10", "192.168.1.11"]}),
    "version-3-sub-second": seed_with({"advert_int": 0.25, **NO_AUTH},
                                      keepalived_global_defs={**PORTABLE["keepalived_global_defs"],
                                                              "vrrp_version": 3}),
    "instance-version-3": seed_with({"version": 3, "advert_int": 0.5, **NO_AUTH}),
    "nopreempt": seed_with({"nopreempt": True}, **BACKUP_BOTH),
    "preempt_delay": seed_with({"preempt_delay": 30}, **BACKUP_BOTH),
    "garp": seed_with({"garp_master_delay": 3, "garp_master_refresh": 60}),
    "notify": seed_with({"notify_master": "record_state.sh MASTER",
                         "notify_backup": "record_state.sh BACKUP",
                         "notify_fault": "record_state.sh FAULT",
                         "notify_stop": "record_state.sh STOP",
                         "notify": "record_state.sh"}, keepalived_notify_scripts=NOTIFY),
    "track_interface": seed_with({"track_interfaces": ["eth1", "eth2 weight -30"]}),
    "vip-options": seed_with({"virtual_ipaddresses": [
        "192.168.1.100/24 dev eth0 label eth0:vip scope global",
        {"address": "192.168.1.101/24", "dev": "eth1", "scope": "link"}]}),
    "excluded-and-routes": seed_with({
        "virtual_ipaddresses_excluded": ["2001:db8::100/64", "192.168.1.150/24 dev eth1"],
        "virtual_routes": ["10.9.0.0/16 via 192.168.1.254",
                           "default via 192.168.1.254 dev eth0 table 100",
                           {"to": "10.8.0.0/16", "src": "192.168.1.100", "metric": 5}]}),
    "sync-group": seed_with({"track_scripts": []}, [VI_2], keepalived_check_scripts=[],
                            keepalived_sync_groups={"VG_1": {"instances": ["VI_1", "VI_2"]}}),
    "ipv6": seed_with({"virtual_ipaddresses": ["2001:db8::100/64"], "advert_int": 0.5,
                       **NO_AUTH}),
    "native_ipv6": seed_with({"virtual_ipaddresses": ["2001:db8::100/64"],
                              "native_ipv6": True, **NO_AUTH}),
    "extra_lines": seed_with(
        {"extra_lines": ["smtp_alert", "unicast_peer {", "192.168.1.12", "}"]},
        keepalived_global_defs={**PORTABLE["keepalived_global_defs"],
                                "extra_lines": ["vrrp_min_garp true"]},
        keepalived_check_scripts=[{**SEED_HOSTS[0][1]["keepalived_check_scripts"][0],
                                   "extra_lines": ["init_fail"]}]),
    "use_vmac": seed_with({"use_vmac": True, "use_vmac_addr": True,
                           "virtual_ipaddresses_excluded": ["2001:db8::100/64"]}),
    # Debian's samples keepalived.conf.vrrp.static_ipaddress and .rules as data (their rules
    # with a priority: 2.2.7's -t refuses a rule without, and their typo 192.168.100./24
    # written out)
    "debian-samples-static-and-rules": seed_with(
        {"virtual_rules": ["from 192.168.200.0/24 table 2 priority 102",
                           {"to": "192.168.200.0/24", "table": 2, "priority": 103}]},
        keepalived_static_ipaddresses=["192.168.200.16 dev eth0 scope link",
                                       "192.168.200.17 dev eth1 scope link",
                                       "192.168.200.18 dev eth2"],
        keepalived_static_rules=["from 192.168.100.0/24 table 1 priority 100",
                                 "to 192.168.100.0/24 table 1 priority 101"]),
    "everything": COVERAGE_HOSTS,
    # the coverage example's LVS on the seed (keepalived -t reads it without IPVS)
    "lvs": seed_with(keepalived_notify_scripts=NOTIFY_SCRIPTS, **LVS),
    # (keepalived 2.1.5 does not know these UDP_CHECK keywords: model.versions)
    "lvs-udp-check-2.2": seed_with(keepalived_virtual_servers=[
        {"ip": "192.168.1.100", "port": 53, "protocol": "UDP", "lvs_method": "NAT",
         "real_servers": [{"ip": "192.168.1.11", "udp_checks": [
             {"payload": "0a0b", "require_reply": "0a", "min_reply_length": 1,
              "max_reply_length": 512}]}]}]),
}


def for_version(hosts, version):
    """`hosts` as keepalived `version` (a tuple) gets them: every keyword it does not know
    yet (model.versions.FIRST_VERSION) taken out. Returns (hosts, {key path: first version}
    of the keywords taken out, on any host)."""
    hosts = copy.deepcopy(hosts)
    unknown = {}
    for path, first in FIRST_VERSION.items():
        if version < version_tuple(first):
            for _, data in hosts:
                for where, mapping in places(data, path):
                    unknown[f"{where}.{keyword(path)}"] = first
                    del mapping[keyword(path)]
    return hosts, unknown
