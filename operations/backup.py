"""Back up each host's keepalived config tree to the control machine.

    pyinfra -y inventory.py backup.py                          # ./backups/<UTC time>/<host>.tar.gz
    pyinfra -y inventory.py backup.py --data backup_dir=/srv/keepalived-backups

One timestamp per run, shared by all hosts. The archives hold auth_pass: the run's
directory is created mode 700 and each archive is chmod 600 (also inside the archive,
files keep their modes, 20-vrrp_instances.conf stays 600).
"""

import os
import time

from pyinfra import host, state
from pyinfra.api import deploy
from pyinfra.operations import files, python, server

from .keepalived import host_settings

_stamps = {}  # the last inventory, and its run's timestamp


def run_stamp():
    """The UTC time of this run, e.g. 20261124T213000Z: the same for every host."""
    if _stamps.get("inventory") is not state.inventory:
        _stamps.update(inventory=state.inventory,
                       stamp=time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    return _stamps["stamp"]


def make_private_dir(path):
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


@deploy("Keepalived backup")
def backup(directory="backups"):
    """Archive the base dir (default /etc/keepalived) on the host, download it to
    `directory`/<run time>/<host>.tar.gz (600, in a 700 dir), remove the remote archive."""
    base_dir = host_settings().paths.base_dir
    run_dir = os.path.join(directory, run_stamp())
    local = os.path.join(run_dir, f"{host.name}.tar.gz")
    remote = host.get_temp_filename(f"keepalived-backup-{run_stamp()}")
    server.shell(
        name=f"Archive {base_dir}",
        commands=[f"umask 077 && tar -czf {remote} -C {os.path.dirname(base_dir)} "
                  f"{os.path.basename(base_dir)}"],
    )
    python.call(name=f"Create {run_dir} (mode 700)", function=make_private_dir, path=run_dir)
    files.get(name=f"Download it to {local}", src=remote, dest=local)
    python.call(name="Make it mode 600", function=os.chmod, path=local, mode=0o600)
    files.file(name="Remove the archive from the host", path=remote, present=False)
