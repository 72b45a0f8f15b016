# check_trees.sh ROOT BASE (the deploy's config_test.sh prepended): test each config tree
# ROOT/CASE/HOST with this host's keepalived exactly as the deploy's gate tests a staged
# tree (config_test: a self-referencing copy, `keepalived -t [-e] -f`, 2.2.7's exit 143
# handled), the trees' files naming each other by their paths under BASE. Prints, per tree:
#   === CASE/HOST EXIT_STATUS
#   keepalived's messages (none: accepted without a warning)
root=$1 base=$2
check=$(mktemp -d) && chmod 755 "$check"  # (as the deploy's .generations: script users
# must reach the scripts in the copy)
trap 'rm -rf "$check"' EXIT
for tree in "$root"/*/*; do
  config_test "$tree" "$check/copy" "$base" keepalived.conf
  rc=$?
  printf '=== %s %s\n%s\n' "${tree#"$root"/}" "$rc" "$output"
  rm -rf "$check/copy"
done
