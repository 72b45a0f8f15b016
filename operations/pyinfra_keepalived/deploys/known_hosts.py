"""known_hosts for the VIPs: a client that logs in through a VIP meets whichever host holds
it, each with its own SSH host keys. OpenSSH accepts a login when any line for the name
it connects to matches, so the file lists, under each VIP (and its DNS names), the keys
of every host configured for the VIP's instance.

    pyinfra -y inventory.py known_hosts.py --data known_hosts_file=known_hosts.vips

Each host answers one ``SshHostKeys`` fact; they are fetched once per run, by whichever
host's deploy code asks first (as deploys/status.py does). `known_hosts_lines` is pure
and unit tested. What it reports goes through pyinfra's logger (stderr): stdout stays
pyinfra's own (pure JSON with `--json`).
"""

import os
import tempfile

from pyinfra import logger, state
from pyinfra.api.exceptions import DeployError

from ..facts.ssh_host_keys import SshHostKeys
from ..model.fleet import check_inventory
from ..model.peers import holders
from ..per_run import once_per_run


def with_port(name, port):
    """The name a client on `port` looks up in known_hosts: OpenSSH's `[name]:port` for a
    port other than 22 (also for IPv6 addresses), else the name itself."""
    return name if port == 22 else f"[{name}]:{port}"


def known_hosts_lines(settings, keys, names):
    """The known_hosts file's lines. `settings`: {host: Settings}, inventory order;
    `keys`: {host: [(type, base64)]}; `names`: {vip address: [DNS name]}. Per instance a
    comment line, then one line per distinct key of its hosts, for its VIPs and names, on
    each host's keepalived_ssh_port (`[name]:port` unless 22)."""
    lines = []
    for name, (vips, hosts) in holders(settings).items():
        ports = dict.fromkeys(settings[host].ssh_port for host in hosts)
        patterns = [*(n for vip in vips for n in names.get(vip, ()) if n), *vips]
        patterns = ",".join(dict.fromkeys(with_port(pattern, port)
                                          for port in ports for pattern in patterns))
        on_ports = "" if list(ports) == [22] else f" port {', '.join(map(str, ports))}"
        lines.append(f"# {name}: {' '.join(vips)}{on_ports} held by one of {', '.join(hosts)}")
        seen = set()
        for host in hosts:
            for key_type, key in keys[host]:
                if (key_type, key) not in seen:
                    seen.add((key_type, key))
                    lines.append(f"{patterns} {key_type} {key} {host}")
    return lines


def vip_names(inventory):
    """{vip address: [DNS name]} from every host's keepalived_vip_names (validated)."""
    names = {}
    for host in inventory:
        for vip, host_names in (host.data.get("keepalived_vip_names") or {}).items():
            names.setdefault(vip, [])
            names[vip] += [name for name in host_names if name not in names[vip]]
    return names


def write_known_hosts(path):
    """Fetch every host's keys (once per run) and write `path` (mode 644: public keys) in
    one rename. Raises DeployError, writing nothing, if a host of an instance did not
    answer (unreachable, or left out with --limit)."""
    once_per_run("known_hosts file", lambda: _write(path))


def _write(path):
    settings = check_inventory(state.inventory)
    active = set(state.inventory.get_active_hosts())
    keys = {host.name: host.get_fact(SshHostKeys)
            for host in state.inventory if host in active}
    missing = [host for host, host_settings in settings.items()
               if host_settings.instances and not keys.get(host)]
    if missing:
        raise DeployError(f"known_hosts: no SSH host keys from {', '.join(missing)} "
                          f"(not reached, or left out); {path} was not written")
    lines = known_hosts_lines({host: settings[host] for host in keys}, keys,
                              vip_names(state.inventory))
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".known_hosts.")
    with os.fdopen(handle, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    # (pyinfra's logger, on stderr: stdout stays pyinfra's, pure JSON with --json)
    logger.info("\n".join([
        f"wrote {path}: {sum(not line.startswith('#') for line in lines)} keys",
        *(f"  {line[2:]}" for line in lines if line.startswith("# "))]))
