"""Put keepalived (VRRP high availability) on every host of the inventory.

    pyinfra inventory.py deploy.py            # converge
    pyinfra inventory.py deploy.py --dry --diff   # show what would change

Host data is validated for all hosts before anything runs; see docs/data-keys.md for the keys.
"""

import os
import sys

# This checkout's package first, whatever else is installed (its path is its import name).
SOURCE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "operations")
if sys.path[:1] != [SOURCE_ROOT]:
    sys.path.insert(0, SOURCE_ROOT)

from pyinfra_keepalived.deploys.install import keepalived

keepalived()
