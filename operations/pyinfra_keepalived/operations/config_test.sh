# config_test TREE CHECK BASE CONFIG_FILE: test a keepalived config tree with this host's
# keepalived (`keepalived -t`), for the scripts that must not let an untested config reach
# keepalived (transaction.sh before a swap, live_test.sh before a restart).
#
# TREE holds CONFIG_FILE and what it includes, at their paths relative to BASE; the files
# name each other by their paths under BASE. They are tested in CHECK (a new directory,
# made here; the caller removes it): a copy whose paths name the copy itself. Sets
# `output` (keepalived's messages, paths named as under BASE, every secret masked by
# $mask_secrets, model.hidden's sed script, set before this script) and `version`
# (keepalived's --version line), and returns the verdict (config_verdict, below: 0
# accepted, else keepalived's exit status or 5; 5: a script user is missing; 1: no copy
# could be made). (It sets the variables tested, copy, named, file, keepalived, version,
# conf_files, user, all_config, rc.)
config_test() {
  tested=$1 copy=$2 named=$3 file=$4
  keepalived=$(command -v keepalived || echo /usr/sbin/keepalived)
  version=$("$keepalived" --version 2>&1 | head -n 1)
  mkdir -m 700 "$copy" || { output="cannot make $copy"; return 1; }
  if ! cp -Rp "$tested/." "$copy/"; then
    output="keepalived config not tested: cannot copy it to $copy"
    return 1
  fi
  # Script users must reach the scripts in the copy (the stage and mktemp dirs are 700):
  # keepalived 2.3 drops a script its user cannot access, and rejects the config.
  find "$copy" -type d -exec chmod 755 {} +
  conf_files=$(find "$copy" -type f \( -name '*.conf' -o -path "$copy/$file" \))
  # (one sed for every file; $conf_files is never empty: the config file is in it)
  sed -i "s#$named/#$copy/#g" $conf_files </dev/null

  # Script users must exist: keepalived drops every track script otherwise (not caught by -t).
  for user in $(sed -n -E 's/^[[:space:]]*(script_user|user)[[:space:]]+([^[:space:]]+).*/\2/p' \
                $conf_files | sort -u); do
    if ! id -u "$user" >/dev/null 2>&1; then
      output="script user '$user' does not exist on this host"
      return 5
    fi
  done

  # -e (--all-config): without it `-t` exits 0 when a config file is missing or an include
  # matches nothing, and a tree without its instances would go live (every VIP dropped).
  # keepalived 2.1 (Debian 11) has no -e: it gets the test without it.
  all_config=
  "$keepalived" --help 2>&1 | grep -q -- '--all-config' && all_config=-e
  # (the braces' 2>/dev/null: the shell's own "Terminated" when -t kills itself, below)
  { output=$("$keepalived" -t $all_config -f "$copy/$file" 2>&1 9>&-); rc=$?; } \
    2>/dev/null
  if [ "$rc" -eq 143 ]; then
    # keepalived 2.2.7 terminates its own config test whenever a script runs as a non-root
    # user (fixed in 2.2.8). Test again with the scripts as root: every other check still
    # applies, and the users were checked above.
    sed -i -E 's/^([[:space:]]*)(script_user|user)([[:space:]]+).*/\1\2\3root/' $conf_files \
      </dev/null
    { output=$("$keepalived" -t $all_config -f "$copy/$file" 2>&1 9>&-); rc=$?; } \
      2>/dev/null
  fi
  # (keepalived quotes a line it cannot parse whole: an auth_pass value with it)
  output=$(printf '%s\n' "$output" | sed "s#$copy/#$named/#g" |
           sed -E "$mask_secrets")
  config_verdict "$version" "$rc"
}

# config_verdict VERSION RC: the config test's verdict (0: accepted) from keepalived's
# --version line, its exit status RC and what it said ($output).
#
# keepalived before 2.2.0 (Debian 11 ships 2.1.5) reads the config once per process it
# would start and clears its error count before each reading, so `-t` exits with what the
# last one (BFD's) found: 0 for an unknown keyword, a value it refuses, a VRID out of
# range, a missing track script. Under -t it prints nothing but those config errors, one a
# line on stderr (its log goes nowhere under -t, with -l or without): on those versions
# every line it prints is a refusal (5, as 2.2 and later exit), but the one line 2.2 and
# later only log (without vrrp_strict: "(VI_1) the first IPv6 VIP address should be link
# local"). Every other version's exit status is its verdict.
config_verdict() {
  case $1 in
    *" v1."* | *" v2.0."* | *" v2.1."*)
      if [ "$2" -eq 0 ] && printf '%s\n' "$output" |
           grep -v -e '^$' -e '^([^ ]*) the first IPv6 VIP address must be link local$' |
           grep -q .; then
        return 5
      fi ;;
  esac
  return "$2"
}
