"""Print, per host and VRRP instance: state, effective priority, the VIPs it holds and the
last transition; then flag split brain (two MASTERs) and instances without a MASTER.

    pyinfra inventory.py status.py

Changes nothing (keepalived is asked for its data dump, see operations/pyinfra_keepalived/facts/keepalived.py). Exits 1
when an instance has no MASTER or more than one.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra_keepalived.deploys.status import report

report()
