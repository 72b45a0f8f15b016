# One config transaction on a host, run under the deploy's lock (lock.sh, state_files.sh,
# safe_base.sh and config_test.sh of pyinfra_keepalived/operations/ are prepended): stage
# the new tree in a directory of this run, test it with the host's own `keepalived -t`,
# make it live in ONE rename, and reload keepalived.
#
#   ... MODE BASE UPLOADED GENERATION MARKER CONFIG_FILE HOLD [dir REL]... [file N MODE REL]... [link REL TARGET]...
#
# BASE/.generations/GENERATION holds a whole tree (CONFIG_FILE, the managed dirs and their
# files, REL paths relative to BASE); BASE/.current is a symlink to the live generation and
# each managed path (BASE/keepalived.conf, BASE/conf.d, BASE/scripts) is a fixed symlink
# through .current. Swapping .current (rename(2) of a new link over it) changes the whole
# tree at once: a keepalived start at any moment reads the old tree or the new one, never
# a mix. The generation before stays (.previous: rollback, and the scripts the running
# keepalived resolved), older ones and leftovers of dead runs go.
#
# MODE: `apply` does all of it in this one command. A change the peers of an instance must
# agree on goes live on all of them together (operations.cluster_commit), in two commands:
# `prepare` stages and tests under the lock and leaves the tested tree as
# GENERATION.prepared, NOT live, with a process that keeps holding the lock for HOLD
# seconds (no other run changes the host until the commit: two runs cannot interleave
# their commits across the peers); `commit`, sent once every peer has prepared, does not
# wait for the lock (it takes only the commit lock beside it, which that process takes
# before it exits: its time never runs out under a commit): it goes ahead while that
# process still holds the lock for this
# GENERATION (or, its time run out, when it can take the lock again and no other run came
# in between), swaps and reloads, then lets the lock go; `discard` (a peer failed) removes
# the prepared tree and lets the lock go. A run that dies in between leaves the prepared
# tree: the holder ends after HOLD seconds, and the next run's prune (under the lock)
# removes it, never commits it.
#
# UPLOADED is the directory of uploaded files 0, 1, ... ("-": no new tree; only finish a
# reload that an earlier run left pending). MARKER is written before the swap when
# keepalived runs, and removed only after `systemctl reload` succeeded: a run that dies
# in between leaves it, and the next run reloads.
set -u
mode=$1 base=$2 uploaded=$3 generation=$4 marker=$5 config_file=$6 hold=$7
shift 7
generations=$base/.generations
stage=$generations/$generation.partial  # staged, then tested:
prepared=$generations/$generation.prepared
check=$generations/.check-$generation
holder=$generations/.hold-$generation  # the pid of the process that keeps the lock
based_on=$generations/.base-$generation  # the live generation it was prepared beside
trap 'rm -rf "$stage" "$check"' EXIT
# A dropped SSH link (or a Ctrl-C on the controller) closes this shell's output and may
# send it SIGHUP: neither may stop the transaction half-way, so both are ignored (output
# that cannot be written is lost, nothing else); it always runs to its end on the host.
trap '' HUP PIPE
trap 'exit 130' INT
trap 'exit 143' TERM

# Before anything is read or written in it (safe_base.sh, prepended): root-owned all the way
safe_base "$base" || exit 1

running() { systemctl is-active --quiet keepalived.service 9>&-; }
# rm -rf of each path that exists (a link too): no process for one that does not (each
# process costs the host about a millisecond; a fresh host's transaction removes nothing)
remove() {
  for p; do
    if [ -e "$p" ] || [ -L "$p" ]; then rm -rf "$p" || return 1; fi
  done
}

finish_reload() {
  # keepalived must run what is on disk: SIGHUP (keeps the VIPs), then clear the marker.
  if [ -e "$marker" ] && running; then
    if ! systemctl reload keepalived.service 9>&-; then
      echo "keepalived did not reload; the config on disk is new and the reload stays" \
           "pending ($marker): the next run reloads it" >&2
      exit 1
    fi
    echo "keepalived reloaded"
  fi
  rm -f "$marker"
}

