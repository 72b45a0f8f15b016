# Install or upgrade keepalived (pyinfra_keepalived/operations/system.py keepalived_package) under the
# deploy lock (lock.sh and state_files.sh come first):
#
#   package.sh RUNNING MARKER POLICY STAMP MAX_AGE REFRESH USERADD RELOAD COMMAND
#
# RUNNING (yes|no): keepalived ran when probed. Then the restart-pending marker MARKER is
# written right before the install (not before the user or the refresh: a failure there
# changed nothing to restart for): the deploy restarts keepalived itself, one host at a
# time, and a run that dies after the install leaves the restart to the next run. (A fresh install is started
# later, with everything on disk: no marker.)
# POLICY: /usr/sbin/policy-rc.d on apt hosts, "" on dnf. While COMMAND runs it tells the
# package's maintainer scripts (invoke-rc.d, deb-systemd-invoke) not to start or restart
# keepalived (exit 101) and lets every other service be (exit 0). It denies only while
# this shell lives ([ -d /proc/PID ]) and a deploy holds the host's lock, so a SIGKILLed
# run cannot leave it blocking, and is removed when this shell ends (EXIT, and INT/TERM;
# HUP only before the install: see below); the next run also removes a leftover one. An
# operator's own policy-rc.d is never replaced: the install runs under it,
# and only if it denies keepalived (exit 101 for start and restart, as invoke-rc.d and
# deb-systemd-invoke ask it); one that lets the package restart keepalived stops the
# command (exit 1) before anything is changed (no user, no refresh, no install).
# REFRESH: the command that refreshes the package lists ("" on dnf), run first when the
# file STAMP (which it touches) is older than MAX_AGE seconds or missing: decided here, so
# that the probe every run reads need not ask (two processes fewer on every host).
# USERADD: the command that creates the script user, or "" (the user exists); it
# succeeds when the user exists after it (another run created it meanwhile).
# RELOAD: after the install, `systemctl daemon-reload` "always" (dnf: SYSTEMD_OFFLINE keeps
# rpm's own reload from running), "if-needed" (when systemd says the unit or a drop-in
# changed since it loaded them: Debian's maintainer scripts reload themselves), or "".
# The deploy wrote its keepalived.service drop-in before this command, without a reload.
# COMMAND: the install command line, built (and quoted) by the deploy.
# A dropped SSH link (or a dead controller) mid-install closes this shell's output and may
# send it SIGHUP: neither may stop the install half-way (apt/dpkg or dnf/rpm killed by
# SIGPIPE on their progress leave a half-configured package, whose completion by hand runs
# keepalived's maintainer scripts without this policy). So from the marker on, HUP and PIPE
# are ignored (the install inherits HUP's; PIPE it gets as usual, its output writes to no
# pipe) and the install's output goes to a private file, printed once it ended, to stderr
# if it failed (output that cannot be written then is lost, nothing else).
running=$1 marker=$2 policy=$3 stamp=$4 max_age=$5 refresh=$6 useradd=$7 reload=$8 command=$9
ours= output=  # our policy-rc.d is in place; the install's output: both removed on exit
trap 'rm -f "$output"; [ -z "$ours" ] || rm -f "$policy" "$policy.new"' EXIT

if [ -n "$policy" ] && [ -e "$policy" ] && ! grep -qxF "$policy_tag" "$policy"; then
  # the operator's: it must deny what the package's maintainer scripts would ask
  # (invoke-rc.d runs it only if executable: one that is not denies nothing)
  for ask in "keepalived restart" "keepalived.service restart" "keepalived start" \
             "keepalived.service start"; do
    # shellcheck disable=SC2086  # NAME ACTION: two words
    "$policy" $ask </dev/null >/dev/null 2>&1 9>&-
    answer=$?
    if [ "$answer" -ne 101 ]; then
      echo "$(hostname): $policy (not this deploy's) lets the keepalived package restart" \
           "keepalived: '$policy $ask' exits $answer, not 101 (denied). An install would" \
           "restart keepalived on every host it runs on at once (the VIPs drop). Nothing" \
           "was installed. Make it exit 101 for keepalived and keepalived.service, or" \
           "remove it (the deploy then denies keepalived, only during its install)." >&2
      exit 1
    fi
  done
elif [ -n "$policy" ]; then
  ours=yes
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  cat > "$policy.new" <<POLICY || exit 1
#!/bin/sh
$policy_tag
# No start or restart of keepalived by its package while the deploy (pid $$) installs it:
# the deploy restarts keepalived itself, one host at a time. Other services: allowed.
[ -d /proc/$$ ] || exit 0
# (and only while a deploy holds the host's lock: a pid can be reused after a kill)
flock -n $lock_file true 2>/dev/null && exit 0
for word; do
  case \$word in
    -*) ;;
    keepalived|keepalived.service) exit 101 ;;
    *) exit 0 ;;
  esac
done
exit 0
POLICY
  chmod 755 "$policy.new" && mv -f "$policy.new" "$policy" || exit 1
fi
if [ -n "$useradd" ]; then
  eval "$useradd" || exit 1
fi
if [ -n "$refresh" ]; then
  why=
  if refreshed=$(stat -c %Y "$stamp" 2>/dev/null); then
    age=$(($(date +%s) - refreshed))
    [ "$age" -gt "$max_age" ] && why="last refreshed $age s ago (more than $max_age s)"
  else
    why="never refreshed"
  fi
  if [ -n "$why" ]; then
    echo "package lists $why: refreshing"
    eval "$refresh" 9>&- && touch "$stamp" || exit 1
  fi
fi
trap '' HUP PIPE
output=$(mktemp) || exit 1  # (mode 600)
# the marker right before the install: a failure before it changed nothing to restart for
if [ "$running" = yes ]; then
  mark_pending "$marker" package || exit 1
fi
# (a daemon a maintainer script starts must not keep the lock)
if (trap - PIPE; eval "$command") 9>&- >"$output" 2>&1; then
  cat "$output"
else
  status=$?
  cat "$output" >&2
  exit "$status"
fi
case $reload in
  always) systemctl daemon-reload ;;
  if-needed)
    if [ "$(systemctl show -p NeedDaemonReload --value keepalived.service 2>/dev/null)" = yes ]
    then
      systemctl daemon-reload
    fi ;;
esac
