"""Where the deploy keeps its files about its own work on each host (what they mean, and
the lock: operations.state_files, which writes them; the probe reads them all).
"""

from ..render.config import DRAIN_FILE  # (rendered into the config: render owns it)

STATE_DIR = "/var/lib/pyinfra-keepalived"
RELOAD_PENDING = f"{STATE_DIR}/reload-pending"
RESTART_PENDING = f"{STATE_DIR}/restart-pending"
POLICY_RC_D = "/usr/sbin/policy-rc.d"


def created_user_record(user):
    """The file that says this deploy created `user` (written in the command that creates
    it; uninstall removes only a user so recorded). Beside STATE_DIR, not in it: the
    uninstall's config step removes STATE_DIR before the user step runs."""
    return f"/var/lib/pyinfra-keepalived.created-user.{user}"


# what the probe reads of them (the policy-rc.d too, if a killed install left ours:
# operations.rolling.clear_leftovers)
STATE_FILES = (RELOAD_PENDING, RESTART_PENDING, DRAIN_FILE, POLICY_RC_D)
