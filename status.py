"""Print, per host and VRRP instance: state, effective priority, the VIPs it holds and the
last transition; then flag split brain (two MASTERs) and instances without a MASTER.

    pyinfra inventory.py status.py

Changes nothing (keepalived is asked for its data dump, see operations/facts/keepalived.py). Exits 1
when an instance has no MASTER or more than one.
"""

from pyinfra_keepalived.deploys.status import report

report()
