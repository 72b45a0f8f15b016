# The probe's `programs` section (facts/programs.py): for each program a check or notify
# command names (set before it: probe_programs, validated words: absolute paths or bare
# names, model/commands.py), where it is and what every part of its real path is:
#   program|PROGRAM|PATH|REAL     PATH: where it was found ("" for a name not on the
#                                 search path), REAL: that path with every link resolved
#   stat|MODE|UID|GID|TYPE|PATH   for REAL and each directory above it (one stat)
# A bare name is looked up on $probe_search (systemd's PATH for services) as keepalived
# would: the first regular file there that someone may execute.
echo '## programs'
probe_program() {
  case $1 in
    /*) found=$1 ;;
    *) found=
       for dir in $probe_search; do
         if [ -f "$dir/$1" ] && [ -x "$dir/$1" ]; then found=$dir/$1; break; fi
       done ;;
  esac
  if [ -z "$found" ]; then echo "program|$1||"; return; fi
  real=$(readlink -f -- "$found" 2>/dev/null || printf '%s' "$found")
  echo "program|$1|$found|$real"
  set --
  part=$real
  while [ -n "$part" ]; do set -- "$@" "$part"; part=${part%/*}; done
  stat -c 'stat|%a|%u|%g|%F|%n' -- "$@" / 2>/dev/null
}
for probe_one in $probe_programs; do probe_program "$probe_one"; done
