# Restart keepalived on this host as one step of a rolling restart (pyinfra_keepalived/operations/rolling.py),
# under the deploy lock (lock.sh, state_files.sh, vrrp_dump.sh and handover.sh come first).
# pyinfra runs it host by host (_serial), twice: pass "first" restarts the hosts that hold
# none of their VIPs and leaves holders alone; pass "holders" hands the holders' VIPs to a
# healthy peer (handover.sh's hand_over), then restarts them. A host restarted in the
# first pass has no marker left: the second does nothing.
#
#   restart.sh PASS MARKER DRAIN WAIT DRAIN_WAIT HOST INSTANCES DRAIN_VIPS STOP_VIPS \
#              KEPT REFUSED REASON
#
# PASS: first | holders. MARKER: the restart-pending marker; no marker, no restart.
# DRAIN: the host's drain file. WAIT: seconds keepalived gets to be back with every
# instance BACKUP or MASTER and every check script GOOD (only then is a drain lifted).
# HOST: the inventory name, for messages. INSTANCES: this host's instance names.
# DRAIN_WAIT, DRAIN_VIPS, STOP_VIPS, KEPT, REFUSED, REASON: hand_over's.
# Lists are space-separated. The data dump is never printed (it holds auth_pass).
pass=$1 marker=$2 drain=$3 wait=$4 drain_wait=$5 host=$6 instances=$7
drain_vips=$8 stop_vips=$9 kept=${10} refused=${11} reason=${12}
# A dropped SSH link must not stop a restart half-way (drained, or stopped): it runs to
# its end on the host; output that cannot be written is lost, nothing else.
trap '' HUP PIPE

if [ ! -e "$marker" ]; then
  echo "$host: no restart pending (restarted already)"
  exit 0
fi

fail() {
  echo "$host ($(hostname)): $1; the rollout stops here (the restart stays pending)." >&2
  echo "keepalived's journal, last 20 lines:" >&2
  journalctl -u keepalived.service -n 20 --no-pager >&2
  exit 1
}

# shellcheck disable=SC2086  # the lists are split on purpose
holding=$(held $drain_vips $stop_vips $refused)
if [ -n "$holding" ] && [ "$pass" = first ]; then
  echo "$host holds $(echo $holding): restarted after the hosts that hold no VIP"
  exit 0
fi

hand_over "$drain" "$drain_wait" "$drain_vips" "$stop_vips" "$kept" "$refused" "$reason" ||
  fail "$why; keepalived was NOT restarted"

start=$(now)
systemctl restart keepalived.service || fail "systemctl restart keepalived failed"
end=$((start + wait * 100))
# shellcheck disable=SC2086
until ready $instances; do
  [ "$(now)" -lt "$end" ] ||
    fail "keepalived not back with $instances in BACKUP or MASTER within $wait s"
  sleep 0.5
done
# every check script GOOD before the next host's step (its peers' verdict sees this host),
# and before the drain is lifted (only then may this host take its VIPs back)
drained=
[ -e "$drain" ] && [ "$(head -n 1 "$drain")" != 0 ] &&
  drained=": left drained (its peers keep the VIPs)"
# shellcheck disable=SC2086
until healthy $instances; do
  [ "$(now)" -lt "$end" ] ||
    fail "keepalived back, but check script(s) $(echo $(failing)) not GOOD within $wait s\
$drained, the restart pending"
  sleep 0.5
done
[ -z "$drained" ] || set_drain "$drain" 0 || fail "cannot undrain ($drain)"
rm -f "$marker" || fail "cannot remove $marker"
echo "$host: keepalived restarted in $(seconds $(($(now) - start))) s, back as $(states | tr '\n' ' ')"
