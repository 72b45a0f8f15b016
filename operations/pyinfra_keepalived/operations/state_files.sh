# Shell functions for the files the deploy keeps about its own work
# (pyinfra_keepalived/operations/state_files.py), prepended to the host-side scripts that write them.

# mark_pending MARKER REASON: announce what keepalived still owes (a reload, a restart),
# before the change that needs it (the first line says since when and why:
# "since <UTC time>: REASON"; the probe reads it, transaction.sh prints it).
mark_pending() {
  mkdir -p "${1%/*}" &&
    printf 'since %s: %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$2" > "$1"
}

# set_drain FILE VALUE: the drain's number (a track_file of the config, added to the
# priority of the instances that track it), replaced in one rename (keepalived reads the
# file when it changes; a rename never shows it half written).
set_drain() {
  printf '%s\n' "$2" > "$1.new" && mv -f "$1.new" "$1"
}
