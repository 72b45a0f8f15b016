"""Where the deploy's files are on a host, and the constants more than one layer shares:
each written once, here. Below the layers, beside `shipped` and `per_run` (it imports
none of them), so that render, facts, operations and deploys all take them from here.

What each file holds, and when it is written, is said where it is written
(operations.state_files for the deploy's own files, operations.host_level and
operations.firewall for those around keepalived). What an operator may set (the config
tree's base dir, the lock wait an inventory may change) has its default in the model.
"""

# -- The deploy's own work on a host (operations.state_files writes them, the probe reads them)

# the markers of work a run left unfinished
STATE_DIR = "/var/lib/pyinfra-keepalived"
# new files are live, keepalived has not reloaded them yet
RELOAD_PENDING = f"{STATE_DIR}/reload-pending"
# the package or the daemon options changed, keepalived has not restarted yet
RESTART_PENDING = f"{STATE_DIR}/restart-pending"
# the host's drain: a track_file added to drainable instances' priority (tmpfs: a reboot undrains)
DRAIN_FILE = "/run/pyinfra-keepalived.drain"
# the drain's track_file name in keepalived.conf (render.config); instance NAME's own drain
# is DRAIN_TRACKER_NAME, its file DRAIN_FILE.NAME (no operator's track_file may take them)
DRAIN_TRACKER = "pyinfra_drain"
# ours only during an install (Debian): the package's scripts restart nothing
POLICY_RC_D = "/usr/sbin/policy-rc.d"
# what the probe reads of them (the policy-rc.d too, if a killed install left ours)
STATE_FILES = (RELOAD_PENDING, RESTART_PENDING, DRAIN_FILE, POLICY_RC_D)


def created_user_record(user):
    """The file that says this deploy created `user` (written in the command that creates
    it; uninstall removes only a user so recorded). Beside STATE_DIR, not in it: the
    uninstall's config step removes STATE_DIR before the user step runs."""
    return f"/var/lib/pyinfra-keepalived.created-user.{user}"


# a directory only root may use: the lock, its holder, the drill's results
RUN_DIR = "/run/pyinfra-keepalived"
LOCK_FILE = f"{RUN_DIR}/lock"  # held (flock) by whatever changes the host
LOCK_HOLDER = f"{RUN_DIR}/holder"  # who holds the lock: pid, login user, since when, what
# how long a second run waits for the first before failing the host: keepalived_lock_wait's
# default (model.keys), and the wait of the commands that take no host data
LOCK_WAIT_SECONDS = 120

# -- Uploads (operations.uploads makes the directories, the probe finds broken-off runs')

# the upload directories' parent, unless the operation's _temp_dir or pyinfra's TEMP_DIR says
DEFAULT_PARENT = "/var/tmp"
UPLOAD_PREFIX = "keepalived-deploy."  # an upload directory's name before its random part

# -- keepalived and the files around it

SERVICE = "keepalived.service"  # the packaged systemd unit
CURRENT = ".current"  # BASE_DIR/.current: the symlink to the live generation (transaction.sh)
# the unit's drop-in (render.host_level.service_dropin)
DROPIN = "/etc/systemd/system/keepalived.service.d/pyinfra-keepalived.conf"
SYSCTL_FILE = "/etc/sysctl.d/60-keepalived-nonlocal-bind.conf"  # sets ip_nonlocal_bind
# sets arp_ignore and arp_filter on the interfaces of instances with a VRRP virtual MAC
VMAC_SYSCTL_FILE = "/etc/sysctl.d/60-keepalived-vmac.conf"
# An LVS-DR real server's: ARP sysctls, and the unit that puts the virtual addresses on lo
DR_SYSCTL_FILE = "/etc/sysctl.d/60-keepalived-lvs-dr.conf"
DR_UNIT_NAME = "keepalived-lvs-dr.service"
DR_UNIT = f"/etc/systemd/system/{DR_UNIT_NAME}"
# needrestart's config snippet that keeps it from restarting keepalived
# (render.host_level.needrestart_conf)
NEEDRESTART_CONF = "/etc/needrestart/conf.d/pyinfra-keepalived.conf"
# package manager -> (options file, variable the packaged unit passes to keepalived)
OPTIONS_FILES = {"apt": ("/etc/default/keepalived", "DAEMON_ARGS"),
                 "dnf": ("/etc/sysconfig/keepalived", "KEEPALIVED_OPTIONS")}
FIREWALL_COMMAND = "/usr/local/sbin/keepalived-vrrp-firewall"  # vrrp_firewall.sh's copy

# -- The system's own

OS_RELEASE = "/etc/os-release"  # the distro, which decides the package manager
APT_STAMP = "/var/lib/apt/periodic/update-success-stamp"  # apt-get update touches it
APT_CACHE_SECONDS = 3600  # apt's lists younger than this (APT_STAMP) are not refreshed first
