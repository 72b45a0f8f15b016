# Validate a staged keepalived config tree with the host's own keepalived, then make it live.
#
#   sh promote.sh STAGE BASE CONFIG_FILE MANAGED_DIR...
#
# STAGE holds the new tree with paths relative to BASE (e.g. STAGE/conf.d/00-global_defs.conf
# for BASE/conf.d/00-global_defs.conf). CONFIG_FILE and MANAGED_DIRs are relative to BASE.
# Nothing under BASE changes unless `keepalived -t` accepts the new tree. Then every staged
# file replaces its live twin (copy + rename), and files in MANAGED_DIRs that were not
# staged are removed, so stale instances cannot linger.
set -u
stage=$1 base=$2 config_file=$3
shift 3

keepalived=$(command -v keepalived || echo /usr/sbin/keepalived)
check=$(mktemp -d) || exit 1
trap 'rm -rf "$check"' EXIT

# The copy under test must reference itself, not the live tree.
if ! cp -Rp "$stage/." "$check/"; then
  echo "keepalived config not tested: cannot copy it to $check; the live config was NOT changed" >&2
  exit 1
fi
# Script users must reach the scripts in the copy (the stage and mktemp dirs are 700):
# keepalived 2.3 drops a script its user cannot access, and rejects the config.
find "$check" -type d -exec chmod 755 {} +
conf_files=$(find "$check" -type f \( -name '*.conf' -o -path "$check/$config_file" \))
for f in $conf_files; do sed -i "s#$base/#$check/#g" "$f"; done

# Script users must exist: keepalived drops every track script otherwise (not caught by -t).
for user in $(sed -n -E 's/^[[:space:]]*(script_user|user)[[:space:]]+([^[:space:]]+).*/\2/p' \
              $conf_files | sort -u); do
  if ! id -u "$user" >/dev/null 2>&1; then
    echo "keepalived config rejected: script user '$user' does not exist on this host;" \
         "the live config was NOT changed" >&2
    exit 5
  fi
done

# -e (--all-config): without it `-t` exits 0 when a config file is missing or an include
# matches nothing, and a tree without its instances would go live (every VIP dropped).
# keepalived 2.1 (Debian 11) has no -e: it gets the test without it.
all_config=
"$keepalived" --help 2>&1 | grep -q -- '--all-config' && all_config=-e
output=$("$keepalived" -t $all_config -f "$check/$config_file" 2>&1)
rc=$?
if [ "$rc" -eq 143 ]; then
  # keepalived 2.2.7 terminates its own config test whenever a script runs as a non-root
  # user (fixed in 2.2.8). Test again with the scripts as root: every other check still
  # applies, and the users were checked above.
  for f in $conf_files; do
    sed -i -E 's/^([[:space:]]*)(script_user|user)([[:space:]]+).*/\1\2\3root/' "$f"
  done
  output=$("$keepalived" -t $all_config -f "$check/$config_file" 2>&1)
  rc=$?
fi
output=$(printf '%s\n' "$output" | sed "s#$check/#$base/#g")
if [ "$rc" -ne 0 ]; then
  echo "keepalived -t rejected the new config (exit $rc); the live config was NOT changed:" >&2
  printf '%s\n' "$output" >&2
  exit "$rc"
fi
[ -n "$output" ] && printf 'keepalived -t: %s\n' "$output"

# Accepted: make it live. Scripts first, so the config never names a missing script.
for dir in "$@" .; do
  for f in "$stage/$dir"/* "$stage/$dir"/.[!.]*; do
    [ -f "$f" ] || continue
    live="$base/$dir/${f##*/}"
    cp -p "$f" "$live.pyinfra-new" && mv -f "$live.pyinfra-new" "$live" || exit 1
  done
done
for dir in "$@"; do
  for f in "$base/$dir"/*; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    [ -e "$stage/$dir/${f##*/}" ] || { rm -f "$f" && echo "removed stale $f"; }
  done
done
rm -rf "$stage"
