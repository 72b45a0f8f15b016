"""Fail one VRRP instance over to its backup and back, and print how long each took.

    pyinfra -y inventory.py drill.py --data drill_instance=VI_1

Refuses, before touching any host, when the backup is not healthy (keepalived stopped,
FAULT, failing check script), when there is no backup, or on split brain / no master.
See operations/pyinfra_keepalived/deploys/drill.py.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra import host

from pyinfra_keepalived.deploys.drill import drill

drill(host.data.get("drill_instance"))
