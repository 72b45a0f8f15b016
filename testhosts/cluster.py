"""Start N systemd + sshd test hosts on a private docker network, and write their inventory.

Everything created carries the label `keepalived-testhosts.cluster=<name>`; teardown removes
exactly that, so tests never touch containers or networks they did not create.
"""

import io
import ipaddress
import os
import pprint
import runpy
import tarfile
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .image import APT_CACHE_PACKAGES, DEFAULT_RELEASE, OPERATOR_USER, ensure_image

LABEL = "keepalived-testhosts.cluster"
REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE_DIR = os.path.join(REPO_DIR, ".testhosts")
EXAMPLE_GROUP_DATA = os.path.join(REPO_DIR, "group_data", "jump_hosts.py")
GROUP = "keepalived_testhosts"
APT_CACHE = "apt-cache"  # the package cache's host name
VIP_OFFSET = 200  # the VIP is the network's address number 200 (hosts get 2, 3, ...)


def host_names(count):
    return [f"host-{i:02d}" for i in range(1, count + 1)]


def priority_and_state(index, count):
    """The seed's example extended for more hosts: 100 MASTER, then 90, 80, ... BACKUP
    (smaller steps beyond 10 hosts: 20 hosts get 100, 96, ..., 24)."""
    step = 10 if count <= 10 else 90 // (count - 1)
    return 100 - step * index, "MASTER" if index == 0 else "BACKUP"


