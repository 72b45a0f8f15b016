# The live config (facts/live_config.py, KeepalivedLiveConfig): the config file, every file
# it includes (globs, relative to the including file) and every script it names (the first
# word of `script` and `notify*` lines, when an absolute path), each once. Set before it:
# live_config (the config file), live_max (bytes; a larger file is not sent), live_key (a
# masked secret of this run), live_secret (the ERE of a secret line, model/hidden.py's),
# live_managed (the directories the deploy replaces with links, space-separated).
# Paths are normalised (no "." or ".."; links are not followed); a path is followed once
# (an include loop ends there: the parser on the controller names it). Per file:
# `## file PATH` then its lines, each after a `|`, a secret line masked and sent again as
# `## secret LINE HEX`: its bytes plus a keystream of sha256(live_key:PATH:LINE:N) (mod
# 256), so that nothing pyinfra prints with -vvv holds a secret. Or `## missing PATH`,
# `## large PATH SIZE`, `## binary PATH`. Then `## managed PATH` for each file in the
# directories the deploy replaces, `## script-user NAME` when keepalived's
# default script user exists, and `## config-test RC` with keepalived -t's messages.
# Only file names are kept on the host meanwhile (a temporary directory, removed).
live_seen=' '
live_send() {
    case $live_seen in *" $1 "*) return 1 ;; esac
    live_seen="$live_seen$1 "
    [ -f "$1" ] || { printf '## missing %s\n' "$1"; return 1; }
    size=$(wc -c < "$1")
    [ "$size" -le "$live_max" ] || { printf '## large %s %s\n' "$1" "$size"; return 1; }
    [ "$(tr -d '\000' < "$1" | wc -c)" -eq "$size" ] || { printf '## binary %s\n' "$1"; return 1; }
    printf '## file %s\n' "$1"
    sed -E -e "s/$live_secret/\\1 ********/" -e 's/^/|/' "$1"
    [ -z "$(tail -c 1 "$1")" ] || echo  # (a last line without its newline)
    grep -n -E -e "$live_secret" "$1" | while IFS= read -r entry; do
        line=${entry%%:*}; text=${entry#*:}
        stream=''; block=0
        bytes=$(printf '%s' "$text" | wc -c)
        while [ $((block * 32)) -lt "$bytes" ]; do
            stream=$stream$(printf '%s' "$live_key:$1:$line:$block" | sha256sum | cut -c1-64)
            block=$((block + 1))
        done
        printf '%s\n' "$text" | LC_ALL=C awk -v stream="$stream" -v line="$line" '
            BEGIN { for (i = 1; i < 256; i++) code[sprintf("%c", i)] = i; hex = "0123456789abcdef" }
            NR == 1 { for (i = 1; i <= length($0); i++) {
                k = (index(hex, substr(stream, 2 * i - 1, 1)) - 1) * 16 + index(hex, substr(stream, 2 * i, 1)) - 1
                out = out sprintf("%02x", (code[substr($0, i, 1)] + k) % 256) }
              print "## secret " line " " out }'
    done
}
# what a config file names: include patterns, and script paths (first word, unquoted)
live_named() {
    sed -E -e 's/^[[:space:]]*@\^?[^[:space:]]+//' -e 's/[#!].*//' "$1" | tr '{}' '\n\n' | awk '
        { for (i = 1; i < NF; i++) if ($i == "include") { print "include " $(i + 1); i++ }
          else if ($i == "script" || $i ~ /^notify/) { w = $(i + 1); gsub(/"/, "", w)
                                                      if (w ~ /^\//) print "script " w; i++ } }'
}
live_walk() {
    live_send "$1" || return 0
    dir=$(dirname "$1")
    live_named "$1" | while read -r kind name; do
        if [ "$kind" = script ]; then printf '%s\n' "script $name"; continue; fi
        case $name in /*) ;; *) name="$dir/$name" ;; esac
        for found in $name; do
            [ -f "$found" ] && printf '%s\n' "include $(realpath -s -m "$found")"
        done
    done > "$live_tmp.$live_depth"
    [ "$live_depth" -lt 32 ] || return 0  # (includes 32 deep: keepalived's own limit is lower)
    live_depth=$((live_depth + 1))
    while read -r kind found; do
        if [ "$kind" = script ]; then live_send "$found" || true
        else live_walk "$found"; fi
    done < "$live_tmp.$((live_depth - 1))"
    live_depth=$((live_depth - 1))
}
live_tmp=$(mktemp -d)/named; live_depth=0
live_walk "$live_config"
rm -rf "$(dirname "$live_tmp")"
# every file under the directories the deploy replaces (live_managed; real directories
# only: the deploy's own links are not listed)
for managed in $live_managed; do
    [ -d "$managed" ] && [ ! -L "$managed" ] &&
        find "$managed" -mindepth 1 ! -type d -printf '## managed %p\n' 2>/dev/null
done
getent passwd keepalived_script >/dev/null && echo '## script-user keepalived_script'
# keepalived's own test of it (-e: a missing include fails; 2.1 has no -e): its exit code
# and messages, a secret in them masked (143: 2.2.7 kills its own -t when a script runs as
# a non-root user, no answer)
if command -v keepalived >/dev/null 2>&1; then
    all_config=
    keepalived --help 2>&1 | grep -q -- '--all-config' && all_config=-e
    test_output=$( (keepalived -t $all_config -f "$live_config") 2>&1 ); rc=$?
    printf '## config-test %s\n' "$rc"
    printf '%s\n' "$test_output" | sed -E -e "s/$live_secret/\\1 ********/" -e 's/^/|/'
fi 2>/dev/null
true
