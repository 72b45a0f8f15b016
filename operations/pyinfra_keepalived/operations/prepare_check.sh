# Before a `prepare` (transaction.sh) waits for the host's lock
# (pyinfra_keepalived/operations/cluster_commit.py):
#
#   prepare_check.sh LOCK_FILE HOLDER_FILE TAG
#
# A run that prepared a config keeps the lock until it commits on every peer. Two runs
# preparing on the same peers in opposite order would each wait for the other until
# their lock waits ran out; so when the holder is another run's prepare (the process
# HOLDER_FILE names still runs, with TAG among its arguments: the prepare's shell, or
# the process that keeps the lock for the prepared tree), this one fails at once
# (exit 75) instead of waiting, and changes nothing.
lock_file=$1 lock_holder=$2 tag=$3
[ -e "$lock_file" ] || exit 0
flock -n "$lock_file" true 2>/dev/null && exit 0
pid=$(sed -n 's/^pid \([0-9][0-9]*\),.*/\1/p' "$lock_holder" 2>/dev/null)
if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "$tag"; then
  echo "another keepalived deploy prepared a config on $(hostname) to commit it on every" \
       "peer together: $(cat "$lock_holder"); nothing was changed on this host (if that run" \
       "was stopped, what it prepared never goes live, and the lock is free again when the" \
       "time it is held runs out)" >&2
  exit 75
fi
exit 0
