# Before a rolling restart (pyinfra_keepalived/operations/rolling.py live_test): test the live
# config with the keepalived installed NOW, the binary the restart starts (after a package
# upgrade it never tested this config). Under the deploy lock (lock.sh comes first, then
# safe_base.sh and config_test.sh), so no transaction swaps or prunes the tree meanwhile:
#
#   live_test.sh BASE CONFIG_FILE MARKER HOST
#
# BASE: the config tree's base dir (BASE/.current: the live generation, transaction.sh);
# CONFIG_FILE: relative to BASE. MARKER: the restart-pending marker; no marker, no restart
# to test for. HOST: the inventory name, for messages. Rejected: exit with keepalived's
# status and its messages; the marker stays (the next run tests again). The rollout's
# restart steps run only where no host's test failed (rolling.py), so a rejection restarts
# no host.
base=$1 config_file=$2 marker=$3 host=$4

if [ ! -e "$marker" ]; then
  echo "$host: no restart pending (restarted already)"
  exit 0
fi
if [ ! -d "$base/.current" ]; then
  echo "$host ($(hostname)): $base/.current is missing: the live config is not one this" \
       "deploy made live, so it cannot be tested before the restart; keepalived was NOT" \
       "restarted on any host (the restart stays pending)" >&2
  exit 1
fi
# Its copy goes in .generations (a transaction prunes it if a killed run leaves it): only
# where no other user could plant a link there (safe_base.sh)
safe_base "$base" || exit 1
check=$base/.generations/.check-live-$$
trap 'rm -rf "$check"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
rm -rf "$check"
config_test "$base/.current" "$check" "$base" "$config_file"  # (sets version too)
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "$host ($(hostname)): $version, installed for the pending restart, rejects the live" \
       "config (keepalived -t, exit $rc): keepalived was NOT restarted on any host; the" \
       "restart stays pending ($marker) and the next run tests again. keepalived says:" >&2
  printf '%s\n' "$output" >&2
  exit "$rc"
fi
echo "$host: $version accepts the live config${output:+ (keepalived -t: $output)}"
