"""Print, per host and VRRP instance: state, effective priority, the VIPs it holds and the
last transition; then flag split brain (two MASTERs) and instances without a MASTER.

    pyinfra inventory.py status.py

Changes nothing (keepalived is asked for its data dump, see
operations/pyinfra_keepalived/facts/keepalived.py); with --dry it reads nothing at all (the
dump is a signal that makes keepalived write a file on the host). An instance whose hosts
are all BACKUP within their first Master_Down_Interval after a start, reload or restart is
ELECTING, no error. Exit codes: 0 every instance has one MASTER (or is electing it);
2 split brain, or an instance without a MASTER (its hosts all read); 1 a host could not be
reached (pyinfra's own code for a failed host), or another error.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra_keepalived.deploys.status import report

report()
