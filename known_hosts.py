"""Write a known_hosts file for the VIPs: each VIP (and the DNS names given for it in
`keepalived_vip_names`) with the SSH host keys of every host that can hold it, so a
client with StrictHostKeyChecking=yes logs in through the VIP whichever host holds it.

    pyinfra -y inventory.py known_hosts.py --data known_hosts_file=known_hosts.vips

Changes nothing on the hosts (each answers one fact: its public host keys). Refuses,
writing nothing, when a host of an instance did not answer. See operations/pyinfra_keepalived/deploys/known_hosts.py.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra import host

from pyinfra_keepalived.deploys.known_hosts import write_known_hosts

write_known_hosts(host.data.get("known_hosts_file") or "known_hosts.vips")
