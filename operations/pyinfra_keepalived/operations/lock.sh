# The deploy's host lock, prepended to every host-side script that changes the host
# (operations.state_files.locked). Its first four arguments are the lock's; the script
# it guards gets the rest as "$@":
#
#   sh -c 'LOCK.SH + SCRIPT' NAME LOCK_FILE HOLDER_FILE WAIT_SECONDS WHAT [ARG...]
#
# flock on fd 9: the lock lives as long as this shell. A killed run, or one whose SSH
# link dropped, leaves no stale lock behind. A second run waits WAIT_SECONDS, then fails
# with the holder's pid, login user and start time (exit 75). $lock_waited: the
# centiseconds it waited (clock.sh comes first), for a script that acts on what was read
# before (handover.sh's hand_over).
lock_file=$1 lock_holder=$2 lock_wait=$3 lock_what=$4
shift 4
# In a directory only root can write or read (not /run/lock, where any local user could
# open the file and hold the lock against every deploy).
[ -d "${lock_file%/*}" ] || mkdir -m 700 "${lock_file%/*}" ||
  { echo "cannot make the deploy lock's directory ${lock_file%/*}" >&2; exit 1; }
exec 9>>"$lock_file" || { echo "cannot open the deploy lock $lock_file" >&2; exit 1; }
lock_asked=$(now)
if ! flock -w "$lock_wait" 9; then
  echo "another keepalived deploy holds the lock on $(hostname) ($lock_file) and did not" \
       "let go within $lock_wait s: $(cat "$lock_holder" 2>/dev/null || echo 'holder unknown');" \
       "nothing was changed on this host" >&2
  exit 75
fi
lock_waited=$(($(now) - lock_asked))
printf 'pid %s, login user %s, since %s: %s\n' "$$" "${SUDO_USER:-$(id -un)}" \
  "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$lock_what" > "$lock_holder"
