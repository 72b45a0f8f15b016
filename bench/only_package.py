"""A deploy that only sends deploy.py's package command, as deploy.py sends it to a fresh
Debian host (apt's lists refreshed and keepalived installed in one command, under the
deploy lock, with the package's own restart held off): what installing the package costs.
deploy.py's cold converge sends that command too, so it cannot cost less
(bench/deploy_speed.py times the two in pairs, each on fresh hosts).

    pyinfra INVENTORY bench/only_package.py -y    (from the repo root)

The command is built by deploy.py's own code (pyinfra_keepalived.deploys.install.package)
from the plan (operations.plan) of what its probe finds on a fresh test host, a
`HostProbe` with its defaults: no keepalived, the service not running (apt's lists,
never refreshed there, are refreshed by the command itself). So no host is read here. `bare`: without what deploy.py adds to
that command on such a host (the script user, systemd's reload of its units).
"""

from pyinfra_keepalived.deploys.install import package
from pyinfra_keepalived.facts.probe import HostProbe
from pyinfra_keepalived.operations.plan import plan_host
from pyinfra_keepalived.operations.system import host_settings, package_manager

FRESH_DEBIAN_HOST = HostProbe(os_release={"ID": "debian"})

settings = host_settings()
manager = package_manager(FRESH_DEBIAN_HOST.os_release)
package(settings, manager, plan_host(settings, {}, FRESH_DEBIAN_HOST, manager), bare=True)
