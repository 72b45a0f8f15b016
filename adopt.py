"""Adopt a cluster that already runs keepalived: each host's live config (keepalived.conf,
what it includes, the scripts it names) becomes this deploy's data.

    pyinfra inventory.py adopt.py --data adopt_out=adopted      # default: ./adopted

Writes adopted/inventory.py and adopted/group_data/*.py (mode 600: auth_pass is in
them), the check scripts into ./templates/, and compares the render with the live config
(every difference listed); changes nothing on a host. See docs/migrating.md and
operations/pyinfra_keepalived/deploys/adopt.py (exit codes 0 complete, 1 incomplete,
2 bad input: nothing written).
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra import host

from pyinfra_keepalived.deploys.adopt import adopt

adopt(host.data.get("adopt_out") or "adopted", host.data.get("keepalived_config_file"))
