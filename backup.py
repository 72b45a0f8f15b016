"""Copy /etc/keepalived of every host into backups/<UTC time>/<host>.tar.gz here.

    pyinfra -y inventory.py backup.py
    pyinfra -y inventory.py backup.py --data backup_dir=/srv/keepalived-backups

Archives hold auth_pass: they are mode 600 in a mode 700 directory. See operations/deploys/backup.py.
"""

from pyinfra import host

from pyinfra_keepalived.deploys.backup import backup

backup(host.data.get("backup_dir") or "backups")
