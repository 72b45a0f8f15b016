"""Put keepalived (VRRP high availability) on every host of the inventory.

    pyinfra inventory.py deploy.py            # converge
    pyinfra inventory.py deploy.py --dry --diff   # show what would change

Host data is validated for all hosts before anything runs; see README.md for the keys.
"""

from pyinfra_keepalived.deploys.install import keepalived

keepalived()