class Cluster:
    """`networks`: how many private networks each host is on (eth0, eth1, ...)."""

    def __init__(self, client, name, count=2, release=DEFAULT_RELEASE, log=print, networks=1,
                 apt_cache=False):
        self.client, self.name, self.count, self.release, self.log = (
            client, name, count, release, log)
        self.hosts = host_names(count)
        self.networks = networks
        self.apt_cache = apt_cache  # a package cache on the network, as fleets have
        self.dir = os.path.join(STATE_DIR, name)
        self.inventory_path = os.path.join(self.dir, "inventory.py")
        self.docker_inventory_path = os.path.join(self.dir, "inventory_docker.py")
        self.key_path = os.path.join(self.dir, "id_ed25519")
        self.known_hosts_path = os.path.join(self.dir, "known_hosts")

    # -- lifecycle --

    def up(self):
        image = ensure_image(self.client, self.release, log=self.log)
        os.makedirs(self.dir, exist_ok=True)
        public_key = self._write_key()
        network, *more_networks = [
            self.client.networks.create(self.network_name(index), driver="bridge",
                                        labels={LABEL: self.name})
            for index in range(self.networks)]
        if self.apt_cache:
            self.log(f"Starting {self.name}/{APT_CACHE} (apt-cacher-ng) ...")
            self._start(ensure_image(self.client, self.release, log=self.log,
                                     extra=APT_CACHE_PACKAGES), APT_CACHE, network)
        for host in self.hosts:
            self.log(f"Starting {self.name}/{host} ({self.release}) ...")
            self._start(image, host, network)
            for extra in more_networks:  # eth1, eth2, ...
                extra.connect(self.container_name(host))
        for host in self.hosts:
            self._wait_ready(host, public_key)
        if self.apt_cache:
            self._wait_active(APT_CACHE, "apt-cacher-ng.service")
        self.write_inventory()
        return self

    def _start(self, image, host, network):
        self.client.containers.run(
            image, name=self.container_name(host), hostname=host, detach=True,
            network=network.name, labels={LABEL: self.name},
            cap_add=["NET_ADMIN", "NET_RAW", "SYS_ADMIN"],
            tmpfs={"/run": "", "/run/lock": "", "/tmp": ""},
            volumes={"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "ro"}},
            stop_signal="SIGRTMIN+3", command=["/lib/systemd/systemd"],
        )

    def start_extra(self, name):
        """Start one more container of the hosts' image on network 0 (e.g. an SSH client
        beside the hosts), labelled like them so down() removes it; returns `name`, which
        run(), put_file() and address() then take like a host's."""
        self._start(ensure_image(self.client, self.release, log=self.log), name,
                    self.network())
        self._wait_active(name, "dbus.service")
        return name

    def put_file(self, host, path, content, mode=0o600):
        """Write `content` (str) at `path` in a host, owned by root, through docker."""
        data = content.encode()
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w") as tar:
            info = tarfile.TarInfo(os.path.basename(path))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        self.container(host).put_archive(os.path.dirname(path), archive.getvalue())

    def down(self):
        for container in self.client.containers.list(all=True,
                                                     filters={"label": f"{LABEL}={self.name}"}):
            container.remove(force=True)
        for network in self.client.networks.list(filters={"label": f"{LABEL}={self.name}"}):
            network.remove()

    # -- facts about the running cluster --

    def container_name(self, host):
        return f"kt-{self.name}-{host}"

    def container(self, host):
        return self.client.containers.get(self.container_name(host))

    def network_name(self, index=0):
        """Network 0 is each host's eth0, network 1 its eth1, ..."""
        return f"kt-{self.name}" if index == 0 else f"kt-{self.name}-net{index}"

    def network(self, index=0):
        return self.client.networks.get(self.network_name(index))

    def subnet(self, index=0):
        return ipaddress.ip_network(self.network(index).attrs["IPAM"]["Config"][0]["Subnet"])

    def vip(self, index=0):
        subnet = self.subnet(index)
        return f"{subnet.network_address + VIP_OFFSET}/{subnet.prefixlen}"

    def address(self, host, index=0):
        container = self.container(host)
        container.reload()
        networks = container.attrs["NetworkSettings"]["Networks"]
        return networks[self.network_name(index)]["IPAddress"]

    def run(self, host, command):
        """Run a shell command as root in a host; returns (exit code, output)."""
        result = self.container(host).exec_run(["sh", "-c", command])
        return result.exit_code, result.output.decode(errors="replace")

    def holds(self, host, address=None, dev="eth0"):
        """Whether the host's `dev` holds `address` (default: the VIP)."""
        ip = (address or self.vip()).split("/")[0]
        return f" {ip}/" in self.run(host, f"ip -o addr show dev {dev}")[1]

    def holders(self, address=None, dev="eth0"):
        """The hosts whose `dev` holds `address` (default: the VIP)."""
        return [host for host in self.hosts if self.holds(host, address, dev)]

    def host_keys(self, host):
        """The host's SSH public host keys, [(type, base64)], read with docker exec (trusted,
        unlike a key offered over the network). Each host generated its own at first boot."""
        code, output = self.run(host, "cat /etc/ssh/ssh_host_*_key.pub")
        keys = [tuple(line.split()[:2]) for line in output.splitlines() if line.strip()]
        if code != 0 or not keys:
            raise RuntimeError(f"{self.container_name(host)} has no SSH host keys: {output}")
        return keys

    def journal_cursor(self, host):
        """A mark in the host's journal, to read what is logged after it."""
        output = self.run(host, "journalctl -n 1 --show-cursor --no-pager -o cat")[1]
        return output.rsplit("-- cursor: ", 1)[1].strip()

    def journal_since(self, host, cursor, unit="keepalived"):
        """What `unit` logged on the host after `cursor` (see journal_cursor)."""
        return self.run(host, f"journalctl -u {unit} --no-pager -o cat "
                              f"--after-cursor='{cursor}'")[1]

    # -- faults --

    def partition(self, host):
        """Cut the host off the network: it drops every packet in and out of eth0, the way a
        pulled cable or a dead switch port would, while its interface stays up. (`docker
        network disconnect` is no model of this: the interface vanishes, and comes back
        named eth1.)"""
        self.run(host, "nft -f - <<'EOF'\n"
                       "table inet testhosts_partition {\n"
                       "  chain in  { type filter hook input priority -300; iifname eth0 drop; }\n"
                       "  chain out { type filter hook output priority -300; oifname eth0 drop; }\n"
                       "}\nEOF")

    def heal(self, host):
        self.run(host, "nft delete table inet testhosts_partition")

    # -- setup helpers --

    def _write_key(self):
        key = Ed25519PrivateKey.generate()
        with open(os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.OpenSSH,
                                      serialization.NoEncryption()))
        return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()

    def _wait_ready(self, host, public_key, timeout=90):
        ssh_dir = f"/home/{OPERATOR_USER}/.ssh"
        self.run(host, f"echo '{public_key}' > {ssh_dir}/authorized_keys && "
                       f"chown {OPERATOR_USER}: {ssh_dir}/authorized_keys && "
                       f"chmod 600 {ssh_dir}/authorized_keys")
        self._wait_active(host, "ssh.service dbus.service", timeout)

    def _wait_active(self, host, units, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # `is-active A B` exits 0 when ANY of them is active: read each unit's line
            code, output = self.run(host, f"systemctl is-active {units}")
            if output.split() == ["active"] * len(units.split()):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.container_name(host)} did not start {units} in {timeout}s: "
                           f"{output.strip()}")

    def write_inventory(self):
        """A pyinfra inventory for the hosts: SSH as the sudo user, the example's data with
        the VIP moved into this cluster's network."""
        hosts, known_hosts = [], []
        for index, host in enumerate(self.hosts):
            address = self.address(host)
            hosts.append((host, {"ssh_hostname": address, **self._host_data(index)}))
            known_hosts += [f"{address} {key_type} {key}\n"
                            for key_type, key in self.host_keys(host)]
        with open(self.known_hosts_path, "w") as f:
            f.writelines(known_hosts)
        ssh = {
            "ssh_user": OPERATOR_USER,
            "ssh_key": self.key_path,
            "ssh_known_hosts_file": self.known_hosts_path,
            "ssh_strict_host_key_checking": "yes",
            "_sudo": True,
        }
        return self._write(self.inventory_path, hosts, {**ssh, **self._group_data()})

    def write_docker_inventory(self):
        """The same hosts reached with pyinfra's @docker connector (`docker exec`, as root)."""
        hosts = [(f"@docker/{self.container_name(host)}", self._host_data(index))
                 for index, host in enumerate(self.hosts)]
        return self._write(self.docker_inventory_path, hosts, self._group_data())

    def derived_inventory(self, path, edit, host_edit=None):
        """Write, at `path`, the cluster's inventory with its group data `edit(group_data)`
        (a new dict) and each host's data `host_edit(name, data)` (a new dict; default: as
        it is); returns `path`."""
        hosts, group_data = runpy.run_path(self.inventory_path)[GROUP]
        if host_edit is not None:
            hosts = [(name, host_edit(name, data)) for name, data in hosts]
        return self._write(path, hosts, edit(group_data))

    def _host_data(self, index):
        priority, state = priority_and_state(index, self.count)
        return {"keepalived_priority": priority, "keepalived_state": state}

    def _group_data(self):
        example = runpy.run_path(EXAMPLE_GROUP_DATA)
        instances = [dict(instance, virtual_ipaddresses=[self.vip()])
                     for instance in example["keepalived_vrrp_instances"]]
        data = {"keepalived_vrrp_instances": instances,
                "keepalived_check_scripts": example["keepalived_check_scripts"]}
        if self.apt_cache:
            data["keepalived_package_proxy"] = f"http://{self.address(APT_CACHE)}:3142"
        return data

    def _write(self, path, hosts, group_data):
        with open(path, "w") as f:
            f.write(f'"""Docker test hosts of cluster {self.name!r}, written by '
                    f'`python -m testhosts up`.\n\nVIP {self.vip()}; '
                    f'remove with `python -m testhosts down --name {self.name}`."""\n\n'
                    f"{GROUP} = (\n{pprint.pformat(hosts, indent=4, sort_dicts=False)},\n"
                    f"{pprint.pformat(group_data, indent=4, sort_dicts=False)},\n)\n")
        return path


def find_clusters(client):
    """Names of the clusters that exist (from their labels)."""
    return sorted({c.labels[LABEL] for c in client.containers.list(
        all=True, filters={"label": LABEL})})