live=$(readlink "$base/.current" 2>/dev/null)
prune() {
  # every generation but the live one and the one before it (and what dead runs left:
  # stages, check copies); -ef: the same directory, however the link spells it
  for g in "$generations"/* "$generations"/.[!.]*; do
    [ -e "$g" ] || continue
    [ "$g" -ef "$base/.current" ] || [ "$g" -ef "$base/.previous" ] || rm -rf "$g"
  done
  remove "$base/.staging"  # the staging dir of earlier versions of this deploy
}

# The process `prepare` left holding the lock for this generation, if it still runs.
our_holder() {
  pid=$(cat "$holder" 2>/dev/null) && [ -n "$pid" ] &&
    tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF "pyinfra-keepalived-hold $generation "
}
let_go() {  # end the holder found at the start; the lock dies with it (waited for, 2 s at most)
  exec 8>&-  # (the commit lock: a holder whose time is up may exit now)
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  n=0
  while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
  rm -f "$holder"
}
if [ "$mode" = discard ]; then
  if our_holder; then
    rm -rf "$prepared" && echo "the prepared generation $generation was discarded"
    let_go
  fi  # (else the next run's prune removes what is left)
  exit 0
fi
if [ "$mode" = commit ]; then
  # ($lock_file, $lock_holder: set before this script by the deploy.) The commit lock
  # (fd 8, beside the lock; the directory is gone after a reboot: made as lock.sh does),
  # kept to the end of the commit: a holder whose time is up takes it before it exits, so
  # it waits for a commit under way, and a holder already exiting is gone when this
  # commit looks for it (then it takes the lock again, below).
  [ -d "${lock_file%/*}" ] || mkdir -m 700 "${lock_file%/*}" || exit 1
  exec 8>>"$lock_file.commit" && flock -w 2 8 || {
    echo "the commit lock $lock_file.commit stayed taken; the live config was NOT changed" >&2
    exit 1
  }
  # (from here until let_go, the holder's lock keeps every other run off this host)
  if our_holder; then
    trap let_go EXIT  # however the commit ends
  else
    # Its time ran out (a peer took long to prepare): the commit still goes ahead if no
    # other run came in between: the lock is free now (taken here, fd 9, for the rest of
    # this command; a short wait: another run's prepare_check takes it for an instant),
    # the prepared tree is there and the live one is what it was tested beside.
    pid=
    exec 9>>"$lock_file"
    if ! flock -w 2 9 || [ ! -d "$prepared" ] ||
       [ "$(readlink "$base/.current" 2>/dev/null)" != "$(cat "$based_on" 2>/dev/null)" ]; then
      echo "the prepared config (generation $generation) is no longer held (its lock ran" \
           "out after $hold s, or the host restarted) and another run came in between; the" \
           "live config was NOT changed" >&2
      exit 1
    fi
    printf 'pid %s, since %s: commit of a prepared config\n' "$$" \
      "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" > "$lock_holder"
    echo "the prepared config's lock had run out; taken again: no other run came in between"
  fi
  if [ ! -d "$prepared" ]; then
    echo "the prepared config (generation $generation) is gone; the live config was NOT" \
         "changed" >&2
    exit 1
  fi
fi

if [ "$uploaded" = - ] && [ "$mode" = apply ]; then
  [ -e "$marker" ] && echo "reload pending since $(sed -n '1s/^since //p' "$marker")"
  finish_reload
  prune
  exit 0
fi

if [ "$mode" != commit ]; then
install -d -o root -g root -m 755 "$base" "$generations" || exit 1
prune

# -- stage: this run's own directory, root-owned, each file with its mode --
mkdir -m 700 "$stage" || exit 1
while [ $# -gt 0 ]; do
  case $1 in
    dir) install -d -o root -g root -m 755 "$stage/$2" || exit 1; shift 2 ;;
    file) install -D -o root -g root -m "$3" "$uploaded/$2" "$stage/$4" || exit 1; shift 4 ;;
    *) break ;;
  esac
done

# -- test: a copy that references itself, not the live tree (config_test.sh) --
# (in .generations: pruned if a killed run leaves it)
config_test "$stage" "$check" "$base" "$config_file"
rc=$?
if [ "$rc" -ne 0 ]; then
  echo "keepalived -t rejected the new config (exit $rc); the live config was NOT changed:" >&2
  printf '%s\n' "$output" >&2
  exit "$rc"
fi
[ -n "$output" ] && printf 'keepalived -t: %s\n' "$output"

chmod 755 "$stage" && mv -T "$stage" "$prepared" || exit 1
if [ "$mode" = prepare ]; then
  # -- prepared: tested, not live; the lock stays held (fd 9) until the commit --
  trap - EXIT
  rm -rf "$check"
  # (its own session, no output: the command ends and the holder stays; HUP ignored)
  # (its time up, it takes the commit lock before it exits: a commit under way ends first)
  setsid sh -c 'trap "" HUP; trap "kill \$s 2>/dev/null; exit 0" TERM
                sleep "$2" 9>&- & s=$!; wait $s
                exec 8>>"$3" && flock 8' pyinfra-keepalived-hold "$generation" "$hold" \
    "$lock_file.commit" "$lock_what" </dev/null >/dev/null 2>&1 &
  echo $! > "$holder" && printf '%s\n' "$live" > "$based_on" || exit 1
  printf 'pid %s, since %s: %s (held at most %s s)\n' "$!" \
    "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$lock_what" "$hold" > "$lock_holder"
  echo "generation $generation is tested and prepared, not live yet: it goes live when" \
       "every peer has prepared it"
  exit 0
fi
fi

# -- swap: the tested tree becomes the live one in one rename --
# From here on the run finishes what it starts: the marker, the swap, the links, the reload.
trap '' INT TERM
if running; then
  mark_pending "$marker" "generation $generation" || exit 1
fi
mv -T "$prepared" "$generations/$generation" || exit 1
switch() {  # make $1 a symlink to $2 in one rename (replacing a file or link)
  remove "$1.pyinfra-new" && ln -s "$2" "$1.pyinfra-new" && mv -T "$1.pyinfra-new" "$1"
}
switch "$base/.current" ".generations/$generation" || exit 1
echo "generation $generation is live"
if [ -n "$live" ]; then
  switch "$base/.previous" "$live" || exit 1
fi

# -- the fixed links through .current; made once per host --
while [ $# -gt 0 ]; do
  path=$base/$2 target=$3
  shift 3
  [ -L "$path" ] && [ "$(readlink "$path")" = "$target" ] && continue
  [ -d "${path%/*}" ] || mkdir -p "${path%/*}" || exit 1
  if [ -d "$path" ] && [ ! -L "$path" ]; then
    # A directory of an earlier version of this deploy: no rename replaces a directory
    # with a link, so it is set aside first. A run that dies right here leaves no
    # $path: the next run's probe sees the link missing and makes it.
    remove "$path.pyinfra-old" && mv -T "$path" "$path.pyinfra-old" || exit 1
  fi
  switch "$path" "$target" || exit 1
  remove "$path.pyinfra-old"
  echo "$path is now a link to $target"
done

finish_reload
prune
