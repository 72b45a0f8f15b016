# keepalived's VRRP process and its data dump: shell functions for the status fact
# (facts/status.sh) and the rolling restart (pyinfra_keepalived/operations/restart.sh).
#
# The dump (SIGUSR1, or what `keepalived --signum=DATA` names) is written to
# /tmp/keepalived.data of the VRRP process's own mount namespace: /proc/PID/root/tmp finds
# it under systemd's PrivateTmp too; without ptrace rights (containers) plain /tmp is read.
# It holds auth_pass in clear: only the lines asked for are printed, and it is removed.

# vrrp_pid: print the pid of keepalived's VRRP process; fails when none runs.
vrrp_pid() {
    for f in /run/keepalived/vrrp.pid /run/vrrp.pid /var/run/vrrp.pid; do
        p=$(cat "$f" 2>/dev/null) || continue
        [ "$(cat /proc/"$p"/comm 2>/dev/null)" = keepalived ] && echo "$p" && return 0
    done
    return 1
}

# vrrp_dump PID PATTERN: have process PID write its data dump, print the lines that match
# the extended regex PATTERN (never the whole dump), and remove the dump.
vrrp_dump() {
    dump=/proc/$1/root/tmp/keepalived.data
    [ -d /proc/"$1"/root/tmp ] || dump=/tmp/keepalived.data  # no ptrace access
    rm -f "$dump"
    kill -"$(keepalived --signum=DATA 2>/dev/null || echo USR1)" "$1"
    last=-1; n=0
    while [ "$n" -lt 50 ]; do
        size=$(stat -c %s "$dump" 2>/dev/null || echo -1)
        [ "$size" -gt 0 ] && [ "$size" = "$last" ] && break
        last=$size; n=$((n + 1)); sleep 0.1
    done
    grep -E "$2" "$dump"
    rm -f "$dump"
}
