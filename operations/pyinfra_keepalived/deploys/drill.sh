# A failover drill of one instance on its master (deploys/drill.py), run by drill_start.sh
# as a transient systemd service, under the deploy lock (lock.sh, state_files.sh,
# vrrp_dump.sh and operations/handover.sh come first):
#
#   drill.sh RESULT DRAIN TIMEOUT VIPS
#
# DRAIN: the instance's own drain (a track_file only that instance tracks): -253 there
# moves that instance's VIPS (space-separated) to its backup, and nothing else; 0 brings
# them back (preempt). Each move gets TIMEOUT seconds; the times, from the host's
# monotonic clock, go to the file RESULT ("failover SECONDS" / "failover none", then the
# same for failback). Any end (a signal too) sets DRAIN back to 0. Refused, nothing
# changed, when it waited more than 2 s for the lock (handover.sh's fresh).
result=$1 drain=$2 timeout=$3 vips=$4
# the controller judged the cluster healthy before this took the lock: still so only when
# no other run held the lock meanwhile (handover.sh's fresh)
fresh || { echo "$(hostname): $why; the drill did not run" >&2; exit 1; }
trap 'set_drain "$drain" 0' EXIT
trap 'exit 143' TERM INT HUP

# moved WHEN: wait until the VIPs are all gone (WHEN=gone) or all here (back); print the
# centiseconds it took, or "none" after TIMEOUT
moved() {
  since=$(now)
  while :; do
    # shellcheck disable=SC2086  # the list is split on purpose
    here=$(held $vips | wc -l)
    if { [ "$1" = gone ] && [ "$here" -eq 0 ]; } ||
       { [ "$1" = back ] && [ "$here" -eq "$(echo $vips | wc -w)" ]; }; then
      seconds $(($(now) - since))
      return 0
    fi
    [ "$(now)" -lt $((since + timeout * 100)) ] || { echo none; return 1; }
    sleep 0.05
  done
}

set_drain "$drain" -253 || exit 1
echo "failover $(moved gone)" > "$result"
set_drain "$drain" 0 || exit 1
echo "failback $(moved back)" >> "$result"
