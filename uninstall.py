"""Remove keepalived from every host: stop and disable it, delete leftover VIPs, purge the
package, remove /etc/keepalived and the script user (kept while a process runs as it).

    pyinfra -y inventory.py uninstall.py --dry   # what would be removed
    pyinfra -y inventory.py uninstall.py

See operations/deploys/uninstall.py.
"""

from pyinfra_keepalived.deploys.uninstall import uninstall

uninstall()
