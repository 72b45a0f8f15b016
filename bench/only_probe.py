"""A deploy that only reads the one fact deploy.py reads (pyinfra_keepalived.facts.probe) and adds no
operation: what reading a host's state costs. deploy.py's no-op compares against that
state, so it cannot cost less (bench/deploy_speed.py times it next to deploy.py's).

    pyinfra INVENTORY bench/only_probe.py -y    (from the repo root)
"""

from pyinfra_keepalived.facts.probe import read_probe
from pyinfra_keepalived.operations.system import host_settings

read_probe(host_settings())
