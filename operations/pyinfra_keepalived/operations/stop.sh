# Stop keepalived on this host, its VIPs first handed to a healthy peer (uninstall's stop,
# operations/handover.py), under the deploy lock (lock.sh, state_files.sh, vrrp_dump.sh
# and handover.sh come first):
#
#   stop.sh HOST DRAIN DRAIN_WAIT DRAIN_VIPS STOP_VIPS KEPT REFUSED REASON
#
# HOST: the inventory name, for messages; the rest: hand_over's (handover.sh). When the
# VIPs cannot go to a healthy peer keepalived keeps running, undrained, and the step fails.
host=$1
shift
# A dropped SSH link must not stop the handover half-way (drained): it runs to its end.
trap '' HUP PIPE
hand_over "$@" || {
  echo "$host ($(hostname)): $why; keepalived was NOT stopped" >&2
  exit 1
}
systemctl stop keepalived.service
