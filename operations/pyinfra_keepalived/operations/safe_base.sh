# safe_base BASE: whether the base dir is safe for a root transaction to write and prune
# (pyinfra_keepalived/operations/transaction.sh calls it first, under the deploy's lock).
# Every directory from / to BASE that exists, and BASE/.generations if it exists, must be a
# directory (not a symbolic link), owned by root and not writable by group or others:
# else another user could rename a path on the way or plant a link (a `.generations` that
# points elsewhere: the prune's `rm -rf` would follow it). A path that does not exist yet
# is made by root (755). Prints why to stderr, naming the path, and returns 1 when not safe.
safe_base() {
  safe_dir / "$1" || return 1
  path= rest=${1#/}
  while [ -n "$rest" ]; do
    path=$path/${rest%%/*}
    case $rest in */*) rest=${rest#*/} ;; *) rest= ;; esac
    [ -e "$path" ] || [ -L "$path" ] || return 0
    safe_dir "$path" "$1" || return 1
  done
  if [ -e "$1/.generations" ] || [ -L "$1/.generations" ]; then
    safe_dir "$1/.generations" "$1" || return 1
  fi
}

# safe_dir PATH BASE: one directory of safe_base's check
safe_dir() {
  if [ -L "$1" ]; then
    why="is a symbolic link (never followed here: use the path it points to)"
  elif [ ! -d "$1" ]; then
    why="is not a directory"
  else
    set -- "$1" "$2" $(stat -c '%u %A' "$1")
    if [ "$3" != 0 ]; then
      why="is owned by uid $3, not root"
    else
      case $4 in
        ?????w????|????????w?) why="is writable by group or others ($4)" ;;
        *) return 0 ;;
      esac
    fi
  fi
  echo "keepalived base dir $2 is not safe: $1 $why; another user could plant links" \
       "that this root command would follow. Every directory from / to the base dir must" \
       "be root's and not writable by group or others; the live config was NOT changed" >&2
  return 1
}
