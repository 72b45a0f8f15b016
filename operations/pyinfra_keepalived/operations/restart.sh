# Restart keepalived on this host as one step of a rolling restart (pyinfra_keepalived/operations/rolling.py),
# under the deploy lock (lock.sh, state_files.sh and vrrp_dump.sh come first). pyinfra
# runs it host by host (_serial), twice: pass "first" restarts the hosts that hold none of
# their VIPs and leaves holders alone; pass "holders" hands the holders' VIPs to a peer,
# then restarts them. A host restarted in the first pass has no marker left: the second
# does nothing.
#
#   restart.sh PASS MARKER DRAIN WAIT DRAIN_WAIT HOST INSTANCES DRAIN_VIPS STOP_VIPS KEPT
#
# PASS: first | holders. MARKER: the restart-pending marker; no marker, no restart.
# DRAIN: the drain file (a track_file of the config: its number is added to the priority
# of the instances that track it). WAIT: seconds keepalived gets to be back with every
# instance BACKUP or MASTER. DRAIN_WAIT: seconds a peer gets to take the drained VIPs.
# HOST: the inventory name, for messages. INSTANCES: this host's instance names.
# DRAIN_VIPS: addresses of instances that track the drain; STOP_VIPS: of those that cannot
# (sync groups, priority 255): handed over by the restart's graceful stop (priority-0
# advert, the peer takes over after its skew time, ~0.65 s without answers).
# KEPT (yes|no): drained VIPs no peer took go with the graceful stop (yes: a peer has
# nopreempt and never takes them); no: the step fails, undrained, nothing restarted (no
# healthy peer took them: restarting would leave the VIP on no host).
# Lists are space-separated. The data dump is never printed (it holds auth_pass).
pass=$1 marker=$2 drain=$3 wait=$4 drain_wait=$5 host=$6 instances=$7
drain_vips=$8 stop_vips=$9 kept=${10}
# A dropped SSH link must not stop a restart half-way (drained, or stopped): it runs to
# its end on the host; output that cannot be written is lost, nothing else.
trap '' HUP PIPE

if [ ! -e "$marker" ]; then
  echo "$host: no restart pending (restarted already)"
  exit 0
fi

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

# ready: keepalived active and every instance of this host BACKUP or MASTER
ready() {
  systemctl is-active --quiet keepalived.service || return 1
  now=$(states) || return 1
  for instance in $instances; do
    printf '%s\n' "$now" | awk -v name="$instance" \
      '$1 == name && ($2 == "BACKUP" || $2 == "MASTER") { found = 1 } END { exit !found }' \
      || return 1
  done
}

fail() {
  echo "$host ($(hostname)): $1; the rollout stops here (the restart stays pending)." >&2
  echo "keepalived's journal, last 20 lines:" >&2
  journalctl -u keepalived.service -n 20 --no-pager >&2
  exit 1
}

# shellcheck disable=SC2086  # the lists are split on purpose
holding=$(held $drain_vips $stop_vips)
if [ -n "$holding" ] && [ "$pass" = first ]; then
  echo "$host holds $(echo $holding): restarted after the hosts that hold no VIP"
  exit 0
fi

# shellcheck disable=SC2086
if [ -n "$(held $drain_vips)" ]; then
  set_drain "$drain" -253 || fail "cannot write $drain"
  end=$(($(date +%s) + drain_wait))
  while [ -n "$(held $drain_vips)" ] && [ "$(date +%s)" -lt "$end" ]; do
    sleep 0.2
  done
  if [ -n "$(held $drain_vips)" ] && [ "$kept" != yes ]; then
    set_drain "$drain" 0
    fail "no peer took $(echo $(held $drain_vips)) within $drain_wait s of the drain: is a \
backup up and healthy? keepalived was NOT restarted; undrained, the VIPs stay here"
  elif [ -n "$(held $drain_vips)" ]; then
    echo "$host: no peer took $(echo $(held $drain_vips)) within $drain_wait s of the" \
         "drain (a peer has nopreempt): handed over by the restart's graceful stop instead"
  else
    echo "$host: drained, a peer holds $(echo $holding) now"
  fi
fi
[ -n "$(held $stop_vips)" ] && \
  echo "$host: $(echo $(held $stop_vips)) handed over by the graceful stop (not drainable)"

start=$(date +%s)
systemctl restart keepalived.service || fail "systemctl restart keepalived failed"
end=$((start + wait))
until ready; do
  [ "$(date +%s)" -lt "$end" ] ||
    fail "keepalived not back with $instances in BACKUP or MASTER within $wait s"
  sleep 0.5
done
rm -f "$marker" || fail "cannot remove $marker"
if [ -e "$drain" ]; then
  set_drain "$drain" 0 || fail "cannot undrain ($drain)"
fi
echo "$host: keepalived restarted in $(($(date +%s) - start)) s, back as $(states | tr '\n' ' ')"
