"""Remove keepalived from every host: stop and disable it, delete leftover VIPs, purge the
package, remove /etc/keepalived and the script user (kept while a process runs as it).

    pyinfra -y inventory.py uninstall.py --dry   # what would be removed
    pyinfra -y inventory.py uninstall.py

See operations/pyinfra_keepalived/deploys/uninstall.py.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra_keepalived.deploys.uninstall import uninstall

uninstall()
