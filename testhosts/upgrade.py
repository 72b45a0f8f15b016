"""A package upgrade on Debian test hosts, for the rolling-restart test and bench.

Debian 12 (bookworm and bookworm-backports) offers one keepalived version, so the upgrade
is to a repackaged copy of it with a higher version (the same files and maintainer
scripts) in a local apt repository on each host: apt sees a real upgrade.

    code, output = cluster.run(host, local_upgrade_command())
    data["keepalived_package_version"] = UPGRADE
"""

import os
import shlex

UPGRADE = "1:2.2.7-1+b2+roll1"
SCRIPT = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "local_upgrade.sh")).read()


def local_upgrade_command(version=UPGRADE):
    """The shell command that offers keepalived `version` from a local repository."""
    return f"sh -c {shlex.quote(SCRIPT)} local-upgrade {shlex.quote(version)}"
