# Start a failover drill on this host (deploys/drill.py) as a transient systemd service,
# detached from the SSH session that starts it, and wait for its end:
#
#   drill_start.sh UNIT BODY LIMIT DRAIN RESULT [ARG...]
#
# BODY (deploys/drill.sh with what it needs) runs as the service UNIT with the ARGs; it
# lowers the drilled instance's own drain (the file DRAIN), waits, lifts it, and writes
# what it measured to the file RESULT. It ends
# on its own whatever happens to this command or to the controller (a cancelled CI job,
# a dropped SSH link): the host repairs an interrupted drill itself. Its EXIT trap, and
# the service's ExecStopPost (run however it ends: SIGKILL, its LIMIT seconds of
# RuntimeMaxSec passed) set DRAIN back to 0. Prints what it measured (drill.sh's lines);
# fails when the drill did not run at all.
unit=$1 body=$2 limit=$3 drain=$4 result=$5
shift 5
file=${result%/*}/$unit.sh
[ -d "${result%/*}" ] || mkdir -m 700 "${result%/*}" || exit 1
if systemctl is-active --quiet "$unit"; then
  echo "$(hostname): a drill runs already ($unit)" >&2
  exit 1
fi
printf '%s\n' "$body" > "$file" && rm -f "$result" || exit 1
systemd-run --unit="$unit" --collect --quiet -p RuntimeMaxSec="$limit" \
  -p "ExecStopPost=/bin/sh -c 'echo 0 > $drain'" /bin/sh "$file" "$@" || exit 1
while systemctl is-active --quiet "$unit"; do
  sleep 0.2
done
rm -f "$file"
if [ ! -s "$result" ]; then
  echo "$(hostname): the drill did not run: journalctl -u $unit says:" >&2
  journalctl -u "$unit" -n 20 --no-pager >&2
  exit 1
fi
cat "$result" && rm -f "$result"
