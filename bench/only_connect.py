"""A deploy that only runs `true` on each host, under the inventory's sudo: what pyinfra's
SSH connection and sudo cost there. No deploy's no-op can cost less (bench/deploy_speed.py
times it next to deploy.py's).

    pyinfra INVENTORY bench/only_connect.py -y    (from the repo root)
"""

from pyinfra import host
from pyinfra.facts.server import Command

host.get_fact(Command, "true")
