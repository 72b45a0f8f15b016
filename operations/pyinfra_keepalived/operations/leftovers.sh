# Undo what a run that died left behind (pyinfra_keepalived/operations/rolling.py leftovers), under the
# deploy lock (lock.sh and state_files.sh come first), so never what a live run is doing:
#
#   leftovers.sh POLICY DRAIN MARKER
#
# POLICY: this deploy's policy-rc.d ("" to keep): removed if it is ours (an operator's is
# never touched). DRAIN: the drain file ("" to keep): set back to 0, unless a restart is
# still pending (MARKER exists): that restart undrains the host when it is back.
policy=$1 drain=$2 marker=$3

if [ -n "$policy" ] && grep -qxF "$policy_tag" "$policy" 2>/dev/null; then
  rm -f "$policy" && echo "removed $policy, left by a run that died"
fi
value=$(head -n 1 "$drain" 2>/dev/null | tr -d '[:space:]')
if [ -n "$drain" ] && [ ! -e "$marker" ] && [ -n "$value" ] && [ "$value" != 0 ]; then
  set_drain "$drain" 0 && echo "undrained (the drain was $value, left by a run that died)"
fi
true
