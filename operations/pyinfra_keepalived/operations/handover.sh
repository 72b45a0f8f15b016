# The handover of this host's VIPs to a peer (pyinfra_keepalived/operations/handover.py):
# shell functions shared by every path that takes VIPs off a holder: the rolling restart
# (restart.sh), uninstall's stop (stop.sh) and the drill (deploys/drill.sh). They come
# after state_files.sh (set_drain) and vrrp_dump.sh (vrrp_pid, vrrp_dump), and come with
# clock.sh (now, seconds).

# held ADDRESS...: the addresses of the list this host holds, one a line
held() {
  addresses=$(ip -o addr show | awk '{ sub("/.*", "", $4); print $4 }')
  for address; do
    printf '%s\n' "$addresses" | grep -qxF "$address" && echo "$address"
  done
}

# states: "INSTANCE STATE" lines from keepalived's data dump; fails when it does not run
states() {
  pid=$(vrrp_pid) || return 1
  vrrp_dump "$pid" '^ VRRP Instance = |^   State = ' |
    awk -F' = ' '/^ VRRP Instance = / { name = $2 }
                 /^   State = / && name != "" { print name, $2; name = "" }'
}

# failing: the names of this host's check scripts (vrrp_script) whose status is not GOOD,
# one a line; fails when keepalived does not run
failing() {
  pid=$(vrrp_pid) || return 1
  vrrp_dump "$pid" '^ VRRP Script = |^   Status = ' |
    awk -F' = ' '/^ VRRP Script = / { name = $2 }
                 /^   Status = / && name != "" && $2 != "GOOD" { print name }
                 /^   Status = / { name = "" }'
}

# ready INSTANCE...: keepalived active and every instance BACKUP or MASTER
ready() {
  systemctl is-active --quiet keepalived.service || return 1
  now_states=$(states) || return 1
  for instance; do
    printf '%s\n' "$now_states" | awk -v name="$instance" \
      '$1 == name && ($2 == "BACKUP" || $2 == "MASTER") { found = 1 } END { exit !found }' \
      || return 1
  done
}

# healthy INSTANCE...: ready, and every check script GOOD (what a peer must be to take
# VIPs; what a restarted host must be before its drain is lifted)
healthy() {
  ready "$@" || return 1
  bad=$(failing) || return 1
  [ -z "$bad" ]
}

# fresh: whether the peers' state the controller read before this script took the host's
# lock is still current: the script waited at most 2 s for the lock ($lock_waited, from
# lock.sh). Else another run held the host meanwhile and may have restarted a peer: $why
# says so.
fresh() {
  [ "${lock_waited:-0}" -le 200 ] && return 0
  why="the peers' state was read over $(seconds "$lock_waited") s ago, another run held the lock \
meanwhile; run again"
  return 1
}

# listed WORD LIST: whether WORD is one of the space-separated LIST
listed() {
  case " $2 " in *" $1 "*) return 0 ;; esac
  return 1
}

# hand_over DRAIN DRAIN_WAIT DRAIN_VIPS STOP_VIPS KEPT REFUSED REASON
# Make this host's VIPs ready to go with a stop of keepalived; fails (the reason in $why)
# when they cannot go to a healthy peer, or the peers' state is not `fresh`, with the host
# as it was (undrained).
#   REFUSED: VIPs whose instance has no healthy peer to take them (the controller read the
#     peers' live state: handover.py), REASON says why: a host holding one stays as it is.
#   DRAIN_VIPS: VIPs the drain (the track_file DRAIN) hands over: -253 is written there, and
#     a peer takes them after its Master_Down_Interval with no reply lost; DRAIN_WAIT:
#     seconds it gets (preempt_delay included). KEPT: drained VIPs a peer may leave here
#     (the healthy peer that takes them has nopreempt): the stop's priority-0 advert hands
#     them over instead; any other VIP still held then fails the handover.
#   STOP_VIPS: VIPs the drain cannot move (sync group, priority 255): the stop hands them
#     over (a priority-0 advert: the peer takes over after its skew time).
# Lists are space-separated.
hand_over() {
  drain=$1 drain_wait=$2 drain_vips=$3 stop_vips=$4 kept=$5 refused=$6 reason=$7
  # shellcheck disable=SC2086  # the lists are split on purpose
  blocked=$(held $refused)
  if [ -n "$blocked" ]; then
    why="$reason; it holds $(echo $blocked)"
    return 1
  fi
  # shellcheck disable=SC2086
  [ -z "$(held $drain_vips $stop_vips)" ] || fresh || return 1
  # shellcheck disable=SC2086
  if [ -n "$(held $drain_vips)" ]; then
    set_drain "$drain" -253 || { why="cannot write $drain"; return 1; }
    end=$(($(now) + drain_wait * 100))
    while [ -n "$(held $drain_vips)" ] && [ "$(now)" -lt "$end" ]; do
      sleep 0.2
    done
    left= stuck=
    for address in $(held $drain_vips); do
      left="$left $address"
      listed "$address" "$kept" || stuck="$stuck $address"
    done
    if [ -n "$stuck" ]; then
      set_drain "$drain" 0
      why="no peer took$stuck within $drain_wait s of the drain (undrained: they stay here)"
      return 1
    fi
    if [ -n "$left" ]; then
      echo "$(hostname): the peer that takes$left has nopreempt: the graceful stop hands" \
           "them over"
    else
      echo "$(hostname): drained, a peer took them"
    fi
  fi
  # shellcheck disable=SC2086
  [ -z "$(held $stop_vips)" ] ||
    echo "$(hostname): $(echo $(held $stop_vips)) go with the graceful stop (not drainable)"
  return 0
}
