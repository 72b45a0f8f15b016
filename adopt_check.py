"""Prove that the inventory's config means the same as what each host runs now: the live
config (read from the host, as adopt.py reads it) and the render of the inventory, both
parsed and normalised (block and keyword order, whitespace, quoting, comments, includes,
keepalived's defaults left out; the scripts at their path in the scripts dir, their text
compared), every difference listed block by block, an auth_pass never shown.

    pyinfra inventory.py adopt_check.py

Changes nothing. Exit codes: 0 the same on every host; 1 differences (listed); 2 bad
input (data refused, a live config that cannot be read). See docs/migrating.md.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra import host

from pyinfra_keepalived.deploys.adopt import compare

compare(host.data.get("keepalived_config_file"))
