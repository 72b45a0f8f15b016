"""Copy /etc/keepalived of every host into backups/<UTC time>/<host>.tar.gz here.

    pyinfra -y inventory.py backup.py
    pyinfra -y inventory.py backup.py --data backup_dir=/srv/keepalived-backups

Archives hold auth_pass: they are mode 600 in a mode 700 directory. See operations/pyinfra_keepalived/deploys/backup.py.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra import host

from pyinfra_keepalived.deploys.backup import backup

backup(host.data.get("backup_dir") or "backups")
