# One config transaction on a host, run under the deploy's lock (lock.sh, state_files.sh,
# safe_base.sh and config_test.sh of pyinfra_keepalived/operations/ are prepended): stage
# the new tree in a directory of this run, test it with the host's own `keepalived -t`,
# make it live in ONE rename, and reload keepalived.
#
#   ... BASE UPLOADED GENERATION MARKER CONFIG_FILE [dir REL]... [file N MODE REL]... [link REL TARGET]...
#
# BASE/.generations/GENERATION holds a whole tree (CONFIG_FILE, the managed dirs and their
# files, REL paths relative to BASE); BASE/.current is a symlink to the live generation and
# each managed path (BASE/keepalived.conf, BASE/conf.d, BASE/scripts) is a fixed symlink
# through .current. Swapping .current (rename(2) of a new link over it) changes the whole
# tree at once: a keepalived start at any moment reads the old tree or the new one, never
# a mix. The generation before stays (.previous: rollback, and the scripts the running
# keepalived resolved), older ones and leftovers of dead runs go.
#
# UPLOADED is the directory of uploaded files 0, 1, ... ("-": no new tree; only finish a
# reload that an earlier run left pending). MARKER is written before the swap when
# keepalived runs, and removed only after `systemctl reload` succeeded: a run that dies
# in between leaves it, and the next run reloads.
set -u
base=$1 uploaded=$2 generation=$3 marker=$4 config_file=$5
shift 5
generations=$base/.generations
stage=$generations/$generation.partial
check=$generations/.check-$generation
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

if [ "$uploaded" = - ]; then
  [ -e "$marker" ] && echo "reload pending since $(sed -n '1s/^since //p' "$marker")"
  finish_reload
  prune
  exit 0
fi

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

# -- swap: the tested tree becomes the live one in one rename --
# From here on the run finishes what it starts: the marker, the swap, the links, the reload.
trap '' INT TERM
chmod 755 "$stage"
if running; then
  mark_pending "$marker" "generation $generation" || exit 1
fi
mv -T "$stage" "$generations/$generation" || exit 1
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
